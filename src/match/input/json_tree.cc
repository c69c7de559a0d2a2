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

bool ParseTime(simdjson::dom::element v, common::Micros* out) {
  double secs;
  if (v.is_string()) {
    std::string_view s = v.get_string().value_unsafe();
    auto ts = common::ParseTimestamp(s);
    if (ts.ok()) {
      *out = ts->micros;
      return true;
    }
    // Suricata: 2019-01-01T00:00:00.000000+0000 ; accept by trimming the offset when +0000.
    if (s.size() > 5 && (s.ends_with("+0000") || s.ends_with("+00:00"))) {
      std::string t(s.substr(0, s.rfind('+')));
      t.push_back('Z');
      auto ts2 = common::ParseTimestamp(t);
      if (ts2.ok()) {
        *out = ts2->micros;
        return true;
      }
    }
    auto r = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
  } else if (v.is_number()) {
    secs = v.get_double().value_unsafe();
  } else {
    return false;
  }
  if (!std::isfinite(secs) || std::fabs(secs) > 1e11) return false;
  *out = static_cast<common::Micros>(std::llround(secs * 1e6));
  return true;
}

}  // namespace accord::match::detail
