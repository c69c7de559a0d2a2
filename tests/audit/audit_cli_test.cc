// `accord audit` end to end (issue 13, point 7): writes, CLI exits, TAXII pages (from the page
// cache too) and configuration changes are recorded; `accord audit verify` exits 1 and names
// the first bad seq when entries are edited, deleted (also at the tail, past the last
// checkpoint), truncated or reordered on disk; the chain stays valid while a server and CLI
// processes write at once. Expected entries come from what the test did, the sample file's
// ids (read here with nlohmann), and the seqs the test itself damaged.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

class AuditCliTest : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args) {
    return RunCmd(Accord() + " " + args + " --data " + data(), tmp_.path());
  }
  std::string data() const { return ShellQuote(store().string()); }
  std::filesystem::path store() const { return tmp_.path() / "store"; }
  std::filesystem::path log() const { return store() / "audit.log"; }
  std::vector<std::string> Lines() const {
    std::ifstream in(log());
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void WriteLines(const std::vector<std::string>& lines) const {
    std::ofstream out(log(), std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }
  std::vector<nlohmann::json> Query(const std::string& args) {
    RunResult r = Run("audit query --json " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<nlohmann::json> out;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) out.push_back(nlohmann::json::parse(l));
    return out;
  }
  // The sample's object ids, read here.
  static std::set<std::string> SampleIds() {
    std::ifstream in((accord::testing::SourceDir() / "samples").string() + "/sample-intel.json");
    nlohmann::json b = nlohmann::json::parse(in);
    std::set<std::string> ids;
    for (const auto& o : b["objects"]) ids.insert(o["id"].get<std::string>());
    return ids;
  }
  static std::set<std::string> IdsOf(const nlohmann::json& e, const char* member = "objects") {
    std::set<std::string> ids;
    if (e.contains(member)) {
      for (const auto& p : e[member]) ids.insert(p[0].get<std::string>());
    }
    return ids;
  }
  // `audit verify` must fail naming `seq`.
  void ExpectBadAt(uint64_t seq, const std::string& why) {
    RunResult v = Run("audit verify --json");
    EXPECT_EQ(v.exit_code, 1) << why << ": " << v.out << v.err;
    nlohmann::json j = nlohmann::json::parse(v.out);
    EXPECT_FALSE(j["ok"].get<bool>()) << why;
    EXPECT_EQ(j["first_bad_seq"], seq) << why << ": " << j.dump();
    EXPECT_NE(v.err.find("seq " + std::to_string(seq) + ":"), std::string::npos) << v.err;
  }
  TempDir tmp_{"audit-cli"};
};

TEST_F(AuditCliTest, WritesExitsAndChangesAreRecordedAndQueryable) {
  const std::string sample =
      ShellQuote((accord::testing::SourceDir() / "samples").string() + "/sample-intel.json");
  ASSERT_EQ(Run("import -q " + sample).exit_code, 0);
  const std::set<std::string> ids = SampleIds();
  ASSERT_FALSE(ids.empty());
  const std::string one = *ids.begin();
  ASSERT_EQ(Run("get " + one).exit_code, 0);
  ASSERT_EQ(Run("export").exit_code, 0);
  ASSERT_EQ(Run("policy lockdown on").exit_code, 0);
  EXPECT_NE(Run("get " + one).exit_code, 0);  // closed: nothing leaves, nothing delivered
  ASSERT_EQ(Run("policy lockdown off").exit_code, 0);

  std::vector<nlohmann::json> all = Query("");
  ASSERT_EQ(all.size(), 5u);  // write, get, export, lockdown on, lockdown off
  EXPECT_EQ(all[0]["action"], "write");
  EXPECT_EQ(all[0]["collection"].get<std::string>().empty(), false);
  EXPECT_EQ(IdsOf(all[0]), ids);
  EXPECT_EQ(all[1]["action"], "egress");
  EXPECT_EQ(all[1]["exit"], "get");
  EXPECT_EQ(IdsOf(all[1]), std::set<std::string>{one});
  EXPECT_EQ(all[2]["exit"], "export");
  EXPECT_EQ(IdsOf(all[2]), ids);
  EXPECT_EQ(all[3]["action"], "policy.lockdown");
  EXPECT_EQ(all[3]["detail"], "on");
  EXPECT_EQ(all[4]["detail"], "off");
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]["seq"], i + 1);
    EXPECT_EQ(all[i]["actor"].get<std::string>().rfind("operator", 0), 0u) << all[i].dump();
  }
  // "What did we send, about this object, and when": the write and the two exits name it.
  std::vector<nlohmann::json> about = Query("--object " + one);
  ASSERT_EQ(about.size(), 3u);
  EXPECT_EQ(about[0]["seq"], 1);
  EXPECT_EQ(about[1]["seq"], 2);
  EXPECT_EQ(about[2]["seq"], 3);
  EXPECT_EQ(Query("--action egress").size(), 2u);
  EXPECT_EQ(Query("--since 2999-01-01T00:00:00Z").size(), 0u);
  RunResult v = Run("audit verify");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("5 entries"), std::string::npos) << v.out;
}

