// Users, keys, grants and TAXII request statuses in the PostgreSQL store (pg_store.h): the
// SQLite backend's tables and rules (sqlite_auth.cc, sqlite_status.cc), so that every frontend
// on one database authenticates against the same keys and serves the same statuses. Every
// auth change bumps auth_generation in its transaction: a key revoked through one frontend is
// refused by every other one as soon as its credential cache next reads the generation.
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "store/pg_store.h"

namespace accord::store::detail {

const char* const kPgAuthSchema = R"sql(
CREATE TABLE IF NOT EXISTS users(
  name text PRIMARY KEY, role text NOT NULL, created bigint NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  key_id text PRIMARY KEY, "user" text NOT NULL REFERENCES users(name), hash text NOT NULL,
  created bigint NOT NULL, revoked boolean NOT NULL DEFAULT false, label text NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys("user");
CREATE TABLE IF NOT EXISTS grants(
  "user" text NOT NULL, collection text NOT NULL, can_read boolean NOT NULL,
  can_write boolean NOT NULL, PRIMARY KEY ("user", collection));
CREATE TABLE IF NOT EXISTS auth_generation(one integer PRIMARY KEY CHECK (one = 1), n bigint NOT NULL);
INSERT INTO auth_generation VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS request_status(
  sid bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  owner text NOT NULL,
  created bigint NOT NULL,
  request_ts bigint NOT NULL,
  complete boolean NOT NULL,
  total bigint NOT NULL,
  success bigint NOT NULL,
  failure bigint NOT NULL,
  pending bigint NOT NULL);
CREATE INDEX IF NOT EXISTS request_status_created ON request_status(created);
CREATE TABLE IF NOT EXISTS request_status_failure(
  sid bigint NOT NULL REFERENCES request_status ON DELETE CASCADE,
  n integer NOT NULL,
  id text NOT NULL,
  version text NOT NULL,
  message text NOT NULL,
  PRIMARY KEY (sid, n));
)sql";

namespace {

// One auth change: a write transaction whose generation bump commits with it.
class PgAuthWrite {
 public:
  explicit PgAuthWrite(PgStore* s) : txn_(s) {}
  absl::Status Begin() { return txn_.Begin(); }
  absl::Status Commit() {
    ACCORD_RETURN_IF_ERROR(
        conn()
            ->Run("UPDATE auth_generation SET n = n + 1 WHERE one = 1", "bump auth generation")
            .status());
    return txn_.Commit();
  }
  PgConn* conn() const { return txn_.conn(); }

 private:
  PgStore::WriteTxn txn_;
};

absl::Status RequireUser(PgConn* c, const std::string& user) {
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run("SELECT 1 FROM users WHERE name = $1", PgParams().Text(user), "find user"));
  if (r.size() == 0) return absl::NotFoundError(common::Cat("no user '", user, "'"));
  return absl::OkStatus();
}

AuthUser RowToUser(const PgRows& r, int i) {
  return AuthUser{std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.num(i, 2)};
}

// Columns key_id, user, hash, created, revoked, label.
AuthKey RowToKey(const PgRows& r, int i) {
  return AuthKey{std::string(r.text(i, 0)),
                 std::string(r.text(i, 1)),
                 std::string(r.text(i, 2)),
                 r.num(i, 3),
                 r.flag(i, 4),
                 std::string(r.text(i, 5))};
}

}  // namespace

absl::Status PgAuthStore::AddUser(const AuthUser& user) {
  PgAuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  absl::Status st =
      w.conn()
          ->Run("INSERT INTO users(name, role, created) VALUES($1, $2, $3)",
                PgParams().Text(user.name).Text(user.role).Num(user.created), "add user")
          .status();
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(common::Cat("user '", user.name, "' already exists"));
  }
  ACCORD_RETURN_IF_ERROR(st);
  return w.Commit();
}

absl::Status PgAuthStore::SetUserRole(const std::string& name, const std::string& role) {
  PgAuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_RETURN_IF_ERROR(RequireUser(w.conn(), name));
  ACCORD_RETURN_IF_ERROR(w.conn()
                             ->Run("UPDATE users SET role = $2 WHERE name = $1",
                                   PgParams().Text(name).Text(role), "set role")
                             .status());
  return w.Commit();
}

