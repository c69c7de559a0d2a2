// SQLite (WAL) backend of accord::store::Store. Internal; use Store::Open.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accord/store/store.h"
#include "store/object_log.h"
#include "store/sqlite_util.h"

struct sqlite3;
struct sqlite3_stmt;

namespace accord::store::detail {

/// Fingerprint of a version's JSON bytes (objects.json_hash): equal bytes, equal fingerprints.
int64_t ContentHash(std::string_view json);
/// The 64-bit key under which an object id is indexed (objects.idh); equal ids, equal keys.
int64_t IdHash(std::string_view id);
/// The 64-bit key under which a value-index term is kept (value_keys.key). "ipv4n:<8 hex
/// digits>" is the address itself plus 2^32, so that a CIDR is one key range; every other
/// term is a SipHash-2-4 of its text with the top bit set (a negative key).
int64_t TermKey(std::string_view term);
/// The value-index keys of `r`: TermKey of each term `derive` gives (or of r.index_terms when
/// the reader derived them already), sorted, each once; none without a deriver. Both backends
/// index these.
void TermKeysOf(const TermDeriver& derive, const stix::ObjectRecord& r, std::vector<int64_t>* keys);
/// For a key of an "ipv4n:" term (TermKey), that term; "" for any other key.
std::string RangeTermOfKey(int64_t key);
/// The last instant of the match-ledger bucket [bucket, bucket + len), len > 0: exact, also
/// where bucket + len would overflow (then INT64_MAX). Both backends tally by it.
int64_t BucketLast(int64_t bucket, int64_t len);
/// MatchLedger::Restore's check of its input, on both backends: InvalidArgument naming the
/// first record whose recording time is not > 0.
absl::Status CheckRestorable(const std::vector<RecordedMatch>& records);

// A connection and its prepared statements, keyed by SQL text (PERF: preparing List's query
// cost more than running it for a 100-object TAXII page). Used by one thread at a time.
struct Conn {
  // Statements are destroyed before the connection closes.
  std::unordered_map<std::string, Stmt> stmts;
  Db db;
  ~Conn() { stmts.clear(); }
  sqlite3* get() const { return db.get(); }
};

// A statement borrowed from a Conn's cache (or owned, when the cache is full); reset and
// unbound when it goes out of scope.
class StmtRef {
 public:
  StmtRef(sqlite3_stmt* s, Stmt owned) : s_(s), owned_(std::move(owned)) {}
  StmtRef(StmtRef&& o) noexcept : s_(o.s_), owned_(std::move(o.owned_)) { o.s_ = nullptr; }
  StmtRef& operator=(StmtRef&& o) noexcept {
    if (this != &o) {
      Release();
      s_ = o.s_;
      owned_ = std::move(o.owned_);
      o.s_ = nullptr;
    }
    return *this;
  }
  ~StmtRef() { Release(); }
  sqlite3_stmt* get() const { return s_; }

 private:
  void Release();
  sqlite3_stmt* s_;
  Stmt owned_;
};

/// A statement from `c`'s cache, prepared on first use.
absl::StatusOr<StmtRef> Cached(Conn* c, const std::string& sql);

class SqliteAuthStore;
class SqliteStatusStore;
class SqliteStore;

// The store's in-process write lock (a Lockable for std::unique_lock and std::lock_guard),
// which counts the threads waiting for it: SqliteStore::WritersWaiting.
class WriteMutex {
 public:
  void lock() {
    if (mu_.try_lock()) return;
    waiting_.fetch_add(1, std::memory_order_relaxed);
    mu_.lock();
    waiting_.fetch_sub(1, std::memory_order_relaxed);
  }
  bool try_lock() { return mu_.try_lock(); }
  void unlock() { mu_.unlock(); }
  bool AnyoneWaiting() const { return waiting_.load(std::memory_order_relaxed) > 0; }

 private:
  std::mutex mu_;
  std::atomic<int> waiting_{0};
};

// An open file descriptor, closed with its owner (-1: none).
struct OwnedFd {
  int fd = -1;
  OwnedFd() = default;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
};

// The argument of SQLite's busy handler (BusyWait) on a connection: how long to retry, and
// where a writer marks that it waits (MarkWaiting; -1 on read connections, which wait for
// no writer).
struct BusyArg {
  int timeout_ms = 0;
  int wait_fd = -1;
};

// The web UI's browser sessions in accord.db (table web_sessions; sqlite_sessions.cc).
class SqliteSessionStore final : public SessionStore {
 public:
  explicit SqliteSessionStore(SqliteStore* store) : store_(store) {}
  absl::Status Put(const SessionRow& row, const SessionBounds& bounds) override;
  absl::StatusOr<std::optional<SessionRow>> Find(const std::string& key) override;
  absl::StatusOr<bool> Touch(const std::string& key, Micros last_used) override;
  absl::Status Delete(const std::string& key) override;
  absl::StatusOr<uint64_t> Count() override;

