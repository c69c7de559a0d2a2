// Fuzz target: the MISP reader (formats::ReadMisp), the feed manifest reader and the STIX -> MISP
// writer. Properties: never crashes, loops or leaks; every emitted STIX object is accepted by
// the STIX reader with no problem (the converter only writes valid STIX 2.1); every problem
// names a location; a unit is never empty; the writer's output is MISP JSON that ReadMisp reads
// again without a syntax problem; the writer takes any input as a STIX object without crashing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accord/formats/misp.h"
#include "accord/stix/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  accord::formats::ConvertOptions o;
  o.source_name = "fuzz";
  accord::formats::MispWriter writer;
  accord::stix::ReaderOptions ro;
  ro.source_name = "fuzz-out";
  auto on_unit = [&](accord::formats::Unit&& u) -> absl::Status {
    if (u.objects.empty()) std::abort();
    for (const std::string& obj : u.objects) {
      uint64_t accepted = 0;
      auto stats = accord::stix::ReadBuffer(
          obj, ro,
          [&](accord::stix::ObjectRecord&&) {
            ++accepted;
            return absl::OkStatus();
          },
          [](accord::stix::Problem&& p) {
            if (!p.warning) std::abort();
          });
      if (!stats.ok() || accepted != 1) std::abort();
      if (!writer.Add(obj).ok()) std::abort();
    }
    return absl::OkStatus();
  };
  auto on_problem = [](accord::stix::Problem&& p) {
    if (p.location.empty() || p.message.empty()) std::abort();
  };
  (void)accord::formats::ReadMisp(input, o, on_unit, on_problem);
  (void)accord::formats::ReadMispManifest(input);
  // The input as one STIX object for the writer (its pattern reader sees arbitrary patterns).
  {
    accord::formats::MispWriter direct;
    if (direct.Add(input).ok()) (void)direct.Finish();
  }

  std::string misp = writer.Finish();
  bool syntax_problem = false;
  auto again = accord::formats::ReadMisp(
      misp, o, [](accord::formats::Unit&&) { return absl::OkStatus(); },
      [&](accord::stix::Problem&& p) {
        if (p.message.find("not valid") != std::string::npos) syntax_problem = true;
      });
  if (!again.ok() || syntax_problem) std::abort();
  return 0;
}
