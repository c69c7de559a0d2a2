// Warninglists and sensor exports through the CLI (issue 15): real MISP warninglists loaded,
// listed values flagged or dropped on import, left out of sensor exports and suppressed on
// matching; only active indicators exported; --watch keeps the files current.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <signal.h>

#include "common/test_util.h"

namespace accord::testing {
namespace {

using json = nlohmann::json;

void Write(const std::filesystem::path& p, const std::string& s) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

class FormatsCli : public ::testing::Test {
 protected:
  FormatsCli() : tmp_("formats-cli"), data_((tmp_.path() / "data").string()) {}

  void SetUp() override {
    auto archive = SharedDir() / "data/warninglists/misp-warninglists.tar.gz";
    ACCORD_REQUIRE_SHARED(archive);
    lists_ = tmp_.path() / "wl";
    std::filesystem::create_directories(lists_);
    ASSERT_EQ(std::system(("tar -xzf " + ShellQuote(archive.string()) + " -C " +
                           ShellQuote(lists_.string()) +
                           " misp-warninglists/lists/public-dns-v4/list.json"
                           " misp-warninglists/lists/rfc1918/list.json")
                              .c_str()),
              0);
    lists_ /= "misp-warninglists/lists";
    // The lists' names and entry counts, read from the raw JSON.
    for (const char* dir : {"public-dns-v4", "rfc1918"}) {
      json j = json::parse(Slurp(lists_ / dir / "list.json"));
      names_[dir] = j["name"].get<std::string>();
      entries_[dir] = j["list"].size();
    }
  }

  RunResult Run(const std::string& args) {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data_), tmp_.path());
  }
  // Indicators stored (last versions) by pattern.
  std::map<std::string, json> Indicators() {
    auto r = Run("list --json --type indicator");
    std::map<std::string, json> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json j = json::parse(line);
      out[j["pattern"].get<std::string>()] = j;
    }
    return out;
  }

  TempDir tmp_;
  std::string data_;
  std::filesystem::path lists_;
  std::map<std::string, std::string> names_;
  std::map<std::string, size_t> entries_;
};

