#include "store/sqlite_auth.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "accord/common/strings.h"
#include "store/sqlite_store.h"
#include "store/sqlite_util.h"

namespace accord::store::detail {

// Users, keys and grants: the tables of the former <data>/auth.db (src/http/auth_db.cc up to
// schema 2), plus a one-row generation counter that every change bumps in its transaction,
// so that another process notices a change with one indexed read.
const char* const kAuthSchema = R"sql(
CREATE TABLE IF NOT EXISTS users(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  key_id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), hash TEXT NOT NULL,
  created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, label TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys(user);
CREATE TABLE IF NOT EXISTS grants(
  user TEXT NOT NULL, collection TEXT NOT NULL, can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL, PRIMARY KEY(user, collection));
CREATE TABLE IF NOT EXISTS auth_generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO auth_generation(one, n) VALUES(1, 0);
)sql";

namespace {

constexpr const char* kBumpAuthGeneration = "UPDATE auth_generation SET n = n + 1 WHERE one = 1";

// One auth change: the store's write lock, an IMMEDIATE transaction on the writer connection,
// and the generation bump before the commit.
class AuthWrite {
 public:
  explicit AuthWrite(SqliteStore* s)
      : lock_(s->write_mu()), conn_(s->writer()), txn_(conn_->get()) {}
  absl::Status Begin() { return txn_.Begin(true); }
  absl::Status Commit() {
    ACCORD_RETURN_IF_ERROR(Exec(conn_->get(), kBumpAuthGeneration));
    return txn_.Commit();
  }
  Conn* conn() const { return conn_; }
  sqlite3* db() const { return conn_->get(); }

 private:
  std::unique_lock<WriteMutex> lock_;
  Conn* conn_;
  Txn txn_;
};

// Whether `user` exists (on the connection of a write in progress).
absl::StatusOr<bool> UserExists(Conn* c, const std::string& user) {
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(c, "SELECT 1 FROM users WHERE name = ?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, user));
  return Step(q.get(), "find user");
}

absl::Status NoUser(const std::string& user) {
  return absl::NotFoundError(common::Cat("no user '", user, "'"));
}

// Columns name, role, created.
AuthUser RowToUser(sqlite3_stmt* s) { return AuthUser{ColText(s, 0), ColText(s, 1), ColInt(s, 2)}; }

// Columns key_id, user, hash, created, revoked, label.
AuthKey RowToKey(sqlite3_stmt* s) {
  return AuthKey{ColText(s, 0), ColText(s, 1),     ColText(s, 2),
                 ColInt(s, 3),  ColInt(s, 4) != 0, ColText(s, 5)};
}

}  // namespace

absl::Status SqliteAuthStore::AddUser(const AuthUser& user) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  AuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_ASSIGN_OR_RETURN(
      StmtRef q, Cached(w.conn(), "INSERT INTO users(name, role, created) VALUES(?1, ?2, ?3)"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, user.name));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, user.role));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 3, user.created));
  if (absl::Status st = StepDone(q.get(), "add user"); !st.ok()) {
    if (sqlite3_errcode(w.db()) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(common::Cat("user '", user.name, "' already exists"));
    }
    return st;
  }
  return w.Commit();
}

absl::Status SqliteAuthStore::SetUserRole(const std::string& name, const std::string& role) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  AuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_ASSIGN_OR_RETURN(bool exists, UserExists(w.conn(), name));
  if (!exists) return NoUser(name);
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(w.conn(), "UPDATE users SET role = ?2 WHERE name = ?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, name));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, role));
  ACCORD_RETURN_IF_ERROR(StepDone(q.get(), "set role"));
  return w.Commit();
}

absl::StatusOr<std::vector<AuthUser>> SqliteAuthStore::ListUsers() {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(), "SELECT name, role, created FROM users ORDER BY name"));
  std::vector<AuthUser> out;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list users"));
    if (!row) break;
    out.push_back(RowToUser(q.get()));
  }
  return out;
}

absl::StatusOr<std::optional<AuthUser>> SqliteAuthStore::FindUser(const std::string& name) {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(
      StmtRef q, Cached(r.conn(), "SELECT name, role, created FROM users WHERE name = ?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, name));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "find user"));
  if (!row) return std::optional<AuthUser>();
  return std::optional<AuthUser>(RowToUser(q.get()));
}

absl::StatusOr<bool> SqliteAuthStore::HasUsers() {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(), "SELECT 1 FROM users LIMIT 1"));
  return Step(q.get(), "count users");
}