TEST_F(AuditCliTest, VerifyNamesTheFirstBadSeqForEveryKindOfDamage) {
  const std::string sample =
      ShellQuote((accord::testing::SourceDir() / "samples").string() + "/sample-intel.json");
  ASSERT_EQ(Run("node init --name Audited").exit_code, 0);  // key.create
  ASSERT_EQ(Run("import -q " + sample).exit_code, 0);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Run("export").exit_code, 0);
  const std::vector<std::string> good = Lines();
  const size_t n = good.size();
  ASSERT_GE(n, 6u);
  RunResult cp = Run("audit checkpoint --json");
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(nlohmann::json::parse(cp.out)["seq"], n);
  ASSERT_EQ(Run("audit verify").exit_code, 0);

  // Edited: one byte of entry 3.
  std::vector<std::string> lines = good;
  lines[2].replace(lines[2].find("\"actor\":\"") + 9, 1, "X");
  WriteLines(lines);
  ExpectBadAt(3, "edited");
  // Deleted: entry 4.
  lines = good;
  lines.erase(lines.begin() + 3);
  WriteLines(lines);
  ExpectBadAt(4, "deleted");
  // Reordered: entries 2 and 3.
  lines = good;
  std::swap(lines[1], lines[2]);
  WriteLines(lines);
  ExpectBadAt(2, "reordered");
  // Truncated: the last entry cut in the middle.
  {
    std::string all;
    for (const auto& l : good) all += l + "\n";
    all.resize(all.size() - 30);
    std::ofstream(log(), std::ios::trunc) << all;
  }
  ExpectBadAt(n, "truncated");
  // Deleted at the tail, with the head file removed too: the signed checkpoint still names n.
  lines = good;
  lines.pop_back();
  WriteLines(lines);
  std::filesystem::remove(store() / "audit.head");
  ExpectBadAt(n, "tail deleted, head removed");

  // Put back (and a new head from the next append), more entries, then the tail after the
  // last checkpoint deleted: the head names it.
  WriteLines(good);
  ASSERT_EQ(Run("export").exit_code, 0);
  ASSERT_EQ(Run("export").exit_code, 0);
  ASSERT_EQ(Run("audit verify").exit_code, 0);
  lines = Lines();
  ASSERT_EQ(lines.size(), n + 2);
  lines.pop_back();
  WriteLines(lines);
  ExpectBadAt(n + 2, "tail after the last checkpoint");
}

TEST_F(AuditCliTest, ServerPagesAndPostsAndConcurrentCliWritersKeepOneChain) {
  const std::string sample =
      ShellQuote((accord::testing::SourceDir() / "samples").string() + "/sample-intel.json");
  ASSERT_EQ(Run("import -q --collection shared " + sample).exit_code, 0);
  ServerProcess server;
  ASSERT_TRUE(server.Start(store().string()));
  std::filesystem::create_directories(tmp_.path() / "curl");
  auto get = [&](const std::string& path) {
    return RunCmd(
        "curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/taxii+json;"
        "version=2.1' -H 'Authorization: Bearer " +
            server.admin_key() + "' http://127.0.0.1:" + std::to_string(server.port()) + path,
        tmp_.path() / "curl");
  };
  // The collection's id, from the server.
  RunResult cols =
      RunCmd("curl -s -H 'Accept: application/taxii+json;version=2.1' -H 'Authorization: Bearer " +
                 server.admin_key() + "' http://127.0.0.1:" + std::to_string(server.port()) +
                 "/api/collections/",
             tmp_.path());
  std::string cid;
  const nlohmann::json listed = nlohmann::json::parse(cols.out);
  for (const auto& c : listed["collections"]) {
    if (c.value("alias", "") == "shared") cid = c["id"];
  }
  ASSERT_FALSE(cid.empty()) << cols.out;
  // CLI writers and exits in other processes while the server serves pages.
  std::vector<std::thread> cli;
  for (int t = 0; t < 2; ++t) {
    cli.emplace_back([&, t] {
      // Each thread its own directory: RunCmd keeps a command's output in files there.
      const auto dir = tmp_.path() / ("t" + std::to_string(t));
      std::filesystem::create_directories(dir);
      auto run = [&](const std::string& args) {
        return RunCmd(Accord() + " " + args + " --data " + data(), dir);
      };
      for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(run("export").exit_code, 0);
        EXPECT_EQ(run("import -q --collection c" + std::to_string(t) + " " + sample).exit_code, 0);
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(get("/api/collections/" + cid + "/objects/").out, "200");  // the cache serves most
  }
  for (auto& t : cli) t.join();
  // A POST of one new object: a write by the TAXII user.
  const std::string posted = "identity--0d7a3c1e-2b4f-4a6d-9e8c-7f1a2b3c4d5e";
  {
    std::ofstream(tmp_.path() / "post.json")
        << R"({"objects":[{"type":"identity","spec_version":"2.1","id":")" << posted
        << R"(","created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z",)"
        << R"("name":"Posted","identity_class":"organization"}]})";
    RunResult post = RunCmd(
        "curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/taxii+json;version=2.1' "
        "-H 'Content-Type: application/taxii+json;version=2.1' -H 'Authorization: Bearer " +
            server.admin_key() + "' --data-binary @" +
            ShellQuote((tmp_.path() / "post.json").string()) + " http://127.0.0.1:" +
            std::to_string(server.port()) + "/api/collections/" + cid + "/objects/",
        tmp_.path());
    EXPECT_EQ(post.out, "202");
  }
  server.Stop();
  RunResult v = Run("audit verify --json");
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  // 1 import + the server's first start (user.add and key.create of its admin) + 10 pages +
  // 2 x 5 exports + 2 imports that linked something (the other 8 were duplicates: a write
  // that links nothing new is no write) + the POST.
  EXPECT_EQ(nlohmann::json::parse(v.out)["entries"], 1 + 2 + 10 + 10 + 2 + 1);
  std::vector<nlohmann::json> writes = Query("--action write --actor user:admin");
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(IdsOf(writes[0]), std::set<std::string>{posted});
  EXPECT_EQ(writes[0]["collection"], cid);
  std::vector<nlohmann::json> pages = Query("--action egress --actor user:admin");
  ASSERT_EQ(pages.size(), 10u);
  for (const auto& p : pages) {
    EXPECT_EQ(p["exit"], "taxii-objects");
    EXPECT_EQ(p["collection"], cid);
    EXPECT_EQ(IdsOf(p), SampleIds());
  }
}

