#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <variant>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "store/pg_store.h"
#include "store/sqlite_auth.h"
#include "store/sqlite_status.h"
#include "store/sqlite_vfs.h"
#include "store/store_common.h"

namespace accord::store {

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options) {
  if (!options.url.empty()) {
    ACCORD_ASSIGN_OR_RETURN(auto pg, detail::PgStore::OpenAt(options));
    return std::unique_ptr<Store>(std::move(pg));
  }
  ACCORD_ASSIGN_OR_RETURN(auto s, detail::SqliteStore::OpenAt(options));
  return std::unique_ptr<Store>(std::move(s));
}

namespace detail {

void StmtRef::Release() {
  if (s_ != nullptr && !owned_) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  s_ = nullptr;
  owned_.reset();
}

int64_t ContentHash(std::string_view json) {
  // PERF: XXH3 (libxxhash): SipHash over every object's JSON cost the writer thread ~10%.
  return static_cast<int64_t>(XXH3_64bits(json.data(), json.size()));
}

namespace {
// SipHash-2-4 (libsodium) of `data` under `key`, as 64 bits.
uint64_t SipHash64(std::string_view data, const unsigned char (&key)[crypto_shorthash_KEYBYTES]) {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(data.data()), data.size(), key);
  uint64_t h;
  std::memcpy(&h, out, sizeof h);
  return h;
}
// TermKey of "ipv4n:<8 hex digits>": the address plus this; hashed keys are negative.
constexpr int64_t kIpv4nKeyBase = int64_t{1} << 32;
}  // namespace

int64_t IdHash(std::string_view id) {
  // SipHash-2-4 under a fixed key: stable across processes and backends. The key being public
  // only lets someone craft ids that collide, which costs lookups a row read each.
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {
      'a', 'c', 'c', 'o', 'r', 'd', '.', 'i', 'd', 'h', '.', 'v', '1', 0, 0, 0};
  return static_cast<int64_t>(SipHash64(id, kKey));
}

void TermKeysOf(const TermDeriver& derive, const stix::ObjectRecord& r,
                std::vector<int64_t>* keys) {
  keys->clear();
  if (!derive) return;
  std::vector<std::string> derived;
  if (!r.terms_derived) derive(r, &derived);
  const std::vector<std::string>& terms = r.terms_derived ? r.index_terms : derived;
  keys->reserve(terms.size());
  for (const auto& t : terms) keys->push_back(TermKey(t));
  // Each key once, whatever the deriver gave (correlate::DeriveTermsUnsorted repeats terms).
  std::sort(keys->begin(), keys->end());
  keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
}

std::string RangeTermOfKey(int64_t key) {
  if (key < kIpv4nKeyBase || key - kIpv4nKeyBase > int64_t{0xffffffff}) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(key - kIpv4nKeyBase));
  return common::Cat("ipv4n:", buf);
}

int64_t TermKey(std::string_view term) {
  // PERF (issue 11): the value index's rows were (term text, vid): 61 MB for 1.5M terms, a
  // B-tree that outgrew the page cache next to objects_key, so that every chunk of an import
  // re-read and re-wrote most of it (1M indicators: 15-16 s -> 11-12 s with 64-bit keys).
  // A key stands for its term: two terms collide with probability ~n^2/2^64 over a store's n
  // distinct terms (a collision would list a version under a value it does not hold; the gate
  // still decides what a caller sees). SipHash keeps that chance for crafted values too: a
  // partner who wanted its object listed under a given value would need a second preimage.
  constexpr std::string_view kIpv4n = "ipv4n:";
  if (term.size() == kIpv4n.size() + 8 && term.substr(0, kIpv4n.size()) == kIpv4n) {
    uint64_t a = 0;
    bool hex = true;
    for (char c : term.substr(kIpv4n.size())) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) hex = false;
      a = (a << 4) | static_cast<uint64_t>(d < 0 ? 0 : d);
    }
    if (hex) return kIpv4nKeyBase + static_cast<int64_t>(a);
  }
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {
      'a', 'c', 'c', 'o', 'r', 'd', '.', 't', 'e', 'r', 'm', '.', 'v', '1', 0, 0};
  return static_cast<int64_t>(SipHash64(term, kKey) | (uint64_t{1} << 63));
}

namespace {

// Schema version 6 (5 with the role `user` renamed `analyst`, issue 13: a data migration, the
// tables are unchanged; 5 was 4 + quarantine.reason, for received versions held back by
// federation's checks; 4 was 3 + the content-conflict quarantine, sqlite_quarantine.cc; 3 was 2 +
// users, keys, grants and request statuses: sqlite_auth.cc, sqlite_status.cc). An older store gains
// the new tables on its first write-open (they are all CREATE ... IF NOT EXISTS), and a
// node's old <data>/auth.db is copied in then. Object versions are immutable rows keyed by
// (id, modified) (../shared/DESIGN.md); membership rows carry the per-collection date_added, which
// is unique and strictly increasing across the store, so it doubles as the pagination cursor. The
// JSON of each version lives in the object log (object_log.h); rows hold its offset and length
// there, and object_log.end is the log's committed end. PERF: the (id, modified) key is indexed as
// (idh, modified), idh being a 64-bit hash of the id (IdHash); every lookup also compares id
// itself, so a hash collision costs a row read, never a wrong answer. Indexing the text ids (random
// UUIDs behind a shared "indicator--" prefix) made the index 3x larger and every insert a string
// comparison chain: 1M-indicator import 57k -> 77k objects/s (docs/PERFORMANCE.md).
// 7: value_terms (issue 15); 8: without its index by vid; 9: object_text, the full-text index
// (issue 16); 10: value_keys instead of value_terms (TermKey: 64-bit keys, not the terms' text);
// 11: match_records and match_clock, the stream workers' match ledger (issue 17, kMatchSchema);
// 12: web_sessions, the web UI's browser sessions (issue 17, kSessionSchema, sqlite_sessions.cc).
constexpr int kSchemaVersion = 13;
constexpr const char* kObjectsColumns = R"sql((
  vid INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  idh INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  type TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  has_modified INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  valid_from INTEGER,
  valid_until INTEGER,
  first_added INTEGER NOT NULL,
  log_off INTEGER NOT NULL,
  log_len INTEGER NOT NULL,
  json_hash INTEGER NOT NULL))sql";
constexpr const char* kSchemaRest = R"sql(
CREATE INDEX IF NOT EXISTS objects_key ON objects(idh, modified);
CREATE INDEX IF NOT EXISTS objects_type ON objects(type);
CREATE INDEX IF NOT EXISTS objects_revoked ON objects(idh) WHERE revoked = 1;
CREATE TABLE IF NOT EXISTS collections(
  cid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  alias TEXT UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  is_public INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS membership(
  cid INTEGER NOT NULL,
  date_added INTEGER NOT NULL,
  vid INTEGER NOT NULL,
  PRIMARY KEY(cid, date_added)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS membership_vid ON membership(vid, cid);
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO generation(one, n) VALUES(1, 0);
CREATE TABLE IF NOT EXISTS indicator_generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO indicator_generation(one, n) VALUES(1, 0);
CREATE TABLE IF NOT EXISTS clock(one INTEGER PRIMARY KEY CHECK (one = 1), last_added INTEGER NOT NULL);
INSERT OR IGNORE INTO clock(one, last_added) SELECT 1, coalesce(max(date_added), 0) FROM membership;
CREATE TABLE IF NOT EXISTS object_log(one INTEGER PRIMARY KEY CHECK (one = 1), end INTEGER NOT NULL);
INSERT OR IGNORE INTO object_log(one, end) VALUES(1, 0);
CREATE TABLE IF NOT EXISTS value_keys(
  key INTEGER NOT NULL,
  vid INTEGER NOT NULL,
  PRIMARY KEY(key, vid)) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS object_text USING fts5(text, content='', detail=none,
  columnsize=0, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS object_text_vocab USING fts5vocab(object_text, 'row');
)sql";
// The match ledger (MatchLedger): one row per (event, indicator), `time` the event's and
// `recorded` when it was recorded (one value per Record call, strictly increasing across the
// store: match_clock holds the last one drawn, as clock does for date_added). PERF: Tally reads
// only the index by (indicator, time), which carries `recorded` so that no row is looked up.
constexpr const char* kMatchSchema = R"sql(
CREATE TABLE IF NOT EXISTS match_records(
  event TEXT NOT NULL,
  indicator TEXT NOT NULL,
  time INTEGER NOT NULL,
  recorded INTEGER NOT NULL,
  PRIMARY KEY(event, indicator)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS match_records_indicator ON match_records(indicator, time, recorded);
CREATE TABLE IF NOT EXISTS match_clock(one INTEGER PRIMARY KEY CHECK (one = 1), last_recorded INTEGER NOT NULL);
INSERT OR IGNORE INTO match_clock(one, last_recorded) SELECT 1, coalesce(max(recorded), 0) FROM match_records;
)sql";
// object_text: rowid is the version's vid; `text` its name, description and marking tokens
// (IndexedText). Contentless (the text is in the object log), so a row is removed by giving its
// text again (DeleteTerms derives it from the JSON). PERF: no positions, no column sizes
// (detail=none, columnsize=0): words are matched, not phrases or columns, and each version
// costs ~1.9 us to index instead of 2.9 us with columns (measured in Python's sqlite3 on
// 300,000 rows like bench/ui's); the index of a 300 MB bundle of long descriptions stays small
// (tests/hostile/big_bundle_test.cc).

// Schema 1 -> 2: objects are rebuilt with idh, their JSON moved to the object log (in the
// caller's transaction; see SqliteStore::ApplySchema).
constexpr const char* kMigrate1To2Finish = R"sql(
DROP TABLE objects;
ALTER TABLE objects_v2 RENAME TO objects;
)sql";

// SQL function accord_idh(text) -> IdHash, for migrations and ad-hoc queries.
void IdHashFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const unsigned char* p = sqlite3_value_text(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  std::string_view v(p ? reinterpret_cast<const char*>(p) : "", static_cast<size_t>(n));
  sqlite3_result_int64(ctx, IdHash(v));
}

constexpr size_t kMaxCachedStatements = 128;

}  // namespace

absl::StatusOr<StmtRef> Cached(Conn* c, const std::string& sql) {
  auto it = c->stmts.find(sql);
  if (it != c->stmts.end()) return StmtRef(it->second.get(), nullptr);
  ACCORD_ASSIGN_OR_RETURN(Stmt fresh, Prepare(c->get(), sql));
  if (c->stmts.size() >= kMaxCachedStatements) return StmtRef(fresh.get(), std::move(fresh));
  sqlite3_stmt* raw = fresh.get();
  c->stmts.emplace(sql, std::move(fresh));
  return StmtRef(raw, nullptr);
}

namespace {

constexpr const char* kBumpGeneration = "UPDATE generation SET n = n + 1 WHERE one = 1";
// With kBumpGeneration, when the write changed an indicator (IndicatorGeneration, schema 13).
constexpr const char* kBumpIndicatorGeneration =
    "UPDATE indicator_generation SET n = n + 1 WHERE one = 1";

// Sets the value of a one-row table (clock, object_log): `sql` is "UPDATE t SET c = ?1 ...".
absl::Status SetOneRow(Conn* c, const char* sql, int64_t value) {
  ACCORD_ASSIGN_OR_RETURN(StmtRef up, Cached(c, sql));
  ACCORD_RETURN_IF_ERROR(BindInt(up.get(), 1, value));
  return StepDone(up.get(), sql);
}
constexpr const char* kSetLogEnd = "UPDATE object_log SET end = ?1 WHERE one = 1";
constexpr const char* kSetLastAdded = "UPDATE clock SET last_added = ?1 WHERE one = 1";
constexpr const char* kSetLastRecorded = "UPDATE match_clock SET last_recorded = ?1 WHERE one = 1";

}  // namespace

