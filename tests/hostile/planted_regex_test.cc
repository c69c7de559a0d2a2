// Issue 10, item 4: a planted regular expression cannot stall matching. The issue's indicator
// [domain-name:value MATCHES '(?=(\\w+\\.?)+!)'] passed `accord pattern check` and ingest; its
// lookahead defeats Vectorscan, and PCRE2 backtracks exponentially on every domain name (685k
// events/s fell to 86). Now: the checker refuses lookaround and backreferences unless
// `[pattern] allow_backtracking_regex` in <data>/accord.toml names the collection; and where it
// is allowed, `accord match` bounds it (PCRE2 limits), disables it after repeated limit hits,
// names it on stderr, and keeps matching the other indicators. Real processes throughout.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

// The issue's pattern, as a STIX pattern (string literals escape '\' as "\\").
constexpr const char* kPlanted = R"([domain-name:value MATCHES '(?=(\\w+\\.?)+!)'])";
constexpr const char* kPlantedId = "indicator--5e1f0c6a-8b7d-4a2e-9c3f-1d2e3f4a5b6c";
constexpr const char* kDomainId = "indicator--6f2a1d7b-9c8e-4b3f-8d4a-2e3f4a5b6c7d";
constexpr const char* kIpId = "indicator--7a3b2e8c-0d9f-4c4a-9e5b-3f4a5b6c7d8e";

// An indicator with `pattern` as one JSON line (the pattern is JSON-escaped here).
std::string Indicator(const std::string& id, const std::string& pattern) {
  nlohmann::json j = {{"type", "indicator"},
                      {"spec_version", "2.1"},
                      {"id", id},
                      {"created", "2020-01-01T00:00:00.000Z"},
                      {"modified", "2020-01-01T00:00:00.000Z"},
                      {"pattern", pattern},
                      {"pattern_type", "stix"},
                      {"valid_from", "2020-01-01T00:00:00Z"}};
  return j.dump();
}

class PlantedRegex : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = Accord("init");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  RunResult Accord(const std::string& args) {
    return RunCmd(testing::Accord() + " --data " + ShellQuote(data_) + " " + args, dir_.path());
  }

  // Imports `content` (written to a file) into `collection`.
  RunResult Import(const std::string& content, const std::string& collection) {
    auto f = dir_.path() / "in.jsonl";
    std::ofstream(f) << content;
    return Accord("import --collection " + collection + " " + ShellQuote(f.string()));
  }

  void AllowIn(const std::string& collections_toml) {
    std::ofstream(std::filesystem::path(data_) / "accord.toml")
        << "[pattern]\nallow_backtracking_regex = " << collections_toml << "\n";
  }

  TempDir dir_{"planted-regex"};
  std::string data_ = (dir_.path() / "data").string();
};

TEST_F(PlantedRegex, PatternCheckRefusesLookaheadNamingIt) {
  RunResult r = RunCmd(testing::Accord() + " pattern check " + ShellQuote(kPlanted), dir_.path());
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE((r.out + r.err).find("lookahead '(?='"), std::string::npos) << r.out << r.err;
  // A backreference is refused the same way.
  r = RunCmd(testing::Accord() + " pattern check " +
                 ShellQuote(R"([domain-name:value MATCHES '^(a+)+\\1$'])"),
             dir_.path());
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE((r.out + r.err).find("backreference '\\1'"), std::string::npos) << r.out << r.err;
}

TEST_F(PlantedRegex, ImportRefusesItByDefault) {
  RunResult r = Import(Indicator(kPlantedId, kPlanted) + "\n", "feed");
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(kPlantedId), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lookahead '(?='"), std::string::npos) << r.err;
  EXPECT_EQ(Accord("get " + std::string(kPlantedId)).out.find(kPlantedId), std::string::npos);
}

TEST_F(PlantedRegex, ImportAllowsItOnlyInTheCollectionsTheConfigNames) {
  AllowIn(R"(["risky"])");
  RunResult r = Import(Indicator(kPlantedId, kPlanted) + "\n", "feed");
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("lookahead"), std::string::npos) << r.err;
  r = Import(Indicator(kPlantedId, kPlanted) + "\n", "risky");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(Accord("get " + std::string(kPlantedId)).out.find(kPlantedId), std::string::npos);
}

TEST_F(PlantedRegex, BadConfigIsAnErrorNamingTheFile) {
  AllowIn("\"risky\"");  // a string, not a list
  RunResult r = Import(Indicator(kDomainId, "[domain-name:value = 'evil.example']") + "\n", "x");
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("accord.toml"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("allow_backtracking_regex"), std::string::npos) << r.err;
}

