// STIX 2.1 object rules (../shared/spec/STIX21-objects.md). Table-driven: every known type has
// a property table (name, value type, required, allowed reference targets or enum values);
// rules that tie properties together are written out per type below the tables.
#include "stix/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/stix/object.h"
#include "stix/sco_id.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

using common::Cat;

std::string Join(const std::vector<std::string_view>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.append(sep);
    out.append(v[i]);
  }
  return out;
}

constexpr int64_t kMaxInt = (int64_t{1} << 53) - 1;
constexpr double kNoMin = -std::numeric_limits<double>::infinity();
constexpr double kNoMax = std::numeric_limits<double>::infinity();

enum class Kind { kSdo, kSro, kSco, kMarking, kLanguageContent, kExtensionDefinition, kCustom };

// Value types of properties.
enum class T {
  kString,
  kBool,
  kInteger,
  kFloat,
  kTimestamp,
  kId,      // identifier; `values` restricts the target types
  kIdList,  // list of identifiers; `values` restricts the target types
  kStringList,
  kEnum,       // string from `values`
  kEnumList,   // list of strings from `values`
  kKillChain,  // list of kill-chain-phase
  kExtRefs,    // list of external-reference
  kGranular,   // list of granular-marking
  kDict,       // dictionary
  kHashes,
  kHex,
  kBinary,
  kObjectList,  // list of objects (checked further by type rules)
  kObject,      // any JSON object (checked further by type rules)
  kExtensions,
  kAny,
};

struct Prop {
  std::string_view name;
  T t;
  bool required = false;
  std::vector<std::string_view> values = {};  // reference target types or enum values
  double min = kNoMin;
  double max = kNoMax;
};

Prop Req(std::string_view n, T t) { return Prop{n, t, true}; }
Prop Opt(std::string_view n, T t) { return Prop{n, t, false}; }
Prop Ref(std::string_view n, std::vector<std::string_view> targets, bool req = false) {
  return Prop{n, T::kId, req, std::move(targets)};
}
Prop Refs(std::string_view n, std::vector<std::string_view> targets, bool req = false) {
  return Prop{n, T::kIdList, req, std::move(targets)};
}
Prop Int(std::string_view n, double lo = -static_cast<double>(kMaxInt),
         double hi = static_cast<double>(kMaxInt), bool req = false) {
  return Prop{n, T::kInteger, req, {}, lo, hi};
}
Prop Flt(std::string_view n, double lo, double hi) { return Prop{n, T::kFloat, false, {}, lo, hi}; }
Prop Enum(std::string_view n, std::vector<std::string_view> values, bool req = false) {
  return Prop{n, T::kEnum, req, std::move(values)};
}

struct TypeSpec {
  Kind kind;
  std::vector<Prop> props;
};

const std::vector<std::string_view> kScoTypes = {"artifact",
                                                 "autonomous-system",
                                                 "directory",
                                                 "domain-name",
                                                 "email-addr",
                                                 "email-message",
                                                 "file",
                                                 "ipv4-addr",
                                                 "ipv6-addr",
                                                 "mac-addr",
                                                 "mutex",
                                                 "network-traffic",
                                                 "process",
                                                 "software",
                                                 "url",
                                                 "user-account",
                                                 "windows-registry-key",
                                                 "x509-certificate"};

// Properties every object may carry, with their types (§5). Applicability by kind is checked
// separately.
const std::vector<Prop>& CommonProps() {
  static const std::vector<Prop> kCommon = {
      Opt("type", T::kString),
      Opt("id", T::kString),
      Opt("spec_version", T::kString),
      Ref("created_by_ref", {"identity"}),
      Opt("created", T::kTimestamp),
      Opt("modified", T::kTimestamp),
      Opt("revoked", T::kBool),
      Opt("labels", T::kStringList),
      Int("confidence", 0, 100),
      Opt("lang", T::kString),
      Opt("external_references", T::kExtRefs),
      Refs("object_marking_refs", {"marking-definition"}),
      Opt("granular_markings", T::kGranular),
      Opt("defanged", T::kBool),
      Opt("extensions", T::kExtensions),
  };
  return kCommon;
}