namespace {

// SQLite's busy handler: retries every millisecond until `*timeout_ms` passed. SQLite's own
// (sqlite3_busy_timeout) backs off to 100 ms sleeps, and so nearly always misses the moment
// between two chunks of a long import (ingest.cc) in which the write lock is free: a TAXII POST
// then waited for the whole import. `count` is 0 on a new wait.
// A writer marks that it waits (MarkWaiting), so that a long import in another process ends its
// chunk (SqliteStore::WritersWaiting); Txn::Begin drops the mark.
int BusyWait(void* arg, int count) {
  const auto* busy = static_cast<const BusyArg*>(arg);
  thread_local std::chrono::steady_clock::time_point began;
  auto now = std::chrono::steady_clock::now();
  if (count == 0) {
    began = now;
    MarkWaiting(busy->wait_fd);
  }
  if (now - began >= std::chrono::milliseconds(busy->timeout_ms)) return 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 1;
}

}  // namespace

// Every writer-open cuts an uncommitted tail off the object log (object_log.h), so that a write
// that failed (a full disk) or was killed never leaves the space taken, nor stops a command
// from starting. The cut needs the write lock, so that the tail of another process's import in
// progress is left alone: when the lock is busy, nothing is waited for and nothing is cut
// (that writer cuts dead bytes itself when it began). Read-only opens never cut.
absl::Status TrimLogTail(sqlite3* db, ObjectLog* log, BusyArg* busy) {
  sqlite3_busy_handler(db, nullptr, nullptr);  // fail at once when the lock is busy
  int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  sqlite3_busy_handler(db, BusyWait, busy);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return absl::OkStatus();
  if (rc != SQLITE_OK) return SqlError(db, "trim the object log: begin");
  absl::Status st = [&]() -> absl::Status {
    ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db, "SELECT end FROM object_log WHERE one = 1"));
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "read the object log's end"));
    if (!row) return absl::OkStatus();  // no committed end recorded: cut nothing
    return log->TrimTail(ColInt(q.get(), 0)).status();
  }();
  int end = sqlite3_exec(db, st.ok() ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr);
  ACCORD_RETURN_IF_ERROR(st);
  if (end != SQLITE_OK) return SqlError(db, "trim the object log: commit");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Conn>> SqliteStore::Connect(bool write) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (write ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY);
  // PERF: a writing connection's database file and WAL go through the batching shim
  // (sqlite_vfs.h): its runs of page writes reach the kernel as 64 KiB writes.
  int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, write ? BatchedVfs() : nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return absl::FailedPreconditionError(common::Cat(
        path_, ": cannot open the store: ", raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  if (sqlite3_busy_handler(db.get(), BusyWait, write ? &busy_write_ : &busy_read_) != SQLITE_OK ||
      sqlite3_extended_result_codes(db.get(), 0) != SQLITE_OK) {
    return SqlError(db.get(), "configure connection");
  }
  if (sqlite3_create_function(db.get(), "accord_idh", 1,
                              SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                              IdHashFn, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db.get(), "register accord_idh");
  }
  ACCORD_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"));
  if (write) {
    ACCORD_RETURN_IF_ERROR(RegisterRowFeed(db.get()));
    // WAL + synchronous=FULL: a commit is on disk when it returns (a TAXII 202 is a promise),
    // at one fdatasync of the WAL per commit, next to the object log's; commits are grouped.
    // PERF: checkpoint every 16,384 pages (64 MiB of WAL) instead of SQLite's 1,000: the
    // random leaves of the id index that small transactions dirty again and again are copied
    // once per checkpoint. bench/store/small_txn_bench, transactions of 1,000 at 200k/400k/600k
    // objects: 69k/42k/33k -> 91k/66k/58k objects/s (FULL costs nothing measurable there).
    // PERF: measured on 100k-indicator imports: 16 KiB pages and a 256 MiB writer cache both
    // cost more system time (page faults, larger writes) than they saved; defaults kept.
    ACCORD_RETURN_IF_ERROR(Exec(db.get(),
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                "PRAGMA wal_autocheckpoint=16384;"));
  }
  auto c = std::make_unique<Conn>();
  c->db = std::move(db);
  return c;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenAt(const Options& options) {
  ConfigureSqlite();
  std::unique_ptr<SqliteStore> s(new SqliteStore(options));
  if (options.create) ACCORD_RETURN_IF_ERROR(MakeDataDir(options.dir));
  s->path_ = (std::filesystem::path(options.dir) / "accord.db").string();
  if (!options.create && !std::filesystem::exists(s->path_)) {
    return absl::NotFoundError(
        common::Cat("no Accord store in ", options.dir, " (run 'accord init' or pass --data DIR)"));
  }
  if (!options.read_only) {
    // Owner-only files whatever the umask: SQLite would create accord.db 0644, and it gives
    // the -wal and -shm files the database file's mode. The object log is created 0600.
    int fd = ::open(s->path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::FailedPreconditionError(
          common::Cat(s->path_, ": cannot create the store: ", std::strerror(errno)));
    }
    ::close(fd);
    // Where writers mark that they wait (MarkWaiting). Without it, every long import commits
    // at the time bound, as if someone always waited (AnyoneWaiting(-1)).
    s->wait_file_.fd = ::open((s->path_ + "-writers").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  }
  s->busy_read_ = {options.busy_timeout_ms, -1};
  s->busy_write_ = {options.busy_timeout_ms, s->wait_file_.fd};
  ACCORD_ASSIGN_OR_RETURN(s->writer_, s->Connect(!options.read_only));
  ACCORD_ASSIGN_OR_RETURN(
      s->log_, ObjectLog::Open((std::filesystem::path(options.dir) / "objects.log").string(),
                               !options.read_only));
  if (options.allow_old_schema) {
    // For Schema() and Migrate(), which finishes the writing open.
    s->open_pending_ = !options.read_only;
  } else if (options.read_only) {
    ACCORD_ASSIGN_OR_RETURN(int64_t version, s->SchemaVersion());
    if (version != kSchemaVersion) {
      return absl::FailedPreconditionError(common::Cat(
          s->path_, ": store schema version ", version, ", this Accord reads ", kSchemaVersion,
          (version < kSchemaVersion ? "; run 'accord migrate' on it once" : "; upgrade accord")));
    }
  } else {
    ACCORD_RETURN_IF_ERROR(s->FinishWriteOpen());
  }
  return s;
}

absl::Status SqliteStore::FinishWriteOpen() {
  ACCORD_RETURN_IF_ERROR(ApplySchema());
  ACCORD_RETURN_IF_ERROR(TrimLogTail(writer_->get(), log_.get(), &busy_write_));
  ACCORD_RETURN_IF_ERROR(MigrateLegacyAuthDb(writer_->get(), options_.dir));
  if (options_.create_default_collection) {
    ACCORD_RETURN_IF_ERROR(CollectionRowId(writer_.get(), "default", true).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<SchemaState> SqliteStore::Schema() {
  std::lock_guard<WriteMutex> l(write_mu_);
  SchemaState st;
  ACCORD_ASSIGN_OR_RETURN(st.current, SchemaVersion());
  st.latest = kSchemaVersion;
  st.location = path_;
  return st;
}

absl::StatusOr<SchemaState> SqliteStore::Migrate() {
  ACCORD_RETURN_IF_ERROR(CheckWritable());
  {
    std::lock_guard<WriteMutex> l(write_mu_);
    // A writing open migrated the store already (ApplySchema: one transaction), unless it was
    // opened with allow_old_schema; then the open is finished here.
    if (open_pending_) {
      ACCORD_RETURN_IF_ERROR(FinishWriteOpen());
      open_pending_ = false;
    } else {
      ACCORD_RETURN_IF_ERROR(ApplySchema());
    }
  }
  return Schema();
}

SqliteStore::SqliteStore(Options options)
    : options_(std::move(options)),
      auth_(std::make_unique<SqliteAuthStore>(this)),
      statuses_(std::make_unique<SqliteStatusStore>(this)) {}

SqliteStore::~SqliteStore() = default;

OwnedFd::~OwnedFd() {
  if (fd >= 0) ::close(fd);
}

bool SqliteStore::WritersWaiting() const {
  return write_mu_.AnyoneWaiting() || AnyoneWaiting(wait_file_.fd);
}

AuthStore* SqliteStore::auth() { return auth_.get(); }
StatusStore* SqliteStore::statuses() { return statuses_.get(); }

absl::Status SqliteStore::CheckWritable() const {
  if (options_.read_only) return absl::FailedPreconditionError("store opened read-only");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteStore::SchemaVersion() {
  sqlite3* db = writer_->get();
  ACCORD_ASSIGN_OR_RETURN(Stmt v, Prepare(db, "PRAGMA user_version"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(v.get(), "read schema version"));
  if (!row) return absl::InternalError("read schema version: no result");
  return ColInt(v.get(), 0);
}

absl::Status SqliteStore::ApplySchema() {
  // PERF: a current store needs nothing: no write transaction on every command's start-up
  // (a read would otherwise wait behind a running import for the write lock).
  ACCORD_ASSIGN_OR_RETURN(int64_t current, SchemaVersion());
  if (current == kSchemaVersion) return absl::OkStatus();
  sqlite3* db = writer_->get();
  Txn t(db);
  ACCORD_RETURN_IF_ERROR(t.Begin(true));
  ACCORD_ASSIGN_OR_RETURN(int64_t version, SchemaVersion());
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(common::Cat(
        path_, ": store schema version ", version,
        " was written by a newer Accord (this one reads ", kSchemaVersion, "); upgrade accord"));
  }
  if (version == 0 || version == 1) ACCORD_RETURN_IF_ERROR(log_->Begin(0));
  if (version == 1) ACCORD_RETURN_IF_ERROR(Migrate1To2());
  if (version == 4) {
    ACCORD_RETURN_IF_ERROR(
        Exec(db, "ALTER TABLE quarantine ADD COLUMN reason TEXT NOT NULL DEFAULT '';"));
  }
  ACCORD_RETURN_IF_ERROR(
      Exec(db, common::Cat("CREATE TABLE IF NOT EXISTS objects", kObjectsColumns, ";", kSchemaRest,
                           kAuthSchema, kStatusSchema, kQuarantineSchema, kMatchSchema,
                           kSessionSchema, "PRAGMA user_version = ", kSchemaVersion, ";")));
  if (version >= 7 && version < 10) ACCORD_RETURN_IF_ERROR(Exec(db, "DROP TABLE value_terms;"));
  if (version >= 1 && version < 10) {
    // Versions stored before the value index (7), the full-text index (9) or the value index's
    // keys (10) existed: `accord related` and `accord serve` index them first (Reindex).
    ACCORD_RETURN_IF_ERROR(Exec(db,
                                "INSERT OR REPLACE INTO settings(key, value) SELECT "
                                "'value_index.stale', '1' WHERE EXISTS (SELECT 1 FROM objects);"));
  }
  if (version >= 3 && version <= 5) {
    // The role `user` (what grants give) is `analyst` from schema 6 on. Bumping the auth
    // generation drops any running server's cached credentials.
    ACCORD_RETURN_IF_ERROR(Exec(db,
                                "UPDATE users SET role = 'analyst' WHERE role = 'user';"
                                "UPDATE auth_generation SET n = n + 1 WHERE one = 1;"));
  }
  if (version == 1) {
    ACCORD_ASSIGN_OR_RETURN(int64_t end, log_->Sync());
    ACCORD_RETURN_IF_ERROR(SetOneRow(writer_.get(), kSetLogEnd, end));
  }
  return t.Commit();
}

absl::Status SqliteStore::Migrate1To2() {
  sqlite3* db = writer_->get();
  ACCORD_RETURN_IF_ERROR(Exec(db, common::Cat("CREATE TABLE objects_v2", kObjectsColumns, ";")));
  ACCORD_ASSIGN_OR_RETURN(
      Stmt sel, Prepare(db,
                        "SELECT vid, id, modified, type, spec_version, has_modified, revoked, "
                        "valid_from, valid_until, first_added, json FROM objects ORDER BY vid"));
  ACCORD_ASSIGN_OR_RETURN(
      Stmt ins, Prepare(db,
                        "INSERT INTO objects_v2(vid, id, idh, modified, type, spec_version, "
                        "has_modified, revoked, valid_from, valid_until, first_added, log_off, "
                        "log_len, json_hash) "
                        "VALUES(?1,?2,accord_idh(?2),?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"));
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(sel.get(), "migrate objects"));
    if (!row) break;
    for (int i = 0; i < 10; ++i) {
      if (sqlite3_bind_value(ins.get(), i + 1, sqlite3_column_value(sel.get(), i)) != SQLITE_OK) {
        return SqlError(db, "migrate objects: bind");
      }
    }
    const void* b = sqlite3_column_blob(sel.get(), 10);
    std::string_view json(b ? static_cast<const char*>(b) : "",
                          static_cast<size_t>(sqlite3_column_bytes(sel.get(), 10)));
    ACCORD_ASSIGN_OR_RETURN(int64_t off, log_->Append(json));
    ACCORD_RETURN_IF_ERROR(BindInt(ins.get(), 11, off));
    ACCORD_RETURN_IF_ERROR(BindInt(ins.get(), 12, static_cast<int64_t>(json.size())));
    ACCORD_RETURN_IF_ERROR(BindInt(ins.get(), 13, ContentHash(json)));
    ACCORD_RETURN_IF_ERROR(StepDone(ins.get(), "migrate objects"));
    // The step's result was checked above; reset only rewinds the statement.
    sqlite3_reset(ins.get());
  }
  sel.reset();
  return Exec(db, kMigrate1To2Finish);
}

absl::StatusOr<std::unique_ptr<Conn>> SqliteStore::Borrow() {
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<Conn> c = std::move(pool_.back());
      pool_.pop_back();
      return c;
    }
  }
  return Connect(false);
}

void SqliteStore::Return(std::unique_ptr<Conn> c) {
  std::lock_guard<std::mutex> l(pool_mu_);
  if (pool_.size() < 16) pool_.push_back(std::move(c));
}

absl::StatusOr<int64_t> SqliteStore::CollectionRowId(Conn* c, const std::string& id_or_alias,
                                                     bool create) {
  sqlite3* db = c->get();
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(c, "SELECT cid FROM collections WHERE id=?1 OR alias=?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id_or_alias));
  ACCORD_ASSIGN_OR_RETURN(bool found, Step(q.get(), "find collection"));
  if (found) return ColInt(q.get(), 0);
  if (!create) {
    return absl::NotFoundError(common::Cat("no collection '", id_or_alias, "'"));
  }
  bool is_uuid = common::IsUuid(id_or_alias);
  ACCORD_ASSIGN_OR_RETURN(
      Stmt ins, Prepare(db, "INSERT INTO collections(id, alias, title) VALUES(?1, ?2, ?3)"));
  ACCORD_RETURN_IF_ERROR(BindText(ins.get(), 1, is_uuid ? id_or_alias : common::NewUuid4()));
  ACCORD_RETURN_IF_ERROR(is_uuid ? BindNull(ins.get(), 2) : BindText(ins.get(), 2, id_or_alias));
  ACCORD_RETURN_IF_ERROR(BindText(ins.get(), 3, id_or_alias));
  ACCORD_RETURN_IF_ERROR(StepDone(ins.get(), "create collection"));
  return sqlite3_last_insert_rowid(db);
}

// ---------------------------------------------------------------------------------------------
// Import

class SqliteImportTxn final : public ImportTxn {
 public:
  SqliteImportTxn(SqliteStore* s, std::unique_lock<WriteMutex> lock)
      : s_(s), lock_(std::move(lock)), txn_(s->writer_->get()) {}

  absl::Status Start(const std::string& collection) {
    Conn* c = s_->writer_.get();
    ACCORD_RETURN_IF_ERROR(txn_.Begin(true));
    changes_at_start_ = sqlite3_total_changes64(c->get());
    ACCORD_ASSIGN_OR_RETURN(cid_, s_->CollectionRowId(c, collection, true));
    ACCORD_ASSIGN_OR_RETURN(
        ins_obj_, Cached(c,
                         "INSERT INTO objects(id, modified, type, spec_version, has_modified, "
                         "revoked, valid_from, valid_until, first_added, log_off, idh, log_len, "
                         "json_hash) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"));
    ACCORD_ASSIGN_OR_RETURN(find_obj_,
                            Cached(c,
                                   "SELECT vid, json_hash, log_off, log_len FROM objects "
                                   "WHERE idh=?1 AND modified=?2 AND id=?3"));
    ACCORD_ASSIGN_OR_RETURN(ins_mem_,
                            Cached(c,
                                   "INSERT OR IGNORE INTO membership(cid, date_added, vid) "
                                   "VALUES(?1,?2,?3)"));
    // date_added is strictly increasing across the store, also across processes: the write
    // lock is held from here to Commit, and the counter starts above everything stored.
    // PERF: the last date_added lives in a one-row table; max() over membership has no index
    // on date_added alone and made every small import (a TAXII POST) O(store size).
    ACCORD_ASSIGN_OR_RETURN(StmtRef mx, Cached(c,
                                               "SELECT last_added, (SELECT end FROM object_log "
                                               "WHERE one = 1) FROM clock WHERE one = 1"));
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(mx.get(), "read date_added"));
    if (!row) return absl::DataLossError(common::Cat(s_->path_, ": the clock row is missing"));
    last_added_ = ColInt(mx.get(), 0);
    result_.added_after = last_added_;
    return s_->log_->Begin(ColInt(mx.get(), 1));
  }

  absl::Status Add(const stix::ObjectRecord& r) override {
    // Conservative: an indicator in a transaction that changed anything moves
    // IndicatorGeneration (a re-sent indicator beside new sightings costs a recompile).
    indicators_ |= IsIndicatorId(r.id);
    sqlite3* db = s_->writer_->get();
    int64_t now = NextAdded();
    std::string_view what = r.id;
    int64_t idh = r.prepared ? r.prepared->id_hash : IdHash(r.id);
    // Is this version stored already? (A miss touches only the idh index.)
    int64_t vid = -1;
    sqlite3_stmt* f = find_obj_->get();
    ACCORD_RETURN_IF_ERROR(BindInt(f, 1, idh));
    ACCORD_RETURN_IF_ERROR(BindInt(f, 2, r.modified));
    ACCORD_RETURN_IF_ERROR(BindStatic(f, 3, r.id));
    int64_t json_hash = r.prepared ? r.prepared->content_hash : ContentHash(r.json);
    absl::StatusOr<bool> found = Step(f, what);
    bool same_bytes = true;
    ObjectLog::Range stored;
    if (found.ok() && *found) {
      vid = sqlite3_column_int64(f, 0);
      same_bytes = sqlite3_column_int64(f, 1) == json_hash;
      stored = {sqlite3_column_int64(f, 2), sqlite3_column_int64(f, 3), &stored_json_};
    }
    sqlite3_reset(f);  // rewinds; the step's result is `found`
    if (!found.ok()) return found.status();
    uint64_t index = adds_++;
    if (vid >= 0) {
      // Other bytes may still be the same object (member order, formatting): compare values.
      // Equal fingerprints are confirmed on the bytes: XXH3 is not collision-resistant, and a
      // writer who knows a public object's exact JSON could craft an altered copy with the same
      // fingerprint, to be linked (or to have the real one dropped) as a "duplicate".
      // PERF: one read of the stored copy per duplicate; re-imports only.
      ACCORD_RETURN_IF_ERROR(s_->log_->ReadAppended(stored));
      if (!same_bytes || stored_json_ != r.json) {
        if (!stix::SameJson(stored_json_, r.json)) {
          // Issue 10: a version is immutable, and linking the stored copy into this collection
          // would let the writer read it through a collection of their own (the stored copy
          // may be in one they cannot read). Refused: nothing is linked, and the incoming copy
          // is kept for the administrator.
          if (refuse_conflicts_) return RefusedConflict(r);
          NoteConflict(r, index, &result_);
          return s_->QuarantineCopy(s_->writer_.get(), r.id, idh, r.modified, cid_, writer_, r.json,
                                    json_hash);
        }
      }
      ++result_.duplicates;
    } else {
      ACCORD_ASSIGN_OR_RETURN(vid, Insert(r, idh, json_hash, now));
      ++result_.added;
      // A new version's membership cannot be there already (its vid is new, its date_added
      // above every stored one): it waits in members_, and is counted now.
      members_.AddInt(cid_);
      members_.AddInt(now);
      members_.AddInt(vid);
      CountMembership(r, now);
      if (members_.rows() >= kMaxPendingMembers) return FlushMembers();
      return absl::OkStatus();
    }
    // A version stored already, perhaps earlier in this transaction: the memberships waiting
    // go in first, so that INSERT OR IGNORE sees them.
    ACCORD_RETURN_IF_ERROR(FlushMembers());
    sqlite3_stmt* m = ins_mem_->get();
    ACCORD_RETURN_IF_ERROR(BindInt(m, 1, cid_));
    ACCORD_RETURN_IF_ERROR(BindInt(m, 2, now));
    ACCORD_RETURN_IF_ERROR(BindInt(m, 3, vid));
    absl::Status added = StepDone(m, what);
    sqlite3_reset(m);
    if (!added.ok()) return added;
    if (sqlite3_changes(db) > 0) CountMembership(r, now);
    return absl::OkStatus();
  }

  void CountMembership(const stix::ObjectRecord& r, int64_t date_added) {
    ++result_.memberships;
    if (result_.written.size() < ImportResult::kMaxListedWritten) {
      result_.written.emplace_back(r.id, r.modified);
    }
    result_.added_last = date_added;
  }

  // Inserts the memberships waiting in members_ (PERF: one statement for them all, RowFeed).
  absl::Status FlushMembers() {
    if (members_.empty()) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(s_->writer_.get(),
                                              "INSERT INTO membership(cid, date_added, vid) "
                                              "SELECT c0, c1, c2 FROM accord_rows(?1)"));
    ACCORD_RETURN_IF_ERROR(BindRowFeed(q.get(), 1, &members_));
    absl::Status st = StepDone(q.get(), "add the versions to the collection");
    sqlite3_reset(q.get());
    members_.Clear();
    return st;
  }

  void SetWriter(std::string_view writer) override { writer_ = std::string(writer); }
  void SetRefuseConflicts(bool refuse) override { refuse_conflicts_ = refuse; }

  absl::StatusOr<int64_t> Insert(const stix::ObjectRecord& r, int64_t idh, int64_t json_hash,
                                 int64_t now) {
    sqlite3* db = s_->writer_->get();
    sqlite3_stmt* st = ins_obj_->get();
    ACCORD_RETURN_IF_ERROR(BindStatic(st, 1, r.id));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 2, r.modified));
    ACCORD_RETURN_IF_ERROR(BindStatic(st, 3, r.type));
    ACCORD_RETURN_IF_ERROR(BindStatic(st, 4, r.spec_version));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 5, r.has_modified ? 1 : 0));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 6, r.revoked ? 1 : 0));
    ACCORD_RETURN_IF_ERROR(r.valid_from ? BindInt(st, 7, *r.valid_from) : BindNull(st, 7));
    ACCORD_RETURN_IF_ERROR(r.valid_until ? BindInt(st, 8, *r.valid_until) : BindNull(st, 8));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 9, now));
    ACCORD_ASSIGN_OR_RETURN(int64_t off, s_->log_->Append(r.json));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 10, off));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 11, idh));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 12, static_cast<int64_t>(r.json.size())));
    ACCORD_RETURN_IF_ERROR(BindInt(st, 13, json_hash));
    absl::Status stored = StepDone(st, r.id);
    sqlite3_reset(st);
    if (!stored.ok()) return stored;
    int64_t vid = sqlite3_last_insert_rowid(db);
    ACCORD_RETURN_IF_ERROR(s_->IndexVersion(s_->writer_.get(), vid, r, &terms_));
    if (terms_.Full()) {
      ACCORD_RETURN_IF_ERROR(s_->FlushTerms(s_->writer_.get(), &terms_));
    }
    return vid;
  }

  absl::StatusOr<ImportResult> Commit() override {
    ins_obj_.reset();
    find_obj_.reset();
    ins_mem_.reset();
    ACCORD_RETURN_IF_ERROR(FlushMembers());
    ACCORD_RETURN_IF_ERROR(s_->FlushTerms(s_->writer_.get(), &terms_));
    // The generation moves only when a row did (a version, a membership, a collection, a
    // quarantined copy): a re-import of what is stored leaves it alone, so that readers keep
    // what they compiled (accord match --follow, issue 11). INSERT OR IGNORE that ignored
    // counts no change.
    if (sqlite3_total_changes64(s_->writer_->get()) != changes_at_start_) {
      ACCORD_RETURN_IF_ERROR(Exec(s_->writer_->get(), kBumpGeneration));
      if (indicators_) ACCORD_RETURN_IF_ERROR(Exec(s_->writer_->get(), kBumpIndicatorGeneration));
    }
    // After the generation test: a sync cursor that moved over versions already stored is not
    // a change readers need to see.
    for (const auto& [key, value] : settings_) {
      ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                              Cached(s_->writer_.get(),
                                     "INSERT INTO settings(key, value) VALUES(?1, ?2) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
      ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key));
      ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, value));
      ACCORD_RETURN_IF_ERROR(StepDone(q.get(), common::Cat("put setting '", key, "'")));
    }
    // The log is durable before the transaction that points into it can be.
    ACCORD_ASSIGN_OR_RETURN(int64_t log_end, s_->log_->Sync());
    ACCORD_RETURN_IF_ERROR(SetOneRow(s_->writer_.get(), kSetLogEnd, log_end));
    ACCORD_RETURN_IF_ERROR(SetOneRow(s_->writer_.get(), kSetLastAdded, last_added_));
    ACCORD_RETURN_IF_ERROR(txn_.Commit());
    return result_;
  }

 private:
  int64_t NextAdded() {
    // PERF: the clock is read once per 1024 objects; within a burst the counter just steps.
    if ((counter_++ & 1023) == 0) clock_ = common::NowMicros();
    last_added_ = std::max(clock_, last_added_ + 1);
    return last_added_;
  }

  absl::Status PutSetting(const std::string& key, const std::string& value) override {
    settings_.emplace_back(key, value);
    return absl::OkStatus();
  }

  SqliteStore* s_;
  std::unique_lock<WriteMutex> lock_;
  Txn txn_;
  std::vector<std::pair<std::string, std::string>> settings_;  // written at Commit
  int64_t cid_ = 0;
  std::optional<StmtRef> ins_obj_, find_obj_, ins_mem_;
  std::string stored_json_;      // scratch: a stored version compared with a re-sent one
  SqliteStore::TermRows terms_;  // value-index rows not yet written (FlushTerms)
  // (cid, date_added, vid) of new versions' memberships not yet written (FlushMembers).
  static constexpr size_t kMaxPendingMembers = 4096;
  RowFeed members_{3};
  std::string writer_ = "import";
  uint64_t adds_ = 0;  // Add calls so far: ContentConflict::index
  bool refuse_conflicts_ = false;
  int64_t last_added_ = 0, clock_ = 0;
  uint64_t counter_ = 0;
  sqlite3_int64 changes_at_start_ = 0;
  bool indicators_ = false;  // an indicator was Added
  ImportResult result_;
};

