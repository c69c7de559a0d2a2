// The object store: every version of every STIX object, collections with monotonic
// `date_added`, and the queries TAXII and the CLI need; also the node's users, API keys and
// grants (AuthStore), TAXII request statuses (StatusStore) and stream workers' matches
// (MatchLedger) and the web UI's browser sessions (SessionStore), with the same durability.
// SQLite (WAL) is the embedded default; the interface is what a PostgreSQL backend implements
// too (../shared/DESIGN.md).
//
// Thread safety: a Store may be used from several threads; implementations serialise
// writers and let readers run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/stix/object.h"

namespace simdjson::dom {
class object;
}  // namespace simdjson::dom

namespace accord::store {

using common::Micros;

/// A stored object version with its membership data (when read through a collection).
struct StoredObject {
  std::string id;
  std::string type;
  std::string spec_version;
  Micros modified = 0;
  bool has_modified = false;
  bool revoked = false;
  Micros date_added = 0;  // in the collection asked about (or the first one it entered)
  std::string json;       // the object, minified, as received
};

struct CollectionInfo {
  std::string id;     // a UUID for TAXII (generated for names that are not UUIDs)
  std::string alias;  // the short name used by the CLI ("default")
  std::string title;
  std::string description;
  bool is_public = false;  // readable without credentials
};

enum class VersionSelect { kLast, kFirst, kAll };

/// A query over object versions. Unset members do not filter.
struct Query {
  std::optional<std::string> collection;   // id or alias
  std::vector<std::string> ids;            // match[id]
  std::vector<std::string> types;          // match[type]
  std::vector<std::string> spec_versions;  // match[spec_version]
  VersionSelect versions = VersionSelect::kLast;
  std::vector<Micros> version_times;  // match[version]=<timestamp>: exactly these versions
  std::optional<Micros> added_after;  // strictly after this date_added
  bool include_revoked = false;
  uint64_t limit = 0;  // 0: no limit
  std::string cursor;  // opaque, from a previous Page::next
};

struct Page {
  std::vector<StoredObject> objects;
  bool more = false;
  std::string next;  // cursor for the next page when `more`
};

/// A version refused because its (id, modified) is already stored with different content
/// (compared as RFC 8785 canonical JSON, so member order and whitespace are no difference).
struct ContentConflict {
  std::string id;
  Micros modified = 0;
  uint64_t index = 0;  // 0-based position of the refused record among the transaction's Adds
};

/// The message a refused conflicting version is reported with (TAXII status failures,
/// `accord import`). It names no stored content: only that the version exists.
inline constexpr const char* kConflictMessage =
    "this version (id, modified) exists with different content; refused and quarantined for "
    "the node's administrator (a STIX version is immutable: a change needs a new 'modified')";

/// Outcome of one import transaction.
struct ImportResult {
  uint64_t added = 0;        // new object versions
  uint64_t duplicates = 0;   // versions already stored with the same content (stored once)
  uint64_t memberships = 0;  // new (collection, version) memberships
  /// Versions already stored with different content: refused (nothing is linked into the
  /// collection, the stored copy is unchanged) and the incoming copy kept in quarantine
  /// (Quarantine). `conflicting` lists the first kMaxListedConflicts of them.
  uint64_t conflicts = 0;
  std::vector<ContentConflict> conflicting;
  static constexpr size_t kMaxListedConflicts = 10000;
  /// The versions this transaction linked into the collection (new memberships: what a
  /// reader of the collection can newly see), (id, modified), the first kMaxListedWritten of
  /// them, for the audit log; and the date_added range they all got, (first, last], which
  /// names every one of them in the store even when the list is cut.
  std::vector<std::pair<std::string, common::Micros>> written;
  static constexpr size_t kMaxListedWritten = 10000;
  int64_t added_after = 0, added_last = 0;
};

struct Stats {
  uint64_t versions = 0;
  uint64_t objects = 0;                                          // distinct ids
  std::vector<std::pair<std::string, uint64_t>> per_type;        // distinct ids per type
  std::vector<std::pair<std::string, uint64_t>> per_collection;  // versions per collection alias
};

/// An open import transaction: Add() any number of records, then Commit(). Destroying it
/// without Commit() rolls everything back. Not thread-safe.
class ImportTxn {
 public:
  virtual ~ImportTxn() = default;
  virtual absl::Status Add(const stix::ObjectRecord& rec) = 0;
  virtual absl::StatusOr<ImportResult> Commit() = 0;
  /// Who writes the records Added from now on (a user name, "import", a peer): recorded with
  /// any copy that goes to quarantine.
  virtual void SetWriter(std::string_view writer) { (void)writer; }
  /// Sets store setting `key` to `value` in this transaction: it commits with the records or
  /// not at all (a sync cursor with the objects it covers). Unimplemented where unsupported.
  virtual absl::Status PutSetting(const std::string& key, const std::string& value) {
    (void)key;
    (void)value;
    return absl::UnimplementedError("settings in an import transaction");
  }
  /// With true, a content conflict fails Add (AlreadyExists) instead of being refused alone:
  /// for all-or-nothing imports (--strict). Nothing is quarantined then (it rolls back).
  virtual void SetRefuseConflicts(bool refuse) { (void)refuse; }
};

/// One refused copy kept for the administrator: a version whose (id, modified) was already
/// stored with other content. The stored copy is the one in the store (Store::Get).
struct QuarantineEntry {
  int64_t qid = 0;               // the entry's number (accord quarantine show QID)
  std::string id;                // the object id
  Micros modified = 0;           // the version both copies claim
  std::string collection;        // id of the collection the refused write targeted
  std::string collection_alias;  // its alias ("" when none)
  std::string writer;            // who wrote it (user, "import", peer)
  Micros received = 0;           // when it was refused
  std::string json;              // the refused copy, as received (empty in List)
  /// Empty for a content conflict; otherwise why the version was held back without being
  /// stored (a received version whose signature fails, issue 12): see Quarantine::Hold.
  std::string reason;
};

/// The content-conflict quarantine (docs/INGEST.md "Content conflicts"). Administrative: its
/// answers contain content of any collection, so only the node's operator (the CLI) uses it.
/// Thread safety: as Store.
class Quarantine {
 public:
  /// Which copy of a version wins a Release.
  enum class Winner { kStored, kQuarantined };
  /// Bounds the table against a writer that sends endless variants: beyond this many entries
  /// a conflicting version is still refused, but its copy is not kept.
  static constexpr uint64_t kMaxEntries = 100000;

