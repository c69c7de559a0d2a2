// What the SQLite and PostgreSQL backends share above their SQL: page cursors, the reading
// back of a stored copy, how a content conflict is refused and reported, and what a word of
// the full-text index (Browse) is.
//
// Internal to src/store. Stateless functions (FoldWords keeps a tokenizer per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

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

/// The cursor kind of Store::Browse (EncodeCursor): the vid below which the search goes on.
inline constexpr char kBrowseCursor = 'b';

/// InvalidArgument for a search that names no collection, or whose limit or budget is 0.
absl::Status CheckBrowseQuery(const BrowseQuery& query);

/// A version a search statement found: its vid (storage order) and the hit.
struct BrowseRow {
  int64_t vid = 0;
  BrowseHit hit;
};
/// A backend's search statement over the versions whose vid is in [lo, hi): appends to `rows`
/// those that pass the query's filters, newest stored (highest vid) first, at most `max_rows`.
using BrowseWindow = std::function<absl::Status(int64_t hi, int64_t lo, uint64_t max_rows,
                                                std::vector<BrowseRow>* rows)>;
/// Store::Browse's paging, the same on both backends: runs `window` over consecutive windows
/// of storage order below `hi` (PERF: at most 20,000 versions each, so that a statement's
/// LIMIT is reached within a bounded range) until `query.limit` hits are found or
/// `query.budget` versions examined, and fills page->hits, more and next. Returns the vid below
/// which the next page starts (0 when none): the caller sets page->reached from it.
absl::StatusOr<int64_t> BrowseWindows(const BrowseQuery& query, int64_t hi,
                                      const BrowseWindow& window, BrowsePage* page);

/// A word of a search's text (BrowseQuery::text): a run of word characters (WordCodePoint in
/// store_common.cc) as given, and whether a '*' right after it makes it a prefix. Everything
/// else in the text (punctuation, any query syntax) only separates words.
struct SearchWord {
  std::string text;
  bool prefix = false;
};
std::vector<SearchWord> SearchWords(std::string_view text);

/// A marking-definition id as one index token: "mk" and its UUID's hex digits, lower case
/// ("marking-definition--34098fce-860f-..." -> "mk34098fce860f..."). The full-text indexes
/// hold no positions, so an id cannot be a phrase of its parts.
std::string MarkingToken(std::string_view id);
/// Appends MarkingToken(id) and a space to `out`.
void AppendMarkingToken(std::string_view id, std::string* out);

/// Calls `each` with every token of `text` as SQLite's full-text index holds it: its
/// tokenizer, unicode61 with remove_diacritics 2 (sqlite_store.cc, object_text), which splits
/// at everything but letters, digits and private-use characters, folds case and takes accents
/// off ("Émotet" -> "emotet", "ПРИВЕТ" -> "привет"). The PostgreSQL store's index and queries
/// fold with it too, so that both backends find the same words. Internal on failure (SQLite
/// without FTS5); `text` longer than 2 GiB is InvalidArgument.
absl::Status FoldWords(std::string_view text, const std::function<void(std::string_view)>& each);

/// True when `s` is well-formed UTF-8 (what PostgreSQL accepts as text).
bool ValidUtf8(std::string_view s);

/// Whether a write of this object changes what a compiled program of the active indicators
/// holds: IndicatorGeneration() moves with it (the type is the id's prefix, STIX 2.1 §2.9).
inline bool IsIndicatorId(std::string_view id) { return id.substr(0, 11) == "indicator--"; }

}  // namespace accord::store::detail
