// MISP event JSON -> STIX 2.1 objects, and STIX indicators -> MISP events. The mapping, type by
// type, is documented in docs/FORMATS.md ("MISP events"); comments here say why the code has
// its shape.
#include "accord/formats/misp.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "accord/common/encoding.h"
#include "accord/common/io.h"
#include "accord/common/ip.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/stix/dom.h"
#include "stix/sco_id.h"

namespace accord::formats {
namespace {

using common::Cat;
using common::Micros;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr Micros kMicrosPerSecond = 1000000;
constexpr size_t kMaxValueBytes = 64 * 1024;          // longer values of mapped types are malformed
constexpr size_t kMaxEventUsesRelationships = 10000;  // actor x (malware|tool|technique) cap

// TLP marking definitions. STIX 2.1 §7.2.1.4 (TLP 1.0) for white/green/amber/red, and the TLP 2.0
// ids for clear and amber+strict. Copied from src/policy/tlp.cc (TlpMarkingId and the TLP 1.0
// table in TlpOfMarking): formats must not link accord_policy. Keep in step with that file.
constexpr std::string_view kTlpWhite = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
constexpr std::string_view kTlpGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
constexpr std::string_view kTlpAmber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
constexpr std::string_view kTlpRed = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
constexpr std::string_view kTlp2Clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
constexpr std::string_view kTlp2AmberStrict =
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";

// ---------------------------------------------------------------------------------------------
// Small helpers

using common::AsciiLower;
using common::AsciiToLower;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// At most `n` bytes of `s`, cut at a UTF-8 character boundary (names and messages stay UTF-8).
std::string_view Prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// The uuid part of a STIX id; a UUIDv5 of the whole id when it has none.
std::string UuidPart(std::string_view id);

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!ok) return false;
  }
  return true;
}

// Whitespace or a control byte (values of network types never contain them).
bool HasSpaceOrControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// `"key":"value"` after a comma.
void AddStr(std::string* out, std::string_view key, std::string_view value) {
  out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
  AppendJsonString(out, value);
}

// `"key":raw` after a comma.
void AddRaw(std::string* out, std::string_view key, std::string_view raw) {
  out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
  out->append(raw);
}

// The bytes JSON array `items` takes when no string needs an escape.
size_t JsonStringListSize(const std::vector<std::string>& items) {
  size_t size = 2;
  for (const std::string& i : items) size += i.size() + 3;
  return size;
}

// Appends `items` as a JSON array of strings.
void AppendJsonStringList(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, items[i]);
  }
  out->push_back(']');
}

std::string JsonStringList(const std::vector<std::string>& items) {
  std::string out;
  out.reserve(JsonStringListSize(items));
  AppendJsonStringList(&out, items);
  return out;
}

// The string member `key` of `o`, or "" when absent or not a string.
std::string_view Str(object o, std::string_view key) {
  std::string_view v;
  if (o[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

// Unix seconds as MISP writes them: a decimal string ("1515429134") or a number.
std::optional<int64_t> Seconds(object o, std::string_view key) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  int64_t i = 0;
  uint64_t u = 0;
  std::string_view s;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return i;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return std::nullopt;  // beyond int64
  if (e.get_string().get(s) == simdjson::SUCCESS && IsDigits(s) && s.size() <= 12) {
    int64_t v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
  }
  return std::nullopt;
}

// Seconds that FormatTimestampMillis can print (years 1970..9999).
bool SaneSeconds(int64_t s) { return s > 0 && s < 253402300799; }

// MISP writes booleans as true/false, "1"/"0", 1/0 or "true"/"false".
bool Flag(object o, std::string_view key) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS) return false;
  bool b = false;
  int64_t i = 0;
  std::string_view s;
  if (e.get_bool().get(b) == simdjson::SUCCESS) return b;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return i != 0;
  if (e.get_string().get(s) == simdjson::SUCCESS) return s == "1" || IEquals(s, "true");
  return false;
}

// "YYYY-MM-DD" as the instant of its midnight UTC.
std::optional<Micros> DateMicros(std::string_view date) {
  if (date.size() != 10) return std::nullopt;
  auto t = common::ParseTimestamp(Cat(date, "T00:00:00Z"));
  if (!t.ok() || t->micros <= 0) return std::nullopt;
  return t->micros;
}

// REQUIRES: the result is used before the next call on this thread.
const std::string& Ts(Micros t) {
  // PERF: the attributes of an event share a handful of timestamps, and an indicator writes
  // three; remembering the last one saves ~2 of 3 formattings. One per thread, as the
  // conversion is a pure function that may run on several threads.
  thread_local Micros last = -1;
  thread_local std::string last_text;
  if (t != last) {
    last = t;
    last_text = common::FormatTimestampMillis(t);
  }
  return last_text;
}

// A MISP uuid usable as the uuid part of a STIX id (the STIX schemas want RFC 4122 v1-v5).
std::optional<std::string> StixUuid(std::string_view s) {
  if (!common::IsRfc4122Uuid(s)) return std::nullopt;
  return AsciiToLower(s);
}

// Relationship types must use a-z, 0-9 and '-' (STIX 2.1 §5.1).
std::string RelationshipType(std::string_view misp) {
  std::string out;
  for (char c : misp) {
    char l = AsciiLower(c);
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-') {
      out.push_back(l);
    } else if (l == '_' || l == ' ') {
      out.push_back('-');
    }
  }
  if (out.empty()) out = "related-to";
  return out;
}

// ---------------------------------------------------------------------------------------------
// The attribute types: how each is checked and mapped.

enum class Kind {
  kIp,
  kIpPort,
  kDomain,
  kDomainIp,
  kUrl,
  kEmail,
  kHash,
  kFilenameHash,
  kFilename,
  kMutex,
  kRegkey,
  kRegkeyValue,
  kLink,
  kVulnerability,
};

struct TypeInfo {
  Kind kind;
  std::string_view hash;  // STIX hash algorithm for kHash/kFilenameHash
  size_t hash_len = 0;    // hex digits; 0 for SSDEEP (checked by shape)
  bool src = false;       // ip-src|port: the source side
};

const std::unordered_map<std::string_view, TypeInfo>& Types() {
  static const auto* kTypes = new std::unordered_map<std::string_view, TypeInfo>{
      {"ip-src", {Kind::kIp, {}, 0, true}},
      {"ip-dst", {Kind::kIp, {}, 0, false}},
      {"ip-src|port", {Kind::kIpPort, {}, 0, true}},
      {"ip-dst|port", {Kind::kIpPort, {}, 0, false}},
      {"domain", {Kind::kDomain, {}, 0, false}},
      {"hostname", {Kind::kDomain, {}, 0, false}},
      {"domain|ip", {Kind::kDomainIp, {}, 0, false}},
      {"url", {Kind::kUrl, {}, 0, false}},
      {"uri", {Kind::kUrl, {}, 0, false}},
      {"email", {Kind::kEmail, {}, 0, false}},
      {"email-src", {Kind::kEmail, {}, 0, false}},
      {"email-dst", {Kind::kEmail, {}, 0, false}},
      {"md5", {Kind::kHash, "MD5", 32, false}},
      {"sha1", {Kind::kHash, "SHA-1", 40, false}},
      {"sha256", {Kind::kHash, "SHA-256", 64, false}},
      {"sha512", {Kind::kHash, "SHA-512", 128, false}},
      {"ssdeep", {Kind::kHash, "SSDEEP", 0, false}},
      {"filename|md5", {Kind::kFilenameHash, "MD5", 32, false}},
      {"filename|sha1", {Kind::kFilenameHash, "SHA-1", 40, false}},
      {"filename|sha256", {Kind::kFilenameHash, "SHA-256", 64, false}},
      {"filename|sha512", {Kind::kFilenameHash, "SHA-512", 128, false}},
      {"filename", {Kind::kFilename, {}, 0, false}},
      {"mutex", {Kind::kMutex, {}, 0, false}},
      {"regkey", {Kind::kRegkey, {}, 0, false}},
      {"regkey|value", {Kind::kRegkeyValue, {}, 0, false}},
      {"link", {Kind::kLink, {}, 0, false}},
      {"vulnerability", {Kind::kVulnerability, {}, 0, false}},
  };
  return *kTypes;
}

// The pattern path of a file hash: file:hashes.MD5, file:hashes.'SHA-256'.
std::string HashPath(std::string_view alg) {
  if (alg == "MD5" || alg == "SSDEEP") return Cat("file:hashes.", alg);
  return Cat("file:hashes.'", alg, "'");
}

// ssdeep: "blocksize:hash:hash" (digits, then two base64 runs).
bool IsSsdeep(std::string_view v) {
  size_t a = v.find(':');
  if (a == std::string_view::npos || !IsDigits(v.substr(0, a))) return false;
  size_t b = v.find(':', a + 1);
  if (b == std::string_view::npos || b == a + 1 || b + 1 >= v.size()) return false;
  return !HasSpaceOrControl(v);
}

bool IsDomain(std::string_view v) {
  if (v.empty() || v.size() > 253) return false;
  bool has_label_char = false;
  for (unsigned char c : v) {
    if (c <= 0x20 || c == 0x7f) return false;
    if (std::string_view("/\\:@'\"<>|,;()[]{}*?!#$%&=+~^`").find(static_cast<char>(c)) !=
        std::string_view::npos) {
      return false;
    }
    if (c != '.') has_label_char = true;
  }
  return has_label_char;
}

bool IsEmail(std::string_view v) {
  size_t at = v.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < v.size() && !HasSpaceOrControl(v) &&
         v.size() <= 320;
}

// CVE-YYYY-NNNN+ (any case), upper-cased into `out`.
bool IsCve(std::string_view v, std::string* out) {
  if (v.size() < 13 || !IEquals(v.substr(0, 4), "cve-")) return false;
  size_t dash = v.find('-', 4);
  if (dash != 8 || !IsDigits(v.substr(4, 4)) || !IsDigits(v.substr(9)) || v.size() - 9 < 4) {
    return false;
  }
  *out = Cat("CVE-", v.substr(4));
  return true;
}

