// Known STIX 2.1 Cyber-observable object types and their top-level properties, used by the
// checker for warnings only (custom objects and properties are legal).
//
// Thread-safe: the tables are built once on first use and only read afterwards.
#pragma once

#include <string_view>

namespace accord::pattern::detail {

/// The declared type of a property. kReference is a `_ref` (one id); `_refs` are kList.
enum class PropType : uint8_t {
  kUnknown,
  kString,
  kInteger,
  kTimestamp,
  kBoolean,
  kBinary,
  kHex,
  kReference,
  kList,
  kDictionary
};

/// True for the 18 STIX 2.1 SCO types.
bool IsKnownScoType(std::string_view type);
/// True for STIX 2.1 SDO/SRO/meta types (which patterns never match).
bool IsNonScoType(std::string_view type);
/// Type of a top-level property of a known SCO type; kUnknown when not defined.
/// Sets *known = false when the property is not part of the type's definition.
PropType ScoPropertyType(std::string_view type, std::string_view property, bool* known);
const char* PropTypeName(PropType t);

}  // namespace accord::pattern::detail