absl::StatusOr<std::unique_ptr<ImportTxn>> SqliteStore::BeginImport(const std::string& collection) {
  if (options_.read_only) return absl::FailedPreconditionError("store opened read-only");
  auto t = std::make_unique<SqliteImportTxn>(this, std::unique_lock<WriteMutex>(write_mu_));
  ACCORD_RETURN_IF_ERROR(t->Start(collection));
  return std::unique_ptr<ImportTxn>(std::move(t));
}

// ---------------------------------------------------------------------------------------------
// Reads

namespace {

constexpr const char* kObjCols =
    "o.id, o.type, o.spec_version, o.modified, o.has_modified, o.revoked, o.log_off, o.log_len, "
    "o.vid";
constexpr int kVidCol = 8;
constexpr int kDateCol = 9;  // the column after kObjCols

// The row's columns; its JSON is read later, for the whole page at once (LoadJson).
StoredObject RowToObject(sqlite3_stmt* s, std::vector<ObjectLog::Range>* json_at) {
  StoredObject o;
  o.id = ColText(s, 0);
  o.type = ColText(s, 1);
  o.spec_version = ColText(s, 2);
  o.modified = sqlite3_column_int64(s, 3);
  o.has_modified = sqlite3_column_int(s, 4) != 0;
  o.revoked = sqlite3_column_int(s, 5) != 0;
  json_at->push_back({sqlite3_column_int64(s, 6), sqlite3_column_int64(s, 7), nullptr});
  o.date_added = sqlite3_column_int64(s, kDateCol);
  return o;
}

// Reads the JSON of `objs` (json_at[i] belongs to objs[i]).
absl::Status LoadJson(const ObjectLog& log, std::vector<ObjectLog::Range>* json_at,
                      std::vector<StoredObject>* objs) {
  for (size_t i = 0; i < objs->size(); ++i) (*json_at)[i].out = &(*objs)[i].json;
  ACCORD_RETURN_IF_ERROR(log.Read(*json_at));
  // A version purged after this reader found its row reads as zeros (SqliteStore::Purge).
  objs->erase(
      std::remove_if(objs->begin(), objs->end(),
                     [](const StoredObject& o) { return !o.json.empty() && o.json[0] == '\0'; }),
      objs->end());
  return absl::OkStatus();
}

// Columns id, alias, title, description, is_public.
CollectionInfo RowToCollection(sqlite3_stmt* s) {
  CollectionInfo c;
  c.id = ColText(s, 0);
  c.alias = ColText(s, 1);
  c.title = ColText(s, 2);
  c.description = ColText(s, 3);
  c.is_public = sqlite3_column_int(s, 4) != 0;
  return c;
}

// Builds "?,?,?" placeholders and records the values to bind.
struct Binder {
  std::vector<std::variant<std::string, int64_t>> values;
  std::string In(const std::vector<std::string>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) {
      values.emplace_back(v[i]);
      common::Append(&s, i ? ",?" : "?");
    }
    return s + ")";
  }
  std::string In(const std::vector<int64_t>& v) {
    std::string s = "(";
    for (size_t i = 0; i < v.size(); ++i) {
      values.emplace_back(v[i]);
      common::Append(&s, i ? ",?" : "?");
    }
    return s + ")";
  }
  std::string One(int64_t v) {
    values.emplace_back(v);
    return "?";
  }
  absl::Status Bind(sqlite3_stmt* s) {
    for (size_t i = 0; i < values.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (auto* str = std::get_if<std::string>(&values[i])) {
        ACCORD_RETURN_IF_ERROR(BindText(s, idx, *str));
      } else {
        ACCORD_RETURN_IF_ERROR(BindInt(s, idx, std::get<int64_t>(values[i])));
      }
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::vector<StoredObject>> SqliteStore::Get(const std::string& id,
                                                           VersionSelect versions) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  std::string sql = common::Cat(
      "SELECT ", kObjCols,
      ", o.first_added FROM objects o WHERE o.idh=accord_idh(?1) AND o.id=?1 ORDER BY o.modified");
  if (versions == VersionSelect::kFirst) sql += " LIMIT 1";
  if (versions == VersionSelect::kLast) sql += " DESC LIMIT 1";
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(), sql));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id));
  std::vector<StoredObject> out;
  std::vector<ObjectLog::Range> json_at;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "get"));
    if (!row) break;
    out.push_back(RowToObject(q.get(), &json_at));
  }
  if (out.empty()) return absl::NotFoundError(common::Cat("no object '", id, "'"));
  ACCORD_RETURN_IF_ERROR(LoadJson(*log_, &json_at, &out));
  return out;
}

