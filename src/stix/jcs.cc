// RFC 8785 (JCS) canonicalisation; moved here from sco_id.cc so that signatures can use it.
#include "accord/stix/jcs.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "accord/common/strings.h"
#include "stix/jcs_dom.h"

namespace accord::stix {
namespace detail {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// UTF-8 -> UTF-16 code units, for RFC 8785 member ordering. Invalid bytes map to themselves
// (simdjson has already validated the UTF-8 of every parsed string).
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < s.size()) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = 2;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

void AppendStringImpl(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// ECMAScript Number::toString (ECMA-262 §7.1.12.1), which RFC 8785 §3.2.2.3 prescribes.
void AppendDouble(double d, std::string* out) {
  if (d == 0) {
    out->push_back('0');
    return;
  }
  if (d < 0) {
    out->push_back('-');
    d = -d;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // d[.ddd]e±XX
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = std::atoi(std::string(sci.substr(e + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out->append(digits);
    out->append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out->append(digits.substr(0, static_cast<size_t>(n)));
    out->push_back('.');
    out->append(digits.substr(static_cast<size_t>(n)));
  } else if (-6 < n && n <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-n), '0');
    out->append(digits);
  } else {
    out->push_back(digits[0]);
    if (k > 1) {
      out->push_back('.');
      out->append(digits.substr(1));
    }
    out->push_back('e');
    out->push_back(n - 1 >= 0 ? '+' : '-');
    out->append(std::to_string(n - 1 >= 0 ? n - 1 : 1 - n));
  }
}

// Integers are JSON numbers like any other: JCS writes the double they denote, so 2^53 + 1
// becomes 9007199254740992 and 1e21 written as an integer becomes 1e+21.
template <typename Int>
void AppendInteger(Int v, std::string* out) {
  constexpr Int kExact = Int{1} << 53;  // every integer of smaller magnitude is a double exactly
  if (v < kExact && (std::is_unsigned_v<Int> || v > -kExact)) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, static_cast<size_t>(res.ptr - buf));
    return;
  }
  AppendDouble(static_cast<double>(v), out);
}

absl::Status AppendValue(element e, std::string* out) {
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::u16string, std::pair<std::string_view, element>>> members;
      simdjson::dom::object o = e.get_object().value_unsafe();
      for (auto field : o) {
        members.push_back({ToUtf16(field.key), {field.key, field.value}});
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) {
          // Sorted, so a repeated name sits next to its twin.
          if (members[i].first == members[i - 1].first) {
            return absl::InvalidArgumentError(
                common::Cat("duplicate member name \"", members[i].second.first,
                            "\" (RFC 8785 requires I-JSON: member names are unique)"));
          }
          out->push_back(',');
        }
        AppendStringImpl(members[i].second.first, out);
        out->push_back(':');
        ACCORD_RETURN_IF_ERROR(AppendValue(members[i].second.second, out));
      }
      out->push_back('}');
      return absl::OkStatus();
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      // Named: iterating the temporary simdjson_result directly would dangle.
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (element item : arr) {
        if (!first) out->push_back(',');
        first = false;
        ACCORD_RETURN_IF_ERROR(AppendValue(item, out));
      }
      out->push_back(']');
      return absl::OkStatus();
    }
    case element_type::STRING:
      AppendStringImpl(e.get_string().value_unsafe(), out);
      return absl::OkStatus();
    case element_type::INT64:
      AppendInteger(e.get_int64().value_unsafe(), out);
      return absl::OkStatus();
    case element_type::UINT64:
      AppendInteger(e.get_uint64().value_unsafe(), out);
      return absl::OkStatus();
    case element_type::DOUBLE:
      AppendDouble(e.get_double().value_unsafe(), out);
      return absl::OkStatus();
    case element_type::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return absl::OkStatus();
    case element_type::NULL_VALUE: out->append("null"); return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendCanonical(element e, std::string* out) { return AppendValue(e, out); }

void AppendCanonicalString(std::string_view s, std::string* out) { AppendStringImpl(s, out); }

}  // namespace detail

absl::StatusOr<std::string> CanonicalJson(std::string_view json) {
  // PERF: a parser per thread keeps its buffers between calls (signing many objects).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size(), true).get(root)) {
    return absl::InvalidArgumentError(common::Cat("not JSON: ", simdjson::error_message(err)));
  }
  std::string out;
  out.reserve(json.size());
  ACCORD_RETURN_IF_ERROR(detail::AppendCanonical(root, &out));
  return out;
}

}  // namespace accord::stix