// ---------------------------------------------------------------------------------------------
// One mapped attribute: the pattern (for to_ids) and the SCOs (for the others).

struct Sco {
  std::string type;
  std::string body;  // members after "id", each with a leading comma; refs use "${N}" = id of N
};

struct Mapped {
  std::vector<std::string> comparisons;  // joined with AND inside one observation
  std::vector<Sco> scos;                 // the last one is the representative
  std::string normalized;                // the MISP value as converted (for names)
};

// Checks `value` for `type` and builds its pattern comparisons and SCOs; the error message says
// which rule is broken.
absl::StatusOr<Mapped> MapValue(std::string_view type, const TypeInfo& t, std::string_view value) {
  Mapped m;
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(Cat("value is longer than ", kMaxValueBytes, " bytes"));
  }
  if (value.empty()) return absl::InvalidArgumentError("value is empty");
  auto ip_sco = [](const common::IpPrefix& p, std::string_view v) {
    std::string body;
    AddStr(&body, "value", v);
    return Sco{p.family == 4 ? "ipv4-addr" : "ipv6-addr", body};
  };
  auto split = [&](char sep,
                   bool last) -> absl::StatusOr<std::pair<std::string_view, std::string_view>> {
    size_t bar = last ? value.rfind(sep) : value.find(sep);
    if (bar == std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat("'", type, "' needs two parts separated by '", sep, "'"));
    }
    return std::make_pair(value.substr(0, bar), value.substr(bar + 1));
  };
  switch (t.kind) {
    case Kind::kIp: {
      common::IpPrefix p;
      if (!common::ParseIpPrefix(value, &p)) {
        return absl::InvalidArgumentError(Cat("'", value, "' is not an IP address or CIDR"));
      }
      m.normalized = std::string(value);
      std::string c = p.family == 4 ? "ipv4-addr:value = " : "ipv6-addr:value = ";
      AppendPatternString(&c, value);
      m.comparisons.push_back(std::move(c));
      m.scos.push_back(ip_sco(p, value));
      return m;
    }
    case Kind::kIpPort: {
      // "ip|port"; MISP also accepts "ip:port" for IPv4 in older exports.
      size_t bar = value.rfind('|');
      if (bar == std::string_view::npos && value.find(':') == value.rfind(':'))
        bar = value.rfind(':');
      if (bar == std::string_view::npos) {
        return absl::InvalidArgumentError(
            Cat("'", type, "' needs an address and a port separated by '|'"));
      }
      std::string_view ip = value.substr(0, bar), port = value.substr(bar + 1);
      common::IpPrefix p;
      if (!common::ParseIpPrefix(ip, &p) || p.prefix != (p.family == 4 ? 32 : 128)) {
        return absl::InvalidArgumentError(Cat("'", ip, "' is not an IP address"));
      }
      if (!IsDigits(port) || port.size() > 5 || std::stoi(std::string(port)) > 65535) {
        return absl::InvalidArgumentError(Cat("'", port, "' is not a port (0-65535)"));
      }
      int port_n = std::stoi(std::string(port));
      std::string_view side = t.src ? "src" : "dst";
      std::string_view addr_type = p.family == 4 ? "ipv4-addr" : "ipv6-addr";
      m.normalized = Cat(ip, "|", port_n);
      std::string c1 = Cat("network-traffic:", side, "_ref.type = ");
      AppendPatternString(&c1, addr_type);
      std::string c2 = Cat("network-traffic:", side, "_ref.value = ");
      AppendPatternString(&c2, ip);
      m.comparisons = {std::move(c1), std::move(c2),
                       Cat("network-traffic:", side, "_port = ", port_n)};
      m.scos.push_back(ip_sco(p, ip));
      std::string body;
      AddStr(&body, Cat(side, "_ref"), "${0}");
      AddRaw(&body, Cat(side, "_port"), std::to_string(port_n));
      AddRaw(&body, "protocols", p.family == 4 ? R"(["ipv4"])" : R"(["ipv6"])");
      m.scos.push_back(Sco{"network-traffic", body});
      return m;
    }
    case Kind::kDomain: {
      if (!IsDomain(value))
        return absl::InvalidArgumentError(Cat("'", value, "' is not a domain name"));
      m.normalized = AsciiToLower(value);
      std::string c = "domain-name:value = ";
      AppendPatternString(&c, m.normalized);
      m.comparisons.push_back(std::move(c));
      std::string body;
      AddStr(&body, "value", m.normalized);
      m.scos.push_back(Sco{"domain-name", body});
      return m;
    }
    case Kind::kDomainIp: {
      ACCORD_ASSIGN_OR_RETURN(auto parts, split('|', false));
      if (!IsDomain(parts.first)) {
        return absl::InvalidArgumentError(Cat("'", parts.first, "' is not a domain name"));
      }
      common::IpPrefix p;
      if (!common::ParseIpPrefix(parts.second, &p)) {
        return absl::InvalidArgumentError(Cat("'", parts.second, "' is not an IP address"));
      }
      std::string d = AsciiToLower(parts.first);
      m.normalized = Cat(d, "|", parts.second);
      std::string c1 = "domain-name:value = ";
      AppendPatternString(&c1, d);
      std::string c2 = "domain-name:resolves_to_refs[*].value = ";
      AppendPatternString(&c2, parts.second);
      m.comparisons = {std::move(c1), std::move(c2)};
      m.scos.push_back(ip_sco(p, parts.second));
      std::string body;
      AddStr(&body, "value", d);
      AddRaw(&body, "resolves_to_refs", R"(["${0}"])");
      m.scos.push_back(Sco{"domain-name", body});
      return m;
    }
    case Kind::kUrl: {
      // Real URLs carry unencoded spaces ("/DOVIDNIK - (2018).zip"); line breaks and other
      // control characters are never part of one.
      if (HasControl(value)) {
        return absl::InvalidArgumentError(Cat("'", value, "' contains control characters"));
      }
      m.normalized = std::string(value);
      std::string c = "url:value = ";
      AppendPatternString(&c, value);
      m.comparisons.push_back(std::move(c));
      std::string body;
      AddStr(&body, "value", value);
      m.scos.push_back(Sco{"url", body});
      return m;
    }
    case Kind::kEmail: {
      if (!IsEmail(value))
        return absl::InvalidArgumentError(Cat("'", value, "' is not an e-mail address"));
      m.normalized = std::string(value);
      std::string c = "email-addr:value = ";
      AppendPatternString(&c, value);
      m.comparisons.push_back(std::move(c));
      std::string body;
      AddStr(&body, "value", value);
      m.scos.push_back(Sco{"email-addr", body});
      return m;
    }
    case Kind::kHash:
    case Kind::kFilenameHash: {
      std::string_view name, hash = value;
      if (t.kind == Kind::kFilenameHash) {
        ACCORD_ASSIGN_OR_RETURN(auto parts, split('|', true));
        name = parts.first;
        hash = parts.second;
        if (name.empty() || HasControl(name)) {
          return absl::InvalidArgumentError(Cat("'", name, "' is not a file name"));
        }
      }
      bool ok = t.hash_len ? IsHex(hash, t.hash_len) : IsSsdeep(hash);
      if (!ok) {
        return absl::InvalidArgumentError(
            t.hash_len ? Cat("'", hash, "' is not ", t.hash_len, " hex digits (", t.hash, ")")
                       : Cat("'", hash, "' is not an ssdeep hash (blocksize:hash:hash)"));
      }
      std::string h = t.hash_len ? AsciiToLower(hash) : std::string(hash);
      m.normalized = name.empty() ? h : Cat(name, "|", h);
      if (!name.empty()) {
        std::string c = "file:name = ";
        AppendPatternString(&c, name);
        m.comparisons.push_back(std::move(c));
      }
      std::string c = Cat(HashPath(t.hash), " = ");
      AppendPatternString(&c, h);
      m.comparisons.push_back(std::move(c));
      std::string body;
      std::string hashes = "{";
      AppendJsonString(&hashes, t.hash);
      hashes.push_back(':');
      AppendJsonString(&hashes, h);
      hashes.push_back('}');
      AddRaw(&body, "hashes", hashes);
      if (!name.empty()) AddStr(&body, "name", name);
      m.scos.push_back(Sco{"file", body});
      return m;
    }
    case Kind::kFilename:
    case Kind::kMutex:
    case Kind::kRegkey: {
      if (HasControl(value)) {
        return absl::InvalidArgumentError(Cat("'", type, "' value contains control characters"));
      }
      m.normalized = std::string(value);
      std::string_view sco = t.kind == Kind::kFilename ? "file"
                             : t.kind == Kind::kMutex  ? "mutex"
                                                       : "windows-registry-key";
      std::string_view prop = t.kind == Kind::kRegkey ? "key" : "name";
      std::string c = Cat(sco, ":", prop, " = ");
      AppendPatternString(&c, value);
      m.comparisons.push_back(std::move(c));
      std::string body;
      AddStr(&body, prop, value);
      m.scos.push_back(Sco{std::string(sco), body});
      return m;
    }
    case Kind::kRegkeyValue: {
      ACCORD_ASSIGN_OR_RETURN(auto parts, split('|', false));
      if (parts.first.empty() || HasControl(parts.first) || HasControl(parts.second)) {
        return absl::InvalidArgumentError(
            "'regkey|value' needs a registry key before '|', and no control characters");
      }
      m.normalized = std::string(value);
      std::string c1 = "windows-registry-key:key = ";
      AppendPatternString(&c1, parts.first);
      std::string c2 = "windows-registry-key:values[*].data = ";
      AppendPatternString(&c2, parts.second);
      m.comparisons = {std::move(c1), std::move(c2)};
      std::string body;
      AddStr(&body, "key", parts.first);
      std::string values = R"([{"data":)";
      AppendJsonString(&values, parts.second);
      values += "}]";
      AddRaw(&body, "values", values);
      m.scos.push_back(Sco{"windows-registry-key", body});
      return m;
    }
    case Kind::kLink:
    case Kind::kVulnerability: break;  // handled by the caller
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Galaxies

struct GalaxyTarget {
  std::string_view stix_type;
  bool actor = false;  // threat-actor, intrusion-set: "uses" the others of its event
};

std::optional<GalaxyTarget> GalaxyType(std::string_view g) {
  static const auto* kMap = new std::unordered_map<std::string_view, std::string_view>{
      {"threat-actor", "threat-actor"},
      {"mitre-intrusion-set", "intrusion-set"},
      {"mitre-enterprise-attack-intrusion-set", "intrusion-set"},
      {"mitre-mobile-attack-intrusion-set", "intrusion-set"},
      {"mitre-pre-attack-intrusion-set", "intrusion-set"},
      {"mitre-attack-pattern", "attack-pattern"},
      {"mitre-enterprise-attack-attack-pattern", "attack-pattern"},
      {"mitre-mobile-attack-attack-pattern", "attack-pattern"},
      {"mitre-pre-attack-attack-pattern", "attack-pattern"},
      {"mitre-malware", "malware"},
      {"mitre-enterprise-attack-malware", "malware"},
      {"mitre-mobile-attack-malware", "malware"},
      {"malpedia", "malware"},
      {"ransomware", "malware"},
      {"banker", "malware"},
      {"botnet", "malware"},
      {"rat", "malware"},
      {"backdoor", "malware"},
      {"stealer", "malware"},
      {"android", "malware"},
      {"mitre-tool", "tool"},
      {"mitre-enterprise-attack-tool", "tool"},
      {"mitre-mobile-attack-tool", "tool"},
      {"tool", "tool"},
      {"mitre-course-of-action", "course-of-action"},
      {"mitre-enterprise-attack-course-of-action", "course-of-action"},
      {"mitre-mobile-attack-course-of-action", "course-of-action"},
  };
  auto it = kMap->find(g);
  if (it == kMap->end()) return std::nullopt;
  return GalaxyTarget{it->second, it->second == "threat-actor" || it->second == "intrusion-set"};
}

// "T1583" or "T1583.002".
bool IsAttackId(std::string_view s) {
  if (s.size() < 5 || s[0] != 'T' || !IsDigits(s.substr(1, 4))) return false;
  if (s.size() == 5) return true;
  return s.size() == 9 && s[5] == '.' && IsDigits(s.substr(6));
}

// ---------------------------------------------------------------------------------------------
// One event

class EventConverter {
 public:
  EventConverter(const ConvertOptions& o, const ProblemSink& on_problem, MispStats* stats,
                 simdjson::dom::parser* scratch, UnitStream* out)
      : o_(o), on_problem_(on_problem), stats_(stats), scratch_(scratch), out_(out) {}

  // Converts `ev`, handing its objects to `out` (Begin, then Add for each; the caller ends or
  // aborts the unit). An error only in strict mode (the first problem) or when the event as a
  // whole cannot be converted (reported, and the caller skips it); an error of `out` is
  // out_error(), not the result.
  absl::Status Convert(object ev);
  // Whether Begin was called (the caller then ends or aborts the unit).
  bool begun() const { return begun_; }
  // The first error of `out` (Begin or Add): the conversion stopped there.
  const absl::Status& out_error() const { return out_error_; }

 private:
  struct Cluster {
    std::string id;
    std::string_view stix_type;
    bool actor = false;
  };

  // Hands a problem about one attribute (or, with an empty uuid, the event) to the sink; in strict
  // mode a problem that is not a warning is returned as an InvalidArgument error instead.
  absl::Status AttributeProblem(std::string_view attr_uuid, std::string message,
                                bool warning = false);
  void Emit(std::string id, std::string json);
  // The markings JSON of a holder; a reference to the event's or to `*buf`.
  const std::string& Markings(object attr_or_object, std::string* buf);
  std::string CommonSdo(std::string_view type, std::string_view id, Micros created, Micros modified,
                        std::string_view markings, bool created_by = true);
  // Returns the ids of the clusters named by `galaxies` (Galaxy arrays) and `tags`.
  std::vector<Cluster> Clusters(object holder);
  std::optional<Cluster> ClusterOf(std::string_view galaxy_type, std::string_view value,
                                   std::string_view uuid, object cluster, bool has_cluster);
  std::string EmitSco(const Sco& s, const std::vector<std::string>& ids, std::string_view markings);
  absl::Status Attributes(array attrs, std::string_view object_uuid, object misp_object,
                          bool in_object);
  void Relate(std::string_view type, const std::string& source, const std::string& target);

  const ConvertOptions& o_;
  const ProblemSink& on_problem_;
  MispStats* stats_;
  simdjson::dom::parser* scratch_;
  UnitStream* out_;
  bool begun_ = false;
  absl::Status out_error_;

  std::string event_uuid_;  // as written (for messages)
  std::string event_key_;   // uuid or derived key for ids
  Micros event_created_ = 0, event_modified_ = 0;
  std::string created_by_;
  std::string event_markings_;  // ,"object_marking_refs":[...] or ""
  std::vector<std::string_view> event_marking_ids_;
  std::vector<std::string> refs_;  // ids of the objects emitted, for the report
  // PERF: one probe per object of a 150,000-attribute event (std::unordered_set: ~5% of the
  // conversion in hashing and node allocations).
  absl::flat_hash_set<std::string> ids_;
  // MISP uuid -> STIX id, for ObjectReference targets; filled only when the event has any.
  std::unordered_map<std::string, std::string> rep_;
  bool need_rep_ = false;
  // Tag name -> cluster, for the clusters of Galaxy blocks: a misp-galaxy tag on an attribute
  // names the same cluster as the event's Galaxy block, with its uuid-based id.
  std::unordered_map<std::string, Cluster> cluster_by_tag_;
  std::vector<std::string> links_;
};

absl::Status EventConverter::AttributeProblem(std::string_view attr_uuid, std::string message,
                                              bool warning) {
  stix::Problem p;
  p.location = Cat(o_.source_name, ": event ", event_uuid_.empty() ? "(no uuid)" : event_uuid_);
  p.object_id = std::string(attr_uuid);
  p.message = std::move(message);
  p.warning = warning;
  if (o_.strict && !warning) {
    return absl::InvalidArgumentError(Cat(p.location, ": ", p.message));
  }
  on_problem_(std::move(p));
  return absl::OkStatus();
}

// PERF: each object goes to the stream as soon as it is written (the store's writer starts on
// an event's first objects while the rest convert), instead of an ~80 MB vector for a
// 150,000-attribute event that was then copied again into JSON lines.
void EventConverter::Emit(std::string id, std::string json) {
  if (!ids_.insert(id).second) return;  // the same SCO or galaxy object twice in one event
  if (out_error_.ok()) out_error_ = out_->Add(std::move(json));
  refs_.push_back(std::move(id));
}

std::string EventConverter::CommonSdo(std::string_view type, std::string_view id, Micros created,
                                      Micros modified, std::string_view markings, bool created_by) {
  std::string out;
  out.reserve(640);  // PERF: an indicator is ~500 bytes; one allocation instead of ~6 regrowths
  out += R"({"type":)";
  AppendJsonString(&out, type);
  out += R"(,"spec_version":"2.1","id":)";
  AppendJsonString(&out, id);
  AddStr(&out, "created", Ts(created));
  AddStr(&out, "modified", Ts(std::max(created, modified)));
  if (created_by && !created_by_.empty()) AddStr(&out, "created_by_ref", created_by_);
  out += markings;
  return out;
}

// The TLP marking definition of a MISP tag ("tlp:amber", any case), or "".
std::string_view TlpId(std::string_view tag) {
  if (!IEquals(tag.substr(0, 4), "tlp:")) return {};
  std::string n = AsciiToLower(tag.substr(4));
  if (n.size() >= 2 && n.front() == '"' && n.back() == '"') n = n.substr(1, n.size() - 2);
  if (n == "white") return kTlpWhite;
  if (n == "clear") return kTlp2Clear;
  if (n == "green") return kTlpGreen;
  if (n == "amber") return kTlpAmber;
  if (n == "amber+strict") return kTlp2AmberStrict;
  if (n == "red") return kTlpRed;
  return {};
}

// Adds the TLP markings of `holder`'s Tag array to `ids`.
void AddTlpIds(object holder, std::vector<std::string_view>* ids) {
  array tags;
  if (holder["Tag"].get_array().get(tags) != simdjson::SUCCESS) return;
  for (element t : tags) {
    object to;
    if (t.get_object().get(to) != simdjson::SUCCESS) continue;
    std::string_view id = TlpId(Str(to, "name"));
    if (!id.empty() && std::find(ids->begin(), ids->end(), id) == ids->end()) ids->push_back(id);
  }
}

std::string MarkingsJson(const std::vector<std::string_view>& ids) {
  if (ids.empty()) return {};
  std::string out = R"(,"object_marking_refs":[)";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(&out, ids[i]);
  }
  out.push_back(']');
  return out;
}