namespace {

// A read transaction on a borrowed connection (one snapshot for several statements), ended on
// destruction: nothing to write, so nothing that can fail and matter (a connection left in a
// transaction would be rolled back by the next BEGIN's error).
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sqlite3* db) : db_(db) {}
  ~ReadSnapshot() {
    if (begun_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  absl::Status Begin() {
    ACCORD_RETURN_IF_ERROR(Exec(db_, "BEGIN"));
    begun_ = true;
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  bool begun_ = false;
};

}  // namespace

absl::StatusOr<Page> SqliteStore::List(const Query& query) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ReadSnapshot snapshot(r.get());  // one snapshot for the whole page
  ACCORD_RETURN_IF_ERROR(snapshot.Begin());

  Binder b;
  std::string sql;
  bool by_collection = query.collection.has_value();
  char kind = by_collection ? 'c' : 'v';
  std::string order_col = by_collection ? "m.date_added" : "o.vid";
  std::string scope;  // how to reach the versions competing for first/last
  if (by_collection) {
    ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(r.conn(), *query.collection, false));
    // PERF: given ids, the objects are found by (idh, modified) first; left to itself SQLite
    // walks the collection's memberships in date_added order (the ORDER BY), every one of them
    // for an id it holds once: a match line's origin lookup (match/origin.cc) took 50 ms in a
    // 100k-indicator collection, and matching a log ran at 100 events/s.
    sql = common::Cat("SELECT ", kObjCols, ", m.date_added FROM ",
                      query.ids.empty() ? "membership m JOIN objects o ON o.vid = m.vid"
                                        : "objects o CROSS JOIN membership m ON m.vid = o.vid",
                      " WHERE m.cid = ", b.One(cid));
    scope = common::Cat(
        "FROM membership m2 JOIN objects o2 ON o2.vid = m2.vid WHERE m2.cid = m.cid AND o2.idh = "
        "o.idh AND o2.id = o.id");
  } else {
    sql = common::Cat("SELECT ", kObjCols, ", o.first_added FROM objects o WHERE 1");
    scope = "FROM objects o2 WHERE o2.idh = o.idh AND o2.id = o.id";
  }
  if (!query.ids.empty()) {
    std::vector<int64_t> keys;
    for (const auto& id : query.ids) keys.push_back(IdHash(id));
    // Two statements: the binder's order must follow the SQL text.
    common::Append(&sql, " AND o.idh IN ", b.In(keys));
    common::Append(&sql, " AND o.id IN ", b.In(query.ids));
  }
  if (!query.types.empty()) {
    // PERF: given ids, the type is checked on the rows they find ('+' keeps SQLite from
    // choosing the type index instead: the web UI's search by type read 1M indicators' index
    // entries to check 50 ids, 408 ms).
    common::Append(&sql, query.ids.empty() ? " AND o.type IN " : " AND +o.type IN ",
                   b.In(query.types));
  }
  if (!query.spec_versions.empty()) {
    common::Append(&sql, " AND o.spec_version IN ", b.In(query.spec_versions));
  }
  if (!query.version_times.empty()) {
    common::Append(&sql, " AND o.modified IN ", b.In(query.version_times));
  } else if (query.versions == VersionSelect::kLast) {
    common::Append(&sql, " AND o.modified = (SELECT max(o2.modified) ", scope, ")");
  } else if (query.versions == VersionSelect::kFirst) {
    common::Append(&sql, " AND o.modified = (SELECT min(o2.modified) ", scope, ")");
  }
  if (!query.include_revoked && by_collection) {
    // Issue 10: only a revocation in this collection counts; a revoked version written into
    // another collection changes nothing this one serves. PERF: CROSS JOIN keeps SQLite from
    // walking the collection's memberships (by cid) for every row, which made listing a
    // 100k-indicator collection quadratic (minutes); this way the partial revoked index is
    // probed first, then (vid, cid): 1.0 s for 100k indicators, vs 1.2 s store-wide.
    common::Append(
        &sql,
        " AND NOT EXISTS (SELECT 1 FROM objects rv CROSS JOIN membership m3 ON m3.vid = rv.vid "
        "AND m3.cid = m.cid WHERE rv.idh = o.idh AND rv.revoked = 1 AND rv.id = o.id)");
  } else if (!query.include_revoked) {
    common::Append(&sql,
                   " AND NOT EXISTS (SELECT 1 FROM objects rv WHERE rv.idh = o.idh AND rv.revoked "
                   "= 1 AND rv.id = o.id)");
  }
  if (query.added_after) {
    common::Append(&sql, " AND ", by_collection ? "m.date_added" : "o.first_added", " > ",
                   b.One(*query.added_after));
  }
  if (!query.cursor.empty()) {
    ACCORD_ASSIGN_OR_RETURN(int64_t after, DecodeCursor(query.cursor, kind));
    common::Append(&sql, " AND ", order_col, " > ", b.One(after));
  }
  common::Append(&sql, " ORDER BY ", order_col);
  if (query.limit > 0) {
    common::Append(&sql, " LIMIT ", b.One(static_cast<int64_t>(query.limit + 1)));
  }
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(), sql));
  ACCORD_RETURN_IF_ERROR(b.Bind(q.get()));
  Page page;
  std::vector<ObjectLog::Range> json_at;
  int64_t last_key = 0;  // the cursor: date_added in a collection, else vid (storage order)
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list"));
    if (!row) break;
    if (query.limit > 0 && page.objects.size() == query.limit) {
      page.more = true;
      break;
    }
    page.objects.push_back(RowToObject(q.get(), &json_at));
    last_key = sqlite3_column_int64(q.get(), by_collection ? kDateCol : kVidCol);
  }
  last_list_vm_steps_ = static_cast<uint64_t>(
      sqlite3_stmt_status(q.get(), SQLITE_STMTSTATUS_VM_STEP, /*resetFlg=*/1));
  ACCORD_RETURN_IF_ERROR(LoadJson(*log_, &json_at, &page.objects));
  if (page.more) page.next = EncodeCursor(kind, last_key);
  return page;
}

