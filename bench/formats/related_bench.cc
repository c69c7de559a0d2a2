// `related` latency with 10,000,000 values indexed (issue 15: p99 under 10 ms).
//
//   related_bench [DIR] [OBJECTS]     (default: a fresh temp dir, 1,000,000 objects)
//
// Fills a store with OBJECTS indicators, each of ten values (five IPv4 addresses and five
// domains, all distinct: 10 values x 1M = 10M values, and with each address's numeric term
// 15M index rows), through the store's own import transactions and the value-index deriver
// `accord` installs. Then times, in process, what `accord related --value V` asks the store:
// the value's terms, its parts and, for an address, the 32 CIDR terms that would hold it
// (correlate::QueryTerms, then Store::FindTerms), for 10,000 values present and 10,000
// absent, drawn at random. Prints p50, p99 and max, and the index size.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "accord/common/time.h"
#include "accord/correlate/terms.h"
#include "accord/store/store.h"

namespace {

std::string Ip(uint64_t i) {
  // 10.0.0.0/8, then 11.0.0.0/8, ...: distinct for i < 2^24 * 200.
  return std::to_string(10 + (i >> 24)) + "." + std::to_string((i >> 16) & 255) + "." +
         std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255);
}
std::string Domain(uint64_t i) { return "host" + std::to_string(i) + ".bench-example.com"; }

void Report(const char* what, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  };
  std::printf("%-44s p50 %7.3f ms   p99 %7.3f ms   max %7.3f ms   (%zu lookups)\n", what,
              at(0.50) / 1000, at(0.99) / 1000, us.back() / 1000, us.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  bool fresh = dir.empty();
  if (fresh) {
    dir = (std::filesystem::temp_directory_path() /
           ("accord-related-bench-" + std::to_string(getpid())))
              .string();
  }
  accord::store::Options o;
  o.dir = dir;
  o.derive_terms = accord::correlate::DeriveTerms;
  auto s = accord::store::Store::Open(o);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
    return 1;
  }
  auto stats = (*s)->GetStats();
  if (stats.ok() && stats->objects < n) {
    auto t0 = std::chrono::steady_clock::now();
    const std::string ts = accord::common::FormatTimestampMillis(1714521600000000);
    for (uint64_t base = stats->objects; base < n; base += 100000) {
      auto txn = (*s)->BeginImport("bench");
      if (!txn.ok()) return 1;
      for (uint64_t i = base; i < std::min(n, base + 100000); ++i) {
        accord::stix::ObjectRecord r;
        r.type = "indicator";
        char id[80];
        std::snprintf(id, sizeof id, "indicator--%08llx-0000-4000-8000-%012llx",
                      static_cast<unsigned long long>(i >> 32), static_cast<unsigned long long>(i));
        r.id = id;
        r.spec_version = "2.1";
        r.modified = 1714521600000000;
        r.has_modified = true;
        r.pattern_type = "stix";
        for (uint64_t k = 0; k < 5; ++k) {
          if (k) r.pattern += " OR ";
          r.pattern += "[ipv4-addr:value = '" + Ip(i * 5 + k) + "'] OR [domain-name:value = '" +
                       Domain(i * 5 + k) + "']";
        }
        r.json = R"({"type":"indicator","spec_version":"2.1","id":")" + r.id + R"(","created":")" +
                 ts + R"(","modified":")" + ts + R"(","pattern":")" + r.pattern +
                 R"(","pattern_type":"stix","valid_from":")" + ts + R"("})";
        if (!(*txn)->Add(r).ok()) return 1;
      }
      if (!(*txn)->Commit().ok()) return 1;
      std::fprintf(stderr, "\rindexed %llu objects",
                   static_cast<unsigned long long>(std::min(n, base + 100000)));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "\n");
    std::printf("filled: %llu objects, %llu values, in %.0f s (%.0f values/s indexed)\n",
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(n * 10), secs,
                static_cast<double>(n * 10) / secs);
  }
  std::error_code ec;
  auto size = [&](const std::string& f) {
    auto b = std::filesystem::file_size(dir + "/" + f, ec);
    return ec ? 0.0 : static_cast<double>(b) / 1e6;
  };
  std::printf(
      "store: %.0f MB in accord.db (+ %.0f MB write-ahead log) with the index, %.0f MB "
      "objects.log, for %llu values\n",
      size("accord.db"), size("accord.db-wal"), size("objects.log"),
      static_cast<unsigned long long>(n * 10));
  std::mt19937_64 rng(42);
  auto lookup = [&](const accord::formats::Value& v, size_t* found) {
    auto terms = accord::correlate::QueryTerms(v);
    auto t0 = std::chrono::steady_clock::now();
    auto hits = (*s)->FindTerms(terms, 10000);
    double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (hits.ok()) *found += hits->size();
    return us;
  };
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<double> present, absent;
    size_t found_present = 0, found_absent = 0;
    for (int q = 0; q < 10000; ++q) {
      uint64_t i = rng() % (n * 5);
      accord::formats::Value v =
          kind == 0 ? accord::formats::Value{accord::formats::ValueKind::kIpv4, Ip(i)}
                    : accord::formats::Value{accord::formats::ValueKind::kDomain, Domain(i)};
      present.push_back(lookup(v, &found_present));
      uint64_t j = n * 5 + rng() % 1000000;
      accord::formats::Value w =
          kind == 0 ? accord::formats::Value{accord::formats::ValueKind::kIpv4, Ip(j)}
                    : accord::formats::Value{accord::formats::ValueKind::kDomain, Domain(j)};
      absent.push_back(lookup(w, &found_absent));
    }
    Report(kind == 0 ? "address present (34 terms: value + 32 CIDRs)" : "domain present (1 term)",
           present);
    Report(kind == 0 ? "address absent" : "domain absent", absent);
    // An address is found twice per object: by its term and by its numeric term.
    std::printf("  hits: %zu for 10,000 present values, %zu for 10,000 absent ones\n",
                found_present, found_absent);
  }
  if (fresh) std::filesystem::remove_all(dir, ec);
  return 0;
}
