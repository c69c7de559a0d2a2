// STIX 2.1 value checks: type names, identifiers, timestamps, integers, hex and binary,
// dictionaries, hashes, kill chains, external references, null/empty values, property names
// and suffix-typed properties (*_ref, *_refs, *_hex, *_bin). Split out of validate.cc.
#include "stix/validate_internal.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

using common::Cat;

bool IsInteger(element e, int64_t* out) {
  if (e.type() == element_type::INT64) {
    *out = e.get_int64().value_unsafe();
    return true;
  }
  if (e.type() == element_type::UINT64) {
    uint64_t u = e.get_uint64().value_unsafe();
    if (u > static_cast<uint64_t>(kMaxInt)) {
      *out = kMaxInt + 1;  // out of range; callers report it
    } else {
      *out = static_cast<int64_t>(u);
    }
    return true;
  }
  return false;
}

absl::Status CheckInteger(element e, std::string_view where, double lo, double hi) {
  int64_t v = 0;
  if (!IsInteger(e, &v)) {
    return Invalid(Cat("'", where, "' must be an integer, found ", Show(e)));
  }
  if (static_cast<double>(v) < lo || static_cast<double>(v) > hi || v > kMaxInt || v < -kMaxInt) {
    return Invalid(Cat("'", where, "' must be an integer in ", static_cast<int64_t>(lo), "..",
                       static_cast<int64_t>(hi), ", found ", Show(e)));
  }
  return absl::OkStatus();
}

