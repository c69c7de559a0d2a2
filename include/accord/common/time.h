// STIX/RFC 3339 timestamps (STIX 2.1 §3.2: "YYYY-MM-DDTHH:mm:ss[.s+]Z", UTC only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "accord/common/status.h"

namespace accord::common {

/// Microseconds since the Unix epoch. Sub-microsecond digits are truncated.
using Micros = int64_t;

struct ParsedTimestamp {
  Micros micros = 0;
  int fraction_digits = 0;  // digits after '.', 0 when absent
};

/// Parses a STIX timestamp strictly: 'T' separator, 'Z' suffix, valid calendar date and time
/// (leap second 60 accepted as the spec allows), years 0000-9999.
absl::StatusOr<ParsedTimestamp> ParseTimestamp(std::string_view s);

/// Parses an RFC 3339 / ISO 8601 date-time with any UTC offset, as sensors write it, and returns
/// the UTC instant: YYYY-MM-DD, 'T' (or 't' or one space, RFC 3339 §5.6 note), HH:MM:SS, an
/// optional '.' and 1 to 9 fraction digits (kept to the microsecond, the rest truncated), then
/// 'Z' (or 'z') or an offset +HH:MM, +HHMM or +HH (or '-'). Suricata writes
/// "2018-03-24T14:37:19.037299-0600". A date-time without an offset is refused: its instant is
/// unknown. The error names the value (first 64 characters) and what is wrong.
absl::StatusOr<Micros> ParseRfc3339(std::string_view s);

/// A day ("2026-01-31": its start, UTC) or a STIX timestamp (ParseTimestamp): what a person
/// types into a search's time filter.
absl::StatusOr<Micros> ParseDayOrTimestamp(std::string_view s);

/// Parses Unix epoch seconds written in decimal, "[-]S[.F]" with at most 11 integer digits and
/// 9 fraction digits (Zeek's `ts`, "1541766133.123456"), exactly (no floating point).
absl::StatusOr<Micros> ParseEpochSeconds(std::string_view s);

/// Event time as telemetry writes it: epoch seconds when `s` has only digits, '-' in front and
/// '.' (Zeek's default `ts`), else an RFC 3339 date-time with an offset (ParseRfc3339); a
/// date-time with no offset at all is read as UTC.
absl::StatusOr<Micros> ParseEventTime(std::string_view s);

/// Formats as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (6 fraction digits).
std::string FormatTimestamp(Micros t);
/// FormatTimestamp(t) appended to `out`, without a temporary (the match line's hot path).
void AppendTimestamp(Micros t, std::string* out);
/// Formats with millisecond precision, "YYYY-MM-DDTHH:MM:SS.fffZ", as STIX created/modified.
std::string FormatTimestampMillis(Micros t);

/// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
/// days_from_civil); `m` in 1..12, `d` in 1..31.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
bool IsLeapYear(int64_t y);

/// Wall clock, microseconds. Tests inject their own clocks where time matters.
Micros NowMicros();
/// A monotonic clock, microseconds from an arbitrary start: for intervals and deadlines.
int64_t SteadyMicros();

}  // namespace accord::common
