#include "store/sqlite_util.h"

#include <sqlite3.h>

#include "accord/common/strings.h"

namespace accord::store::detail {

void StmtDeleter::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
void DbDeleter::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

absl::Status SqlCodeError(int rc, std::string_view what, std::string_view detail) {
  std::string msg = common::Cat(what, ": ", detail);
  // Primary code: connections may run with extended result codes.
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return absl::UnavailableError(msg);
    case SQLITE_FULL: return absl::ResourceExhaustedError("disk full: " + msg);  // taxii: 507
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return absl::DataLossError(msg);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN: return absl::FailedPreconditionError(msg);
    default: return absl::InternalError(msg);
  }
}

absl::Status SqlError(sqlite3* db, std::string_view what) {
  return SqlCodeError(sqlite3_errcode(db), what, sqlite3_errmsg(db));
}

absl::Status Exec(sqlite3* db, std::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqlCodeError(rc, "sqlite", common::Cat(m, " (in: ", sql.substr(0, 60), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &s, nullptr) != SQLITE_OK) {
    return SqlError(db, common::Cat("prepare '", sql.substr(0, 80), "'"));
  }
  return Stmt(s);
}

absl::StatusOr<bool> Step(sqlite3_stmt* s, std::string_view what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_step (v2 interface) returns the specific code; the message is the connection's.
  return SqlCodeError(rc, what, sqlite3_errmsg(sqlite3_db_handle(s)));
}

absl::Status StepDone(sqlite3_stmt* s, std::string_view what) {
  ACCORD_ASSIGN_OR_RETURN(bool row, Step(s, what));
  if (row) return absl::InternalError(common::Cat(what, ": unexpected result row"));
  return absl::OkStatus();
}

namespace {
absl::Status BindResult(sqlite3_stmt* s, int rc, int i) {
  if (rc == SQLITE_OK) return absl::OkStatus();
  return SqlCodeError(rc, common::Cat("bind parameter ", i), sqlite3_errmsg(sqlite3_db_handle(s)));
}
}  // namespace

absl::Status BindText(sqlite3_stmt* s, int i, std::string_view v) {
  return BindResult(
      s, sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT), i);
}

absl::Status BindStatic(sqlite3_stmt* s, int i, std::string_view v) {
  return BindResult(s, sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC),
                    i);
}

absl::Status BindInt(sqlite3_stmt* s, int i, int64_t v) {
  return BindResult(s, sqlite3_bind_int64(s, i, v), i);
}

absl::Status BindNull(sqlite3_stmt* s, int i) { return BindResult(s, sqlite3_bind_null(s, i), i); }

std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

int64_t ColInt(sqlite3_stmt* s, int i) { return sqlite3_column_int64(s, i); }

Txn::~Txn() {
  // A failed ROLLBACK leaves nothing to do: SQLite rolls back when the connection closes.
  if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

absl::Status Txn::Begin(bool immediate) {
  ACCORD_RETURN_IF_ERROR(Exec(db_, immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  open_ = true;
  return absl::OkStatus();
}

absl::Status Txn::Commit() {
  ACCORD_RETURN_IF_ERROR(Exec(db_, "COMMIT"));
  open_ = false;
  return absl::OkStatus();
}

}  // namespace accord::store::detail
