// Fuzz target: the STIX reader (bundle / object / array / JSON lines detection, simdjson DOM,
// validation, 2.0 upgrade), and the streaming framing of bundles and arrays
// (common::JsonStreamReader, which ReadFile uses). Properties: never crashes or leaks; every
// accepted object's JSON parses again as a JSON object with the same id and type; every
// problem names a location; every streamed element is the input's bytes at its offset, in
// order, numbered 1, 2, 3..., whatever the read size.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "accord/common/io.h"
#include "accord/common/json_stream.h"
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

  // Streamed framing, with reads of 1 to 64 bytes so that elements straddle every refill.
  if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b)) {  // (gzip would be inflated first)
    accord::common::JsonStreamOptions so;
    so.chunk_bytes = 1 + data[0] % 64;
    so.max_element_bytes = 4096;
    accord::common::JsonStreamReader reader(accord::common::InputStream::FromBuffer(input), "fuzz",
                                            so);
    accord::common::JsonElement el;
    uint64_t next_index = 1, min_offset = 0;
    while (true) {
      auto more = reader.Next(&el);
      if (!more.ok()) {
        if (more.status().message().empty()) std::abort();
        break;
      }
      if (!*more) break;
      if (el.index != next_index++ || el.offset < min_offset) std::abort();
      if (el.offset + el.bytes.size() > size) std::abort();
      if (input.substr(el.offset, el.bytes.size()) != el.bytes) std::abort();
      min_offset = el.offset + el.bytes.size();
    }
  }
  return 0;
}
