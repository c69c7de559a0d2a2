// Request-level helpers that do not depend on the network: content negotiation (TAXII 2.1
// §1.6.8, §3.1; 406 and 415 are decided here, STYLE.md §4), query strings and credentials.
// All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/encoding.h"
#include "accord/common/status.h"

namespace accord::http {

inline constexpr std::string_view kTaxiiMediaType = "application/taxii+json;version=2.1";
inline constexpr std::string_view kStixMediaType = "application/stix+json;version=2.1";

/// Result of matching an Accept or Content-Type value against the TAXII 2.1 media type.
enum class MediaMatch { kTaxii21, kOther };

/// Accept: true when some media range is `application/taxii+json` with no version or
/// version=2.1 (q>0), `application/stix+json;version=2.1` (the manifest header box lists it)
/// or, leniently, `*/*` / `application/*`. A missing Accept header is also acceptable
/// (RFC 7231 §5.3.2: any type). Parameters other than `version` and `q` are ignored.
bool AcceptsTaxii21(std::string_view accept);
/// Whether an Accept-Encoding value accepts content coding `coding` (lower-case, e.g. "gzip")
/// by name: listed with no q or a q above 0 (RFC 9110 §12.5.3). "*" is not taken as a yes.
bool AcceptsCoding(std::string_view accept_encoding, std::string_view coding);

/// Content-Type of a POST: true for `application/taxii+json` with no version or version=2.1.
bool IsTaxii21ContentType(std::string_view content_type);

/// A query string split into (name, value) pairs, percent- and '+'-decoded.
/// InvalidArgument for malformed percent escapes.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view q);

/// Percent-decodes `s` ('+' stays '+' unless `plus_is_space`).
absl::StatusOr<std::string> PercentDecode(std::string_view s, bool plus_is_space);

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
std::string PercentEncode(std::string_view s);

/// Credentials from an Authorization header.
struct Credentials {
  enum class Scheme { kNone, kBasic, kBearer } scheme = Scheme::kNone;
  std::string user;    // Basic only
  std::string secret;  // Basic password or bearer token
};

/// Parses `Basic <base64(user:pass)>` or `Bearer <token>` (scheme case-insensitive).
/// An empty header gives kNone; anything else malformed is InvalidArgument.
absl::StatusOr<Credentials> ParseAuthorization(std::string_view header);

/// Escapes `s` as the inside of a JSON string (common/encoding.h).
using common::AppendJsonEscaped;

}  // namespace accord::http
