// Issue 17: matching workers on NATS JetStream. Three `accord match --from nats://...` workers
// of one consumer group on one PostgreSQL store, fed by `accord ingest --to nats://...` with a
// real Zeek log (WRCCDC 2018 dns.log from ../shared/data):
// - every event counts exactly once: each indicator's sighting counts (the workers' durable
//   effect) equal the match lines of a single-process `accord match` on the same file, run in
//   this test;
// - a worker SIGKILLed mid-stream loses nothing and nothing is counted twice: its
//   unacknowledged messages go to the other workers (redeliveries are seen), and the ledger
//   records each (event, indicator) once;
// - an indicator added mid-stream is picked up by every worker without a restart: it matches
//   in the events published after every worker reloaded, and in none before.
// Needs ACCORD_TEST_PG and ACCORD_TEST_NATS (scripts/test.sh starts both servers; without them
// the test skips, and a skipped test fails the run under CI=true).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "accord/store/store.h"
#include "common/pg_test_db.h"
#include "common/test_util.h"

extern char** environ;

namespace accord::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int kWorkers = 3;

// A background `accord` process with its output in files.
struct Proc {
  pid_t pid = -1;
  fs::path out, err;
  bool Start(const std::vector<std::string>& args, const fs::path& dir, const std::string& name) {
    out = dir / (name + ".out");
    err = dir / (name + ".err");
    std::vector<std::string> argv = {AccordBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0;
  }
  // Exit code, or -signal.
  int Wait() {
    int st = 0;
    if (pid <= 0 || waitpid(pid, &st, 0) != pid) return -1000;
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  }
  void Signal(int sig) {
    if (pid > 0) kill(pid, sig);
  }
  ~Proc() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      Wait();
    }
  }
};

std::string Indicator(int n, const std::string& domain) {
  char id[80];
  std::snprintf(id, sizeof id, "indicator--7e0a0000-0000-4000-8000-%012d", n);
  json j = {{"type", "indicator"},
            {"spec_version", "2.1"},
            {"id", id},
            {"created", "2024-01-01T00:00:00.000Z"},
            {"modified", "2024-01-01T00:00:00.000Z"},
            {"pattern", "[domain-name:value = '" + domain + "']"},
            {"pattern_type", "stix"},
            {"valid_from", "2000-01-01T00:00:00Z"}};
  return j.dump();
}

std::string IdOf(const std::string& indicator) { return json::parse(indicator)["id"]; }

// Match lines per indicator, from `accord match` output.
std::map<std::string, uint64_t> CountLines(const std::string& out) {
  std::map<std::string, uint64_t> n;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++n[json::parse(line)["indicator"].get<std::string>()];
  }
  return n;
}

class StreamWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* nats = std::getenv("ACCORD_TEST_NATS");
    if (!db_.available() || nats == nullptr || *nats == '\0') {
      GTEST_SKIP() << "ACCORD_TEST_PG or ACCORD_TEST_NATS is not set (scripts/test.sh starts a "
                      "PostgreSQL and a NATS server)";
    }
    ACCORD_REQUIRE_SHARED(SharedDir() / kLog);
    nats_ = nats;
    absl::Status made = db_.Create();
    ASSERT_TRUE(made.ok()) << made;
    url_ = db_.url();
    stream_ = "WORKERS" + std::to_string(getpid());
    subject_ = "telemetry." + std::to_string(getpid()) + ".dns";
  }
  // `accord ARGS` with data directory `data` (and the shared store when `shared`).
  RunResult Cli(const std::string& args, const std::string& data, bool shared) {
    std::string cmd = Accord() + (shared ? " --store " + ShellQuote(url_) : std::string()) +
                      " --data " + ShellQuote((dir_.path() / data).string()) + " " + args;
    return RunCmd(cmd, dir_.path());
  }

  uint64_t LedgerCount() {
    store::Options o;
    o.url = url_;
    auto s = store::Store::Open(o);
    if (!s.ok()) return 0;
    auto n = (*s)->matches()->Count();
    return n.ok() ? *n : 0;
  }

  // Polls the ledger until it holds `n` records (or `seconds` pass); returns what it holds.
  uint64_t WaitLedger(uint64_t n, double seconds) {
    auto end = Clock::now() + std::chrono::duration<double>(seconds);
    uint64_t have = 0;
    while (Clock::now() < end) {
      have = LedgerCount();
      if (have >= n) return have;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return have;
  }

  static constexpr const char* kLog =
      "data/telemetry/zed-sample-data-wrccdc2018/zeek-default/dns.log.gz";
  TempDir dir_{"workers"};
  TestPgDatabase db_{"accord_workers"};
  std::string nats_, url_, stream_, subject_;
};

