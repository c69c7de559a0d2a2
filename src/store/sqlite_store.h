// SQLite (WAL) backend of accord::store::Store. Internal; use Store::Open.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "accord/store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace accord::store::detail {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const;
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct DbDeleter {
  void operator()(sqlite3* db) const;
};
using Db = std::unique_ptr<sqlite3, DbDeleter>;

class SqliteStore final : public Store {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenAt(const Options& options);

  absl::StatusOr<std::unique_ptr<ImportTxn>> BeginImport(const std::string& collection) override;
  absl::StatusOr<std::vector<StoredObject>> Get(const std::string& id,
                                                VersionSelect versions) override;
  absl::StatusOr<Page> List(const Query& query) override;
  absl::StatusOr<uint64_t> Delete(const std::string& collection, const std::string& id,
                                  const std::vector<Micros>& version_times) override;
  absl::StatusOr<CollectionInfo> CreateCollection(const CollectionInfo& info) override;
  absl::StatusOr<std::vector<CollectionInfo>> ListCollections() override;
  absl::StatusOr<CollectionInfo> GetCollection(const std::string& id_or_alias) override;
  absl::StatusOr<Stats> GetStats() override;
  absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) override;
  absl::Status PutSetting(const std::string& key, const std::string& value) override;

  // A read connection borrowed from the pool, returned on destruction.
  class Reader;

 private:
  friend class SqliteImportTxn;
  explicit SqliteStore(Options options) : options_(std::move(options)) {}
  absl::StatusOr<Db> Connect(bool write);
  absl::StatusOr<Db> Borrow();
  void Return(Db db);
  // REQUIRES: caller holds a connection `db`.
  absl::StatusOr<int64_t> CollectionRowId(sqlite3* db, const std::string& id_or_alias,
                                          bool create);

  Options options_;
  std::string path_;
  std::mutex write_mu_;  // one writer at a time within the process; SQLite locks across processes
  Db writer_;
  std::mutex pool_mu_;
  std::vector<Db> pool_;
};

}  // namespace accord::store::detail
