// libFuzzer target for the pattern parser, checker and printer.
// Properties checked on every input: no crash/leak/hang, and for every accepted pattern the
// canonical form parses again to the same tree and prints identically (round trip).
// Built with g++ (no libFuzzer) it is linked with fuzz/replay_main.cc, which replays files or
// directories given on the command line (CTest runs it over fuzz/corpus/pattern, label "fuzz").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "accord/pattern/pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<accord::pattern::Diagnostic> warnings;
  auto parsed = accord::pattern::Parse(text);
  if (!parsed.ok()) return 0;
  absl::Status checked = accord::pattern::Check(*parsed, &warnings);
  std::string printed = accord::pattern::Print(*parsed);
  (void)accord::pattern::Explain(*parsed);
  auto again = accord::pattern::Parse(printed);
  if (!again.ok()) {
    std::fprintf(stderr,
                 "canonical form does not parse\n  input: %.*s\n  printed: %s\n  error: %s\n",
                 static_cast<int>(size), reinterpret_cast<const char*>(data), printed.c_str(),
                 std::string(again.status().message()).c_str());
    std::abort();
  }
  if (!(*again == *parsed) || accord::pattern::Print(*again) != printed) {
    std::fprintf(stderr, "round trip changed the tree\n  input: %.*s\n  printed: %s\n",
                 static_cast<int>(size), reinterpret_cast<const char*>(data), printed.c_str());
    std::abort();
  }
  if (accord::pattern::Check(*again).ok() != checked.ok()) {
    std::fprintf(stderr, "check verdict changed by printing: %s\n", printed.c_str());
    std::abort();
  }
  return 0;
}
