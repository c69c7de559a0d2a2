#include "accord/http/auth.h"

#include <sodium.h>
#include <sqlite3.h>

#include <mutex>
#include <unordered_map>

#include "http/text.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::http {
namespace {

constexpr std::string_view kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS users(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  key_id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), hash TEXT NOT NULL,
  created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, label TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS grants(
  user TEXT NOT NULL, collection TEXT NOT NULL, can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL, PRIMARY KEY(user, collection));
)sql";

bool ValidUserName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// RAII prepared statement on a connection guarded by the caller's mutex.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s_, nullptr);
    if (rc_ != SQLITE_OK) err_ = sqlite3_errmsg(db);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  absl::Status status() const {
    return rc_ == SQLITE_OK ? absl::OkStatus() : absl::InternalError(common::Cat("auth db: ", err_));
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  std::string Text(int i) {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }
  int64_t Int(int i) { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
  std::string err_;
};

std::string CacheKey(const std::string& user, const std::string& key) {
  unsigned char h[crypto_generichash_BYTES];
  std::string in = common::Cat(user, std::string_view("\0", 1), key);
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                     nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

std::string ToHex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 15]);
  }
  return s;
}

}  // namespace

absl::StatusOr<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "reader") return Role::kReader;
  if (name == "user") return Role::kUser;
  return absl::InvalidArgumentError(
      common::Cat("unknown role '", name, "' (expected admin, reader or user)"));
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kReader: return "reader";
    case Role::kUser: return "user";
  }
  return "user";
}

bool Principal::CanRead(std::string_view collection_id) const {
  if (anonymous()) return false;
  if (role == Role::kAdmin || role == Role::kReader) return true;
  for (const Grant& g : grants) {
    if (g.collection == collection_id) return g.read;
  }
  return false;
}

bool Principal::CanWrite(std::string_view collection_id) const {
  if (anonymous()) return false;
  if (role == Role::kAdmin) return true;
  for (const Grant& g : grants) {
    if (g.collection == collection_id) return g.write;
  }
  return false;
}

struct AuthDb::Impl {
  Options options;
  std::mutex mu;  // guards db and cache
  sqlite3* db = nullptr;
  struct Cached {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, Cached> cache;

  ~Impl() { sqlite3_close(db); }