absl::StatusOr<uint64_t> SqliteStore::Delete(const std::string& collection, const std::string& id,
                                             const std::vector<Micros>& version_times) {
  std::unique_lock<WriteMutex> l(write_mu_);
  sqlite3* db = writer_->get();
  Txn t(db);
  ACCORD_RETURN_IF_ERROR(t.Begin(true));
  ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(writer_.get(), collection, false));
  Binder b;
  std::string sql = common::Cat("DELETE FROM membership WHERE cid = ", b.One(cid));
  common::Append(&sql, " AND vid IN (SELECT vid FROM objects WHERE idh = ", b.One(IdHash(id)),
                 " AND id = ?");
  b.values.emplace_back(id);
  if (!version_times.empty()) common::Append(&sql, " AND modified IN ", b.In(version_times));
  sql += ")";
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db, sql));
  ACCORD_RETURN_IF_ERROR(b.Bind(q.get()));
  ACCORD_RETURN_IF_ERROR(StepDone(q.get(), "delete"));
  uint64_t n = static_cast<uint64_t>(sqlite3_changes(db));
  if (n > 0) ACCORD_RETURN_IF_ERROR(Exec(db, kBumpGeneration));
  if (n > 0 && IsIndicatorId(id)) ACCORD_RETURN_IF_ERROR(Exec(db, kBumpIndicatorGeneration));
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return n;
}

// Retention. The rows go in one transaction (memberships, versions, quarantine entries, match
// records, and the generation, so that caches and compiled programs follow); only once it committed
// are the versions' bytes erased from the object log, so a crash in between leaves unreferenced
// bytes, never a row pointing at zeros. A reader that looked a row up just before may find
// zeros: LoadJson leaves such a version out.
absl::StatusOr<PurgeReport> SqliteStore::Purge(const PurgeRules& rules, bool dry_run) {
  if (!dry_run && options_.read_only) {
    return absl::FailedPreconditionError("store opened read-only");
  }
  std::unique_lock<WriteMutex> l(write_mu_);
  sqlite3* db = writer_->get();
  Txn t(db);
  ACCORD_RETURN_IF_ERROR(t.Begin(true));
  PurgeReport report;
  struct Version {
    int64_t vid, log_off, log_len;
    const char* type;
  };
  std::vector<Version> vids;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  auto versions = [&](const char* kind, const char* sql, Micros cutoff) -> absl::Status {
    if (cutoff == 0) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db, sql));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, cutoff));
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list what to purge"));
      if (!row) break;
      PurgeItem it;
      it.kind = kind;
      it.id = ColText(q.get(), 1);
      it.modified = ColInt(q.get(), 2);
      it.bytes = ColInt(q.get(), 4);
      vids.push_back({ColInt(q.get(), 0), ColInt(q.get(), 3), it.bytes, kind});
      ranges.emplace_back(ColInt(q.get(), 3), it.bytes + 1);  // with its newline
      report.bytes += it.bytes;
      report.items.push_back(std::move(it));
    }
    return absl::OkStatus();
  };
  // An indicator goes whole, once even its newest version has expired (no version of it is
  // valid at the cut-off or open-ended).
  ACCORD_RETURN_IF_ERROR(versions(
      "indicator",
      "SELECT o.vid, o.id, o.modified, o.log_off, o.log_len FROM objects o "
      "WHERE o.type = 'indicator' AND NOT EXISTS (SELECT 1 FROM objects n WHERE n.idh = o.idh "
      "AND n.id = o.id AND (n.valid_until IS NULL OR n.valid_until >= ?1)) ORDER BY o.vid",
      rules.indicators_expired_before));
  ACCORD_RETURN_IF_ERROR(versions("sighting",
                                  "SELECT vid, id, modified, log_off, log_len FROM objects "
                                  "WHERE type = 'sighting' AND modified < ?1 ORDER BY vid",
                                  rules.sightings_before));
  std::vector<int64_t> qids;
  if (rules.quarantine_before != 0) {
    ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db,
                                            "SELECT qid, id, modified, length(json) FROM "
                                            "quarantine WHERE received < ?1 ORDER BY qid"));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, rules.quarantine_before));
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list quarantine to purge"));
      if (!row) break;
      PurgeItem it;
      it.kind = "quarantine";
      it.qid = ColInt(q.get(), 0);
      it.id = ColText(q.get(), 1);
      it.modified = ColInt(q.get(), 2);
      it.bytes = ColInt(q.get(), 3);
      qids.push_back(it.qid);
      report.bytes += it.bytes;
      report.items.push_back(std::move(it));
    }
  }
  // Match-ledger records are counted, not listed. PERF: a scan of the ledger, which has no
  // index by time (every recording would pay for one; a purge runs once a day).
  constexpr const char* kOldMatches = " FROM match_records WHERE time < ?1 AND recorded < ?1";
  if (rules.matches_before != 0) {
    ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db, common::Cat("SELECT count(*)", kOldMatches)));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, rules.matches_before));
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "count match records to purge"));
    if (row) report.match_records = static_cast<uint64_t>(ColInt(q.get(), 0));
  }
  if (dry_run || (report.items.empty() && report.match_records == 0)) {
    return report;  // the transaction rolls back
  }
  // Freed cells (a quarantined copy's JSON, match records) are zeroed, not left in free pages.
  ACCORD_RETURN_IF_ERROR(Exec(db, "PRAGMA secure_delete = ON"));
  ACCORD_ASSIGN_OR_RETURN(Stmt dm, Prepare(db, "DELETE FROM membership WHERE vid = ?1"));
  ACCORD_ASSIGN_OR_RETURN(Stmt dv, Prepare(db, "DELETE FROM objects WHERE vid = ?1"));
  std::string json;
  for (const Version& v : vids) {
    for (sqlite3_stmt* st : {dm.get(), dv.get()}) {
      sqlite3_reset(st);
      ACCORD_RETURN_IF_ERROR(BindInt(st, 1, v.vid));
      ACCORD_RETURN_IF_ERROR(StepDone(st, "purge a version"));
    }
    ACCORD_RETURN_IF_ERROR(log_->Read({{v.log_off, v.log_len, &json}}));
    ACCORD_RETURN_IF_ERROR(DeleteTerms(writer_.get(), v.vid, v.type, json));
  }
  if (!vids.empty()) {
    // A full-text delete only marks the words gone; merging the index drops them from disk.
    ACCORD_RETURN_IF_ERROR(Exec(db, "INSERT INTO object_text(object_text) VALUES('optimize')"));
  }
  ACCORD_ASSIGN_OR_RETURN(Stmt dq, Prepare(db, "DELETE FROM quarantine WHERE qid = ?1"));
  for (int64_t qid : qids) {
    sqlite3_reset(dq.get());
    ACCORD_RETURN_IF_ERROR(BindInt(dq.get(), 1, qid));
    ACCORD_RETURN_IF_ERROR(StepDone(dq.get(), "purge a quarantined copy"));
  }
  if (report.match_records > 0) {
    ACCORD_ASSIGN_OR_RETURN(Stmt dl, Prepare(db, common::Cat("DELETE", kOldMatches)));
    ACCORD_RETURN_IF_ERROR(BindInt(dl.get(), 1, rules.matches_before));
    ACCORD_RETURN_IF_ERROR(StepDone(dl.get(), "purge match records"));
  }
  // The ledger is not an object write (MatchLedger): it alone leaves the generation.
  if (!report.items.empty()) ACCORD_RETURN_IF_ERROR(Exec(db, kBumpGeneration));
  if (std::any_of(report.items.begin(), report.items.end(), [](const PurgeItem& i) {
        return i.kind != "quarantine" && IsIndicatorId(i.id);
      })) {
    ACCORD_RETURN_IF_ERROR(Exec(db, kBumpIndicatorGeneration));
  }
  ACCORD_RETURN_IF_ERROR(t.Commit());
  // The old page images in the write-ahead log go too, once no reader holds them (a busy
  // checkpoint is only retried by the next one: the rows are gone either way).
  (void)Exec(db, "PRAGMA secure_delete = OFF; PRAGMA wal_checkpoint(TRUNCATE)");
  if (!ranges.empty()) {
    absl::Status erased = log_->Erase(ranges);
    if (!erased.ok()) {
      return absl::Status(erased.code(),
                          common::Cat("the purged versions are gone from the store, but their "
                                      "bytes could not be erased from the object log: ",
                                      common::View(erased.message())));
    }
  }
  return report;
}

