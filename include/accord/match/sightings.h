// The engine's link to the store: which indicators are active, and sightings back into it.
//
// Telemetry is personal data (../shared/DESIGN.md): a sighting carries counts and times only,
// never the observed values or events, unless a later option says otherwise.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/match/engine.h"

namespace accord::store {
class Store;
struct StoredObject;
struct ImportResult;
struct MatchTally;
}  // namespace accord::store

namespace accord::match {

struct ActiveIndicators {
  std::vector<IndicatorSpec> indicators;
  uint64_t inactive = 0;  // revoked, not yet valid, or expired
  uint64_t not_stix = 0;  // pattern_type other than "stix"
  uint64_t withheld = 0;  // refused by the filter (the egress gate)
  /// The first instant after `now` at which the answer may differ by the clock alone: the
  /// earliest valid_until of those kept and valid_from of those not yet valid (INT64_MAX:
  /// never). The start-up cache (program_image.h) expires there.
  common::Micros next_change = INT64_MAX;
};

/// Decides whether an active indicator may be compiled: the match command passes the egress
/// gate's decision for match output (a match line names the indicator), so an indicator
/// the gate withholds never produces a line. Returns false to leave it out.
using IndicatorFilter = std::function<bool(const store::StoredObject& indicator)>;

/// The indicators active at `now`, read from `collections` (ids or aliases; empty: every
/// collection of the store). In each collection the latest version of each indicator counts:
/// active means not revoked there and valid_from <= now < valid_until (STIX 2.1 §4.7), and
/// admitted by `filter` when given (those left out are counted in `withheld`). An indicator
/// active in any of the collections is compiled, each distinct version once, so a newer
/// (say, revoked) version in one collection does not switch off what another one holds.
/// Counts are of versions examined. Each spec carries `name` and `origin` for the match line:
/// the collection ids, '\n'-separated, of the first collection read whose latest version of
/// the id is the newest, then of the others holding that same version; `name` is that
/// version's (origin.h). NotFound when a named collection does not exist. Reading
/// the store here is internal: what leaves is the match output, gated by the caller
/// (docs/EGRESS.md).
absl::StatusOr<ActiveIndicators> LoadActiveIndicators(
    store::Store& store, common::Micros now, const IndicatorFilter& filter = nullptr,
    const std::vector<std::string>& collections = {});

/// For the audit log's match-output entries (issue 13, point 7): the `modified` of each id's
/// newest stored version (0 for an id no longer stored). Internal: only (id, modified) pairs go
/// on, into the node's own audit log.
absl::StatusOr<std::vector<common::Micros>> NewestModified(store::Store& store,
                                                           const std::vector<std::string>& ids);

/// Decides what happens to one sighting (its JSON) before it is written: the JSON to write
/// (the sighting itself or a replaced copy), or nullopt to withhold it. The match command
/// passes the egress gate's decision for Exit::kSightings.
using SightingEgress = std::function<std::optional<std::string>(const std::string& sighting)>;

/// The start of the time bucket of `len` microseconds that holds `t`: buckets are aligned to
/// multiples of `len` since the epoch, and a time before 1970 lands in the bucket that holds it.
common::Micros BucketStart(common::Micros t, common::Micros len);

/// The sighting of one tally of the match ledger (stream workers, issue 17): a function of the
/// tally and `identity` alone, so every worker that tallies the same records writes the same
/// object, and a redelivered event changes nothing. The id is a UUIDv5 of the identity, the
/// indicator and the bucket; `created` is the earlier of the bucket's start and its first
/// recording; `modified` is its last recording, which every new record moves forward
/// (store::MatchLedger::Record), so the newest version always carries the largest count.
std::string TallySighting(const store::MatchTally& tally, const std::string& identity);

/// Hands each sighting (JSON) to `egress`, validates those it lets through with the STIX reader
/// and imports them into `collection` in one transaction. Returns how many were added;
/// `*withheld` and `*result` as for SightingAggregator::WriteTo.
absl::StatusOr<uint64_t> WriteSightings(store::Store& store, const std::string& collection,
                                        const std::vector<std::string>& sightings,
                                        const SightingEgress& egress, uint64_t* withheld = nullptr,
                                        store::ImportResult* result = nullptr);

/// Aggregates matches into one sighting per indicator per time bucket.
class SightingAggregator {
 public:
  explicit SightingAggregator(common::Micros bucket = 3600ll * 1000000) : bucket_(bucket) {}
  /// One match of indicator `id` by events at time `t`.
  void Add(const std::string& id, common::Micros t);
  size_t size() const { return buckets_.size(); }
  /// Builds the sighting objects (STIX 2.1 §5.6): count, first_seen, last_seen,
  /// sighting_of_ref, where_sighted_refs = [identity], created_by_ref = identity.
  std::vector<std::string> ToJson(const std::string& identity, common::Micros now) const;
  /// Hands each sighting to `egress`, validates those it lets through with the STIX reader and
  /// imports them into `collection`. Returns how many were written; `*withheld` (when given)
  /// counts those `egress` withheld; `*result` (when given) is the store's account of the
  /// write, for the audit log (untouched when nothing was written).
  absl::StatusOr<uint64_t> WriteTo(store::Store& store, const std::string& collection,
                                   const std::string& identity, common::Micros now,
                                   const SightingEgress& egress, uint64_t* withheld = nullptr,
                                   store::ImportResult* result = nullptr);
  void Clear() { buckets_.clear(); }
  /// Moves the buckets that end at or before `t` (event time) into `out`: in follow mode the
  /// caller writes those periodically while later buckets keep counting.
  void TakeClosed(common::Micros t, SightingAggregator* out);

 private:
  struct Agg {
    uint64_t count = 0;
    common::Micros first = 0, last = 0;
  };
  common::Micros bucket_;
  std::map<std::pair<std::string, common::Micros>, Agg> buckets_;
};

}  // namespace accord::match