// The TLP markings of an attribute or object, merged with the event's: the union, so that a
// tag on either never loosens the other (the egress gate applies the strictest).
const std::string& EventConverter::Markings(object holder, std::string* buf) {
  // PERF: most attributes carry no TLP tag of their own; they share the event's string.
  array tags;
  if (holder["Tag"].get_array().get(tags) != simdjson::SUCCESS || tags.size() == 0) {
    return event_markings_;
  }
  std::vector<std::string_view> ids = event_marking_ids_;
  AddTlpIds(holder, &ids);
  if (ids.size() == event_marking_ids_.size()) return event_markings_;
  *buf = MarkingsJson(ids);
  return *buf;
}

std::optional<EventConverter::Cluster> EventConverter::ClusterOf(std::string_view galaxy_type,
                                                                 std::string_view value,
                                                                 std::string_view uuid,
                                                                 object cluster, bool has_cluster) {
  auto target = GalaxyType(galaxy_type);
  if (!target || value.empty()) return std::nullopt;
  std::string_view type = target->stix_type;
  std::string id = common::IsUuid(uuid)
                       ? DerivedId(type, Cat("misp-galaxy-cluster:", AsciiToLower(uuid)))
                       : DerivedId(type, Cat("misp-galaxy:", galaxy_type, "=", value));
  Cluster c{id, type, target->actor};
  if (ids_.count(id)) return c;
  std::string out = CommonSdo(type, id, event_created_, event_modified_, event_markings_, false);
  AddStr(&out, "name", value);
  if (type == "malware") out += R"(,"is_family":true)";
  std::vector<std::string> aliases;
  std::string external, kill_chain;
  if (has_cluster) {
    std::string_view desc = Str(cluster, "description");
    if (!desc.empty()) AddStr(&out, "description", desc);
    object meta;
    if (cluster["meta"].get_object().get(meta) == simdjson::SUCCESS) {
      array a;
      if (meta["synonyms"].get_array().get(a) == simdjson::SUCCESS) {
        for (element e : a) {
          std::string_view s;
          if (e.get_string().get(s) == simdjson::SUCCESS && !s.empty() && s != value) {
            aliases.emplace_back(s);
          }
        }
      }
      if (meta["external_id"].get_array().get(a) == simdjson::SUCCESS) {
        for (element e : a) {
          std::string_view s;
          if (e.get_string().get(s) == simdjson::SUCCESS && IsAttackId(s) && external.empty()) {
            external = std::string(s);
          }
        }
      }
      if (meta["kill_chain"].get_array().get(a) == simdjson::SUCCESS) {
        for (element e : a) {
          std::string_view s;
          if (e.get_string().get(s) != simdjson::SUCCESS) continue;
          size_t colon = s.find(':');
          if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) continue;
          kill_chain += kill_chain.empty() ? "[" : ",";
          kill_chain += R"({"kill_chain_name":)";
          AppendJsonString(&kill_chain, s.substr(0, colon));
          kill_chain += R"(,"phase_name":)";
          AppendJsonString(&kill_chain, s.substr(colon + 1));
          kill_chain += "}";
        }
        if (!kill_chain.empty()) kill_chain += "]";
      }
    }
  }
  if (type == "attack-pattern" && external.empty()) {
    // "DNS Server - T1583.002": the technique id ends the cluster's value.
    size_t dash = value.rfind(" - ");
    if (dash != std::string_view::npos && IsAttackId(value.substr(dash + 3))) {
      external = std::string(value.substr(dash + 3));
    }
  }
  bool has_aliases = type == "threat-actor" || type == "intrusion-set" || type == "malware" ||
                     type == "tool" || type == "attack-pattern";
  if (has_aliases && !aliases.empty()) AddRaw(&out, "aliases", JsonStringList(aliases));
  bool has_kill_chain = type == "attack-pattern" || type == "malware" || type == "tool";
  if (has_kill_chain && !kill_chain.empty()) AddRaw(&out, "kill_chain_phases", kill_chain);
  if (!external.empty()) {
    std::string refs = R"([{"source_name":"mitre-attack","external_id":)";
    AppendJsonString(&refs, external);
    std::string url = Cat("https://attack.mitre.org/techniques/", external);
    std::replace(url.begin() + 36, url.end(), '.', '/');
    refs += R"(,"url":)";
    AppendJsonString(&refs, url);
    refs += "}]";
    AddRaw(&out, "external_references", refs);
  }
  out += '}';
  Emit(id, std::move(out));
  return c;
}

