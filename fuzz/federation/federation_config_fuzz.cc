// Fuzz target: [federation] in accord.toml (src/federation/config.cc, over toml++). Properties:
// never crashes, hangs or leaks; an error names the source, a line and a column; an accepted
// configuration keeps every value within its documented bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "accord/federation/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto c = accord::federation::ParseFederationConfig(input, "fuzz.toml");
  if (!c.ok()) {
    if (c.status().message().rfind("fuzz.toml:", 0) != 0) std::abort();
    return 0;
  }
  if (c->sync_interval_ms < 0 || (c->sync_interval_ms > 0 && c->sync_interval_ms < 50))
    std::abort();
  if (c->page_size < 1 || c->max_page_bytes < 1024 || c->max_pages_per_round < 1) std::abort();
  if (c->request_timeout_s < 1 || c->retry_base_ms < 1 || c->retry_max_s < 1) std::abort();
  return 0;
}
