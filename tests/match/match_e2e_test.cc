// End to end on real data: the IPsum IPv4 reputation list (../shared/data/indicators) is
// imported as STIX indicators, the Zeek logs of a real Trickbot infection
// (../shared/data/telemetry) are matched with `accord match`, and the expected matches are
// computed here from the raw files (a set lookup per conn.log line), not by the engine.
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/paths.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

std::string Shell(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = pclose(p);
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

class MatchE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("accord-match-e2e-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::string data = accord::testing::SharedDir().string() + "/data";
    int rc;
    Shell(
        "tar -xzf " + data + "/telemetry/trickbot-2018-11-09-zeek-logs.tar.gz -C " + dir_.string(),
        &rc);
    ASSERT_EQ(rc, 0);
    Shell("tar -xzf " + data + "/indicators/ipsum.tar.gz -C " + dir_.string() + " ipsum/ipsum.txt",
          &rc);
    ASSERT_EQ(rc, 0);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(MatchE2eTest, IpsumAgainstTrickbotConnLog) {
  // Indicators: every IPsum address, one indicator each.
  std::set<std::string> bad;
  {
    std::ifstream in(dir_ / "ipsum/ipsum.txt");
    std::ofstream out(dir_ / "indicators.jsonl");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::string ip = line.substr(0, line.find('\t'));
      if (!bad.insert(ip).second) continue;
      char id[64];
      snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012x", n++);
      nlohmann::json j = {{"type", "indicator"},
                          {"spec_version", "2.1"},
                          {"id", id},
                          {"created", "2024-01-01T00:00:00.000Z"},
                          {"modified", "2024-01-01T00:00:00.000Z"},
                          {"pattern", "[ipv4-addr:value = '" + ip + "']"},
                          {"pattern_type", "stix"},
                          {"valid_from", "2024-01-01T00:00:00Z"}};
      out << j.dump() << "\n";
    }
  }
  ASSERT_GT(bad.size(), 100000u);
  std::string bin = accord::testing::AccordBinary(), data = (dir_ / "store").string();
  int rc;
  Shell(bin + " import --data " + data + " " + (dir_ / "indicators.jsonl").string() + " 2>&1", &rc);
  ASSERT_EQ(rc, 0);

  // Expected, from the raw log: data line k (1-based, headers skipped) matches when its
  // originator or responder address is listed.
  std::string conn = (dir_ / "trickbot-zeek/zeek/conn.log").string();
  std::set<uint64_t> expected;
  std::map<uint64_t, std::set<std::string>> expected_values;
  {
    std::ifstream in(conn);
    std::string line;
    std::vector<std::string> fields;
    uint64_t k = 0;
    while (std::getline(in, line)) {
      if (line.rfind("#fields", 0) == 0) {
        fields = Split(line, '\t');
        fields.erase(fields.begin());
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      ++k;
      auto v = Split(line, '\t');
      for (size_t i = 0; i < fields.size(); ++i) {
        if ((fields[i] == "id.orig_h" || fields[i] == "id.resp_h") && bad.count(v[i])) {
          expected.insert(k);
          expected_values[k].insert(v[i]);
        }
      }
    }
  }
  ASSERT_GT(expected.size(), 100u);

  std::string out = Shell(bin + " match --data " + data + " --input-format zeek " + conn + " 2>" +
                              (dir_ / "stderr.txt").string(),
                          &rc);
  ASSERT_EQ(rc, 0);
  std::set<uint64_t> got;
  std::map<uint64_t, std::set<std::string>> got_values;
  for (const std::string& line : Split(out, '\n')) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    ASSERT_EQ(j["events"].size(), 1u);
    uint64_t k = j["events"][0];
    got.insert(k);
    for (auto& v : j["values"]) got_values[k].insert(v.get<std::string>());
    EXPECT_TRUE(j["indicator"].get<std::string>().rfind("indicator--", 0) == 0);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got_values, expected_values);
  std::ifstream err(dir_ / "stderr.txt");
  std::string summary((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(summary.find("events read, 0 malformed"), std::string::npos) << summary;

  // Sightings: one per indicator per hour, written back to the store.
  Shell(bin + " match --data " + data + " --sightings " + conn + " >/dev/null 2>&1", &rc);
  ASSERT_EQ(rc, 0);
  std::string sightings =
      Shell(bin + " export --data " + data + " --collection sightings 2>&1", &rc);
  EXPECT_NE(sightings.find("\"sighting_of_ref\""), std::string::npos) << sightings.substr(0, 500);
}

TEST_F(MatchE2eTest, MalformedLinesAreCountedWithFileAndLine) {
  std::string bin = accord::testing::AccordBinary(), data = (dir_ / "store").string();
  std::string f = (dir_ / "eve.json").string();
  {
    std::ofstream out(f);
    out << R"({"timestamp":"2018-11-02T00:10:22.691351+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"8.8.8.8","dns":{"rrname":"evil.example"}})"
           "\n";
    out << "{not json\n";
    out << R"({"timestamp":"2018-11-02T00:10:23+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"8.8.8.8","dns":{"rrname":"good.example"}})"
           "\n";
  }
  {
    std::ofstream out(dir_ / "ind.json");
    out << R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})"
           "\n";
  }
  int rc;
  Shell(bin + " import --data " + data + " " + (dir_ / "ind.json").string() + " 2>&1", &rc);
  ASSERT_EQ(rc, 0);
  std::string out = Shell(bin + " match --data " + data + " --input-format suricata " + f + " 2>" +
                              (dir_ / "err.txt").string(),
                          &rc);
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  std::ifstream err(dir_ / "err.txt");
  std::string summary((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(summary.find(f + ":2: malformed"), std::string::npos) << summary;
  EXPECT_NE(summary.find("2 events read, 1 malformed, 1 matched"), std::string::npos) << summary;
  auto j = nlohmann::json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(j["events"][0], 1);
  EXPECT_EQ(j["values"][0], "evil.example");
}

}  // namespace