absl::StatusOr<CollectionInfo> SqliteStore::CreateCollection(const CollectionInfo& info) {
  std::unique_lock<WriteMutex> l(write_mu_);
  sqlite3* db = writer_->get();
  std::string id = info.id.empty() ? common::NewUuid4() : info.id;
  if (!common::IsUuid(id)) {
    return absl::InvalidArgumentError(common::Cat("collection id '", id, "' is not a UUID"));
  }
  ACCORD_ASSIGN_OR_RETURN(
      Stmt q, Prepare(db,
                      "INSERT INTO collections(id, alias, title, description, is_public) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id));
  ACCORD_RETURN_IF_ERROR(info.alias.empty() ? BindNull(q.get(), 2)
                                            : BindText(q.get(), 2, info.alias));
  ACCORD_RETURN_IF_ERROR(BindText(
      q.get(), 3, info.title.empty() ? (info.alias.empty() ? id : info.alias) : info.title));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 4, info.description));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 5, info.is_public ? 1 : 0));
  if (absl::Status st = StepDone(q.get(), "create collection"); !st.ok()) {
    if (sqlite3_errcode(db) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(
          common::Cat("a collection '", info.alias.empty() ? id : info.alias, "' already exists"));
    }
    return st;
  }
  ACCORD_RETURN_IF_ERROR(Exec(db, kBumpGeneration));
  l.unlock();
  return GetCollection(id);
}

absl::StatusOr<std::vector<CollectionInfo>> SqliteStore::ListCollections() {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  // PERF: no member count (a scan of the memberships: 25 ms at 1M objects, on every TAXII
  // collections page and every web UI search); CountMembers counts one.
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(),
                                 "SELECT id, coalesce(alias,''), title, description, is_public "
                                 "FROM collections ORDER BY cid"));
  std::vector<CollectionInfo> out;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list collections"));
    if (!row) break;
    out.push_back(RowToCollection(q.get()));
  }
  return out;
}

absl::StatusOr<uint64_t> SqliteStore::CountMembers(const std::string& id_or_alias) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(),
                                 "SELECT (SELECT count(*) FROM membership m WHERE m.cid = c.cid) "
                                 "FROM collections c WHERE c.id=?1 OR c.alias=?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id_or_alias));
  ACCORD_ASSIGN_OR_RETURN(bool found, Step(q.get(), "count members"));
  if (!found) return absl::NotFoundError(common::Cat("no collection '", id_or_alias, "'"));
  return static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0));
}

absl::StatusOr<CollectionInfo> SqliteStore::GetCollection(const std::string& id_or_alias) {
  // PERF: no member count here (TAXII calls this on every request); CountMembers counts.
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(),
                                 "SELECT id, coalesce(alias,''), title, description, is_public "
                                 "FROM collections WHERE id=?1 OR alias=?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id_or_alias));
  ACCORD_ASSIGN_OR_RETURN(bool found, Step(q.get(), "get collection"));
  if (!found) {
    return absl::NotFoundError(common::Cat("no collection '", id_or_alias, "'"));
  }
  return RowToCollection(q.get());
}

absl::StatusOr<Stats> SqliteStore::GetStats() {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  sqlite3* db = r.get();
  Stats st;
  ACCORD_ASSIGN_OR_RETURN(Stmt a, Prepare(db, "SELECT count(*), count(DISTINCT id) FROM objects"));
  ACCORD_ASSIGN_OR_RETURN(bool counted, Step(a.get(), "stats"));
  if (counted) {
    st.versions = static_cast<uint64_t>(sqlite3_column_int64(a.get(), 0));
    st.objects = static_cast<uint64_t>(sqlite3_column_int64(a.get(), 1));
  }
  ACCORD_ASSIGN_OR_RETURN(
      Stmt t,
      Prepare(db, "SELECT type, count(DISTINCT id) FROM objects GROUP BY type ORDER BY type"));
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(t.get(), "stats per type"));
    if (!row) break;
    st.per_type.emplace_back(ColText(t.get(), 0), sqlite3_column_int64(t.get(), 1));
  }
  ACCORD_ASSIGN_OR_RETURN(
      Stmt c, Prepare(db,
                      "SELECT coalesce(c.alias, c.id), (SELECT count(*) FROM membership m "
                      "WHERE m.cid = c.cid) FROM collections c ORDER BY c.cid"));
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(c.get(), "stats per collection"));
    if (!row) break;
    st.per_collection.emplace_back(ColText(c.get(), 0), sqlite3_column_int64(c.get(), 1));
  }
  return st;
}

absl::StatusOr<uint64_t> SqliteStore::Generation() {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(), "SELECT n FROM generation WHERE one = 1"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "generation"));
  if (!row) return absl::DataLossError(common::Cat(path_, ": the generation row is missing"));
  return static_cast<uint64_t>(ColInt(q.get(), 0));
}

absl::StatusOr<uint64_t> SqliteStore::IndicatorGeneration() {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(), "SELECT n FROM indicator_generation WHERE one = 1"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "indicator generation"));
  if (!row)
    return absl::DataLossError(common::Cat(path_, ": the indicator generation row is missing"));
  return static_cast<uint64_t>(ColInt(q.get(), 0));
}

namespace {
void IndexedText(const stix::IndexText& t, std::string* out);  // below, with the search
}  // namespace

void SqliteStore::IndexRowsOf(const stix::ObjectRecord& r, std::vector<int64_t>* keys,
                              std::string* text) const {
  TermKeysOf(options_.derive_terms, r, keys);
  text->clear();
  std::optional<stix::IndexText> read;
  const stix::IndexText& fields =
      r.index_text ? *r.index_text : read.emplace(stix::IndexTextOf(r.json));
  if (!fields.empty()) IndexedText(fields, text);
}

namespace {

// Runs `sql` (parameters ?1 key, ?2 vid) once per row.
absl::Status EachTermRow(Conn* c, const char* sql,
                         const std::vector<std::pair<int64_t, int64_t>>& rows,
                         std::string_view what) {
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(c, sql));
  for (const auto& [key, vid] : rows) {
    sqlite3_reset(q.get());
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, key));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 2, vid));
    ACCORD_RETURN_IF_ERROR(StepDone(q.get(), what));
  }
  sqlite3_reset(q.get());
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteStore::TextRow(Conn* c, const char* sql, int64_t vid, std::string_view text) {
  if (text.empty()) return absl::OkStatus();
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(c, sql));
  sqlite3_reset(q.get());
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, vid));
  ACCORD_RETURN_IF_ERROR(BindStatic(q.get(), 2, text));
  absl::Status st = StepDone(q.get(), "the full-text index");
  sqlite3_reset(q.get());
  return st;
}

absl::Status SqliteStore::IndexVersion(Conn* c, int64_t vid, const stix::ObjectRecord& r,
                                       TermRows* rows) {
  if (!r.prepared) IndexRowsOf(r, &key_buf_, &text_buf_);
  const std::vector<int64_t>& keys = r.prepared ? r.prepared->term_keys : key_buf_;
  const std::string& text = r.prepared ? r.prepared->text : text_buf_;
  // PERF: straight into FTS5, which gathers a transaction's rows in memory itself (a copy of
  // every record's text, kept for a later flush, cost the writer thread malloc and free).
  ACCORD_RETURN_IF_ERROR(
      TextRow(c, "INSERT INTO object_text(rowid, text) VALUES(?1, ?2)", vid, text));
  for (int64_t k : keys) rows->terms.emplace_back(k, vid);
  return absl::OkStatus();
}

void SqliteStore::PrepareWrite(stix::ObjectRecord* r) const {
  stix::ObjectRecord::Prepared p;
  p.content_hash = ContentHash(r->json);
  p.id_hash = IdHash(r->id);
  IndexRowsOf(*r, &p.term_keys, &p.text);
  r->prepared = std::move(p);
  // What they were read for is in `prepared`: the queue to the writer holds less.
  r->index_text.reset();
  r->index_terms = {};
}

absl::Status SqliteStore::FlushTerms(Conn* c, TermRows* rows) {
  if (rows->terms.empty()) return absl::OkStatus();
  // PERF: sorted, so that the inserts walk the index's leaves in order; one statement for
  // them all (RowFeed).
  std::sort(rows->terms.begin(), rows->terms.end());
  rows->feed.ViewPairs(rows->terms.data(), rows->terms.size());
  ACCORD_ASSIGN_OR_RETURN(
      StmtRef q,
      Cached(c, "INSERT OR IGNORE INTO value_keys(key, vid) SELECT c0, c1 FROM accord_rows(?1)"));
  ACCORD_RETURN_IF_ERROR(BindRowFeed(q.get(), 1, &rows->feed));
  absl::Status st = StepDone(q.get(), "index the values");
  sqlite3_reset(q.get());
  rows->terms.clear();
  rows->feed.Clear();
  return st;
}

absl::Status SqliteStore::DeleteTerms(Conn* c, int64_t vid, std::string_view type,
                                      std::string_view json) {
  stix::ObjectRecord rec;
  rec.type = std::string(type);
  rec.json = std::string(json);
  IndexRowsOf(rec, &key_buf_, &text_buf_);
  ACCORD_RETURN_IF_ERROR(
      TextRow(c, "INSERT INTO object_text(object_text, rowid, text) VALUES('delete', ?1, ?2)", vid,
              text_buf_));
  if (!options_.derive_terms) {
    // No deriver in this process (a store opened below the CLI): the slow way, a scan.
    ACCORD_ASSIGN_OR_RETURN(StmtRef d, Cached(c, "DELETE FROM value_keys WHERE vid = ?1"));
    ACCORD_RETURN_IF_ERROR(BindInt(d.get(), 1, vid));
    absl::Status st = StepDone(d.get(), "remove a version from the value index");
    sqlite3_reset(d.get());
    return st;
  }
  TermRows rows;
  for (int64_t k : key_buf_) rows.terms.emplace_back(k, vid);
  return EachTermRow(c, "DELETE FROM value_keys WHERE key = ?1 AND vid = ?2", rows.terms,
                     "remove from the value index");
}

namespace {
// A hit of `term`, from a row (o.id, o.type, o.modified, o.revoked).
TermHit HitOf(std::string term, sqlite3_stmt* q) {
  TermHit h;
  h.term = std::move(term);
  h.id = ColText(q, 0);
  h.type = ColText(q, 1);
  h.modified = ColInt(q, 2);
  h.revoked = ColInt(q, 3) != 0;
  return h;
}
}  // namespace

absl::StatusOr<std::vector<TermHit>> SqliteStore::FindTerms(const std::vector<std::string>& terms,
                                                            uint64_t limit) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  // PERF: one probe of the (key, vid) primary key per term, then the object row by vid.
  ACCORD_ASSIGN_OR_RETURN(
      Stmt q, Prepare(r.get(),
                      "SELECT o.id, o.type, o.modified, o.revoked FROM value_keys t "
                      "JOIN objects o ON o.vid = t.vid WHERE t.key = ?1 ORDER BY t.vid LIMIT ?2"));
  std::vector<TermHit> out;
  for (const auto& term : terms) {
    sqlite3_reset(q.get());
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, TermKey(term)));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 2, static_cast<int64_t>(limit)));
    ACCORD_RETURN_IF_ERROR(ForEachRow(q.get(), "read the value index",
                                      [&](sqlite3_stmt* st) { out.push_back(HitOf(term, st)); }));
  }
  return out;
}

