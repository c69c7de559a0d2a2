// What a role's redaction profile costs per object read (issue 13, "Overhead", rules full;
// docs/PERFORMANCE.md): Redactor::Redact, with its precheck, on the objects and the profile of
// `bench/audit/taxii_overhead.sh` with RULES=full (profile `partners` of
// bench/audit/rules-full/accord.toml, which leaves them unchanged; indicators of one IPv4
// address each, as bench/taxii/gen.py writes them), read as the gate reads them (stored JSON
// objects, Redactor::Input::kObject).
//
// BM_RedactRealObjects: the same profile over real content from ../shared/data (Unit 42's STIX
// 2.1 reports and the DoGood honeypot feed, ~10,700 objects; DATA=real of
// bench/audit/taxii_compare.sh), with references to identities answered from memory (as the
// gate's look-up memo answers them); it prints how many the profile changed.
// BM_RedactRealObjectsRemembered: the same, read again under the profile's memory of results.
// BM_GateAdmitPage: the node gate's decisions for a 100-object page read by an analyst whose
// role has that profile (policy::Gate::Admit per object, as EgressReader::AdmitAll calls it),
// on one thread and on two at once (two handler threads serving pages).
//
// Usage: build-rel/bench/audit/redact_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <map>
#include <nlohmann/json.hpp>

#include "accord/common/archive.h"
#include "accord/policy/gate.h"
#include "accord/policy/redaction.h"
#include "accord/store/store.h"
#include "common/paths.h"

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

// Every object of the bundles in the two archives, as compact JSON.
const std::vector<std::string>& RealObjects() {
  static const std::vector<std::string> objects = [] {
    std::vector<std::string> out;
    const std::string dir = accord::testing::SharedDir().string() + "/data/stix/";
    for (const char* archive :
         {"unit42-stix2-reports.tar.gz", "dogood-honeypot-stix21-daily.tar.gz"}) {
      auto st = accord::common::ForEachArchiveMember(
          dir + archive, 64u << 20, accord::common::InputLimits{},
          [&](const std::string& name, std::string&& data) {
            if (name.size() < 5 || name.compare(name.size() - 5, 5, ".json") != 0) {
              return absl::OkStatus();
            }
            nlohmann::json b = nlohmann::json::parse(data, nullptr, false);
            if (b.is_object() && b.contains("objects") && b["objects"].is_array()) {
              for (const auto& o : b["objects"]) out.push_back(o.dump());
            }
            return absl::OkStatus();
          });
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
        std::exit(1);
      }
    }
    return out;
  }();
  return objects;
}

// References to identities answered from memory, as the gate's look-up memo answers them.
accord::policy::Redactor::Lookup IdentityLookup(const std::vector<std::string>& objects) {
  auto identities = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (const std::string& json : objects) {
    if (json.find(R"("type":"identity")") == std::string::npos) continue;
    nlohmann::json o = nlohmann::json::parse(json);
    if (o.value("type", "") == "identity") (*identities)[o.value("id", "")] = json;
  }
  return [identities](std::string_view id) -> std::optional<std::string> {
    auto it = identities->find(id);
    if (it == identities->end()) return std::nullopt;
    return it->second;
  };
}

void BM_RedactRealObjects(benchmark::State& state) {
  const std::vector<std::string>& objects = RealObjects();
  const accord::policy::Redactor::Lookup lookup = IdentityLookup(objects);
  const auto& r = Partners();
  // How many the precheck passes (the rest take the full walk), outside the timing.
  size_t passed = 0;
  std::map<std::string, int> walked_by_type;
  for (const std::string& json : objects) {
    if (r->SurelyUnchanged(json, lookup, accord::policy::Redactor::Input::kObject)) {
      ++passed;
    } else {
      ++walked_by_type[nlohmann::json::parse(json).value("type", "?")];
    }
  }
  static bool printed = false;
  if (!printed) {
    printed = true;
    std::fprintf(stderr, "real objects: %zu, precheck passes %zu; walked by type:", objects.size(),
                 passed);
    for (const auto& [type, n] : walked_by_type) std::fprintf(stderr, " %s %d", type.c_str(), n);
    std::fprintf(stderr, "\n");
  }
  state.counters["precheck_share"] =
      static_cast<double>(passed) / static_cast<double>(objects.size());
  size_t i = 0, changed = 0;
  for (auto _ : state) {
    auto res = r->Redact(objects[i], lookup, accord::policy::Redactor::Input::kObject);
    changed += res.kind != accord::policy::Redactor::Result::Kind::kUnchanged;
    if (++i == objects.size()) i = 0;
  }
  state.counters["changed_share"] =
      static_cast<double>(changed) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedactRealObjects);

