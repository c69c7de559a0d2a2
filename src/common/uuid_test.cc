// The UUID module: random v4 ids have the version and variant bits RFC 4122 §4.4 sets, and
// parsing/formatting round-trips the RFC's own example (RFC 4122 Appendix B / RFC 9562 §A.2).
#include "accord/common/uuid.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>
#include <string>

namespace accord::common {
namespace {

TEST(UuidTest, NewUuid4HasVersion4AndTheRfc4122Variant) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string u = NewUuid4();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[14], '4') << u;                                          // version nibble
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // variant 10xx
    EXPECT_TRUE(IsRfc4122Uuid(u)) << u;
    for (char c : u) EXPECT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 200u);  // 200 draws of 122 random bits do not collide
}

TEST(UuidTest, ParseAndFormat) {
  // RFC 9562 §A.2's v4 example.
  auto b = ParseUuid("919108f7-52d1-4320-9bac-f847db4148a8");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ((*b)[0], 0x91);
  EXPECT_EQ((*b)[15], 0xa8);
  EXPECT_EQ(FormatUuid(*b), "919108f7-52d1-4320-9bac-f847db4148a8");
  // Upper case reads; Accord writes lower case.
  auto u = ParseUuid("919108F7-52D1-4320-9BAC-F847DB4148A8");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(FormatUuid(*u), "919108f7-52d1-4320-9bac-f847db4148a8");
}

TEST(UuidTest, RefusesMalformedText) {
  for (const char* bad :
       {"", "919108f7-52d1-4320-9bac-f847db4148a", "919108f7-52d1-4320-9bac-f847db4148a80",
        "919108f752d1-4320-9bac-f847db4148a8-", "919108f7_52d1_4320_9bac_f847db4148a8",
        "919108g7-52d1-4320-9bac-f847db4148a8", "{919108f7-52d1-4320-9bac-f847db4148a8}"}) {
    EXPECT_FALSE(ParseUuid(bad).has_value()) << bad;
    EXPECT_FALSE(IsUuid(bad)) << bad;
  }
}

TEST(UuidTest, Rfc4122VersionAndVariant) {
  EXPECT_TRUE(IsRfc4122Uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));   // v1 (RFC 4122 Appendix C)
  EXPECT_TRUE(IsRfc4122Uuid("00abedb4-aa42-466c-9c01-fed23315a9b7"));   // STIX SCO namespace (v4)
  EXPECT_FALSE(IsRfc4122Uuid("00000000-0000-0000-0000-000000000000"));  // nil: version 0
  EXPECT_FALSE(IsRfc4122Uuid("919108f7-52d1-6320-9bac-f847db4148a8"));  // version 6
  EXPECT_FALSE(IsRfc4122Uuid("919108f7-52d1-4320-cbac-f847db4148a8"));  // variant 110x (Microsoft)
  EXPECT_TRUE(IsUuid("919108f7-52d1-4320-cbac-f847db4148a8"));          // but it is a UUID
}

// Every one-byte change of valid ids, and random bytes, against the RFC's grammar written as a
// regular expression: 8-4-4-4-12 hex digits, version 1-5, variant 10xx.
TEST(UuidTest, Rfc4122CheckAgreesWithTheGrammarOnMutations) {
  const std::regex rfc(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}");
  std::mt19937 rng(4122);
  const std::string alphabet = "0123456789abcdefABCDEFgG-xz \xff";
  int checked = 0;
  for (int round = 0; round < 200; ++round) {
    std::string base = round % 2 ? NewUuid4() : "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    for (size_t i = 0; i < base.size(); ++i) {
      std::string m = base;
      m[i] = alphabet[rng() % alphabet.size()];
      ASSERT_EQ(IsRfc4122Uuid(m), std::regex_match(m, rfc)) << m;
      ++checked;
    }
    std::string shorter = base.substr(0, rng() % base.size());
    EXPECT_FALSE(IsRfc4122Uuid(shorter)) << shorter;
    EXPECT_FALSE(IsRfc4122Uuid(base + "0"));
  }
  EXPECT_EQ(checked, 200 * 36);
}

}  // namespace
}  // namespace accord::common
