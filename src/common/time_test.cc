#include "accord/common/time.h"

#include <gtest/gtest.h>

namespace accord::common {
namespace {

TEST(TimeTest, ParsesEpochAndKnownDates) {
  // 2016-04-06T20:03:00Z: 16897 days after 1970-01-01 (computed by hand: 46 years incl. 11
  // leap days = 16801, + Jan..Mar 2016 = 31+29+31 = 91, + 5 days = 16897).
  auto t = ParseTimestamp("2016-04-06T20:03:00.000Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->micros, (16897LL * 86400 + 20 * 3600 + 3 * 60) * 1000000);
  EXPECT_EQ(t->fraction_digits, 3);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z")->micros, 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.5Z")->micros, 500000);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.123456789Z")->micros, 123456);
}

TEST(TimeTest, RejectsMalformed) {
  for (const char* s : {"2016-04-06 20:03:00Z", "2016-04-06T20:03:00", "2016-13-01T00:00:00Z",
                        "2015-02-29T00:00:00Z", "2016-04-06T24:00:00Z", "2016-04-06T20:03:00.Z",
                        "2016-04-06T20:03:00+01:00", "", "x"}) {
    EXPECT_FALSE(ParseTimestamp(s).ok()) << s;
  }
  EXPECT_TRUE(ParseTimestamp("2016-02-29T00:00:00Z").ok());
}

TEST(TimeTest, FormatRoundTrips) {
  Micros t = ParseTimestamp("2021-12-31T23:59:59.999999Z")->micros;
  EXPECT_EQ(FormatTimestamp(t), "2021-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestampMillis(t), "2021-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace accord::common
