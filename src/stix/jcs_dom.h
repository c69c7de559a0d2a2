// RFC 8785 canonicalisation of an already-parsed simdjson DOM value (the public entry point,
// accord/stix/jcs.h, parses text first). Internal to the stix layer: sco_id.cc computes
// deterministic ids with it.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "accord/common/status.h"

namespace accord::stix::detail {

/// Appends the canonical form of `e` to `*out`. InvalidArgument when an object has two
/// members of the same name (I-JSON, RFC 8785 §3.1); `*out` then holds a partial result.
absl::Status AppendCanonical(simdjson::dom::element e, std::string* out);

/// Appends `s` as a canonical JSON string literal (quotes included).
void AppendCanonicalString(std::string_view s, std::string* out);

}  // namespace accord::stix::detail
