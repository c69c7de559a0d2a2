// Hex (base16) and base64 text encodings of bytes, RFC 4648, on libsodium's constant-time
// codecs (sodium_bin2hex / sodium_hex2bin / sodium_bin2base64 / sodium_base642bin). Every
// layer encodes and decodes through these functions so that the same text is accepted or
// refused everywhere (a STIX `_hex`/`_bin` property, a pattern literal h'..'/b'..', the
// matcher's decoded values, an HTTP Basic credential).
//
// Strictness, the same for every function here:
//  - Hex: an even number of digits 0-9, a-f, A-F; nothing else (no "0x", no separators, no
//    whitespace). Encoding writes lowercase.
//  - Base64: the alphabet of the chosen variant only (kStandard: A-Z a-z 0-9 + /, RFC 4648 §4;
//    kUrlSafe: - _ for + /, §5); no whitespace or line breaks. Padded variants require the
//    exact '=' padding (the length is a multiple of 4); unpadded variants refuse '='. The
//    unused low bits of the last character must be zero (canonical encoding, §3.5), so each
//    byte string has exactly one accepted text. The empty string encodes the empty input.
//
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace accord::common {

/// Appends `s` escaped as the inside of a JSON string: '"', '\\', \n \r \t, and other
/// control bytes as \u00xx; other bytes as they are (the caller keeps the text UTF-8).
void AppendJsonEscaped(std::string* out, std::string_view s);

/// Lowercase hex of `bytes`.
std::string HexEncode(std::string_view bytes);

/// The bytes `hex` encodes, or nullopt when it is not strict hex (see the file comment).
[[nodiscard]] std::optional<std::string> HexDecode(std::string_view hex);

/// True when `hex` is strict hex: an even number of hex digits of either case.
[[nodiscard]] bool IsHex(std::string_view hex);

enum class Base64Variant {
  kStandard,  // RFC 4648 §4, '=' padded: STIX binary, pattern b'..', HTTP Basic
  kStandardNoPadding,
  kUrlSafe,           // RFC 4648 §5, '=' padded
  kUrlSafeNoPadding,  // API key secrets
};

/// Base64 of `bytes` in `variant`.
std::string Base64Encode(std::string_view bytes, Base64Variant variant = Base64Variant::kStandard);

/// The bytes `text` encodes, or nullopt when it is not strict base64 of `variant`.
[[nodiscard]] std::optional<std::string> Base64Decode(
    std::string_view text, Base64Variant variant = Base64Variant::kStandard);

/// True when `text` is strict base64 of `variant` (Base64Decode would succeed).
[[nodiscard]] bool IsBase64(std::string_view text,
                            Base64Variant variant = Base64Variant::kStandard);

}  // namespace accord::common