TEST_F(PlantedRegex, PlantedIndicatorIsDisabledByNameAndOthersStillMatch) {
  AllowIn(R"(["risky"])");
  ASSERT_EQ(Import(Indicator(kPlantedId, kPlanted) + "\n", "risky").exit_code, 0);
  RunResult r = Import(Indicator(kDomainId, "[domain-name:value = 'evil.example']") + "\n" +
                           Indicator(kIpId, "[ipv4-addr:value = '198.51.100.7']") + "\n",
                       "feed");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 300 DNS events whose names make the lookahead backtrack exponentially (a long word and
  // no '!'), then one event for each clean indicator. Each hostile name hits the PCRE2 limit
  // once; the default regex_disable_after is 100.
  std::ofstream eve(dir_.path() / "eve.json");
  auto line = [&](int sec, const std::string& src, const std::string& rrname) {
    char ts[64];
    std::snprintf(ts, sizeof ts, "2024-01-01T00:%02d:%02d.000000+0000", sec / 60, sec % 60);
    eve << R"({"timestamp":")" << ts << R"(","event_type":"dns","src_ip":")" << src
        << R"(","dest_ip":"10.0.0.53","dns":{"rrname":")" << rrname << "\"}}\n";
  };
  for (int i = 0; i < 300; ++i)
    line(i % 3000, "10.0.0.1", std::string(40, 'a') + std::to_string(i));
  line(3000 % 3600, "10.0.0.2", "evil.example");
  line(3001 % 3600, "198.51.100.7", "benign.example");
  eve.close();
  r = Accord("match --input-format suricata " + ShellQuote((dir_.path() / "eve.json").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The warning names the disabled indicator by id and pattern, and counts the limit hits.
  size_t w = r.err.find("disabled");
  ASSERT_NE(w, std::string::npos) << r.err;
  std::string warning = r.err.substr(r.err.rfind('\n', w) + 1);
  warning = warning.substr(0, warning.find('\n'));
  EXPECT_NE(warning.find(kPlantedId), std::string::npos) << warning;
  EXPECT_NE(warning.find("(?=(\\\\w+\\\\.?)+!)"), std::string::npos) << warning;
  EXPECT_NE(r.err.find("regex limit hits"), std::string::npos) << r.err;
  // The other indicators still matched, each on its own event, and the planted one never did.
  std::set<std::string> matched;
  std::istringstream out(r.out);
  std::string l;
  while (std::getline(out, l)) {
    auto m = nlohmann::json::parse(l, nullptr, false);
    if (m.is_object()) matched.insert(m.value("indicator", ""));
  }
  EXPECT_EQ(matched, (std::set<std::string>{kDomainId, kIpId})) << r.out;
}

// The same policy holds for a TAXII POST: the checker refuses the planted pattern in a
// collection the config does not name (a failure in the status, nothing stored), and accepts
// it in one it names.
TEST_F(PlantedRegex, TaxiiPostFollowsTheSamePolicy) {
  AllowIn(R"(["risky"])");
  std::map<std::string, std::string> id;  // alias -> the TAXII collection id
  for (const char* c : {"feed", "risky"}) {
    RunResult r = Accord(std::string("collection create ") + c);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    id[c] = r.out.substr(0, r.out.find('\n'));
  }
  ServerProcess server;
  ASSERT_TRUE(server.Start(data_));
  auto post = [&](const std::string& collection) {
    std::ofstream(dir_.path() / "post.json")
        << R"({"objects":[)" << Indicator(kPlantedId, kPlanted) << "]}";
    RunResult r =
        RunCmd("curl -s -u admin:" + server.admin_key() +
                   " -H 'Accept: application/taxii+json;version=2.1'"
                   " -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @" +
                   ShellQuote((dir_.path() / "post.json").string()) +
                   " http://127.0.0.1:" + std::to_string(server.port()) + "/api/collections/" +
                   id[collection] + "/objects/",
               dir_.path());
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  nlohmann::json refused = post("feed");
  ASSERT_TRUE(refused.is_object()) << refused;
  EXPECT_EQ(refused.value("failure_count", -1), 1) << refused;
  ASSERT_TRUE(refused["failures"].is_array() && !refused["failures"].empty()) << refused;
  EXPECT_NE(refused["failures"][0].value("message", "").find("lookahead '(?='"), std::string::npos)
      << refused;
  nlohmann::json accepted = post("risky");
  ASSERT_TRUE(accepted.is_object()) << accepted;
  EXPECT_EQ(accepted.value("success_count", -1), 1) << accepted;
  EXPECT_EQ(accepted.value("failure_count", -1), 0) << accepted;
}

}  // namespace
}  // namespace accord::testing
