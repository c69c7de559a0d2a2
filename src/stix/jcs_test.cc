// RFC 8785 canonical JSON: every vector of ../shared/conformance/jcs (input/NAME.json must
// canonicalise to output/NAME.json byte for byte), plus the cases those vectors leave out.
#include "accord/stix/jcs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/test_util.h"

namespace accord::stix {
namespace {

namespace fs = std::filesystem;

TEST(JcsTest, ConformanceVectors) {
  const fs::path dir = accord::testing::SharedDir() / "conformance" / "jcs";
  ACCORD_REQUIRE_SHARED(dir);
  size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir / "input")) {
    if (entry.path().extension() != ".json") continue;
    const fs::path want_path = dir / "output" / entry.path().filename();
    ASSERT_TRUE(fs::exists(want_path)) << want_path;
    std::string input = accord::testing::Slurp(entry.path());
    std::string want = accord::testing::Slurp(want_path);
    auto got = CanonicalJson(input);
    ASSERT_TRUE(got.ok()) << entry.path() << ": " << got.status();
    EXPECT_EQ(*got, want) << entry.path().filename();
    ++checked;
  }
  // The README lists six vectors: arrays, french, structures, unicode, values, weird.
  EXPECT_EQ(checked, 6u);
}

TEST(JcsTest, OrderingEscapingAndNumbers) {
  // Members by UTF-16 code units: U+0080 < U+20AC < U+1F600 (a surrogate pair, 0xD83D...,
  // sorts below U+20AC's 0x20AC? no: 0xD83D > 0x20AC, so the emoji comes last).
  auto got = CanonicalJson(
      R"({"b":[1.0,1e21,1e-7,0.000001,-0,123.456,5e-324],"a":"\u0001\"\\\n\u00e9","\u20ac":1,"\ud83d\ude00":2,"\u0080":3})");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got,
            "{\"a\":\"\\u0001\\\"\\\\\\n\xC3\xA9\",\"b\":[1,1e+21,1e-7,0.000001,0,123.456,5e-324],"
            "\"\xC2\x80\":3,\"\xE2\x82\xAC\":1,\"\xF0\x9F\x98\x80\":2}");
  // A code point above U+FFFF sorts by its high surrogate (0xD83D), below U+FB33 (0xFB33)
  // although its UTF-8 bytes (F0 ...) sort above EF AC B3: the UTF-16 rule, not bytes.
  got = CanonicalJson("{\"\xEF\xAC\xB3\":1,\"\xF0\x9F\x98\x80\":2}");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "{\"\xF0\x9F\x98\x80\":2,\"\xEF\xAC\xB3\":1}");
}

TEST(JcsTest, IntegersAreWrittenAsTheDoubleTheyDenote) {
  // ECMAScript numbers are doubles: 2^53 + 1 has no double and rounds to 2^53; integers of
  // 1e21 and above switch to exponent form. Values checked with node: JSON.stringify(...).
  auto got = CanonicalJson("[9007199254740993,-9007199254740993,18446744073709551615,42,-7,0]");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "[9007199254740992,-9007199254740992,18446744073709552000,42,-7,0]");
  // An integer beyond 64 bits is valid JSON that simdjson's DOM does not represent: refused
  // with a reason rather than given a wrong canonical form.
  auto big = CanonicalJson("[1000000000000000000000]");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("number"), std::string::npos) << big.status();
}

TEST(JcsTest, RefusesDuplicateNamesAndNonJson) {
  auto dup = CanonicalJson(R"({"a":1,"b":{"x":1,"x":2}})");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("duplicate member name \"x\""), std::string::npos)
      << dup.status();
  auto bad = CanonicalJson("{\"a\":}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not JSON"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace accord::stix
