#include "accord/common/time.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
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

namespace {

// The part both parsers share: "YYYY-MM-DD<sep>HH:MM:SS" at s[0..19), one of `seps` as the
// separator, a valid calendar date and time (second 60 accepted for leap seconds; it rolls
// into the next minute's instant). On success sets *secs to the seconds since 1970-01-01 of
// that wall-clock time read as UTC and returns nullptr; otherwise returns the reason.
// Fixed offsets are safe: s.size() >= 19 is checked before s[10] is read.
const char* ParseDateTime(std::string_view s, std::string_view seps, int64_t* secs) {
  int Y, M, D, h, m, sec;
  if (!Digits(s, 0, 4, &Y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &M) || s[7] != '-' ||
      !Digits(s, 8, 2, &D) || seps.find(s[10]) == std::string_view::npos) {
    return "bad date part or missing 'T'";
  }
  if (!Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &m) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return "bad time part";
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12) return "month out of range";
  int dim = kDays[M - 1] + (M == 2 && IsLeap(Y) ? 1 : 0);
  if (D < 1 || D > dim) return "day out of range";
  if (h > 23 || m > 59 || sec > 60) return "time out of range";
  int64_t days = DaysFromCivil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
  *secs = days * 86400 + h * 3600 + m * 60 + sec;
  return nullptr;
}

// A fraction ".d+" at s[*pos] (nothing when s[*pos] is not '.'): advances *pos past it, sets
// *frac_us to its first 6 digits as microseconds (the rest truncated) and *digits to the digit
// count as written. Returns the reason on "." without digits or more than max_digits digits.
const char* ParseFraction(std::string_view s, size_t* pos, size_t max_digits, int64_t* frac_us,
                          int* digits) {
  *frac_us = 0;
  *digits = 0;
  if (*pos >= s.size() || s[*pos] != '.') return nullptr;
  size_t start = ++*pos;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    if (*pos - start < 6) *frac_us = *frac_us * 10 + (s[*pos] - '0');
    ++*pos;
  }
  size_t n = *pos - start;
  if (n == 0) return "'.' without fraction digits";
  if (n > max_digits) return "more than 9 fraction digits";
  for (size_t k = n; k < 6; ++k) *frac_us *= 10;
  *digits = static_cast<int>(n);
  return nullptr;
}

}  // namespace

// Parses a STIX timestamp (STIX21-objects.md §4, STIX 2.1 §2.16): YYYY-MM-DDTHH:MM:SS[.s+]Z, UTC
// only, uppercase 'T' and 'Z', no offsets. Beyond the schema regex we also reject impossible
// calendar dates (Feb 30, Feb 29 in non-leap years), as §4 asks of a validator.
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
  int64_t secs, frac_us;
  ParsedTimestamp out;
  if (const char* why = ParseDateTime(s, "T", &secs)) return bad(why);
  size_t pos = 19;
  if (const char* why = ParseFraction(s, &pos, SIZE_MAX, &frac_us, &out.fraction_digits))
    return bad(why);
  if (pos + 1 != s.size() || s[pos] != 'Z') return bad("must end in 'Z' (UTC)");
  out.micros = secs * 1000000 + frac_us;
  return out;
}

// RFC 3339 §5.6 date-time, with the ISO 8601 offset spellings sensors use besides "+05:30":
// "+0530" (Suricata, strftime %z) and "+05". The offset is how far local time is ahead of UTC,
// so UTC = local - offset: 08:37:19-06:00 is 14:37:19Z.
absl::StatusOr<Micros> ParseRfc3339(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat("timestamp '", s.substr(0, 64),
            "' is not an RFC 3339 date-time YYYY-MM-DDTHH:MM:SS[.f]Z or +HH:MM: ", why));
  };
  int64_t secs, frac_us;
  int digits;
  if (const char* why = ParseDateTime(s, "Tt ", &secs)) return bad(why);
  size_t pos = 19;
  if (const char* why = ParseFraction(s, &pos, 9, &frac_us, &digits)) return bad(why);
  if (pos == s.size()) return bad("no UTC offset ('Z' or +HH:MM), so the instant is unknown");
  int64_t offset = 0;  // seconds east of UTC
  char c = s[pos];
  if (c == 'Z' || c == 'z') {
    ++pos;
  } else if (c == '+' || c == '-') {
    int oh, om = 0;
    if (!Digits(s, pos + 1, 2, &oh)) return bad("offset needs two hour digits");
    pos += 3;
    if (pos < s.size()) {
      if (s[pos] == ':') ++pos;
      if (!Digits(s, pos, 2, &om)) return bad("offset minutes must be two digits");
      pos += 2;
    }
    if (oh > 23 || om > 59) return bad("offset out of range");
    offset = (oh * 3600 + om * 60) * (c == '-' ? -1 : 1);
  } else {
    return bad("expected 'Z' or an offset +HH:MM after the time");
  }
  if (pos != s.size()) return bad("trailing characters after the offset");
  return (secs - offset) * 1000000 + frac_us;
}

