// The SQLite backend's AuthStore: users, API keys and grants in accord.db, next to the
// objects, under the same write lock and durability (WAL, synchronous=FULL). Internal; reach
// it through Store::auth().
//
// Thread safety: as SqliteStore (writes take its write lock; reads use pooled connections).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "accord/store/store.h"

namespace accord::store::detail {

class SqliteStore;

class SqliteAuthStore final : public AuthStore {
 public:
  explicit SqliteAuthStore(SqliteStore* store) : store_(store) {}

  absl::Status AddUser(const AuthUser& user) override;
  absl::Status SetUserRole(const std::string& name, const std::string& role) override;
  absl::StatusOr<std::vector<AuthUser>> ListUsers() override;
  absl::StatusOr<std::optional<AuthUser>> FindUser(const std::string& name) override;
  absl::StatusOr<bool> HasUsers() override;
  absl::Status AddKey(const AuthKey& key) override;
  absl::StatusOr<std::optional<AuthKey>> FindKey(const std::string& key_id) override;
  absl::Status RevokeKey(const std::string& key_id) override;
  absl::StatusOr<std::vector<AuthKey>> ListKeys(const std::string& user) override;
  absl::Status SetGrant(const AuthGrant& grant) override;
  absl::StatusOr<std::vector<AuthGrant>> ListGrants(const std::string& user) override;
  absl::StatusOr<uint64_t> AuthGeneration() override;

 private:
  SqliteStore* store_;
};

}  // namespace accord::store::detail
