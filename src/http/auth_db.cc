#include "accord/http/auth.h"

#include <sodium.h>

#include <mutex>
#include <unordered_map>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::http {
namespace {

bool ValidUserName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string CacheKey(const std::string& user, const std::string& key) {
  unsigned char h[crypto_generichash_BYTES];
  std::string in = common::Cat(user, std::string_view("\0", 1), key);
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                     nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
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
  store::AuthStore* db = nullptr;

  std::mutex mu;  // guards everything below
  struct Cached {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, Cached> cache;
  // The store's auth generation the cache was filled under, and when it was last read.
  uint64_t generation = 0;
  bool generation_known = false;
  std::chrono::steady_clock::time_point generation_read;

  // REQUIRES: mu held. Reads the store's generation (when `force`, or when the last read is
  // older than generation_poll) and drops the cache if it moved. An error drops the cache too.
  absl::Status RefreshGeneration(std::chrono::steady_clock::time_point now, bool force) {
    if (!force && generation_known && now - generation_read < options.generation_poll) {
      return absl::OkStatus();
    }
    absl::StatusOr<uint64_t> g = db->AuthGeneration();
    if (!g.ok()) {
      cache.clear();
      generation_known = false;
      return g.status();
    }
    if (!generation_known || *g != generation) cache.clear();
    generation = *g;
    generation_known = true;
    generation_read = now;
    return absl::OkStatus();
  }

  // REQUIRES: mu held. After a change made through this AuthDb: forget everything cached.
  void Changed() {
    cache.clear();
    generation_known = false;
  }

  absl::StatusOr<Principal> LoadPrincipal(const std::string& user) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<store::AuthUser> u, db->FindUser(user));
    if (!u) return absl::NotFoundError(common::Cat("no user '", user, "'"));
    Principal p;
    p.user = user;
    ACCORD_ASSIGN_OR_RETURN(p.role, ParseRole(u->role));
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::AuthGrant> grants, db->ListGrants(user));
    for (const auto& g : grants) p.grants.push_back(Grant{g.collection, g.read, g.write});
    return p;
  }
};

absl::StatusOr<std::unique_ptr<AuthDb>> AuthDb::Open(store::Store* store, const Options& options) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  if (store == nullptr) return absl::InvalidArgumentError("AuthDb needs a store");
  std::unique_ptr<AuthDb> a(new AuthDb());
  a->impl_ = std::make_unique<Impl>();
  a->impl_->options = options;
  a->impl_->db = store->auth();
  return a;
}

AuthDb::~AuthDb() = default;

absl::Status AuthDb::AddUser(const std::string& name, Role role) {
  if (!ValidUserName(name)) {
    return absl::InvalidArgumentError(
        common::Cat("invalid user name '", name, "': use 1-64 of A-Z a-z 0-9 _ . @ -"));
  }
  ACCORD_RETURN_IF_ERROR(
      impl_->db->AddUser(store::AuthUser{name, std::string(RoleName(role)), common::NowMicros()}));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->Changed();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UserInfo>> AuthDb::ListUsers() {
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::AuthUser> users, impl_->db->ListUsers());
  std::vector<UserInfo> out;
  for (auto& u : users) {
    auto r = ParseRole(u.role);
    // A role this version does not know grants the least (user: only what grants give).
    out.push_back(UserInfo{std::move(u.name), r.ok() ? *r : Role::kUser, u.created});
  }
  return out;
}

absl::StatusOr<UserInfo> AuthDb::GetUser(const std::string& name) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<store::AuthUser> u, impl_->db->FindUser(name));
  if (!u) return absl::NotFoundError(common::Cat("no user '", name, "'"));
  auto r = ParseRole(u->role);
  return UserInfo{u->name, r.ok() ? *r : Role::kUser, u->created};
}

absl::StatusOr<bool> AuthDb::HasUsers() { return impl_->db->HasUsers(); }

