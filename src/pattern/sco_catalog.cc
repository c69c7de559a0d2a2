// Tables of the STIX 2.1 SCO types and their top-level properties (sco_catalog.h). The checker
// only warns from them (checker.cc: CheckPathNames for unknown types and properties,
// CheckPropertyType for literals of a kind that can never match), so a missing entry costs a
// spurious warning, never a rejected pattern. Only the first path step
// is looked up: deeper steps (dictionaries, extensions, list elements) are not described here.
#include "pattern/sco_catalog.h"

#include <string>

#include "absl/container/flat_hash_map.h"

namespace accord::pattern::detail {
namespace {

using P = PropType;

struct Prop {
  const char* name;
  PropType type;
};

// `props` stays valid: aggregate initialisation extends the lifetime of the arrays behind the
// initializer_lists to that of kScos (static), as for a reference member.
struct ScoDef {
  const char* type;
  std::initializer_list<Prop> props;
};

// STIX 2.1 §6 (cyber-observable objects), top-level properties.
const ScoDef kScos[] = {
    {"artifact",
     {{"mime_type", P::kString},
      {"payload_bin", P::kBinary},
      {"url", P::kString},
      {"hashes", P::kDictionary},
      {"encryption_algorithm", P::kString},
      {"decryption_key", P::kString}}},
    {"autonomous-system", {{"number", P::kInteger}, {"name", P::kString}, {"rir", P::kString}}},
    {"directory",
     {{"path", P::kString},
      {"path_enc", P::kString},
      {"ctime", P::kTimestamp},
      {"mtime", P::kTimestamp},
      {"atime", P::kTimestamp},
      {"contains_refs", P::kList}}},
    {"domain-name", {{"value", P::kString}, {"resolves_to_refs", P::kList}}},
    {"email-addr",
     {{"value", P::kString}, {"display_name", P::kString}, {"belongs_to_ref", P::kReference}}},
    {"email-message",
     {{"is_multipart", P::kBoolean},
      {"date", P::kTimestamp},
      {"content_type", P::kString},
      {"from_ref", P::kReference},
      {"sender_ref", P::kReference},
      {"to_refs", P::kList},
      {"cc_refs", P::kList},
      {"bcc_refs", P::kList},
      {"message_id", P::kString},
      {"subject", P::kString},
      {"received_lines", P::kList},
      {"additional_header_fields", P::kDictionary},
      {"body", P::kString},
      {"body_multipart", P::kList},
      {"raw_email_ref", P::kReference}}},
    {"file",
     {{"hashes", P::kDictionary},
      {"size", P::kInteger},
      {"name", P::kString},
      {"name_enc", P::kString},
      {"magic_number_hex", P::kHex},
      {"mime_type", P::kString},
      {"ctime", P::kTimestamp},
      {"mtime", P::kTimestamp},
      {"atime", P::kTimestamp},
      {"parent_directory_ref", P::kReference},
      {"contains_refs", P::kList},
      {"content_ref", P::kReference}}},
    {"ipv4-addr",
     {{"value", P::kString}, {"resolves_to_refs", P::kList}, {"belongs_to_refs", P::kList}}},
    {"ipv6-addr",
     {{"value", P::kString}, {"resolves_to_refs", P::kList}, {"belongs_to_refs", P::kList}}},
    {"mac-addr", {{"value", P::kString}}},
    {"mutex", {{"name", P::kString}}},
    {"network-traffic",
     {{"start", P::kTimestamp},
      {"end", P::kTimestamp},
      {"is_active", P::kBoolean},
      {"src_ref", P::kReference},
      {"dst_ref", P::kReference},
      {"src_port", P::kInteger},
      {"dst_port", P::kInteger},
      {"protocols", P::kList},
      {"src_byte_count", P::kInteger},
      {"dst_byte_count", P::kInteger},
      {"src_packets", P::kInteger},
      {"dst_packets", P::kInteger},
      {"ipfix", P::kDictionary},
      {"src_payload_ref", P::kReference},
      {"dst_payload_ref", P::kReference},
      {"encapsulates_refs", P::kList},
      {"encapsulated_by_ref", P::kReference}}},
    {"process",
     {{"is_hidden", P::kBoolean},
      {"pid", P::kInteger},
      {"created_time", P::kTimestamp},
      {"cwd", P::kString},
      {"command_line", P::kString},
      {"environment_variables", P::kDictionary},
      {"opened_connection_refs", P::kList},
      {"creator_user_ref", P::kReference},
      {"image_ref", P::kReference},
      {"parent_ref", P::kReference},
      {"child_refs", P::kList}}},
    {"software",
     {{"name", P::kString},
      {"cpe", P::kString},
      {"swid", P::kString},
      {"languages", P::kList},
      {"vendor", P::kString},
      {"version", P::kString}}},
    {"url", {{"value", P::kString}}},
    {"user-account",
     {{"user_id", P::kString},
      {"credential", P::kString},
      {"account_login", P::kString},
      {"account_type", P::kString},
      {"display_name", P::kString},
      {"is_service_account", P::kBoolean},
      {"is_privileged", P::kBoolean},
      {"can_escalate_privs", P::kBoolean},
      {"is_disabled", P::kBoolean},
      {"account_created", P::kTimestamp},
      {"account_expires", P::kTimestamp},
      {"credential_last_changed", P::kTimestamp},
      {"account_first_login", P::kTimestamp},
      {"account_last_login", P::kTimestamp}}},
    {"windows-registry-key",
     {{"key", P::kString},
      {"values", P::kList},
      {"modified_time", P::kTimestamp},
      {"creator_user_ref", P::kReference},
      {"number_of_subkeys", P::kInteger}}},
    {"x509-certificate",
     {{"is_self_signed", P::kBoolean},
      {"hashes", P::kDictionary},
      {"version", P::kString},
      {"serial_number", P::kString},
      {"signature_algorithm", P::kString},
      {"issuer", P::kString},
      {"validity_not_before", P::kTimestamp},
      {"validity_not_after", P::kTimestamp},
      {"subject", P::kString},
      {"subject_public_key_algorithm", P::kString},
      {"subject_public_key_modulus", P::kString},
      {"subject_public_key_exponent", P::kInteger},
      {"x509_v3_extensions", P::kDictionary}}},
};

// Common properties of every SCO; added to each type's table.
const Prop kCommon[] = {{"type", P::kString},
                        {"id", P::kString},
                        {"spec_version", P::kString},
                        {"object_marking_refs", P::kList},
                        {"granular_markings", P::kList},
                        {"defanged", P::kBoolean},
                        {"extensions", P::kDictionary}};

// The 25 standard types that are not SCOs, which the reference matcher skips (spec digest
// §6.1). src/match/input/stix_input.cc keeps its own copy of this list: change both.
constexpr const char* kNonSco[] = {"attack-pattern",
                                   "campaign",
                                   "course-of-action",
                                   "grouping",
                                   "identity",
                                   "incident",
                                   "indicator",
                                   "infrastructure",
                                   "intrusion-set",
                                   "location",
                                   "malware",
                                   "malware-analysis",
                                   "note",
                                   "observed-data",
                                   "opinion",
                                   "report",
                                   "threat-actor",
                                   "tool",
                                   "vulnerability",
                                   "relationship",
                                   "sighting",
                                   "marking-definition",
                                   "language-content",
                                   "extension-definition",
                                   "bundle"};

struct Catalog {
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, PropType>> types;
  Catalog() {
    for (const ScoDef& d : kScos) {
      auto& m = types[d.type];
      for (const Prop& p : d.props) m[p.name] = p.type;
      for (const Prop& p : kCommon) m[p.name] = p.type;
    }
  }
};

// Debian's abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0: absl::string_view is a type
// of its own, and the maps' heterogeneous lookup takes that type, not std::string_view.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Built on first use (thread-safe static initialisation), read-only after, never destroyed:
// lookups are safe from any thread and at exit.
const Catalog& Get() {
  static const Catalog* c = new Catalog();
  return *c;
}

}  // namespace

bool IsKnownScoType(std::string_view type) { return Get().types.contains(AV(type)); }

// A linear scan: 25 short strings, and only called for types that are not known SCOs.
bool IsNonScoType(std::string_view type) {
  for (const char* t : kNonSco) {
    if (type == t) return true;
  }
  return false;
}

PropType ScoPropertyType(std::string_view type, std::string_view property, bool* known) {
  const auto& types = Get().types;
  auto it = types.find(AV(type));
  if (it == types.end()) {
    *known = false;
    return P::kUnknown;
  }
  auto pit = it->second.find(AV(property));
  if (pit == it->second.end()) {
    *known = false;
    return P::kUnknown;
  }
  *known = true;
  return pit->second;
}

const char* PropTypeName(PropType t) {
  switch (t) {
    case P::kUnknown: return "unknown";
    case P::kString: return "string";
    case P::kInteger: return "integer";
    case P::kTimestamp: return "timestamp";
    case P::kBoolean: return "boolean";
    case P::kBinary: return "binary";
    case P::kHex: return "hex";
    case P::kReference: return "reference";
    case P::kList: return "list";
    case P::kDictionary: return "dictionary";
  }
  return "?";
}

}  // namespace accord::pattern::detail
