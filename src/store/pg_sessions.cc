// The web UI's browser sessions in the PostgreSQL store (pg_store.h, PgSessionStore): one table
// that every frontend reads, so that a session signed in through one frontend is one on all of
// them and a sign-out on one ends it everywhere. The statements are SQLite's
// (sqlite_sessions.cc).
#include <string>

#include "store/pg_store.h"

namespace accord::store::detail {

namespace {

// Serialises Puts across every process on the database, so that the bound on rows holds
// exactly; apart from the store's write lock, so that a sign-in never waits for an import.
// ("sess" in ASCII.)
constexpr const char* kSessionLock = "SELECT pg_advisory_xact_lock(115101115115)";

// Put's statements, in the transaction the caller opened on `c`.
absl::Status PutIn(PgConn* c, const SessionRow& row, const SessionBounds& bounds) {
  ACCORD_RETURN_IF_ERROR(c->Run(kSessionLock, "take the sessions' lock").status());
  ACCORD_RETURN_IF_ERROR(
      c->Run("DELETE FROM web_sessions WHERE key IN (SELECT key FROM web_sessions WHERE "
             "key <> $1 AND (last_used < $2::bigint OR created < $3::bigint) LIMIT $4::bigint)",
             PgParams()
                 .Text(row.key)
                 .Num(bounds.idle_before)
                 .Num(bounds.created_before)
                 .Num(static_cast<int64_t>(SessionStore::kMaxSwept)),
             "sweep expired sessions")
          .status());
  ACCORD_RETURN_IF_ERROR(
      c->Run("INSERT INTO web_sessions(key, csrf_hash, \"user\", key_id, role, created, "
             "last_used) VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint) "
             "ON CONFLICT (key) DO UPDATE SET csrf_hash = EXCLUDED.csrf_hash, "
             "\"user\" = EXCLUDED.\"user\", key_id = EXCLUDED.key_id, role = EXCLUDED.role, "
             "created = EXCLUDED.created, last_used = EXCLUDED.last_used",
             PgParams()
                 .Text(row.key)
                 .Text(row.csrf_hash)
                 .Text(row.user)
                 .Text(row.key_id)
                 .Text(row.role)
                 .Num(row.created)
                 .Num(row.last_used),
             "store a session")
          .status());
  if (bounds.max_rows == 0) return absl::OkStatus();
  ACCORD_ASSIGN_OR_RETURN(PgRows n, c->Run("SELECT count(*) FROM web_sessions", "count sessions"));
  const uint64_t rows = static_cast<uint64_t>(n.num(0, 0));
  if (rows <= bounds.max_rows) return absl::OkStatus();
  // Keys are hex: the C collation orders them as SQLite does.
  return c
      ->Run(
          "DELETE FROM web_sessions WHERE key IN (SELECT key FROM web_sessions WHERE "
          "key <> $1 ORDER BY last_used, key COLLATE \"C\" LIMIT $2::bigint)",
          PgParams().Text(row.key).Num(static_cast<int64_t>(rows - bounds.max_rows)),
          "end the least recently used sessions")
      .status();
}

}  // namespace

absl::Status PgSessionStore::Put(const SessionRow& row, const SessionBounds& bounds) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_RETURN_IF_ERROR(c->Exec("BEGIN", "begin a session write"));
  absl::Status put = PutIn(c.get(), row, bounds);
  if (!put.ok()) {
    (void)c->Exec("ROLLBACK", "roll back");  // `put` says what failed
    return put;
  }
  return c->Exec("COMMIT", "commit a session");
}

absl::StatusOr<std::optional<SessionRow>> PgSessionStore::Find(const std::string& key) {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT csrf_hash, \"user\", key_id, role, created, "
                                           "last_used FROM web_sessions WHERE key = $1",
                                           PgParams().Text(key), "read a session"));
  if (r.size() == 0) return std::optional<SessionRow>();
  return SessionRow{key,
                    std::string(r.text(0, 0)),
                    std::string(r.text(0, 1)),
                    std::string(r.text(0, 2)),
                    std::string(r.text(0, 3)),
                    r.num(0, 4),
                    r.num(0, 5)};
}

absl::StatusOr<bool> PgSessionStore::Touch(const std::string& key, Micros last_used) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  // An UPDATE counts every row it matched, moved forward or not.
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("UPDATE web_sessions SET last_used = "
                                 "greatest(last_used, $2::bigint) WHERE key = $1",
                                 PgParams().Text(key).Num(last_used), "note a session's use"));
  return r.changed() > 0;
}

absl::Status PgSessionStore::Delete(const std::string& key) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  return c->Run("DELETE FROM web_sessions WHERE key = $1", PgParams().Text(key), "end a session")
      .status();
}

absl::StatusOr<uint64_t> PgSessionStore::Count() {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT count(*) FROM web_sessions", "count sessions"));
  return static_cast<uint64_t>(r.num(0, 0));
}

}  // namespace accord::store::detail
