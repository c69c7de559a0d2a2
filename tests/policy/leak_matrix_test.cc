// The leak matrix (issue 13, acceptance): for every marking (none, TLP 2.0 and 1.0 at the
// object level, granular, and inherited by derived objects), every exit, and every role and
// peer agreement, what leaves a real node: allow (as stored), redact (a changed copy) or deny.
//
// The expected outcome is Expect() below, written from the rules as docs/PRIVACY.md and
// docs/FEDERATION.md state them, not from the gate's code:
//   - admin and analyst see everything; an auditor no intelligence at all;
//   - a reader never sees TLP:RED: an object RED at its level (or referring to a RED object) is
//     withheld, a part marked RED by a granular marking is removed from the copy;
//   - a peer gets what its agreement allows: never RED, AMBER+STRICT only within the same
//     organisation, nothing above its max_tlp; an unmarked object counts as AMBER (the node's
//     default_tlp); a derived object counts as the most restrictive of itself and what it
//     refers to; a part whose granular marking the peer may not have is removed from the copy;
//     its redaction profile (here: e-mail addresses out of free text) changes what it touches;
//   - the node's own operator (export, get, match output) sees everything.
//
// Exits, each on real processes: the TAXII server (objects, object, manifest, versions) for
// every role and peer; `accord export` by the operator and `--for-peer` for every peer;
// `accord get`; `accord match` output; and federation between two nodes (B syncs from A under
// an agreement with a redaction profile, and verifies A's signature on every redacted copy).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

using nlohmann::json;

// TLP levels in order (STIX21-objects.md §7.2); kNone: no TLP marking at the object level.
enum class Level { kClear, kGreen, kAmber, kStrict, kRed, kNone };

struct Row {
  std::string name;
  std::string marking;        // object_marking_refs[0], "" for none
  Level level;                // what that marking is
  Level part = Level::kNone;  // a granular marking on `description`
  std::string part_marking = {};
  int refers_to = -1;  // a derived object: the row it refers to
};

const std::string kClear2 = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const std::string kWhite1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const std::string kGreen2 = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const std::string kGreen1 = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const std::string kAmber2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const std::string kAmber1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const std::string kStrict2 = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const std::string kRed2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const std::string kRed1 = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"none", "", Level::kNone},
      {"clear-2.0", kClear2, Level::kClear},
      {"white-1.0", kWhite1, Level::kClear},
      {"green-2.0", kGreen2, Level::kGreen},
      {"green-1.0", kGreen1, Level::kGreen},
      {"amber-2.0", kAmber2, Level::kAmber},
      {"amber-1.0", kAmber1, Level::kAmber},
      {"amber-strict", kStrict2, Level::kStrict},
      {"red-2.0", kRed2, Level::kRed},
      {"red-1.0", kRed1, Level::kRed},
      {"green-with-red-part", kGreen2, Level::kGreen, Level::kRed, kRed2},
      {"green-with-amber-part", kGreen2, Level::kGreen, Level::kAmber, kAmber2},
      {"clear-with-green-part", kClear2, Level::kClear, Level::kGreen, kGreen2},
      // Derived objects (relationships) marked GREEN, referring to an AMBER and a RED one.
      {"relationship-to-amber", kGreen2, Level::kGreen, Level::kNone, "", 5},
      {"relationship-to-red", kGreen2, Level::kGreen, Level::kNone, "", 8},
  };
  return rows;
}

std::string Id(size_t row) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s--5a5a5a5a-0000-4000-8000-%012zu",
                Rows()[row].refers_to >= 0 ? "relationship" : "indicator", row + 1);
  return buf;
}
std::string Description(size_t row) {
  return "ask ops-" + std::to_string(row) + "@victim.example about row " + Rows()[row].name;
}
std::string Domain(size_t row) { return "row" + std::to_string(row) + ".leak.example.com"; }

std::string ObjectJson(size_t row) {
  const Row& r = Rows()[row];
  json o = {{"type", r.refers_to >= 0 ? "relationship" : "indicator"},
            {"spec_version", "2.1"},
            {"id", Id(row)},
            {"created", "2024-01-01T00:00:00.000Z"},
            {"modified", "2024-01-01T00:00:00.000Z"},
            {"description", Description(row)}};
  if (r.refers_to >= 0) {
    o["relationship_type"] = "related-to";
    o["source_ref"] = Id(3);  // green-2.0
    o["target_ref"] = Id(static_cast<size_t>(r.refers_to));
  } else {
    o["name"] = r.name;
    o["pattern"] = "[domain-name:value = '" + Domain(row) + "']";
    o["pattern_type"] = "stix";
    o["valid_from"] = "2024-01-01T00:00:00Z";
  }
  if (!r.marking.empty()) o["object_marking_refs"] = {r.marking};
  if (!r.part_marking.empty()) {
    o["granular_markings"] = {{{"marking_ref", r.part_marking}, {"selectors", {"description"}}}};
  }
  return o.dump();
}