absl::StatusOr<std::vector<TermHit>> SqliteStore::FindTermRange(const std::string& lo,
                                                                const std::string& hi,
                                                                uint64_t limit) {
  // Only "ipv4n:" terms are kept in order (TermKey); any other range would be meaningless.
  const int64_t lo_key = TermKey(lo), hi_key = TermKey(hi);
  if (lo_key < 0 || hi_key < 0) {
    return absl::InvalidArgumentError(common::Cat(
        "the value index has ranges of \"ipv4n:\" terms only, not [", lo, ", ", hi, "]"));
  }
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(
      Stmt q, Prepare(r.get(),
                      "SELECT o.id, o.type, o.modified, o.revoked, t.key FROM value_keys t "
                      "JOIN objects o ON o.vid = t.vid WHERE t.key >= ?1 AND t.key <= ?2 "
                      "ORDER BY t.key, t.vid LIMIT ?3"));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 1, lo_key));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 2, hi_key));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 3, static_cast<int64_t>(limit)));
  std::vector<TermHit> out;
  ACCORD_RETURN_IF_ERROR(ForEachRow(q.get(), "read the value index", [&](sqlite3_stmt* st) {
    out.push_back(HitOf(RangeTermOfKey(ColInt(st, 4)), st));
  }));
  return out;
}

namespace {

// What the index holds of a version: its name, its description and its markings' tokens.
// Deterministic: a row is deleted by giving this text again.
void IndexedText(const stix::IndexText& t, std::string* out) {
  out->clear();
  common::Append(out, t.name, "\n", t.description, "\n");
  size_t i = 0;
  std::string_view markings = t.markings;
  while (i < markings.size()) {
    size_t end = markings.find(' ', i);
    if (end == std::string_view::npos) end = markings.size();
    if (end > i) AppendMarkingToken(markings.substr(i, end - i), out);
    i = end + 1;
  }
}

// The MATCH expression of a BrowseQuery: every word of `text` (SearchWords), and one of
// `markings`' tokens. Each word is an FTS5 string, so no query syntax reaches SQLite; a prefix
// word is a prefix query. Empty when neither filters.
//
// `expand` may replace a prefix by the words of the index that start with it (PERF: FTS5 reads
// every posting under a prefix, whatever the rowid window: 150 ms per million postings; the
// same words ORed are read window by window). nullopt keeps the prefix query.
using PrefixExpander = std::function<std::optional<std::vector<std::string>>(std::string_view)>;
std::string FtsQuery(std::string_view text, const std::vector<std::string>& markings,
                     const PrefixExpander& expand = nullptr) {
  std::vector<std::string> words;
  for (const SearchWord& w : SearchWords(text)) {
    std::optional<std::vector<std::string>> terms;
    if (w.prefix && expand) terms = expand(w.text);
    if (!terms || terms->empty()) {
      words.push_back(common::Cat("\"", w.text, "\"", w.prefix ? "*" : ""));
    } else {
      std::string any = "(";
      for (size_t k = 0; k < terms->size(); ++k) {
        common::Append(&any, k ? " OR " : "", "\"", (*terms)[k], "\"");
      }
      words.push_back(any + ")");
    }
  }
  std::string out;
  for (size_t k = 0; k < words.size(); ++k) common::Append(&out, k ? " AND " : "", words[k]);
  if (!markings.empty()) {
    common::Append(&out, out.empty() ? "" : " AND ", "(");
    for (size_t k = 0; k < markings.size(); ++k) {
      common::Append(&out, k ? " OR " : "", "\"", MarkingToken(markings[k]), "\"");
    }
    out += ")";
  }
  return out;
}

constexpr int64_t kMaxPrefixWords = 256;

}  // namespace

absl::StatusOr<BrowsePage> SqliteStore::Browse(const BrowseQuery& query) {
  ACCORD_RETURN_IF_ERROR(CheckBrowseQuery(query));
  BrowsePage page;
  // Text without a word (only punctuation) matches nothing, rather than everything.
  if (!query.text.empty() && FtsQuery(query.text, {}).empty()) return page;
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  // A prefix of ASCII letters and digits is expanded to at most kMaxPrefixWords words (the
  // index folds ASCII to lower case; other text keeps FTS5's prefix query).
  absl::Status expand_error;
  PrefixExpander expand = [&](std::string_view prefix) -> std::optional<std::vector<std::string>> {
    std::string lo;
    for (char c : prefix) {
      if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
      lo.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    std::string hi = lo;
    hi.back() = static_cast<char>(hi.back() + 1);
    absl::StatusOr<StmtRef> q = Cached(
        r.conn(), "SELECT term FROM object_text_vocab WHERE term >= ?1 AND term < ?2 LIMIT ?3");
    if (!q.ok()) {
      expand_error = q.status();
      return std::nullopt;
    }
    std::vector<std::string> terms;
    absl::Status st = BindText(q->get(), 1, lo);
    if (st.ok()) st = BindText(q->get(), 2, hi);
    if (st.ok()) st = BindInt(q->get(), 3, kMaxPrefixWords + 1);
    if (st.ok()) {
      st = ForEachRow(q->get(), "expand a prefix",
                      [&](sqlite3_stmt* row) { terms.push_back(ColText(row, 0)); });
    }
    if (!st.ok()) {
      expand_error = st;
      return std::nullopt;
    }
    if (terms.size() > kMaxPrefixWords) return std::nullopt;
    return terms;
  };
  std::string fts = FtsQuery(query.text, query.markings, expand);
  ACCORD_RETURN_IF_ERROR(expand_error);
  ReadSnapshot snapshot(r.get());  // one snapshot for the whole page
  ACCORD_RETURN_IF_ERROR(snapshot.Begin());
  std::vector<int64_t> cids;
  for (const std::string& c : query.collections) {
    ACCORD_ASSIGN_OR_RETURN(int64_t cid, CollectionRowId(r.conn(), c, false));
    cids.push_back(cid);
  }
  int64_t hi = 0;  // versions below this vid are still to examine
  if (!query.cursor.empty()) {
    ACCORD_ASSIGN_OR_RETURN(hi, DecodeCursor(query.cursor, kBrowseCursor));
  } else {
    ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                            Cached(r.conn(), "SELECT coalesce(max(vid), 0) FROM objects"));
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "search"));
    if (row) hi = ColInt(q.get(), 0) + 1;
  }
  // The upper (exclusive) and lower vids, the filters, the row limit, in text order: the
  // bounds and the limit change per window.
  Binder b;
  b.values.emplace_back(int64_t{0});
  b.values.emplace_back(int64_t{0});
  std::string sql;
  if (!fts.empty()) {
    // PERF: driven by the full-text index in rowid order (CROSS JOIN keeps SQLite from
    // walking objects and probing the index per row).
    sql =
        "SELECT o.vid, o.id, o.type, o.modified, o.revoked, o.first_added FROM object_text t "
        "CROSS JOIN objects o ON o.vid = t.rowid WHERE t.rowid < ? AND t.rowid >= ? AND "
        "object_text MATCH ?";
    b.values.emplace_back(fts);
  } else {
    sql =
        "SELECT o.vid, o.id, o.type, o.modified, o.revoked, o.first_added FROM objects o "
        "WHERE o.vid < ? AND o.vid >= ?";
  }
  if (!query.types.empty()) common::Append(&sql, " AND o.type IN ", b.In(query.types));
  if (query.modified_from) common::Append(&sql, " AND o.modified >= ", b.One(*query.modified_from));
  if (query.modified_until) {
    common::Append(&sql, " AND o.modified < ", b.One(*query.modified_until));
  }
  common::Append(&sql, " AND EXISTS (SELECT 1 FROM membership m WHERE m.vid = o.vid AND m.cid IN ",
                 b.In(cids), ")");
  common::Append(&sql,
                 " AND o.modified = (SELECT max(o2.modified) FROM objects o2 WHERE o2.idh = o.idh "
                 "AND o2.id = o.id) ORDER BY ",
                 fts.empty() ? "o.vid" : "t.rowid", " DESC LIMIT ?");
  b.values.emplace_back(int64_t{0});
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(), sql));
  auto window = [&](int64_t upper, int64_t lower, uint64_t max_rows,
                    std::vector<BrowseRow>* rows) -> absl::Status {
    b.values[0] = upper;
    b.values[1] = lower;
    b.values.back() = static_cast<int64_t>(max_rows);
    sqlite3_reset(q.get());
    ACCORD_RETURN_IF_ERROR(b.Bind(q.get()));
    while (true) {
      absl::StatusOr<bool> row = Step(q.get(), "search");
      if (!row.ok() && !fts.empty() &&
          std::string(row.status().message()).find("fts5") != std::string::npos) {
        // Words the index cannot take (WordCodePoint let through a separator): said so.
        return absl::InvalidArgumentError(
            common::Cat("these words cannot be searched: ", query.text.substr(0, 200)));
      }
      if (!row.ok()) return row.status();
      if (!*row) return absl::OkStatus();
      BrowseRow& h = rows->emplace_back();
      h.vid = ColInt(q.get(), 0);
      h.hit.id = ColText(q.get(), 1);
      h.hit.type = ColText(q.get(), 2);
      h.hit.modified = ColInt(q.get(), 3);
      h.hit.revoked = ColInt(q.get(), 4) != 0;
      h.hit.stored = ColInt(q.get(), 5);
    }
  };
  ACCORD_ASSIGN_OR_RETURN(hi, BrowseWindows(query, hi, window, &page));
  if (page.more) {
    ACCORD_ASSIGN_OR_RETURN(StmtRef t,
                            Cached(r.conn(),
                                   "SELECT first_added FROM objects WHERE vid >= ?1 ORDER BY vid "
                                   "LIMIT 1"));
    ACCORD_RETURN_IF_ERROR(BindInt(t.get(), 1, hi));
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(t.get(), "search"));
    if (row) page.reached = ColInt(t.get(), 0);
  }
  return page;
}

absl::StatusOr<bool> SqliteStore::ValueIndexCurrent() {
  ACCORD_ASSIGN_OR_RETURN(auto stale, GetSetting("value_index.stale"));
  return !stale.has_value();
}

absl::StatusOr<uint64_t> SqliteStore::Reindex() {
  if (!options_.derive_terms) {
    return absl::FailedPreconditionError("no value-index deriver in this process");
  }
  std::unique_lock<WriteMutex> l(write_mu_);
  sqlite3* db = writer_->get();
  Txn t(db);
  ACCORD_RETURN_IF_ERROR(t.Begin(true));
  ACCORD_RETURN_IF_ERROR(Exec(
      db, "DELETE FROM value_keys; INSERT INTO object_text(object_text) VALUES('delete-all');"));
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db,
                                          "SELECT vid, id, type, modified, log_off, log_len "
                                          "FROM objects ORDER BY vid"));
  uint64_t rows = 0;
  TermRows terms;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "read versions to index"));
    if (!row) break;
    stix::ObjectRecord rec;
    int64_t vid = ColInt(q.get(), 0);
    rec.id = ColText(q.get(), 1);
    rec.type = ColText(q.get(), 2);
    rec.modified = ColInt(q.get(), 3);
    ACCORD_RETURN_IF_ERROR(log_->Read({{ColInt(q.get(), 4), ColInt(q.get(), 5), &rec.json}}));
    ACCORD_RETURN_IF_ERROR(IndexVersion(writer_.get(), vid, rec, &terms));
    if (terms.Full()) ACCORD_RETURN_IF_ERROR(FlushTerms(writer_.get(), &terms));
    ++rows;
  }
  ACCORD_RETURN_IF_ERROR(FlushTerms(writer_.get(), &terms));
  ACCORD_RETURN_IF_ERROR(Exec(db, "DELETE FROM settings WHERE key = 'value_index.stale'"));
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return rows;
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetSetting(const std::string& key) {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(r.get(), "SELECT value FROM settings WHERE key=?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key));
  // A failed step (SQLITE_BUSY included) is an error, never "unset" (issue 9).
  ACCORD_ASSIGN_OR_RETURN(bool found, Step(q.get(), common::Cat("read setting '", key, "'")));
  if (found) return std::optional<std::string>(ColText(q.get(), 0));
  return std::optional<std::string>();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SqliteStore::ListSettings() {
  Reader r(this);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(r.get(), "SELECT key, value FROM settings ORDER BY key"));
  std::vector<std::pair<std::string, std::string>> out;
  ACCORD_RETURN_IF_ERROR(ForEachRow(q.get(), "list settings", [&](sqlite3_stmt* st) {
    out.emplace_back(ColText(st, 0), ColText(st, 1));
  }));
  return out;
}

absl::Status SqliteStore::PutSetting(const std::string& key, const std::string& value) {
  std::unique_lock<WriteMutex> l(write_mu_);
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(writer_->get(),
                                          "INSERT INTO settings(key, value) VALUES(?1, ?2) "
                                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, value));
  return StepDone(q.get(), common::Cat("put setting '", key, "'"));
}

