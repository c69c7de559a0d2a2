// Hostile sizes (issue acceptance): deep nesting and very long inputs end in a clear error or
// a result, never a stack overflow.
#include <string>

#include <gtest/gtest.h>

#include "accord/pattern/pattern.h"

namespace accord::pattern {
namespace {

TEST(PatternLimits, TenThousandNestedParensIsAClearError) {
  std::string p(10000, '(');
  p += "[file:name = 'x']";
  p += std::string(10000, ')');
  auto r = ParseAndCheck(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting too deep"), std::string::npos) << r.status();
  EXPECT_EQ(r.status().message().rfind("column ", 0), 0u);
}

TEST(PatternLimits, TenThousandNestedComparisonParens) {
  std::string p = "[" + std::string(10000, '(') + "file:name = 'x'" + std::string(10000, ')') + "]";
  auto r = ParseAndCheck(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting too deep"), std::string::npos) << r.status();
}

TEST(PatternLimits, UnclosedDeepNesting) {
  std::string p(100000, '(');
  auto r = ParseAndCheck(p);
  ASSERT_FALSE(r.ok());
}

TEST(PatternLimits, LongQualifierChainIsBounded) {
  std::string p = "[file:name = 'x']";
  for (int i = 0; i < 20000; ++i) p += " REPEATS 2 TIMES";
  auto r = ParseAndCheck(p);
  ASSERT_FALSE(r.ok());
}

TEST(PatternLimits, ModerateNestingWorks) {
  std::string p = std::string(200, '(') + "[file:name = 'x']" + std::string(200, ')');
  auto r = ParseAndCheck(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Print(*r), "[file:name = 'x']");
}

TEST(PatternLimits, OneMegabyteStringLiteral) {
  std::string big(1 << 20, 'a');
  big[1000] = '\\';
  big[1001] = '\\';
  std::string p = "[file:name = '" + big + "']";
  auto r = ParseAndCheck(p);
  ASSERT_TRUE(r.ok()) << r.status();
  const Literal& l = r->Values(r->comparisons[r->Root().comparison])[0];
  EXPECT_EQ(l.text.size(), (1u << 20) - 1);
  auto again = Parse(Print(*r));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *r);
}

TEST(PatternLimits, OneMegabyteUnterminatedString) {
  std::string p = "[file:name = '" + std::string(1 << 20, 'a');
  auto r = Parse(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 14: unterminated string"), std::string::npos)
      << r.status().message().substr(0, 200);
  EXPECT_LT(r.status().message().size(), 300u);  // the message quotes an excerpt, not 1 MB
}

TEST(PatternLimits, LongOrChain) {
  std::string p = "[";
  for (int i = 0; i < 100000; ++i) {
    if (i) p += " OR ";
    p += "ipv4-addr:value = '10.0.0.1'";
  }
  p += "]";
  auto r = ParseAndCheck(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->comparisons[r->Root().comparison].children.size, 100000u);
}

TEST(PatternLimits, MaxLength) {
  ParseOptions o;
  o.max_length = 10;
  auto r = Parse("[file:name = 'abcdefgh']", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too long"), std::string::npos);
}

}  // namespace
}  // namespace accord::pattern