absl::Status SqliteAuthStore::AddKey(const AuthKey& key) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  AuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_ASSIGN_OR_RETURN(bool exists, UserExists(w.conn(), key.user));
  if (!exists) return NoUser(key.user);
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(w.conn(),
                                 "INSERT INTO api_keys(key_id, user, hash, created, revoked, "
                                 "label) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key.key_id));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, key.user));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 3, key.hash));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 4, key.created));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 5, key.revoked ? 1 : 0));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 6, key.label));
  if (absl::Status st = StepDone(q.get(), "add key"); !st.ok()) {
    if (sqlite3_errcode(w.db()) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(common::Cat("key '", key.key_id, "' already exists"));
    }
    return st;
  }
  return w.Commit();
}

absl::StatusOr<std::optional<AuthKey>> SqliteAuthStore::FindKey(const std::string& key_id) {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(),
                                            "SELECT key_id, user, hash, created, "
                                            "revoked, label FROM api_keys "
                                            "WHERE key_id = ?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key_id));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "find key"));
  if (!row) return std::optional<AuthKey>();
  return std::optional<AuthKey>(RowToKey(q.get()));
}

absl::Status SqliteAuthStore::RevokeKey(const std::string& key_id) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  AuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(w.conn(), "UPDATE api_keys SET revoked = 1 WHERE key_id = ?1"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, key_id));
  ACCORD_RETURN_IF_ERROR(StepDone(q.get(), "revoke key"));
  if (sqlite3_changes(w.db()) == 0) {
    return absl::NotFoundError(common::Cat("no key '", key_id, "'"));
  }
  return w.Commit();
}

absl::StatusOr<std::vector<AuthKey>> SqliteAuthStore::ListKeys(const std::string& user) {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  // The hash stays in the store: listings never need it.
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(),
                                            "SELECT key_id, user, '', created, "
                                            "revoked, label FROM api_keys WHERE ?1 = '' "
                                            "OR user = ?1 ORDER BY created, key_id"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, user));
  std::vector<AuthKey> out;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list keys"));
    if (!row) break;
    out.push_back(RowToKey(q.get()));
  }
  return out;
}

absl::Status SqliteAuthStore::SetGrant(const AuthGrant& grant) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  AuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_ASSIGN_OR_RETURN(bool exists, UserExists(w.conn(), grant.user));
  if (!exists) return NoUser(grant.user);
  if (!grant.read && !grant.write) {
    ACCORD_ASSIGN_OR_RETURN(
        StmtRef q, Cached(w.conn(), "DELETE FROM grants WHERE user = ?1 AND collection = ?2"));
    ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, grant.user));
    ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, grant.collection));
    ACCORD_RETURN_IF_ERROR(StepDone(q.get(), "remove grant"));
  } else {
    ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                            Cached(w.conn(),
                                   "INSERT OR REPLACE INTO grants(user, collection, can_read, "
                                   "can_write) VALUES(?1, ?2, ?3, ?4)"));
    ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, grant.user));
    ACCORD_RETURN_IF_ERROR(BindText(q.get(), 2, grant.collection));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 3, grant.read ? 1 : 0));
    ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 4, grant.write ? 1 : 0));
    ACCORD_RETURN_IF_ERROR(StepDone(q.get(), "set grant"));
  }
  return w.Commit();
}

absl::StatusOr<std::vector<AuthGrant>> SqliteAuthStore::ListGrants(const std::string& user) {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q, Cached(r.conn(),
                                            "SELECT user, collection, can_read, "
                                            "can_write FROM grants WHERE user = ?1 "
                                            "ORDER BY collection"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, user));
  std::vector<AuthGrant> out;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "list grants"));
    if (!row) break;
    out.push_back(AuthGrant{ColText(q.get(), 0), ColText(q.get(), 1), ColInt(q.get(), 2) != 0,
                            ColInt(q.get(), 3) != 0});
  }
  return out;
}

absl::StatusOr<uint64_t> SqliteAuthStore::AuthGeneration() {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(), "SELECT n FROM auth_generation WHERE one = 1"));
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), "auth generation"));
  if (!row) return absl::DataLossError("the auth_generation row is missing");
  return static_cast<uint64_t>(ColInt(q.get(), 0));
}