TEST_F(FormatsCli, LoadedListsAreListedWithTheirEntryCounts) {
  auto r = Run("warninglist load " + ShellQuote(lists_.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 warninglist(s) loaded"), std::string::npos) << r.out;
  r = Run("warninglist list --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json arr = json::parse(r.out);
  ASSERT_EQ(arr.size(), 2u);
  std::map<std::string, size_t> got;
  for (const auto& l : arr) got[l["name"].get<std::string>()] = l["entries"].get<size_t>();
  EXPECT_EQ(got,
            (std::map<std::string, size_t>{{names_["public-dns-v4"], entries_["public-dns-v4"]},
                                           {names_["rfc1918"], entries_["rfc1918"]}}));
  r = Run("warninglist remove " + ShellQuote(names_["rfc1918"]));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(Run("warninglist list --json").out).size(), 1u);
  EXPECT_NE(Run("warninglist remove no-such-list").exit_code, 0);
}

TEST_F(FormatsCli, ListedValuesAreFlaggedOrDroppedLeftOutOfExportsAndSuppressedOnMatching) {
  ASSERT_EQ(Run("warninglist load " + ShellQuote(lists_.string())).exit_code, 0);
  auto feed = tmp_.path() / "feed.txt";
  // 8.8.8.8 is a public resolver, 10.1.2.3 is in RFC 1918, 198.51.100.9 is on neither.
  Write(feed, "8.8.8.8\n10.1.2.3\n198.51.100.9\n");
  auto r = Run("import --format list " + ShellQuote(feed.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 indicator(s) on warninglists flagged"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(names_["public-dns-v4"] + ": 1"), std::string::npos) << r.out;
  auto ind = Indicators();
  ASSERT_EQ(ind.size(), 3u);
  EXPECT_EQ(ind["[ipv4-addr:value = '8.8.8.8']"]["labels"],
            json::array({"warninglist:" + names_["public-dns-v4"]}));
  EXPECT_EQ(ind["[ipv4-addr:value = '10.1.2.3']"]["labels"],
            json::array({"warninglist:" + names_["rfc1918"]}));
  EXPECT_FALSE(ind["[ipv4-addr:value = '198.51.100.9']"].contains("labels"));

  // A sensor export leaves the listed values out, and says which lists.
  auto out = tmp_.path() / "zeek";
  r = Run("export --format zeek-intel --out " + ShellQuote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string intel = Slurp(out / "accord.intel");
  EXPECT_NE(intel.find("198.51.100.9\tIntel::ADDR"), std::string::npos) << intel;
  EXPECT_EQ(intel.find("8.8.8.8"), std::string::npos) << intel;
  EXPECT_EQ(intel.find("10.1.2.3"), std::string::npos) << intel;
  EXPECT_NE(r.err.find("2 value(s) left out, on warninglists"), std::string::npos) << r.err;

  // Matching: a connection to 8.8.8.8 is suppressed, one to 198.51.100.9 is reported.
  auto conn = tmp_.path() / "conn.log";
  Write(
      conn,
      R"({"ts":1717200000.0,"uid":"C1","id.orig_h":"192.0.2.5","id.orig_p":5000,"id.resp_h":"8.8.8.8","id.resp_p":53,"proto":"udp"})"
      "\n"
      R"({"ts":1717200001.0,"uid":"C2","id.orig_h":"192.0.2.5","id.orig_p":5001,"id.resp_h":"198.51.100.9","id.resp_p":443,"proto":"tcp"})"
      "\n");
  r = Run("match " + ShellQuote(conn.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string l;
  size_t n = 0;
  while (std::getline(lines, l)) {
    if (l.empty()) continue;
    ++n;
    EXPECT_NE(l.find("198.51.100.9"), std::string::npos) << l;
  }
  EXPECT_EQ(n, 1u) << r.out;
  EXPECT_NE(r.err.find("1 match(es) suppressed: values on warninglists (" +
                       names_["public-dns-v4"] + ": 1)"),
            std::string::npos)
      << r.err;

  // --on-warninglist drop: listed values are not stored at all.
  auto feed2 = tmp_.path() / "feed2.txt";
  Write(feed2, "8.8.4.4\n192.168.7.7\n203.0.113.77\n");
  r = Run("import --format list --on-warninglist drop " + ShellQuote(feed2.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 indicator(s) on warninglists dropped"), std::string::npos) << r.out;
  ind = Indicators();
  EXPECT_EQ(ind.count("[ipv4-addr:value = '8.8.4.4']"), 0u);
  EXPECT_EQ(ind.count("[ipv4-addr:value = '192.168.7.7']"), 0u);
  EXPECT_EQ(ind.count("[ipv4-addr:value = '203.0.113.77']"), 1u);
}

std::string Indicator(const std::string& id, const std::string& modified,
                      const std::string& pattern, const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":")" + modified + R"(","pattern":")" +
         pattern + R"(","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z")" + extra + "}";
}

TEST_F(FormatsCli, OnlyActiveIndicatorsAreExportedAndWatchKeepsFilesCurrent) {
  const std::string live = "indicator--11111111-1111-4111-8111-111111111111";
  const std::string expired = "indicator--22222222-2222-4222-8222-222222222222";
  const std::string revoked = "indicator--33333333-3333-4333-8333-333333333333";
  auto in = tmp_.path() / "ind.jsonl";
  Write(
      in,
      Indicator(live, "2024-01-01T00:00:00.000Z", "[domain-name:value = 'live.example.com']") +
          "\n" +
          Indicator(expired, "2024-01-01T00:00:00.000Z", "[domain-name:value = 'old.example.com']",
                    R"(,"valid_until":"2024-06-01T00:00:00Z")") +
          "\n" +
          Indicator(revoked, "2024-01-01T00:00:00.000Z",
                    "[domain-name:value = 'gone.example.com']") +
          "\n" +
          Indicator(revoked, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'gone.example.com']",
                    R"(,"revoked":true)") +
          "\n");
  ASSERT_EQ(Run("import -q " + ShellQuote(in.string())).exit_code, 0);
  auto lists = tmp_.path() / "lists";
  auto r = Run("export --format list --out " + ShellQuote(lists.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Slurp(lists / "domain.txt"), "live.example.com\n");

  // --watch: a new indicator appears in the file; revoking it takes it out again.
  auto watched = tmp_.path() / "watched";
  std::string cmd = Accord() + " export --format list --watch " + ShellQuote(watched.string()) +
                    " --interval 0.2 --data " + ShellQuote(data_) + " 2>" +
                    ShellQuote((tmp_.path() / "watch.err").string()) + " & echo $!";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char pid_buf[32] = {};
  ASSERT_NE(fgets(pid_buf, sizeof pid_buf, p), nullptr);
  pclose(p);
  const int pid = std::atoi(pid_buf);
  auto wait_for = [&](const std::string& want) {
    for (int i = 0; i < 300; ++i) {
      if (Slurp(watched / "domain.txt") == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  EXPECT_TRUE(wait_for("live.example.com\n")) << Slurp(watched / "domain.txt");
  const std::string added = "indicator--44444444-4444-4444-8444-444444444444";
  Write(in,
        Indicator(added, "2024-01-01T00:00:00.000Z", "[domain-name:value = 'new.example.com']") +
            "\n");
  ASSERT_EQ(Run("import -q " + ShellQuote(in.string())).exit_code, 0);
  EXPECT_TRUE(wait_for("live.example.com\nnew.example.com\n")) << Slurp(watched / "domain.txt");
  Write(in, Indicator(added, "2024-03-01T00:00:00.000Z", "[domain-name:value = 'new.example.com']",
                      R"(,"revoked":true)") +
                "\n");
  ASSERT_EQ(Run("import -q " + ShellQuote(in.string())).exit_code, 0);
  EXPECT_TRUE(wait_for("live.example.com\n")) << Slurp(watched / "domain.txt");
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(kill(pid, 0), 0) << "export --watch did not stop on SIGTERM";
  // No temporary file is left beside the exported ones (each write was a rename).
  for (const auto& e : std::filesystem::directory_iterator(watched)) {
    EXPECT_EQ(e.path().extension(), ".txt") << e.path();
  }
}

}  // namespace
}  // namespace accord::testing