// Epoch seconds, parsed as integers: a double (from_chars) holds ~16 significant digits, so
// "1541766133.123457" could round to the neighbouring microsecond. 11 integer digits bound
// |S| below 1e11 (about the year 5138), far inside int64 microseconds.
absl::StatusOr<Micros> ParseDayOrTimestamp(std::string_view s) {
  if (s.size() == 10) return ParseRfc3339(Cat(s, "T00:00:00Z"));
  ACCORD_ASSIGN_OR_RETURN(ParsedTimestamp t, ParseTimestamp(s));
  return t.micros;
}

absl::StatusOr<Micros> ParseEpochSeconds(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat("timestamp '", s.substr(0, 64), "' is not epoch seconds [-]S[.F]: ", why));
  };
  size_t pos = 0;
  bool neg = !s.empty() && s[0] == '-';
  if (neg) ++pos;
  int64_t whole = 0;
  size_t start = pos;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (pos - start == 11) return bad("more than 11 integer digits");
    whole = whole * 10 + (s[pos++] - '0');
  }
  if (pos == start) return bad("no digits before the fraction");
  int64_t frac_us;
  int digits;
  if (const char* why = ParseFraction(s, &pos, 9, &frac_us, &digits)) return bad(why);
  if (pos != s.size()) return bad("unexpected character");
  Micros t = whole * 1000000 + frac_us;
  return neg ? -t : t;
}

absl::StatusOr<Micros> ParseEventTime(std::string_view s) {
  std::string_view digits = s.starts_with('-') ? s.substr(1) : s;
  bool epoch = !digits.empty() && digits.find_first_not_of("0123456789.") == digits.npos;
  if (epoch) return ParseEpochSeconds(s);
  absl::StatusOr<Micros> t = ParseRfc3339(s);
  // A date-time without any offset (Suricata with a UTC clock and some exporters write
  // "2019-01-02T03:50:11.315110") is read as UTC, as Elastic and Splunk read it; a wrong or
  // partial offset is still an error.
  if (!t.ok() && s.size() > 19 && s.substr(19).find_first_of("Zz+-") == std::string_view::npos) {
    std::string utc(s);
    utc.push_back('Z');
    if (absl::StatusOr<Micros> u = ParseRfc3339(utc); u.ok()) return u;
  }
  return t;
}

// Renders t as YYYY-MM-DDTHH:MM:SS.<digits>Z with 6 (TAXII, microseconds, TAXII21.md §2) or 3
// (STIX created/modified minimum, STIX21-objects.md §4) fraction digits; the fraction is always
// printed, so output is fixed-width and byte-comparable for same-precision values.
// Division rounds toward negative infinity so pre-1970 instants split into a valid
// (day, second-of-day, microsecond) triple with non-negative remainders.
// Writes t as YYYY-MM-DDTHH:MM:SS.<digits fraction digits>Z into buf; returns the length.
static size_t FormatTo(Micros t, int digits, char (&buf)[64]) {
  int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
  int64_t us = t - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t frac = digits == 6 ? us : us / 1000;
  if (y >= 0 && y <= 9999) {
    // PERF: digits by hand; snprintf was the largest part of writing a match line.
    auto put = [&](char* p, int64_t v, int width) {
      for (int i = width - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
      }
    };
    put(buf, y, 4);
    buf[4] = '-';
    put(buf + 5, m, 2);
    buf[7] = '-';
    put(buf + 8, d, 2);
    buf[10] = 'T';
    put(buf + 11, rem / 3600, 2);
    buf[13] = ':';
    put(buf + 14, rem / 60 % 60, 2);
    buf[16] = ':';
    put(buf + 17, rem % 60, 2);
    buf[19] = '.';
    put(buf + 20, frac, digits);
    buf[20 + digits] = 'Z';
    return 21 + static_cast<size_t>(digits);
  }
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%0*lldZ",
                        static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                        static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                        digits, static_cast<long long>(frac));
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof(buf) - 1);
}

static std::string Format(Micros t, int digits) {
  char buf[64];
  return std::string(buf, FormatTo(t, digits, buf));
}

void AppendTimestamp(Micros t, std::string* out) {
  char buf[64];
  out->append(buf, FormatTo(t, 6, buf));
}

std::string FormatTimestamp(Micros t) { return Format(t, 6); }
std::string FormatTimestampMillis(Micros t) { return Format(t, 3); }

// Wall clock (system_clock), not monotonic: used for STIX/TAXII timestamps, not for intervals.
Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace accord::common