// ---------------------------------------------------------------------------------------------
// Migration of a schema-2 node's <data>/auth.db

namespace {

// Renames `from` to `to` when `from` exists, owner-only.
absl::Status RenameIfPresent(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();  // another process migrated it first
    return absl::FailedPreconditionError(
        common::Cat(from.string(), ": cannot rename to ", to.string(), ": ", std::strerror(errno)));
  }
  // The old code created auth.db with the umask's mode (often 0644); it holds key hashes.
  if (::chmod(to.c_str(), 0600) != 0) {
    return absl::FailedPreconditionError(
        common::Cat(to.string(), ": cannot make it owner-only: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MigrateLegacyAuthDb(sqlite3* db, const std::string& dir) {
  const std::filesystem::path legacy = std::filesystem::path(dir) / "auth.db";
  std::error_code ec;
  if (!std::filesystem::exists(legacy, ec)) return absl::OkStatus();
  const std::string what =
      common::Cat(legacy.string(), ": migrating users and keys into the store");
  // ATTACH cannot run inside a transaction; the copy below is one transaction. Two processes
  // migrating at once copy the same rows, and INSERT OR IGNORE keeps the second copy harmless
  // (and never undoes a revocation made in the store since).
  {
    ACCORD_ASSIGN_OR_RETURN(Stmt at, Prepare(db, "ATTACH DATABASE ?1 AS legacy"));
    ACCORD_RETURN_IF_ERROR(BindText(at.get(), 1, legacy.string()));
    if (absl::Status st = StepDone(at.get(), what); !st.ok()) return st;
  }
  struct Detach {
    sqlite3* db;
    // On an error path, best effort: a connection left with `legacy` attached only holds a
    // file open. The normal path detaches below, checked.
    ~Detach() {
      if (db != nullptr) sqlite3_exec(db, "DETACH DATABASE legacy", nullptr, nullptr, nullptr);
    }
  } detach{db};
  {
    Txn t(db);
    ACCORD_RETURN_IF_ERROR(t.Begin(true));
    // Which of the old tables exist (a file created and never used may lack some).
    ACCORD_ASSIGN_OR_RETURN(
        Stmt q, Prepare(db,
                        "SELECT name FROM legacy.sqlite_master WHERE type = 'table' AND "
                        "name IN ('users', 'api_keys', 'grants')"));
    bool users = false, keys = false, grants = false;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(bool row, Step(q.get(), what));
      if (!row) break;
      std::string name = ColText(q.get(), 0);
      users |= name == "users";
      keys |= name == "api_keys";
      grants |= name == "grants";
    }
    q.reset();
    if (users) {
      ACCORD_RETURN_IF_ERROR(Exec(db,
                                  "INSERT OR IGNORE INTO main.users(name, role, created) "
                                  "SELECT name, CASE role WHEN 'user' THEN 'analyst' ELSE role "
                                  "END, created FROM legacy.users"));
    }
    if (keys) {
      ACCORD_RETURN_IF_ERROR(
          Exec(db,
               "INSERT OR IGNORE INTO main.api_keys(key_id, user, hash, created, revoked, "
               "label) SELECT key_id, user, hash, created, revoked, label FROM legacy.api_keys"));
    }
    if (grants) {
      ACCORD_RETURN_IF_ERROR(
          Exec(db,
               "INSERT OR IGNORE INTO main.grants(user, collection, can_read, can_write) "
               "SELECT user, collection, can_read, can_write FROM legacy.grants"));
    }
    ACCORD_RETURN_IF_ERROR(Exec(db, kBumpAuthGeneration));
    ACCORD_RETURN_IF_ERROR(t.Commit());
  }
  // Detach before renaming, so that SQLite checkpoints and removes the old -wal when this
  // was the last connection to it.
  detach.db = nullptr;
  ACCORD_RETURN_IF_ERROR(Exec(db, "DETACH DATABASE legacy"));
  const std::string base = legacy.string();
  ACCORD_RETURN_IF_ERROR(RenameIfPresent(base, base + ".migrated"));
  ACCORD_RETURN_IF_ERROR(RenameIfPresent(base + "-wal", base + ".migrated-wal"));
  return RenameIfPresent(base + "-shm", base + ".migrated-shm");
}

}  // namespace accord::store::detail