std::vector<EventConverter::Cluster> EventConverter::Clusters(object holder) {
  std::vector<Cluster> out;
  std::unordered_set<std::string> listed;  // each cluster once, however often it is named
  array galaxies;
  if (holder["Galaxy"].get_array().get(galaxies) == simdjson::SUCCESS) {
    for (element g : galaxies) {
      object go;
      if (g.get_object().get(go) != simdjson::SUCCESS) continue;
      std::string_view gtype = Str(go, "type");
      array clusters;
      if (go["GalaxyCluster"].get_array().get(clusters) != simdjson::SUCCESS) continue;
      for (element c : clusters) {
        object co;
        if (c.get_object().get(co) != simdjson::SUCCESS) continue;
        std::string_view ctype = Str(co, "type");
        std::string_view tag = Str(co, "tag_name");
        auto cl =
            ClusterOf(ctype.empty() ? gtype : ctype, Str(co, "value"), Str(co, "uuid"), co, true);
        if (!cl) continue;
        if (!tag.empty()) cluster_by_tag_.emplace(std::string(tag), *cl);
        if (listed.insert(cl->id).second) out.push_back(std::move(*cl));
      }
    }
  }
  array tags;
  if (holder["Tag"].get_array().get(tags) == simdjson::SUCCESS) {
    for (element t : tags) {
      object to;
      if (t.get_object().get(to) != simdjson::SUCCESS) continue;
      std::string_view name = Str(to, "name");
      // misp-galaxy:<galaxy type>="<cluster value>"
      if (!StartsWith(name, "misp-galaxy:")) continue;
      if (auto it = cluster_by_tag_.find(std::string(name)); it != cluster_by_tag_.end()) {
        if (listed.insert(it->second.id).second) out.push_back(it->second);
        continue;
      }
      std::string_view rest = name.substr(12);
      size_t eq = rest.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view value = rest.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      auto cl = ClusterOf(rest.substr(0, eq), value, {}, object(), false);
      if (cl && listed.insert(cl->id).second) out.push_back(std::move(*cl));
    }
  }
  return out;
}

void EventConverter::Relate(std::string_view type, const std::string& source,
                            const std::string& target) {
  std::string id = DerivedId("relationship", Cat(source, " ", type, " ", target));
  std::string out = CommonSdo("relationship", id, event_created_, event_modified_, event_markings_);
  AddStr(&out, "relationship_type", type);
  AddStr(&out, "source_ref", source);
  AddStr(&out, "target_ref", target);
  out += '}';
  Emit(std::move(id), std::move(out));
}

// Writes the SCO `s` with its deterministic id (STIX 2.1 §2.9), computed by the stix layer's own
// rule so that the reader's check_sco_ids agrees. `ids` are the ids of the SCOs before it in the
// same mapping, which "${N}" in its body names.
std::string EventConverter::EmitSco(const Sco& s, const std::vector<std::string>& ids,
                                    std::string_view markings) {
  std::string body = s.body;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string ph = Cat("${", i, "}");
    for (size_t at = body.find(ph); at != std::string::npos; at = body.find(ph)) {
      body.replace(at, ph.size(), ids[i]);
    }
  }
  std::string probe = Cat(R"({"type":)", "\"", s.type, "\"", body, "}");
  std::string id;
  object po;
  if (scratch_->parse(probe).get_object().get(po) == simdjson::SUCCESS) {
    id = stix::detail::ComputeScoId(s.type, po).value_or("");
  }
  if (id.empty()) id = Cat(s.type, "--", stix::detail::UuidV5(stix::detail::kScoNamespace, probe));
  std::string out = R"({"type":)";
  AppendJsonString(&out, s.type);
  out += R"(,"spec_version":"2.1","id":)";
  AppendJsonString(&out, id);
  out += body;
  out += markings;
  out += '}';
  Emit(id, std::move(out));
  return id;
}

