// Every exit of the node, through real processes: for each value of policy::AllExits() the
// exit is driven end to end (the CLI, a running `accord serve`, a push to a second real
// server, `accord match`), with the operator's lockdown off, then on, then off again.
// Expected counts come from the fixture's own data (three indicators, one telemetry line that
// hits two of them), not from the program.
//
// A new Exit value without a case in Drive() fails to compile (-Werror=switch below), so a
// new exit cannot be added without being shown to pass through the gate.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "accord/policy/gate.h"
#include "common/test_util.h"
#include "taxii/server_process.h"

#pragma GCC diagnostic error "-Wswitch"
#pragma GCC diagnostic error "-Wswitch-enum"

namespace accord::testing {
namespace {

using nlohmann::json;
using policy::Exit;

constexpr const char* kAccept = "Accept: application/taxii+json;version=2.1";

// Three indicators; the telemetry below contacts 198.51.100.7 and 203.0.113.9 (two of them).
const char* const kIndicators[] = {
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--a1a1a1a1-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c2 one","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})",
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--a1a1a1a1-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c2 two","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})",
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--a1a1a1a1-0000-4000-8000-000000000003","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"unseen","pattern":"[domain-name:value = 'never.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})",
};
constexpr const char* kFirstId = "indicator--a1a1a1a1-0000-4000-8000-000000000001";

// Zeek conn.log (JSON): one connection to each of the first two indicators' addresses.
constexpr const char* kTelemetry =
    R"({"ts":1717200000.0,"uid":"C1","id.orig_h":"10.1.1.5","id.orig_p":49152,"id.resp_h":"198.51.100.7","id.resp_p":443,"proto":"tcp","conn_state":"SF"})"
    "\n"
    R"({"ts":1717200001.0,"uid":"C2","id.orig_h":"10.1.1.5","id.orig_p":49153,"id.resp_h":"203.0.113.9","id.resp_p":80,"proto":"tcp","conn_state":"SF"})"
    "\n"
    R"({"ts":1717200002.0,"uid":"C3","id.orig_h":"10.1.1.5","id.orig_p":49154,"id.resp_h":"192.0.2.200","id.resp_p":80,"proto":"tcp","conn_state":"SF"})"
    "\n";

// What one exit delivered.
struct Outcome {
  bool refused = false;  // non-zero exit or non-2xx status
  uint64_t delivered = 0;
  std::string message;  // stderr, or the error resource's description
};

