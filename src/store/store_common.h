// What the SQLite and PostgreSQL backends share above their SQL: page cursors, the reading
// back of a stored copy, and how a content conflict is refused and reported.
//
// Internal to src/store. Stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "accord/common/status.h"
#include "accord/stix/object.h"
#include "accord/store/store.h"

namespace accord::store::detail {

/// Creates the data directory `dir` owner-only when it does not exist (the node's
/// intelligence, users and key hashes; a directory that exists keeps the permissions its
/// operator gave it).
absl::Status MakeDataDir(const std::string& dir);

/// A List/Browse cursor: a kind letter and the last key the page returned.
std::string EncodeCursor(char kind, int64_t v);
/// InvalidArgument for anything EncodeCursor(kind, ...) did not make.
absl::StatusOr<int64_t> DecodeCursor(std::string_view c, char kind);

/// A stored JSON text read back into a record (the store holds only what the reader accepted,
/// so a failure here is corruption: DataLoss naming `what`).
absl::StatusOr<stix::ObjectRecord> RecordOf(const std::string& json, std::string_view what);

/// The error of an all-or-nothing import (SetRefuseConflicts) on a content conflict: it names
/// the version, never the stored content.
absl::Status RefusedConflict(const stix::ObjectRecord& r);
/// Counts a refused conflict in `result` (listing the first kMaxListedConflicts); `index` is
/// the record's position among the transaction's Adds.
void NoteConflict(const stix::ObjectRecord& r, uint64_t index, ImportResult* result);

}  // namespace accord::store::detail
