#include "match/input/json_tree.h"

#include <charconv>
#include <cmath>

namespace accord::match::detail {

void AddJson(Observation* o, std::string_view key, simdjson::dom::element v, int depth) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::ARRAY: {
      if (depth > 64) {
        o->AddNull(key);
        return;
      }
      o->Open();
      for (simdjson::dom::element e : v.get_array()) AddJson(o, {}, e, depth + 1);
      o->AddNode(key, o->Close(Node::Kind::kList));
      return;
    }
    case element_type::OBJECT: {
      if (depth > 64) {
        o->AddNull(key);
        return;
      }
      o->Open();
      for (auto field : v.get_object()) AddJson(o, field.key, field.value, depth + 1);
      o->AddNode(key, o->Close(Node::Kind::kObject));
      return;
    }
    case element_type::INT64: o->AddInt(key, v.get_int64().value_unsafe()); return;
    case element_type::UINT64: {
      uint64_t u = v.get_uint64().value_unsafe();
      o->AddFloat(key, static_cast<double>(u));
      return;
    }
    case element_type::DOUBLE: {
      double d = v.get_double().value_unsafe();
      // §6.2 rule 6: integral JSON numbers are integers (12.0 == 12).
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
        o->AddInt(key, static_cast<int64_t>(d));
        // keep float-ness out: the reference matcher treats 12.0 as a number equal to 12
      } else {
        o->AddFloat(key, d);
      }
      return;
    }
    case element_type::STRING: o->AddString(key, v.get_string().value_unsafe()); return;
    case element_type::BOOL: o->AddBool(key, v.get_bool().value_unsafe()); return;
    case element_type::NULL_VALUE: o->AddNull(key); return;
  }
}

absl::StatusOr<common::Micros> ParseTime(simdjson::dom::element v) {
  if (v.is_string()) return common::ParseEventTime(v.get_string().value_unsafe());
  if (!v.is_number())
    return absl::InvalidArgumentError("timestamp is neither a string nor a number");
  // |secs| <= 1e11 (about the year 5138) keeps secs * 1e6 far inside int64 microseconds.
  double secs = v.get_double().value_unsafe();
  if (!std::isfinite(secs) || std::fabs(secs) > 1e11)
    return absl::InvalidArgumentError("timestamp number is out of range for epoch seconds");
  return static_cast<common::Micros>(std::llround(secs * 1e6));
}

}  // namespace accord::match::detail