absl::Status EventConverter::Attributes(array attrs, std::string_view object_uuid,
                                        object misp_object, bool in_object) {
  const auto& types = Types();
  // A MISP object's to_ids file hashes become one indicator (OR of the hashes: any of them
  // identifies the file); collected here and written after the loop.
  struct HashPart {
    std::string comparison, type, uuid;
  };
  std::vector<HashPart> object_hashes;
  std::string object_markings_buf, attr_markings_buf;
  const std::string& object_markings =
      in_object ? Markings(misp_object, &object_markings_buf) : event_markings_;
  std::string object_rep;
  Micros object_modified = event_modified_;
  if (in_object) {
    if (auto s = Seconds(misp_object, "timestamp"); s && SaneSeconds(*s)) {
      object_modified = *s * kMicrosPerSecond;
    }
  }
  for (element a : attrs) {
    if (!out_error_.ok()) return out_error_;  // the stream failed: the caller returns its error
    object ao;
    if (a.get_object().get(ao) != simdjson::SUCCESS) {
      ++stats_->malformed;
      ACCORD_RETURN_IF_ERROR(AttributeProblem({}, "an Attribute entry is not a JSON object"));
      continue;
    }
    if (Flag(ao, "deleted")) continue;
    ++stats_->attributes;
    std::string_view type = Str(ao, "type");
    std::string_view value = Str(ao, "value");
    std::string_view uuid = Str(ao, "uuid");
    auto it = types.find(type);
    if (it == types.end()) {
      ++stats_->skipped;
      continue;
    }
    const TypeInfo& t = it->second;
    element ve;
    if (ao["value"].get(ve) != simdjson::SUCCESS || !ve.is_string()) {
      ++stats_->malformed;
      ACCORD_RETURN_IF_ERROR(AttributeProblem(
          uuid, Cat("attribute ", uuid, " (", type, "): 'value' is missing or not a string")));
      continue;
    }
    if (t.kind == Kind::kLink) {
      // Links are references, not indicators: the event's report cites them.
      if (!in_object && (StartsWith(value, "http://") || StartsWith(value, "https://")) &&
          !HasSpaceOrControl(value) && value.size() <= kMaxValueBytes) {
        links_.emplace_back(value);
      } else {
        ++stats_->skipped;
      }
      continue;
    }
    Micros modified = object_modified;
    if (auto s = Seconds(ao, "timestamp"); s && SaneSeconds(*s)) modified = *s * kMicrosPerSecond;
    Micros created = std::min(event_created_, modified);
    const std::string* markings_p = &Markings(ao, &attr_markings_buf);
    if (in_object && markings_p == &event_markings_) markings_p = &object_markings;
    const std::string& markings = *markings_p;
    if (t.kind == Kind::kVulnerability) {
      std::string cve;
      if (!IsCve(value, &cve)) {
        ++stats_->malformed;
        ACCORD_RETURN_IF_ERROR(AttributeProblem(
            uuid, Cat("attribute ", uuid, " (vulnerability): '", value, "' is not a CVE id")));
        continue;
      }
      std::string id = DerivedId("vulnerability", Cat("cve:", cve));
      std::string out = CommonSdo("vulnerability", id, created, modified, markings);
      AddStr(&out, "name", cve);
      AddRaw(&out, "external_references",
             Cat(R"([{"source_name":"cve","external_id":")", cve, R"("}])"));
      out += '}';
      if (need_rep_ && !uuid.empty()) rep_[AsciiToLower(uuid)] = id;
      if (object_rep.empty()) object_rep = id;
      Emit(std::move(id), std::move(out));
      continue;
    }
    auto mapped = MapValue(type, t, value);
    if (!mapped.ok()) {
      ++stats_->malformed;
      ACCORD_RETURN_IF_ERROR(
          AttributeProblem(uuid, Cat("attribute ", uuid.empty() ? "(no uuid)" : uuid, " (", type,
                                     "): ", common::View(mapped.status().message()))));
      continue;
    }
    std::string stix_id;
    bool is_indicator = Flag(ao, "to_ids");
    if (is_indicator && in_object && t.kind == Kind::kHash && t.hash_len) {
      object_hashes.push_back({mapped->comparisons[0], std::string(type), AsciiToLower(uuid)});
      continue;
    }
    if (is_indicator) {
      auto u = StixUuid(uuid);
      stix_id = u ? Cat("indicator--", *u)
                  : DerivedId("indicator", Cat("misp-attribute:", event_key_, "|", type, "|",
                                               mapped->normalized));
      std::string pattern = "[";
      for (size_t i = 0; i < mapped->comparisons.size(); ++i) {
        if (i) pattern += " AND ";
        pattern += mapped->comparisons[i];
      }
      pattern += ']';
      std::string out = CommonSdo("indicator", stix_id, created, modified, markings);
      AddStr(&out, "name", Cat(type, " ", Prefix(mapped->normalized, 200)));
      std::string_view comment = Str(ao, "comment");
      if (!comment.empty()) AddStr(&out, "description", comment);
      out += R"(,"indicator_types":["malicious-activity"])";
      AddStr(&out, "pattern", pattern);
      out += R"(,"pattern_type":"stix","pattern_version":"2.1")";
      AddStr(&out, "valid_from", Ts(created));
      out += R"(,"labels":["misp:type=\")";
      common::AppendJsonEscaped(&out, type);
      out += R"(\"")";
      std::string_view category = Str(ao, "category");
      if (!category.empty()) {
        out += R"(,"misp:category=\")";
        common::AppendJsonEscaped(&out, category);
        out += R"(\"")";
      }
      for (const std::string& l : o_.labels) {
        out += ',';
        AppendJsonString(&out, l);
      }
      out += ']';
      out += '}';
      if (!ids_.count(stix_id)) {
        ++stats_->indicators;
        ++stats_->indicators_per_type[std::string(type)];
      }
      Emit(stix_id, std::move(out));
    } else {
      std::vector<std::string> sco_ids;
      for (const Sco& s : mapped->scos) sco_ids.push_back(EmitSco(s, sco_ids, markings));
      stix_id = sco_ids.back();
      ++stats_->observables;
    }
    if (need_rep_ && !uuid.empty()) rep_[AsciiToLower(uuid)] = stix_id;
    if (object_rep.empty() || (is_indicator && !StartsWith(object_rep, "indicator--"))) {
      object_rep = stix_id;
    }
    // Attribute-level galaxies: the attribute's object points at the cluster.
    if (ao["Galaxy"].error() == simdjson::SUCCESS || ao["Tag"].error() == simdjson::SUCCESS) {
      for (const Cluster& c : Clusters(ao)) {
        Relate(is_indicator ? "indicates" : "related-to", stix_id, c.id);
      }
    }
  }
  if (!object_hashes.empty()) {
    std::string id;
    if (object_hashes.size() == 1) {
      auto u = StixUuid(object_hashes[0].uuid);
      id = u ? Cat("indicator--", *u) : "";
    } else {
      auto u = StixUuid(object_uuid);
      id = u ? Cat("indicator--", *u) : "";
    }
    std::string pattern = "[";
    for (size_t i = 0; i < object_hashes.size(); ++i) {
      if (i) pattern += " OR ";
      pattern += object_hashes[i].comparison;
    }
    pattern += ']';
    if (id.empty()) id = DerivedId("indicator", Cat("misp-object:", event_key_, "|", pattern));
    Micros created = std::min(event_created_, object_modified);
    std::string out = CommonSdo("indicator", id, created, object_modified, object_markings);
    std::string_view name = Str(misp_object, "name");
    AddStr(&out, "name", Cat(name.empty() ? "object" : name, " ", object_uuid));
    out += R"(,"indicator_types":["malicious-activity"])";
    AddStr(&out, "pattern", pattern);
    out += R"(,"pattern_type":"stix","pattern_version":"2.1")";
    AddStr(&out, "valid_from", Ts(created));
    std::vector<std::string> labels;
    if (object_hashes.size() == 1)
      labels.push_back(Cat("misp:type=\"", object_hashes[0].type, "\""));
    if (!name.empty()) labels.push_back(Cat("misp:name=\"", name, "\""));
    labels.insert(labels.end(), o_.labels.begin(), o_.labels.end());
    if (!labels.empty()) AddRaw(&out, "labels", JsonStringList(labels));
    out += '}';
    if (!ids_.count(id)) {
      ++stats_->indicators;
      for (const HashPart& h : object_hashes) ++stats_->indicators_per_type[h.type];
    }
    for (const HashPart& h : object_hashes) {
      if (!h.uuid.empty()) rep_[h.uuid] = id;
    }
    Emit(id, std::move(out));
    object_rep = id;  // the file's indicator stands for the object
  }
  if (in_object && !object_rep.empty() && !object_uuid.empty())
    rep_[AsciiToLower(object_uuid)] = object_rep;
  return absl::OkStatus();
}

