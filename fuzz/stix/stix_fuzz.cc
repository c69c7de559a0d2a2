// Fuzz target: the STIX reader (bundle / object / array / JSON lines detection, simdjson DOM,
// validation, 2.0 upgrade). Properties: never crashes or leaks; every accepted object's JSON
// parses again as a JSON object with the same id and type; every problem names a location.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "accord/stix/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  accord::stix::ReaderOptions opts;
  opts.source_name = "fuzz";
  simdjson::dom::parser check;
  auto on_object = [&](accord::stix::ObjectRecord&& rec) -> absl::Status {
    simdjson::dom::object o;
    if (check.parse(rec.json).get_object().get(o)) std::abort();
    std::string_view id, type;
    if (o["id"].get_string().get(id) || id != rec.id) std::abort();
    if (o["type"].get_string().get(type) || type != rec.type) std::abort();
    return absl::OkStatus();
  };
  auto on_problem = [](accord::stix::Problem&& p) {
    if (p.location.empty() || p.message.empty()) std::abort();
  };
  (void)accord::stix::ReadBuffer(input, opts, on_object, on_problem);
  return 0;
}