  virtual ~Quarantine() = default;
  /// Entries oldest first, without their JSON; at most `limit` (0: all).
  virtual absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine(uint64_t limit) = 0;
  /// The entry with its JSON; NotFound when there is none.
  virtual absl::StatusOr<QuarantineEntry> GetQuarantined(int64_t qid) = 0;
  /// Discards the quarantined copy (the stored one stays as it is). NotFound when absent.
  virtual absl::Status DropQuarantined(int64_t qid) = 0;
  /// Resolves an entry, in one transaction, and removes it:
  ///  - kStored: the stored version is right; it is linked into the collection the refused
  ///    write targeted (so that collection's readers see the stored copy).
  ///  - kQuarantined: the quarantined copy is right. A version is immutable, so the stored
  ///    version is taken out of every collection and out of the store, and its copy goes to
  ///    quarantine in its place (one entry per collection that held it, writer "replaced");
  ///    the quarantined copy becomes the version, in the targeted collection only.
  virtual absl::Status ReleaseQuarantined(int64_t qid, Winner winner) = 0;
  /// Keeps `json`, a version (id, modified) that `writer` sent for `collection` (an id or
  /// alias, created if absent) and that is not stored, because of `reason` (non-empty): a
  /// received version whose signature does not verify, say. Such an entry is resolved by its
  /// owner's checks (federation::ReleaseHeld), not by ReleaseQuarantined. The same copy held
  /// for the same collection is kept once; past kMaxEntries nothing is kept.
  virtual absl::Status Hold(const std::string& collection, std::string_view id, Micros modified,
                            std::string_view writer, std::string_view reason,
                            std::string_view json) = 0;
};

/// A user of the node's HTTP API. `role` is the HTTP layer's role name (admin, analyst,
/// auditor, reader, peer; schema 6 renamed the old `user` to `analyst`).
struct AuthUser {
  std::string name;
  std::string role;
  Micros created = 0;
};

/// An API key: only its argon2id hash is stored (the HTTP layer hashes and verifies).
struct AuthKey {
  std::string key_id;
  std::string user;
  std::string hash;
  Micros created = 0;
  bool revoked = false;
  std::string label;
};

/// A user's permissions on one collection (by collection id).
struct AuthGrant {
  std::string user;
  std::string collection;
  bool read = false;
  bool write = false;
};

/// Users, API keys and per-collection grants, kept in the store with the durability of
/// objects (one transaction per change, on disk when the call returns). Policy (hashing, roles,
/// caching) is the HTTP layer's (http::AuthDb); this is storage only.
///
/// Every change bumps AuthGeneration(), from any process, so that a server's credential cache
/// sees a revocation made by `accord key revoke` in another process.
///
/// Thread safety: as Store.
class AuthStore {
 public:
  virtual ~AuthStore() = default;

