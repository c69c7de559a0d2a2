#include "stix/sco_id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "accord/stix/object.h"

namespace accord::stix::detail {
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

void AppendString(std::string_view s, std::string* out) {
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

void AppendCanonical(element e, std::string* out) {
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::u16string, std::pair<std::string_view, element>>> members;
      simdjson::dom::object o = e.get_object().value_unsafe();
      for (auto field : o) {
        members.push_back({ToUtf16(field.key), {field.key, field.value}});
      }
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      bool first = true;
      for (const auto& m : members) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(m.second.first, out);
        out->push_back(':');
        AppendCanonical(m.second.second, out);
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      simdjson::dom::array a = e.get_array().value_unsafe();
      for (element item : a) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonical(item, out);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING:
      AppendString(e.get_string().value_unsafe(), out);
      return;
    case element_type::INT64:
      out->append(std::to_string(e.get_int64().value_unsafe()));
      return;
    case element_type::UINT64:
      out->append(std::to_string(e.get_uint64().value_unsafe()));
      return;
    case element_type::DOUBLE:
      AppendDouble(e.get_double().value_unsafe(), out);
      return;
    case element_type::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return;
    case element_type::NULL_VALUE:
      out->append("null");
      return;
  }
}

bool ParseUuid(std::string_view s, uint8_t out[16]) {
  if (s.size() != 36) return false;
  int j = 0;
  for (size_t i = 0; i < s.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
      ++i;
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(s[i]), lo = hex(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[j++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return j == 16;
}

struct Recipe {
  std::string_view type;
  std::vector<std::string_view> props;
};

const std::vector<Recipe>& Recipes() {
  static const std::vector<Recipe> kRecipes = {
      {"artifact", {"hashes", "payload_bin"}},
      {"autonomous-system", {"number"}},
      {"directory", {"path"}},
      {"domain-name", {"value"}},
      {"email-addr", {"value"}},
      {"email-message", {"from_ref", "subject", "body"}},
      {"file", {"hashes", "name", "extensions", "parent_directory_ref"}},
      {"ipv4-addr", {"value"}},
      {"ipv6-addr", {"value"}},
      {"mac-addr", {"value"}},
      {"mutex", {"name"}},
      {"network-traffic",
       {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"}},
      {"software", {"name", "cpe", "swid", "vendor", "version"}},
      {"url", {"value"}},
      {"user-account", {"account_type", "user_id", "account_login"}},
      {"windows-registry-key", {"key", "values"}},
      {"x509-certificate", {"hashes", "serial_number"}},
  };
  return kRecipes;
}

}  // namespace

std::string CanonicalJson(element e) {
  std::string out;
  AppendCanonical(e, &out);
  return out;
}

std::string UuidV5(std::string_view namespace_uuid, std::string_view name) {
  uint8_t ns[16];
  if (!ParseUuid(namespace_uuid, ns)) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, ns, sizeof(ns));
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, md, &md_len);
  EVP_MD_CTX_free(ctx);
  md[6] = static_cast<unsigned char>((md[6] & 0x0F) | 0x50);
  md[8] = static_cast<unsigned char>((md[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

std::optional<std::string> ScoIdName(std::string_view type, simdjson::dom::object obj) {
  const Recipe* recipe = nullptr;
  for (const auto& r : Recipes()) {
    if (r.type == type) recipe = &r;
  }
  if (recipe == nullptr) return std::nullopt;
  std::vector<std::string_view> names = recipe->props;
  std::sort(names.begin(), names.end());  // all ASCII: byte order == UTF-16 order
  std::string out = "{";
  bool any = false;
  for (std::string_view name : names) {
    element v;
    if (obj[name].get(v)) continue;
    std::string value;
    if (name == "hashes" && v.type() == element_type::OBJECT) {
      simdjson::dom::object h = v.get_object().value_unsafe();
      // One hash only, by the reference implementation's preference (spec digest §3.2).
      std::string_view chosen;
      element chosen_value;
      bool found = false;
      for (std::string_view pref : {"MD5", "SHA-1", "SHA-256", "SHA-512"}) {
        if (!h[pref].get(chosen_value)) {
          chosen = pref;
          found = true;
          break;
        }
      }
      if (!found) {
        for (auto field : h) {
          chosen = field.key;
          chosen_value = field.value;
          found = true;
          break;
        }
      }
      if (!found) continue;
      value = "{";
      AppendString(chosen, &value);
      value.push_back(':');
      AppendCanonical(chosen_value, &value);
      value.push_back('}');
    } else {
      AppendCanonical(v, &value);
    }
    if (any) out.push_back(',');
    any = true;
    AppendString(name, &out);
    out.push_back(':');
    out.append(value);
  }
  if (!any) return std::nullopt;
  out.push_back('}');
  return out;
}

std::optional<std::string> ComputeScoId(std::string_view type, simdjson::dom::object obj) {
  auto name = ScoIdName(type, obj);
  if (!name) return std::nullopt;
  std::string id(type);
  id.append("--");
  id.append(UuidV5(kScoNamespace, *name));
  return id;
}

}  // namespace accord::stix::detail

namespace accord::stix {

bool SameJson(std::string_view a, std::string_view b) {
  if (a == b) return true;
  thread_local simdjson::dom::parser pa, pb;
  simdjson::dom::element ea, eb;
  if (pa.parse(a.data(), a.size(), true).get(ea) || pb.parse(b.data(), b.size(), true).get(eb)) {
    return false;
  }
  return detail::CanonicalJson(ea) == detail::CanonicalJson(eb);
}

}  // namespace accord::stix
