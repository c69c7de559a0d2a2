// The start-up cache of `accord match` (issue 11, "Fast start"): the active indicators as
// LoadActiveIndicators found them, in one flat file read with one read, so that a start with
// an unchanged store skips listing and parsing every stored indicator.
//
// The file is valid for one key: the store's generation (which moves whenever a row changes),
// the scope (the collections read and anything else the caller's selection depends on) and a
// window of time: it expires at the first instant an indicator in it ends (valid_until) or
// one left out begins (valid_from), as activity depends on the clock. Anything else is a
// miss, and the caller loads from the store and writes the file again.
//
// Format (little-endian, docs/MATCH_INPUTS.md "Start-up cache"): "ACCIDX02", u64 generation,
// u32 length + scope bytes, i64 valid_from, i64 expires, u64 inactive, not_stix, withheld,
// u64 count, then per indicator three u32-length-prefixed strings (id, pattern, version), and
// last an u64 FNV-1a of everything before it. A short, corrupt or foreign file is a miss.
#pragma once

#include <optional>
#include <string>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/match/sightings.h"

namespace accord::match {

struct IndicatorCacheKey {
  uint64_t generation = 0;
  std::string scope;
};

/// The cached indicators if `path` holds a file for `key` that is valid at `now`; nullopt on
/// any miss (absent, other key, expired, corrupt). Reads at most `max_bytes`.
std::optional<ActiveIndicators> ReadIndicatorCache(const std::string& path,
                                                   const IndicatorCacheKey& key, common::Micros now,
                                                   uint64_t max_bytes = 4ull << 30);

/// Writes `active` (loaded at `now`) for `key`, atomically (a temporary file renamed).
absl::Status WriteIndicatorCache(const std::string& path, const IndicatorCacheKey& key,
                                 common::Micros now, const ActiveIndicators& active);

}  // namespace accord::match
