// PostgreSQL backend of accord::store::Store (issue 17): several `accord serve` frontends on
// one database see one node. Internal; use Store::Open with Options::url.
//
// What it holds so far: object versions (their JSON in the row: PostgreSQL keeps large values
// out of line in TOAST itself), collections and memberships, settings, the generation, the
// content-conflict quarantine, users, keys and grants, TAXII request statuses, and the value
// index (FindTerms, FindTermRange: SQLite's 64-bit keys), retention (Purge), and the stream
// workers' match ledger (MatchLedger, whose recording time is drawn under the same lock from
// match_clock, as date_added is), and the full-text index with the web UI's search without a
// value (Browse; pg_browse.cc: a tsvector per version, folded as SQLite folds), the node's
// audit log (AuditStore; pg_audit.cc), and the web UI's browser sessions (SessionStore;
// pg_sessions.cc). Agreements, peers, requests and the audit checkpoints
// are settings and objects like any other (docs/SCALE_OUT.md).
//
// Ordering across frontends: every writing transaction takes one transaction-scoped advisory
// lock first, so writes are serialised across all processes as SQLite's write lock does for
// one machine, and date_added is drawn under that lock from accord_meta.last_added. A
// transaction therefore commits every date_added it drew before any later writer draws one,
// so a reader paging by date_added (TAXII added_after and next) can never see a later value
// committed ahead of an earlier one: nothing is skipped, nothing repeated.
//
// Schema versions: an open creates the schema in an empty database and otherwise only checks
// that the store's version is the one this build writes; Migrate() (`accord migrate`) alone
// changes the schema of a store that exists, so that a new binary never changes it under
// frontends still running an older one.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accord/store/store.h"
#include "store/pg_util.h"

namespace accord::store::detail {

class PgStore;

extern const char* const kPgAuthSchema;  // pg_auth.cc

// Users, keys and grants in the PostgreSQL store (pg_auth.cc).
class PgAuthStore final : public AuthStore {
 public:
  explicit PgAuthStore(PgStore* store) : store_(store) {}
  absl::Status AddUser(const AuthUser& user) override;
  absl::StatusOr<std::vector<AuthUser>> ListUsers() override;
  absl::StatusOr<std::optional<AuthUser>> FindUser(const std::string& name) override;
  absl::StatusOr<bool> HasUsers() override;
  absl::Status SetUserRole(const std::string& name, const std::string& role) override;
  absl::Status AddKey(const AuthKey& key) override;
  absl::StatusOr<std::optional<AuthKey>> FindKey(const std::string& key_id) override;
  absl::Status RevokeKey(const std::string& key_id) override;
  absl::StatusOr<std::vector<AuthKey>> ListKeys(const std::string& user) override;
  absl::Status SetGrant(const AuthGrant& grant) override;
  absl::StatusOr<std::vector<AuthGrant>> ListGrants(const std::string& user) override;
  absl::StatusOr<uint64_t> AuthGeneration() override;

 private:
  PgStore* store_;
};

// TAXII request statuses in the PostgreSQL store (pg_auth.cc).
class PgStatusStore final : public StatusStore {
 public:
  explicit PgStatusStore(PgStore* store) : store_(store) {}
  absl::Status PutStatus(const RequestStatus& status, Micros purge_before) override;
  absl::StatusOr<std::optional<RequestStatus>> GetStatus(const std::string& id,
                                                         Micros not_before) override;

 private:
  PgStore* store_;
};

// The match ledger in the PostgreSQL store (pg_store.cc).
class PgMatchLedger final : public MatchLedger {
 public:
  explicit PgMatchLedger(PgStore* store) : store_(store) {}
  absl::StatusOr<std::vector<size_t>> Record(const std::vector<MatchRecord>& records) override;
  absl::StatusOr<std::vector<MatchTally>> Tally(
      Micros bucket_len, const std::vector<std::pair<std::string, Micros>>& keys) override;
  absl::StatusOr<uint64_t> Count() override;
  absl::StatusOr<std::vector<RecordedMatch>> Scan(const RecordedMatch* after,
                                                  uint64_t limit) override;
  absl::Status Restore(const std::vector<RecordedMatch>& records) override;

