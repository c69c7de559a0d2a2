#include "accord/match/match_line.h"

#include <simdjson.h>

#include <charconv>

#include <nlohmann/json.hpp>

namespace accord::match {

namespace {

// JSON string as nlohmann::json dumps it with ensure_ascii off: '"' and '\\' escaped, the
// short escapes \b \f \n \r \t, other control bytes as \u00xx (lowercase hex), the rest as is.
// REQUIRES: `s` is valid UTF-8 (the caller checks; nlohmann replaces invalid sequences).
void AppendString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

bool Utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

}  // namespace

void AppendMatchLine(const MatchLine& line, std::string* out) {
  bool valid = Utf8(line.indicator) && Utf8(line.input);
  if (line.values) {
    for (const std::string& v : *line.values) valid = valid && Utf8(v);
  }
  std::string time = common::FormatTimestamp(line.time);
  if (!valid) {
    // Rare (event text is untrusted): the library's replacement of invalid sequences.
    nlohmann::json j = {{"indicator", line.indicator},
                        {"values", line.values ? *line.values : std::vector<std::string>{}},
                        {"events", line.events ? *line.events : std::vector<uint64_t>{}},
                        {"input", line.input},
                        {"time", time}};
    out->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    out->push_back('\n');
    return;
  }
  // Keys in nlohmann's (sorted) order: events, indicator, input, time, values.
  out->append("{\"events\":[");
  if (line.events) {
    char num[24];
    for (size_t i = 0; i < line.events->size(); ++i) {
      if (i) out->push_back(',');
      auto r = std::to_chars(num, num + sizeof num, (*line.events)[i]);
      out->append(num, static_cast<size_t>(r.ptr - num));
    }
  }
  out->append("],\"indicator\":");
  AppendString(line.indicator, out);
  out->append(",\"input\":");
  AppendString(line.input, out);
  out->append(",\"time\":");
  AppendString(time, out);
  out->append(",\"values\":[");
  if (line.values) {
    for (size_t i = 0; i < line.values->size(); ++i) {
      if (i) out->push_back(',');
      AppendString((*line.values)[i], out);
    }
  }
  out->append("]}\n");
}

}  // namespace accord::match