class EgressExits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("egress-exits");
    data_ = (dir_->path() / "node").string();
    target_data_ = (dir_->path() / "target").string();
    {
      std::ofstream f(dir_->path() / "ind.jsonl");
      for (const char* o : kIndicators) f << o << "\n";
      std::ofstream t(dir_->path() / "conn.log");
      t << kTelemetry;
    }
    {
      // A sighting of the first indicator, first seen now: the sightings dashboard counts it
      // (its own collection, so that what the other exits deliver stays as it is).
      char now[32];
      const std::time_t t = std::time(nullptr);
      std::strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
      std::ofstream(dir_->path() / "seen.jsonl")
          << json{{"type", "sighting"},
                  {"spec_version", "2.1"},
                  {"id", "sighting--0a0a0a0a-0000-4000-8000-000000000001"},
                  {"created", now},
                  {"modified", now},
                  {"first_seen", now},
                  {"count", 3},
                  {"sighting_of_ref", kFirstId}}
                 .dump()
          << "\n";
    }
    Line(Cli("collection create seen", data_));
    auto seen =
        Cli("import -q -c seen " + ShellQuote((dir_->path() / "seen.jsonl").string()), data_);
    ASSERT_EQ(seen.exit_code, 0) << seen.err;
    cid_ = Line(Cli("collection create shared", data_));
    auto imp =
        Cli("import -q -c shared " + ShellQuote((dir_->path() / "ind.jsonl").string()), data_);
    ASSERT_EQ(imp.exit_code, 0) << imp.err;
    // Both are nodes, and peers of each other, for the request channel.
    json node_id = json::parse(Line(Cli("node init --name node --json", data_)));
    json target_id = json::parse(Line(Cli("node init --name target --json", target_data_)));
    node_ = new ServerProcess();
    ASSERT_TRUE(node_->Start(data_));
    target_ = new ServerProcess();
    ASSERT_TRUE(target_->Start(target_data_));
    // (After the first start, which makes the admin only when there are no users yet.)
    Line(Cli("user add node --role peer", target_data_));
    const std::string key = Line(Cli("key create node", target_data_));
    auto url = [](ServerProcess* s) {
      return "http://127.0.0.1:" + std::to_string(s->port()) + "/api/";
    };
    Line(Cli("peer add target --url " + url(target_) + " --identity " +
                 target_id["identity"].get<std::string>() + " --public-key " +
                 target_id["public_key"].get<std::string>() + " --key " + ShellQuote(key),
             data_));
    Line(Cli("peer add node --url " + url(node_) + " --identity " +
                 node_id["identity"].get<std::string>() + " --public-key " +
                 node_id["public_key"].get<std::string>() + " --key none-issued",
             target_data_));
  }
  static void TearDownTestSuite() {
    delete node_;
    delete target_;
    delete dir_;
  }

  static RunResult Cli(const std::string& args, const std::string& data) {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data), dir_->path());
  }
  static std::string Line(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  static uint64_t Lines(const std::string& s) {
    uint64_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
  }

  // GET on the node's TAXII server as its admin: (status, body).
  static std::pair<int, json> Taxii(ServerProcess* server, const std::string& path) {
    auto body = dir_->path() / "body.json";
    auto r =
        RunCmd("curl -s -g -o " + ShellQuote(body.string()) + " -w '%{http_code}' -H " +
                   ShellQuote(kAccept) + " -u " + ShellQuote("admin:" + server->admin_key()) + " " +
                   ShellQuote("http://127.0.0.1:" + std::to_string(server->port()) + path),
               dir_->path());
    return {std::atoi(r.out.c_str()), json::parse(Slurp(body), nullptr, false)};
  }
  static Outcome Page(const std::string& path, const char* member) {
    return Ui("/api/collections/" + cid_ + "/" + path, member);
  }
  // A GET on the node's server (TAXII or the web UI's API) as its admin: `member`'s size is
  // what was delivered.
  static Outcome Ui(const std::string& path, const char* member) {
    auto [status, j] = Taxii(node_, path);
    Outcome o;
    o.refused = status != 200;
    if (o.refused) {
      o.message = j.is_object() ? j.value("description", std::string()) : std::string();
    } else if (j.contains(member)) {
      o.delivered = j[member].size();
    }
    return o;
  }
  static Outcome FromCli(const RunResult& r, uint64_t delivered) {
    return Outcome{r.exit_code != 0, delivered, r.err};
  }

  // Drives one exit end to end and reports what it delivered.
  static Outcome Drive(Exit exit) {
    static int run = 0;
    ++run;
    switch (exit) {
      case Exit::kTaxiiObjects: return Page("objects/", "objects");
      case Exit::kTaxiiObject: return Page(std::string("objects/") + kFirstId + "/", "objects");
      case Exit::kTaxiiManifest: return Page("manifest/", "objects");
      case Exit::kTaxiiVersions:
        return Page(std::string("objects/") + kFirstId + "/versions/", "versions");
      case Exit::kExport: {
        auto r = Cli("export -c shared", data_);
        json b = json::parse(r.out, nullptr, false);
        return FromCli(r, b.is_object() && b.contains("objects") ? b["objects"].size() : 0);
      }
      case Exit::kGet: {
        auto r = Cli(std::string("get ") + kFirstId, data_);
        return FromCli(r, Lines(r.out));
      }
      case Exit::kListJson: {
        auto r = Cli("list --json -c shared", data_);
        auto table = Cli("list -c shared", data_);  // the table is the same exit
        Outcome o = FromCli(r, Lines(r.out) + Lines(table.out));
        o.refused = o.refused && table.exit_code != 0;
        return o;
      }
      case Exit::kTaxiiPush: {
        // A fresh collection on the target per run, counted on the target afterwards.
        std::string inbox =
            Line(Cli("collection create inbox" + std::to_string(run), target_data_));
        auto r =
            RunCmd(Accord() + " taxii push " +
                       ShellQuote("http://127.0.0.1:" + std::to_string(target_->port()) + "/api/") +
                       " " + inbox + " " + ShellQuote((dir_->path() / "ind.jsonl").string()) +
                       " --user admin --key " + ShellQuote(target_->admin_key()) + " --data " +
                       ShellQuote(data_),
                   dir_->path());
        auto [status, j] = Taxii(target_, "/api/collections/" + inbox + "/objects/");
        EXPECT_EQ(status, 200);
        return FromCli(r, j.is_object() && j.contains("objects") ? j["objects"].size() : 0);
      }
      case Exit::kMatchOutput: {
        auto r = Cli("match " + ShellQuote((dir_->path() / "conn.log").string()), data_);
        return FromCli(r, Lines(r.out));
      }
      case Exit::kSightings: {
        std::string coll = "sightings" + std::to_string(run);
        auto r = Cli("match --sightings --sightings-collection " + coll + " " +
                         ShellQuote((dir_->path() / "conn.log").string()) + " >/dev/null",
                     data_);
        // Counted with `stats`, which reveals counts only and is not an exit.
        json st = json::parse(Cli("stats --json", data_).out, nullptr, false);
        uint64_t n = st.is_object() ? st["per_collection"].value(coll, uint64_t{0}) : 0;
        return FromCli(r, n);
      }
      case Exit::kRequestChannel: {
        // A request to the target node, counted among those the target holds. A refused
        // delivery leaves it queued at the node (`accord serve` retries it later).
        auto r = Cli(
            "request send --to target --kind ping --subject 'check " + std::to_string(run) + "'",
            data_);
        std::string id = r.out;
        while (!id.empty() && id.back() == '\n') id.pop_back();
        id = id.substr(id.rfind('\n') + 1);
        json held = json::parse(Cli("request list --json", target_data_).out, nullptr, false);
        uint64_t n = 0;
        for (const json& x : held.is_array() ? held : json::array()) n += x["id"] == id;
        Outcome o = FromCli(r, n);
        o.refused = r.exit_code != 0 || r.out.find("queued") != std::string::npos;
        o.message = r.out + r.err;
        return o;
      }
      case Exit::kUiObject: return Ui(std::string("/api/ui/v1/objects/") + kFirstId, "versions");
      case Exit::kUiRequests: {
        // The web UI's requests view lists what `accord request list` lists (the requests the
        // kRequestChannel drives sent): delivered is 1 when the two agree and are not empty.
        Outcome o = Ui("/api/ui/v1/requests", "requests");
        if (o.refused) return o;
        json cli = json::parse(Cli("request list --json", data_).out, nullptr, false);
        std::set<std::string> want, got;
        for (const json& x : cli.is_array() ? cli : json::array()) want.insert(x["id"]);
        auto [status, j] = Taxii(node_, "/api/ui/v1/requests");
        for (const json& x : j.value("requests", json::array())) got.insert(x["id"]);
        o.delivered = !want.empty() && want == got ? 1 : 0;
        o.message = cli.dump() + " vs " + j.dump();
        return o;
      }
      case Exit::kUiIndicators: return Ui("/api/ui/v1/indicators?collection=shared", "indicators");
      case Exit::kUiSightings: {
        // The dashboard's total: the fixture's one sighting (count 3) of the first indicator;
        // the match's sightings (kSightings) are first seen in 2024, outside the 30 days.
        Outcome o = Ui("/api/ui/v1/sightings", "indicators");
        if (o.refused) return o;
        auto [status, j] = Taxii(node_, "/api/ui/v1/sightings");
        o.delivered = j["total"].value("total", uint64_t{0});
        o.message = j.dump();
        return o;
      }
      case Exit::kUiSearch:
        // The web UI's search, as the admin (its key; a browser's session reads the same).
        return Ui("/api/ui/v1/search?value=198.51.100.7", "results");
    }
    ADD_FAILURE() << "unhandled exit";
    return {};
  }

  // What each exit delivers when it is open, worked out from the fixture.
  static uint64_t Expected(Exit exit) {
    switch (exit) {
      case Exit::kTaxiiObjects: return 3;  // the three indicators
      case Exit::kTaxiiObject: return 1;   // one version of the first
      case Exit::kTaxiiManifest: return 3;
      case Exit::kTaxiiVersions: return 1;
      case Exit::kExport: return 3;
      case Exit::kGet: return 1;
      case Exit::kListJson: return 6;  // three JSON lines plus three table rows
      case Exit::kTaxiiPush: return 3;
      case Exit::kMatchOutput: return 2;     // two connections hit one indicator each
      case Exit::kSightings: return 2;       // one sighting per indicator (same hour)
      case Exit::kRequestChannel: return 1;  // the one request sent
      case Exit::kUiSearch: return 1;        // one indicator holds 198.51.100.7
      case Exit::kUiObject: return 1;        // the first indicator's one version
      case Exit::kUiRequests: return 1;      // the same requests as the CLI's list (above)
      case Exit::kUiIndicators: return 3;    // the three indicators
      case Exit::kUiSightings: return 3;     // one sighting of count 3
    }
    return 0;
  }

  static void Lockdown(const char* state) {
    auto r = Cli(std::string("policy lockdown ") + state, data_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The running server notices within its refresh interval; wait until its objects page
    // says so (a wait for the state, not a timing assertion).
    bool want_refused = std::string(state) == "on";
    for (int i = 0; i < 600 && Page("objects/", "objects").refused != want_refused; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  static void ExpectAllOpen(const char* when) {
    for (Exit e : policy::AllExits()) {
      Outcome o = Drive(e);
      EXPECT_FALSE(o.refused) << when << ": " << policy::ExitName(e) << ": " << o.message;
      EXPECT_EQ(o.delivered, Expected(e))
          << when << ": " << policy::ExitName(e) << ": " << o.message;
    }
  }

  static inline TempDir* dir_ = nullptr;
  static inline ServerProcess* node_ = nullptr;
  static inline ServerProcess* target_ = nullptr;
  static inline std::string data_, target_data_, cid_;
};

TEST_F(EgressExits, LockdownClosesEveryExitAndLiftingItReopensThem) {
  ExpectAllOpen("before lockdown");

  Lockdown("on");
  auto status = Cli("policy lockdown status", data_);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.out.rfind("lockdown: on", 0), 0u) << status.out;
  for (Exit e : policy::AllExits()) {
    Outcome o = Drive(e);
    EXPECT_TRUE(o.refused) << policy::ExitName(e);
    EXPECT_EQ(o.delivered, 0u) << policy::ExitName(e);
    EXPECT_NE(o.message.find("lockdown"), std::string::npos)
        << policy::ExitName(e) << ": the refusal must say why: " << o.message;
  }
  // A TAXII refusal is a 403 error resource.
  EXPECT_EQ(Taxii(node_, "/api/collections/" + cid_ + "/manifest/").first, 403);

  Lockdown("off");
  ExpectAllOpen("after lockdown");
}

TEST_F(EgressExits, EveryExitHasADistinctName) {
  // The list the test above walks is the enum: one name per value, no value twice.
  std::set<std::string_view> names;
  for (Exit e : policy::AllExits()) names.insert(policy::ExitName(e));
  EXPECT_EQ(names.size(), policy::AllExits().size());
  EXPECT_EQ(policy::AllExits().size(), 16u);  // update Drive() and Expected() with the enum
}

}  // namespace
}  // namespace accord::testing