 private:
  PgStore* store_;
};

// The node's audit log in the PostgreSQL store (pg_audit.cc): one chain for every process that
// uses the database. Its table, version 4 of the schema (pg_store.cc, kPgMigrations): `line` is
// the entry as the audit layer serialised it; `hash` is repeated beside it so that the head and
// a purge's check read one short column.
// PERF: lines are compressed with lz4 where the server has it (a TAXII page's entry is ~9 KB;
// pglz took 1.5x as long per append, bench/audit/append_bench).
inline constexpr const char* kPgAuditSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_log(
  seq bigint PRIMARY KEY CHECK (seq > 0),
  hash text NOT NULL,
  line text NOT NULL);
DO $$ BEGIN
  ALTER TABLE audit_log ALTER COLUMN line SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;
)sql";
class PgAuditStore final : public AuditStore {
 public:
  explicit PgAuditStore(PgStore* store) : store_(store) {}
  absl::StatusOr<uint64_t> Append(const MakeRows& make) override;
  absl::StatusOr<std::pair<uint64_t, std::string>> Last() override;
  absl::StatusOr<std::vector<AuditRow>> Read(uint64_t after, uint64_t limit) override;
  absl::StatusOr<uint64_t> DropThrough(uint64_t seq, const std::string& hash) override;

 private:
  PgStore* store_;
  // Appends go through a connection of their own (synchronous_commit off for its session,
  // pg_audit.cc), one at a time in the process, with the head this process wrote last.
  std::mutex mu_;
  std::unique_ptr<PgConn> conn_;
  bool head_known_ = false;
  uint64_t head_seq_ = 0;
  std::string head_hash_;
};

// The web UI's browser sessions in the PostgreSQL store (pg_sessions.cc), so that every frontend
// knows every session. Its table, version 5 of the schema (pg_store.cc, kPgMigrations), is
// SQLite's (sqlite_sessions.cc).
inline constexpr const char* kPgSessionSchema = R"sql(
CREATE TABLE IF NOT EXISTS web_sessions(
  key text PRIMARY KEY,
  csrf_hash text NOT NULL,
  "user" text NOT NULL,
  key_id text NOT NULL,
  role text NOT NULL,
  created bigint NOT NULL,
  last_used bigint NOT NULL);
CREATE INDEX IF NOT EXISTS web_sessions_last_used ON web_sessions(last_used);
CREATE INDEX IF NOT EXISTS web_sessions_created ON web_sessions(created);
)sql";
class PgSessionStore final : public SessionStore {
 public:
  explicit PgSessionStore(PgStore* store) : store_(store) {}
  absl::Status Put(const SessionRow& row, const SessionBounds& bounds) override;
  absl::StatusOr<std::optional<SessionRow>> Find(const std::string& key) override;
  absl::StatusOr<bool> Touch(const std::string& key, Micros last_used) override;
  absl::Status Delete(const std::string& key) override;
  absl::StatusOr<uint64_t> Count() override;

 private:
  PgStore* store_;
};

// The lexemes object_text holds of a version (pg_browse.cc): the folded words of its name and
// description (FoldWords) and its markings' lexemes, distinct, sorted, space-separated; "" when
// it has none (no row).
absl::Status PgTextOf(const stix::ObjectRecord& r, std::string* out);

// Rows of the value index (value_keys) and of the full-text index (object_text) for versions
// being written, an import's batch or Reindex's, sent in one statement per table
// (pg_browse.cc). Not thread-safe.
class PgIndexRows {
 public:
  // `keys`: the version's value-index keys (TermKeysOf); `text`: PgTextOf's.
  void Add(int64_t vid, const std::vector<int64_t>& keys, const std::string& text);
  // Writes the rows added, and forgets them. REQUIRES: `c` is in a WriteTxn.
  absl::Status Write(PgConn* c);

 private:
  PgArray keys_, key_vids_, text_vids_, texts_;
};

class PgStore final : public Store, public Quarantine {
 public:
  static absl::StatusOr<std::unique_ptr<PgStore>> OpenAt(const Options& options);
  ~PgStore() override;

