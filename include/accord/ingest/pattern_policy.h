// The node's pattern policy: which collections may hold STIX patterns whose MATCHES regular
// expressions need a backtracking matcher (lookaround, backreferences, recursion,
// conditionals; pattern::FindBacktrackingConstruct). Read from `<data>/accord.toml`:
//
//   [pattern]
//   allow_backtracking_regex = ["partner-feed", "2f7c...-uuid"]   # collection aliases or ids
//
// Default (no file, no section, no key): no collection; every such pattern is refused at
// ingest with a message naming the construct. Matching stays bounded either way (PCRE2 match
// and depth limits, and indicators that keep hitting them are disabled; match::MatchOptions).
//
// Thread safety: a PatternPolicy is an immutable value once loaded.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/ingest/ingest.h"
#include "accord/pattern/pattern.h"

namespace accord::ingest {

struct PatternPolicy {
  /// Collections (alias or id, compared exactly) whose writes may use backtracking regexes.
  std::vector<std::string> allow_backtracking_regex;

  /// Whether a write into the collection known as `id` (and `alias`, when known) may.
  bool AllowsBacktracking(std::string_view id, std::string_view alias = {}) const;
};

/// Reads `[pattern]` from `<data_dir>/accord.toml`; a missing file gives the defaults. An
/// unreadable file, or a key of the wrong type, is an error naming the file (and line).
absl::StatusOr<PatternPolicy> LoadPatternPolicy(const std::string& data_dir);

/// The pattern-check stage with `options` (PatternCheckStage() is this with the defaults).
std::shared_ptr<const Stage> PatternCheckStage(const pattern::CheckOptions& options);

/// Installs in `options->pipeline` the pattern-check stage that `policy` sets for writes into
/// `options->collection`, whose id and alias the caller may also give (when the collection
/// exists), so that the configuration may name it either way.
void ApplyPatternPolicy(const PatternPolicy& policy, Options* options, std::string_view id = {},
                        std::string_view alias = {});

}  // namespace accord::ingest
