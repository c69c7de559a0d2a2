// The SQLite backend's StatusStore: TAXII request statuses in accord.db, so that they survive
// a restart. Internal; reach it through Store::statuses().
//
// Thread safety: as SqliteStore.
#pragma once

#include <optional>
#include <string>

#include "accord/store/store.h"

namespace accord::store::detail {

class SqliteStore;

class SqliteStatusStore final : public StatusStore {
 public:
  explicit SqliteStatusStore(SqliteStore* store) : store_(store) {}

  absl::Status PutStatus(const RequestStatus& status, Micros purge_before) override;
  absl::StatusOr<std::optional<RequestStatus>> GetStatus(const std::string& id,
                                                         Micros not_before) override;

 private:
  SqliteStore* store_;
};

}  // namespace accord::store::detail
