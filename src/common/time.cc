#include "accord/common/time.h"

#include <chrono>
#include <cstdio>

#include "accord/common/strings.h"

namespace accord::common {
namespace {

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

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

absl::StatusOr<ParsedTimestamp> ParseTimestamp(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat("timestamp '", s.substr(0, 64),
            "' is not in the STIX form YYYY-MM-DDTHH:MM:SS[.s+]Z: ", why));
  };
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

Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace accord::common