enum class Out { kAllow, kRedact, kDeny };
const char* OutName(Out o) {
  return o == Out::kAllow ? "allow" : o == Out::kRedact ? "redact" : "deny";
}

// Who reads. A peer's agreement: max_tlp, same_organization, a redaction profile.
struct Reader {
  std::string name;
  enum class Kind { kAdmin, kAnalyst, kReader, kAuditor, kPeer, kOperator } kind;
  Level max_tlp = Level::kGreen;
  bool same_org = false;
  bool profile = false;
};

// The written rules (see the top of the file).
Out Expect(const Reader& who, size_t row) {
  const Row& r = Rows()[row];
  switch (who.kind) {
    case Reader::Kind::kAdmin:
    case Reader::Kind::kAnalyst:
    case Reader::Kind::kOperator: return Out::kAllow;
    case Reader::Kind::kAuditor: return Out::kDeny;
    case Reader::Kind::kReader: {
      const bool red =
          r.level == Level::kRed ||
          (r.refers_to >= 0 && Rows()[static_cast<size_t>(r.refers_to)].level == Level::kRed);
      if (red) return Out::kDeny;
      return r.part == Level::kRed ? Out::kRedact : Out::kAllow;
    }
    case Reader::Kind::kPeer: {
      auto as_peer = [](Level l) { return l == Level::kNone ? Level::kAmber : l; };
      auto may = [&](Level l) {
        l = as_peer(l);
        if (l == Level::kRed) return false;
        if (l == Level::kStrict && !who.same_org) return false;
        return static_cast<int>(l) <= static_cast<int>(who.max_tlp);
      };
      Level level = as_peer(r.level);
      if (r.refers_to >= 0) {
        Level target = as_peer(Rows()[static_cast<size_t>(r.refers_to)].level);
        if (static_cast<int>(target) > static_cast<int>(level)) level = target;
      }
      if (!may(level)) return Out::kDeny;
      if (r.part != Level::kNone && !may(r.part)) return Out::kRedact;
      return who.profile ? Out::kRedact : Out::kAllow;  // every description names an e-mail
    }
  }
  return Out::kDeny;
}

// Whether the rules withhold `row`'s marked part (its description) from `who`.
bool PartWithheld(const Reader& who, size_t row) {
  const Row& r = Rows()[row];
  if (r.part == Level::kNone) return false;
  if (who.kind == Reader::Kind::kReader) return r.part == Level::kRed;
  if (who.kind != Reader::Kind::kPeer) return false;
  if (r.part == Level::kRed) return true;
  if (r.part == Level::kStrict && !who.same_org) return true;
  return static_cast<int>(r.part) > static_cast<int>(who.max_tlp);
}

// What one delivered copy of `row` is: as stored (allow) or changed (redact). A copy must not
// hold what was withheld: no description at all when its part was withheld, and no e-mail
// address where a profile applies.
Out Classify(const json& o, size_t row, const Reader& who, std::string* why) {
  const std::string text = o.dump();
  if (PartWithheld(who, row) &&
      (o.contains("description") || text.find("ops-") != std::string::npos)) {
    *why = "the withheld part is still there: " + text;
  }
  if (who.profile && text.find("@victim.example") != std::string::npos) {
    *why = "the profile left an e-mail address in " + text;
  }
  const bool same = o.contains("description") && o["description"] == Description(row);
  return same ? Out::kAllow : Out::kRedact;
}

class LeakMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("leak-matrix");
    a_ = (dir_->path() / "a").string();
    b_ = (dir_->path() / "b").string();
    // Node A: its identity, the profile, the objects.
    const json a_id =
        json::parse(MustRun(Cli("node init --name a --json", a_)).out, nullptr, false);
    std::ofstream(dir_->path() / "a" / "accord.toml")
        << "[redaction.profiles.partners]\n"
           "drop_types = [\"email-addr\"]\n"
           "text_patterns = ['[\\w.+-]+@[\\w-]+\\.[\\w.]+']\n";
    {
      std::ofstream f(dir_->path() / "objects.jsonl");
      for (size_t i = 0; i < Rows().size(); ++i) f << ObjectJson(i) << "\n";
    }
    MustRun(Cli("collection create shared", a_));
    RunResult imp =
        Cli("import -c shared " + ShellQuote((dir_->path() / "objects.jsonl").string()), a_);
    ASSERT_EQ(imp.exit_code, 0) << imp.err << imp.out;

    // People.
    for (const auto& [user, role] : {std::pair{"root", "admin"}, std::pair{"ana", "analyst"},
                                     std::pair{"rita", "reader"}, std::pair{"dpo", "auditor"}}) {
      MustRun(Cli(std::string("user add ") + user + " --role " + role, a_));
      keys_[user] = FirstLine(MustRun(Cli(std::string("key create ") + user, a_)));
    }
    MustRun(Cli("collection grant shared ana --read", a_));
    MustRun(Cli("collection grant shared rita --read", a_));
    MustRun(Cli("collection grant shared dpo --read", a_));

    // Peers: B is a real node that syncs; the others read A's TAXII server with their keys.
    for (const Reader& p : Peers()) {
      std::string data = p.name == "b" ? b_ : (dir_->path() / p.name).string();
      const json id = json::parse(MustRun(Cli("node init --name " + p.name + " --json", data)).out,
                                  nullptr, false);
      MustRun(Cli("user add " + p.name + " --role peer", a_));
      keys_[p.name] = FirstLine(MustRun(Cli("key create " + p.name, a_)));
      MustRun(Cli("peer add " + p.name + " --url http://127.0.0.1:9/api/ --identity " +
                      id.value("identity", std::string()) + " --public-key " +
                      id.value("public_key", std::string()) + " --key none-issued",
                  a_));
      std::string toml = std::string("same_organization = ") + (p.same_org ? "true" : "false") +
                         "\n[share]\ncollections = [\"shared\"]\nmax_tlp = \"" +
                         LevelText(p.max_tlp) + "\"\n" +
                         (p.profile ? "redaction = \"partners\"\n" : "");
      auto f = dir_->path() / ("agreement-" + p.name + ".toml");
      std::ofstream(f) << toml;
      MustRun(Cli("agreement set " + p.name + " " + ShellQuote(f.string()), a_));
    }
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start(a_));

    // B pulls A's collection under its agreement, as a real peer.
    MustRun(Cli("peer add a --url http://127.0.0.1:" + std::to_string(server_->port()) +
                    "/api/ --identity " + a_id.value("identity", std::string()) + " --public-key " +
                    a_id.value("public_key", std::string()) + " --key " + ShellQuote(keys_["b"]),
                b_));
    auto f = dir_->path() / "b-accepts-a.toml";
    std::ofstream(f) << "[accept]\nfrom = [\"shared\"]\ninto = \"from-a\"\n";
    MustRun(Cli("agreement set a " + ShellQuote(f.string()), b_));
    sync_ = Cli("sync --once", b_);
  }
  static void TearDownTestSuite() {
    // The matrix as delivered: one letter per row (a allow, r redact, d deny), in Rows() order.
    std::printf("leak matrix, %d cells; rows:", cells_);
    for (const Row& r : Rows()) std::printf(" %s", r.name.c_str());
    std::printf("\n");
    for (const auto& [k, v] : table_) std::printf("  %-40s %s\n", k.c_str(), v.c_str());
    delete server_;
    delete dir_;
  }

  static std::vector<Reader> Peers() {
    return {
        {"b", Reader::Kind::kPeer, Level::kAmber, false, true},
        {"p-green", Reader::Kind::kPeer, Level::kGreen, false, false},
        {"p-clear", Reader::Kind::kPeer, Level::kClear, false, false},
        {"p-strict", Reader::Kind::kPeer, Level::kStrict, true, false},
        {"p-profile", Reader::Kind::kPeer, Level::kGreen, false, true},
    };
  }
  static std::vector<Reader> Everyone() {
    std::vector<Reader> all = {{"root", Reader::Kind::kAdmin},
                               {"ana", Reader::Kind::kAnalyst},
                               {"rita", Reader::Kind::kReader},
                               {"dpo", Reader::Kind::kAuditor}};
    for (const Reader& p : Peers()) all.push_back(p);
    return all;
  }
  static const char* LevelText(Level l) {
    const char* names[] = {"clear", "green", "amber", "amber+strict", "red", "none"};
    return names[static_cast<int>(l)];
  }

  static RunResult Cli(const std::string& args, const std::string& data) {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data), dir_->path());
  }
  static RunResult MustRun(RunResult r) {
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return r;
  }
  static std::string FirstLine(const RunResult& r) { return r.out.substr(0, r.out.find('\n')); }

  // GET `path` on A's server as `user`: (status, body).
  static std::pair<int, json> Get(const std::string& user, const std::string& path) {
    auto body = dir_->path() / "body.json";
    RunResult r =
        RunCmd("curl -s -g -o " + ShellQuote(body.string()) +
                   " -w '%{http_code}' -H 'Accept: application/taxii+json;version=2.1'"
                   " -H " +
                   ShellQuote("Authorization: Bearer " + keys_[user]) + " " +
                   ShellQuote("http://127.0.0.1:" + std::to_string(server_->port()) + path),
               dir_->path());
    return {std::atoi(r.out.c_str()), json::parse(Slurp(body), nullptr, false)};
  }

  // Checks one exit's deliveries (id -> the copy; null for presence-only exits) against the
  // rules for `who`.
  static void Check(const std::string& exit, const Reader& who,
                    const std::map<std::string, json>& got, bool content,
                    const std::set<size_t>& rows_in_scope) {
    for (size_t row : rows_in_scope) {
      const Out want = Expect(who, row);
      auto it = got.find(Id(row));
      Out have = Out::kDeny;
      std::string why;
      if (it != got.end()) {
        have = content ? Classify(it->second, row, who, &why) : Out::kAllow;
        if (!content && want == Out::kRedact) have = Out::kRedact;  // presence only
      }
      table_[exit + " | " + who.name] += OutName(have)[0];
      EXPECT_EQ(OutName(have), std::string(OutName(want)))
          << exit << " to " << who.name << ", row " << Rows()[row].name;
      EXPECT_TRUE(why.empty()) << exit << " to " << who.name << ", row " << Rows()[row].name << ": "
                               << why;
      ++cells_;
    }
  }
  static std::set<size_t> AllRows() {
    std::set<size_t> s;
    for (size_t i = 0; i < Rows().size(); ++i) s.insert(i);
    return s;
  }

  static inline TempDir* dir_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
  static inline std::string a_, b_;
  static inline std::map<std::string, std::string> keys_;
  static inline RunResult sync_;
  static inline int cells_ = 0;
  static inline std::map<std::string, std::string> table_;
};