// Issue 13, point 3, on a running server: who may read the audit log and the agreements over
// HTTP (admin, auditor), that an auditor reads no intelligence and a reader no TLP:RED, that a
// role changed by `accord user set-role` in another process takes effect and is recorded, and
// that every read of the audit log is itself recorded. Expected from docs/PRIVACY.md's table.
TEST_F(AuditCliTest, RolesOverHttpAndTheAuditorsApi) {
  // Two indicators of our own, one TLP:RED (2.0) and one TLP:GREEN.
  const std::string red = "indicator--7e1d0c5b-4a3f-4e2d-9c1b-0a9f8e7d6c5b";
  const std::string green = "indicator--1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
  {
    std::ofstream out(tmp_.path() / "two.json");
    for (const auto& [id, marking] :
         {std::pair{red, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
          std::pair{green, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}}) {
      out << R"({"type":"indicator","spec_version":"2.1","id":")" << id
          << R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
          << R"("pattern":"[domain-name:value = 'x.example']","pattern_type":"stix",)"
          << R"("valid_from":"2026-01-01T00:00:00Z","object_marking_refs":[")" << marking
          << "\"]}\n";
    }
  }
  ASSERT_EQ(Run("import -q --collection shared " + ShellQuote((tmp_.path() / "two.json").string()))
                .exit_code,
            0);
  ServerProcess server;
  ASSERT_TRUE(server.Start(store().string()));
  std::map<std::string, std::string> key = {{"admin", server.admin_key()}};
  for (const auto& [user, role] :
       {std::pair{"dpo", "auditor"}, std::pair{"rita", "reader"}, std::pair{"ana", ""}}) {
    ASSERT_EQ(Run(std::string("user add ") + user + (*role ? std::string(" --role ") + role : ""))
                  .exit_code,
              0);
    RunResult k = Run(std::string("key create ") + user);
    ASSERT_EQ(k.exit_code, 0) << k.err;
    key[user] = k.out.substr(0, k.out.find('\n'));
  }
  std::filesystem::create_directories(tmp_.path() / "curl");
  // (status, body) of a GET as `user` ("" for anonymous).
  auto get = [&](const std::string& user, const std::string& path) {
    std::string auth = user.empty() ? "" : "-H 'Authorization: Bearer " + key[user] + "' ";
    RunResult r = RunCmd(
        "curl -s -w '\\n%{http_code}' -H 'Accept: application/taxii+json;"
        "version=2.1' " +
            auth + "'http://127.0.0.1:" + std::to_string(server.port()) + path + "'",
        tmp_.path() / "curl");
    size_t nl = r.out.rfind('\n');
    return std::make_pair(std::atoi(r.out.c_str() + nl + 1), r.out.substr(0, nl));
  };
  // The collection's id, as the admin sees it.
  std::string cid;
  const nlohmann::json cols = nlohmann::json::parse(get("admin", "/api/collections/").second);
  for (const auto& c : cols["collections"]) {
    if (c.value("alias", "") == "shared") cid = c["id"];
  }
  ASSERT_FALSE(cid.empty());
  ASSERT_EQ(Run("collection grant shared ana --read").exit_code, 0);
  {
    // `user list --json`: each user's role and grants.
    RunResult list = Run("user list --json");
    ASSERT_EQ(list.exit_code, 0) << list.err;
    std::map<std::string, nlohmann::json> users;
    std::istringstream in(list.out);
    for (std::string l; std::getline(in, l);) {
      nlohmann::json j = nlohmann::json::parse(l);
      users[j["name"]] = j;
    }
    EXPECT_EQ(users["dpo"]["role"], "auditor");
    EXPECT_EQ(users["rita"]["role"], "reader");
    EXPECT_EQ(users["ana"]["role"], "analyst");  // the default
    ASSERT_EQ(users["ana"]["grants"].size(), 1u);
    EXPECT_EQ(users["ana"]["grants"][0]["collection"], cid);
    EXPECT_TRUE(users["ana"]["grants"][0]["read"].get<bool>());
    EXPECT_FALSE(users["ana"]["grants"][0]["write"].get<bool>());
  }

  // The audit log: admin and auditor only.
  EXPECT_EQ(get("", "/accord/audit/").first, 401);
  EXPECT_EQ(get("rita", "/accord/audit/").first, 403);
  EXPECT_EQ(get("ana", "/accord/audit/").first, 403);
  EXPECT_EQ(get("admin", "/accord/audit/").first, 200);
  auto [d_st, d_body] = get("dpo", "/accord/audit/?action=user.add");
  ASSERT_EQ(d_st, 200) << d_body;
  nlohmann::json page = nlohmann::json::parse(d_body);
  std::set<std::string> added;
  for (const auto& e : page["entries"]) {
    EXPECT_EQ(e["action"], "user.add");
    std::string detail = e["detail"];
    for (const char* u : {"admin", "dpo", "rita", "ana"}) {
      if (detail.find(std::string("user '") + u + "'") != std::string::npos) added.insert(u);
    }
  }
  EXPECT_EQ(added, (std::set<std::string>{"admin", "dpo", "rita", "ana"})) << d_body;
  EXPECT_EQ(page["entries"].size(), 4u) << d_body;
  EXPECT_FALSE(page["more"].get<bool>());
  // Paging: two at a time, then the rest after `next`.
  nlohmann::json first = nlohmann::json::parse(get("dpo", "/accord/audit/?limit=2").second);
  ASSERT_EQ(first["entries"].size(), 2u);
  EXPECT_TRUE(first["more"].get<bool>());
  EXPECT_EQ(first["entries"][0]["seq"], 1);
  EXPECT_EQ(first["entries"][1]["seq"], 2);
  EXPECT_EQ(first["entries"][1]["prev"], first["entries"][0]["hash"]);
  nlohmann::json rest = nlohmann::json::parse(
      get("dpo", "/accord/audit/?limit=2&after=" + first["next"].dump()).second);
  ASSERT_FALSE(rest["entries"].empty());
  EXPECT_EQ(rest["entries"][0]["seq"], 3);
  EXPECT_EQ(get("dpo", "/accord/audit/?since=yesterday").first, 400);
  EXPECT_EQ(get("dpo", "/accord/audit/?limit=-1").first, 400);
  EXPECT_EQ(get("dpo", "/accord/audit/?colour=red").first, 400);
  // The agreements: admin and auditor only (no peers here: an empty list).
  auto [a_st, a_body] = get("dpo", "/accord/agreements/");
  EXPECT_EQ(a_st, 200);
  EXPECT_EQ(nlohmann::json::parse(a_body)["agreements"], nlohmann::json::array());
  EXPECT_EQ(get("rita", "/accord/agreements/").first, 403);
  // The chain's verification (the web UI's audit view): admin and auditor only; every line
  // of the log is an entry, counted here from the file itself.
  EXPECT_EQ(get("", "/accord/audit/verify").first, 401);
  EXPECT_EQ(get("rita", "/accord/audit/verify").first, 403);
  EXPECT_EQ(get("ana", "/accord/audit/verify").first, 403);
  {
    std::ifstream in(store() / "audit.log");
    uint64_t lines = 0;
    for (std::string l; std::getline(in, l);) lines += !l.empty();
    auto [v_st, v_body] = get("dpo", "/accord/audit/verify");
    ASSERT_EQ(v_st, 200) << v_body;
    nlohmann::json v = nlohmann::json::parse(v_body);
    EXPECT_TRUE(v["ok"].get<bool>()) << v_body;
    EXPECT_EQ(v["entries"].get<uint64_t>(), lines) << v_body;
    EXPECT_EQ(v["last_seq"].get<uint64_t>(), lines) << v_body;
  }

  // Intelligence: the auditor reads none; the reader all but TLP:RED; the analyst its grant.
  const std::string objects = "/api/collections/" + cid + "/objects/";
  auto ids = [&](const std::string& user) {
    auto [st, body] = get(user, objects);
    EXPECT_EQ(st, 200) << user << ": " << body;
    std::set<std::string> out;
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("objects")) {
      for (const auto& o : j["objects"]) out.insert(o["id"].get<std::string>());
    }
    return out;
  };
  auto [o_st, o_body] = get("dpo", objects);
  EXPECT_EQ(o_st, 403) << o_body;
  EXPECT_NE(o_body.find("auditor"), std::string::npos) << o_body;
  EXPECT_EQ(get("dpo", objects + red + "/").first, 403);
  EXPECT_EQ(ids("rita"), std::set<std::string>{green});
  EXPECT_EQ(get("rita", objects + red + "/").first, 404);
  EXPECT_EQ(ids("ana"), (std::set<std::string>{green, red}));
  EXPECT_EQ(ids("admin"), (std::set<std::string>{green, red}));

  // A role changed in another process: ana becomes an auditor (the server sees the auth
  // generation move within its poll interval, 250 ms).
  ASSERT_EQ(Run("user set-role ana auditor").exit_code, 0);
  int st = 0;
  for (int i = 0; i < 100 && st != 200; ++i) {
    st = get("ana", "/accord/audit/").first;
    if (st != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(st, 200);
  EXPECT_EQ(get("ana", objects).first, 403);
  EXPECT_EQ(Run("user set-role ana root").exit_code, 1);  // not a role: rejected input
  server.Stop();

  // Recorded: the role change, and each read of the audit log and the agreements over HTTP.
  std::vector<nlohmann::json> changes = Query("--action role.set");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0]["detail"].get<std::string>().find("analyst -> auditor"), std::string::npos);
  std::vector<nlohmann::json> reads = Query("--action audit.read");
  std::map<std::string, int> by_actor;
  for (const auto& r : reads) ++by_actor[r["actor"].get<std::string>()];
  // admin 1; dpo: action=user.add, limit=2, after=; ana once it became an auditor.
  EXPECT_EQ(by_actor["user:admin"], 1);
  EXPECT_EQ(by_actor["user:dpo"], 3);
  EXPECT_EQ(by_actor["user:ana"], 1);
  EXPECT_EQ(by_actor.size(), 3u);  // the refused reads wrote nothing
  EXPECT_EQ(Query("--action agreement.read --actor dpo").size(), 1u);
  EXPECT_EQ(Run("audit verify").exit_code, 0);
}

