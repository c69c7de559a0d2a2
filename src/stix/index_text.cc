#include <simdjson.h>

#include <string>
#include <string_view>

#include "accord/stix/object.h"
#include "stix/index_text.h"

namespace accord::stix {

namespace {

// `s` cut to at most `max` bytes, never inside a UTF-8 sequence.
std::string_view Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

IndexText IndexTextOf(simdjson::dom::object o) {
  IndexText out;
  auto field = [&](const char* key, std::string* into) {
    std::string_view s;
    if (o[key].get_string().get(s) == simdjson::SUCCESS) into->assign(Cut(s, kMaxIndexText));
  };
  field("name", &out.name);
  field("description", &out.description);
  simdjson::dom::array refs;
  if (o["object_marking_refs"].get_array().get(refs) == simdjson::SUCCESS) {
    for (auto r : refs) {
      std::string_view ref;
      if (r.get_string().get(ref) != simdjson::SUCCESS) continue;
      if (out.markings.size() + ref.size() + 1 > kMaxIndexText) break;
      if (!out.markings.empty()) out.markings.push_back(' ');
      out.markings.append(ref);
    }
  }
  return out;
}

IndexText IndexTextOf(std::string_view json) {
  // PERF: one DOM parser per thread, as the value index's deriver (src/correlate/terms.cc).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json.data(), json.size()).get_object().get(o) != simdjson::SUCCESS) return {};
  return IndexTextOf(o);
}

}  // namespace accord::stix