// The spec text asks for lowercase; the JSON schemas and python-stix2 accept either case and
// real data (python-stix2's sco-examples: magic_number_hex "504B0304") uses uppercase.
absl::Status CheckHex(element e, std::string_view where) {
  std::string_view s;
  if (e.get_string().get(s)) {
    return Invalid(Cat("'", where, "' must be a hex string, found ", JsonTypeName(e.type())));
  }
  if (!common::IsHex(s)) {
    return Invalid(Cat("'", where, "' must be an even number of hex digits, found \"", s, "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckBinary(element e, std::string_view where) {
  std::string_view s;
  if (e.get_string().get(s)) {
    return Invalid(Cat("'", where, "' must be a base64 string, found ", JsonTypeName(e.type())));
  }
  // Padded standard base64 with a canonical last group (accord/common/encoding.h), as the
  // pattern b'...' literals and the matcher read it.
  bool ok = common::IsBase64(s);
  if (!ok) {
    return Invalid(Cat("'", where, "' must be padded base64 (RFC 4648), found \"", s.substr(0, 60),
                       s.size() > 60 ? "...\"" : "\""));
  }
  return absl::OkStatus();
}

bool ValidDictKey(std::string_view k) {
  if (k.empty() || k.size() > 250) return false;
  for (char c : k) {
    if (!IsLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '-' && c != '_') return false;
  }
  return true;
}

absl::Status CheckDict(element e, std::string_view where) {
  object o;
  if (e.get_object().get(o)) {
    return Invalid(Cat("'", where, "' must be a dictionary, found ", JsonTypeName(e.type())));
  }
  if (o.size() == 0) {
    return Invalid(Cat("'", where, "' is an empty dictionary; STIX forbids empty dictionaries"));
  }
  for (auto f : o) {
    if (!ValidDictKey(f.key)) {
      return Invalid(Cat("'", where, "' key \"", f.key,
                         "\" must be 1-250 characters of a-z, A-Z, 0-9, '-' and '_'"));
    }
  }
  return absl::OkStatus();
}

struct HashFormat {
  std::string_view name;
  size_t hex_len;
};

constexpr HashFormat kHashFormats[] = {{"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},
                                       {"SHA-512", 128}, {"SHA3-256", 64}, {"SHA3-512", 128}};

absl::Status CheckStringList(element e, std::string_view where) {
  array a;
  if (e.get_array().get(a)) {
    return Invalid(Cat("'", where, "' must be a list of strings, found ", JsonTypeName(e.type())));
  }
  size_t i = 0;
  for (element item : a) {
    if (item.type() != element_type::STRING) {
      return Invalid(Cat("'", where, "' must be a list of strings; item ", i, " is ",
                         JsonTypeName(item.type())));
    }
    ++i;
  }
  return absl::OkStatus();
}

absl::Status CheckKillChain(element e, std::string_view where) {
  array a;
  if (e.get_array().get(a)) {
    return Invalid(Cat("'", where, "' must be a list of kill chain phases"));
  }
  size_t i = 0;
  for (element item : a) {
    object o;
    if (item.get_object().get(o)) {
      return Invalid(Cat("'", where, "' item ", i, " must be a kill chain phase object"));
    }
    for (std::string_view k : {"kill_chain_name", "phase_name"}) {
      std::string_view s;
      if (o[k].get_string().get(s)) {
        return Invalid(
            Cat("kill chain phase ('", where, "' item ", i, ") requires string '", k, "'"));
      }
    }
    ++i;
  }
  return absl::OkStatus();
}

absl::Status CheckExternalRefs(element e, std::string_view where) {
  array a;
  if (e.get_array().get(a)) {
    return Invalid(Cat("'", where, "' must be a list of external references"));
  }
  size_t i = 0;
  for (element item : a) {
    object o;
    if (item.get_object().get(o)) {
      return Invalid(Cat("'", where, "' item ", i, " must be an object"));
    }
    std::string_view source;
    if (o["source_name"].get_string().get(source)) {
      return Invalid(Cat("external reference (item ", i, ") requires string 'source_name'"));
    }
    std::string_view ext_id;
    bool has_ext_id = !o["external_id"].get_string().get(ext_id);
    for (auto f : o) {
      if ((f.key == "description" || f.key == "url" || f.key == "external_id") &&
          f.value.type() != element_type::STRING) {
        return Invalid(Cat("external reference (item ", i, ") '", f.key, "' must be a string"));
      }
      if (f.key == "hashes") {
        ACCORD_RETURN_IF_ERROR(CheckHashes(f.value, Cat("external_references[", i, "].hashes")));
      }
    }
    if (o["description"].error() && o["url"].error() && !has_ext_id) {
      return Invalid(Cat("external reference \"", source, "\" (item ", i,
                         ") needs at least one of 'description', 'url', 'external_id'"));
    }
    if (source == "capec" && has_ext_id &&
        (ext_id.substr(0, 6) != "CAPEC-" || ext_id.size() == 6 ||
         ext_id.find_first_not_of("0123456789", 6) != std::string_view::npos)) {
      return Invalid(
          Cat("external reference with source_name \"capec\" needs "
              "external_id CAPEC-<number>, found \"",
              ext_id, "\""));
    }
    if (source == "cve" && has_ext_id && ext_id.substr(0, 4) != "CVE-") {
      return Invalid(
          Cat("external reference with source_name \"cve\" needs "
              "external_id CVE-YYYY-NNNN, found \"",
              ext_id, "\""));
    }
    ++i;
  }
  return absl::OkStatus();
}

}  // namespace

std::string Join(const std::vector<std::string_view>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.append(sep);
    out.append(v[i]);
  }
  return out;
}

const char* JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "a list";
    case element_type::OBJECT: return "an object";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

absl::Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

// Short rendering of a value for messages.
std::string Show(element e) {
  std::string s = simdjson::minify(e);
  if (s.size() > 80) s = Cat(s.substr(0, 77), "...");
  return s;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Type names: 3..250 chars of a-z 0-9 '-', starting with a letter, no "--", no trailing '-'.
bool ValidTypeName(std::string_view t) {
  if (t.size() < 3 || t.size() > 250) return false;
  if (!(t[0] >= 'a' && t[0] <= 'z') || t.back() == '-') return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!IsLowerAlnum(t[i]) && t[i] != '-') return false;
    if (t[i] == '-' && i + 1 < t.size() && t[i + 1] == '-') return false;
  }
  return true;
}

// RFC 4122 UUID in textual form: versions 1-5, variant bits 10xx (the schema's rule).
bool ValidUuid(std::string_view u) { return common::IsRfc4122Uuid(u); }

// "<type>--<uuid>" -> type, or "" when `s` is not an identifier.
std::string_view IdType(std::string_view s) {
  size_t p = s.find("--");
  if (p == std::string_view::npos) return {};
  std::string_view t = s.substr(0, p);
  if (!ValidTypeName(t) || !ValidUuid(s.substr(p + 2))) return {};
  return t;
}

bool IsSco(std::string_view type) {
  for (auto t : kScoTypes) {
    if (t == type) return true;
  }
  return false;
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  for (auto x : v) {
    if (x == s) return true;
  }
  return false;
}

// Checks one identifier value; `where` names the property for messages.
absl::Status CheckIdentifier(element e, std::string_view where,
                             const std::vector<std::string_view>& targets) {
  std::string_view s;
  if (e.get_string().get(s)) {
    return Invalid(
        Cat("'", where, "' must be an identifier string, found ", JsonTypeName(e.type())));
  }
  std::string_view t = IdType(s);
  if (t.empty()) {
    return Invalid(Cat("'", where, "' must be an identifier (<type>--<UUID>), found \"", s, "\""));
  }
  if (!targets.empty() && !Contains(targets, t)) {
    return Invalid(
        Cat("'", where, "' must reference ", Join(targets, " or "), ", found \"", s, "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckTimestamp(element e, std::string_view where, int min_fraction_digits,
                            common::Micros* out) {
  std::string_view s;
  if (e.get_string().get(s)) {
    return Invalid(Cat("'", where, "' must be a timestamp string, found ", JsonTypeName(e.type())));
  }
  auto parsed = common::ParseTimestamp(s);
  if (!parsed.ok()) {
    return Invalid(
        Cat("'", where, "' is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z): \"", s, "\""));
  }
  if (parsed->fraction_digits < min_fraction_digits) {
    return Invalid(
        Cat("'", where, "' must have at least millisecond precision, found \"", s, "\""));
  }
  if (out != nullptr) *out = parsed->micros;
  return absl::OkStatus();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

absl::Status CheckHashes(element e, std::string_view where) {
  object o;
  if (e.get_object().get(o)) {
    return Invalid(
        Cat("'", where, "' must be a hashes dictionary, found ", JsonTypeName(e.type())));
  }
  if (o.size() == 0) return Invalid(Cat("'", where, "' is an empty hashes dictionary"));
  for (auto f : o) {
    if (f.key.size() < 3 || f.key.size() > 250 || !ValidDictKey(f.key)) {
      return Invalid(Cat("'", where, "' hash name \"", f.key,
                         "\" must be 3-250 characters of a-z, A-Z, 0-9, '-' and '_'"));
    }
    std::string_view v;
    if (f.value.get_string().get(v)) {
      return Invalid(Cat("'", where, "' value for \"", f.key, "\" must be a string"));
    }
    for (const auto& h : kHashFormats) {
      if (!EqualsIgnoreCase(f.key, h.name)) continue;
      if (v.size() != h.hex_len || !common::IsHex(v)) {
        return Invalid(Cat("'", where, "' ", h.name, " must be ", h.hex_len,
                           " hex digits, found \"", v, "\""));
      }
    }
  }
  return absl::OkStatus();
}

// Checks one property value against its declared type.
absl::Status CheckValue(const Prop& p, element v, object root) {
  switch (p.t) {
    case T::kString:
      if (v.type() != element_type::STRING) {
        return Invalid(Cat("'", p.name, "' must be a string, found ", JsonTypeName(v.type())));
      }
      return absl::OkStatus();
    case T::kBool:
      if (v.type() != element_type::BOOL) {
        return Invalid(Cat("'", p.name, "' must be a boolean, found ", Show(v)));
      }
      return absl::OkStatus();
    case T::kInteger: return CheckInteger(v, p.name, p.min, p.max);
    case T::kFloat: {
      double d = 0;
      if (v.get_double().get(d)) {
        return Invalid(Cat("'", p.name, "' must be a number, found ", Show(v)));
      }
      if (d < p.min || d > p.max) {
        return Invalid(Cat(
            "'", p.name, "' must be between ", static_cast<int64_t>(p.min), " and ",
            p.max == kNoMax ? std::string("infinity") : std::to_string(static_cast<int64_t>(p.max)),
            ", found ", Show(v)));
      }
      return absl::OkStatus();
    }
    case T::kTimestamp: return CheckTimestamp(v, p.name, 0, nullptr);
    case T::kId: return CheckIdentifier(v, p.name, p.values);
    case T::kIdList: {
      array a;
      if (v.get_array().get(a)) {
        return Invalid(
            Cat("'", p.name, "' must be a list of identifiers, found ", JsonTypeName(v.type())));
      }
      for (element item : a) ACCORD_RETURN_IF_ERROR(CheckIdentifier(item, p.name, p.values));
      return absl::OkStatus();
    }
    case T::kStringList: return CheckStringList(v, p.name);
    case T::kEnum: {
      std::string_view s;
      if (v.get_string().get(s) || !Contains(p.values, s)) {
        return Invalid(
            Cat("'", p.name, "' must be one of ", Join(p.values, ", "), "; found ", Show(v)));
      }
      return absl::OkStatus();
    }
    case T::kEnumList: {
      ACCORD_RETURN_IF_ERROR(CheckStringList(v, p.name));
      array items = v.get_array().value_unsafe();
      for (element item : items) {
        if (!Contains(p.values, item.get_string().value_unsafe())) {
          return Invalid(Cat("'", p.name, "' values must be one of ", Join(p.values, ", "),
                             "; found ", Show(item)));
        }
      }
      return absl::OkStatus();
    }
    case T::kKillChain: return CheckKillChain(v, p.name);
    case T::kExtRefs: return CheckExternalRefs(v, p.name);
    case T::kGranular: return CheckGranular(v, root);
    case T::kDict: return CheckDict(v, p.name);
    case T::kHashes: return CheckHashes(v, p.name);
    case T::kHex: return CheckHex(v, p.name);
    case T::kBinary: return CheckBinary(v, p.name);
    case T::kObjectList: {
      array a;
      if (v.get_array().get(a)) {
        return Invalid(
            Cat("'", p.name, "' must be a list of objects, found ", JsonTypeName(v.type())));
      }
      for (element item : a) {
        if (item.type() != element_type::OBJECT) {
          return Invalid(Cat("'", p.name, "' must be a list of objects; found ", Show(item)));
        }
      }
      return absl::OkStatus();
    }
    case T::kObject:
      if (v.type() != element_type::OBJECT) {
        return Invalid(Cat("'", p.name, "' must be an object, found ", JsonTypeName(v.type())));
      }
      return absl::OkStatus();
    case T::kExtensions:
    case T::kAny: return absl::OkStatus();
  }
  return absl::OkStatus();
}

// No JSON null (§1), no empty list or dictionary as a property value, no non-finite number.
// Spec-defined properties are checked all the way down; for custom properties only the value
// itself (nested content of custom properties, e.g. ATT&CK's x_mitre_related_assets with an
// empty list or a honeypot feed's null country, is the producer's own business and is kept).
absl::Status CheckNoNullOrEmpty(element e, std::string_view path, int depth, bool recurse) {
  if (depth > 64) return Invalid(Cat("'", path, "' is nested too deeply"));
  switch (e.type()) {
    case element_type::NULL_VALUE:
      return Invalid(Cat("'", path, "' is null; null is not a valid STIX value"));
    case element_type::ARRAY: {
      array a = e.get_array().value_unsafe();
      if (a.size() == 0 && (depth == 1 || recurse)) {
        return Invalid(Cat("'", path, "' is an empty list; STIX forbids empty lists"));
      }
      if (!recurse) return absl::OkStatus();
      for (element item : a) {
        ACCORD_RETURN_IF_ERROR(CheckNoNullOrEmpty(item, path, depth + 1, recurse));
      }
      return absl::OkStatus();
    }
    case element_type::OBJECT: {
      object o = e.get_object().value_unsafe();
      if (o.size() == 0 && depth == 1) {
        return Invalid(Cat("'", path, "' is an empty dictionary; STIX forbids empty dictionaries"));
      }
      if (!recurse) return absl::OkStatus();
      for (auto f : o) {
        ACCORD_RETURN_IF_ERROR(
            CheckNoNullOrEmpty(f.value, Cat(path, ".", f.key), depth + 1, recurse));
      }
      return absl::OkStatus();
    }
    case element_type::DOUBLE: {
      double d = e.get_double().value_unsafe();
      if (!std::isfinite(d)) return Invalid(Cat("'", path, "' is not a finite number"));
      return absl::OkStatus();
    }
    default: return absl::OkStatus();
  }
}

bool ValidPropertyName(std::string_view n) {
  if (n.size() < 3 || n.size() > 250) return false;
  for (char c : n) {
    if (!IsLowerAlnum(c) && c != '_') return false;
  }
  return true;
}

bool HasSuffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Properties whose names imply a type (§1): *_ref, *_refs, *_hex, *_bin.
absl::Status CheckBySuffix(std::string_view name, element v) {
  if (HasSuffix(name, "_ref")) return CheckIdentifier(v, name, {});
  if (HasSuffix(name, "_refs")) {
    array a;
    if (v.get_array().get(a)) {
      return Invalid(
          Cat("'", name, "' must be a list of identifiers, found ", JsonTypeName(v.type())));
    }
    for (element item : a) ACCORD_RETURN_IF_ERROR(CheckIdentifier(item, name, {}));
    return absl::OkStatus();
  }
  if (HasSuffix(name, "_hex")) return CheckHex(v, name);
  if (HasSuffix(name, "_bin")) return CheckBinary(v, name);
  return absl::OkStatus();
}

std::string_view GetString(object o, std::string_view key) {
  std::string_view s;
  if (o[key].get_string().get(s)) return {};
  return s;
}

}  // namespace accord::stix::detail
