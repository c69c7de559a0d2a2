// `accord match` reads telemetry time right (issue 11): Suricata EVE timestamps with any UTC
// offset are converted to the same instant, an unreadable or missing timestamp makes its line
// malformed (file:line on stderr, counted) instead of an event at 1970, and a FOLLOWEDBY ...
// WITHIN pattern compares real instants, not the wall-clock digits as written.
// Expected instants are computed by hand in the comments, not taken from the program.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "match/match_test_util.h"

namespace accord::testing {
namespace {

// A Suricata DNS event for `rrname` at `ts` (the timestamp member left out when empty).
std::string Dns(const std::string& ts, const std::string& rrname) {
  nlohmann::json j = {{"event_type", "dns"},
                      {"src_ip", "10.0.0.1"},
                      {"dest_ip", "10.0.0.53"},
                      {"dns", {{"rrname", rrname}}}};
  if (!ts.empty()) j["timestamp"] = ts;
  return j.dump() + "\n";
}

std::vector<nlohmann::json> Lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

class MatchTelemetryTest : public ::testing::Test {
 protected:
  // Imports `indicators` (JSON lines) into `collection` ("" for the default one).
  void Import(const std::string& indicators, const std::string& collection = "") {
    std::ofstream(tmp_.path() / "ind.jsonl") << indicators;
    RunResult imp = RunCmd(Accord() + " import --data " + data() +
                               (collection.empty() ? "" : " --collection " + collection) + " " +
                               ShellQuote((tmp_.path() / "ind.jsonl").string()),
                           tmp_.path());
    EXPECT_EQ(imp.exit_code, 0) << imp.err;
  }
  // Writes `events` to eve.json and matches it.
  RunResult MatchEve(const std::string& events) {
    std::ofstream(eve()) << events;
    return RunCmd(
        Accord() + " match --data " + data() + " --input-format suricata " + ShellQuote(eve()),
        tmp_.path());
  }
  RunResult Match(const std::string& indicators, const std::string& events) {
    Import(indicators);
    return MatchEve(events);
  }
  std::string data() const { return ShellQuote((tmp_.path() / "store").string()); }
  std::string eve() const { return (tmp_.path() / "eve.json").string(); }
  TempDir tmp_{"match-telemetry"};
};

TEST_F(MatchTelemetryTest, SuricataOffsetsGiveOneInstantAndBadTimestampsAreMalformed) {
  // 2018-03-24T14:37:19.037299-06:00 is 20:37:19.037299 UTC (local + 6 h); the same instant is
  // 2018-03-25T02:07:19.037299 at +05:30 (20:37:19 + 5:30 = 26:07:19, the next day).
  const std::string kInstant = "2018-03-24T20:37:19.037299Z";
  std::string events = Dns("2018-03-24T14:37:19.037299-0600", "evil.example") +     // line 1
                       Dns("2018-03-25T02:07:19.037299+0530", "evil.example") +     // line 2
                       Dns("2018-03-24T20:37:19.037299Z", "evil.example") +         // line 3
                       Dns("2018-03-24T14:37:19.037299 CST", "evil.example") +      // line 4
                       Dns("", "evil.example") +                                    // line 5
                       Dns("2018-03-24T14:37:19.037299+05:30:00", "evil.example");  // line 6
  RunResult r = Match(Indicator(1, "[domain-name:value = 'evil.example']"), events);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // malformed lines make the exit status 1
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out << r.err;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["events"], nlohmann::json::array({i + 1})) << lines[i];
    EXPECT_EQ(lines[i]["time"], kInstant) << lines[i];
  }
  for (int bad : {4, 5, 6}) {
    EXPECT_NE(r.err.find(eve() + ":" + std::to_string(bad) + ": malformed"), std::string::npos)
        << bad << "\n"
        << r.err;
  }
  EXPECT_NE(r.err.find("timestamp"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 events read, 3 malformed, 3 matched"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("1970-01-01"), std::string::npos) << r.err;
}

TEST_F(MatchTelemetryTest, FollowedByWithinComparesRealInstants) {
  // Pair A: a at 14:37:19-06:00 = 20:37:19Z; b at 02:37:19+05:30 (next day) = 21:07:19Z, 30 min
  // later. Read without offsets they are 12 h apart (14:37 on the 24th, 02:37 on the 25th), so
  // only converted times match WITHIN 3600 SECONDS.
  // Pair B: c at 14:37:19-06:00 = 20:37:19Z; d at 15:07:19+05:30 = 09:37:19Z, 11 h before c.
  // Read without offsets d comes 30 min after c; converted, d precedes c: no FOLLOWEDBY match.
  std::string indicators =
      Indicator(1,
                "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example'] "
                "WITHIN 3600 SECONDS") +
      Indicator(2,
                "[domain-name:value = 'c.example'] FOLLOWEDBY [domain-name:value = 'd.example'] "
                "WITHIN 3600 SECONDS");
  std::string events = Dns("2018-03-24T14:37:19-0600", "a.example") +  // line 1
                       Dns("2018-03-24T14:37:19-0600", "c.example") +  // line 2
                       Dns("2018-03-24T15:07:19+0530", "d.example") +  // line 3
                       Dns("2018-03-25T02:37:19+0530", "b.example");   // line 4
  RunResult r = Match(indicators, events);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out << r.err;
  EXPECT_EQ(lines[0]["indicator"], "indicator--00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(lines[0]["events"], nlohmann::json::array({1, 4}));
  EXPECT_EQ(lines[0]["time"], "2018-03-24T21:07:19.000000Z");
}

TEST_F(MatchTelemetryTest, MatchLineNamesTheIndicatorAndItsCollections) {
  auto create = [&](const std::string& alias, const std::string& title) {
    RunResult r = RunCmd(Accord() + " collection create --data " + data() + " " + alias +
                             " --title " + ShellQuote(title),
                         tmp_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  const std::string alpha = create("alpha", "Alpha feed"), beta = create("beta", "Beta feed");
  ASSERT_FALSE(alpha.empty());
  ASSERT_FALSE(beta.empty());
  // One version of a named indicator in both collections, an unnamed one in beta only.
  nlohmann::json named =
      nlohmann::json::parse(Indicator(1, "[domain-name:value = 'evil.example']"));
  named["name"] = "Evil domain";
  Import(named.dump() + "\n", "alpha");
  Import(named.dump() + "\n", "beta");
  Import(Indicator(2, "[domain-name:value = 'other.example']"), "beta");
  // Indicator 3: an older version in beta, a newer one (renamed) in alpha. Alpha's is the
  // newest, so alpha is where it comes from, under the new name, though beta is read first.
  nlohmann::json v1 = nlohmann::json::parse(Indicator(3, "[domain-name:value = 'third.example']"));
  v1["name"] = "Old name";
  nlohmann::json v2 = v1;
  v2["modified"] = "2024-02-01T00:00:00.000Z";
  v2["name"] = "New name";
  Import(v1.dump() + "\n", "beta");
  Import(v2.dump() + "\n", "alpha");
  // [match] reads beta first, so beta is where the named indicator comes from; alpha also
  // holds that version.
  std::ofstream(tmp_.path() / "store" / "accord.toml")
      << "[match]\ncollections = [\"beta\", \"alpha\"]\n";
  const std::string events = Dns("2018-03-24T20:37:19Z", "evil.example") +
                             Dns("2018-03-24T20:37:20Z", "other.example") +
                             Dns("2018-03-24T20:37:21Z", "third.example");
  RunResult r = MatchEve(events);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The second run starts from the start-up cache: names and collections come from it.
  RunResult warm = MatchEve(events);
  EXPECT_EQ(warm.exit_code, 0) << warm.err;
  EXPECT_NE(warm.err.find("from the start-up cache"), std::string::npos) << warm.err;
  EXPECT_EQ(warm.out, r.out);
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out << r.err;
  const nlohmann::json beta_json = {{"id", beta}, {"alias", "beta"}, {"title", "Beta feed"}};
  const nlohmann::json alpha_json = {{"id", alpha}, {"alias", "alpha"}, {"title", "Alpha feed"}};
  const nlohmann::json& a = lines[0];
  EXPECT_EQ(a["indicator"], "indicator--00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(a["name"], "Evil domain");
  EXPECT_EQ(a["collection"], beta_json);
  EXPECT_EQ(a["also_in"], nlohmann::json::array({alpha_json}));
  // The fields a line had before are all still there.
  EXPECT_EQ(a["events"], nlohmann::json::array({1}));
  EXPECT_EQ(a["values"], nlohmann::json::array({"evil.example"}));
  EXPECT_EQ(a["input"], eve());
  EXPECT_EQ(a["time"], "2018-03-24T20:37:19.000000Z");
  const nlohmann::json& b = lines[1];
  EXPECT_EQ(b["indicator"], "indicator--00000000-0000-4000-8000-000000000002");
  EXPECT_FALSE(b.contains("name")) << b;
  EXPECT_EQ(b["collection"], beta_json);
  EXPECT_FALSE(b.contains("also_in")) << b;
  const nlohmann::json& c = lines[2];
  EXPECT_EQ(c["indicator"], "indicator--00000000-0000-4000-8000-000000000003");
  EXPECT_EQ(c["name"], "New name");
  EXPECT_EQ(c["collection"], alpha_json);
  EXPECT_FALSE(c.contains("also_in")) << c;
}

}  // namespace
}  // namespace accord::testing
