#include "accord/http/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "absl/strings/cord.h"

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

using Clock = std::chrono::steady_clock;

constexpr char kRetryAfterPayload[] = "type.accord/auth-retry-after";

// Keyed BLAKE2b (libsodium's generichash) of `tag` and `parts`, 16 bytes: the tables' keys.
// The key is random per process, so that nobody can aim at a table's buckets from outside,
// and no secret is kept in memory in the clear.
std::string KeyedHash(const unsigned char* key, char tag,
                      std::initializer_list<std::string_view> parts) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key, crypto_generichash_KEYBYTES, 16);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&tag), 1);
  for (std::string_view p : parts) {
    // Length-prefixed, so that ("ab","c") and ("a","bc") differ.
    uint64_t n = p.size();
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(p.data()), p.size());
  }
  unsigned char h[16];
  crypto_generichash_final(&st, h, sizeof h);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

// A map capped at `capacity` entries that drops the least recently used. Not thread-safe.
template <typename V>
class Lru {
 public:
  explicit Lru(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

  // The entry for `key`, now the most recently used; null when absent.
  V* Find(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  // Inserts or replaces; returns the entry.
  V* Put(const std::string& key, V value) {
    if (V* v = Find(key)) {
      *v = std::move(value);
      return v;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    while (index_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return &order_.front().second;
  }
  void Erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }
  void Clear() {
    index_.clear();
    order_.clear();
  }
  size_t size() const { return index_.size(); }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, V>> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
};

// A token bucket: `burst` tokens, refilled at `rate` a second.
struct Bucket {
  double tokens = 0;
  Clock::time_point last;
};

// The address part of "ip:port", "[v6]:port" or a bare address.
std::string_view HostOf(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    size_t close = remote.find(']');
    return close == std::string_view::npos ? remote.substr(1) : remote.substr(1, close - 1);
  }
  size_t colon = remote.rfind(':');
  // One colon: IPv4 with a port; more: a bare IPv6 address.
  if (colon != std::string_view::npos && remote.find(':') == colon) return remote.substr(0, colon);
  return remote;
}

// Whether `a` and `b` are equal, in a time that depends on neither (only on their hashes).
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char ha[32], hb[32];
  crypto_generichash(ha, sizeof ha, reinterpret_cast<const unsigned char*>(a.data()), a.size(),
                     nullptr, 0);
  crypto_generichash(hb, sizeof hb, reinterpret_cast<const unsigned char*>(b.data()), b.size(),
                     nullptr, 0);
  return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

}  // namespace

int RetryAfterSeconds(const absl::Status& status) {
  auto p = status.GetPayload(kRetryAfterPayload);
  if (!p) return 0;
  int n = std::atoi(std::string(*p).c_str());
  return std::max(n, 1);
}

absl::StatusOr<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "analyst" || name == "user") return Role::kAnalyst;
  if (name == "auditor") return Role::kAuditor;
  if (name == "reader") return Role::kReader;
  if (name == "peer") return Role::kPeer;
  return absl::InvalidArgumentError(
      common::Cat("unknown role '", name, "' (expected admin, analyst, auditor, reader or peer)"));
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kAnalyst: return "analyst";
    case Role::kAuditor: return "auditor";
    case Role::kReader: return "reader";
    case Role::kPeer: return "peer";
  }
  return "analyst";
}

bool MayAudit(Role role) { return role == Role::kAdmin || role == Role::kAuditor; }

bool Principal::CanRead(std::string_view collection_id) const {
  // A peer reads what its agreement shares (the egress gate's CollectionOpen), never by grant;
  // an auditor reads no intelligence at all.
  if (anonymous() || role == Role::kPeer || role == Role::kAuditor) return false;
  if (role == Role::kAdmin || role == Role::kReader) return true;
  for (const Grant& g : grants) {
    if (g.collection == collection_id) return g.read;
  }
  return false;
}

bool Principal::CanWrite(std::string_view collection_id) const {
  if (anonymous() || role == Role::kPeer || role == Role::kAuditor) return false;
  if (role == Role::kAdmin) return true;
  for (const Grant& g : grants) {
    if (g.collection == collection_id) return g.write;
  }
  return false;
}

struct AuthDb::Impl {
  explicit Impl(const Options& o) : options(o) {}
  Options options;
  store::AuthStore* db = nullptr;

  unsigned char hash_key[crypto_generichash_KEYBYTES];  // for KeyedHash, set at Open
  std::once_flag dummy_once;
  std::string dummy_hash;  // argon2id of a random secret, for key ids that do not exist