TEST_F(StreamWorkers, ThreeWorkersCountEveryEventOnceThroughAKillAndAReload) {
  // The log, split in two halves, each with the headers (as a rotated log would be).
  RunResult unz = RunCmd("gzip -dc " + ShellQuote((SharedDir() / kLog).string()), dir_.path());
  ASSERT_EQ(unz.exit_code, 0) << unz.err;
  std::vector<std::string> headers, rows;
  {
    std::istringstream in(unz.out);
    std::string line;
    while (std::getline(in, line)) (line.rfind('#', 0) == 0 ? headers : rows).push_back(line);
  }
  ASSERT_GT(rows.size(), 50000u);
  // Headers before the rows, #close after them (Zeek's layout).
  std::vector<std::string> open_headers;
  for (const auto& h : headers)
    if (h.rfind("#close", 0) != 0) open_headers.push_back(h);
  const size_t half = rows.size() / 2;
  auto write_part = [&](const fs::path& p, size_t from, size_t to) {
    std::ofstream o(p);
    for (const auto& h : open_headers) o << h << "\n";
    for (size_t i = from; i < to; ++i) o << rows[i] << "\n";
  };
  const fs::path part1 = dir_.path() / "part1.log", part2 = dir_.path() / "part2.log";
  write_part(part1, 0, half);
  write_part(part2, half, rows.size());

  // Indicators: the 15 most frequent queries of the first half and 15 of middling frequency
  // (found from the raw rows here), and one added mid-stream: a query seen in both halves.
  size_t qcol = 0;
  for (const auto& h : open_headers) {
    if (h.rfind("#fields", 0) != 0) continue;
    std::istringstream f(h);
    std::string name;
    std::vector<std::string> names;
    while (std::getline(f, name, '\t')) names.push_back(name);
    qcol = std::find(names.begin(), names.end(), "query") - names.begin() - 1;  // "#fields" first
  }
  auto query_of = [&](const std::string& row) {
    std::istringstream r(row);
    std::string v;
    for (size_t i = 0; i <= qcol && std::getline(r, v, '\t'); ++i) {
    }
    return v;
  };
  std::map<std::string, uint64_t> freq1, freq2;
  for (size_t i = 0; i < rows.size(); ++i) ++(i < half ? freq1 : freq2)[query_of(rows[i])];
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (const auto& [q, n] : freq1) {
    bool plain = !q.empty() && q != "-" && q.find_first_of("'\\ ") == std::string::npos &&
                 std::none_of(q.begin(), q.end(), [](char c) { return std::isupper(c); });
    if (plain && freq2.count(q)) ranked.emplace_back(n, q);
  }
  std::sort(ranked.rbegin(), ranked.rend());
  ASSERT_GT(ranked.size(), 60u);
  std::vector<std::string> base;
  for (size_t i = 0; i < 15; ++i) base.push_back(Indicator(static_cast<int>(i), ranked[i].second));
  for (size_t i = 0; i < 15; ++i)
    base.push_back(Indicator(static_cast<int>(15 + i), ranked[40 + i].second));
  const std::string added = Indicator(99, ranked[20].second);
  {
    std::ofstream o(dir_.path() / "base.jsonl");
    for (const auto& b : base) o << b << "\n";
    std::ofstream a(dir_.path() / "added.jsonl");
    a << added << "\n";
  }

  // The expected counts: a single-process `accord match` on each half (SQLite, this test).
  RunResult r = Cli("import " + ShellQuote((dir_.path() / "base.jsonl").string()), "single", false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult m1 = Cli("match --no-cache " + ShellQuote(part1.string()), "single", false);
  ASSERT_EQ(m1.exit_code, 0) << m1.err;
  r = Cli("import " + ShellQuote((dir_.path() / "added.jsonl").string()), "single", false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult m2 = Cli("match --no-cache " + ShellQuote(part2.string()), "single", false);
  ASSERT_EQ(m2.exit_code, 0) << m2.err;
  std::map<std::string, uint64_t> expect1 = CountLines(m1.out), expect2 = CountLines(m2.out);
  EXPECT_EQ(expect1.count(IdOf(added)), 0u);  // not yet an indicator in the first half
  ASSERT_GT(expect2[IdOf(added)], 0u);
  uint64_t total1 = 0, total2 = 0;
  std::map<std::string, uint64_t> expect;
  for (const auto& [id, n] : expect1) total1 += n, expect[id] += n;
  for (const auto& [id, n] : expect2) total2 += n, expect[id] += n;
  ASSERT_GT(total1, 1000u);

  // The cluster: the shared store gets the base indicators; the first half goes into the stream.
  r = Cli("import " + ShellQuote((dir_.path() / "base.jsonl").string()), "cli", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli("ingest --to " + nats_ + " --stream " + stream_ + " --subject " + subject_ + " " +
              ShellQuote(part1.string()),
          "cli", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(std::to_string(half) + " event(s) published"), std::string::npos) << r.err;

  Proc workers[kWorkers];
  for (int i = 0; i < kWorkers; ++i) {
    fs::path data = dir_.path() / ("worker" + std::to_string(i));
    ASSERT_TRUE(workers[i].Start(
        {"--store", url_, "--data", data.string(), "match", "--from", nats_, "--stream", stream_,
         "--subject", subject_, "--durable", "matchers", "--sightings", "--ack-wait", "2",
         "--reload-interval", "0.3", "--no-cache"},
        dir_.path(), "worker" + std::to_string(i)));
  }
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  // The first half is matched (every worker takes part: the messages are shared).
  EXPECT_EQ(WaitLedger(total1, 180), total1);
  std::cerr << "first half (" << half << " events, " << total1 << " matches) recorded after "
            << elapsed() << " s\n";

  // The indicator added mid-stream: every worker has its new program (which it takes before
  // the next event it matches) before the second half is published.
  r = Cli("import " + ShellQuote((dir_.path() / "added.jsonl").string()), "cli", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < kWorkers; ++i) {
    auto end = Clock::now() + std::chrono::seconds(60);
    while (Slurp(workers[i].err).find("31 active indicators recompiled") == std::string::npos &&
           Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_NE(Slurp(workers[i].err).find("31 active indicators recompiled"), std::string::npos)
        << "worker " << i << ": " << Slurp(workers[i].err);
  }
  Proc ingest;
  ASSERT_TRUE(ingest.Start({"--data", (dir_.path() / "cli").string(), "ingest", "--to", nats_,
                            "--stream", stream_, "--subject", subject_, part2.string()},
                           dir_.path(), "ingest2"));
  // Worker 0 is killed while the second half streams in, holding messages it has not
  // acknowledged.
  WaitLedger(total1 + total2 / 4, 120);
  workers[0].Signal(SIGKILL);
  EXPECT_EQ(workers[0].Wait(), -SIGKILL);
  EXPECT_EQ(ingest.Wait(), 0) << Slurp(ingest.err);
  EXPECT_EQ(WaitLedger(total1 + total2, 180), total1 + total2);
  std::cerr << "second half (" << rows.size() - half << " events, " << total2
            << " matches) recorded after " << elapsed() << " s\n";
  // Redeliveries of the killed worker's messages come after the ack wait (2 s): give them time
  // to arrive, then stop the survivors, which report them.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(LedgerCount(), total1 + total2);
  uint64_t redelivered = 0;
  for (int i = 1; i < kWorkers; ++i) {
    workers[i].Signal(SIGTERM);
    EXPECT_EQ(workers[i].Wait(), 0) << Slurp(workers[i].err);
    std::string err = Slurp(workers[i].err);
    size_t p = err.find(" messages (");
    ASSERT_NE(p, std::string::npos) << err;
    redelivered += std::stoull(err.substr(p + 11));
  }
  EXPECT_GT(redelivered, 0u) << "the killed worker's unacknowledged messages were not redelivered";
  // Each survivor compiled a new program once, for the added indicator: the sightings that the
  // three of them wrote all along did not make them recompile (IndicatorGeneration).
  for (int i = 1; i < kWorkers; ++i) {
    const std::string err = Slurp(workers[i].err);
    size_t recompiles = 0;
    for (size_t p = err.find("recompiled in"); p != std::string::npos;
         p = err.find("recompiled in", p + 1)) {
      ++recompiles;
    }
    EXPECT_EQ(recompiles, 1u) << "worker " << i << ": " << err;
  }

  // The durable effect: the newest version of each sighting, summed per indicator.
  r = Cli("export --collection sightings --versions last", "cli", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, uint64_t> sighted;
  const json bundle = json::parse(r.out);
  for (const json& o : bundle["objects"]) {
    if (o["type"] == "sighting") sighted[o["sighting_of_ref"]] += o["count"].get<uint64_t>();
  }
  EXPECT_EQ(sighted, expect);
}

}  // namespace
}  // namespace accord::testing