 private:
  SqliteStore* store_;
};

// The match ledger in accord.db (tables match_records and match_clock; sqlite_store.cc).
class SqliteMatchLedger final : public MatchLedger {
 public:
  explicit SqliteMatchLedger(SqliteStore* store) : store_(store) {}
  absl::StatusOr<std::vector<size_t>> Record(const std::vector<MatchRecord>& records) override;
  absl::StatusOr<std::vector<MatchTally>> Tally(
      Micros bucket_len, const std::vector<std::pair<std::string, Micros>>& keys) override;
  absl::StatusOr<uint64_t> Count() override;
  absl::StatusOr<std::vector<RecordedMatch>> Scan(const RecordedMatch* after,
                                                  uint64_t limit) override;
  absl::Status Restore(const std::vector<RecordedMatch>& records) override;

 private:
  SqliteStore* store_;
};

// Schema of the auth and status tables (sqlite_auth.cc, sqlite_status.cc), part of the
// store's schema (CREATE ... IF NOT EXISTS; run by SqliteStore::ApplySchema).
extern const char* const kAuthSchema;
extern const char* const kStatusSchema;
extern const char* const kQuarantineSchema;  // sqlite_quarantine.cc
extern const char* const kSessionSchema;     // sqlite_sessions.cc

// Copies the users, keys and grants of a pre-schema-3 node's `<dir>/auth.db` into the
// store (one transaction on `db`, the writer connection, whose caller holds the write lock)
// and renames that file to auth.db.migrated. Nothing to do when there is no auth.db.
absl::Status MigrateLegacyAuthDb(sqlite3* db, const std::string& dir);

class SqliteStore final : public Store, public Quarantine {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenAt(const Options& options);

  absl::StatusOr<std::unique_ptr<ImportTxn>> BeginImport(const std::string& collection) override;
  bool WritersWaiting() const override;
  void PrepareWrite(stix::ObjectRecord* record) const override;
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
  AuthStore* auth() override;
  StatusStore* statuses() override;
  MatchLedger* matches() override { return &matches_; }
  Quarantine* quarantine() override { return this; }
  SessionStore* sessions() override { return &sessions_; }
  absl::StatusOr<SchemaState> Schema() override;
  absl::StatusOr<SchemaState> Migrate() override;
  absl::StatusOr<PurgeReport> Purge(const PurgeRules& rules, bool dry_run) override;
  absl::StatusOr<std::vector<TermHit>> FindTerms(const std::vector<std::string>& terms,
                                                 uint64_t limit) override;
  absl::StatusOr<std::vector<TermHit>> FindTermRange(const std::string& lo, const std::string& hi,
                                                     uint64_t limit) override;
  absl::StatusOr<bool> ValueIndexCurrent() override;
  absl::StatusOr<uint64_t> Reindex() override;
  absl::StatusOr<BrowsePage> Browse(const BrowseQuery& query) override;
  // Value-index rows of new versions, gathered by IndexVersion and written by FlushTerms in
  // key order (PERF: B-tree inserts in key order touch the pages the previous insert touched;
  // in the order objects arrive each term lands on a random page of a large index).
  struct TermRows {
    std::vector<std::pair<int64_t, int64_t>> terms;  // (key, vid)
    RowFeed feed{2};                                 // FlushTerms: a view of `terms`
    bool Full() const { return terms.size() >= kMaxTermRows; }
  };
  static constexpr size_t kMaxTermRows = 1 << 16;
  // A version's value-index keys and full-text row (empty: none), derived from the record:
  // the one derivation behind PrepareWrite, IndexVersion and DeleteTerms.
  void IndexRowsOf(const stix::ObjectRecord& r, std::vector<int64_t>* keys,
                   std::string* text) const;
  // REQUIRES: `c` is the writer, in a write transaction. Empties `rows`.
  absl::Status FlushTerms(Conn* c, TermRows* rows);
  // Indexes new version `vid`: its full-text row at once, its value keys into `rows` (written
  // by FlushTerms), from r.prepared when the record has it. REQUIRES: as FlushTerms.
  absl::Status IndexVersion(Conn* c, int64_t vid, const stix::ObjectRecord& r, TermRows* rows);
  // Runs `sql` (?1 vid, ?2 the indexed text) for `text`; nothing for an empty one.
  absl::Status TextRow(Conn* c, const char* sql, int64_t vid, std::string_view text);
  // Scratch of IndexVersion and DeleteTerms, on the writer (write_mu_).
  std::vector<int64_t> key_buf_;
  std::string text_buf_;
  // Removes version `vid`, whose JSON is `json`, from the value index and the full-text index:
  // its terms and fields are derived again (there is no index by vid: it doubled the cost of
  // indexing; the full-text index keeps no copy of the text). REQUIRES: as FlushTerms.
  absl::Status DeleteTerms(Conn* c, int64_t vid, std::string_view type, std::string_view json);
  ~SqliteStore() override;