TEST_F(LeakMatrix, TaxiiServerForEveryRoleAndAgreement) {
  std::string cid;
  {
    auto [status, cols] = Get("root", "/api/collections/");
    ASSERT_EQ(status, 200);
    for (const auto& c : cols["collections"]) {
      if (c.value("alias", "") == "shared") cid = c["id"];
    }
    ASSERT_FALSE(cid.empty());
  }
  const std::string base = "/api/collections/" + cid + "/";
  for (const Reader& who : Everyone()) {
    SCOPED_TRACE(who.name);
    // objects/: one page holds every row.
    auto [status, page] = Get(who.name, base + "objects/?limit=1000");
    std::map<std::string, json> got;
    if (who.kind == Reader::Kind::kAuditor) {
      EXPECT_EQ(status, 403);  // the exit is closed to an auditor as a whole
    } else {
      ASSERT_EQ(status, 200) << page.dump();
      for (const json& o : page.value("objects", json::array())) got[o["id"]] = o;
    }
    Check("taxii-objects", who, got, true, AllRows());

    auto [mstatus, manifest] = Get(who.name, base + "manifest/?limit=1000");
    std::map<std::string, json> listed;
    if (mstatus == 200) {
      for (const json& e : manifest.value("objects", json::array())) listed[e["id"]] = nullptr;
    }
    Check("taxii-manifest", who, listed, false, AllRows());

    std::map<std::string, json> one, versions;
    for (size_t row = 0; row < Rows().size(); ++row) {
      auto [ostatus, obj] = Get(who.name, base + "objects/" + Id(row) + "/");
      if (ostatus == 200 && obj.contains("objects") && obj["objects"].size() == 1) {
        one[Id(row)] = obj["objects"][0];
      }
      auto [vstatus, v] = Get(who.name, base + "objects/" + Id(row) + "/versions/");
      if (vstatus == 200 && !v.value("versions", json::array()).empty())
        versions[Id(row)] = nullptr;
    }
    Check("taxii-object", who, one, true, AllRows());
    Check("taxii-versions", who, versions, false, AllRows());
  }
}