const std::unordered_map<std::string_view, TypeSpec>& Specs() {
  static const auto* kSpecs = new std::unordered_map<std::string_view, TypeSpec>{
      // SDOs (§4)
      {"attack-pattern",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString), Opt("aliases", T::kStringList),
         Opt("kill_chain_phases", T::kKillChain)}}},
      {"campaign",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString), Opt("aliases", T::kStringList),
         Opt("first_seen", T::kTimestamp), Opt("last_seen", T::kTimestamp),
         Opt("objective", T::kString)}}},
      {"course-of-action", {Kind::kSdo, {Req("name", T::kString), Opt("description", T::kString)}}},
      {"grouping",
       {Kind::kSdo,
        {Opt("name", T::kString), Opt("description", T::kString), Req("context", T::kString),
         Refs("object_refs", {}, true)}}},
      {"identity",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString), Opt("roles", T::kStringList),
         Opt("identity_class", T::kString), Opt("sectors", T::kStringList),
         Opt("contact_information", T::kString)}}},
      {"incident", {Kind::kSdo, {Req("name", T::kString), Opt("description", T::kString)}}},
      {"indicator",
       {Kind::kSdo,
        {Opt("name", T::kString), Opt("description", T::kString),
         Opt("indicator_types", T::kStringList), Req("pattern", T::kString),
         Req("pattern_type", T::kString), Opt("pattern_version", T::kString),
         Req("valid_from", T::kTimestamp), Opt("valid_until", T::kTimestamp),
         Opt("kill_chain_phases", T::kKillChain)}}},
      {"infrastructure",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString),
         Opt("infrastructure_types", T::kStringList), Opt("aliases", T::kStringList),
         Opt("kill_chain_phases", T::kKillChain), Opt("first_seen", T::kTimestamp),
         Opt("last_seen", T::kTimestamp)}}},
      {"intrusion-set",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString), Opt("aliases", T::kStringList),
         Opt("first_seen", T::kTimestamp), Opt("last_seen", T::kTimestamp),
         Opt("goals", T::kStringList), Opt("resource_level", T::kString),
         Opt("primary_motivation", T::kString), Opt("secondary_motivations", T::kStringList)}}},
      {"location",
       {Kind::kSdo,
        {Opt("name", T::kString), Opt("description", T::kString), Flt("latitude", -90, 90),
         Flt("longitude", -180, 180), Flt("precision", 0, kNoMax), Opt("region", T::kString),
         Opt("country", T::kString), Opt("administrative_area", T::kString),
         Opt("city", T::kString), Opt("street_address", T::kString),
         Opt("postal_code", T::kString)}}},
      {"malware",
       {Kind::kSdo,
        {Opt("name", T::kString), Opt("description", T::kString),
         Opt("malware_types", T::kStringList), Req("is_family", T::kBool),
         Opt("aliases", T::kStringList), Opt("kill_chain_phases", T::kKillChain),
         Opt("first_seen", T::kTimestamp), Opt("last_seen", T::kTimestamp),
         Refs("operating_system_refs", {"software"}),
         Opt("architecture_execution_envs", T::kStringList),
         Opt("implementation_languages", T::kStringList), Opt("capabilities", T::kStringList),
         Refs("sample_refs", {"file", "artifact"})}}},
      {"malware-analysis",
       {Kind::kSdo,
        {Req("product", T::kString), Opt("version", T::kString), Ref("host_vm_ref", {"software"}),
         Ref("operating_system_ref", {"software"}), Refs("installed_software_refs", {"software"}),
         Opt("configuration_version", T::kString), Opt("modules", T::kStringList),
         Opt("analysis_engine_version", T::kString), Opt("analysis_definition_version", T::kString),
         Opt("submitted", T::kTimestamp), Opt("analysis_started", T::kTimestamp),
         Opt("analysis_ended", T::kTimestamp), Opt("result_name", T::kString),
         Opt("result", T::kString), Refs("analysis_sco_refs", {}),
         Ref("sample_ref", {"file", "network-traffic", "artifact"})}}},
      {"note",
       {Kind::kSdo,
        {Opt("abstract", T::kString), Req("content", T::kString), Opt("authors", T::kStringList),
         Refs("object_refs", {}, true)}}},
      {"observed-data",
       {Kind::kSdo,
        {Req("first_observed", T::kTimestamp), Req("last_observed", T::kTimestamp),
         Int("number_observed", 1, 999999999, true), Opt("objects", T::kObject),
         Refs("object_refs", {})}}},
      {"opinion",
       {Kind::kSdo,
        {Opt("explanation", T::kString), Opt("authors", T::kStringList),
         Enum("opinion", {"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"},
              true),
         Refs("object_refs", {}, true)}}},
      {"report",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString),
         Opt("report_types", T::kStringList), Req("published", T::kTimestamp),
         Refs("object_refs", {}, true)}}},
      {"threat-actor",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString),
         Opt("threat_actor_types", T::kStringList), Opt("aliases", T::kStringList),
         Opt("first_seen", T::kTimestamp), Opt("last_seen", T::kTimestamp),
         Opt("roles", T::kStringList), Opt("goals", T::kStringList),
         Opt("sophistication", T::kString), Opt("resource_level", T::kString),
         Opt("primary_motivation", T::kString), Opt("secondary_motivations", T::kStringList),
         Opt("personal_motivations", T::kStringList)}}},
      {"tool",
       {Kind::kSdo,
        {Req("name", T::kString), Opt("description", T::kString), Opt("tool_types", T::kStringList),
         Opt("aliases", T::kStringList), Opt("kill_chain_phases", T::kKillChain),
         Opt("tool_version", T::kString)}}},
      {"vulnerability", {Kind::kSdo, {Req("name", T::kString), Opt("description", T::kString)}}},
      // SROs (§5)
      {"relationship",
       {Kind::kSro,
        {Req("relationship_type", T::kString), Opt("description", T::kString),
         Ref("source_ref", {}, true), Ref("target_ref", {}, true), Opt("start_time", T::kTimestamp),
         Opt("stop_time", T::kTimestamp)}}},
      {"sighting",
       {Kind::kSro,
        {Opt("description", T::kString), Opt("first_seen", T::kTimestamp),
         Opt("last_seen", T::kTimestamp), Int("count", 0, 999999999),
         Ref("sighting_of_ref", {}, true), Refs("observed_data_refs", {"observed-data"}),
         Refs("where_sighted_refs", {"identity", "location"}), Opt("summary", T::kBool)}}},
      // SCOs (§6)
      {"artifact",
       {Kind::kSco,
        {Opt("mime_type", T::kString), Opt("payload_bin", T::kBinary), Opt("url", T::kString),
         Opt("hashes", T::kHashes),
         Enum("encryption_algorithm", {"AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"}),
         Opt("decryption_key", T::kString)}}},
      {"autonomous-system",
       {Kind::kSco,
        {Int("number", 0, kMaxInt, true), Opt("name", T::kString), Opt("rir", T::kString)}}},
      {"directory",
       {Kind::kSco,
        {Req("path", T::kString), Opt("path_enc", T::kString), Opt("ctime", T::kTimestamp),
         Opt("mtime", T::kTimestamp), Opt("atime", T::kTimestamp),
         Refs("contains_refs", {"file", "directory"})}}},
      {"domain-name",
       {Kind::kSco,
        {Req("value", T::kString),
         Refs("resolves_to_refs", {"ipv4-addr", "ipv6-addr", "domain-name"})}}},
      {"email-addr",
       {Kind::kSco,
        {Req("value", T::kString), Opt("display_name", T::kString),
         Ref("belongs_to_ref", {"user-account"})}}},
      {"email-message",
       {Kind::kSco,
        {Req("is_multipart", T::kBool), Opt("date", T::kTimestamp), Opt("content_type", T::kString),
         Ref("from_ref", {"email-addr"}), Ref("sender_ref", {"email-addr"}),
         Refs("to_refs", {"email-addr"}), Refs("cc_refs", {"email-addr"}),
         Refs("bcc_refs", {"email-addr"}), Opt("message_id", T::kString),
         Opt("subject", T::kString), Opt("received_lines", T::kStringList),
         Opt("additional_header_fields", T::kDict), Opt("body", T::kString),
         Opt("body_multipart", T::kObjectList), Ref("raw_email_ref", {"artifact"})}}},
      {"file",
       {Kind::kSco,
        {Opt("hashes", T::kHashes), Int("size", 0), Opt("name", T::kString),
         Opt("name_enc", T::kString), Opt("magic_number_hex", T::kHex),
         Opt("mime_type", T::kString), Opt("ctime", T::kTimestamp), Opt("mtime", T::kTimestamp),
         Opt("atime", T::kTimestamp), Ref("parent_directory_ref", {"directory"}),
         Refs("contains_refs", {}), Ref("content_ref", {"artifact"})}}},
      {"ipv4-addr",
       {Kind::kSco,
        {Req("value", T::kString), Refs("resolves_to_refs", {"mac-addr"}),
         Refs("belongs_to_refs", {"autonomous-system"})}}},
      {"ipv6-addr",
       {Kind::kSco,
        {Req("value", T::kString), Refs("resolves_to_refs", {"mac-addr"}),
         Refs("belongs_to_refs", {"autonomous-system"})}}},
      {"mac-addr", {Kind::kSco, {Req("value", T::kString)}}},
      {"mutex", {Kind::kSco, {Req("name", T::kString)}}},
      {"network-traffic",
       {Kind::kSco,
        {Opt("start", T::kTimestamp), Opt("end", T::kTimestamp), Opt("is_active", T::kBool),
         Ref("src_ref", {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}),
         Ref("dst_ref", {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}),
         Int("src_port", 0, 65535), Int("dst_port", 0, 65535), Req("protocols", T::kStringList),
         Int("src_byte_count", 0), Int("dst_byte_count", 0), Int("src_packets", 0),
         Int("dst_packets", 0), Opt("ipfix", T::kDict), Ref("src_payload_ref", {"artifact"}),
         Ref("dst_payload_ref", {"artifact"}), Refs("encapsulates_refs", {"network-traffic"}),
         Ref("encapsulated_by_ref", {"network-traffic"})}}},
      {"process",
       {Kind::kSco,
        {Opt("is_hidden", T::kBool), Int("pid"), Opt("created_time", T::kTimestamp),
         Opt("cwd", T::kString), Opt("command_line", T::kString),
         Opt("environment_variables", T::kDict),
         Refs("opened_connection_refs", {"network-traffic"}),
         Ref("creator_user_ref", {"user-account"}), Ref("image_ref", {"file"}),
         Ref("parent_ref", {"process"}), Refs("child_refs", {"process"})}}},
      {"software",
       {Kind::kSco,
        {Req("name", T::kString), Opt("cpe", T::kString), Opt("swid", T::kString),
         Opt("languages", T::kStringList), Opt("vendor", T::kString), Opt("version", T::kString)}}},
      {"url", {Kind::kSco, {Req("value", T::kString)}}},
      {"user-account",
       {Kind::kSco,
        {Opt("user_id", T::kString), Opt("credential", T::kString),
         Opt("account_login", T::kString), Opt("account_type", T::kString),
         Opt("display_name", T::kString), Opt("is_service_account", T::kBool),
         Opt("is_privileged", T::kBool), Opt("can_escalate_privs", T::kBool),
         Opt("is_disabled", T::kBool), Opt("account_created", T::kTimestamp),
         Opt("account_expires", T::kTimestamp), Opt("credential_last_changed", T::kTimestamp),
         Opt("account_first_login", T::kTimestamp), Opt("account_last_login", T::kTimestamp)}}},
      {"windows-registry-key",
       {Kind::kSco,
        {Opt("key", T::kString), Opt("values", T::kObjectList), Opt("modified_time", T::kTimestamp),
         Ref("creator_user_ref", {"user-account"}), Int("number_of_subkeys", 0)}}},
      {"x509-certificate",
       {Kind::kSco,
        {Opt("is_self_signed", T::kBool), Opt("hashes", T::kHashes), Opt("version", T::kString),
         Opt("serial_number", T::kString), Opt("signature_algorithm", T::kString),
         Opt("issuer", T::kString), Opt("validity_not_before", T::kTimestamp),
         Opt("validity_not_after", T::kTimestamp), Opt("subject", T::kString),
         Opt("subject_public_key_algorithm", T::kString),
         Opt("subject_public_key_modulus", T::kString), Int("subject_public_key_exponent"),
         Opt("x509_v3_extensions", T::kObject)}}},
      // Meta objects (§7)
      {"marking-definition",
       {Kind::kMarking,
        {Opt("name", T::kString), Opt("definition_type", T::kString),
         Opt("definition", T::kObject)}}},
      {"language-content",
       {Kind::kLanguageContent,
        {Ref("object_ref", {}, true), Opt("object_modified", T::kTimestamp),
         Req("contents", T::kObject)}}},
      {"extension-definition",
       {Kind::kExtensionDefinition,
        {Req("name", T::kString), Opt("description", T::kString), Req("schema", T::kString),
         Req("version", T::kString),
         Prop{"extension_types",
              T::kEnumList,
              true,
              {"new-sdo", "new-sco", "new-sro", "property-extension",
               "toplevel-property-extension"}},
         Opt("extension_properties", T::kStringList)}}},
  };
  return *kSpecs;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kSdo: return "SDO";
    case Kind::kSro: return "SRO";
    case Kind::kSco: return "SCO";
    case Kind::kMarking: return "marking-definition";
    case Kind::kLanguageContent: return "language-content";
    case Kind::kExtensionDefinition: return "extension-definition";
    case Kind::kCustom: return "custom object";
  }
  return "object";
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

