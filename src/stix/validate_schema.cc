// STIX 2.1 schema tables (../shared/spec/STIX21-objects.md): the common properties every
// object may carry, the per-type property tables (name, value type, required, allowed reference
// targets or enum values) and the list of SCO types. Split out of validate.cc.
#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stix/validate_internal.h"

namespace accord::stix::detail {
namespace {

// Table-building shorthands: Req/Opt for plain typed properties, Ref/Refs for identifier
// properties whose prefix must be one of `targets` (an empty list means any object type; the
// type rules in validate_types.cc narrow some of those), Int/Flt with inclusive bounds, Enum
// for closed vocabularies ("-enum", STIX21-objects.md §15). Open vocabularies ("-ov") are plain
// strings or string lists: any value is valid there (checklist item 9).
Prop Req(std::string_view n, T t) { return Prop{n, t, true}; }

Prop Opt(std::string_view n, T t) { return Prop{n, t, false}; }

Prop Ref(std::string_view n, std::vector<std::string_view> targets, bool req = false) {
  return Prop{n, T::kId, req, std::move(targets)};
}

Prop Refs(std::string_view n, std::vector<std::string_view> targets, bool req = false) {
  return Prop{n, T::kIdList, req, std::move(targets)};
}

// Integers default to the JSON-safe range +-(2^53 - 1) (checklist item 6: integers within
// 54-bit range), so a value survives a round trip through any JSON consumer's double.
Prop Int(std::string_view n, double lo = -static_cast<double>(kMaxInt),
         double hi = static_cast<double>(kMaxInt), bool req = false) {
  return Prop{n, T::kInteger, req, {}, lo, hi};
}

Prop Flt(std::string_view n, double lo, double hi) { return Prop{n, T::kFloat, false, {}, lo, hi}; }

Prop Enum(std::string_view n, std::vector<std::string_view> values, bool req = false) {
  return Prop{n, T::kEnum, req, std::move(values)};
}

}  // namespace

// The 18 SCO types of STIX 2.1 §6 (STIX21-objects.md §12). Used to classify an object's kind and
// a reference's target (an SCO cannot be sighting_of_ref, for example).
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
// Function-local static: built once, thread-safe by C++11 static initialisation, read-only after.
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

// Per-type property tables, one entry per object section of STIX21-objects.md §10-§13. Only
// type-specific properties are listed; common ones are in CommonProps. Properties not listed
// are custom and checked by name and suffix (validate.cc). Cross-property rules live in
// validate_types.cc.
// Heap-allocated and never freed (no static object with a non-trivial destructor), so a
// thread still validating during process exit never sees a destroyed table. Thread-safe
// after the first call (static initialisation); never mutated.
// PERF: keyed by string_view into string literals, so lookups hash the type without copying.
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
         // §10.14: number_observed 1..999,999,999; objects is the deprecated SCO container (§9).
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
         // §11.2: count 0..999,999,999, where 0 explicitly means "not seen".
         Opt("last_seen", T::kTimestamp), Int("count", 0, 999999999),
         Ref("sighting_of_ref", {}, true), Refs("observed_data_refs", {"observed-data"}),
         Refs("where_sighted_refs", {"identity", "location"}), Opt("summary", T::kBool)}}},
      // SCOs (§6)
      {"artifact",
       {Kind::kSco,
        // §12.1: encryption_algorithm is a closed enum; payload_bin is base64 (checklist item 8).
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
         // §12.12: ports are 0..65535; protocols is required (lower-case names, outermost first).
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
         // §13.1: object_modified (above) is optional; matching it to an existing version is a
         // store-level concern (STIX21-objects.md §16, "Semantic/versioning").
         Req("contents", T::kObject)}}},
      {"extension-definition",
       {Kind::kExtensionDefinition,
        {Req("name", T::kString), Opt("description", T::kString), Req("schema", T::kString),
         Req("version", T::kString),
         // §8.2: extension_types is a closed list, at least one required.
         Prop{"extension_types",
              T::kEnumList,
              true,
              {"new-sdo", "new-sco", "new-sro", "property-extension",
               "toplevel-property-extension"}},
         Opt("extension_properties", T::kStringList)}}},
  };
  return *kSpecs;
}

// PERF: the names of one length are few (at most a handful): comparing with those is cheaper
// than hashing the name, and than comparing it with every common and type-specific name (5% of
// the parsing thread of an import).
const PropIndex& PropsOf(const TypeSpec* spec) {
  static const auto* kIndexes = [] {
    auto* out = new std::unordered_map<const TypeSpec*, PropIndex>;
    auto fill = [](const TypeSpec* t) {
      PropIndex ix;
      auto add = [&](const Prop& p) {
        auto& bucket = ix.by_length[std::min(p.name.size(), ix.by_length.size() - 1)];
        for (const Prop*& q : bucket) {
          if (q->name == p.name) {
            q = &p;  // the type's own definition wins
            return;
          }
        }
        bucket.push_back(&p);
      };
      for (const Prop& p : CommonProps()) add(p);
      if (t) {
        for (const Prop& p : t->props) add(p);
      }
      return ix;
    };
    (*out)[nullptr] = fill(nullptr);
    for (const auto& [type, t] : Specs()) (*out)[&t] = fill(&t);
    return out;
  }();
  auto it = kIndexes->find(spec);
  return it == kIndexes->end() ? kIndexes->at(nullptr) : it->second;
}

const Prop* PropIndex::Find(std::string_view name) const {
  if (name.size() >= by_length.size() - 1) {
    for (const Prop* p : by_length.back()) {
      if (p->name == name) return p;
    }
    return nullptr;
  }
  for (const Prop* p : by_length[name.size()]) {
    if (memcmp(p->name.data(), name.data(), name.size()) == 0) return p;
  }
  return nullptr;
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

}  // namespace accord::stix::detail