// `accord serve` signs the head by itself: every --audit-checkpoint-interval while entries are
// added, and once more when it stops, so that the last checkpoint covers the server's last
// entry. Each checkpoint verifies with the node's key (accord audit verify checks them).
// Match output and sightings are exits too (issue 13, point 7): a run records the indicator
// versions its lines named (with how many lines), and the sightings it wrote.
TEST_F(AuditCliTest, MatchOutputAndSightingsAreRecorded) {
  const std::string hit = "indicator--3c1d7e0a-6b2f-4c8d-9e1a-5f4b3a2c1d0e";
  const std::string miss = "indicator--9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
  {
    std::ofstream out(tmp_.path() / "two.json");
    for (const auto& [id, domain] :
         {std::pair{hit, "c2.audit.example"}, std::pair{miss, "no.example"}}) {
      out << R"({"type":"indicator","spec_version":"2.1","id":")" << id
          << R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-02-03T04:05:06.789Z",)"
          << R"("pattern":"[domain-name:value = ')" << domain << R"(']","pattern_type":"stix",)"
          << R"("valid_from":"2026-01-01T00:00:00Z"})"
          << "\n";
    }
    std::ofstream dns(tmp_.path() / "dns.log");
    for (int i = 0; i < 3; ++i) {  // three queries for the first indicator's domain
      dns << R"({"ts":1717200000.0,"uid":"C)" << i
          << R"(","id.orig_h":"10.1.1.5","id.orig_p":5353,"id.resp_h":"10.0.0.1","id.resp_p":53,)"
          << R"("proto":"udp","query":"c2.audit.example","qtype_name":"A"})"
          << "\n";
    }
  }
  ASSERT_EQ(Run("import -q " + ShellQuote((tmp_.path() / "two.json").string())).exit_code, 0);
  RunResult m = Run("match --sightings --sightings-collection seen " +
                    ShellQuote((tmp_.path() / "dns.log").string()));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  std::vector<nlohmann::json> out = Query("--action egress");
  const nlohmann::json* entry = nullptr;
  for (const auto& e : out) {
    if (e.value("exit", "") == "match-output") entry = &e;
  }
  ASSERT_NE(entry, nullptr) << "no match-output entry";
  // The version the lines named: the only one stored, with its modified as imported.
  ASSERT_EQ((*entry)["objects"].size(), 1u) << entry->dump();
  EXPECT_EQ((*entry)["objects"][0][0], hit);
  EXPECT_EQ((*entry)["objects"][0][1], "2026-02-03T04:05:06.789000Z");
  EXPECT_EQ((*entry)["actor"].get<std::string>().rfind("operator", 0), 0u) << entry->dump();
  EXPECT_NE((*entry)["detail"].get<std::string>().find("3 match line"), std::string::npos)
      << entry->dump();
  // The sighting written (one per indicator per hour) is a write to its collection.
  const nlohmann::json sightings = nlohmann::json::parse(Run("list --json -c seen").out);
  const std::string sighting_id = sightings["id"];
  bool recorded = false;
  for (const auto& e : Query("--action write")) {
    if (e.value("collection", "") == "seen" && IdsOf(e).count(sighting_id)) recorded = true;
  }
  EXPECT_TRUE(recorded) << "the sighting write is not in the log";
  EXPECT_EQ(Run("audit verify").exit_code, 0);
}

