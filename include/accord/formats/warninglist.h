// MISP warninglists (issue 15): lists of known-benign or well-known values (top domains, public
// DNS resolvers, RFC 1918 ranges, cloud ranges, empty-file hashes ...) in the JSON format of
// MISP/misp-warninglists (lists/*/list.json, schema.json). A value that a list matches is flagged
// or dropped on import and suppressed on matching, and the list is named either way, so that
// google.com or 8.8.8.8 in a feed never becomes an alert. docs/FORMATS.md, "Warninglists",
// states the matching rules and where they differ from MISP (app/Model/Warninglist.php).
//
// No I/O: the caller reads the files and hands over their bytes.
//
// Thread safety: ParseWarninglist is a pure function. A WarninglistSet is built by one thread
// (Add); once built, any number of threads may call its const methods (Match, lists, ...)
// concurrently without external synchronization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/formats/formats.h"

namespace accord::formats {

/// One warninglist as its JSON file states it.
struct Warninglist {
  std::string source;       // where it came from, for messages ("lists/rfc1918/list.json")
  std::string name;         // unique within a WarninglistSet
  std::string description;  //
  std::string type;         // "string", "substring", "hostname", "cidr" or "regex"
  std::string category = "false_positive";  // or "known" (MISP's two categories)
  int64_t version = 0;
  /// MISP attribute types the list applies to ("ip-src", "domain", "md5", ...); empty: all.
  std::vector<std::string> matching_attributes;
  std::vector<std::string> entries;  // "list" in the JSON, in file order
};

/// Limits on one list file; exceeding one is an error.
inline constexpr size_t kMaxWarninglistBytes = size_t{256} << 20;
inline constexpr size_t kMaxWarninglistEntries = 10'000'000;
inline constexpr size_t kMaxWarninglistEntryBytes = 64 << 10;

/// Parses one list.json. Required members (schema.json): "name", "description", "version" (an
/// integer), "type" (one of the five above) and "list" (an array of strings; MISP's object form
/// {"value": "comment", ...} is also read, taking the keys). Optional: "matching_attributes"
/// (an array of strings) and "category" ("false_positive", also spelled "false-positive", or
/// "known"). Other members are ignored.
/// @param source_name names the input in errors and is kept in Warninglist::source.
/// @return the list, or InvalidArgument naming the source and the rule broken
///         ("lists/x/list.json: missing member \"list\"").
absl::StatusOr<Warninglist> ParseWarninglist(std::string_view json, std::string_view source_name);

/// What a WarninglistSet keeps of each list (the entries live only in its match tables).
struct WarninglistInfo {
  std::string source, name, description, type, category;
  int64_t version = 0;
  std::vector<std::string> matching_attributes;
  size_t entries = 0;  // entries in the file
  size_t skipped = 0;  // entries that could not be used (each reported as a Problem)
  /// Bit k set: the list applies to values of ValueKind k (from matching_attributes).
  uint32_t kinds = 0;
};

/// The MISP attribute types a value of kind `k` can stand for, for matching_attributes:
/// kIpv4/kIpv6/kIpv4Cidr/kIpv6Cidr: ip-src, ip-dst, ip-src|port, ip-dst|port, domain|ip;
/// kDomain: domain, hostname, domain|ip, hostname|port; kUrl: url, uri, link; kEmail: email,
/// email-src, email-dst, target-email, email-reply-to, whois-registrant-email, dns-soa-email;
/// kMd5..kSha512: md5 (sha1, ...) and filename|md5 (...); kCve: vulnerability.
/// "ALL" (MISP's own marker) applies to every kind.
/// @return the bit set of kinds the attribute type `misp_type` applies to; 0 when none.
uint32_t KindsForMispType(std::string_view misp_type);

/// A set of warninglists compiled for matching. Entries of all lists share one table per list
/// type: string and hostname entries one hash table each (entry -> the lists holding it), CIDRs
/// one sorted interval table per address family, substrings one Aho-Corasick automaton, regexes
/// one compiled PCRE2 program each. Memory is proportional to the entries.
class WarninglistSet {
 public:
  WarninglistSet();
  ~WarninglistSet();
  WarninglistSet(WarninglistSet&&) noexcept;
  WarninglistSet& operator=(WarninglistSet&&) noexcept;

  /// Compiles `list` into the set. Entries that cannot be used (a CIDR that does not parse, a
  /// regex that does not compile or has an unknown modifier, an over-long entry) are reported
  /// to `on_problem`, naming the list and the entry, and skipped; a list whose
  /// matching_attributes name no kind Accord has is reported as a warning (it never matches).
  /// @return InvalidArgument for an empty name or an unknown type, AlreadyExists for a name
  ///         already in the set; the set is unchanged then.
  absl::Status Add(Warninglist list, const ProblemSink& on_problem);

  /// The names of the lists that match `v`, in the order they were added; empty when none.
  /// Views into the set: valid until the next Add, move or destruction.
  /// REQUIRES: the set was not moved from.
  /// PERF: a hash lookup per label for hostname lists (one for string lists), one binary search
  /// for CIDR lists, one pass over the value for all substring lists together; only regexes
  /// cost per entry, and each runs under a match limit.
  std::vector<std::string_view> Match(const Value& v) const;

  /// True when some list matches `v` (the same rules as Match).
  bool Matches(const Value& v) const { return !Match(v).empty(); }

  size_t size() const;
  const std::vector<WarninglistInfo>& lists() const;
  /// Regex matches cut short by the match, depth or heap limit (counted as no match).
  uint64_t regex_limit_hits() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Every list in `dir` (its *.json files, in name order: `accord warninglist load` keeps them
/// in <data>/warninglists); an empty set when `dir` does not exist. A list whose name is taken
/// already is skipped; an unreadable or malformed file is an error naming it.
absl::StatusOr<WarninglistSet> LoadWarninglistDir(const std::string& dir);

}  // namespace accord::formats