absl::Status EventConverter::Convert(object ev) {
  event_uuid_ = std::string(Str(ev, "uuid"));
  std::string_view info = Str(ev, "info");
  std::string_view date = Str(ev, "date");
  auto date_micros = DateMicros(date);
  Micros modified = 0;
  for (std::string_view k : {"timestamp", "publish_timestamp"}) {
    if (auto s = Seconds(ev, k); s && SaneSeconds(*s)) {
      modified = *s * kMicrosPerSecond;
      break;
    }
  }
  if (modified == 0) modified = date_micros.value_or(o_.now);
  event_modified_ = modified;
  event_created_ = date_micros ? std::min(*date_micros, modified) : modified;
  auto event_stix_uuid = StixUuid(event_uuid_);
  if (event_stix_uuid) {
    event_key_ = *event_stix_uuid;
  } else {
    event_key_ = Cat("misp-event:", o_.source_name, "|", info, "|", date);
    ACCORD_RETURN_IF_ERROR(AttributeProblem(
        {},
        Cat("event has no valid uuid ('", Prefix(event_uuid_, 64),
            "'): its ids are derived from source, info and date, and no import state is kept"),
        true));
  }
  std::string_view name_id = event_uuid_.empty() ? std::string_view(event_key_) : event_uuid_;
  out_error_ = out_->Begin(
      Cat(o_.source_name, ": event ", name_id, " (", Prefix(info, 80), ")"),
      event_stix_uuid ? Cat("misp.event.", *event_stix_uuid) : std::string(),
      event_stix_uuid ? std::to_string(event_modified_ / kMicrosPerSecond) : std::string());
  if (!out_error_.ok()) return out_error_;
  begun_ = true;
  // Creator organisation.
  object orgc;
  if (ev["Orgc"].get_object().get(orgc) == simdjson::SUCCESS) {
    std::string_view org_uuid = Str(orgc, "uuid"), org_name = Str(orgc, "name");
    if (common::IsUuid(org_uuid) || !org_name.empty()) {
      created_by_ = common::IsUuid(org_uuid)
                        ? DerivedId("identity", Cat("misp-org:", AsciiToLower(org_uuid)))
                        : DerivedId("identity", Cat("misp-org-name:", org_name));
    }
  }
  if (created_by_.empty()) created_by_ = o_.created_by_ref;
  // Event markings.
  event_marking_ids_.clear();
  AddTlpIds(ev, &event_marking_ids_);
  event_markings_ = MarkingsJson(event_marking_ids_);
  if (!created_by_.empty() && created_by_ != o_.created_by_ref) {
    std::string_view org_name = Str(orgc, "name");
    std::string out =
        CommonSdo("identity", created_by_, event_created_, event_modified_, event_markings_, false);
    AddStr(&out, "name", org_name.empty() ? std::string_view("MISP organisation") : org_name);
    out += R"(,"identity_class":"organization"})";
    Emit(created_by_, std::move(out));
  }
  const size_t identity_refs = refs_.size();
  // Event-level galaxies and "uses" between them.
  std::vector<Cluster> clusters = Clusters(ev);
  size_t uses = 0;
  for (size_t i = 0; i < clusters.size() && uses < kMaxEventUsesRelationships; ++i) {
    if (!clusters[i].actor) continue;
    for (size_t j = 0; j < clusters.size() && uses < kMaxEventUsesRelationships; ++j) {
      const Cluster& b = clusters[j];
      if (b.actor || b.stix_type == "course-of-action") continue;
      Relate("uses", clusters[i].id, b.id);
      ++uses;
    }
  }
  // Attributes, then objects, then object references (their targets must be known).
  array attrs, objs;
  bool has_attrs = false, has_objs = false;
  element e;
  if (ev["Attribute"].get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get_array().get(attrs) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("'Attribute' is not an array");
    }
    has_attrs = true;
  }
  if (ev["Object"].get(e) == simdjson::SUCCESS && !e.is_null()) {
    if (e.get_array().get(objs) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("'Object' is not an array");
    }
    has_objs = true;
  }
  // PERF: the uuid -> STIX id map costs two allocations per attribute; only references use it.
  size_t expected_objects = has_attrs ? attrs.size() : 0;
  if (has_objs) {
    for (element oe : objs) {
      object mo;
      array refs, oattrs;
      if (oe.get_object().get(mo) != simdjson::SUCCESS) continue;
      if (mo["ObjectReference"].get_array().get(refs) == simdjson::SUCCESS && refs.size() > 0) {
        need_rep_ = true;
      }
      if (mo["Attribute"].get_array().get(oattrs) == simdjson::SUCCESS) {
        expected_objects += oattrs.size();
      }
    }
  }
  expected_objects = std::min<size_t>(expected_objects, size_t{1} << 24);
  refs_.reserve(refs_.size() + expected_objects + 1);
  ids_.reserve(expected_objects + 16);
  if (has_attrs) ACCORD_RETURN_IF_ERROR(Attributes(attrs, {}, object(), false));
  struct Ref {
    std::string uuid, source, target, type;
  };
  std::vector<Ref> references;
  if (has_objs) {
    for (element oe : objs) {
      object mo;
      if (oe.get_object().get(mo) != simdjson::SUCCESS || Flag(mo, "deleted")) continue;
      ++stats_->objects;
      std::string_view ouuid = Str(mo, "uuid");
      array oattrs;
      if (mo["Attribute"].get_array().get(oattrs) == simdjson::SUCCESS) {
        ACCORD_RETURN_IF_ERROR(Attributes(oattrs, ouuid, mo, true));
      }
      array orefs;
      if (mo["ObjectReference"].get_array().get(orefs) == simdjson::SUCCESS) {
        for (element re : orefs) {
          object ro;
          if (re.get_object().get(ro) != simdjson::SUCCESS || Flag(ro, "deleted")) continue;
          references.push_back({std::string(Str(ro, "uuid")), AsciiToLower(ouuid),
                                AsciiToLower(Str(ro, "referenced_uuid")),
                                RelationshipType(Str(ro, "relationship_type"))});
        }
      }
    }
  }
  for (const Ref& r : references) {
    auto s = rep_.find(r.source), t = rep_.find(r.target);
    if (s == rep_.end() || t == rep_.end() || s->second == t->second) continue;
    auto u = StixUuid(r.uuid);
    std::string id = u ? Cat("relationship--", *u)
                       : DerivedId("relationship", Cat(s->second, " ", r.type, " ", t->second));
    std::string out =
        CommonSdo("relationship", id, event_created_, event_modified_, event_markings_);
    AddStr(&out, "relationship_type", r.type);
    AddStr(&out, "source_ref", s->second);
    AddStr(&out, "target_ref", t->second);
    out += '}';
    Emit(std::move(id), std::move(out));
  }
  if (refs_.size() == identity_refs) {
    return absl::FailedPreconditionError(
        "the event has no attribute, object or galaxy that maps to STIX");
  }
  // The report: the event itself.
  std::string report_id =
      event_stix_uuid ? Cat("report--", *event_stix_uuid) : DerivedId("report", event_key_);
  std::string out =
      CommonSdo("report", report_id, event_created_, event_modified_, event_markings_);
  AddStr(&out, "name", info.empty() ? std::string_view("MISP event") : info);
  out += R"(,"report_types":["threat-report"])";
  AddStr(&out, "published", Ts(date_micros.value_or(event_modified_)));
  std::vector<std::string> labels;
  std::unordered_set<std::string_view> seen_labels;
  array tags;
  if (ev["Tag"].get_array().get(tags) == simdjson::SUCCESS) {
    for (element t : tags) {
      object to;
      if (t.get_object().get(to) != simdjson::SUCCESS) continue;
      std::string_view name = Str(to, "name");
      if (name.empty() || IEquals(name.substr(0, 4), "tlp:") || StartsWith(name, "misp-galaxy:")) {
        continue;
      }
      if (seen_labels.insert(name).second) labels.emplace_back(name);
    }
  }
  labels.insert(labels.end(), o_.labels.begin(), o_.labels.end());
  if (!labels.empty()) AddRaw(&out, "labels", JsonStringList(labels));
  std::string ext = R"([{"source_name":"misp","external_id":)";
  AppendJsonString(&ext, event_uuid_.empty() ? event_key_ : event_uuid_);
  ext += "}";
  for (const std::string& l : links_) {
    ext += R"(,{"source_name":"misp-link","url":)";
    AppendJsonString(&ext, l);
    ext += "}";
  }
  ext += "]";
  AddRaw(&out, "external_references", ext);
  // Last, written in place: the event's every object (150,000 ids, 7 MB, which a list built
  // apart and then appended wrote twice, into fresh memory each time: 80 ms of the event's
  // serial end).
  constexpr std::string_view kRefs = R"(,"object_refs":)";
  common::ReserveHuge(&out, out.size() + kRefs.size() + JsonStringListSize(refs_) + 1);
  out += kRefs;
  AppendJsonStringList(&out, refs_);
  out += '}';
  // PERF: the ids are freed once the report lists them, while the store's writer is still on
  // the event's last batches, rather than after its commit (150,000 ids twice: ~50 ms).
  refs_ = {};
  ids_ = {};
  rep_ = {};
  if (out_error_.ok()) out_error_ = out_->Add(std::move(out));
  return out_error_;
}

// ---------------------------------------------------------------------------------------------
// Finding the events in the document

// Line, column and byte offset of the first JSON syntax error, from nlohmann's SAX parser
// (simdjson's DOM parser does not say where). Only run on the error path.
struct ErrorLocator : nlohmann::json_sax<nlohmann::json> {
  size_t position = 0;
  std::string what;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position = pos;
    what = ex.what();
    return false;
  }
};

stix::Problem SyntaxProblem(std::string_view json, const ConvertOptions& o,
                            simdjson::error_code code) {
  ErrorLocator loc;
  bool ok = nlohmann::json::sax_parse(json.begin(), json.end(), &loc,
                                      nlohmann::json::input_format_t::json, true);
  stix::Problem p;
  if (ok || loc.what.empty()) {
    p.location = o.source_name;
    p.message = Cat("not valid MISP JSON: ", simdjson::error_message(code));
    return p;
  }
  size_t pos = std::min(loc.position > 0 ? loc.position - 1 : 0, json.size());
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos; ++i) {
    if (json[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  p.location = Cat(o.source_name, ":", line, ":", col);
  p.message = Cat("not valid JSON at byte ", pos, ": ", loc.what);
  return p;
}

class Reader {
 public:
  Reader(const ConvertOptions& o, UnitStream* out, const ProblemSink& on_problem)
      : o_(o), out_(out), on_problem_(on_problem) {}

  absl::Status Walk(element e, uint32_t depth) {
    if (depth > kMispMaxNesting) {
      return Report(Cat("MISP events nested deeper than ", kMispMaxNesting, " arrays"));
    }
    array arr;
    if (e.get_array().get(arr) == simdjson::SUCCESS) {
      for (element x : arr) ACCORD_RETURN_IF_ERROR(Walk(x, depth + 1));
      return absl::OkStatus();
    }
    object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) {
      return Report("expected a MISP event object, found a JSON scalar");
    }
    element inner;
    if (obj["response"].get(inner) == simdjson::SUCCESS) return Walk(inner, depth + 1);
    object ev;
    if (obj["Event"].get_object().get(ev) == simdjson::SUCCESS) return Event(ev);
    if (obj["Attribute"].error() == simdjson::SUCCESS ||
        obj["Object"].error() == simdjson::SUCCESS || obj["info"].error() == simdjson::SUCCESS) {
      return Event(obj);
    }
    return Report(
        "a JSON object that is not a MISP event (no \"Event\", \"Attribute\" or \"info\")");
  }

  MispStats stats;

 private:
  absl::Status Report(std::string message) {
    stix::Problem p;
    p.location = Cat(o_.source_name, ": event #", events_seen_ + 1);
    p.message = std::move(message);
    if (o_.strict) return absl::InvalidArgumentError(Cat(p.location, ": ", p.message));
    on_problem_(std::move(p));
    return absl::OkStatus();
  }

  absl::Status Event(object ev) {
    ++events_seen_;
    EventConverter conv(o_, on_problem_, &stats, &scratch_, out_);
    absl::Status s = conv.Convert(ev);
    if (!conv.out_error().ok()) {
      if (conv.begun()) out_->Abort();
      return conv.out_error();
    }
    if (!s.ok()) {
      if (conv.begun()) out_->Abort();  // nothing of a failed event is stored
      if (o_.strict) return s;
      ++stats.skipped_events;
      stix::Problem p;
      p.location =
          Cat(o_.source_name, ": event ",
              Str(ev, "uuid").empty() ? Cat("#", events_seen_) : std::string(Str(ev, "uuid")));
      p.message = Cat("event not converted: ", common::View(s.message()));
      p.warning = s.code() == absl::StatusCode::kFailedPrecondition;
      on_problem_(std::move(p));
      return absl::OkStatus();
    }
    ++stats.events;
    return out_->End();
  }

  const ConvertOptions& o_;
  UnitStream* out_;
  const ProblemSink& on_problem_;
  simdjson::dom::parser scratch_;  // SCO id computation
  uint64_t events_seen_ = 0;
};

// Collects each unit whole for a UnitSink.
class CollectUnits final : public UnitStream {
 public:
  explicit CollectUnits(const UnitSink& on_unit) : on_unit_(on_unit) {}
  absl::Status Begin(std::string_view name, std::string_view state_key,
                     std::string_view state_value) override {
    unit_ = Unit{std::string(name), {}, std::string(state_key), std::string(state_value)};
    return absl::OkStatus();
  }
  absl::Status Add(std::string&& object) override {
    unit_.objects.push_back(std::move(object));
    return absl::OkStatus();
  }
  absl::Status End() override { return on_unit_(std::move(unit_)); }
  void Abort() override { unit_ = Unit{}; }

 private:
  const UnitSink& on_unit_;
  Unit unit_;
};

}  // namespace

