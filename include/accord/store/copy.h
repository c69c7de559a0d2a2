// Moving a node's store to another backend (issue 17, `accord store copy`): from SQLite in a
// data directory to a PostgreSQL database when a node outgrows one machine, or back.
//
// What is copied: every collection (id, alias, title, description, public flag), each
// collection's versions in date_added order (JSON byte for byte; a version in several
// collections is stored once and linked into each), users, API keys (their hashes: the keys
// keep working), grants, settings (the node's identity, sync cursors), and the stream workers'
// match ledger: every record with its event time and its recording time (MatchLedger::Scan,
// Restore), so that the copy deduplicates redelivered events as the source did and its
// tallies' recorded_last, and the sightings' `modified` made from it, go on increasing from
// where the source's stopped. The target assigns new date_added values, in the same order: a
// TAXII client of the old node starts its added_after cursor again. Not copied, and counted
// in the report: versions in no collection (deleted from every one), quarantined copies, and
// TAXII request statuses (they expire).
//
// The target must be empty: no collection, version, user, setting or match record.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::store {

struct CopyReport {
  uint64_t collections = 0;
  uint64_t memberships = 0;  // (collection, version) pairs
  uint64_t versions = 0;     // distinct versions stored in the target
  uint64_t users = 0, keys = 0, grants = 0, settings = 0;
  uint64_t match_records = 0;          // the match ledger's records (MatchLedger)
  uint64_t not_copied_unlinked = 0;    // versions in no collection
  uint64_t not_copied_quarantine = 0;  // quarantined copies
};

/// Copies `from` into the empty `to`. `progress`, when set, is called after each page of
/// versions with the memberships copied so far.
absl::StatusOr<CopyReport> CopyStore(Store& from, Store& to,
                                     const std::function<void(uint64_t)>& progress = {});

/// Compares what CopyStore copies: the collections, each collection's versions in order (id,
/// modified, JSON bytes), users, keys (hashes included), grants, settings, and the match
/// ledgers (their counts, then an order-free digest of every record with both its times:
/// backends scan them in orders of their own). OK when equal; DataLoss naming the first
/// difference otherwise (for the ledgers, only that they differ).
absl::Status VerifyCopy(Store& from, Store& to);

}  // namespace accord::store
