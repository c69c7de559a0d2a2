// STIX 2.1 patterning front end: parse -> check -> print.
//
//   ACCORD_ASSIGN_OR_RETURN(accord::pattern::Pattern p, accord::pattern::Parse(text));
//   std::vector<accord::pattern::Diagnostic> warnings;
//   ACCORD_RETURN_IF_ERROR(accord::pattern::Check(p, &warnings));
//   std::string canonical = accord::pattern::Print(p);
//
// Errors are absl::InvalidArgumentError with messages of the form
//   "column 27: expected ']' to close the observation expression opened at column 1, found 'AND'"
// No function here does I/O, allocates unboundedly on hostile input, or recurses deeper than
// ParseOptions::max_depth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "accord/pattern/ast.h"

namespace accord::pattern {

struct ParseOptions {
  /// Maximum nesting of parentheses/brackets/qualifiers; deeper input is rejected.
  uint32_t max_depth = 1000;
  /// Maximum input size in bytes.
  size_t max_length = 16u << 20;
};

/// Grammar (STIXPattern.g4) plus lexical literal validity (hex pairs, base64, timestamp
/// format). Returns InvalidArgument with a "column N: ..." message on the first error.
absl::StatusOr<Pattern> Parse(std::string_view text, const ParseOptions& options = {});

/// A non-fatal finding (unknown SCO type or property, type mismatch that can never match...).
struct Diagnostic {
  uint32_t column = 0;  // 1-based, 0 when not tied to a position
  std::string message;
  std::string ToString() const;  // "column N: message"
};

struct CheckOptions {
  /// Accept MATCHES expressions that need a backtracking matcher (lookaround, backreferences,
  /// recursion, conditionals; see FindBacktrackingConstruct). Off by default: their matching
  /// time can grow exponentially with the value (issue 10). A node turns it on only for the
  /// collections named by `[pattern] allow_backtracking_regex` in accord.toml.
  bool allow_backtracking_regex = false;
};

/// Type checks a parsed pattern (spec digest §5): operator/literal compatibility, IP/CIDR
/// literals for ISSUBSET/ISSUPERSET, PCRE2 compilation of MATCHES, calendar-valid timestamps,
/// qualifier ranges, duplicate qualifiers, homogeneous IN sets, hash literal formats, and
/// (unless `options` allow them) no backtracking-only constructs in MATCHES.
/// Errors are returned; warnings (may be null) are appended to `warnings`.
absl::Status Check(const Pattern& pattern, std::vector<Diagnostic>* warnings = nullptr,
                   const CheckOptions& options = {});

/// Parse + Check.
absl::StatusOr<Pattern> ParseAndCheck(std::string_view text,
                                      std::vector<Diagnostic>* warnings = nullptr,
                                      const ParseOptions& options = {},
                                      const CheckOptions& check_options = {});

/// A construct of a PCRE2 regular expression that only a backtracking matcher runs, and whose
/// matching time is not bounded by a linear function of the value's length.
struct BacktrackingConstruct {
  std::string name;   // "lookahead", "negative lookbehind", "backreference", "recursion", ...
  std::string text;   // as written, e.g. "(?=", "\\1", "\\k<name>", "(?P=name)"
  size_t offset = 0;  // byte offset in the expression
};

/// The first lookaround ((?= (?! (?<= (?<! and the (*pla: family), backreference (\1..\9,
/// \g, \k<name>, (?P=name)), recursion or subroutine call ((?R) (?1) (?&name) (?P>name)) or
/// conditional ((?(...)) in `regex`, by a scan of PCRE2's syntax that skips escapes, \Q...\E
/// and character classes. nullopt when there is none.
std::optional<BacktrackingConstruct> FindBacktrackingConstruct(std::string_view regex);

/// Canonical text: Parse(Print(p)) == p, and equivalent spellings (`==`/`=`, `<>`/`!=`,
/// `+1`/`1`, quoted/unquoted keys, redundant parentheses, whitespace, comments) print the same.
std::string Print(const Pattern& pattern);

/// The tree, one node per line, indented by two spaces per level (for `accord pattern explain`).
std::string Explain(const Pattern& pattern);

}  // namespace accord::pattern