// Retention (issue 13, point 6): what [retention] says has been kept long enough goes, with
// its bytes on disk, and the purge is recorded. Expected by hand from the fixture's dates.
TEST_F(AuditCliTest, PurgeRemovesWhatRetentionSaysAndErasesItsBytes) {
  const std::string expired = "indicator--e0e0e0e0-0000-4000-8000-000000000001";
  const std::string live = "indicator--e0e0e0e0-0000-4000-8000-000000000002";
  const std::string open_ended = "indicator--e0e0e0e0-0000-4000-8000-000000000003";
  const std::string extended = "indicator--e0e0e0e0-0000-4000-8000-000000000004";
  const std::string old_sighting = "sighting--e0e0e0e0-0000-4000-8000-000000000005";
  const std::string new_sighting = "sighting--e0e0e0e0-0000-4000-8000-000000000006";
  // Yesterday, for the sighting that must stay (sightings_days = 365).
  const std::time_t yesterday = std::time(nullptr) - 86400;
  char recent[32];
  std::strftime(recent, sizeof recent, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&yesterday));
  auto indicator = [](const std::string& id, const std::string& modified, const std::string& mark,
                      const std::string& valid_until) {
    std::string j = R"({"type":"indicator","spec_version":"2.1","id":")" + id +
                    R"(","created":"2020-01-01T00:00:00.000Z","modified":")" + modified +
                    R"(","name":")" + mark +
                    R"(","pattern":"[domain-name:value = 'x.example']","pattern_type":"stix",)"
                    R"("valid_from":"2020-01-01T00:00:00Z")";
    if (!valid_until.empty()) j += R"(,"valid_until":")" + valid_until + R"(")";
    return j + "}";
  };
  auto sighting = [&](const std::string& id, const std::string& when, const std::string& mark) {
    return R"({"type":"sighting","spec_version":"2.1","id":")" + id + R"(","created":")" + when +
           R"(","modified":")" + when + R"(","sighting_of_ref":")" + live +
           R"(","count":3,"description":")" + mark + R"("})";
  };
  {
    std::ofstream out(tmp_.path() / "retention.jsonl");
    // Expired since mid-2020 in both versions: goes whole.
    out << indicator(expired, "2020-01-01T00:00:00.000Z", "purge-me-expired-v1",
                     "2020-06-01T00:00:00Z")
        << "\n"
        << indicator(expired, "2020-02-01T00:00:00.000Z", "purge-me-expired-v2",
                     "2020-06-01T00:00:00Z")
        << "\n"
        << indicator(live, "2020-01-01T00:00:00.000Z", "keep-live", "2099-01-01T00:00:00Z") << "\n"
        << indicator(open_ended, "2020-01-01T00:00:00.000Z", "keep-open", "")
        << "\n"
        // Its first version expired, its newest did not: both stay.
        << indicator(extended, "2020-01-01T00:00:00.000Z", "keep-extended-v1",
                     "2020-06-01T00:00:00Z")
        << "\n"
        << indicator(extended, "2020-03-01T00:00:00.000Z", "keep-extended-v2",
                     "2099-01-01T00:00:00Z")
        << "\n"
        << sighting(old_sighting, "2020-01-01T00:00:00.000Z", "purge-me-old-sighting") << "\n"
        << sighting(new_sighting, recent, "keep-new-sighting") << "\n";
  }
  RunResult imp = Run("import " + ShellQuote((tmp_.path() / "retention.jsonl").string()));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  // A content conflict: a quarantined copy that holds text of its own.
  {
    std::ofstream out(tmp_.path() / "conflict.json");
    out << indicator(live, "2020-01-01T00:00:00.000Z", "purge-me-quarantined",
                     "2099-01-01T00:00:00Z")
        << "\n";
  }
  Run("import " + ShellQuote((tmp_.path() / "conflict.json").string()));
  ASSERT_NE(Slurp(store() / "objects.log").find("purge-me-expired-v1"), std::string::npos);

  // No [retention]: nothing goes.
  RunResult none = Run("purge");
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.err.find("no [retention]"), std::string::npos) << none.err;
  std::ofstream(store() / "accord.toml")
      << "[retention]\nindicator_grace_days = 30\nsightings_days = 365\nquarantine_days = 0\n";

  const std::set<std::pair<std::string, std::string>> want = {
      {"indicator", expired + " 2020-01-01T00:00:00.000000Z"},
      {"indicator", expired + " 2020-02-01T00:00:00.000000Z"},
      {"sighting", old_sighting + " 2020-01-01T00:00:00.000000Z"},
      {"quarantine", live + " 2020-01-01T00:00:00.000000Z"}};
  auto listed = [](const std::string& out) {
    std::set<std::pair<std::string, std::string>> got;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) {
      nlohmann::json j = nlohmann::json::parse(l);
      got.insert({j["kind"], j["id"].get<std::string>() + " " + j["modified"].get<std::string>()});
    }
    return got;
  };
  RunResult dry = Run("purge --dry-run --json");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(listed(dry.out), want);
  EXPECT_EQ(Run("get " + expired).exit_code, 0) << "a dry run removed something";

  RunResult purge = Run("purge --json");
  ASSERT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_EQ(listed(purge.out), want);
  // Gone from the store, and their bytes from disk; everything else still reads.
  for (const std::string& id : {expired, old_sighting}) {
    RunResult g = Run("get " + id);
    EXPECT_TRUE(g.exit_code != 0 || g.out.empty()) << id << ": " << g.out;
  }
  RunResult all = Run("list --json --versions all");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  std::multiset<std::string> left;
  std::istringstream in(all.out);
  for (std::string l; std::getline(in, l);) left.insert(nlohmann::json::parse(l)["id"]);
  EXPECT_EQ(left, (std::multiset<std::string>{live, open_ended, extended, extended, new_sighting}));
  const std::string log_bytes = Slurp(store() / "objects.log");
  EXPECT_EQ(log_bytes.find("purge-me"), std::string::npos);
  EXPECT_NE(log_bytes.find("keep-extended-v1"), std::string::npos);
  std::string db = Slurp(store() / "accord.db");
  if (std::filesystem::exists(store() / "accord.db-wal")) db += Slurp(store() / "accord.db-wal");
  EXPECT_EQ(db.find("purge-me-quarantined"), std::string::npos);
  EXPECT_EQ(Run("quarantine list").out.find(live), std::string::npos);

  // Recorded: which versions went, by whom.
  bool recorded = false;
  for (const auto& e : Query("--action purge")) {
    if (IdsOf(e) == std::set<std::string>{expired, old_sighting}) recorded = true;
  }
  EXPECT_TRUE(recorded);
  EXPECT_EQ(Run("audit verify").exit_code, 0);
  // A second purge finds nothing.
  EXPECT_EQ(Run("purge --dry-run --json").out, "");
}