  /// AlreadyExists when a user of that name exists.
  virtual absl::Status AddUser(const AuthUser& user) = 0;
  /// Ordered by name.
  virtual absl::StatusOr<std::vector<AuthUser>> ListUsers() = 0;
  virtual absl::StatusOr<std::optional<AuthUser>> FindUser(const std::string& name) = 0;
  virtual absl::StatusOr<bool> HasUsers() = 0;
  /// Replaces `name`'s role. NotFound when the user does not exist.
  virtual absl::Status SetUserRole(const std::string& name, const std::string& role) = 0;

  /// NotFound when `key.user` does not exist; AlreadyExists when the key id is taken.
  virtual absl::Status AddKey(const AuthKey& key) = 0;
  /// The key, revoked or not; nullopt when unknown.
  virtual absl::StatusOr<std::optional<AuthKey>> FindKey(const std::string& key_id) = 0;
  /// NotFound when unknown. Revoking a revoked key succeeds.
  virtual absl::Status RevokeKey(const std::string& key_id) = 0;
  /// `user`'s keys ("" for everyone's), oldest first; `hash` is left empty.
  virtual absl::StatusOr<std::vector<AuthKey>> ListKeys(const std::string& user) = 0;

  /// Sets (replaces) a grant; with neither read nor write it is removed. NotFound when the
  /// user does not exist.
  virtual absl::Status SetGrant(const AuthGrant& grant) = 0;
  /// Ordered by collection id.
  virtual absl::StatusOr<std::vector<AuthGrant>> ListGrants(const std::string& user) = 0;

