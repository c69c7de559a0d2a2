// Users, API keys and per-collection grants, kept in their own SQLite file
// (`<data dir>/auth.db`, WAL). Keys look like `<key_id>.<secret>`: the id (16 hex digits) is
// the lookup key, the secret (32 random bytes, base64url) is stored only as a libsodium
// argon2id hash (crypto_pwhash_str). A successful verification is cached in memory for
// `cache_ttl` so that steady traffic does not pay argon2 per request; revoking a key through
// the same AuthDb clears the cache, another process's revocation takes effect within the TTL.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "accord/common/status.h"

namespace accord::http {

/// admin: read and write every collection, manage the node. reader: read every collection.
/// user: only what grants give.
enum class Role { kAdmin, kReader, kUser };
absl::StatusOr<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

struct Grant {
  std::string collection;  // collection id (UUID)
  bool read = false;
  bool write = false;
};

struct UserInfo {
  std::string name;
  Role role = Role::kUser;
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
  Role role = Role::kUser;
  std::vector<Grant> grants;

  bool anonymous() const { return user.empty(); }
  bool CanRead(std::string_view collection_id) const;
  bool CanWrite(std::string_view collection_id) const;
};

class AuthDb {
 public:
  struct Options {
    std::chrono::seconds cache_ttl{60};
    /// argon2id cost; the secret has 256 bits of entropy, so the hash guards a stolen database
    /// file rather than guessable passwords (libsodium's MODERATE would cost ~0.7 s a key).
    unsigned long long opslimit = 2;
    size_t memlimit = 19u << 20;
  };

  static absl::StatusOr<std::unique_ptr<AuthDb>> Open(const std::string& path,
                                                      const Options& options);
  static absl::StatusOr<std::unique_ptr<AuthDb>> Open(const std::string& path) {
    return Open(path, Options());
  }
  ~AuthDb();

  /// AlreadyExists if the user exists. Names: 1-64 of [A-Za-z0-9_.@-].
  absl::Status AddUser(const std::string& name, Role role);
  absl::StatusOr<std::vector<UserInfo>> ListUsers();
  absl::StatusOr<UserInfo> GetUser(const std::string& name);
  absl::StatusOr<bool> HasUsers();

  /// Creates a key for `user` and returns it in full; only its hash is kept.
  absl::StatusOr<std::string> CreateKey(const std::string& user, const std::string& label = "");
  /// Revokes by key id or by full key. NotFound if unknown.
  absl::Status RevokeKey(const std::string& key_or_id);
  absl::StatusOr<std::vector<KeyInfo>> ListKeys(const std::string& user);

  /// Sets (replaces) `user`'s permissions on `collection_id`; read=write=false removes it.
  absl::Status SetGrant(const std::string& user, const std::string& collection_id, bool read,
                        bool write);
  absl::StatusOr<std::vector<Grant>> ListGrants(const std::string& user);

  /// Checks a key (and, for Basic, that it belongs to `user` when `user` is not empty).
  /// Unauthenticated when unknown, revoked, or wrong.
  absl::StatusOr<Principal> Authenticate(const std::string& user, const std::string& key);

 private:
  AuthDb() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::http
