// Issue 11, fast start: `accord match` keeps the active indicators in <data>/cache and reads
// them from there while the store's indicator generation, the collections read and the clock
// window are unchanged (sightings written meanwhile do not count). Each run's standard error says
// where they came from; the matches must be the same as from the store, a change in the store is
// seen at once, and an indicator that becomes valid later is picked up when its valid_from passes.
#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "gtest/gtest.h"

namespace accord::testing {
namespace {

std::string Indicator(char n, const std::string& ip, const std::string& valid_from) {
  nlohmann::json j = {{"type", "indicator"},
                      {"spec_version", "2.1"},
                      {"id", std::string("indicator--00000000-0000-4000-8000-00000000000") + n},
                      {"created", "2024-01-01T00:00:00.000Z"},
                      {"modified", "2024-01-01T00:00:00.000Z"},
                      {"pattern", "[ipv4-addr:value = '" + ip + "']"},
                      {"pattern_type", "stix"},
                      {"valid_from", valid_from}};
  return j.dump() + "\n";
}

std::string Iso(std::time_t t) {
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return b;
}

TEST(MatchCacheTest, CacheHitsUntilTheStoreOrTheClockChangesIt) {
  TempDir tmp("match-cache");
  const std::string data = ShellQuote((tmp.path() / "store").string());
  const auto log = tmp.path() / "conn.log";
  {
    std::ofstream out(log);
    out << "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n"
        << "#types\ttime\tstring\taddr\tport\taddr\tport\n";
    int k = 0;
    for (const char* ip : {"198.51.100.1", "198.51.100.2", "198.51.100.3"}) {
      out << 1700000000 + k++ << ".0\tC1\t10.0.0.1\t1000\t" << ip << "\t443\n";
    }
  }
  auto import = [&](const std::string& text) {
    std::ofstream(tmp.path() / "in.jsonl") << text;
    return RunCmd(Accord() + " import --data " + data + " " +
                      ShellQuote((tmp.path() / "in.jsonl").string()),
                  tmp.path())
        .exit_code;
  };
  auto match = [&](const std::string& extra = "") {
    return RunCmd(Accord() + " match --data " + data + " --input-format zeek " + extra + " " +
                      ShellQuote(log.string()),
                  tmp.path());
  };
  auto count = [](const std::string& out, char n) {
    std::string id = std::string("indicator--00000000-0000-4000-8000-00000000000") + n;
    size_t c = 0;
    for (size_t p = out.find(id); p != std::string::npos; p = out.find(id, p + 1)) ++c;
    return c;
  };
  ASSERT_EQ(import(Indicator('a', "198.51.100.1", "2024-01-01T00:00:00Z")), 0);
  RunResult first = match();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("from the store"), std::string::npos) << first.err;
  EXPECT_EQ(count(first.out, 'a'), 1u);
  RunResult second = match();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("from the start-up cache"), std::string::npos) << second.err;
  EXPECT_EQ(second.out, first.out);
  // A re-import of the same indicator changes no row: still a hit.
  ASSERT_EQ(import(Indicator('a', "198.51.100.1", "2024-01-01T00:00:00Z")), 0);
  EXPECT_NE(match().err.find("from the start-up cache"), std::string::npos);
  // Sightings written by a run change the store but not its indicators (issue 17): still a
  // hit.
  RunResult sighted = match("--sightings");
  ASSERT_EQ(sighted.exit_code, 0) << sighted.err;
  EXPECT_NE(sighted.err.find("1 sightings written"), std::string::npos) << sighted.err;
  EXPECT_NE(match().err.find("from the start-up cache"), std::string::npos);
  // A new indicator: the generation moved, the cache is read again from the store.
  ASSERT_EQ(import(Indicator('b', "198.51.100.2", "2024-01-01T00:00:00Z")), 0);
  RunResult third = match();
  EXPECT_NE(third.err.find("from the store"), std::string::npos) << third.err;
  EXPECT_EQ(count(third.out, 'a'), 1u);
  EXPECT_EQ(count(third.out, 'b'), 1u);
  EXPECT_NE(match("--no-cache").err.find("from the store"), std::string::npos);
  // An indicator valid from 15 s on (two runs fit before, even under load): inactive now, and the
  // cache expires when it starts.
  ASSERT_EQ(import(Indicator('c', "198.51.100.3", Iso(std::time(nullptr) + 15))), 0);
  RunResult before = match();
  EXPECT_EQ(count(before.out, 'c'), 0u) << before.err;
  EXPECT_NE(match().err.find("from the start-up cache"), std::string::npos);
  RunResult later;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    later = match();
  } while (count(later.out, 'c') == 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(count(later.out, 'c'), 1u) << later.err;
  EXPECT_EQ(count(later.out, 'a'), 1u);
}

}  // namespace
}  // namespace accord::testing
