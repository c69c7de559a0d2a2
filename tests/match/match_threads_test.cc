// Issue 11, differential: `accord match --threads 2` (a reader thread parses ahead of the
// matcher) gives exactly what `--threads 1` gives, byte for byte, on real Zeek data: the same
// matches, in the same order, with the same 1-based event positions. And both give what the
// test computes itself from the raw log: which events carry one of the indicator values.
//
// Data: the WRCCDC 2018 dns.log of ../shared/data (53,615 DNS events, CC-BY-SA-4.0). The
// indicators are every 25th distinct `query` value (domain-name:value), plus a temporal one
// (the two most frequent queries, FOLLOWEDBY ... WITHIN 60 SECONDS) that only the
// differential part checks, as its bindings depend on the window semantics.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "gtest/gtest.h"
#include "match/match_test_util.h"

namespace accord::testing {
namespace {

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

TEST(MatchThreadsTest, TwoThreadsGiveExactlyTheSingleThreadMatchesOnRealZeekData) {
  const auto log_gz =
      SharedDir() / "data/telemetry/zed-sample-data-wrccdc2018/zeek-default/dns.log.gz";
  ACCORD_REQUIRE_SHARED(log_gz);
  TempDir tmp("match-threads");
  const auto log = tmp.path() / "dns.log";
  ASSERT_EQ(
      std::system(
          ("gzip -dc " + ShellQuote(log_gz.string()) + " > " + ShellQuote(log.string())).c_str()),
      0);

  // The raw log, read here without Accord: each data line is one event, in order.
  std::vector<std::string> query_of;  // by 0-based event index
  {
    std::ifstream in(log);
    std::string line;
    size_t query_col = SIZE_MAX;
    while (std::getline(in, line)) {
      if (line.rfind("#fields\t", 0) == 0) {
        auto f = Split(line.substr(8), '\t');
        query_col = std::find(f.begin(), f.end(), "query") - f.begin();
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      ASSERT_NE(query_col, SIZE_MAX);
      auto f = Split(line, '\t');
      ASSERT_GT(f.size(), query_col);
      query_of.push_back(f[query_col]);
    }
  }
  ASSERT_EQ(query_of.size(), 53615u);  // MANIFEST.md: dns=53615

  // Plain indicators: every 25th distinct usable query. A value with a quote, a backslash
  // (Zeek's \x escapes) or outside printable ASCII is left out, to keep the patterns simple.
  std::map<std::string, int> freq;
  for (const auto& q : query_of) ++freq[q];
  std::vector<std::string> usable;
  for (const auto& [q, n] : freq) {
    bool ok = q != "-" && q != "(empty)" && !q.empty();
    for (unsigned char c : q) ok = ok && c > 0x20 && c < 0x7f && c != '\'' && c != '\\';
    if (ok) usable.push_back(q);
  }
  std::map<std::string, std::string> id_of_value;
  std::string indicators;
  int n = 0;
  for (size_t i = 0; i < usable.size(); i += 25) {
    indicators += Indicator(++n, "[domain-name:value = '" + usable[i] + "']");
    char id[64];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
    id_of_value[usable[i]] = id;
  }
  ASSERT_GT(id_of_value.size(), 50u);
  std::vector<std::pair<int, std::string>> by_freq;
  for (const auto& q : usable) by_freq.emplace_back(-freq[q], q);
  std::sort(by_freq.begin(), by_freq.end());
  indicators += Indicator(++n, "[domain-name:value = '" + by_freq[0].second +
                                   "'] FOLLOWEDBY [domain-name:value = '" + by_freq[1].second +
                                   "'] WITHIN 60 SECONDS");
  // What must match: event position (1-based) -> indicator, from the raw log.
  std::set<std::pair<uint64_t, std::string>> expected;
  for (size_t i = 0; i < query_of.size(); ++i) {
    auto it = id_of_value.find(query_of[i]);
    if (it != id_of_value.end()) expected.emplace(i + 1, it->second);
  }
  ASSERT_GT(expected.size(), 100u);

  { std::ofstream(tmp.path() / "ind.jsonl") << indicators; }
  const std::string data = ShellQuote((tmp.path() / "store").string());
  auto imp = RunCmd(
      Accord() + " import --data " + data + " " + ShellQuote((tmp.path() / "ind.jsonl").string()),
      tmp.path());
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  auto run = [&](int threads) {
    return RunCmd(Accord() + " match --data " + data + " --input-format zeek --threads " +
                      std::to_string(threads) + " " + ShellQuote(log.string()),
                  tmp.path());
  };
  RunResult one = run(1), two = run(2);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);  // the same lines, in the same order
  EXPECT_NE(one.err.find("53615 events read, 0 malformed"), std::string::npos) << one.err;
  EXPECT_NE(two.err.find("53615 events read, 0 malformed"), std::string::npos) << two.err;

  std::set<std::pair<uint64_t, std::string>> got;
  size_t temporal = 0;
  std::istringstream lines(two.out);
  std::string line;
  const std::string seq_id = nlohmann::json::parse(Indicator(n, "[x:y = 1]"))["id"];
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["indicator"] == seq_id) {
      ++temporal;
      ASSERT_EQ(j["events"].size(), 2u) << line;
      EXPECT_LT(j["events"][0].get<uint64_t>(), j["events"][1].get<uint64_t>()) << line;
      continue;
    }
    ASSERT_EQ(j["events"].size(), 1u) << line;
    got.emplace(j["events"][0].get<uint64_t>(), j["indicator"].get<std::string>());
  }
  EXPECT_EQ(got, expected);
  EXPECT_GT(temporal, 0u);
}

}  // namespace
}  // namespace accord::testing
