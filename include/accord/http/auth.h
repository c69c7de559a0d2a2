// Users, API keys and per-collection grants: the policy (roles, key format, argon2id,
// verification cache) over the store's AuthStore, where they are kept with the durability of
// objects (store::Store::auth(), in accord.db). Keys look like `<key_id>.<secret>`: the id
// (16 hex digits) is the lookup key, the secret (32 random bytes, base64url) is stored only as
// a libsodium argon2id hash (crypto_pwhash_str).
//
// A successful verification is cached in memory so that steady traffic does not pay argon2
// per request. The cache is dropped whenever the store's auth generation changes, which every
// change to users, keys or grants bumps, from any process; the generation is read at most
// every `generation_poll`. So a key revoked by `accord key revoke` in another process is
// refused by a running server within `generation_poll` (plus one request); a change made
// through this AuthDb takes effect at once.
//
// Failed authentication is cheap and reveals nothing (issue 10, item 7):
// - argon2id runs only within a budget of failed checks per key id and per client address
//   (token buckets); over budget, Authenticate answers ResourceExhausted with a retry delay
//   (RetryAfterSeconds) without running it. A successful check gives its token back.
// - A credential that failed is remembered (keyed BLAKE2b of user and key, bounded LRU) and
//   refused again without argon2id and without spending budget.
// - A credential once verified skips the budgets (it is still verified), so that the owner of
//   a key id under attack keeps working after the verification cache was dropped.
// - An unknown or revoked key id is checked against a dummy hash, and the Basic user name is
//   compared (in constant time) only after the hash: the time taken does not tell whether the
//   key id exists or who owns it.
// Every table is capped (Options), least recently used entries go first.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::http {

/// The roles of people and machines (issue 13, point 3; the table is in docs/PRIVACY.md):
/// - admin: read and write every collection, manage the node, read the audit log.
/// - analyst: read and write what grants give (named `user` before store schema 6).
/// - auditor: read the audit log and the agreements; no intelligence (every object exit is
///   closed to it by the egress gate, and it reads no collection by grant).
/// - reader: read every collection, except TLP:RED objects (the egress gate withholds them).
/// - peer: another node; it reads only what its agreement shares (decided by the egress gate,
///   policy::Gate::CollectionOpen), and writes nothing.
enum class Role { kAdmin, kAnalyst, kAuditor, kReader, kPeer };
/// "admin", "analyst", "auditor", "reader", "peer"; "user" (the old name) is kAnalyst.
absl::StatusOr<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);
/// Whether the role may read the audit log and the agreements (admin, auditor).
bool MayAudit(Role role);

/// The delay in whole seconds (>= 1) that a ResourceExhausted status from
/// AuthDb::Authenticate asks the client to wait; 0 when `status` carries none.
int RetryAfterSeconds(const absl::Status& status);

struct Grant {
  std::string collection;  // collection id (UUID)
  bool read = false;
  bool write = false;
};

struct UserInfo {
  std::string name;
  Role role = Role::kAnalyst;
  int64_t created_us = 0;
};

struct KeyInfo {
  std::string key_id;
  std::string user;
  int64_t created_us = 0;
  bool revoked = false;
  std::string label;
};

/// Who is asking. Anonymous when `user` is empty.
struct Principal {
  std::string user;
  Role role = Role::kAnalyst;
  std::vector<Grant> grants;

  bool anonymous() const { return user.empty(); }
  bool CanRead(std::string_view collection_id) const;
  bool CanWrite(std::string_view collection_id) const;
};

class AuthDb {
 public:
  struct Options {
    /// A cached verification is re-checked against the store after this long at the latest.
    std::chrono::seconds cache_ttl{60};
    /// How often the store's auth generation is read (the bound on how late a revocation
    /// from another process is seen).
    std::chrono::milliseconds generation_poll{250};
    /// argon2id cost; the secret has 256 bits of entropy, so the hash guards a stolen database
    /// file rather than guessable passwords (libsodium's MODERATE would cost ~0.7 s a key).
    unsigned long long opslimit = 2;
    size_t memlimit = 19u << 20;

    /// Failed checks (argon2id runs that fail) allowed per key id: a burst, then a steady
    /// rate. Over it, ResourceExhausted (HTTP 429 with Retry-After). 0 burst: no limit.
    uint32_t failed_per_key_burst = 10;
    double failed_per_key_per_second = 1.0;
    /// The same per client address (its IP, without the port).
    uint32_t failed_per_address_burst = 30;
    double failed_per_address_per_second = 2.0;
    /// Entries in each budget table (key ids, addresses); the least recently used goes.
    size_t limiter_entries = 10000;
    /// Credentials remembered as bad (refused without argon2id), and as verified.
    size_t negative_cache_entries = 10000;
    size_t cache_entries = 10000;
  };

  /// Counters since Open, for tests and metrics.
  struct Stats {
    uint64_t verifications = 0;  // argon2id runs (against a key's hash or the dummy)
    uint64_t rate_limited = 0;   // refused over budget, without argon2id
    uint64_t negative_hits = 0;  // refused from the negative cache, without argon2id
    uint64_t cache_hits = 0;     // accepted from the verification cache
  };

  /// Users, keys and grants in `store` (which must outlive the AuthDb).
  static absl::StatusOr<std::unique_ptr<AuthDb>> Open(store::Store* store, const Options& options);
  static absl::StatusOr<std::unique_ptr<AuthDb>> Open(store::Store* store) {
    return Open(store, Options());
  }
  ~AuthDb();

  /// AlreadyExists if the user exists. Names: 1-64 of [A-Za-z0-9_.@-].
  absl::Status AddUser(const std::string& name, Role role);
  /// Changes a user's role (keys and grants stay). NotFound when there is no such user.
  absl::Status SetRole(const std::string& name, Role role);
  absl::StatusOr<std::vector<UserInfo>> ListUsers();
  /// NotFound when there is no such user.
  absl::StatusOr<UserInfo> GetUser(const std::string& name);
  absl::StatusOr<bool> HasUsers();

  /// Creates a key for `user` and returns it in full; only its hash is kept.
  absl::StatusOr<std::string> CreateKey(const std::string& user, const std::string& label = "");
  /// Revokes by key id or by full key. NotFound if unknown.
  absl::Status RevokeKey(const std::string& key_or_id);
  /// `user`'s keys ("" for everyone's), oldest first.
  absl::StatusOr<std::vector<KeyInfo>> ListKeys(const std::string& user);

  /// Sets (replaces) `user`'s permissions on `collection_id`; read=write=false removes it.
  absl::Status SetGrant(const std::string& user, const std::string& collection_id, bool read,
                        bool write);
  /// NotFound when there is no such user.
  absl::StatusOr<std::vector<Grant>> ListGrants(const std::string& user);

  /// Checks a key (and, for Basic, that it belongs to `user` when `user` is not empty), sent
  /// from `client_address` (an IP address, "" when unknown: then only the key id's budget
  /// applies). Unauthenticated when unknown, revoked, or wrong; ResourceExhausted, carrying
  /// RetryAfterSeconds, when the key id's or the address's budget of failed checks is spent;
  /// Unavailable (or another error) when the store cannot be read, so that a failing store
  /// never lets a request through.
  absl::StatusOr<Principal> Authenticate(const std::string& user, const std::string& key,
                                         std::string_view client_address = {});

  Stats stats() const;

 private:
  AuthDb() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::http
