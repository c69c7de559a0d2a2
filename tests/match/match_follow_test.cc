// `accord match --follow` end to end: lines appended to a Zeek log while the command runs are
// matched, the log is rotated (renamed and recreated) and matching goes on in the new file,
// an indicator imported into the store meanwhile is picked up (store generation -> rebuild
// -> swap), and SIGTERM ends the run with its summary and the sightings written.
// Waits are bounded (polling up to kWait); nothing asserts on timing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/paths.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;
constexpr auto kWait = std::chrono::seconds(60);

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitFor(const std::function<bool()>& cond) {
  auto end = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

std::string Indicator(const std::string& id, const std::string& ip,
                      const std::string& pattern = "") {
  nlohmann::json j = {{"type", "indicator"},
                      {"spec_version", "2.1"},
                      {"id", id},
                      {"created", "2024-01-01T00:00:00.000Z"},
                      {"modified", "2024-01-01T00:00:00.000Z"},
                      {"pattern", pattern.empty() ? "[ipv4-addr:value = '" + ip + "']" : pattern},
                      {"pattern_type", "stix"},
                      {"valid_from", "2024-01-01T00:00:00Z"}};
  return j.dump() + "\n";
}

const char* kHeader =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n";

std::string ConnLine(int k, const std::string& resp) {
  return std::to_string(1700000000 + k) + ".5\tC" + std::to_string(k) + "\t10.0.0.1\t4242\t" +
         resp + "\t443\ttcp\n";
}

void Append(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::app | std::ios::binary);
  out << s;
}

// Matches (JSON lines) of indicator `id` in `out`.
int CountMatches(const std::string& out, const std::string& id) {
  int n = 0;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("indicator", "") == id) ++n;
  }
  return n;
}

TEST(MatchFollowTest, AppendRotateAndStoreChange) {
  fs::path dir = fs::temp_directory_path() / ("accord-match-follow-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string bin = accord::testing::AccordBinary(), data = (dir / "store").string();
  const std::string a = "indicator--00000000-0000-4000-8000-00000000000a";
  const std::string b = "indicator--00000000-0000-4000-8000-00000000000b";
  {
    std::ofstream(dir / "a.jsonl") << Indicator(a, "198.51.100.7");
    std::ofstream(dir / "b.jsonl") << Indicator(b, "203.0.113.9");
  }
  ASSERT_EQ(std::system((bin + " import --data " + data + " " + (dir / "a.jsonl").string() +
                         " >/dev/null 2>&1")
                            .c_str()),
            0);
  fs::path log = dir / "conn.log", out = dir / "out.jsonl", err = dir / "err.txt";
  Append(log, kHeader);
  Append(log, ConnLine(1, "192.0.2.1"));

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
    execl(bin.c_str(), bin.c_str(), "match", "--data", data.c_str(), "--input-format", "zeek",
          "--follow", "--reload-interval", "0.2", "--sightings", "--sightings-interval", "0.2",
          log.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // 1. A line appended while it runs.
  Append(log, ConnLine(2, "198.51.100.7"));
  EXPECT_TRUE(WaitFor([&] { return CountMatches(Slurp(out), a) >= 1; })) << Slurp(err);
  // 2. Rotation: the file is renamed and a new one starts.
  fs::rename(log, dir / "conn.log.1");
  Append(log, kHeader);
  Append(log, ConnLine(3, "198.51.100.7"));
  EXPECT_TRUE(WaitFor([&] { return CountMatches(Slurp(out), a) >= 2; })) << Slurp(err);
  // 3. A new indicator in the store is compiled and swapped in; then its value matches.
  ASSERT_EQ(std::system((bin + " import --data " + data + " " + (dir / "b.jsonl").string() +
                         " >/dev/null 2>&1")
                            .c_str()),
            0);
  EXPECT_TRUE(WaitFor([&] { return Slurp(err).find("store changed") != std::string::npos; }))
      << Slurp(err);
  // The swap happens between events: the next event goes through the new engine.
  Append(log, ConnLine(4, "203.0.113.9"));
  EXPECT_TRUE(WaitFor([&] { return CountMatches(Slurp(out), b) >= 1; })) << Slurp(err);
  EXPECT_EQ(CountMatches(Slurp(out), a), 2);

  kill(pid, SIGTERM);
  Append(log, ConnLine(5, "192.0.2.1"));  // wakes the reader
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::string e = Slurp(err);
  EXPECT_TRUE(WIFEXITED(status)) << e;
  EXPECT_NE(e.find("events read"), std::string::npos) << e;
  EXPECT_NE(e.find("sightings written"), std::string::npos) << e;
  EXPECT_EQ(e.find("0 sightings written"), std::string::npos) << e;
  fs::remove_all(dir);
}

// Issue 11: a store change recompiles the engine, and the temporal windows are carried over
// to it (by indicator id and version), so a FOLLOWEDBY ... WITHIN whose two events arrive on
// either side of an import still matches. The first event is known to be processed before
// the import because a plain indicator on the same value reports it.
TEST(MatchFollowTest, TemporalWindowSurvivesAnImport) {
  fs::path dir = fs::temp_directory_path() / ("accord-match-window-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string bin = accord::testing::AccordBinary(), data = (dir / "store").string();
  const std::string seq = "indicator--00000000-0000-4000-8000-0000000000c1";
  const std::string first = "indicator--00000000-0000-4000-8000-0000000000c2";
  const std::string later = "indicator--00000000-0000-4000-8000-0000000000c3";
  {
    std::ofstream(dir / "a.jsonl")
        << Indicator(seq, "",
                     "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY "
                     "[ipv4-addr:value = '203.0.113.9'] WITHIN 300 SECONDS")
        << Indicator(first, "198.51.100.7");
    std::ofstream(dir / "b.jsonl") << Indicator(later, "192.0.2.200");
  }
  auto import = [&](const char* file) {
    return std::system(
        (bin + " import --data " + data + " " + (dir / file).string() + " >/dev/null 2>&1")
            .c_str());
  };
  ASSERT_EQ(import("a.jsonl"), 0);
  fs::path log = dir / "conn.log", out = dir / "out.jsonl", err = dir / "err.txt";
  Append(log, kHeader);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
    execl(bin.c_str(), bin.c_str(), "match", "--data", data.c_str(), "--input-format", "zeek",
          "--follow", "--reload-interval", "0.2", log.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  Append(log, ConnLine(1, "198.51.100.7"));  // event 1: the first half of `seq`
  EXPECT_TRUE(WaitFor([&] { return CountMatches(Slurp(out), first) == 1; })) << Slurp(err);
  ASSERT_EQ(import("b.jsonl"), 0);  // a real change: the engine is rebuilt
  EXPECT_TRUE(WaitFor([&] { return Slurp(err).find("store changed") != std::string::npos; }))
      << Slurp(err);
  Append(log, ConnLine(61, "203.0.113.9"));  // event 2, 60 s later: the second half
  EXPECT_TRUE(WaitFor([&] { return CountMatches(Slurp(out), seq) == 1; })) << Slurp(err);
  kill(pid, SIGTERM);
  Append(log, ConnLine(62, "192.0.2.1"));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  // The match binds both events, by their 1-based positions in the stream.
  std::istringstream lines(Slurp(out));
  std::string line;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.value("indicator", "") != seq) continue;
    EXPECT_EQ(j["events"], nlohmann::json::array({1, 2})) << line;
  }
  fs::remove_all(dir);
}

}  // namespace
