// Sensor exports (docs/FORMATS.md, "Sensor exports"): what `accord export --format` writes for
// Zeek's Intel framework, Suricata (datasets, IP reputation), plain lists and CSV.
//
// Pure conversion, no I/O: the caller has already chosen the indicators (through the egress
// gate) and writes the returned files. Only indicators whose pattern is a flat disjunction of
// equalities on paths a sensor can look up (addresses, domains, URLs, e-mail addresses, file
// hashes) are exported; ExportableValues says why another pattern is not. Output is sorted and
// deduplicated, so exporting the same indicators (in any order) again gives identical bytes.
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/formats/formats.h"
#include "accord/pattern/ast.h"

namespace accord::formats {

/// The values a STIX pattern names when it is a disjunction (OR, IN) of equality comparisons
/// on paths sensors understand:
///   ipv4-addr:value, ipv6-addr:value, network-traffic:src_ref.value / dst_ref.value
///       -> address or CIDR (canonical text; CIDR host bits cleared; /32 and /128 are addresses)
///   domain-name:value -> domain (ASCII lower case, one trailing dot dropped)
///   url:value -> url (as written)
///   email-addr:value, email-message:from_ref.value / sender_ref.value / to_refs[*].value /
///       cc_refs[*].value / bcc_refs[*].value -> email (as written)
///   file:hashes.MD5 / 'SHA-1' / 'SHA-256' / 'SHA-512' (also SHA1, SHA256, SHA512, any case)
///       -> md5 / sha1 / sha256 / sha512 (lower-case hex of the right length)
/// Deduplicated, in the order the pattern names them.
/// @return the values, or an empty vector with `*why_not` (may be null) saying why: AND,
///   FOLLOWEDBY, a qualifier, NOT, an operator other than = and IN, another path, or a
///   literal that is not a valid value for its path.
std::vector<Value> ExportableValues(const pattern::Pattern& p, std::string* why_not);
/// The same for pattern text (parsed with pattern::Parse's default limits).
std::vector<Value> ExportableValues(std::string_view pattern_text, std::string* why_not);

/// What `accord export --format` writes for sensors ("misp" is handled by the MISP writer).
enum class ExportFormat { kZeekIntel, kSuricataDatasets, kSuricataIprep, kList, kCsv };
/// "zeek-intel", "suricata-datasets", "suricata-iprep", "list", "csv".
std::string_view ExportFormatName(ExportFormat f);
/// The format named `name`, or InvalidArgument naming the five.
absl::StatusOr<ExportFormat> ParseExportFormat(std::string_view name);

/// One indicator to export: what the caller read from the store.
struct ExportIndicator {
  std::string id;                   // "indicator--..."
  std::string name;                 // may be empty
  std::string pattern;              // STIX pattern text
  std::vector<std::string> labels;  // not written: none of the five formats has a column
  int confidence = -1;              // STIX confidence 0..100; -1 when absent
  std::string source;               // e.g. the collection or the creator's name; may be empty
};

/// One output file: a name relative to the export directory and its whole content.
struct ExportedFile {
  std::string name;
  std::string content;
  bool operator==(const ExportedFile&) const = default;
};

struct ExportStats {
  uint64_t indicators = 0;      // indicators with at least one value written
  uint64_t values = 0;          // distinct (kind, value) pairs written
  uint64_t skipped = 0;         // indicators with no value written
  uint64_t values_skipped = 0;  // values of exportable patterns this format cannot carry
  /// The first ExportOptions::max_reasons reasons: "indicator--...: <why>".
  std::vector<std::string> skipped_reasons;
};

struct ExportOptions {
  /// suricata-datasets / suricata-iprep: rule ids are sid_base + a fixed number per rule
  /// (1..19 datasets, 20 iprep), so a rule keeps its sid from one export to the next.
  uint32_t sid_base = 9200000;
  /// zeek-intel: meta.url is this prefix followed by the indicator id; "-" (unset) when empty.
  std::string zeek_url_prefix;
  /// zeek-intel: meta.source when the indicator has no source.
  std::string default_source = "accord";
  size_t max_reasons = 10;
};

/// Every file of format `f` for `in`, sorted by name. An indicator that gives no value for the
/// format is counted in `stats` (may be null) and skipped; it is not an error.
/// @return InvalidArgument when the options cannot be honoured (sid_base too large).
absl::StatusOr<std::vector<ExportedFile>> ExportIndicators(ExportFormat f,
                                                           const std::vector<ExportIndicator>& in,
                                                           ExportStats* stats,
                                                           const ExportOptions& options = {});

}  // namespace accord::formats