// The web UI (issue 16: "a reader not seeing a TLP:RED object anywhere in the UI"): every
// indicator row's domain searched by every person (presence only), and every row's object view
// (content, as TAXII's). The UI's API is for people: a peer's key is refused (403), and an
// auditor's exits are closed (403).
TEST_F(LeakMatrix, UiSearchAndObjectViewForEveryRole) {
  std::set<size_t> indicators;
  for (size_t row = 0; row < Rows().size(); ++row) {
    if (Rows()[row].refers_to < 0) indicators.insert(row);
  }
  for (const Reader& who : Everyone()) {
    SCOPED_TRACE(who.name);
    std::map<std::string, json> found;
    for (size_t row : indicators) {
      auto [status, j] = Get(who.name, "/api/ui/v1/search?value=" + Domain(row));
      if (who.kind == Reader::Kind::kAuditor || who.kind == Reader::Kind::kPeer) {
        EXPECT_EQ(status, 403) << j.dump();
        continue;
      }
      ASSERT_EQ(status, 200) << j.dump();
      for (const json& r : j.value("results", json::array())) found[r["id"]] = nullptr;
    }
    if (who.kind == Reader::Kind::kPeer) continue;  // not a UI user: no cells
    Check("ui-search", who, found, false, indicators);

    // The object view: every row by id, its content checked like a TAXII object's.
    std::map<std::string, json> viewed;
    for (size_t row = 0; row < Rows().size(); ++row) {
      auto [status, j] = Get(who.name, "/api/ui/v1/objects/" + Id(row));
      if (who.kind == Reader::Kind::kAuditor) {
        EXPECT_EQ(status, 403) << j.dump();
        continue;
      }
      if (status == 404) continue;  // withheld: the same answer as no such object
      ASSERT_EQ(status, 200) << j.dump();
      ASSERT_EQ(j["versions"].size(), 1u) << j.dump();
      viewed[Id(row)] = j["versions"][0]["object"];
    }
    Check("ui-object", who, viewed, true, AllRows());
  }
}

TEST_F(LeakMatrix, ExportGetAndMatchOutput) {
  auto bundle = [](const RunResult& r) {
    std::map<std::string, json> got;
    json b = json::parse(r.out, nullptr, false);
    if (b.is_object()) {
      for (const json& o : b.value("objects", json::array())) got[o["id"]] = o;
    }
    return got;
  };
  const Reader op{"operator", Reader::Kind::kOperator};
  RunResult all = Cli("export -c shared", a_);
  EXPECT_EQ(all.exit_code, 0) << all.err;
  Check("export", op, bundle(all), true, AllRows());
  for (const Reader& p : Peers()) {
    RunResult r = Cli("export -c shared --for-peer " + p.name, a_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Check("export --for-peer", p, bundle(r), true, AllRows());
  }
  std::map<std::string, json> got;
  for (size_t row = 0; row < Rows().size(); ++row) {
    RunResult r = Cli("get " + Id(row), a_);
    if (r.exit_code == 0 && !r.out.empty()) got[Id(row)] = json::parse(FirstLine(r));
  }
  Check("get", op, got, true, AllRows());

  // Match output: one DNS query for every indicator's domain (Zeek dns.log, JSON).
  std::set<size_t> indicators;
  {
    std::ofstream f(dir_->path() / "dns.log");
    for (size_t row = 0; row < Rows().size(); ++row) {
      if (Rows()[row].refers_to >= 0) continue;
      indicators.insert(row);
      f << R"({"ts":1717200000.0,"uid":"C)" << row
        << R"(","id.orig_h":"10.1.1.5","id.orig_p":5353,"id.resp_h":"10.0.0.1","id.resp_p":53,)"
        << R"("proto":"udp","query":")" << Domain(row) << R"(","qtype_name":"A"})"
        << "\n";
    }
  }
  RunResult m = Cli("match " + ShellQuote((dir_->path() / "dns.log").string()), a_);
  EXPECT_EQ(m.exit_code, 0) << m.err;
  std::map<std::string, json> named;
  std::istringstream in(m.out);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) named[j.value("indicator", std::string())] = nullptr;
  }
  Check("match-output", op, named, false, indicators);
}

TEST_F(LeakMatrix, FederationBetweenTwoNodes) {
  ASSERT_EQ(sync_.exit_code, 0) << sync_.err << sync_.out;
  // What B holds from A, each copy verified by B against A's key on the way in.
  RunResult r = Cli("list --json -c from-a", b_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, json> got;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) got[j["id"]] = j;
  }
  Check("federation-sync", Peers()[0], got, true, AllRows());
  EXPECT_GT(got.size(), 0u);
}

}  // namespace
}  // namespace accord::testing
