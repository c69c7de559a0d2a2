// Indicators from plain lists, CSV and free text (reports, e-mails, pasted chats):
// `accord import --format list|csv|text` (docs/FORMATS.md).
//
// Free text is refanged (hxxp, [.], (.), (dot), [@], [:] ...), then cut into tokens; a token
// becomes a value only when it is one whole address, CIDR, URL, e-mail address, hash, CVE id
// or domain. A domain must end in a suffix of the public suffix list (Debian's publicsuffix,
// read through libpsl), and is not taken from a file name ("report.pdf", "invoice.zip"), a
// version number ("1.2.3") or a dotted identifier in code ("os.path.join(", "self.name").
//
// Thread safety: pure functions; the public suffix list is loaded once, thread-safely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/formats/formats.h"

namespace accord::formats {

/// Undoes the usual defanging: hxxp(s) and hXXp, fxp, [.] (.) {.} [dot] (dot) {dot},
/// [@] (@) [at] (at), [:] [://] and "[" "]" around a dot. Other text is unchanged.
std::string Refang(std::string_view text);

/// The value one token is, or nullopt. No code heuristics (a list's line is taken as meant):
/// `token` is refanged and trimmed of surrounding brackets and punctuation first.
std::optional<Value> ClassifyToken(std::string_view token);

/// True when `domain` (lower case, no trailing dot) ends in a public suffix (explicitly
/// listed: the list's implicit "*" rule does not count) and is not itself a suffix.
bool HasPublicSuffix(std::string_view domain);

/// Every value in free text, deduplicated, in order of first appearance.
std::vector<Value> ExtractValues(std::string_view text);

struct TextStats {
  uint64_t values = 0;  // distinct values found (indicators and CVE ids)
  uint64_t bytes = 0;   // text read
  uint64_t per_kind[kValueKindCount] = {};
};

/// Free text -> one Unit: an indicator per value (a vulnerability per CVE id) and a report
/// that refers to them all, whose description is the text (cut at kMaxReportText bytes).
/// The report's id is derived from the text, so the same text imported twice is one report.
absl::StatusOr<TextStats> ReadText(std::string_view text, const ConvertOptions& o,
                                   const UnitSink& on_unit, const ProblemSink& on_problem);
inline constexpr size_t kMaxReportText = 1 << 20;

struct ListStats {
  uint64_t lines = 0;     // non-blank, non-comment lines
  uint64_t values = 0;    // indicators emitted
  uint64_t rejected = 0;  // lines that are no value (each reported)
  uint64_t per_kind[kValueKindCount] = {};
};

/// Values per Unit for lists and CSV: units commit separately, so a list of millions of
/// values never sits in one transaction.
inline constexpr size_t kListUnitValues = 10000;

/// One value a line; '#' and ';' start comments; blank lines are skipped. `kind`: every line
/// must be of that kind (else it is reported); nullopt: each line's kind is detected.
absl::StatusOr<ListStats> ReadList(std::string_view data, std::optional<ValueKind> kind,
                                   const ConvertOptions& o, const UnitSink& on_unit,
                                   const ProblemSink& on_problem);

/// CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF) with a column mapping.
struct CsvOptions {
  /// Roles of the columns, comma-separated: either positional ("-,value,type,description",
  /// '-' ignores a column) or by header name or 1-based index ("value=url,type=threat").
  /// Roles: value (required), type (an Accord kind or a MISP attribute type; detected when
  /// absent or empty), description, label.
  std::string columns = "value";
  char delimiter = ',';
  /// The first row is a header. Implied when `columns` names columns by header name; without
  /// either, a first row whose value cell is no value is taken as a header and skipped.
  bool header = false;
};
absl::StatusOr<ListStats> ReadCsv(std::string_view data, const CsvOptions& csv,
                                  const ConvertOptions& o, const UnitSink& on_unit,
                                  const ProblemSink& on_problem);

/// The kind a MISP attribute type or an Accord kind name stands for ("ip-dst" -> ipv4 or
/// ipv6 by `value`, "domain"/"hostname" -> domain, "sha256", ...); nullopt when none.
std::optional<ValueKind> KindOfTypeName(std::string_view type, std::string_view value);

}  // namespace accord::formats
