// Fuzz target: agreement files (src/federation/agreement.cc, over toml++). Properties: never
// crashes, hangs or leaks; an error names the source, a line and a column; an accepted
// agreement never lets TLP:RED out and always has a collection to accept into.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accord/federation/agreement.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto a = accord::federation::ParseAgreement(input, "fuzz.toml", "peer");
  if (!a.ok()) {
    if (a.status().message().rfind("fuzz.toml:", 0) != 0) std::abort();
    return 0;
  }
  if (a->share.max_tlp == accord::federation::Tlp::kRed) std::abort();
  if (a->accept.into.empty()) std::abort();
  return 0;
}
