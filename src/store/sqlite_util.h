// Checked SQLite calls for the SQLite backend: every sqlite3_* result that can report an
// error goes through one of these and becomes an absl::Status (issue 9 point 6). The one
// step helper, Step(), is the only place that interprets sqlite3_step's result codes, so a
// busy or failed read is an error and can never pass for "no row".
//
// Internal to src/store. Stateless functions; thread safety is the connection's (each
// connection is used by one thread at a time, see sqlite_store.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/status.h"

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

/// The process's SQLite settings, applied once before SQLite initialises (a later call changes
/// nothing): no allocation statistics, and page-cache pages from the page arena
/// (sqlite_memory.h). Call before opening any SQLite connection.
void ConfigureSqlite();

/// The connection's last error as a Status whose message starts with `what`:
/// BUSY/LOCKED -> Unavailable, FULL -> ResourceExhausted, CORRUPT/NOTADB -> DataLoss,
/// READONLY/CANTOPEN -> FailedPrecondition, anything else Internal.
absl::Status SqlError(sqlite3* db, std::string_view what);

/// The same mapping for a result code `rc` (for calls whose connection may not hold it).
absl::Status SqlCodeError(int rc, std::string_view what, std::string_view detail);

/// Runs one or more statements without results (sqlite3_exec).
absl::Status Exec(sqlite3* db, std::string_view sql);

/// Prepares `sql` (persistent: for statements that are cached or run many times).
absl::StatusOr<Stmt> Prepare(sqlite3* db, std::string_view sql);

/// THE step helper. Steps `s` once: true for a row (SQLITE_ROW), false when the statement
/// is done (SQLITE_DONE), and an error for every other code, SQLITE_BUSY included, with
/// sqlite3_errmsg and `what` in the message.
absl::StatusOr<bool> Step(sqlite3_stmt* s, std::string_view what);

/// Steps a statement that returns no rows (INSERT/UPDATE/DELETE); a row is an error too.
absl::Status StepDone(sqlite3_stmt* s, std::string_view what);

/// Steps `s` to its end, calling `row(s)` for each row.
template <typename RowFn>
absl::Status ForEachRow(sqlite3_stmt* s, std::string_view what, RowFn&& row) {
  while (true) {
    absl::StatusOr<bool> more = Step(s, what);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    row(s);
  }
}

/// Binds, checked (SQLITE_RANGE, SQLITE_TOOBIG, SQLITE_NOMEM become errors). BindText
/// copies the value; BindStatic does not (it must outlive the statement's next step).
absl::Status BindText(sqlite3_stmt* s, int i, std::string_view v);
absl::Status BindStatic(sqlite3_stmt* s, int i, std::string_view v);
absl::Status BindInt(sqlite3_stmt* s, int i, int64_t v);
absl::Status BindNull(sqlite3_stmt* s, int i);

/// Column `i` of the current row as text ("" for NULL).
std::string ColText(sqlite3_stmt* s, int i);
int64_t ColInt(sqlite3_stmt* s, int i);

/// Rows handed to one statement at once. A statement reads them from the table-valued
/// function accord_rows (RegisterRowFeed), whose columns c0..c3 hold a row's cells and whose
/// hidden argument is the feed, bound by BindRowFeed:
///
///     INSERT OR IGNORE INTO value_keys(key, vid) SELECT c0, c1 FROM accord_rows(?1)
///
/// PERF: a row inserted by its own bind/step/reset costs about twice the B-tree work it does
/// (1,040 against 450 ns a row for value_keys' sorted random keys, one run, this machine);
/// the import's index and membership rows go in batches this way (docs/PERFORMANCE.md,
/// "December 6, later").
class RowFeed {
 public:
  static constexpr int kMaxColumns = 4;
  /// REQUIRES: 1 <= columns <= kMaxColumns.
  explicit RowFeed(int columns) : columns_(columns) {}
  /// Cells are added row by row, left to right; text is copied. An Add after ViewPairs
  /// starts the feed's own rows again.
  void AddInt(int64_t v) {
    EndView();
    cells_.push_back({v, 0, 0, false});
  }
  void AddText(std::string_view v);
  /// Makes the feed `n` rows of two integers read in place from `pairs` (no copy), until the
  /// next Add, ViewPairs or Clear. The caller keeps `pairs` alive and unchanged until the
  /// statement that reads the feed is reset. REQUIRES: columns() == 2.
  /// PERF: the report of a 150,000-attribute MISP event gives 150,000 value-index rows at
  /// once; copied into cells they were 7 MB of fresh memory on the store's writer thread.
  void ViewPairs(const std::pair<int64_t, int64_t>* pairs, size_t n) {
    cells_.clear();
    text_.clear();
    pairs_ = pairs;
    pair_rows_ = n;
  }
  int columns() const { return columns_; }
  size_t rows() const {
    return pairs_ != nullptr ? pair_rows_ : cells_.size() / static_cast<size_t>(columns_);
  }
  bool empty() const { return rows() == 0; }
  /// Forgets the rows and keeps the memory.
  void Clear() {
    EndView();
    cells_.clear();
    text_.clear();
  }

  struct Cell {
    int64_t value;          // an integer cell's value
    uint32_t offset, size;  // a text cell's bytes in text_
    bool text;
  };
  /// REQUIRES: row < rows(), column < columns().
  Cell At(size_t row, int column) const {
    if (pairs_ != nullptr) {
      return {column == 0 ? pairs_[row].first : pairs_[row].second, 0, 0, false};
    }
    return cells_[row * static_cast<size_t>(columns_) + static_cast<size_t>(column)];
  }
  std::string_view TextOf(const Cell& c) const { return {text_.data() + c.offset, c.size}; }

 private:
  void EndView() {
    pairs_ = nullptr;
    pair_rows_ = 0;
  }
  int columns_;
  std::vector<Cell> cells_;
  std::string text_;
  const std::pair<int64_t, int64_t>* pairs_ = nullptr;  // ViewPairs' rows, when set
  size_t pair_rows_ = 0;
};

/// Makes accord_rows available on `db` (an eponymous virtual table: nothing is stored).
absl::Status RegisterRowFeed(sqlite3* db);
/// Binds `feed` to parameter `i` (the argument of accord_rows). The feed must not change or
/// go away until the statement is reset.
absl::Status BindRowFeed(sqlite3_stmt* s, int i, const RowFeed* feed);

/// Writers waiting for the store's write lock, across processes (SqliteStore::WritersWaiting).
/// A writer whose BEGIN IMMEDIATE finds the lock taken marks itself waiting, in SQLite's busy
/// handler, with a shared lock on byte 0 of the store's `accord.db-writers` file (`fd`, an
/// open file description lock: F_OFD_SETLK); Txn::Begin drops the mark when BEGIN returns. A
/// holder of the write lock asks AnyoneWaiting. Failures are ignored: a mark that cannot be
/// made makes a long import commit only at its count bound, one that cannot be tested is
/// taken as a waiter.
void MarkWaiting(int fd);
void UnmarkWaiting();
bool AnyoneWaiting(int fd);

/// RAII transaction on one connection that rolls back unless committed.
class Txn {
 public:
  explicit Txn(sqlite3* db) : db_(db) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  /// BEGIN IMMEDIATE (takes the write lock now) or BEGIN (deferred).
  absl::Status Begin(bool immediate);
  absl::Status Commit();

 private:
  sqlite3* db_;
  bool open_ = false;
};

}  // namespace accord::store::detail