  // Quarantine (sqlite_quarantine.cc).
  absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine(uint64_t limit) override;
  absl::StatusOr<QuarantineEntry> GetQuarantined(int64_t qid) override;
  absl::Status DropQuarantined(int64_t qid) override;
  absl::Status ReleaseQuarantined(int64_t qid, Winner winner) override;
  absl::Status Hold(const std::string& collection, std::string_view id, Micros modified,
                    std::string_view writer, std::string_view reason,
                    std::string_view json) override;

  // A read connection borrowed from the pool, returned on destruction.
  class Reader {
   public:
    explicit Reader(SqliteStore* s) : s_(s) {}
    ~Reader() {
      if (db_) s_->Return(std::move(db_));
    }
    absl::Status Open() {
      ACCORD_ASSIGN_OR_RETURN(db_, s_->Borrow());
      return absl::OkStatus();
    }
    sqlite3* get() const { return db_->get(); }
    Conn* conn() const { return db_.get(); }

   private:
    SqliteStore* s_;
    std::unique_ptr<Conn> db_;
  };

  // For the auth, status and session parts (same file, same locks): the writer connection, which is
  // used only while holding write_mu().
  WriteMutex& write_mu() { return write_mu_; }
  Conn* writer() { return writer_.get(); }
  // FailedPrecondition on a read-only store.
  absl::Status CheckWritable() const;
  // SQLite virtual-machine steps of the latest List (all threads): a plan's cost, which tests
  // bound where a bad plan would walk a whole collection.
  uint64_t last_list_vm_steps() const { return last_list_vm_steps_.load(); }

 private:
  friend class SqliteImportTxn;
  explicit SqliteStore(Options options);
  absl::StatusOr<std::unique_ptr<Conn>> Connect(bool write);
  // Creates or migrates the schema (one transaction).
  absl::Status ApplySchema();
  // What a writing open does to the store: ApplySchema, then trims the object log's tail,
  // moves a legacy auth.db in, and makes the default collection.
  absl::Status FinishWriteOpen();
  absl::StatusOr<int64_t> SchemaVersion();
  absl::Status Migrate1To2();
  absl::StatusOr<std::unique_ptr<Conn>> Borrow();
  void Return(std::unique_ptr<Conn> c);
  // REQUIRES: caller holds the connection `c`.
  absl::StatusOr<int64_t> CollectionRowId(Conn* c, const std::string& id_or_alias, bool create);
  // Keeps a refused conflicting copy (sqlite_quarantine.cc). REQUIRES: `c` is the writer, in
  // a write transaction. The same copy for the same collection is kept once; beyond
  // Quarantine::kMaxEntries nothing is kept.
  absl::Status QuarantineCopy(Conn* c, std::string_view id, int64_t idh, int64_t modified,
                              int64_t cid, std::string_view writer, std::string_view json,
                              int64_t json_hash, std::string_view reason = {});

  Options options_;
  std::string path_;
  // accord.db-writers, where writers of other processes mark that they wait (MarkWaiting);
  // -1 when read-only or when it could not be opened. Declared before the connections, so
  // closed after them.
  OwnedFd wait_file_;
  BusyArg busy_read_, busy_write_;  // the busy handler's argument for each kind of connection
  WriteMutex write_mu_;  // one writer at a time within the process; SQLite locks across processes
  std::unique_ptr<Conn> writer_;
  std::unique_ptr<ObjectLog> log_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> pool_;
  std::unique_ptr<SqliteAuthStore> auth_;
  std::unique_ptr<SqliteStatusStore> statuses_;
  SqliteMatchLedger matches_{this};
  SqliteSessionStore sessions_{this};
  std::atomic<uint64_t> last_list_vm_steps_{0};
  // Opened for writing with Options::allow_old_schema: FinishWriteOpen is Migrate()'s to do.
  bool open_pending_ = false;  // under write_mu_
};

}  // namespace accord::store::detail