  /// Changes whenever users, keys or grants change (from any process). One indexed read.
  virtual absl::StatusOr<uint64_t> AuthGeneration() = 0;
};

/// One entry of a request status's failure list (TAXII 2.1 status-details, §4.3.1).
struct StatusDetail {
  std::string id;
  std::string version;
  std::string message;
};

/// The outcome of an add-objects request (a TAXII 2.1 status resource, §4.3.1). The ids of
/// successes are not kept (`successes` is optional in the spec): a status of a 100,000-object
/// POST stays a few bytes unless objects failed.
struct RequestStatus {
  std::string id;                // UUIDv4
  std::string owner;             // the user who made the request
  Micros created = 0;            // when stored; statuses expire by this
  Micros request_timestamp = 0;  // when the request arrived
  bool complete = true;
  uint64_t total_count = 0;
  uint64_t success_count = 0;
  uint64_t failure_count = 0;
  uint64_t pending_count = 0;
  std::vector<StatusDetail> failures;
};

/// Request statuses, kept in the store so that they survive a restart. Thread safety: as Store.
class StatusStore {
 public:
  virtual ~StatusStore() = default;
  /// Stores (or replaces) `status` and, in the same transaction, deletes every status created
  /// before `purge_before`.
  virtual absl::Status PutStatus(const RequestStatus& status, Micros purge_before) = 0;
  /// The status `id` if it exists and was created at or after `not_before`.
  virtual absl::StatusOr<std::optional<RequestStatus>> GetStatus(const std::string& id,
                                                                 Micros not_before) = 0;
};

/// One match recorded by a stream worker (issue 17).
struct MatchRecord {
  std::string event;      // unique per event, e.g. "<stream>:<sequence>"
  std::string indicator;  // indicator id
  Micros time = 0;        // the event's time
};

/// A record of the match ledger with its recording time (MatchLedger::Scan, Restore).
struct RecordedMatch {
  std::string event;
  std::string indicator;
  Micros time = 0;      // the event's time
  Micros recorded = 0;  // when it was recorded (MatchLedger::Record)
  bool operator==(const RecordedMatch&) const = default;
};

/// Recorded matches of one indicator in one time bucket.
struct MatchTally {
  std::string indicator;
  Micros bucket = 0;                             // start of the bucket
  uint64_t count = 0;                            // records (distinct events)
  Micros first = 0, last = 0;                    // least and greatest event time
  Micros recorded_first = 0, recorded_last = 0;  // least and greatest recording time
};

/// The match ledger (issue 17): stream matching workers record each (event, indicator) match
/// before acknowledging the event, so that a redelivered event is never counted twice;
/// sightings are computed from its tallies. Not an object write: Generation() does not move.
/// Thread safety: as Store; several processes (PostgreSQL: machines) may record at once.
class MatchLedger {
 public:
  virtual ~MatchLedger() = default;
  /// Records each (event, indicator) pair once, all in one transaction; a pair already
  /// recorded (by this call or an earlier one, by any process on the same store) is left as
  /// it is. The new rows of one call share one recording time, drawn so that it is strictly
  /// greater than every recording time committed before it (the same discipline as
  /// date_added: drawn after taking the write lock), so a reader that sees a row recorded at
  /// t also sees every row recorded before t. Returns the indexes into `records` of the rows
  /// that were new, ascending. Duplicates inside `records` count once (the first).
  virtual absl::StatusOr<std::vector<size_t>> Record(const std::vector<MatchRecord>& records) = 0;
  /// The tally of each (indicator, bucket start) in `keys`, over the records whose time lies in
  /// [bucket, bucket + bucket_len). One MatchTally per key that has at least one record, in the
  /// order of `keys`. bucket_len > 0, else InvalidArgument.
  virtual absl::StatusOr<std::vector<MatchTally>> Tally(
      Micros bucket_len, const std::vector<std::pair<std::string, Micros>>& keys) = 0;
  /// How many records the ledger holds.
  virtual absl::StatusOr<uint64_t> Count() = 0;
  /// A page of the records with their recording times, for a copy (`accord store copy`): at
  /// most `limit`, those after the pair (after->event, after->indicator), or from the first
  /// when `after` is null, in the backend's own order of (event, indicator): a page continues
  /// where the one before ended, but two backends need not agree on the order (collations).
  virtual absl::StatusOr<std::vector<RecordedMatch>> Scan(const RecordedMatch* after,
                                                          uint64_t limit) = 0;
  /// Adds records with the recording times they have elsewhere, for a copy into a new store:
  /// all in one transaction, the match clock moved past the greatest, so that later Record
  /// calls draw greater times and the source's order of recording survives the copy.
  /// AlreadyExists when a pair is recorded already (nothing is added then); InvalidArgument for
  /// a recording time that is not > 0.
  /// REQUIRES: the ledger is not in use yet (CopyStore restores into an empty one): until the
  /// copy ends, a reader may see a record without one recorded before it.
  virtual absl::Status Restore(const std::vector<RecordedMatch>& records) = 0;
};

/// One entry of the node's audit log as the store keeps it: its sequence number, its hash and
/// its serialised line (the format, the hashes and the chain are the audit layer's,
/// accord/audit/log.h; the store only keeps lines in order and serialises their appenders).
struct AuditRow {
  uint64_t seq = 0;
  std::string hash;
  std::string line;
};

/// The audit log kept in the store (issue 17), where several processes on several machines
/// (frontends, workers, the CLI) are one node and so append to one chain. A backend that
/// keeps none (SQLite: one machine, whose log is the data directory's file) has no
/// Store::audit_log().
/// Thread safety: as Store; appenders in every process are serialised by the store.
class AuditStore {
 public:
  virtual ~AuditStore() = default;
  /// The rows an append adds, given the last row's seq and hash (0 and "" for an empty log).
  using MakeRows =
      std::function<absl::StatusOr<std::vector<AuditRow>>(uint64_t seq, const std::string& hash)>;
  /// Calls `make` with the last row, and appends the rows it returns, whose seqs must follow
  /// it one by one (in an empty log the first may be any seq > 0: the copy of a log purged up
  /// to a checkpoint starts after it); InvalidArgument otherwise, and nothing is appended. The
  /// rows are appended all or none, and only after the row they follow: when another process
  /// appended first, `make` is called again with the new last row, so it must build its rows
  /// from what it is given. Returns the new last seq.
  virtual absl::StatusOr<uint64_t> Append(const MakeRows& make) = 0;
  /// The last row's seq and hash (0 and "" for an empty log).
  virtual absl::StatusOr<std::pair<uint64_t, std::string>> Last() = 0;
  /// Rows with seq > `after`, in order, at most `limit` (> 0).
  virtual absl::StatusOr<std::vector<AuditRow>> Read(uint64_t after, uint64_t limit) = 0;
  /// Retention, as whole checkpoints: removes every row up to and including `seq`, in one
  /// transaction, when row `seq` has `hash` and is not the last; FailedPrecondition, with
  /// nothing removed, otherwise. Returns how many rows went.
  virtual absl::StatusOr<uint64_t> DropThrough(uint64_t seq, const std::string& hash) = 0;
};

/// One browser session of the web UI as the store keeps it (issue 17). The rules (sign-in,
/// expiry, CSRF, what a hash is of) are the web layer's (accord/web/session.h); this is storage
/// only. Neither the cookie nor the CSRF token is kept: only hashes of them.
struct SessionRow {
  std::string key;        ///< names the session: a hash of its cookie (hex, at most 128 bytes)
  std::string csrf_hash;  ///< a hash of its CSRF token (hex)
  std::string user;
  std::string key_id;  ///< the API key it was signed in with
  std::string role;    ///< the user's role at sign-in, by the HTTP layer's name
  Micros created = 0;  ///< wall clock
  Micros last_used = 0;
};

/// What SessionStore::Put removes besides writing its row.
struct SessionBounds {
  /// Rows whose last_used is before `idle_before` or whose created is before `created_before`
  /// (expired), at most SessionStore::kMaxSwept of them.
  Micros idle_before = 0;
  Micros created_before = 0;
  /// Then, beyond this many rows, the least recently used other rows (0: no bound).
  uint64_t max_rows = 0;
};

/// The web UI's browser sessions, kept in the store so that every frontend of a node knows
/// them (issue 17): a session signed in through one frontend is one on every other, and a
/// sign-out on one ends it everywhere. Single-row reads and writes by key; writes do not take
/// the store's write lock on PostgreSQL (a sign-in never waits for an import there).
/// Thread safety: as Store.
class SessionStore {
 public:
  /// The most expired rows one Put removes (PERF: bounded work per sign-in; a backlog left by
  /// a mass expiry goes over the next sign-ins).
  static constexpr uint64_t kMaxSwept = 1000;

