// Deterministic SCO identifiers (STIX 2.1 §2.9; ../shared/spec/STIX21-objects.md §3.2):
// UUIDv5 in the STIX namespace over the RFC 8785 (JCS) canonical JSON of the object's
// ID-contributing properties. Internal to the stix layer.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace accord::stix::detail {

/// The STIX SCO namespace, 00abedb4-aa42-466c-9c01-fed23315a9b7.
inline constexpr std::string_view kScoNamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7";

/// RFC 4122 §4.3 name-based (SHA-1) UUID of `name` in `namespace_uuid` (textual form).
/// Returns the lowercase textual UUID, or "" when `namespace_uuid` is not a UUID.
std::string UuidV5(std::string_view namespace_uuid, std::string_view name);

/// The canonical JSON name the deterministic id of `obj` is computed over, or nullopt when
/// `type` has no ID-contributing properties (process, custom types) or none is present.
std::optional<std::string> ScoIdName(std::string_view type, simdjson::dom::object obj);

/// "<type>--<UUIDv5>" for `obj`, or nullopt as for ScoIdName.
std::optional<std::string> ComputeScoId(std::string_view type, simdjson::dom::object obj);

}  // namespace accord::stix::detail
