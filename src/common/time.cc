#include "accord/common/time.h"

#include <chrono>
#include <cstdio>

#include "accord/common/strings.h"

namespace accord::common {
namespace {

// Inverse of DaysFromCivil: days since 1970-01-01 to a proleptic Gregorian date. This is
// Howard Hinnant's "civil_from_days": shift the epoch to 0000-03-01 so the leap day is the last
// day of the (March-based) year, then split into 400-year eras (146097 days each) so the
// arithmetic inside an era is unsigned and branch-free. Valid for any int64 day count that does
// not overflow the era multiply; no table lookups.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

// Parses exactly n ASCII digits at s[pos..pos+n) into *out. Fails (leaves *out untouched) on a
// short string or any non-digit; no sign, no whitespace. n is at most 4 here, so no overflow.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int64_t y) { return IsLeapYear(y); }

}  // namespace

// Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's "days_from_civil"; see
// CivilFromDays for the era trick). REQUIRES: 1 <= m <= 12, 1 <= d <= 31; the day is not checked
// against the month, callers validate first (ParseTimestamp does).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Parses a STIX timestamp (STIX21-objects.md §4, STIX 2.1 §2.16): YYYY-MM-DDTHH:MM:SS[.s+]Z, UTC
// only, uppercase 'T' and 'Z', no offsets. Beyond the schema regex we also reject impossible
// calendar dates (Feb 30, Feb 29 in non-leap years), as §4 asks of a validator.
// Second 60 is accepted for leap seconds and simply rolls into the next minute's instant.
// Fraction: any number of digits is accepted (the spec sets no maximum), but only the first 6
// are kept: Micros is the storage unit, so instants that differ below 1 us compare equal.
// fraction_digits records the digit count as written so callers can enforce the
// "created/modified need >= 3 digits" rule (§4) without re-scanning the string.
// Untrusted input: the error message quotes at most 64 characters of the value.
absl::StatusOr<ParsedTimestamp> ParseTimestamp(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat("timestamp '", s.substr(0, 64),
            "' is not in the STIX form YYYY-MM-DDTHH:MM:SS[.s+]Z: ", why));
  };
  // Fixed offsets are safe: s.size() >= 20 is checked before s[10] is read, and the shortest valid
  // form "YYYY-MM-DDTHH:MM:SSZ" is 20 characters, so s[19] below is always in range.
  int Y, M, D, h, m, sec;
  if (!Digits(s, 0, 4, &Y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &M) || s[7] != '-' ||
      !Digits(s, 8, 2, &D) || (s[10] != 'T')) {
    return bad("bad date part or missing 'T'");
  }
  if (!Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &m) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return bad("bad time part");
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12) return bad("month out of range");
  int dim = kDays[M - 1] + (M == 2 && IsLeap(Y) ? 1 : 0);
  if (D < 1 || D > dim) return bad("day out of range");
  if (h > 23 || m > 59 || sec > 60) return bad("time out of range");
  size_t pos = 19;
  ParsedTimestamp out;
  int64_t frac_us = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      size_t k = pos - start;
      if (k < 6) frac_us = frac_us * 10 + (s[pos] - '0');
      ++pos;
    }
    out.fraction_digits = static_cast<int>(pos - start);
    if (out.fraction_digits == 0) return bad("'.' without fraction digits");
    for (int k = out.fraction_digits; k < 6; ++k) frac_us *= 10;
  }
  if (pos != s.size() - 1 || s[pos] != 'Z') return bad("must end in 'Z' (UTC)");
  int64_t days = DaysFromCivil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
  int64_t secs = days * 86400 + h * 3600 + m * 60 + sec;
  out.micros = secs * 1000000 + frac_us;
  return out;
}

// Renders t as YYYY-MM-DDTHH:MM:SS.<digits>Z with 6 (TAXII, microseconds, TAXII21.md §2) or 3
// (STIX created/modified minimum, STIX21-objects.md §4) fraction digits; the fraction is always
// printed, so output is fixed-width and byte-comparable for same-precision values.
// Division rounds toward negative infinity so pre-1970 instants split into a valid
// (day, second-of-day, microsecond) triple with non-negative remainders.
static std::string Format(Micros t, int digits) {
  int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
  int64_t us = t - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  if (digits == 6) {
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(us));
  } else {
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                  static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                  static_cast<long long>(us / 1000));
  }
  return buf;
}

std::string FormatTimestamp(Micros t) { return Format(t, 6); }
std::string FormatTimestampMillis(Micros t) { return Format(t, 3); }

// Wall clock (system_clock), not monotonic: used for STIX/TAXII timestamps, not for intervals.
Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace accord::common
