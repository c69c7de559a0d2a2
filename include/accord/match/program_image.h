// The start-up cache of `accord match` (issue 11, "Fast start"): the compiled program itself
// (Program::Image), with what the start-up line reports, in one file that a start maps. A start
// with an unchanged store neither lists nor parses nor compiles the stored indicators: it probes
// the key tables where they lie in the mapping (KeyTable, no rehash) and compiles only the few
// indicators that keep a tree (docs/MATCH_INPUTS.md, "Start-up cache").
//
// The file is valid for one key: the store's generation (which moves whenever a row changes),
// the scope (the collections read and anything else the caller's selection depends on) and a
// window of time: it expires at the first instant an indicator in it ends (valid_until) or
// one left out begins (valid_from), as activity depends on the clock. Anything else is a
// miss, and the caller loads from the store, compiles, and writes the file again.
//
// Format (little-endian): the program image, then a header (u64 generation, u32 length + scope,
// i64 valid from, i64 expires, u64 inactive, not_stix, withheld, u64 count of rejected
// patterns, each as two u32-length-prefixed strings: id and reason), then u64 header size,
// u64 program size, u64 XXH3 of everything before it, and the magic "ACCPRG03". A short,
// corrupt or foreign file is a miss, never a crash. The program starts at the file's first
// byte, so its 8-byte-aligned parts (the key tables' slots) are aligned in the mapping.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/match/engine.h"
#include "accord/match/sightings.h"

namespace accord::match {

struct IndicatorCacheKey {
  uint64_t generation = 0;
  std::string scope;
};

/// What a cached start needs besides the program: the counts of the start-up line and the
/// patterns that were refused when it was compiled.
struct ProgramImage {
  std::shared_ptr<const Program> program;
  uint64_t inactive = 0, not_stix = 0, withheld = 0;          // as in ActiveIndicators
  common::Micros next_change = 0;                             // when the file expires
  std::vector<std::pair<std::string, std::string>> rejected;  // (indicator id, reason)
};

/// The cached program if `path` holds a file for `key` that is valid at `now`; nullopt on any
/// miss (absent, other key, expired, corrupt, made by another format). Reads at most
/// `max_bytes`. `options` are the matching options (Program::FromImage).
std::optional<ProgramImage> ReadProgramImage(const std::string& path, const IndicatorCacheKey& key,
                                             common::Micros now, const MatchOptions& options,
                                             uint64_t max_bytes = 8ull << 30);

/// Writes `image.program` with the counts of `image` (loaded at `now`), atomically (a temporary
/// file renamed).
absl::Status WriteProgramImage(const std::string& path, const IndicatorCacheKey& key,
                               common::Micros now, const ProgramImage& image);

}  // namespace accord::match
