// UUIDs (RFC 4122 / RFC 9562): random version 4 ids, and the textual form's parsing and
// formatting, for every layer (STIX ids, collection ids, TAXII status ids, sightings).
// Textual form: 8-4-4-4-12 hex digits. Accord writes lowercase; it reads either case.
//
// Thread-safe: pure functions, and NewUuid4 draws from libsodium's thread-safe CSPRNG.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace accord::common {

using UuidBytes = std::array<uint8_t, 16>;

/// A new random UUID (version 4, RFC 4122 variant) in lowercase textual form, from
/// libsodium's randombytes_buf (the OS CSPRNG).
std::string NewUuid4();

/// The lowercase textual form of 16 bytes.
std::string FormatUuid(const UuidBytes& bytes);

/// The 16 bytes of a textual UUID (any version and variant, either case), or nullopt when
/// `s` is not 8-4-4-4-12 hex digits.
[[nodiscard]] std::optional<UuidBytes> ParseUuid(std::string_view s);

/// True for 8-4-4-4-12 hex digits of either case, whatever the version and variant bits.
[[nodiscard]] bool IsUuid(std::string_view s);

/// True for a UUID of the RFC 4122 variant (bits 10xx) with a version from 1 to 5: the rule
/// of the STIX 2.1 JSON schemas for identifiers.
[[nodiscard]] bool IsRfc4122Uuid(std::string_view s);

}  // namespace accord::common