  virtual ~SessionStore() = default;
  /// In one transaction: removes expired rows as `bounds` says, stores `row` (replacing a row
  /// of its key), then removes the least recently used other rows (by last_used, then key)
  /// beyond bounds.max_rows.
  virtual absl::Status Put(const SessionRow& row, const SessionBounds& bounds) = 0;
  /// The row of `key`; nullopt when there is none.
  virtual absl::StatusOr<std::optional<SessionRow>> Find(const std::string& key) = 0;
  /// Moves the row's last_used forward to `last_used` (never back). False when there is no row
  /// of `key`.
  virtual absl::StatusOr<bool> Touch(const std::string& key, Micros last_used) = 0;
  /// Removes the row of `key` (nothing when there is none).
  virtual absl::Status Delete(const std::string& key) = 0;
  /// Every row, expired ones not swept yet included.
  virtual absl::StatusOr<uint64_t> Count() = 0;
};

/// The value index (issue 15, docs/FORMATS.md "Correlation"): the terms an object version is
/// found by ("domain:evil.example", "ipv4:192.0.2.1", "ref:indicator--..."). The store keeps
/// one row per (term, version) and knows nothing of how terms are derived: the deriver lives
/// above it (src/correlate/) and the process installs it once (SetDefaultTermDeriver).
using TermDeriver = std::function<void(const stix::ObjectRecord&, std::vector<std::string>*)>;
void SetDefaultTermDeriver(TermDeriver deriver);
const TermDeriver& DefaultTermDeriver();
/// The same terms from the parsed object the record's JSON holds, for a caller that has it
/// (the ingest path's reader, stix::ReaderOptions::with_dom); installed beside the TermDeriver.
using DomTermDeriver = std::function<void(const stix::ObjectRecord&, const simdjson::dom::object&,
                                          std::vector<std::string>*)>;
void SetDefaultDomTermDeriver(DomTermDeriver deriver);
const DomTermDeriver& DefaultDomTermDeriver();

/// An object version that holds a term.
struct TermHit {
  std::string term;
  std::string id;
  std::string type;
  Micros modified = 0;
  bool revoked = false;
};

/// The web UI's search without a value (issue 16): filters over the latest version of each
/// object. Unset members do not filter.
struct BrowseQuery {
  /// Collections (ids or aliases): a version is found only in one of these. Required: the
  /// caller names what the searcher may read.
  std::vector<std::string> collections;
  std::vector<std::string> types;
  /// Words that must all occur in the name or description (case- and accent-insensitive,
  /// whole words; a word ending in '*' is a prefix). Anything else in it is plain text.
  std::string text;
  /// Marking-definition ids: the version lists one of them in object_marking_refs.
  std::vector<std::string> markings;
  std::optional<Micros> modified_from;   // modified >= this
  std::optional<Micros> modified_until;  // modified < this
  uint64_t limit = 50;
  /// Bounded work: at most this many versions, in storage order, are examined per call, so
  /// that no page is a slow step however rare the match; a page may then hold fewer than
  /// `limit` hits and still have `more`.
  uint64_t budget = 200000;
  std::string cursor;  // opaque, from a previous BrowsePage::next
};

/// A found version: always the object's latest (highest `modified`) in the store.
struct BrowseHit {
  std::string id;
  std::string type;
  Micros modified = 0;
  bool revoked = false;
  Micros stored = 0;  // when this node first stored it
};

struct BrowsePage {
  std::vector<BrowseHit> hits;  // newest stored first
  bool more = false;
  std::string next;    // cursor for the next page when `more`
  Micros reached = 0;  // when `more`: the search went back to versions stored at this time
};

struct Options {
  std::string dir;  // data directory (created by Open when `create`)
  /// A PostgreSQL store instead of SQLite in `dir` (issue 17): a postgresql:// URL or a
  /// libpq keyword string. Empty: SQLite.
  std::string url;
  /// Terms of every new version, written in its transaction; empty: no value index rows.
  TermDeriver derive_terms = DefaultTermDeriver();
  bool create = true;
  /// A new store gets a collection "default"; `accord store copy` opens its target without it
  /// (the source's collections come with their own ids).
  bool create_default_collection = true;
  bool read_only = false;
  /// For `accord migrate` (issue 17): open a store whose schema is older than this build
  /// writes (or, PostgreSQL, not made yet) without refusing it and without changing it, with
  /// `read_only` or not. Until Migrate() has brought it to the latest version, only Schema()
  /// and Migrate() may be called on it. A store of a newer version opens too: Schema() says
  /// so and Migrate() refuses it.
  bool allow_old_schema = false;
  /// How long a statement waits for another connection's lock before failing with
  /// Unavailable (SQLite's busy timeout).
  int busy_timeout_ms = 30000;
};

/// What a purge removes: each cut-off is an instant (0: keep forever).
struct PurgeRules {
  /// Indicators (every version) whose newest version's valid_until is before this.
  Micros indicators_expired_before = 0;
  /// Sighting versions modified before this.
  Micros sightings_before = 0;
  /// Quarantined copies received before this.
  Micros quarantine_before = 0;
  /// Match-ledger records (MatchLedger) whose event time and recording time are both before
  /// this. A record goes only once it can no longer deduplicate anything: the caller picks a
  /// cut-off older than the event stream's redelivery horizon (`accord purge`: matches_days,
  /// at least one day; docs/SCALE_OUT.md), and the recording time keeps a record of an old
  /// event that arrived late until its message, too, has aged out of the stream.
  Micros matches_before = 0;
};

/// One thing a purge removes (or would remove).
struct PurgeItem {
  std::string kind;  ///< "indicator", "sighting", "quarantine"
  std::string id;
  Micros modified = 0;
  int64_t bytes = 0;  ///< of its JSON
  int64_t qid = 0;    ///< quarantine: the entry's number
};

struct PurgeReport {
  std::vector<PurgeItem> items;
  int64_t bytes = 0;  ///< the JSON bytes removed from disk (or that would be)
  /// Match-ledger records removed (or that would be; PurgeRules::matches_before): counted, not
  /// listed in `items` (a ledger holds millions), and not in `bytes`.
  uint64_t match_records = 0;
};

/// The schema a store holds and the one this build writes (Store::Schema).
struct SchemaState {
  int64_t current = 0;   ///< recorded in the store (0: none yet: an empty database)
  int64_t latest = 0;    ///< what this build writes
  std::string location;  ///< the store's file, or its URL without a password
};

class Store {
 public:
  virtual ~Store() = default;

