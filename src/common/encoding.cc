#include "accord/common/encoding.h"

#include <sodium.h>

namespace accord::common {
namespace {

int SodiumVariant(Base64Variant v) {
  switch (v) {
    case Base64Variant::kStandard: return sodium_base64_VARIANT_ORIGINAL;
    case Base64Variant::kStandardNoPadding: return sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    case Base64Variant::kUrlSafe: return sodium_base64_VARIANT_URLSAFE;
    case Base64Variant::kUrlSafeNoPadding: return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  }
  return sodium_base64_VARIANT_ORIGINAL;
}

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  // sodium_bin2hex writes a terminating NUL: one byte more than the text.
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), Bytes(bytes), bytes.size());
  out.pop_back();
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  const char* end = nullptr;
  // No characters to ignore, and `end` must reach the end of the input: libsodium stops at the
  // first non-hex character and reports where, which is refused here as anything else is.
  if (sodium_hex2bin(Bytes(out), out.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      end != hex.data() + hex.size() || len != out.size()) {
    return std::nullopt;
  }
  return out;
}

bool IsHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return false;
  for (char c : hex) {
    bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit) return false;
  }
  return true;
}

std::string Base64Encode(std::string_view bytes, Base64Variant variant) {
  int v = SodiumVariant(variant);
  // sodium_base64_ENCODED_LEN counts the terminating NUL.
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), v), '\0');
  sodium_bin2base64(out.data(), out.size(), Bytes(bytes), bytes.size(), v);
  out.pop_back();
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text, Base64Variant variant) {
  int v = SodiumVariant(variant);
  bool padded = variant == Base64Variant::kStandard || variant == Base64Variant::kUrlSafe;
  // libsodium accepts a padded text without its padding when `end` is given; the length rule
  // makes padding mandatory for the padded variants.
  if (padded && text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(Bytes(out), out.size(), text.data(), text.size(), nullptr, &len, &end, v) !=
          0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

bool IsBase64(std::string_view text, Base64Variant variant) {
  return Base64Decode(text, variant).has_value();
}

void AppendJsonEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        *out += "\\u00";
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
}

}  // namespace accord::common