absl::StatusOr<std::vector<AuthUser>> PgAuthStore::ListUsers() {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run("SELECT name, role, created FROM users ORDER BY name", "list users"));
  std::vector<AuthUser> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(RowToUser(r, i));
  return out;
}

absl::StatusOr<std::optional<AuthUser>> PgAuthStore::FindUser(const std::string& name) {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT name, role, created FROM users WHERE name = $1",
                                           PgParams().Text(name), "find user"));
  if (r.size() == 0) return std::optional<AuthUser>();
  return std::optional<AuthUser>(RowToUser(r, 0));
}

absl::StatusOr<bool> PgAuthStore::HasUsers() {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT 1 FROM users LIMIT 1", "count users"));
  return r.size() > 0;
}

absl::Status PgAuthStore::AddKey(const AuthKey& key) {
  PgAuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_RETURN_IF_ERROR(RequireUser(w.conn(), key.user));
  absl::Status st = w.conn()
                        ->Run(
                            "INSERT INTO api_keys(key_id, \"user\", hash, created, revoked, label) "
                            "VALUES($1, $2, $3, $4, $5, $6)",
                            PgParams()
                                .Text(key.key_id)
                                .Text(key.user)
                                .Text(key.hash)
                                .Num(key.created)
                                .Flag(key.revoked)
                                .Text(key.label),
                            "add key")
                        .status();
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(common::Cat("key '", key.key_id, "' already exists"));
  }
  ACCORD_RETURN_IF_ERROR(st);
  return w.Commit();
}

absl::StatusOr<std::optional<AuthKey>> PgAuthStore::FindKey(const std::string& key_id) {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT key_id, \"user\", hash, created, revoked, "
                                           "label FROM api_keys WHERE key_id = $1",
                                           PgParams().Text(key_id), "find key"));
  if (r.size() == 0) return std::optional<AuthKey>();
  return std::optional<AuthKey>(RowToKey(r, 0));
}

absl::Status PgAuthStore::RevokeKey(const std::string& key_id) {
  PgAuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, w.conn()->Run("UPDATE api_keys SET revoked = true WHERE "
                                                  "key_id = $1",
                                                  PgParams().Text(key_id), "revoke key"));
  if (r.changed() == 0) return absl::NotFoundError(common::Cat("no key '", key_id, "'"));
  return w.Commit();
}

absl::StatusOr<std::vector<AuthKey>> PgAuthStore::ListKeys(const std::string& user) {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  // The hash stays in the store: listings never need it.
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT key_id, \"user\", '', created, revoked, label "
                                           "FROM api_keys WHERE $1 = '' OR \"user\" = $1 ORDER BY "
                                           "created, key_id",
                                           PgParams().Text(user), "list keys"));
  std::vector<AuthKey> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(RowToKey(r, i));
  return out;
}

absl::Status PgAuthStore::SetGrant(const AuthGrant& grant) {
  PgAuthWrite w(store_);
  ACCORD_RETURN_IF_ERROR(w.Begin());
  ACCORD_RETURN_IF_ERROR(RequireUser(w.conn(), grant.user));
  if (!grant.read && !grant.write) {
    ACCORD_RETURN_IF_ERROR(w.conn()
                               ->Run("DELETE FROM grants WHERE \"user\" = $1 AND collection = $2",
                                     PgParams().Text(grant.user).Text(grant.collection),
                                     "remove grant")
                               .status());
  } else {
    ACCORD_RETURN_IF_ERROR(
        w.conn()
            ->Run("INSERT INTO grants(\"user\", collection, can_read, can_write) VALUES($1, $2, "
                  "$3, $4) ON CONFLICT (\"user\", collection) DO UPDATE SET can_read = "
                  "excluded.can_read, can_write = excluded.can_write",
                  PgParams()
                      .Text(grant.user)
                      .Text(grant.collection)
                      .Flag(grant.read)
                      .Flag(grant.write),
                  "set grant")
            .status());
  }
  return w.Commit();
}