  /// Opens (and by default creates) the SQLite store in `options.dir`, or the PostgreSQL
  /// store at `options.url` when set.
  ///
  /// Schema versions (issue 17): a store is created at the latest version. A writing open of
  /// an older SQLite store (one machine) migrates it. PostgreSQL, whose database several
  /// frontends share, is never migrated by an open: a store of an older version is refused
  /// (FailedPrecondition, naming `accord migrate`), so that a new binary cannot change the
  /// schema under frontends that still run an older one. A store of a newer version is
  /// refused by every backend. Options::allow_old_schema opens either for Migrate().
  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options);

  /// The schema version the store holds and the one this build writes.
  virtual absl::StatusOr<SchemaState> Schema() = 0;
  /// Applies every pending migration step, in one transaction (PostgreSQL: under the lock that
  /// serialises schema creation between frontends), and returns the new state. Idempotent: a
  /// current store is left alone. FailedPrecondition on a read-only store or one of a newer
  /// version.
  virtual absl::StatusOr<SchemaState> Migrate() = 0;

  /// Starts one all-or-nothing import into `collection` (id or alias; created if missing).
  virtual absl::StatusOr<std::unique_ptr<ImportTxn>> BeginImport(const std::string& collection) = 0;
  /// Whether another writer, in this process or another, waits for the write lock that an
  /// import in progress holds: a long import then ends its chunk (ingest::Options). Thread-safe
  /// and cheap (called every 64 objects once a chunk is old enough). A backend that cannot
  /// tell says true.
  virtual bool WritersWaiting() const { return true; }
  /// Computes on the calling thread what writing `record` will need (record->prepared), so
  /// that an import's writer thread does less. Optional; thread-safe; takes no lock.
  virtual void PrepareWrite(stix::ObjectRecord* record) const { (void)record; }

