// libFuzzer target for the free-text, list and CSV readers (src/formats/text.cc).
// Properties checked on every input: no crash, leak or hang; every value ExtractValues finds is
// classified again as the same value (extraction and ClassifyToken agree); the readers emit
// only units that hold objects; and the sniffer answers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accord/formats/text.h"

using namespace accord::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)Sniff("input", in);
  for (const Value& v : ExtractValues(in)) {
    auto again = ClassifyToken(v.value);
    if (!again || again->value != v.value) {
      std::fprintf(stderr, "extracted '%s' (%s) does not classify as itself\n", v.value.c_str(),
                   std::string(ValueKindName(v.kind)).c_str());
      std::abort();
    }
  }
  ConvertOptions o;
  auto unit = [](Unit&& u) {
    if (u.objects.empty()) std::abort();
    return absl::OkStatus();
  };
  auto problem = [](Problem&&) {};
  (void)ReadText(in, o, unit, problem);
  (void)ReadList(in, std::nullopt, o, unit, problem);
  CsvOptions csv;
  csv.columns = "value,type,description,label";
  (void)ReadCsv(in, csv, o, unit, problem);
  csv.columns = "value=2";
  (void)ReadCsv(in, csv, o, unit, problem);
  return 0;
}