namespace {

// ReadMisp over `json`, parsed where it is (its capacity leaves simdjson's padding past its end)
// and freed once parsed: the DOM keeps its own copy of every string. PERF: 25 MB less for the
// conversion of 150,000 attributes.
absl::StatusOr<MispStats> ReadPadded(std::string&& json, const ConvertOptions& o, UnitStream* out,
                                     const ProblemSink& on_problem) {
  simdjson::dom::parser parser;
  // PERF: the DOM of a large event is written once into fresh memory: in huge pages
  // (docs/PERFORMANCE.md, "December 6, night").
  stix::ReserveForLarge(&parser, json.size());
  element root;
  auto err = parser.parse(json.data(), json.size(), false).get(root);
  if (err != simdjson::SUCCESS) {
    stix::Problem p = SyntaxProblem(json, o, err);
    if (o.strict) return absl::InvalidArgumentError(Cat(p.location, ": ", p.message));
    on_problem(std::move(p));
    return MispStats{};
  }
  std::string().swap(json);
  Reader reader(o, out, on_problem);
  ACCORD_RETURN_IF_ERROR(reader.Walk(root, 0));
  return std::move(reader.stats);
}

absl::Status CheckSize(size_t size, const ConvertOptions& o) {
  if (size > kMispMaxInputBytes) {
    return absl::ResourceExhaustedError(Cat(o.source_name, ": MISP input of ", size,
                                            " bytes is over the limit of ", kMispMaxInputBytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MispStats> ReadMisp(std::string_view json, const ConvertOptions& o,
                                   const UnitSink& on_unit, const ProblemSink& on_problem) {
  CollectUnits collect(on_unit);
  return ReadMisp(json, o, &collect, on_problem);
}

absl::StatusOr<MispStats> ReadMisp(std::string_view json, const ConvertOptions& o, UnitStream* out,
                                   const ProblemSink& on_problem) {
  ACCORD_RETURN_IF_ERROR(CheckSize(json.size(), o));
  std::string copy;
  copy.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  copy.assign(json);
  return ReadPadded(std::move(copy), o, out, on_problem);
}

absl::StatusOr<MispStats> ReadMisp(std::string&& json, const ConvertOptions& o, UnitStream* out,
                                   const ProblemSink& on_problem) {
  ACCORD_RETURN_IF_ERROR(CheckSize(json.size(), o));
  // PERF: common::ReadFile leaves simdjson's padding in the string's capacity: parsed in place,
  // without a copy of the whole input (25 MB for a 150,000-attribute event). Other inputs (an
  // archive's member) are moved once into a string that has it, the old one freed.
  static_assert(common::kReadFileSlack >= simdjson::SIMDJSON_PADDING);
  if (json.capacity() - json.size() < simdjson::SIMDJSON_PADDING) {
    json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  }
  return ReadPadded(std::move(json), o, out, on_problem);
}

absl::StatusOr<std::vector<FeedEntry>> ReadMispManifest(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  object root;
  auto err = parser.parse(padded).get_object().get(root);
  if (err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        Cat("manifest.json: not a JSON object: ", simdjson::error_message(err)));
  }
  std::vector<FeedEntry> out;
  for (auto field : root) {
    std::string_view key = field.key;
    if (!common::IsUuid(key)) {
      return absl::InvalidArgumentError(
          Cat("manifest.json: key '", Prefix(key, 64), "' is not an event uuid"));
    }
    object entry;
    std::optional<int64_t> ts;
    if (field.value.get_object().get(entry) == simdjson::SUCCESS) ts = Seconds(entry, "timestamp");
    if (!ts) {
      return absl::InvalidArgumentError(
          Cat("manifest.json: event ", key, ": no 'timestamp' in unix seconds"));
    }
    out.push_back({AsciiToLower(key), *ts});
  }
  return out;
}

// =============================================================================================
// STIX -> MISP

namespace {

struct Comparison {
  std::string path;
  std::string value;
  bool is_int = false;
};

// The observations of a pattern in the simple forms ReadMisp writes: '[' a = v ((AND|OR) ...)
// ']' joined by OR. Each observation's comparisons and whether they are AND-ed. nullopt for any
// other form (other operators, qualifiers, parentheses, mixed AND/OR, AND between observations).
struct Observation {
  std::vector<Comparison> comparisons;
  bool all_and = false;
};

std::optional<std::vector<Observation>> SimplePattern(std::string_view p) {
  std::vector<Observation> out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < p.size() && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) ++i;
  };
  auto keyword = [&](std::string_view kw) {
    if (p.substr(i, kw.size()) == kw &&
        (i + kw.size() == p.size() || p[i + kw.size()] == ' ' || p[i + kw.size()] == '[')) {
      i += kw.size();
      return true;
    }
    return false;
  };
  while (true) {
    skip_ws();
    if (i >= p.size() || p[i] != '[') return std::nullopt;
    ++i;
    Observation obs;
    bool saw_and = false, saw_or = false;
    while (true) {
      skip_ws();
      size_t start = i;
      // A path: object type, ':', property path; quoted keys may hold spaces.
      while (i < p.size() && p[i] != ' ' && p[i] != '=' && p[i] != ']') {
        if (p[i] == '\'' || p[i] == '[') {  // a quoted key, or a list index ([*], [0])
          char close = p[i] == '[' ? ']' : '\'';
          ++i;
          while (i < p.size() && p[i] != close) ++i;
        }
        ++i;
      }
      if (i > p.size()) return std::nullopt;
      Comparison c;
      c.path = std::string(p.substr(start, i - start));
      if (c.path.find(':') == std::string::npos) return std::nullopt;
      skip_ws();
      if (i >= p.size() || p[i] != '=') return std::nullopt;
      ++i;
      skip_ws();
      if (i < p.size() && p[i] == '\'') {
        ++i;
        while (i < p.size() && p[i] != '\'') {
          if (p[i] == '\\' && i + 1 < p.size()) ++i;
          c.value.push_back(p[i]);
          ++i;
        }
        if (i >= p.size()) return std::nullopt;
        ++i;
      } else {
        size_t s = i;
        while (i < p.size() && p[i] >= '0' && p[i] <= '9') ++i;
        if (s == i) return std::nullopt;
        c.value = std::string(p.substr(s, i - s));
        c.is_int = true;
      }
      obs.comparisons.push_back(std::move(c));
      skip_ws();
      if (i < p.size() && p[i] == ']') {
        ++i;
        break;
      }
      if (keyword("AND")) {
        saw_and = true;
      } else if (keyword("OR")) {
        saw_or = true;
      } else {
        return std::nullopt;
      }
    }
    if (saw_and && saw_or) return std::nullopt;
    obs.all_and = saw_and;
    out.push_back(std::move(obs));
    skip_ws();
    if (i >= p.size()) break;
    if (!keyword("OR")) return std::nullopt;
  }
  return out;
}

// "file:hashes.'SHA-256'" -> "sha256"; "" when the path is not a file hash.
std::string HashType(std::string_view path) {
  constexpr std::string_view kPrefix = "file:hashes.";
  if (!StartsWith(path, kPrefix)) return {};
  std::string alg;
  for (char c : path.substr(kPrefix.size())) {
    if (c != '\'' && c != '"' && c != '-') alg.push_back(AsciiLower(c));
  }
  if (alg == "md5" || alg == "sha1" || alg == "sha256" || alg == "sha512" || alg == "ssdeep") {
    return alg;
  }
  return {};
}

// The MISP type of one comparison on its own; "" when none.
std::string SingleType(std::string_view path) {
  if (path == "ipv4-addr:value" || path == "ipv6-addr:value") return "ip-dst";
  if (path == "domain-name:value") return "domain";
  if (path == "url:value") return "url";
  if (path == "email-addr:value") return "email";
  if (path == "email-message:from_ref.value") return "email-src";
  if (path == "file:name") return "filename";
  if (path == "mutex:name") return "mutex";
  if (path == "windows-registry-key:key") return "regkey";
  return HashType(path);
}

// Label types that may stand for a pattern-derived type (ReadMisp keeps the MISP type).
bool LabelFits(std::string_view derived, std::string_view label) {
  if (derived == label) return true;
  if (derived == "ip-dst") return label == "ip-src";
  if (derived == "ip-dst|port") return label == "ip-src|port";
  if (derived == "domain") return label == "hostname";
  if (derived == "url") return label == "uri";
  if (derived == "email") return label == "email-src" || label == "email-dst";
  return false;
}

struct MispAttr {
  std::string type, value;
};

// An AND-ed observation in one of the composite forms ReadMisp writes.
std::optional<MispAttr> Composite(const std::vector<Comparison>& cs) {
  const Comparison* name = nullptr;
  const Comparison* hash = nullptr;
  std::string hash_type;
  const Comparison* domain = nullptr;
  const Comparison* resolves = nullptr;
  const Comparison* key = nullptr;
  const Comparison* data = nullptr;
  const Comparison* nt_value = nullptr;
  const Comparison* nt_port = nullptr;
  std::string side;
  for (const Comparison& c : cs) {
    std::string h = HashType(c.path);
    if (c.path == "file:name") {
      name = &c;
    } else if (!h.empty()) {
      hash = &c;
      hash_type = h;
    } else if (c.path == "domain-name:value") {
      domain = &c;
    } else if (c.path == "domain-name:resolves_to_refs[*].value") {
      resolves = &c;
    } else if (c.path == "windows-registry-key:key") {
      key = &c;
    } else if (c.path == "windows-registry-key:values[*].data") {
      data = &c;
    } else if (c.path == "network-traffic:dst_ref.value" ||
               c.path == "network-traffic:src_ref.value") {
      nt_value = &c;
      side = c.path.substr(16, 3);
    } else if (c.path == "network-traffic:dst_port" || c.path == "network-traffic:src_port") {
      nt_port = &c;
    } else if (c.path == "network-traffic:dst_ref.type" ||
               c.path == "network-traffic:src_ref.type") {
      continue;
    } else {
      return std::nullopt;
    }
  }
  if (name && hash && cs.size() == 2 && hash_type != "ssdeep") {
    return MispAttr{Cat("filename|", hash_type), Cat(name->value, "|", hash->value)};
  }
  if (domain && resolves && cs.size() == 2) {
    return MispAttr{"domain|ip", Cat(domain->value, "|", resolves->value)};
  }
  if (key && data && cs.size() == 2) {
    return MispAttr{"regkey|value", Cat(key->value, "|", data->value)};
  }
  if (nt_value && nt_port && nt_port->path.find(side) != std::string::npos) {
    return MispAttr{Cat("ip-", side, "|port"), Cat(nt_value->value, "|", nt_port->value)};
  }
  return std::nullopt;
}

std::string_view CategoryOf(std::string_view type) {
  if (HashType(Cat("file:hashes.", type)).size() || StartsWith(type, "filename")) {
    return "Payload delivery";
  }
  if (type == "mutex" || StartsWith(type, "regkey")) return "Artifacts dropped";
  return "Network activity";
}

// Seconds of a STIX timestamp, 0 when it does not parse.
int64_t StixSeconds(std::string_view ts) {
  auto t = common::ParseTimestamp(ts);
  return t.ok() ? t->micros / kMicrosPerSecond : 0;
}

std::string UuidPart(std::string_view id) {
  size_t dash = id.find("--");
  if (dash != std::string_view::npos && common::IsUuid(id.substr(dash + 2))) {
    return AsciiToLower(id.substr(dash + 2));
  }
  return stix::detail::UuidV5(kAccordNamespace, id);
}

}  // namespace

struct MispWriter::Impl {
  struct Indicator {
    std::string id, pattern, pattern_type, name, description, modified, label_type, category;
    std::vector<std::string> markings;
  };
  struct Report {
    std::string id, name, published, modified;
    std::vector<std::string> refs;
    std::vector<std::string> markings;
  };
  simdjson::dom::parser parser;
  std::vector<Indicator> indicators;
  std::unordered_map<std::string, size_t> indicator_index;
  std::vector<Report> reports;
  std::unordered_map<std::string, size_t> report_index;
  uint64_t skipped = 0;
};

MispWriter::MispWriter() : impl_(std::make_unique<Impl>()) {}
MispWriter::~MispWriter() = default;

absl::Status MispWriter::Add(std::string_view stix_json) {
  object o;
  auto err = impl_->parser.parse(stix_json.data(), stix_json.size()).get_object().get(o);
  if (err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(Cat("not a JSON object: ", simdjson::error_message(err)));
  }
  std::string_view type = Str(o, "type"), id = Str(o, "id");
  if (type.empty() || id.empty())
    return absl::InvalidArgumentError("object without 'type' or 'id'");
  auto strings = [&](std::string_view key) {
    std::vector<std::string> out;
    array a;
    if (o[key].get_array().get(a) == simdjson::SUCCESS) {
      for (element e : a) {
        std::string_view s;
        if (e.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
      }
    }
    return out;
  };
  std::string_view modified = Str(o, "modified");
  if (type == "indicator") {
    Impl::Indicator ind{std::string(id),
                        std::string(Str(o, "pattern")),
                        std::string(Str(o, "pattern_type")),
                        std::string(Str(o, "name")),
                        std::string(Str(o, "description")),
                        std::string(modified),
                        {},
                        {},
                        strings("object_marking_refs")};
    for (const std::string& l : strings("labels")) {
      auto value_of = [&](std::string_view prefix) -> std::string {
        if (StartsWith(l, prefix) && l.size() > prefix.size() + 1 && l.back() == '"') {
          return l.substr(prefix.size(), l.size() - prefix.size() - 1);
        }
        return {};
      };
      if (auto t = value_of("misp:type=\""); !t.empty()) ind.label_type = t;
      if (auto c = value_of("misp:category=\""); !c.empty()) ind.category = c;
    }
    auto [it, inserted] = impl_->indicator_index.emplace(ind.id, impl_->indicators.size());
    if (inserted) {
      impl_->indicators.push_back(std::move(ind));
    } else if (StixSeconds(ind.modified) >= StixSeconds(impl_->indicators[it->second].modified)) {
      impl_->indicators[it->second] = std::move(ind);  // a newer version
    }
  } else if (type == "report") {
    Impl::Report r{
        std::string(id),       std::string(Str(o, "name")), std::string(Str(o, "published")),
        std::string(modified), strings("object_refs"),      strings("object_marking_refs")};
    auto [it, inserted] = impl_->report_index.emplace(r.id, impl_->reports.size());
    if (inserted) {
      impl_->reports.push_back(std::move(r));
    } else if (StixSeconds(r.modified) >= StixSeconds(impl_->reports[it->second].modified)) {
      impl_->reports[it->second] = std::move(r);
    }
  }
  return absl::OkStatus();
}

uint64_t MispWriter::skipped() const { return impl_->skipped; }

std::string MispWriter::Finish() {
  using Json = nlohmann::ordered_json;
  Impl& im = *impl_;
  auto tlp_tag = [](std::string_view marking) -> std::string_view {
    if (marking == kTlpWhite) return "tlp:white";
    if (marking == kTlp2Clear) return "tlp:clear";
    if (marking == kTlpGreen ||
        marking == "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb") {
      return "tlp:green";
    }
    if (marking == kTlpAmber ||
        marking == "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421") {
      return "tlp:amber";
    }
    if (marking == kTlp2AmberStrict) return "tlp:amber+strict";
    if (marking == kTlpRed ||
        marking == "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1") {
      return "tlp:red";
    }
    return {};
  };
  auto tags_of = [&](const std::vector<std::string>& markings) {
    Json tags = Json::array();
    for (const std::string& m : markings) {
      std::string_view t = tlp_tag(m);
      if (!t.empty()) tags.push_back(Json{{"name", std::string(t)}});
    }
    return tags;
  };
  // Each indicator's attributes, computed once (an indicator may be in several reports).
  std::vector<std::optional<Json>> attrs(im.indicators.size());
  auto attributes_of = [&](size_t i) -> const std::optional<Json>& {
    if (attrs[i]) return attrs[i];
    const Impl::Indicator& ind = im.indicators[i];
    std::optional<std::vector<Observation>> obs;
    if (ind.pattern_type == "stix") obs = SimplePattern(ind.pattern);
    std::vector<MispAttr> found;
    if (obs) {
      for (const Observation& ob : *obs) {
        if (ob.all_and && ob.comparisons.size() > 1) {
          auto c = Composite(ob.comparisons);
          if (!c) {
            found.clear();
            break;
          }
          found.push_back(std::move(*c));
          continue;
        }
        bool bad = false;
        for (const Comparison& c : ob.comparisons) {
          std::string t = SingleType(c.path);
          if (t.empty() || c.is_int) {
            bad = true;
            break;
          }
          found.push_back({t, c.value});
        }
        if (bad) {
          found.clear();
          break;
        }
      }
    }
    if (found.empty()) {
      ++im.skipped;
      attrs[i] = Json::array();
      return attrs[i];
    }
    if (found.size() == 1 && !ind.label_type.empty() && LabelFits(found[0].type, ind.label_type)) {
      found[0].type = ind.label_type;
    }
    std::string uuid = UuidPart(ind.id);
    int64_t ts = StixSeconds(ind.modified);
    Json list = Json::array();
    for (const MispAttr& a : found) {
      std::string auuid =
          found.size() == 1
              ? std::string(uuid)
              : stix::detail::UuidV5(kAccordNamespace, Cat(ind.id, "|", a.type, "|", a.value));
      Json j = {{"uuid", auuid},
                {"type", a.type},
                {"category", ind.category.empty() ? std::string(CategoryOf(a.type)) : ind.category},
                {"value", a.value},
                {"to_ids", true},
                {"timestamp", std::to_string(ts)},
                {"comment", ind.description}};
      Json tags = tags_of(ind.markings);
      if (!tags.empty()) j["Tag"] = std::move(tags);
      list.push_back(std::move(j));
    }
    attrs[i] = std::move(list);
    return attrs[i];
  };
  Json response = Json::array();
  std::vector<bool> referenced(im.indicators.size(), false);
  auto event = [&](std::string uuid, std::string info, std::string date, int64_t ts,
                   const std::vector<std::string>& markings, const std::vector<size_t>& members) {
    Json attributes = Json::array();
    for (size_t i : members) {
      for (const Json& a : *attributes_of(i)) attributes.push_back(a);
    }
    Json ev = {{"uuid", std::move(uuid)},  {"info", std::move(info)},
               {"date", std::move(date)},  {"timestamp", std::to_string(ts)},
               {"published", false},       {"analysis", "2"},
               {"threat_level_id", "4"},   {"distribution", "0"},
               {"Tag", tags_of(markings)}, {"Attribute", std::move(attributes)}};
    response.push_back(Json{{"Event", std::move(ev)}});
  };
  for (const Impl::Report& r : im.reports) {
    std::vector<size_t> members;
    for (const std::string& ref : r.refs) {
      auto it = im.indicator_index.find(ref);
      if (it == im.indicator_index.end()) continue;
      members.push_back(it->second);
      referenced[it->second] = true;
    }
    std::string uuid = UuidPart(r.id);
    event(std::string(uuid), r.name, r.published.substr(0, 10), StixSeconds(r.modified), r.markings,
          members);
  }
  std::vector<size_t> orphans;
  int64_t latest = 0;
  for (size_t i = 0; i < im.indicators.size(); ++i) {
    if (referenced[i]) continue;
    orphans.push_back(i);
    latest = std::max(latest, StixSeconds(im.indicators[i].modified));
  }
  if (!orphans.empty()) {
    std::string date = common::FormatTimestampMillis(latest * kMicrosPerSecond).substr(0, 10);
    event(stix::detail::UuidV5(kAccordNamespace, "misp-export:accord-export"), "Accord export",
          date, latest, {}, orphans);
  }
  for (size_t i = 0; i < im.indicators.size(); ++i) attributes_of(i);  // count the skipped
  Json root = {{"response", std::move(response)}};
  return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace accord::formats
