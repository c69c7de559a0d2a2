// `accord audit` end to end (issue 13, point 7): writes, CLI exits, TAXII pages (from the page
// cache too) and configuration changes are recorded; `accord audit verify` exits 1 and names
// the first bad seq when entries are edited, deleted (also at the tail, past the last
// checkpoint), truncated or reordered on disk; the chain stays valid while a server and CLI
// processes write at once. Expected entries come from what the test did, the sample file's
// ids (read here with nlohmann), and the seqs the test itself damaged.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
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
    std::ifstream in(std::string(ACCORD_SAMPLES_DIR) + "/sample-intel.json");
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
  const std::string sample = ShellQuote(std::string(ACCORD_SAMPLES_DIR) + "/sample-intel.json");
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
  const std::string sample = ShellQuote(std::string(ACCORD_SAMPLES_DIR) + "/sample-intel.json");
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
  const std::string sample = ShellQuote(std::string(ACCORD_SAMPLES_DIR) + "/sample-intel.json");
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
  // 1 import + 10 pages + 2 x 5 exports + 2 imports that linked something (the other 8 were
  // duplicates: a write that links nothing new is no write).
  EXPECT_EQ(nlohmann::json::parse(v.out)["entries"], 1 + 10 + 10 + 2 + 1);
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

}  // namespace
}  // namespace accord::testing
