// The SQLite backend's SessionStore (sqlite_store.h): the web UI's browser sessions in
// accord.db, table web_sessions (schema 12).
#include <sqlite3.h>

#include <mutex>

#include "store/sqlite_store.h"
#include "store/sqlite_util.h"

namespace accord::store::detail {

// One row per session, keyed by the hash of its cookie. PERF: the sweep of a Put finds expired
// rows by the indexes on last_used and created, and an eviction the oldest by last_used, without
// reading the table.
const char* const kSessionSchema = R"sql(
CREATE TABLE IF NOT EXISTS web_sessions(
  key TEXT PRIMARY KEY,
  csrf_hash TEXT NOT NULL,
  user TEXT NOT NULL,
  key_id TEXT NOT NULL,
  role TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS web_sessions_last_used ON web_sessions(last_used);
CREATE INDEX IF NOT EXISTS web_sessions_created ON web_sessions(created);
)sql";

namespace {

// The number of rows (`c` held by the caller).
absl::StatusOr<uint64_t> CountRows(Conn* c) {
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(c, "SELECT count(*) FROM web_sessions"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "count sessions"));
  if (!row) return absl::InternalError("count sessions: no result");
  return static_cast<uint64_t>(ColInt(q.get(), 0));
}

// Runs the write `sql` with text ?1 and, when given, integers ?2.. on the writer (`c`, under
// the caller's write lock); the rows it changed (an UPDATE counts every row it matched).
absl::StatusOr<int> Write(Conn* c, const char* sql, std::string_view what, std::string_view text,
                          std::initializer_list<int64_t> nums = {}) {
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(c, sql));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, text));
  int i = 2;
  for (int64_t n : nums) ACCORD_RETURN_IF_ERROR(BindInt(q.get(), i++, n));
  ACCORD_RETURN_IF_ERROR(StepDone(q.get(), what));
  return sqlite3_changes(c->get());
}

}  // namespace

absl::Status SqliteSessionStore::Put(const SessionRow& row, const SessionBounds& bounds) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  std::unique_lock<WriteMutex> lock(store_->write_mu());
  Conn* c = store_->writer();
  Txn txn(c->get());
  ACCORD_RETURN_IF_ERROR(txn.Begin(true));
  ACCORD_RETURN_IF_ERROR(
      Write(c,
            "DELETE FROM web_sessions WHERE key IN (SELECT key FROM "
            "web_sessions WHERE key <> ?1 AND (last_used < ?2 OR "
            "created < ?3) LIMIT ?4)",
            "sweep expired sessions", row.key,
            {bounds.idle_before, bounds.created_before, static_cast<int64_t>(kMaxSwept)})
          .status());
  ACCORD_ASSIGN_OR_RETURN(StmtRef ins, Cached(c,
                                              "INSERT OR REPLACE INTO web_sessions(key, "
                                              "csrf_hash, user, key_id, role, created, "
                                              "last_used) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  sqlite3_stmt* q = ins.get();
  ACCORD_RETURN_IF_ERROR(BindText(q, 1, row.key));
  ACCORD_RETURN_IF_ERROR(BindText(q, 2, row.csrf_hash));
  ACCORD_RETURN_IF_ERROR(BindText(q, 3, row.user));
  ACCORD_RETURN_IF_ERROR(BindText(q, 4, row.key_id));
  ACCORD_RETURN_IF_ERROR(BindText(q, 5, row.role));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 6, row.created));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 7, row.last_used));
  ACCORD_RETURN_IF_ERROR(StepDone(q, "store a session"));
  ins = StmtRef(nullptr, nullptr);
  if (bounds.max_rows > 0) {
    ACCORD_ASSIGN_OR_RETURN(uint64_t n, CountRows(c));
    if (n > bounds.max_rows) {
      ACCORD_RETURN_IF_ERROR(Write(c,
                                   "DELETE FROM web_sessions WHERE key IN (SELECT key FROM "
                                   "web_sessions WHERE key <> ?1 ORDER BY last_used, key "
                                   "LIMIT ?2)",
                                   "end the least recently used sessions", row.key,
                                   {static_cast<int64_t>(n - bounds.max_rows)})
                                 .status());
    }
  }
  return txn.Commit();
}

absl::StatusOr<std::optional<SessionRow>> SqliteSessionStore::Find(const std::string& key) {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef st, Cached(r.conn(),
                                             "SELECT csrf_hash, user, key_id, role, created, "
                                             "last_used FROM web_sessions WHERE key = ?1"));
  sqlite3_stmt* q = st.get();
  ACCORD_RETURN_IF_ERROR(BindText(q, 1, key));
  ACCORD_ASSIGN_OR_RETURN(bool found, Step(q, "read a session"));
  if (!found) return std::optional<SessionRow>();
  return SessionRow{key,           ColText(q, 0), ColText(q, 1), ColText(q, 2),
                    ColText(q, 3), ColInt(q, 4),  ColInt(q, 5)};
}

absl::StatusOr<bool> SqliteSessionStore::Touch(const std::string& key, Micros last_used) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  std::unique_lock<WriteMutex> lock(store_->write_mu());
  ACCORD_ASSIGN_OR_RETURN(int changed,
                          Write(store_->writer(),
                                "UPDATE web_sessions SET last_used = max(last_used, ?2) "
                                "WHERE key = ?1",
                                "note a session's use", key, {last_used}));
  return changed > 0;
}

absl::Status SqliteSessionStore::Delete(const std::string& key) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  std::unique_lock<WriteMutex> lock(store_->write_mu());
  return Write(store_->writer(), "DELETE FROM web_sessions WHERE key = ?1", "end a session", key)
      .status();
}

absl::StatusOr<uint64_t> SqliteSessionStore::Count() {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  return CountRows(r.conn());
}

}  // namespace accord::store::detail
