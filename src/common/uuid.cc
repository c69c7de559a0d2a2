#include "accord/common/uuid.h"

#include <sodium.h>

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

bool IsRfc4122Uuid(std::string_view s) {
  auto b = ParseUuid(s);
  if (!b) return false;
  int version = (*b)[6] >> 4;
  return version >= 1 && version <= 5 && ((*b)[8] & 0xc0) == 0x80;
}

}  // namespace accord::common
