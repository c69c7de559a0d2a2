// Generic JSON lines with a FieldMapping (`field.path = sco-type:property`) -> observations,
// and FieldMapping::Parse. Reference: docs/MATCH_INPUTS.md ("Generic JSON lines").
#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "accord/match/input.h"
#include "accord/stix/ijson.h"
#include "match/input/json_tree.h"
#include "match/input/readers_internal.h"

namespace accord::match {

namespace {

using detail::AddJson;
using detail::LineEventReader;

// ---- Generic JSON lines with a mapping
// -----------------------------------------------------------

class MappedJsonReader final : public LineEventReader {
 public:
  MappedJsonReader(std::unique_ptr<common::InputStream> in, std::string source, MalformedSink sink,
                   FieldMapping mapping)
      : LineEventReader(std::move(in), std::move(source), std::move(sink)),
        map_(std::move(mapping)) {
    for (const auto& r : map_.rules) {
      if (std::find(types_.begin(), types_.end(), r.sco_type) == types_.end())
        types_.push_back(r.sco_type);
    }
  }

 protected:
  bool Field(simdjson::dom::element e, const std::vector<std::string>& path,
             simdjson::dom::element* out) {
    for (const std::string& k : path) {
      if (e.at_key(k).get(e) != simdjson::SUCCESS) return false;
    }
    *out = e;
    return true;
  }
  int Handle(std::string_view line, Observation* o) override {
    simdjson::dom::element e;
    if (!ParseJson(line, &e)) return -1;
    // I-JSON (RFC 7493): an event with a duplicate key is malformed (its line is reported).
    if (auto dup = stix::FindDuplicateKey(e)) {
      Malformed(stix::DuplicateKeyMessage(*dup));
      return -1;
    }
    if (!e.is_object()) {
      Malformed("not a JSON object");
      return -1;
    }
    simdjson::dom::element v;
    // With an @time rule the mapping says where the time is: a record without it, or with one
    // that cannot be read, is malformed (never an event at 1970).
    if (!map_.time_field.empty()) {
      if (!Field(e, map_.time_field, &v)) {
        Malformed("no @time field");
        return -1;
      }
      auto ts = detail::ParseTime(v);
      if (!ts.ok()) {
        Malformed(common::Cat("@time field: ", ts.status().message()));
        return -1;
      }
      o->first_observed = o->last_observed = *ts;
    }
    for (size_t t = 0; t < types_.size(); ++t) {
      o->Open();
      size_t n = 0;
      // Properties "a.b" become nested objects {a: {b: ...}}, grouped by their first part.
      for (size_t i = 0; i < map_.rules.size(); ++i) {
        const auto& r = map_.rules[i];
        if (r.sco_type != types_[t] || !Field(e, r.field, &v)) continue;
        size_t dot = r.property.find('.');
        if (dot == std::string::npos) {
          AddJson(o, r.property, v, 1);
          ++n;
          continue;
        }
        std::string_view head = std::string_view(r.property).substr(0, dot);
        bool first_of_group = true;
        for (size_t j = 0; j < i; ++j) {
          const auto& q = map_.rules[j];
          if (q.sco_type == r.sco_type && q.property.starts_with(std::string(head) + "."))
            first_of_group = false;
        }
        if (!first_of_group) continue;
        o->Open();
        for (size_t j = i; j < map_.rules.size(); ++j) {
          const auto& q = map_.rules[j];
          simdjson::dom::element w;
          if (q.sco_type == r.sco_type && q.property.starts_with(std::string(head) + ".") &&
              Field(e, q.field, &w)) {
            AddJson(o, std::string_view(q.property).substr(dot + 1), w, 2);
          }
        }
        o->AddNode(head, o->Close(Node::Kind::kObject));
        ++n;
      }
      Node obj = o->Close(Node::Kind::kObject);
      if (n) o->AddSco(obj, types_[t], types_[t]);
    }
    return o->scos().empty() ? 0 : 1;
  }

 private:
  FieldMapping map_;
  std::vector<std::string> types_;
};

}  // namespace

absl::StatusOr<FieldMapping> FieldMapping::Parse(std::string_view text) {
  FieldMapping m;
  size_t start = 0;
  int line_no = 0;
  auto split = [](std::string_view s) {
    std::vector<std::string> out;
    size_t b = 0;
    while (b <= s.size()) {
      size_t e = s.find('.', b);
      if (e == std::string_view::npos) e = s.size();
      out.emplace_back(s.substr(b, e - b));
      b = e + 1;
    }
    return out;
  };
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  while (start < text.size()) {
    size_t e = text.find('\n', start);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = trim(text.substr(start, e - start));
    start = e + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError("mapping line " + std::to_string(line_no) +
                                        ": expected 'field = type:property'");
    }
    std::string_view lhs = trim(line.substr(0, eq)), rhs = trim(line.substr(eq + 1));
    if (lhs == "@time") {
      m.time_field = split(rhs);
      continue;
    }
    size_t colon = rhs.find(':');
    if (lhs.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == rhs.size()) {
      return absl::InvalidArgumentError("mapping line " + std::to_string(line_no) +
                                        ": expected 'field = type:property', found '" +
                                        std::string(line) + "'");
    }
    Rule r;
    r.field = split(lhs);
    r.sco_type = std::string(rhs.substr(0, colon));
    r.property = std::string(rhs.substr(colon + 1));
    m.rules.push_back(std::move(r));
  }
  if (m.rules.empty()) return absl::InvalidArgumentError("mapping has no rules");
  return m;
}

namespace detail {

std::unique_ptr<EventReader> NewMappedJsonReader(std::unique_ptr<common::InputStream> in,
                                                 const std::string& source,
                                                 MalformedSink on_malformed,
                                                 const FieldMapping& mapping) {
  return std::unique_ptr<EventReader>(
      std::make_unique<MappedJsonReader>(std::move(in), source, std::move(on_malformed), mapping));
}

}  // namespace detail

}  // namespace accord::match
