// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte sequence of a JSON value that
// signatures and deterministic ids are computed over. Members are sorted by the UTF-16 code
// units of their names, strings are escaped minimally (only '"', '\\' and U+0000-U+001F, with
// the short forms \b \t \n \f \r), numbers are written as ECMAScript's Number-to-String
// writes the IEEE 754 double they denote, and there is no whitespace.
//
// Used by: deterministic SCO ids (UUIDv5 over the canonical id-contributing properties,
// STIX 2.1 §2.9), object comparison (SameJson), and signatures (federation).
// Tested against the cyberphone vectors in ../shared/conformance/jcs (tests in jcs_test.cc).
//
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "accord/common/status.h"

namespace accord::stix {

/// The canonical form of the JSON text `json`. InvalidArgument (with the reason) when `json` is
/// not JSON, or is JSON that RFC 8785 §3.1 excludes (I-JSON, RFC 7493): an object with two
/// members of the same name. Integers beyond 2^53 become the nearest double, as JCS requires;
/// integers beyond the 64-bit range are refused (the JSON parser, simdjson, does not hold them).
absl::StatusOr<std::string> CanonicalJson(std::string_view json);

}  // namespace accord::stix