absl::StatusOr<std::vector<AuthGrant>> PgAuthStore::ListGrants(const std::string& user) {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r, c->Run("SELECT \"user\", collection, can_read, can_write FROM "
                                           "grants WHERE \"user\" = $1 ORDER BY collection",
                                           PgParams().Text(user), "list grants"));
  std::vector<AuthGrant> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back(AuthGrant{std::string(r.text(i, 0)), std::string(r.text(i, 1)), r.flag(i, 2),
                            r.flag(i, 3)});
  }
  return out;
}

absl::StatusOr<uint64_t> PgAuthStore::AuthGeneration() {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT n FROM auth_generation WHERE one = 1", "auth generation"));
  if (r.size() != 1) return absl::DataLossError("the auth_generation row is missing");
  return static_cast<uint64_t>(r.num(0, 0));
}

// ---------------------------------------------------------------------------------------------
// Request statuses

absl::Status PgStatusStore::PutStatus(const RequestStatus& st, Micros purge_before) {
  PgStore::WriteTxn t(store_);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  PgConn* c = t.conn();
  // Expiry rides on writes, by the `created` index; failures go with their status (CASCADE).
  ACCORD_RETURN_IF_ERROR(c->Run("DELETE FROM request_status WHERE created < $1 OR id = $2",
                                PgParams().Num(purge_before).Text(st.id), "delete statuses")
                             .status());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows made,
      c->Run("INSERT INTO request_status(id, owner, created, request_ts, complete, total, "
             "success, failure, pending) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING sid",
             PgParams()
                 .Text(st.id)
                 .Text(st.owner)
                 .Num(st.created)
                 .Num(st.request_timestamp)
                 .Flag(st.complete)
                 .Num(static_cast<int64_t>(st.total_count))
                 .Num(static_cast<int64_t>(st.success_count))
                 .Num(static_cast<int64_t>(st.failure_count))
                 .Num(static_cast<int64_t>(st.pending_count)),
             "store status"));
  const int64_t sid = made.num(0, 0);
  for (size_t i = 0; i < st.failures.size(); ++i) {
    const StatusDetail& d = st.failures[i];
    ACCORD_RETURN_IF_ERROR(c->Run("INSERT INTO request_status_failure(sid, n, id, version, "
                                  "message) VALUES($1, $2, $3, $4, $5)",
                                  PgParams()
                                      .Num(sid)
                                      .Num(static_cast<int64_t>(i))
                                      .Text(d.id)
                                      .Text(d.version)
                                      .Text(d.message),
                                  "store status failure")
                               .status());
  }
  return t.Commit();
}

absl::StatusOr<std::optional<RequestStatus>> PgStatusStore::GetStatus(const std::string& id,
                                                                      Micros not_before) {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  // One statement: the row and its failures from one snapshot.
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run("SELECT s.owner, s.created, s.request_ts, s.complete, s.total, s.success, "
                       "s.failure, s.pending, f.id, f.version, f.message FROM request_status s "
                       "LEFT JOIN request_status_failure f ON f.sid = s.sid WHERE s.id = $1 AND "
                       "s.created >= $2 ORDER BY f.n",
                       PgParams().Text(id).Num(not_before), "read status"));
  if (r.size() == 0) return std::optional<RequestStatus>();
  RequestStatus st;
  st.id = id;
  st.owner = std::string(r.text(0, 0));
  st.created = r.num(0, 1);
  st.request_timestamp = r.num(0, 2);
  st.complete = r.flag(0, 3);
  st.total_count = static_cast<uint64_t>(r.num(0, 4));
  st.success_count = static_cast<uint64_t>(r.num(0, 5));
  st.failure_count = static_cast<uint64_t>(r.num(0, 6));
  st.pending_count = static_cast<uint64_t>(r.num(0, 7));
  for (int i = 0; i < r.size(); ++i) {
    if (r.null(i, 8)) continue;
    st.failures.push_back(StatusDetail{std::string(r.text(i, 8)), std::string(r.text(i, 9)),
                                       std::string(r.text(i, 10))});
  }
  return std::optional<RequestStatus>(std::move(st));
}

}  // namespace accord::store::detail
