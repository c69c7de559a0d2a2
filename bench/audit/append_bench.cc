// What one audit entry costs (issue 13, "Overhead"; docs/PERFORMANCE.md, "Privacy and audit"):
// building a TAXII page's entry (one [id, modified] pair per delivered version), serialising and
// hashing it, and appending it to a log in a fresh directory under /tmp (flock, the head check,
// one write, the head file). Pages of 1, 100 and 1,000 versions. And (issue 17) a page's entry
// appended to the log a PostgreSQL store keeps, from 1 and 8 threads of one process.
//
// Usage: build-rel/bench/audit/append_bench [--benchmark_repetitions=3]
//        ACCORD_BENCH_PG=postgresql://.../EMPTY_DB build-rel/bench/audit/append_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accord/audit/log.h"
#include "accord/store/store.h"

namespace {

std::vector<std::string> Ids(int64_t n) {
  std::vector<std::string> ids;
  for (int64_t i = 0; i < n; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "indicator--cd613e30-d8f1-4adf-91b7-%012lld",
                  static_cast<long long>(i));
    ids.emplace_back(buf);
  }
  return ids;
}

accord::audit::Entry Page(const std::vector<std::string>& ids) {
  accord::audit::Entry e;
  e.actor = "user:admin";
  e.action = "egress";
  e.exit = "taxii-objects";
  e.collection = "5a2f0c1e-7d3b-4f6a-9e8d-1c2b3a4f5e6d";
  e.objects.reserve(ids.size());
  for (const std::string& id : ids) e.objects.push_back(id, int64_t{1735689600000000});
  return e;
}

void BM_BuildEntry(benchmark::State& state) {
  const std::vector<std::string> ids = Ids(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(Page(ids));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildEntry)->Arg(1)->Arg(100)->Arg(1000);

void BM_Serialize(benchmark::State& state) {
  accord::audit::Entry e = Page(Ids(state.range(0)));
  e.seq = 1;
  e.time = "2026-12-04T09:00:00.000000Z";
  e.prev = accord::audit::kGenesis;
  for (auto _ : state) benchmark::DoNotOptimize(accord::audit::Serialize(&e));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(accord::audit::Serialize(&e).size()));
}
BENCHMARK(BM_Serialize)->Arg(1)->Arg(100)->Arg(1000);

void BM_Append(benchmark::State& state) {
  const std::string dir = "/tmp/accord-append-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  auto log = accord::audit::Log::Open(dir, nullptr);
  if (!log.ok()) {
    state.SkipWithError("cannot open the log");
    return;
  }
  const accord::audit::Entry e = Page(Ids(state.range(0)));
  for (auto _ : state) {
    auto seq = (*log)->Append(e);
    if (!seq.ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  log->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Append)->Arg(1)->Arg(100)->Arg(1000);

// The log of the PostgreSQL store that ACCORD_BENCH_PG names (an empty database), opened once
// for every thread; nullptr without it.
accord::audit::Log* StoreLog() {
  static std::unique_ptr<accord::store::Store> store;
  static std::unique_ptr<accord::audit::Log> log;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* url = std::getenv("ACCORD_BENCH_PG");
    if (url == nullptr || *url == '\0') return;
    accord::store::Options o;
    o.url = url;
    o.dir = "/tmp/accord-append-bench-pg-" + std::to_string(::getpid());
    auto s = accord::store::Store::Open(o);
    if (!s.ok()) {
      std::fprintf(stderr, "append_bench: %s\n", std::string(s.status().message()).c_str());
      return;
    }
    store = std::move(*s);
    auto l = accord::audit::Log::Open(o.dir, store.get());
    if (l.ok()) log = std::move(*l);
    // The data directory holds nothing once the store is closed: removed at exit, so that
    // runs do not pile up under /tmp.
    static std::string dir = o.dir;
    std::atexit([] {
      log.reset();
      store.reset();
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
  });
  return log.get();
}

// A TAXII page's entry (100 versions) appended to the store's log: one transaction per append
// alone; with 8 threads, the appends that arrive while one is in flight share the next one.
void BM_AppendToStore(benchmark::State& state) {
  accord::audit::Log* log = StoreLog();
  if (log == nullptr) {
    state.SkipWithError("ACCORD_BENCH_PG is not set");
    return;
  }
  const accord::audit::Entry e = Page(Ids(100));
  for (auto _ : state) {
    if (!log->Append(e).ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendToStore)->Threads(1)->Threads(8)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