// The same objects read again under a profile that remembers its results (the node's default,
// [redaction] cache_mib = 32): each object's answer comes from memory once one pass has filled
// it, after checking the text and what its redaction looked up.
void BM_RedactRealObjectsRemembered(benchmark::State& state) {
  const std::vector<std::string>& objects = RealObjects();
  const accord::policy::Redactor::Lookup lookup = IdentityLookup(objects);
  auto made = accord::policy::Redactor::Create(Partners()->profile(), true,
                                               accord::policy::RedactionConfig().cache_bytes);
  if (!made.ok()) std::abort();
  const auto& r = *made;
  for (const std::string& json : objects) {
    r->Redact(json, lookup, accord::policy::Redactor::Input::kObject);
  }
  // state.range(0): 2, every object under one stamp, as the gate's batches pass them while the
  // store does not change; 1, each page of 100 objects under a stamp of its own, as when the
  // store changes under every page; 0, no stamp (every check asks its look-ups again).
  size_t i = 0;
  uint64_t stamp = 1;
  for (auto _ : state) {
    if (i % 100 == 0 && state.range(0) == 1) ++stamp;
    auto res = r->Redact(objects[i], lookup, accord::policy::Redactor::Input::kObject,
                         state.range(0) != 0 ? stamp : 0);
    benchmark::DoNotOptimize(res);
    if (++i == objects.size()) i = 0;
  }
  const accord::policy::Redactor::CacheStats st = r->cache_stats();
  state.counters["hit_share"] =
      static_cast<double>(st.hits) / static_cast<double>(st.hits + st.misses);
  state.counters["cache_mib"] = static_cast<double>(st.bytes) / (1 << 20);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedactRealObjectsRemembered)->Arg(0)->Arg(1)->Arg(2);

// The rules of a node with the full-rules configuration and no peer.
class Directory final : public accord::policy::PeerDirectory {
 public:
  absl::StatusOr<accord::policy::FederationRules> Load() override {
    accord::policy::FederationRules r;
    r.role_redactors["analyst"] = Partners();
    r.fingerprint = "bench";
    return r;
  }
  absl::StatusOr<std::string> Sign(std::string_view json) override { return std::string(json); }
};

accord::policy::Gate& NodeGate() {
  static accord::policy::Gate* const gate = [] {
    static std::unique_ptr<accord::store::Store> store;
    static const std::string dir = (std::filesystem::temp_directory_path() /
                                    ("accord-redact-bench-" + std::to_string(getpid())))
                                       .string();
    std::filesystem::remove_all(dir);
    accord::store::Options o;
    o.dir = dir;
    auto s = accord::store::Store::Open(o);
    if (!s.ok()) std::abort();
    store = std::move(*s);
    std::atexit([] {
      store.reset();
      std::filesystem::remove_all(dir);
    });
    accord::policy::NodeGateOptions go;
    go.peers = std::make_shared<Directory>();
    return accord::policy::NewNodeGate(store.get(), go).release();
  }();
  return *gate;
}

void BM_GateAdmitPage(benchmark::State& state) {
  std::vector<accord::store::StoredObject> page;
  for (std::string& json : Indicators(100)) {
    accord::store::StoredObject o;
    o.type = "indicator";
    o.id = json.substr(json.find("indicator--"), 47);
    o.json = std::move(json);
    page.push_back(std::move(o));
  }
  accord::policy::Gate& gate = NodeGate();
  const auto analyst = accord::policy::Audience::User("ana", "analyst");
  const auto exit = accord::policy::Exit::kTaxiiObjects;
  size_t allowed = 0;
  for (auto _ : state) {
    if (!gate.CheckExit(analyst, exit).ok()) state.SkipWithError("exit closed");
    for (const auto& o : page) {
      allowed += gate.Admit(o, analyst, exit).verdict == accord::policy::Decision::Verdict::kAllow;
    }
  }
  if (allowed != page.size() * state.iterations()) state.SkipWithError("not all allowed");
  state.SetItemsProcessed(static_cast<int64_t>(page.size()) * state.iterations());
}
BENCHMARK(BM_GateAdmitPage)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