  /// Versions of one object, oldest first, filtered by `versions`.
  virtual absl::StatusOr<std::vector<StoredObject>> Get(const std::string& id,
                                                        VersionSelect versions) = 0;

  /// Objects in date_added order (per collection) or storage order, paginated.
  virtual absl::StatusOr<Page> List(const Query& query) = 0;

  /// Removes an object (every version, or only those in `version_times`) from a collection.
  /// Returns how many memberships were removed.
  virtual absl::StatusOr<uint64_t> Delete(const std::string& collection, const std::string& id,
                                          const std::vector<Micros>& version_times) = 0;

  virtual absl::StatusOr<CollectionInfo> CreateCollection(const CollectionInfo& info) = 0;
  /// Every collection, cheaply (no member count: TAXII and the web UI list them per request).
  virtual absl::StatusOr<std::vector<CollectionInfo>> ListCollections() = 0;
  /// The object versions in a collection (a scan of its memberships). NotFound when absent.
  virtual absl::StatusOr<uint64_t> CountMembers(const std::string& id_or_alias) = 0;
  /// By id or alias; NotFound when absent.
  virtual absl::StatusOr<CollectionInfo> GetCollection(const std::string& id_or_alias) = 0;

  virtual absl::StatusOr<Stats> GetStats() = 0;

