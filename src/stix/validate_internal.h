// Declarations shared by the validate*.cc files of the stix layer (STIX 2.1 object rules, see
// validate.h): the property-table types, and the helpers one file defines and another uses.
// Private to src/stix; not part of the public API.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"

namespace accord::stix::detail {

inline constexpr int64_t kMaxInt = (int64_t{1} << 53) - 1;

inline constexpr double kNoMin = -std::numeric_limits<double>::infinity();

inline constexpr double kNoMax = std::numeric_limits<double>::infinity();

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

struct TypeSpec {
  Kind kind;
  std::vector<Prop> props;
};

// --- schema tables (validate_schema.cc) ---

extern const std::vector<std::string_view> kScoTypes;
const std::vector<Prop>& CommonProps();
const std::unordered_map<std::string_view, TypeSpec>& Specs();
/// The properties defined on objects of one type: the type's own, and the common ones it does
/// not redefine.
struct PropIndex {
  /// The definition of property `name`, or null when there is none.
  const Prop* Find(std::string_view name) const;
  std::array<std::vector<const Prop*>, 48> by_length;  // the last: every longer name
};
/// The properties of objects of `spec` (null: a type without a spec; only the common ones).
const PropIndex& PropsOf(const TypeSpec* spec);
const char* KindName(Kind k);

// --- value checks (validate_values.cc) ---

std::string Join(const std::vector<std::string_view>& v, std::string_view sep);
const char* JsonTypeName(simdjson::dom::element_type t);
absl::Status Invalid(const std::string& msg);
std::string Show(simdjson::dom::element e);
bool IsLowerAlnum(char c);
bool ValidTypeName(std::string_view t);
bool ValidUuid(std::string_view u);
std::string_view IdType(std::string_view s);
bool IsSco(std::string_view type);
bool Contains(const std::vector<std::string_view>& v, std::string_view s);
absl::Status CheckIdentifier(simdjson::dom::element e, std::string_view where,
                             const std::vector<std::string_view>& targets);
absl::Status CheckTimestamp(simdjson::dom::element e, std::string_view where,
                            int min_fraction_digits, common::Micros* out);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
absl::Status CheckHashes(simdjson::dom::element e, std::string_view where);
absl::Status CheckValue(const Prop& p, simdjson::dom::element v, simdjson::dom::object root);
absl::Status CheckNoNullOrEmpty(simdjson::dom::element e, std::string_view path, int depth,
                                bool recurse);
bool ValidPropertyName(std::string_view n);
bool HasSuffix(std::string_view s, std::string_view suffix);
absl::Status CheckBySuffix(std::string_view name, simdjson::dom::element v);
std::string_view GetString(simdjson::dom::object o, std::string_view key);

// --- markings (validate_markings.cc) ---

absl::Status CheckGranular(simdjson::dom::element e, simdjson::dom::object root);
absl::Status CheckMarkingDefinition(simdjson::dom::object obj, std::string_view id);

// --- extensions (validate_extensions.cc) ---

absl::Status CheckExtensions(simdjson::dom::element e, std::string_view type);

// --- per-type rules (validate_types.cc) ---

bool Has(simdjson::dom::object o, std::string_view k);
absl::Status CheckOrder(simdjson::dom::object o, std::string_view earlier, std::string_view later,
                        bool strict);
absl::Status CheckTypeRules(std::string_view type, Kind kind, simdjson::dom::object o);

}  // namespace accord::stix::detail