// The match ledger's retention (issue 17): matches_days below a day is refused (a record must
// outlive every redelivery of its event), a valid one is applied and named in the summary. Only
// a stream worker writes ledger records; their purge is counted in the store's contract tests
// (src/store/store_contract_test.cc, PurgeRemovesMatchRecordsWhoseEventAndRecordingAreOld).
TEST_F(AuditCliTest, MatchesDaysBelowOneDayIsRefused) {
  ASSERT_EQ(Run("node init --name cert-test").exit_code, 0);
  std::ofstream(store() / "accord.toml") << "[retention]\nmatches_days = 0\n";
  RunResult zero = Run("purge --dry-run");
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.err.find("accord.toml:2:16: matches_days must be a number of days from 1 to"),
            std::string::npos)
      << zero.err;
  std::ofstream(store() / "accord.toml") << "[retention]\nmatches_days = 1\n";
  RunResult dry = Run("purge --dry-run --json");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out, "");  // the ledger is empty
  EXPECT_NE(dry.err.find("nothing would go"), std::string::npos) << dry.err;
  EXPECT_NE(dry.err.find("matches_days 1 "), std::string::npos) << dry.err;
  RunResult purge = Run("purge");
  EXPECT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_TRUE(Query("--action purge").empty()) << "a purge that removed nothing was recorded";
}

