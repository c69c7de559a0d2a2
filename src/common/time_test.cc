#include "accord/common/time.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>
#include <string>
#include <vector>

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

// The hand-written digits (AppendTimestamp, FormatTimestamp) against the C library's gmtime_r
// and strftime over random instants from year 0 to 9999 and just outside it (where both fall
// back to printf-style digits), and the edges.
TEST(TimeTest, FormatAgreesWithGmtime) {
  std::mt19937_64 rng(5);
  // -62167219200 s is 0000-01-01T00:00:00Z; 253402300799 s is 9999-12-31T23:59:59Z.
  const int64_t lo = -62167219200LL - 86400 * 400LL, hi = 253402300799LL + 86400 * 400LL;
  std::vector<Micros> times = {0, -1, 1, -62167219200LL * 1000000,
                               253402300799LL * 1000000 + 999999};
  for (int i = 0; i < 20000; ++i) {
    int64_t secs = lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo));
    times.push_back(secs * 1000000 + static_cast<int64_t>(rng() % 1000000));
  }
  for (Micros t : times) {
    int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
    int64_t us = t - secs * 1000000;
    time_t tt = static_cast<time_t>(secs);
    struct tm tm;
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char want[96];
    snprintf(want, sizeof want, "%04lld-%02d-%02dT%02d:%02d:%02d.%06lldZ",
             static_cast<long long>(tm.tm_year) + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, static_cast<long long>(us));
    ASSERT_EQ(FormatTimestamp(t), want) << t;
    std::string appended = "x";
    AppendTimestamp(t, &appended);
    ASSERT_EQ(appended, std::string("x") + want) << t;
  }
}

// 2018-03-24T20:37:19.037299Z by hand: 1970..2017 is 48 years with 12 leap days (1972..2016),
// 48 * 365 + 12 = 17532 days to 2018-01-01; + 31 (Jan) + 28 (Feb) + 23 = 17614 days.
// 17614 * 86400 = 1521849600 s; + 20 h 37 min 19 s = 72000 + 2220 + 19 = 74239 s.
constexpr Micros kSuricataInstant = (1521849600LL + 74239) * 1000000 + 37299;

TEST(TimeTest, Rfc3339ConvertsEveryOffsetSpelling) {
  // One instant, written as Suricata (-0600, local 14:37:19), with colon, with hours only, in
  // India (+05:30: local 20:37:19 + 5:30 = 02:07:19 the next day) and in UTC.
  for (const char* s : {"2018-03-24T14:37:19.037299-0600", "2018-03-24T14:37:19.037299-06:00",
                        "2018-03-24T14:37:19.037299-06", "2018-03-25T02:07:19.037299+05:30",
                        "2018-03-25T02:07:19.037299+0530", "2018-03-24T20:37:19.037299Z",
                        "2018-03-24t20:37:19.037299z", "2018-03-24 20:37:19.037299+00:00",
                        "2018-03-24T20:37:19.037299-00:00", "2018-03-24T20:37:19.037299000Z"}) {
    auto t = ParseRfc3339(s);
    ASSERT_TRUE(t.ok()) << s << ": " << t.status();
    EXPECT_EQ(*t, kSuricataInstant) << s;
  }
  // Across a day and a year: 2000-01-01 is 30 * 365 + 7 leap days (1972..1996) = 10957 days,
  // 10957 * 86400 = 946684800 s; 00:30 at +01:00 is 23:30 UTC the day before, 1800 s earlier.
  EXPECT_EQ(*ParseRfc3339("2000-01-01T00:30:00+01:00"), (946684800LL - 1800) * 1000000);
  // 0 and 9 fraction digits; digits past the microsecond are truncated.
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00.5+00:00"), 500000);
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00.123456789Z"), 123456);
  // Before the epoch: 1969-12-31T23:59:59.5Z is half a second before it.
  EXPECT_EQ(*ParseRfc3339("1970-01-01T05:29:59.5+05:30"), -500000);
}

TEST(TimeTest, Rfc3339RefusesWhatItCannotRead) {
  struct Case {
    const char* s;
    const char* why;
  } cases[] = {
      {"2018-03-24T14:37:19.037299", "no UTC offset"},
      {"2018-03-24T14:37:19", "no UTC offset"},
      {"2018-03-24T14:37:19.1234567891Z", "more than 9 fraction digits"},
      {"2018-03-24T14:37:19.-0600", "without fraction digits"},
      {"2018-03-24T14:37:19+24:00", "offset out of range"},
      {"2018-03-24T14:37:19+05:60", "offset out of range"},
      {"2018-03-24T14:37:19+5", "two hour digits"},
      {"2018-03-24T14:37:19+05:3", "minutes must be two digits"},
      {"2018-03-24T14:37:19+053", "minutes must be two digits"},
      {"2018-03-24T14:37:19Zx", "trailing characters"},
      {"2018-03-24T14:37:19+05:30x", "trailing characters"},
      {"2018-03-24T14:37:19 UTC", "expected 'Z' or an offset"},
      {"2018-02-29T14:37:19Z", "day out of range"},
      {"2018-03-24_14:37:19Z", "missing 'T'"},
      {"1521923839.037299", "bad date part"},
      {"", "bad date part"},
  };
  for (const Case& c : cases) {
    auto t = ParseRfc3339(c.s);
    ASSERT_FALSE(t.ok()) << c.s;
    EXPECT_NE(t.status().message().find(c.why), std::string_view::npos) << t.status();
    EXPECT_NE(t.status().message().find(std::string("'") + c.s + "'"), std::string_view::npos)
        << t.status();
  }
}

TEST(TimeTest, EpochSecondsAreExact) {
  // Zeek's ts for the instant above: 1521923839 s and 37299 us.
  EXPECT_EQ(*ParseEpochSeconds("1521923839.037299"), kSuricataInstant);
  // 2^53 us is about 9e15; 1541766133.123457 s as a double product could round; exact here.
  EXPECT_EQ(*ParseEpochSeconds("1541766133.123457"), 1541766133123457LL);
  EXPECT_EQ(*ParseEpochSeconds("0"), 0);
  EXPECT_EQ(*ParseEpochSeconds("12"), 12000000);
  EXPECT_EQ(*ParseEpochSeconds("-1.5"), -1500000);
  EXPECT_EQ(*ParseEpochSeconds("1.123456789"), 1123456);
  for (const char* s :
       {"", "-", ".5", "1.", "1e9", "1.5x", "abc", "123456789012", "1.1234567891", "+1", " 1"}) {
    EXPECT_FALSE(ParseEpochSeconds(s).ok()) << s;
  }
}

}  // namespace
}  // namespace accord::common

namespace accord::common {
namespace {

// A search's time filter: a day is its start in UTC; otherwise a STIX timestamp.
TEST(ParseDayOrTimestamp, DayOrTimestamp) {
  EXPECT_EQ(*ParseDayOrTimestamp("1970-01-02"), 86400LL * 1000000);
  EXPECT_EQ(*ParseDayOrTimestamp("1970-01-01T00:01:00.5Z"), 60500000);
  EXPECT_FALSE(ParseDayOrTimestamp("yesterday").ok());
  EXPECT_FALSE(ParseDayOrTimestamp("1970-13-01").ok());
}

}  // namespace
}  // namespace accord::common
