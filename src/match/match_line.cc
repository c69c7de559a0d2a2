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

bool Utf8(const store::CollectionInfo& c) { return Utf8(c.id) && Utf8(c.alias) && Utf8(c.title); }

nlohmann::json CollectionJson(const store::CollectionInfo& c) {
  return nlohmann::json{{"id", c.id}, {"alias", c.alias}, {"title", c.title}};
}

// {"alias":..,"id":..,"title":..}: nlohmann's key order.
void AppendCollection(const store::CollectionInfo& c, std::string* out) {
  out->append("{\"alias\":");
  AppendString(c.alias, out);
  out->append(",\"id\":");
  AppendString(c.id, out);
  out->append(",\"title\":");
  AppendString(c.title, out);
  out->push_back('}');
}

// `"also_in":[…],"collection":{…},`: the part of a line that depends only on the origin.
void AppendHead(const IndicatorOrigin& o, std::string* out) {
  if (!o.also_in.empty()) {
    out->append("\"also_in\":[");
    for (size_t i = 0; i < o.also_in.size(); ++i) {
      if (i) out->push_back(',');
      AppendCollection(o.also_in[i], out);
    }
    out->append("],");
  }
  out->append("\"collection\":");
  AppendCollection(o.collection, out);
  out->push_back(',');
}

}  // namespace

void PrepareMatchLine(IndicatorOrigin* o) {
  o->prepared = false;
  bool valid = Utf8(o->collection);
  for (const store::CollectionInfo& c : o->also_in) valid = valid && Utf8(c);
  if (!valid) return;
  o->prepared_head.clear();
  AppendHead(*o, &o->prepared_head);
  o->prepared = true;
}

void AppendMatchLine(const MatchLine& line, std::string* out) {
  const IndicatorOrigin* o = line.origin;
  bool valid = Utf8(line.indicator) && Utf8(line.input) && Utf8(line.name);
  if (line.values) {
    for (const std::string& v : *line.values) valid = valid && Utf8(v);
  }
  if (o && !o->prepared) {
    valid = valid && Utf8(o->collection);
    for (const store::CollectionInfo& c : o->also_in) valid = valid && Utf8(c);
  }
  if (!valid) {
    // Rare (event text is untrusted): the library's replacement of invalid sequences.
    nlohmann::json j = {{"indicator", line.indicator},
                        {"values", line.values ? *line.values : std::vector<std::string>{}},
                        {"events", line.events ? *line.events : std::vector<uint64_t>{}},
                        {"input", line.input},
                        {"time", common::FormatTimestamp(line.time)}};
    if (!line.name.empty()) j["name"] = line.name;
    if (o) {
      j["collection"] = CollectionJson(o->collection);
      if (!o->also_in.empty()) {
        nlohmann::json& also = j["also_in"] = nlohmann::json::array();
        for (const store::CollectionInfo& c : o->also_in) also.push_back(CollectionJson(c));
      }
    }
    out->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    out->push_back('\n');
    return;
  }
  // Keys in nlohmann's (sorted) order: also_in, collection, events, indicator, input, name,
  // time, values.
  out->push_back('{');
  if (o && o->prepared) {
    // PERF: rendered once per origin (IndicatorOrigins), copied per line.
    out->append(o->prepared_head);
  } else if (o) {
    AppendHead(*o, out);
  }
  out->append("\"events\":[");
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
  if (!line.name.empty()) {
    out->append(",\"name\":");
    AppendString(line.name, out);
  }
  out->append(",\"time\":\"");
  common::AppendTimestamp(line.time, out);
  out->append("\",\"values\":[");
  if (line.values) {
    for (size_t i = 0; i < line.values->size(); ++i) {
      if (i) out->push_back(',');
      AppendString((*line.values)[i], out);
    }
  }
  out->append("]}\n");
}

}  // namespace accord::match