  absl::StatusOr<std::unique_ptr<ImportTxn>> BeginImport(const std::string& collection) override;
  void PrepareWrite(stix::ObjectRecord* record) const override;
  absl::StatusOr<std::vector<TermHit>> FindTerms(const std::vector<std::string>& terms,
                                                 uint64_t limit) override;
  absl::StatusOr<std::vector<TermHit>> FindTermRange(const std::string& lo, const std::string& hi,
                                                     uint64_t limit) override;
  absl::StatusOr<PurgeReport> Purge(const PurgeRules& rules, bool dry_run) override;
  absl::StatusOr<BrowsePage> Browse(const BrowseQuery& query) override;  // pg_browse.cc
  absl::StatusOr<bool> ValueIndexCurrent() override;                     // pg_browse.cc
  absl::StatusOr<uint64_t> Reindex() override;                           // pg_browse.cc
  absl::StatusOr<std::vector<StoredObject>> Get(const std::string& id,
                                                VersionSelect versions) override;
  absl::StatusOr<Page> List(const Query& query) override;
  absl::StatusOr<uint64_t> Delete(const std::string& collection, const std::string& id,
                                  const std::vector<Micros>& version_times) override;
  absl::StatusOr<CollectionInfo> CreateCollection(const CollectionInfo& info) override;
  absl::StatusOr<std::vector<CollectionInfo>> ListCollections() override;
  absl::StatusOr<uint64_t> CountMembers(const std::string& id_or_alias) override;
  absl::StatusOr<CollectionInfo> GetCollection(const std::string& id_or_alias) override;
  absl::StatusOr<Stats> GetStats() override;
  absl::StatusOr<uint64_t> Generation() override;
  absl::StatusOr<uint64_t> IndicatorGeneration() override;
  absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) override;
  absl::Status PutSetting(const std::string& key, const std::string& value) override;
  absl::StatusOr<std::string> PutSettingIfAbsent(const std::string& key,
                                                 const std::string& value) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListSettings() override;
  AuthStore* auth() override { return &auth_; }
  StatusStore* statuses() override { return &statuses_; }
  MatchLedger* matches() override { return &matches_; }
  Quarantine* quarantine() override { return this; }
  AuditStore* audit_log() override { return &audit_; }
  SessionStore* sessions() override { return &sessions_; }
  absl::StatusOr<SchemaState> Schema() override;
  absl::StatusOr<SchemaState> Migrate() override;

  absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine(uint64_t limit) override;
  absl::StatusOr<QuarantineEntry> GetQuarantined(int64_t qid) override;
  absl::Status DropQuarantined(int64_t qid) override;
  absl::Status ReleaseQuarantined(int64_t qid, Winner winner) override;
  absl::Status Hold(const std::string& collection, std::string_view id, Micros modified,
                    std::string_view writer, std::string_view reason,
                    std::string_view json) override;

  // A connection borrowed from the pool for one thread's work, returned on destruction (a
  // broken one is dropped).
  class Lease {
   public:
    explicit Lease(PgStore* s) : s_(s) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    absl::Status Open();
    PgConn* operator->() const { return c_.get(); }
    PgConn* get() const { return c_.get(); }

   private:
    PgStore* s_;
    std::unique_ptr<PgConn> c_;
  };

  // A write transaction on a leased connection: the in-process writer mutex, BEGIN, and the
  // store-wide advisory lock; rolled back unless committed.
  class WriteTxn {
   public:
    explicit WriteTxn(PgStore* s) : s_(s), lease_(s) {}
    ~WriteTxn();
    WriteTxn(const WriteTxn&) = delete;
    WriteTxn& operator=(const WriteTxn&) = delete;
    absl::Status Begin();
    absl::Status Commit();
    PgConn* conn() const { return lease_.get(); }

   private:
    PgStore* s_;
    std::unique_lock<std::mutex> lock_;
    Lease lease_;
    bool open_ = false;
  };

  // FailedPrecondition on a read-only store (for writers that take no WriteTxn).
  absl::Status CheckWritable() const;
  // What derives a version's value-index terms (Options::derive_terms).
  const TermDeriver& deriver() const { return options_.derive_terms; }
  // The store's URL (a connection of one's own: PgAuditStore).
  const std::string& url() const { return options_.url; }
  // The row id of a collection by id or alias; created (by a caller in a WriteTxn) when
  // `create`.
  absl::StatusOr<int64_t> CollectionRowId(PgConn* c, const std::string& id_or_alias, bool create);
  // Keeps a refused copy (REQUIRES: `c` is in a WriteTxn); bounded by kMaxEntries. False
  // when nothing was kept (the same copy is held already, or the quarantine is full).
  absl::StatusOr<bool> QuarantineCopy(PgConn* c, std::string_view id, Micros modified, int64_t cid,
                                      std::string_view writer, std::string_view json,
                                      int64_t json_hash, std::string_view reason);

 private:
  explicit PgStore(Options options);
  // Creates the schema in an empty database, or checks that the store's is the latest
  // (pg_store.cc: an open never migrates one), and makes the default collection.
  absl::Status ApplySchema();

  Options options_;
  std::string location_;  // options_.url without its password, for messages
  std::mutex write_mu_;   // one writer at a time within the process; the advisory lock across
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<PgConn>> pool_;
  PgAuthStore auth_{this};
  PgStatusStore statuses_{this};
  PgMatchLedger matches_{this};
  PgAuditStore audit_{this};
  PgSessionStore sessions_{this};
};

}  // namespace accord::store::detail
