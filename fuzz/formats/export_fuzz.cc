// Fuzz target for the sensor exports (src/formats/export.cc): the input is a STIX pattern.
// Properties checked on every input: no crash, leak or UB; ExportableValues gives values or a
// reason, never both or neither; every format accounts for the indicator exactly once; every
// zeek-intel data line has exactly 5 tab-separated fields and does not start with '#'; every
// list value without a line break is in its kind's file.
// Built with g++ (no libFuzzer) it is linked with fuzz/replay_main.cc (CTest: export_fuzz_replay
// over fuzz/corpus/export).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "accord/formats/export.h"

namespace {

[[noreturn]] void Fail(std::string_view what, std::string_view input) {
  std::fprintf(stderr, "%.*s\n  input: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace accord::formats;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  std::vector<Value> values = ExportableValues(text, &why);
  if (values.empty() == why.empty()) Fail("values and reason disagree", text);

  // The input also serves as name and source, so hostile bytes reach every field's escaping.
  ExportIndicator ind;
  ind.id = "indicator--00000000-0000-4000-8000-000000000000";
  ind.name = std::string(text.substr(0, 256));
  ind.source = std::string(text.substr(text.size() / 2, 64));
  ind.pattern = std::string(text);
  ind.confidence = static_cast<int>(size % 130) - 10;
  std::vector<ExportIndicator> in = {ind, ind};

  for (ExportFormat f : {ExportFormat::kZeekIntel, ExportFormat::kSuricataDatasets,
                         ExportFormat::kSuricataIprep, ExportFormat::kList, ExportFormat::kCsv}) {
    ExportStats stats;
    auto files = ExportIndicators(f, in, &stats);
    if (!files.ok()) Fail("export failed", text);
    if (stats.indicators + stats.skipped != in.size()) Fail("indicators not accounted for", text);
    for (const ExportedFile& file : *files) {
      if (f == ExportFormat::kZeekIntel) {
        size_t pos = file.content.find('\n');  // after the #fields line
        if (pos == std::string::npos) Fail("zeek file without header", text);
        ++pos;
        while (pos < file.content.size()) {
          size_t eol = file.content.find('\n', pos);
          if (eol == std::string::npos) Fail("zeek line without newline", text);
          std::string_view line(file.content.data() + pos, eol - pos);
          size_t tabs = 0;
          for (char c : line) tabs += c == '\t';
          if (tabs != 4 || line.empty() || line[0] == '#') Fail("zeek line malformed", text);
          pos = eol + 1;
        }
      }
    }
    if (f == ExportFormat::kList) {
      for (const Value& v : values) {
        if (v.value.find_first_of("\r\n") != std::string::npos) continue;
        bool found = false;
        for (const ExportedFile& file : *files) {
          if (file.name == std::string(ValueKindName(v.kind)) + ".txt") {
            found = ("\n" + file.content).find("\n" + v.value + "\n") != std::string::npos;
          }
        }
        if (!found) Fail("list lost a value", text);
      }
    }
  }
  return 0;
}