// The audit log's own retention: entries go only as whole checkpoints, through the newest one
// signed before the cut-off, and what is left still verifies from that checkpoint.
TEST_F(AuditCliTest, AuditEntriesGoOnlyAsWholeCheckpoints) {
  const std::string sample =
      ShellQuote((accord::testing::SourceDir() / "samples").string() + "/sample-intel.json");
  ASSERT_EQ(Run("node init --name cert-test").exit_code, 0);
  ASSERT_EQ(Run("import -q -c one " + sample).exit_code, 0);
  ASSERT_EQ(Run("audit checkpoint").exit_code, 0);
  ASSERT_EQ(Run("import -q -c two " + sample).exit_code, 0);
  ASSERT_EQ(Run("audit checkpoint").exit_code, 0);
  ASSERT_EQ(Run("export -c two").exit_code, 0);  // entries after the last checkpoint
  const nlohmann::json cps = nlohmann::json::parse(Run("audit checkpoints --json").out);
  ASSERT_EQ(cps.size(), 2u);
  const uint64_t through = cps[1]["seq"];
  const std::vector<std::string> before = Lines();
  ASSERT_GT(before.size(), through);
  std::ofstream(store() / "accord.toml") << "[retention]\naudit_days = 0\n";

  RunResult dry = Run("purge --dry-run --json");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const nlohmann::json line = nlohmann::json::parse(dry.out.substr(0, dry.out.find('\n')));
  EXPECT_EQ(line["kind"], "audit");
  EXPECT_EQ(line["through_seq"], through);
  EXPECT_EQ(Lines(), before);

  RunResult purge = Run("purge");
  ASSERT_EQ(purge.exit_code, 0) << purge.err;
  const std::vector<std::string> after = Lines();
  // What followed the checkpoint is kept byte for byte, then the purge's own entry.
  ASSERT_EQ(after.size(), before.size() - through + 1);
  EXPECT_EQ(std::vector<std::string>(after.begin(), after.end() - 1),
            std::vector<std::string>(before.begin() + static_cast<long>(through), before.end()));
  EXPECT_EQ(nlohmann::json::parse(after.back())["action"], "purge.audit");
  RunResult v = Run("audit verify --json");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(nlohmann::json::parse(v.out)["first_seq"], through + 1) << v.out;
}

