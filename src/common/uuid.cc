#include "accord/common/uuid.h"

#include <sodium.h>

#include <array>
#include <cstdint>

#include "accord/common/status.h"

namespace accord::common {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDash(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

std::string NewUuid4() {
  // sodium_init is idempotent and thread-safe; it fails only if no entropy source opens.
  static const bool kSodiumReady = sodium_init() >= 0;
  ACCORD_CHECK(kSodiumReady);
  UuidBytes b;
  randombytes_buf(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10xx
  return FormatUuid(b);
}

std::string FormatUuid(const UuidBytes& bytes) {
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0xf]);
  }
  return out;
}

std::optional<UuidBytes> ParseUuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  UuidBytes out;
  size_t k = 0;
  for (size_t i = 0; i < s.size();) {
    if (IsDash(i)) {
      if (s[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = HexValue(s[i]), lo = HexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[k++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

bool IsUuid(std::string_view s) { return ParseUuid(s).has_value(); }

// PERF: a table lookup per digit and no early exits: this runs for every id and reference of
// every imported object, and the ParseUuid version was 4% of an import's parsing thread.
bool IsRfc4122Uuid(std::string_view s) {
  static constexpr auto kHex = [] {
    std::array<uint8_t, 256> t{};
    for (auto& v : t) v = 0x80;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - 'A' + 10);
    return t;
  }();
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  unsigned bad = 0;
  for (size_t i = 0; i < 8; ++i) bad |= kHex[p[i]];
  for (size_t i = 9; i < 13; ++i) bad |= kHex[p[i]];
  for (size_t i = 14; i < 18; ++i) bad |= kHex[p[i]];
  for (size_t i = 19; i < 23; ++i) bad |= kHex[p[i]];
  for (size_t i = 24; i < 36; ++i) bad |= kHex[p[i]];
  const unsigned version = kHex[p[14]];  // the high nibble of byte 6
  const unsigned variant = kHex[p[19]];  // the high nibble of byte 8: 10xx
  return (bad & 0x80) == 0 && version >= 1 && version <= 5 && (variant & 0xc) == 0x8;
}

}  // namespace accord::common