  absl::Status Exec(std::string_view sql) {
    char* err = nullptr;
    std::string s(sql);
    if (sqlite3_exec(db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      return absl::InternalError(common::Cat("auth db: ", m));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Principal> LoadPrincipal(const std::string& user) {
    Principal p;
    Stmt u(db, "SELECT role FROM users WHERE name=?");
    ACCORD_RETURN_IF_ERROR(u.status());
    u.Bind(1, user);
    if (u.Step() != SQLITE_ROW) return absl::UnauthenticatedError("unknown user");
    ACCORD_ASSIGN_OR_RETURN(p.role, ParseRole(u.Text(0)));
    p.user = user;
    Stmt g(db, "SELECT collection, can_read, can_write FROM grants WHERE user=?");
    ACCORD_RETURN_IF_ERROR(g.status());
    g.Bind(1, user);
    while (g.Step() == SQLITE_ROW) {
      p.grants.push_back(Grant{g.Text(0), g.Int(1) != 0, g.Int(2) != 0});
    }
    return p;
  }
};

absl::StatusOr<std::unique_ptr<AuthDb>> AuthDb::Open(const std::string& path,
                                                     const Options& options) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  std::unique_ptr<AuthDb> a(new AuthDb());
  a->impl_ = std::make_unique<Impl>();
  a->impl_->options = options;
  int rc = sqlite3_open_v2(path.c_str(), &a->impl_->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        common::Cat(path, ": cannot open: ", sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(a->impl_->db, 5000);
  ACCORD_RETURN_IF_ERROR(a->impl_->Exec(kSchema));
  return a;
}

AuthDb::~AuthDb() = default;

absl::Status AuthDb::AddUser(const std::string& name, Role role) {
  if (!ValidUserName(name)) {
    return absl::InvalidArgumentError(
        common::Cat("invalid user name '", name, "': use 1-64 of A-Z a-z 0-9 _ . @ -"));
  }
  std::lock_guard<std::mutex> l(impl_->mu);
  Stmt s(impl_->db, "INSERT INTO users(name, role, created) VALUES(?,?,?)");
  ACCORD_RETURN_IF_ERROR(s.status());
  s.Bind(1, name).Bind(2, RoleName(role)).Bind(3, common::NowMicros());
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return absl::AlreadyExistsError(common::Cat("user '", name, "' already exists"));
  }
  if (rc != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(impl_->db));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UserInfo>> AuthDb::ListUsers() {
  std::lock_guard<std::mutex> l(impl_->mu);
  Stmt s(impl_->db, "SELECT name, role, created FROM users ORDER BY name");
  ACCORD_RETURN_IF_ERROR(s.status());
  std::vector<UserInfo> out;
  while (s.Step() == SQLITE_ROW) {
    UserInfo u;
    u.name = s.Text(0);
    auto r = ParseRole(s.Text(1));
    u.role = r.ok() ? *r : Role::kUser;
    u.created_us = s.Int(2);
    out.push_back(std::move(u));
  }
  return out;
}

absl::StatusOr<UserInfo> AuthDb::GetUser(const std::string& name) {
  ACCORD_ASSIGN_OR_RETURN(auto users, ListUsers());
  for (auto& u : users) {
    if (u.name == name) return u;
  }
  return absl::NotFoundError(common::Cat("no user '", name, "'"));
}

absl::StatusOr<bool> AuthDb::HasUsers() {
  std::lock_guard<std::mutex> l(impl_->mu);
  Stmt s(impl_->db, "SELECT 1 FROM users LIMIT 1");
  ACCORD_RETURN_IF_ERROR(s.status());
  return s.Step() == SQLITE_ROW;
}

absl::StatusOr<std::string> AuthDb::CreateKey(const std::string& user, const std::string& label) {
  unsigned char id[8], secret[32];
  randombytes_buf(id, sizeof id);
  randombytes_buf(secret, sizeof secret);
  std::string key_id = ToHex(id, sizeof id);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, secret, sizeof secret,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string secret_s(b64);
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, secret_s.data(), secret_s.size(), impl_->options.opslimit,
                        impl_->options.memlimit) != 0) {
    return absl::ResourceExhaustedError("argon2id: out of memory");
  }
  std::lock_guard<std::mutex> l(impl_->mu);
  {
    Stmt u(impl_->db, "SELECT 1 FROM users WHERE name=?");
    ACCORD_RETURN_IF_ERROR(u.status());
    u.Bind(1, user);
    if (u.Step() != SQLITE_ROW) return absl::NotFoundError(common::Cat("no user '", user, "'"));
  }
  Stmt s(impl_->db,
         "INSERT INTO api_keys(key_id, user, hash, created, label) VALUES(?,?,?,?,?)");
  ACCORD_RETURN_IF_ERROR(s.status());
  s.Bind(1, key_id).Bind(2, user).Bind(3, std::string_view(hash)).Bind(4, common::NowMicros());
  s.Bind(5, label);
  if (s.Step() != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(impl_->db));
  return common::Cat(key_id, ".", secret_s);
}

absl::Status AuthDb::RevokeKey(const std::string& key_or_id) {
  std::string key_id = key_or_id.substr(0, key_or_id.find('.'));
  std::lock_guard<std::mutex> l(impl_->mu);
  Stmt s(impl_->db, "UPDATE api_keys SET revoked=1 WHERE key_id=?");
  ACCORD_RETURN_IF_ERROR(s.status());
  s.Bind(1, key_id);
  if (s.Step() != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(impl_->db));
  if (sqlite3_changes(impl_->db) == 0) {
    return absl::NotFoundError(common::Cat("no key '", key_id, "'"));
  }
  impl_->cache.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KeyInfo>> AuthDb::ListKeys(const std::string& user) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Stmt s(impl_->db,
         "SELECT key_id, user, created, revoked, label FROM api_keys WHERE ?='' OR user=? "
         "ORDER BY created");
  ACCORD_RETURN_IF_ERROR(s.status());
  s.Bind(1, user).Bind(2, user);
  std::vector<KeyInfo> out;
  while (s.Step() == SQLITE_ROW) {
    out.push_back(KeyInfo{s.Text(0), s.Text(1), s.Int(2), s.Int(3) != 0, s.Text(4)});
  }
  return out;
}

absl::Status AuthDb::SetGrant(const std::string& user, const std::string& collection_id,
                              bool read, bool write) {
  std::lock_guard<std::mutex> l(impl_->mu);
  {
    Stmt u(impl_->db, "SELECT 1 FROM users WHERE name=?");
    ACCORD_RETURN_IF_ERROR(u.status());
    u.Bind(1, user);
    if (u.Step() != SQLITE_ROW) return absl::NotFoundError(common::Cat("no user '", user, "'"));
  }
  if (!read && !write) {
    Stmt s(impl_->db, "DELETE FROM grants WHERE user=? AND collection=?");
    ACCORD_RETURN_IF_ERROR(s.status());
    s.Bind(1, user).Bind(2, collection_id);
    if (s.Step() != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(impl_->db));
  } else {
    Stmt s(impl_->db,
           "INSERT OR REPLACE INTO grants(user, collection, can_read, can_write) VALUES(?,?,?,?)");
    ACCORD_RETURN_IF_ERROR(s.status());
    s.Bind(1, user).Bind(2, collection_id).Bind(3, int64_t{read}).Bind(4, int64_t{write});
    if (s.Step() != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(impl_->db));
  }
  impl_->cache.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Grant>> AuthDb::ListGrants(const std::string& user) {
  std::lock_guard<std::mutex> l(impl_->mu);
  ACCORD_ASSIGN_OR_RETURN(Principal p, impl_->LoadPrincipal(user));
  return p.grants;
}

absl::StatusOr<Principal> AuthDb::Authenticate(const std::string& user, const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  const std::string ck = CacheKey(user, key);
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto it = impl_->cache.find(ck);
    if (it != impl_->cache.end()) {
      if (it->second.expires > now) return it->second.principal;
      impl_->cache.erase(it);
    }
  }
  const auto bad = absl::UnauthenticatedError("invalid credentials");
  size_t dot = key.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= key.size()) return bad;
  std::string key_id = key.substr(0, dot);
  std::string secret = key.substr(dot + 1);
  std::string hash, owner;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Stmt s(impl_->db, "SELECT hash, user FROM api_keys WHERE key_id=? AND revoked=0");
    ACCORD_RETURN_IF_ERROR(s.status());
    s.Bind(1, key_id);
    if (s.Step() != SQLITE_ROW) return bad;
    hash = s.Text(0);
    owner = s.Text(1);
  }
  if (!user.empty() && user != owner) return bad;
  // PERF: argon2id costs ~30 ms at the default limits; done outside the lock so that other
  // requests (cache hits) are not held up, and cached below.
  if (crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) != 0) return bad;
  std::lock_guard<std::mutex> l(impl_->mu);
  ACCORD_ASSIGN_OR_RETURN(Principal p, impl_->LoadPrincipal(owner));
  if (impl_->cache.size() > 10000) impl_->cache.clear();
  impl_->cache[ck] = Impl::Cached{p, now + impl_->options.cache_ttl};
  return p;
}

}  // namespace accord::http