// A running server applies [retention] by itself, every --purge-interval.
TEST_F(AuditCliTest, TheServerAppliesRetentionByItself) {
  const std::string expired = "indicator--e1e1e1e1-0000-4000-8000-000000000001";
  {
    std::ofstream out(tmp_.path() / "expired.json");
    out << R"({"type":"indicator","spec_version":"2.1","id":")" << expired
        << R"(","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z",)"
        << R"("name":"expired","pattern":"[domain-name:value = 'x.example']",)"
        << R"("pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z",)"
        << R"("valid_until":"2020-02-01T00:00:00Z"})"
        << "\n";
  }
  ASSERT_EQ(Run("import -q " + ShellQuote((tmp_.path() / "expired.json").string())).exit_code, 0);
  std::ofstream(store() / "accord.toml") << "[retention]\nindicator_grace_days = 30\n";
  ServerProcess server;
  ASSERT_TRUE(server.Start(store().string(), {"--purge-interval", "0.2"}));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    RunResult g = Run("get " + expired);
    gone = g.exit_code != 0 || g.out.empty();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << "the server did not purge the expired indicator";
  server.Stop();
  bool recorded = false;
  for (const auto& e : Query("--action purge")) recorded = recorded || IdsOf(e).count(expired);
  EXPECT_TRUE(recorded);
}

TEST_F(AuditCliTest, TheServerSignsCheckpointsByItself) {
  ASSERT_EQ(Run("node init --name cert-test").exit_code, 0);
  ServerProcess server;
  ASSERT_TRUE(server.Start(store().string(), {"--audit-checkpoint-interval", "0.2"}));
  std::filesystem::create_directories(tmp_.path() / "curl");
  auto get = [&] {
    return RunCmd(
               "curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/taxii+json;"
               "version=2.1' -H 'Authorization: Bearer " +
                   server.admin_key() + "' http://127.0.0.1:" + std::to_string(server.port()) +
                   "/api/collections/",
               tmp_.path() / "curl")
        .out;
  };
  EXPECT_EQ(get(), "200");
  size_t n = 0;
  for (int i = 0; i < 200 && n == 0; ++i) {
    RunResult cps = Run("audit checkpoints --json");
    ASSERT_EQ(cps.exit_code, 0) << cps.err;
    n = nlohmann::json::parse(cps.out).size();
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(n, 1u);
  EXPECT_EQ(get(), "200");  // one more entry, after the first checkpoint
  server.Stop();
  RunResult v = Run("audit verify --json");
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  const nlohmann::json report = nlohmann::json::parse(v.out);
  nlohmann::json cps = nlohmann::json::parse(Run("audit checkpoints --json").out);
  ASSERT_FALSE(cps.empty());
  EXPECT_EQ(cps.back()["seq"], report["last_seq"]) << cps.dump() << " " << report.dump();
  EXPECT_EQ(report["checkpoints"], cps.size()) << report.dump();
}

}  // namespace
}  // namespace accord::testing
