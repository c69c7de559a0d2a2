// STIX 2.1 object rules (../shared/spec/STIX21-objects.md) and the STIX 2.0 upgrade rule
// (docs/STIX20_UPGRADE.md). Internal to the stix layer: callers use reader.h.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"

namespace accord::stix::detail {

struct ValidateOptions {
  bool check_sco_ids = true;  // recompute deterministic SCO ids (UUIDv5) and flag mismatches
  /// Where findings that do not make an object invalid go (may be null): a deterministic SCO
  /// id that does not reproduce (STIX 2.1 §2.9: consumers must not reject on that alone), a
  /// custom `*_ref` property whose value is not an identifier.
  std::vector<std::string>* warnings = nullptr;
};

/// Checks one object against the STIX 2.1 rules. OK, or InvalidArgument whose message names
/// the rule broken and what was found, e.g. "'modified' (2015-...) is earlier than 'created'
/// (2016-...)". Never asserts on input.
absl::Status ValidateObject(simdjson::dom::object obj, const ValidateOptions& opts);

/// True if `obj` is STIX 2.0 content: spec_version "2.0", or an SDO/SRO without spec_version
/// (2.1 requires it there), or any object inside a bundle whose spec_version is "2.0".
bool IsStix20(simdjson::dom::object obj, std::string_view bundle_spec_version);

/// Converts a STIX 2.0 object to STIX 2.1 by the documented rule; returns minified JSON.
/// InvalidArgument when the object cannot be upgraded without inventing facts.
absl::StatusOr<std::string> UpgradeFrom20(simdjson::dom::object obj);

}  // namespace accord::stix::detail