  mutable std::mutex mu;  // guards everything below
  struct Cached {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  // Verified credentials (keyed hash of user and key); dropped with the generation.
  Lru<Cached> cache{options.cache_entries};
  // Credentials that failed; dropped with the generation too (a change could make one good).
  Lru<char> negative{options.negative_cache_entries};
  // Credentials that were ever verified: these skip the budgets (and are still verified).
  // Kept across generations, so that an admin change under attack does not lock owners out.
  Lru<char> known_good{options.cache_entries};
  Lru<Bucket> key_buckets{options.limiter_entries};
  Lru<Bucket> address_buckets{options.limiter_entries};
  Stats stats;
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
      cache.Clear();
      negative.Clear();
      generation_known = false;
      return g.status();
    }
    if (!generation_known || *g != generation) {
      cache.Clear();
      negative.Clear();
    }
    generation = *g;
    generation_known = true;
    generation_read = now;
    return absl::OkStatus();
  }

  // REQUIRES: mu held. After a change made through this AuthDb: forget everything cached.
  void Changed() {
    cache.Clear();
    negative.Clear();
    generation_known = false;
  }

  // REQUIRES: mu held. Takes a token from `table`'s bucket `id`; returns 0, or (when empty)
  // the whole seconds until a token is back. burst 0: unlimited.
  static int Take(Lru<Bucket>* table, const std::string& id, uint32_t burst, double rate,
                  Clock::time_point now) {
    if (burst == 0) return 0;
    Bucket* b = table->Find(id);
    if (b == nullptr) b = table->Put(id, Bucket{static_cast<double>(burst), now});
    const double elapsed = std::chrono::duration<double>(now - b->last).count();
    b->tokens = std::min<double>(burst, b->tokens + std::max(0.0, elapsed) * rate);
    b->last = now;
    if (b->tokens >= 1) {
      b->tokens -= 1;
      return 0;
    }
    if (rate <= 0) return 3600;
    return std::max(1, static_cast<int>(std::ceil((1 - b->tokens) / rate)));
  }

  // REQUIRES: mu held. Gives back a token taken by Take (the check did not fail).
  static void Refund(Lru<Bucket>* table, const std::string& id, uint32_t burst) {
    if (burst == 0) return;
    if (Bucket* b = table->Find(id)) b->tokens = std::min<double>(burst, b->tokens + 1);
  }

  const std::string& DummyHash() {
    std::call_once(dummy_once, [this] {
      // Computed on first need, not at Open: CLI commands that never authenticate would pay
      // one argon2id each. Same cost parameters as real keys, so that it takes as long.
      unsigned char secret[32];
      randombytes_buf(secret, sizeof secret);
      char hash[crypto_pwhash_STRBYTES];
      if (crypto_pwhash_str(hash, reinterpret_cast<const char*>(secret), sizeof secret,
                            options.opslimit, options.memlimit) == 0) {
        dummy_hash = hash;
      }
    });
    return dummy_hash;
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
  a->impl_ = std::make_unique<Impl>(options);
  a->impl_->db = store->auth();
  crypto_generichash_keygen(a->impl_->hash_key);
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

absl::Status AuthDb::SetRole(const std::string& name, Role role) {
  ACCORD_RETURN_IF_ERROR(impl_->db->SetUserRole(name, std::string(RoleName(role))));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->Changed();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UserInfo>> AuthDb::ListUsers() {
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::AuthUser> users, impl_->db->ListUsers());
  std::vector<UserInfo> out;
  for (auto& u : users) {
    auto r = ParseRole(u.role);
    // A role this version does not know is shown as analyst (only what grants give); such a
    // user cannot authenticate (LoadPrincipal fails closed).
    out.push_back(UserInfo{std::move(u.name), r.ok() ? *r : Role::kAnalyst, u.created});
  }
  return out;
}

absl::StatusOr<UserInfo> AuthDb::GetUser(const std::string& name) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<store::AuthUser> u, impl_->db->FindUser(name));
  if (!u) return absl::NotFoundError(common::Cat("no user '", name, "'"));
  auto r = ParseRole(u->role);
  return UserInfo{u->name, r.ok() ? *r : Role::kAnalyst, u->created};
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

AuthDb::Stats AuthDb::stats() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->stats;
}

