// What a role's redaction profile costs per object read (issue 13, "Overhead", rules full;
// docs/PERFORMANCE.md): Redactor::Redact, with its precheck, on the objects and the profile of
// `bench/audit/taxii_overhead.sh` with RULES=full (profile `partners` of
// bench/audit/rules-full/accord.toml, which leaves them unchanged; indicators of one IPv4
// address each, as bench/taxii/gen.py writes them), read as the gate reads them (stored JSON
// objects, Redactor::Input::kObject).
//
// Usage: build-rel/bench/audit/redact_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "accord/policy/redaction.h"

namespace {

// bench/taxii/gen.py's indicators: the same members, in the same order.
std::vector<std::string> Indicators(int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    char buf[512];
    std::snprintf(
        buf, sizeof buf,
        R"({"type":"indicator","spec_version":"2.1","id":"indicator--cd613e30-d8f1-4adf-91b7-%012d",)"
        R"("created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",)"
        R"("name":"bench %d","indicator_types":["malicious-activity"],)"
        R"("pattern":"[ipv4-addr:value = '%d.%d.%d.%d']","pattern_type":"stix",)"
        R"("valid_from":"2025-01-01T00:00:00Z","labels":["benchmark"]})",
        i, i, 10 + i % 200, (i >> 16) & 255, (i >> 8) & 255, i & 255);
    out.emplace_back(buf);
  }
  return out;
}

const std::shared_ptr<const accord::policy::Redactor>& Partners() {
  static const std::shared_ptr<const accord::policy::Redactor> r = [] {
    auto config = accord::policy::LoadRedactionConfig(ACCORD_BENCH_RULES_FULL_DIR);
    if (!config.ok()) std::abort();
    auto made = accord::policy::Redactor::Create(config->profiles.at("partners"));
    if (!made.ok()) std::abort();
    return *made;
  }();
  return r;
}

void BM_RedactUnchangedIndicator(benchmark::State& state) {
  const std::vector<std::string> objects = Indicators(1000);
  const auto& r = Partners();
  const accord::policy::Redactor::Lookup lookup;
  size_t i = 0, unchanged = 0;
  for (auto _ : state) {
    auto res = r->Redact(objects[i], lookup, accord::policy::Redactor::Input::kObject);
    unchanged += res.kind == accord::policy::Redactor::Result::Kind::kUnchanged;
    if (++i == objects.size()) i = 0;
  }
  if (unchanged != static_cast<size_t>(state.iterations())) state.SkipWithError("changed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedactUnchangedIndicator);

}  // namespace

BENCHMARK_MAIN();