absl::StatusOr<std::string> AuthDb::CreateKey(const std::string& user, const std::string& label) {
  unsigned char id[8], secret[32];
  randombytes_buf(id, sizeof id);
  randombytes_buf(secret, sizeof secret);
  // The key id is 16 hex digits, the secret 43 characters of unpadded URL-safe base64, through
  // the one encoding module every layer uses.
  const std::string hex =
      common::HexEncode(std::string_view(reinterpret_cast<const char*>(id), sizeof id));
  std::string secret_s =
      common::Base64Encode(std::string_view(reinterpret_cast<const char*>(secret), sizeof secret),
                           common::Base64Variant::kUrlSafeNoPadding);
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, secret_s.data(), secret_s.size(), impl_->options.opslimit,
                        impl_->options.memlimit) != 0) {
    return absl::ResourceExhaustedError("argon2id: out of memory");
  }
  store::AuthKey k;
  k.key_id = hex;
  k.user = user;
  k.hash = hash;
  k.created = common::NowMicros();
  k.label = label;
  ACCORD_RETURN_IF_ERROR(impl_->db->AddKey(k));
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->Changed();
  }
  return common::Cat(k.key_id, ".", secret_s);
}

absl::Status AuthDb::RevokeKey(const std::string& key_or_id) {
  std::string key_id = key_or_id.substr(0, key_or_id.find('.'));
  ACCORD_RETURN_IF_ERROR(impl_->db->RevokeKey(key_id));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->Changed();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KeyInfo>> AuthDb::ListKeys(const std::string& user) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::AuthKey> keys, impl_->db->ListKeys(user));
  std::vector<KeyInfo> out;
  out.reserve(keys.size());
  for (auto& k : keys) {
    out.push_back(
        KeyInfo{std::move(k.key_id), std::move(k.user), k.created, k.revoked, std::move(k.label)});
  }
  return out;
}

absl::Status AuthDb::SetGrant(const std::string& user, const std::string& collection_id, bool read,
                              bool write) {
  ACCORD_RETURN_IF_ERROR(impl_->db->SetGrant(store::AuthGrant{user, collection_id, read, write}));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->Changed();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Grant>> AuthDb::ListGrants(const std::string& user) {
  ACCORD_ASSIGN_OR_RETURN(Principal p, impl_->LoadPrincipal(user));
  return p.grants;
}

absl::StatusOr<Principal> AuthDb::Authenticate(const std::string& user, const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  const std::string ck = CacheKey(user, key);
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    // PERF: one indexed read per generation_poll (250 ms), not per request.
    ACCORD_RETURN_IF_ERROR(impl_->RefreshGeneration(now, false));
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
  // The generation before the key is read: the verification is cached only if nothing
  // changed since, so that a revocation racing with this check is never cached away.
  ACCORD_ASSIGN_OR_RETURN(uint64_t generation, impl_->db->AuthGeneration());
  ACCORD_ASSIGN_OR_RETURN(std::optional<store::AuthKey> k, impl_->db->FindKey(key_id));
  if (!k || k->revoked) return bad;
  if (!user.empty() && user != k->user) return bad;
  // PERF: argon2id costs ~30 ms at the default limits; done outside the lock so that other
  // requests (cache hits) are not held up, and cached below.
  if (crypto_pwhash_str_verify(k->hash.c_str(), secret.data(), secret.size()) != 0) return bad;
  absl::StatusOr<Principal> p = impl_->LoadPrincipal(k->user);
  if (absl::IsNotFound(p.status())) return bad;  // the key's user is gone
  if (!p.ok()) return p.status();
  std::lock_guard<std::mutex> l(impl_->mu);
  ACCORD_RETURN_IF_ERROR(impl_->RefreshGeneration(now, true));
  if (impl_->generation == generation) {
    if (impl_->cache.size() > 10000) impl_->cache.clear();
    impl_->cache[ck] = Impl::Cached{*p, now + impl_->options.cache_ttl};
  }
  return p;
}

}  // namespace accord::http