  /// A number that changes whenever a committed write changed a row (imports, deletes,
  /// collection changes), from any process using the store: readers use it to invalidate
  /// caches and compiled programs. A write that changes nothing (a re-import of stored
  /// versions, a delete of what is absent) leaves it alone. Cheap (one indexed read).
  virtual absl::StatusOr<uint64_t> Generation() = 0;
  /// Like Generation(), but moves only when a committed write changed an indicator's versions
  /// or memberships (an import that stores or links one, a delete or purge of one): what a
  /// compiled program of the active indicators depends on. The sightings that matchers write
  /// leave it alone, so that they do not make every matcher recompile its program (issue 17).
  /// A backend without it answers Generation().
  virtual absl::StatusOr<uint64_t> IndicatorGeneration() { return Generation(); }

  /// Small key/value settings (node identity, pull cursors, ...).
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) = 0;
  virtual absl::Status PutSetting(const std::string& key, const std::string& value) = 0;
  /// Sets `key` to `value` unless it is set already, atomically across every process on the
  /// store, and returns the value it holds afterwards: the one value that processes starting
  /// together all agree on (the node's identity, drawn by whichever matcher starts first).
  virtual absl::StatusOr<std::string> PutSettingIfAbsent(const std::string& key,
                                                         const std::string& value) {
    (void)key;
    (void)value;
    return absl::UnimplementedError("this store backend cannot set a setting once");
  }
  /// Every setting, by key.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListSettings() = 0;

  /// Users, keys and grants (owned by the store; valid while it lives).
  virtual AuthStore* auth() = 0;
  /// TAXII request statuses (owned by the store; valid while it lives).
  virtual StatusStore* statuses() = 0;
  /// The match ledger of stream workers (owned by the store; valid while it lives).
  virtual MatchLedger* matches() = 0;
  /// The content-conflict quarantine (owned by the store), or nullptr when the backend keeps
  /// none.
  virtual Quarantine* quarantine() { return nullptr; }
  /// The node's audit log when the store keeps it (owned by the store), or nullptr when the
  /// log is the data directory's file (see AuditStore).
  virtual AuditStore* audit_log() { return nullptr; }
  /// The web UI's browser sessions (owned by the store; valid while it lives). Both backends
  /// keep them; nullptr only from a store that keeps none (a test's stand-in).
  virtual SessionStore* sessions() { return nullptr; }

  /// Retention (issue 13, point 6; docs/PRIVACY.md "Retention"): removes what `rules` says has
  /// been kept long enough, from every collection, and the bytes of each removed version from
  /// disk; old match-ledger records too (counted, not listed), in the same transaction. A purge
  /// of ledger records alone leaves Generation() as it is. `dry_run`: only says what would go.
  /// Unimplemented where a backend cannot.
  virtual absl::StatusOr<PurgeReport> Purge(const PurgeRules& rules, bool dry_run) {
    (void)rules;
    (void)dry_run;
    return absl::UnimplementedError("this store backend does not purge");
  }

  /// The value index (issue 15). The versions holding each of `terms`, at most `limit` per
  /// term, in version order.
  virtual absl::StatusOr<std::vector<TermHit>> FindTerms(const std::vector<std::string>& terms,
                                                         uint64_t limit) {
    (void)terms;
    (void)limit;
    return absl::UnimplementedError("this store backend has no value index");
  }
  /// The versions holding a term in [lo, hi] (byte order), at most `limit`: a range of
  /// addresses whose terms are written so that byte order is numeric order ("ipv4n:" terms,
  /// correlate::AddressRange; InvalidArgument for other bounds).
  virtual absl::StatusOr<std::vector<TermHit>> FindTermRange(const std::string& lo,
                                                             const std::string& hi,
                                                             uint64_t limit) {
    (void)lo;
    (void)hi;
    (void)limit;
    return absl::UnimplementedError("this store backend has no value index");
  }
  /// The web UI's search without a value: see BrowseQuery.
  virtual absl::StatusOr<BrowsePage> Browse(const BrowseQuery& query) {
    (void)query;
    return absl::UnimplementedError("this store backend cannot search by filters");
  }
  /// False when versions stored before the value index or the full-text index existed are not
  /// indexed yet.
  virtual absl::StatusOr<bool> ValueIndexCurrent() { return true; }
  /// (Re)builds the value index (with the store's deriver) and the full-text index of every
  /// stored version, in one transaction; returns the versions indexed.
  virtual absl::StatusOr<uint64_t> Reindex() {
    return absl::UnimplementedError("this store backend has no value index");
  }
};

}  // namespace accord::store