absl::StatusOr<std::string> SqliteStore::PutSettingIfAbsent(const std::string& key,
                                                            const std::string& value) {
  std::unique_lock<WriteMutex> l(write_mu_);
  sqlite3* db = writer_->get();
  // One transaction under the write lock, which other processes wait for too.
  Txn t(db);
  ACCORD_RETURN_IF_ERROR(t.Begin(true));
  ACCORD_ASSIGN_OR_RETURN(Stmt ins, Prepare(db,
                                            "INSERT INTO settings(key, value) VALUES(?1, ?2) "
                                            "ON CONFLICT(key) DO NOTHING"));
  ACCORD_RETURN_IF_ERROR(BindText(ins.get(), 1, key));
  ACCORD_RETURN_IF_ERROR(BindText(ins.get(), 2, value));
  ACCORD_RETURN_IF_ERROR(StepDone(ins.get(), common::Cat("put setting '", key, "'")));
  ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db, "SELECT value FROM settings WHERE key = ?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "read a setting"));
  if (!row) return absl::InternalError(common::Cat("setting '", key, "' vanished"));
  std::string held = ColText(q.get(), 0);
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return held;
}

// ---------------------------------------------------------------------------------------------
// The match ledger

int64_t BucketLast(int64_t bucket, int64_t len) {
  return bucket > INT64_MAX - (len - 1) ? INT64_MAX : bucket + (len - 1);
}

absl::Status CheckRestorable(const std::vector<RecordedMatch>& records) {
  for (const RecordedMatch& m : records) {
    if (m.recorded <= 0) {
      return absl::InvalidArgumentError(common::Cat("match record (", m.event, ", ", m.indicator,
                                                    "): recording time ", m.recorded,
                                                    " is not > 0"));
    }
  }
  return absl::OkStatus();
}

namespace {

constexpr const char* kInsertMatch =
    "INSERT INTO match_records(event, indicator, time, recorded) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(event, indicator) DO NOTHING";

// The last recording time drawn (match_clock). REQUIRES: `c` is the writer, in a write
// transaction.
absl::StatusOr<int64_t> LastRecorded(Conn* c) {
  ACCORD_ASSIGN_OR_RETURN(StmtRef clock,
                          Cached(c, "SELECT last_recorded FROM match_clock WHERE one = 1"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(clock.get(), "read the match clock"));
  if (!row) return absl::DataLossError("the match_clock row is missing");
  return ColInt(clock.get(), 0);
}

// Steps kInsertMatch (its ?4 bound already) for one pair: true when the pair was new. A pair
// recorded already (earlier, or earlier in the same call) changes no row.
absl::StatusOr<bool> InsertMatch(Conn* c, sqlite3_stmt* q, std::string_view event,
                                 std::string_view indicator, int64_t time) {
  ACCORD_RETURN_IF_ERROR(BindStatic(q, 1, event));
  ACCORD_RETURN_IF_ERROR(BindStatic(q, 2, indicator));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 3, time));
  absl::Status done = StepDone(q, "record a match");
  sqlite3_reset(q);  // rewinds; the step's result is `done`
  if (!done.ok()) return done;
  return sqlite3_changes(c->get()) > 0;
}

absl::Status RecordedAlready(const RecordedMatch& m) {
  return absl::AlreadyExistsError(
      common::Cat("match record (", m.event, ", ", m.indicator, ") is in the ledger already"));
}

}  // namespace

absl::StatusOr<std::vector<size_t>> SqliteMatchLedger::Record(
    const std::vector<MatchRecord>& records) {
  std::vector<size_t> fresh;
  if (records.empty()) return fresh;
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  std::unique_lock<WriteMutex> lock(store_->write_mu());
  Conn* c = store_->writer();
  Txn txn(c->get());
  ACCORD_RETURN_IF_ERROR(txn.Begin(true));
  // Drawn under the write lock (BEGIN IMMEDIATE: across processes too), as date_added is: this
  // transaction commits its recording time before any later writer draws one.
  ACCORD_ASSIGN_OR_RETURN(const int64_t last, LastRecorded(c));
  const int64_t recorded = std::max(common::NowMicros(), last + 1);
  ACCORD_ASSIGN_OR_RETURN(StmtRef ins, Cached(c, kInsertMatch));
  sqlite3_stmt* q = ins.get();
  ACCORD_RETURN_IF_ERROR(BindInt(q, 4, recorded));
  for (size_t i = 0; i < records.size(); ++i) {
    const MatchRecord& m = records[i];
    ACCORD_ASSIGN_OR_RETURN(bool added, InsertMatch(c, q, m.event, m.indicator, m.time));
    if (added) fresh.push_back(i);
  }
  ins = StmtRef(nullptr, nullptr);
  if (!fresh.empty()) ACCORD_RETURN_IF_ERROR(SetOneRow(c, kSetLastRecorded, recorded));
  ACCORD_RETURN_IF_ERROR(txn.Commit());
  return fresh;
}

absl::StatusOr<std::vector<MatchTally>> SqliteMatchLedger::Tally(
    Micros bucket_len, const std::vector<std::pair<std::string, Micros>>& keys) {
  if (bucket_len <= 0) {
    return absl::InvalidArgumentError(common::Cat("bucket length ", bucket_len, " is not > 0"));
  }
  std::vector<MatchTally> out;
  if (keys.empty()) return out;
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  Txn snapshot(r.get());  // every key's tally from one state of the ledger
  ACCORD_RETURN_IF_ERROR(snapshot.Begin(false));
  ACCORD_ASSIGN_OR_RETURN(StmtRef st,
                          Cached(r.conn(),
                                 "SELECT count(*), min(time), max(time), min(recorded), "
                                 "max(recorded) FROM match_records "
                                 "WHERE indicator = ?1 AND time BETWEEN ?2 AND ?3"));
  sqlite3_stmt* q = st.get();
  for (const auto& [indicator, bucket] : keys) {
    ACCORD_RETURN_IF_ERROR(BindStatic(q, 1, indicator));
    ACCORD_RETURN_IF_ERROR(BindInt(q, 2, bucket));
    ACCORD_RETURN_IF_ERROR(BindInt(q, 3, BucketLast(bucket, bucket_len)));
    absl::StatusOr<bool> row = Step(q, "tally matches");
    if (row.ok() && *row && ColInt(q, 0) > 0) {
      out.push_back(MatchTally{indicator, bucket, static_cast<uint64_t>(ColInt(q, 0)), ColInt(q, 1),
                               ColInt(q, 2), ColInt(q, 3), ColInt(q, 4)});
    }
    sqlite3_reset(q);  // rewinds; the step's result is `row`
    if (!row.ok()) return row.status();
  }
  st = StmtRef(nullptr, nullptr);  // no statement in progress at COMMIT
  ACCORD_RETURN_IF_ERROR(snapshot.Commit());
  return out;
}

absl::StatusOr<uint64_t> SqliteMatchLedger::Count() {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(), "SELECT count(*) FROM match_records"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "count matches"));
  if (!row) return absl::InternalError("count matches: no result");
  return static_cast<uint64_t>(ColInt(q.get(), 0));
}

// PERF: pages by the primary key, by which the table is stored (WITHOUT ROWID): each page is
// one range read however large the ledger.
absl::StatusOr<std::vector<RecordedMatch>> SqliteMatchLedger::Scan(const RecordedMatch* after,
                                                                   uint64_t limit) {
  std::vector<RecordedMatch> out;
  if (limit == 0) return out;
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(
      StmtRef st,
      Cached(r.conn(), after == nullptr ? "SELECT event, indicator, time, recorded FROM "
                                          "match_records ORDER BY event, indicator LIMIT ?3"
                                        : "SELECT event, indicator, time, recorded FROM "
                                          "match_records WHERE (event, indicator) > (?1, ?2) "
                                          "ORDER BY event, indicator LIMIT ?3"));
  sqlite3_stmt* q = st.get();
  if (after != nullptr) {
    ACCORD_RETURN_IF_ERROR(BindStatic(q, 1, after->event));
    ACCORD_RETURN_IF_ERROR(BindStatic(q, 2, after->indicator));
  }
  ACCORD_RETURN_IF_ERROR(BindInt(q, 3, static_cast<int64_t>(std::min<uint64_t>(limit, INT64_MAX))));
  ACCORD_RETURN_IF_ERROR(ForEachRow(q, "scan matches", [&](sqlite3_stmt* row) {
    out.push_back({ColText(row, 0), ColText(row, 1), ColInt(row, 2), ColInt(row, 3)});
  }));
  return out;
}

absl::Status SqliteMatchLedger::Restore(const std::vector<RecordedMatch>& records) {
  if (records.empty()) return absl::OkStatus();
  ACCORD_RETURN_IF_ERROR(CheckRestorable(records));
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  std::unique_lock<WriteMutex> lock(store_->write_mu());
  Conn* c = store_->writer();
  Txn txn(c->get());
  ACCORD_RETURN_IF_ERROR(txn.Begin(true));
  ACCORD_ASSIGN_OR_RETURN(int64_t last, LastRecorded(c));
  ACCORD_ASSIGN_OR_RETURN(StmtRef ins, Cached(c, kInsertMatch));
  sqlite3_stmt* q = ins.get();
  for (const RecordedMatch& m : records) {
    ACCORD_RETURN_IF_ERROR(BindInt(q, 4, m.recorded));
    ACCORD_ASSIGN_OR_RETURN(bool added, InsertMatch(c, q, m.event, m.indicator, m.time));
    if (!added) return RecordedAlready(m);
    last = std::max(last, m.recorded);
  }
  ins = StmtRef(nullptr, nullptr);
  ACCORD_RETURN_IF_ERROR(SetOneRow(c, kSetLastRecorded, last));
  return txn.Commit();
}

}  // namespace detail

namespace {
// What the process installed (SetDefaultTermDeriver, SetDefaultDomTermDeriver); never freed.
template <typename Deriver>
Deriver& InstalledSlot() {
  static auto* d = new Deriver();
  return *d;
}
}  // namespace

void SetDefaultTermDeriver(TermDeriver deriver) {
  InstalledSlot<TermDeriver>() = std::move(deriver);
}
const TermDeriver& DefaultTermDeriver() { return InstalledSlot<TermDeriver>(); }
void SetDefaultDomTermDeriver(DomTermDeriver deriver) {
  InstalledSlot<DomTermDeriver>() = std::move(deriver);
}
const DomTermDeriver& DefaultDomTermDeriver() { return InstalledSlot<DomTermDeriver>(); }

}  // namespace accord::store
