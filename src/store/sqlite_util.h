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