// Does `selector` point at content present in `root` (§7.2.3)?
bool SelectorResolves(object root, std::string_view selector) {
  element cur;
  size_t pos = 0;
  bool first = true;
  while (pos <= selector.size()) {
    size_t dot = selector.find('.', pos);
    if (dot == std::string_view::npos) dot = selector.size();
    std::string_view part = selector.substr(pos, dot - pos);
    if (part.empty()) return false;
    if (first) {
      if (root[part].get(cur)) return false;
    } else if (part.front() == '[' && part.back() == ']') {
      array a;
      if (cur.get_array().get(a)) return false;
      std::string_view digits = part.substr(1, part.size() - 2);
      if (digits.empty() || digits.size() > 9 ||
          digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      size_t idx = std::stoul(std::string(digits));
      if (a.at(idx).get(cur)) return false;
    } else {
      object o;
      if (cur.get_object().get(o)) return false;
      if (o[part].get(cur)) return false;
    }
    first = false;
    pos = dot + 1;
  }
  return true;
}

absl::Status CheckGranular(element e, object root) {
  array a;
  if (e.get_array().get(a)) return Invalid("'granular_markings' must be a list");
  size_t i = 0;
  for (element item : a) {
    object o;
    if (item.get_object().get(o)) {
      return Invalid(Cat("granular marking (item ", i, ") must be an object"));
    }
    array selectors;
    if (o["selectors"].get_array().get(selectors) || selectors.size() == 0) {
      return Invalid(Cat("granular marking (item ", i, ") requires a non-empty 'selectors' list"));
    }
    bool has_ref = o["marking_ref"].error() == simdjson::SUCCESS;
    bool has_lang = o["lang"].error() == simdjson::SUCCESS;
    if (has_ref == has_lang) {
      return Invalid(
          Cat("granular marking (item ", i, ") needs exactly one of 'marking_ref' or 'lang'"));
    }
    if (has_ref) {
      ACCORD_RETURN_IF_ERROR(CheckIdentifier(o["marking_ref"].value_unsafe(),
                                             "granular_markings.marking_ref",
                                             {"marking-definition"}));
    }
    for (element sel : selectors) {
      std::string_view s;
      if (sel.get_string().get(s)) {
        return Invalid(Cat("granular marking (item ", i, ") selectors must be strings"));
      }
      if (!SelectorResolves(root, s)) {
        return Invalid(Cat("granular marking selector \"", s,
                           "\" does not point at content present in the object"));
      }
    }
    ++i;
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

constexpr std::string_view kReservedNames[] = {"severity", "username", "phone_number",
                                               "phone_numbers", "action"};

// --- TLP markings (§7.1, §7.2) ---

struct Tlp1 {
  std::string_view id, name, level;
};
constexpr Tlp1 kTlp1[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
};
constexpr Tlp1 kTlp2[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT",
     "amber+strict"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"},
};
constexpr std::string_view kTlp2Extension =
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

std::string_view GetString(object o, std::string_view key) {
  std::string_view s;
  if (o[key].get_string().get(s)) return {};
  return s;
}

absl::Status CheckMarkingDefinition(object obj, std::string_view id) {
  std::string_view def_type = GetString(obj, "definition_type");
  bool has_ext = obj["extensions"].error() == simdjson::SUCCESS;
  bool has_def = obj["definition"].error() == simdjson::SUCCESS;
  if (!has_ext && (def_type.empty() || !has_def)) {
    return Invalid(
        "marking-definition without 'extensions' requires 'definition_type' and "
        "'definition'");
  }
  object def;
  if (has_def && obj["definition"].get_object().get(def)) {
    return Invalid("marking-definition 'definition' must be an object");
  }
  if (def_type == "statement" && GetString(def, "statement").empty() &&
      def["statement"].get_string().error()) {
    return Invalid("statement marking requires 'definition.statement' as a string");
  }
  std::string_view created = GetString(obj, "created");
  for (const auto& t : kTlp1) {
    if (t.id != id) continue;
    std::string_view level = has_def ? GetString(def, "tlp") : std::string_view();
    std::string_view name = GetString(obj, "name");
    if (def_type != "tlp" || level != t.level || def.size() != 1 ||
        (!name.empty() && name != t.name) ||
        common::ParseTimestamp(created).value_or(common::ParsedTimestamp{}).micros !=
            common::ParseTimestamp("2017-01-20T00:00:00.000Z")->micros) {
      return Invalid(Cat("forged TLP marking: ", id, " is the predefined TLP 1.0 ", t.name,
                         " marking and must have definition_type \"tlp\", definition {\"tlp\":\"",
                         t.level, "\"}, created 2017-01-20T00:00:00.000Z; found definition_type \"",
                         def_type, "\", definition ",
                         has_def ? Show(obj["definition"].value_unsafe()) : "(none)", ", name \"",
                         name, "\""));
    }
    return absl::OkStatus();
  }
  if (def_type == "tlp") {
    return Invalid(
        Cat("definition_type \"tlp\" is allowed only on the four predefined "
            "TLP 1.0 marking-definitions; found it on ",
            id));
  }
  object tlp2_ext;
  bool has_tlp2_ext = !obj["extensions"][kTlp2Extension].get_object().get(tlp2_ext);
  for (const auto& t : kTlp2) {
    if (t.id != id) continue;
    std::string_view name = GetString(obj, "name");
    std::string_view level = has_tlp2_ext ? GetString(tlp2_ext, "tlp_2_0") : std::string_view();
    if (!has_tlp2_ext || level != t.level || name != t.name ||
        common::ParseTimestamp(created).value_or(common::ParsedTimestamp{}).micros !=
            common::ParseTimestamp("2022-10-01T00:00:00.000Z")->micros) {
      return Invalid(Cat(
          "forged TLP marking: ", id, " is the TLP 2.0 ", t.name, " marking and must have name \"",
          t.name, "\", created 2022-10-01T00:00:00.000Z and extension ", kTlp2Extension,
          " with tlp_2_0 \"", t.level, "\"; found name \"", name, "\", tlp_2_0 \"", level, "\""));
    }
    return absl::OkStatus();
  }
  if (has_tlp2_ext) {
    return Invalid(Cat("forged TLP marking: the TLP 2.0 extension is used on ", id,
                       ", which is not one of the five TLP 2.0 marking-definition ids"));
  }
  return absl::OkStatus();
}

// --- extensions (§7.3, §6 predefined extensions) ---

bool ValidExtensionName(std::string_view k) {
  // ^([a-z][a-z0-9]*)+(-[a-z0-9]+)*-ext$
  if (!HasSuffix(k, "-ext") || k.size() < 5) return false;
  std::string_view stem = k.substr(0, k.size() - 4);
  return !stem.empty() && stem[0] >= 'a' && stem[0] <= 'z' && stem.back() != '-' &&
         std::all_of(stem.begin(), stem.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '-'; }) &&
         stem.find("--") == std::string_view::npos;
}

struct PredefinedExt {
  std::string_view name;
  std::string_view owner;
  std::vector<std::string_view> required;
};

const std::vector<PredefinedExt>& PredefinedExtensions() {
  static const std::vector<PredefinedExt> kExts = {
      {"archive-ext", "file", {"contains_refs"}},
      {"ntfs-ext", "file", {}},
      {"pdf-ext", "file", {}},
      {"raster-image-ext", "file", {}},
      {"windows-pebinary-ext", "file", {"pe_type"}},
      {"http-request-ext", "network-traffic", {"request_method", "request_value"}},
      {"icmp-ext", "network-traffic", {"icmp_type_hex", "icmp_code_hex"}},
      {"socket-ext", "network-traffic", {"address_family"}},
      {"tcp-ext", "network-traffic", {}},
      {"windows-process-ext", "process", {}},
      {"windows-service-ext", "process", {}},
      {"unix-account-ext", "user-account", {}},
  };
  return kExts;
}

// Suffix-typed members inside extension content (e.g. icmp_type_hex, contains_refs).
absl::Status CheckExtensionMembers(object ext, std::string_view key) {
  for (auto f : ext) {
    ACCORD_RETURN_IF_ERROR(CheckBySuffix(f.key, f.value));
    if (f.key == "hashes" || HasSuffix(f.key, "_hashes")) {
      ACCORD_RETURN_IF_ERROR(CheckHashes(f.value, Cat(key, ".", f.key)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckExtensions(element e, std::string_view type) {
  object exts;
  if (e.get_object().get(exts)) {
    return Invalid(Cat("'extensions' must be a dictionary, found ", JsonTypeName(e.type())));
  }
  if (exts.size() == 0) return Invalid("'extensions' is an empty dictionary");
  for (auto f : exts) {
    object ext;
    if (f.value.get_object().get(ext) || ext.size() == 0) {
      return Invalid(Cat("extension \"", f.key, "\" must be a non-empty object"));
    }
    if (f.key.substr(0, 22) == "extension-definition--") {
      if (IdType(f.key) != "extension-definition") {
        return Invalid(
            Cat("extension key \"", f.key, "\" is not a valid extension-definition identifier"));
      }
      std::string_view et = GetString(ext, "extension_type");
      static const std::vector<std::string_view> kTypes = {
          "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"};
      if (!Contains(kTypes, et)) {
        return Invalid(Cat("extension ", f.key, " requires 'extension_type' (one of ",
                           Join(kTypes, ", "), "), found ",
                           ext["extension_type"].error()
                               ? std::string("none")
                               : Show(ext["extension_type"].value_unsafe())));
      }
      continue;
    }
    if (!ValidExtensionName(f.key)) {
      return Invalid(Cat("extension key \"", f.key,
                         "\" must be an extension-definition id or a name ending in "
                         "\"-ext\" (a-z, 0-9, '-')"));
    }
    for (const auto& p : PredefinedExtensions()) {
      if (p.name != f.key) continue;
      if (p.owner != type) {
        return Invalid(Cat("predefined extension \"", p.name, "\" applies only to ", p.owner,
                           " objects, found on ", type));
      }
      for (auto r : p.required) {
        if (ext[r].error()) {
          return Invalid(Cat("extension \"", p.name, "\": required property '", r, "' is missing"));
        }
      }
    }
    ACCORD_RETURN_IF_ERROR(CheckExtensionMembers(ext, f.key));
  }
  return absl::OkStatus();
}

// --- per-type co-occurrence rules (checklist item 11) ---

std::string_view StrOr(element e) {
  std::string_view s;
  if (e.get_string().get(s)) return {};
  return s;
}

bool Has(object o, std::string_view k) { return o[k].error() == simdjson::SUCCESS; }

std::optional<common::Micros> TimeOf(object o, std::string_view k) {
  std::string_view s;
  if (o[k].get_string().get(s)) return std::nullopt;
  auto p = common::ParseTimestamp(s);
  if (!p.ok()) return std::nullopt;
  return p->micros;
}

// a <op> b on the instants; `strict` means b must be strictly later.
absl::Status CheckOrder(object o, std::string_view earlier, std::string_view later, bool strict) {
  auto a = TimeOf(o, earlier);
  auto b = TimeOf(o, later);
  if (!a || !b) return absl::OkStatus();
  if (strict ? *b <= *a : *b < *a) {
    return Invalid(Cat("'", later, "' (", GetString(o, later), ") ",
                       strict ? "must be later than" : "is earlier than", " '", earlier, "' (",
                       GetString(o, earlier), ")"));
  }
  return absl::OkStatus();
}

size_t SpecificPropertyCount(object o) {
  size_t n = 0;
  for (auto f : o) {
    bool common_prop = false;
    for (const auto& p : CommonProps()) {
      if (p.name == f.key && p.name != "extensions") common_prop = true;
    }
    if (!common_prop) ++n;
  }
  return n;
}

absl::Status CheckTypeRules(std::string_view type, Kind kind, object o) {
  if (type == "indicator") return CheckOrder(o, "valid_from", "valid_until", true);
  if (type == "campaign" || type == "intrusion-set" || type == "threat-actor" ||
      type == "malware" || type == "infrastructure" || type == "sighting") {
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "first_seen", "last_seen", false));
  }
  if (type == "malware") {
    bool fam = false;
    if (!o["is_family"].get_bool().get(fam) && fam && !Has(o, "name")) {
      return Invalid("malware: 'name' is required when 'is_family' is true");
    }
  } else if (type == "observed-data") {
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "first_observed", "last_observed", false));
    bool objs = Has(o, "objects"), refs = Has(o, "object_refs");
    if (objs == refs) {
      return Invalid("observed-data needs exactly one of 'objects' or 'object_refs'");
    }
    if (objs) {
      object c = o["objects"].get_object().value_unsafe();
      for (auto f : c) {
        object sco;
        if (f.value.get_object().get(sco) || GetString(sco, "type").empty()) {
          return Invalid(
              Cat("observed-data 'objects' entry \"", f.key, "\" must be an object with a 'type'"));
        }
      }
    }
  } else if (type == "relationship") {
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "start_time", "stop_time", true));
    std::string_view rt = GetString(o, "relationship_type");
    if (rt.empty() ||
        !std::all_of(rt.begin(), rt.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; })) {
      return Invalid(Cat("'relationship_type' must use only a-z, 0-9 and '-', found \"", rt, "\""));
    }
    for (std::string_view k : {"source_ref", "target_ref"}) {
      std::string_view t = IdType(GetString(o, k));
      if (t == "relationship" || t == "sighting" || t == "bundle" || t == "language-content" ||
          t == "marking-definition" || t == "extension-definition") {
        return Invalid(
            Cat("relationship '", k, "' must reference an SDO or SCO, found ", GetString(o, k)));
      }
    }
  } else if (type == "sighting") {
    std::string_view t = IdType(GetString(o, "sighting_of_ref"));
    if (IsSco(t) || t == "relationship" || t == "sighting" || t == "bundle" ||
        t == "language-content" || t == "marking-definition" || t == "extension-definition") {
      return Invalid(Cat("sighting 'sighting_of_ref' must reference an SDO, found ",
                         GetString(o, "sighting_of_ref")));
    }
  } else if (type == "location") {
    bool lat = Has(o, "latitude"), lon = Has(o, "longitude");
    if (lat != lon) return Invalid("location: 'latitude' and 'longitude' must be given together");
    if (Has(o, "precision") && !lat) {
      return Invalid("location: 'precision' requires 'latitude' and 'longitude'");
    }
    if (!lat && !Has(o, "region") && !Has(o, "country")) {
      return Invalid(
          "location needs at least one of 'region', 'country', or 'latitude'+'longitude'");
    }
  } else if (type == "malware-analysis") {
    if (!Has(o, "result") && !Has(o, "analysis_sco_refs")) {
      return Invalid("malware-analysis needs at least one of 'result' or 'analysis_sco_refs'");
    }
  } else if (type == "artifact") {
    bool bin = Has(o, "payload_bin"), url = Has(o, "url");
    if (bin == url) return Invalid("artifact needs exactly one of 'payload_bin' or 'url'");
    if (url && !Has(o, "hashes"))
      return Invalid("artifact: 'hashes' is required when 'url' is present");
    if (Has(o, "decryption_key") && !Has(o, "encryption_algorithm")) {
      return Invalid("artifact: 'decryption_key' requires 'encryption_algorithm'");
    }
  } else if (type == "file") {
    if (!Has(o, "hashes") && !Has(o, "name"))
      return Invalid("file needs at least one of 'hashes' or 'name'");
  } else if (type == "network-traffic") {
    if (!Has(o, "src_ref") && !Has(o, "dst_ref")) {
      return Invalid("network-traffic needs at least one of 'src_ref' or 'dst_ref'");
    }
    bool active = false;
    if (!o["is_active"].get_bool().get(active) && active && Has(o, "end")) {
      return Invalid("network-traffic: 'end' must not be present when 'is_active' is true");
    }
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "start", "end", false));
  } else if (type == "email-message") {
    bool multi = false;
    if (o["is_multipart"].get_bool().get(multi)) multi = false;
    if (multi && Has(o, "body"))
      return Invalid("email-message: 'body' must not be used when 'is_multipart' is true");
    if (!multi && Has(o, "body_multipart")) {
      return Invalid(
          "email-message: 'body_multipart' must not be used when 'is_multipart' is false");
    }
    array parts;
    if (!o["body_multipart"].get_array().get(parts)) {
      size_t i = 0;
      for (element p : parts) {
        object part = p.get_object().value_unsafe();
        if (Has(part, "body") == Has(part, "body_raw_ref")) {
          return Invalid(Cat("email MIME part (body_multipart item ", i,
                             ") needs exactly one of 'body' or 'body_raw_ref'"));
        }
        if (Has(part, "body_raw_ref")) {
          ACCORD_RETURN_IF_ERROR(CheckIdentifier(part["body_raw_ref"].value_unsafe(),
                                                 "body_multipart.body_raw_ref",
                                                 {"artifact", "file"}));
        }
        ++i;
      }
    }
    object headers;
    if (!o["additional_header_fields"].get_object().get(headers)) {
      for (auto f : headers) {
        if (f.value.type() != element_type::STRING && f.value.type() != element_type::ARRAY) {
          return Invalid(Cat("email-message 'additional_header_fields' value for \"", f.key,
                             "\" must be a list of strings"));
        }
      }
    }
  } else if (type == "process" || type == "user-account" || type == "windows-registry-key" ||
             type == "x509-certificate") {
    if (SpecificPropertyCount(o) == 0) {
      return Invalid(Cat(type, " needs at least one property besides the common ones"));
    }
  } else if (type == "marking-definition") {
    std::string_view id = GetString(o, "id");
    array refs;
    if (!o["object_marking_refs"].get_array().get(refs)) {
      for (element r : refs) {
        if (StrOr(r) == id) {
          return Invalid("a marking-definition must not list itself in 'object_marking_refs'");
        }
      }
    }
    return CheckMarkingDefinition(o, id);
  } else if (type == "extension-definition") {
    if (Has(o, "extension_properties")) {
      bool toplevel = false;
      array types;
      if (o["extension_types"].get_array().get(types)) types = array();
      for (element t : types) {
        if (StrOr(t) == "toplevel-property-extension") toplevel = true;
      }
      if (!toplevel) {
        return Invalid(
            "extension-definition: 'extension_properties' may be used only with "
            "extension type \"toplevel-property-extension\"");
      }
    }
  } else if (type == "language-content") {
    object contents = o["contents"].get_object().value_unsafe();
    if (contents.size() == 0) return Invalid("language-content 'contents' must not be empty");
    for (auto f : contents) {
      if (f.value.type() != element_type::OBJECT) {
        return Invalid(Cat("language-content 'contents' entry \"", f.key,
                           "\" must be an object of translated properties"));
      }
    }
  }
  (void)kind;
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateObject(object obj, const ValidateOptions& opts) {
  // type
  element type_el;
  if (obj["type"].get(type_el)) return Invalid("required property 'type' is missing");
  std::string_view type;
  if (type_el.get_string().get(type)) {
    return Invalid(Cat("'type' must be a string, found ", JsonTypeName(type_el.type())));
  }
  if (!ValidTypeName(type)) {
    return Invalid(
        Cat("'type' must be 3-250 characters of a-z, 0-9 and '-' (starting "
            "with a letter, no \"--\"), found \"",
            type, "\""));
  }
  // id
  element id_el;
  if (obj["id"].get(id_el)) return Invalid(Cat(type, ": required property 'id' is missing"));
  std::string_view id;
  if (id_el.get_string().get(id)) {
    return Invalid(Cat("'id' must be a string, found ", JsonTypeName(id_el.type())));
  }
  if (id.size() != type.size() + 2 + 36 || id.substr(0, type.size()) != type ||
      id.substr(type.size(), 2) != "--" || !ValidUuid(id.substr(type.size() + 2))) {
    return Invalid(Cat("'id' must be \"", type, "--\" followed by a UUID, found \"", id, "\""));
  }

  const auto& specs = Specs();
  auto it = specs.find(type);
  const TypeSpec* spec = it == specs.end() ? nullptr : &it->second;
  Kind kind = spec ? spec->kind : Kind::kCustom;
  // Custom objects: SDO-like when they carry created/modified (new-sdo / legacy x- types).
  bool versioned = kind == Kind::kSdo || kind == Kind::kSro || kind == Kind::kLanguageContent ||
                   kind == Kind::kExtensionDefinition;

  // spec_version
  element sv_el;
  bool has_sv = !obj["spec_version"].get(sv_el);
  if (has_sv) {
    std::string_view sv;
    if (sv_el.get_string().get(sv) || sv != "2.1") {
      return Invalid(Cat("'spec_version' must be \"2.1\", found ", Show(sv_el)));
    }
  } else if (kind != Kind::kSco && kind != Kind::kCustom) {
    return Invalid(Cat(type, ": required property 'spec_version' is missing"));
  }

  // Required common properties by kind.
  std::vector<std::string_view> required_common;
  if (versioned) required_common = {"created", "modified"};
  if (kind == Kind::kMarking) required_common = {"created"};
  if (kind == Kind::kExtensionDefinition) required_common.push_back("created_by_ref");
  for (auto r : required_common) {
    if (!Has(obj, r)) return Invalid(Cat(type, ": required property '", r, "' is missing"));
  }
  if (kind != Kind::kSco && kind != Kind::kCustom && Has(obj, "defanged")) {
    return Invalid(Cat("'defanged' is allowed only on SCOs, found on a ", KindName(kind)));
  }
  if (kind == Kind::kMarking && Has(obj, "modified")) {
    return Invalid(
        "marking-definition must not have 'modified' (marking definitions are not versioned)");
  }

  // Every member: known (typed) or custom (name format + suffix typing).
  for (auto f : obj) {
    const Prop* prop = nullptr;
    for (const auto& p : CommonProps()) {
      if (p.name == f.key) prop = &p;
    }
    if (spec != nullptr) {
      for (const auto& p : spec->props) {
        if (p.name == f.key) prop = &p;
      }
    }
    ACCORD_RETURN_IF_ERROR(CheckNoNullOrEmpty(f.value, f.key, 1, prop != nullptr));
    if (prop != nullptr) {
      if (f.key == "created" || f.key == "modified") {
        ACCORD_RETURN_IF_ERROR(CheckTimestamp(f.value, f.key, 3, nullptr));
      } else if (f.key == "extensions") {
        ACCORD_RETURN_IF_ERROR(CheckExtensions(f.value, type));
      } else {
        ACCORD_RETURN_IF_ERROR(CheckValue(*prop, f.value, obj));
      }
      continue;
    }
    for (auto r : kReservedNames) {
      if (f.key == r) {
        return Invalid(Cat("property name '", f.key, "' is reserved and must not be used"));
      }
    }
    if (!ValidPropertyName(f.key)) {
      return Invalid(
          Cat("custom property name \"", f.key, "\" must be 3-250 characters of a-z, 0-9 and '_'"));
    }
    if (auto st = CheckBySuffix(f.key, f.value); !st.ok()) {
      // Custom properties are the producer's own: a malformed custom reference (ATT&CK 18.1's
      // deprecated data components carry "x_mitre_data_source_ref": "") is flagged, not fatal.
      if (!HasSuffix(f.key, "_ref") && !HasSuffix(f.key, "_refs")) return st;
      if (opts.warnings) opts.warnings->emplace_back(st.message());
    }
  }

  // Required type-specific properties.
  if (spec != nullptr) {
    for (const auto& p : spec->props) {
      if (p.required && !Has(obj, p.name)) {
        return Invalid(Cat(type, ": required property '", p.name, "' is missing"));
      }
    }
  }
  ACCORD_RETURN_IF_ERROR(CheckOrder(obj, "created", "modified", false));
  ACCORD_RETURN_IF_ERROR(CheckTypeRules(type, kind, obj));

  // Deterministic SCO ids.
  if (kind == Kind::kSco && opts.check_sco_ids) {
    std::string_view uuid = id.substr(type.size() + 2);
    if (uuid[14] == '5') {
      auto expected = type == "process" ? std::nullopt : ComputeScoId(type, obj);
      if (!expected) {
        if (opts.warnings) {
          opts.warnings->push_back(Cat("deterministic id mismatch: ", type,
                                       " has none of its ID contributing properties, so its id "
                                       "should be a UUIDv4, found ",
                                       id));
        }
        return absl::OkStatus();
      }
      if (!EqualsIgnoreCase(*expected, id) && opts.warnings) {
        // STIX 2.1 §2.9: a consumer must not reject an SCO because its id does not reproduce.
        opts.warnings->push_back(
            Cat("deterministic id mismatch: expected ", *expected, ", found ", id));
      }
    }
  }
  return absl::OkStatus();
}

bool IsStix20(object obj, std::string_view bundle_spec_version) {
  std::string_view sv;
  if (!obj["spec_version"].get_string().get(sv)) return sv == "2.0";
  if (bundle_spec_version == "2.0") return true;
  std::string_view type;
  if (obj["type"].get_string().get(type)) return false;
  auto it = Specs().find(type);
  if (it != Specs().end()) {
    Kind k = it->second.kind;
    return k == Kind::kSdo || k == Kind::kSro || k == Kind::kMarking;
  }
  // A custom object with versioning properties and no spec_version is 2.0-style content
  // (e.g. ATT&CK's x-mitre-tactic in the 2.0 release).
  return !IsSco(type) && Has(obj, "created");
}

}  // namespace accord::stix::detail
