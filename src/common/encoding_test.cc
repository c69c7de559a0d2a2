// Hex and base64 against the RFC 4648 §10 test vectors, and the strictness rules of
// include/accord/common/encoding.h (each refusal below is a text some hand-written decoder in
// the tree used to accept or handle differently).
#include "accord/common/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace accord::common {
namespace {

// RFC 4648 §10.
const std::vector<std::pair<std::string, std::string>> kBase64Vectors = {{"", ""},
                                                                         {"f", "Zg=="},
                                                                         {"fo", "Zm8="},
                                                                         {"foo", "Zm9v"},
                                                                         {"foob", "Zm9vYg=="},
                                                                         {"fooba", "Zm9vYmE="},
                                                                         {"foobar", "Zm9vYmFy"}};
const std::vector<std::pair<std::string, std::string>> kBase16Vectors = {
    {"", ""},
    {"f", "66"},
    {"fo", "666F"},
    {"foo", "666F6F"},
    {"foob", "666F6F62"},
    {"fooba", "666F6F6261"},
    {"foobar", "666F6F626172"}};

TEST(Base64Test, Rfc4648Vectors) {
  for (const auto& [bytes, text] : kBase64Vectors) {
    EXPECT_EQ(Base64Encode(bytes), text) << bytes;
    auto back = Base64Decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, bytes);
    EXPECT_TRUE(IsBase64(text)) << text;
  }
}

TEST(Base64Test, UnpaddedVariantDropsThePadding) {
  EXPECT_EQ(Base64Encode("f", Base64Variant::kStandardNoPadding), "Zg");
  EXPECT_EQ(Base64Encode("fo", Base64Variant::kStandardNoPadding), "Zm8");
  EXPECT_EQ(Base64Decode("Zm8", Base64Variant::kStandardNoPadding),
            std::optional<std::string>("fo"));
  // Padding is refused where there is none, and required where there is.
  EXPECT_FALSE(Base64Decode("Zm8=", Base64Variant::kStandardNoPadding));
  EXPECT_FALSE(Base64Decode("Zm8", Base64Variant::kStandard));
  EXPECT_FALSE(Base64Decode("Zg=", Base64Variant::kStandard));
}

TEST(Base64Test, UrlSafeAlphabet) {
  // Bytes fb ff bf encode to "+/+/" in the standard alphabet and "-_-_" in the URL-safe one.
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64Encode(bytes, Base64Variant::kUrlSafe), "-_-_");
  EXPECT_EQ(Base64Decode("-_-_", Base64Variant::kUrlSafeNoPadding),
            std::optional<std::string>(bytes));
  // Each alphabet refuses the other's two characters.
  EXPECT_FALSE(Base64Decode("-_-_"));
  EXPECT_FALSE(Base64Decode("+/+/", Base64Variant::kUrlSafe));
}

TEST(Base64Test, RefusesWhatIsNotStrictBase64) {
  for (const char* bad : {
           "Zm9v\n",     // line break
           "Zm9v Zg==",  // space
           " Zm9v",      // leading space
           "Zg==Zg==",   // padding in the middle
           "Zh==",       // non-zero unused bits: "f" is only "Zg=="
           "Zm9=",       // same, for two bytes ("fo" is "Zm8=")
           "Z===",       // one character cannot hold a byte
           "====",       // padding alone
           "Zm9v!",      // not in the alphabet
           "Zg",         // missing padding
       }) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << '"' << bad << '"';
    EXPECT_FALSE(IsBase64(bad)) << '"' << bad << '"';
  }
}

TEST(HexTest, Rfc4648Vectors) {
  for (const auto& [bytes, text] : kBase16Vectors) {
    // Accord writes lowercase; RFC 4648's vectors are uppercase, and both decode.
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(HexEncode(bytes), lower);
    EXPECT_EQ(HexDecode(text), std::optional<std::string>(bytes)) << text;
    EXPECT_EQ(HexDecode(lower), std::optional<std::string>(bytes)) << lower;
    EXPECT_TRUE(IsHex(text));
  }
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
}

TEST(HexTest, RefusesWhatIsNotStrictHex) {
  for (const char* bad : {"6", "666", "0x66", "66 6f", "66\n", " 66", "6g", "66:6f", "zz"}) {
    EXPECT_FALSE(HexDecode(bad).has_value()) << '"' << bad << '"';
    EXPECT_FALSE(IsHex(bad)) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace accord::common
