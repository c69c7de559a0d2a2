// Store benchmark: many small import transactions (as TAXII POSTs of 100 objects make) into a
// store that grows; prints objects/s per slice of the growth, so a per-transaction cost that
// grows with the store shows up as a falling rate.
//
//   small_txn_bench [--total 1000000] [--batch 100] [--slices 10] [--dir /tmp/accord-small-txn]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "accord/common/strings.h"
#include "accord/store/store.h"

int main(int argc, char** argv) {
  uint64_t total = 1000000, batch = 100, slices = 10;
  std::string dir = (std::filesystem::temp_directory_path() / "accord-small-txn").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--total") total = std::stoull(v);
    if (k == "--batch") batch = std::stoull(v);
    if (k == "--slices") slices = std::stoull(v);
    if (k == "--dir") dir = v;
  }
  std::filesystem::remove_all(dir);
  accord::store::Options o;
  o.dir = dir;
  auto store = accord::store::Store::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  std::printf("small_txn_bench: %llu objects in transactions of %llu\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(batch));
  std::printf("%14s %14s\n", "store size", "objects/s");
  uint64_t per_slice = total / slices, n = 0;
  for (uint64_t s = 0; s < slices; ++s) {
    auto t0 = std::chrono::steady_clock::now();
    for (uint64_t done = 0; done < per_slice; done += batch) {
      auto txn = (*store)->BeginImport("default");
      if (!txn.ok()) return 1;
      for (uint64_t k = 0; k < batch; ++k, ++n) {
        accord::stix::ObjectRecord r;
        char uuid[40];
        std::snprintf(uuid, sizeof(uuid), "%08llx-0000-4000-8000-%012llx",
                      static_cast<unsigned long long>(n * 2654435761ull % 4294967291ull),
                      static_cast<unsigned long long>(n));
        r.type = "indicator";
        r.id = accord::common::Cat("indicator--", uuid);
        r.spec_version = "2.1";
        r.modified = 1700000000000000 + static_cast<int64_t>(n);
        r.has_modified = true;
        r.json = accord::common::Cat(
            R"({"type":"indicator","spec_version":"2.1","id":")", r.id,
            R"(","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix"})");
        if (!(*txn)->Add(r).ok()) return 1;
      }
      if (!(*txn)->Commit().ok()) return 1;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%14llu %14.0f\n", static_cast<unsigned long long>(n),
                static_cast<double>(per_slice) / secs);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