absl::StatusOr<Principal> AuthDb::Authenticate(const std::string& user, const std::string& key,
                                               std::string_view client_address) {
  const auto now = Clock::now();
  const auto bad = absl::UnauthenticatedError("invalid credentials");
  // A key that is not `<id>.<secret>` is refused at once: its shape is no secret.
  size_t dot = key.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= key.size()) return bad;
  const std::string key_id = key.substr(0, dot);
  const std::string secret = key.substr(dot + 1);
  Impl& m = *impl_;
  const std::string ck = KeyedHash(m.hash_key, 'c', {user, key});
  const std::string key_bucket = KeyedHash(m.hash_key, 'k', {key_id});
  const std::string address = std::string(HostOf(client_address));
  const std::string address_bucket = KeyedHash(m.hash_key, 'a', {address});
  bool took_key = false, took_address = false;
  {
    std::lock_guard<std::mutex> l(m.mu);
    // PERF: one indexed read per generation_poll (250 ms), not per request.
    ACCORD_RETURN_IF_ERROR(m.RefreshGeneration(now, false));
    if (Impl::Cached* c = m.cache.Find(ck)) {
      if (c->expires > now) {
        ++m.stats.cache_hits;
        return c->principal;
      }
      m.cache.Erase(ck);
    }
    if (m.negative.Find(ck) != nullptr) {
      ++m.stats.negative_hits;
      return bad;
    }
    // Only the expensive path is budgeted, and a credential verified before skips it: the
    // owner of a key id under attack is not locked out.
    if (m.known_good.Find(ck) == nullptr) {
      const Options& o = m.options;
      int wait = Impl::Take(&m.key_buckets, key_bucket, o.failed_per_key_burst,
                            o.failed_per_key_per_second, now);
      took_key = wait == 0 && o.failed_per_key_burst > 0;
      if (wait == 0 && !address.empty()) {
        wait = Impl::Take(&m.address_buckets, address_bucket, o.failed_per_address_burst,
                          o.failed_per_address_per_second, now);
        took_address = wait == 0 && o.failed_per_address_burst > 0;
      }
      if (wait > 0) {
        if (took_key) Impl::Refund(&m.key_buckets, key_bucket, o.failed_per_key_burst);
        ++m.stats.rate_limited;
        absl::Status s =
            absl::ResourceExhaustedError("too many failed authentication attempts; retry later");
        s.SetPayload(kRetryAfterPayload, absl::Cord(std::to_string(wait)));
        return s;
      }
    }
  }
  // Gives the budget back: the check did not fail (it succeeded, or the store failed).
  auto refund = [&] {
    std::lock_guard<std::mutex> l(m.mu);
    if (took_key) Impl::Refund(&m.key_buckets, key_bucket, m.options.failed_per_key_burst);
    if (took_address) {
      Impl::Refund(&m.address_buckets, address_bucket, m.options.failed_per_address_burst);
    }
  };
  // The generation before the key is read: the verification is cached only if nothing
  // changed since, so that a revocation racing with this check is never cached away.
  absl::StatusOr<uint64_t> generation = m.db->AuthGeneration();
  absl::StatusOr<std::optional<store::AuthKey>> found =
      generation.ok() ? m.db->FindKey(key_id) : generation.status();
  if (!found.ok()) {
    refund();
    return found.status();
  }
  const std::optional<store::AuthKey>& k = *found;
  const bool usable = k.has_value() && !k->revoked;
  // PERF: argon2id costs ~30 ms at the default limits; done outside the lock so that other
  // requests (cache hits) are not held up, and cached below. It runs for unknown and revoked
  // key ids too (against the dummy hash), and before the user name is looked at, so that
  // every refusal takes the same time.
  const std::string& hash = usable ? k->hash : m.DummyHash();
  bool ok = !hash.empty() &&
            crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) == 0 && usable;
  if (ok && !user.empty()) ok = ConstantTimeEquals(user, k->user);
  absl::StatusOr<Principal> p = bad;
  if (ok) {
    p = m.LoadPrincipal(k->user);
    if (absl::IsNotFound(p.status())) {  // the key's user is gone
      ok = false;
      p = bad;
    } else if (!p.ok()) {
      refund();
      {
        std::lock_guard<std::mutex> l(m.mu);
        ++m.stats.verifications;
      }
      return p.status();
    }
  }
  if (ok) refund();
  std::lock_guard<std::mutex> l(m.mu);
  ++m.stats.verifications;
  if (ok) m.known_good.Put(ck, 1);
  // Either answer is remembered only if nothing changed since the key was read (a change
  // clears both caches, and must not be undone by a check that raced with it).
  absl::Status fresh = m.RefreshGeneration(now, true);
  if (!ok) {
    if (fresh.ok() && m.generation == *generation) m.negative.Put(ck, 1);
    return bad;
  }
  ACCORD_RETURN_IF_ERROR(fresh);
  if (m.generation == *generation) {
    m.cache.Put(ck, Impl::Cached{*p, now + m.options.cache_ttl});
  }
  return p;
}

}  // namespace accord::http
