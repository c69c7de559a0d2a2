#include "store/sqlite_util.h"

#include <fcntl.h>
#include <sqlite3.h>

#include <mutex>

#include "accord/common/strings.h"
#include "store/sqlite_memory.h"

namespace accord::store::detail {

void StmtDeleter::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
void DbDeleter::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

void ConfigureSqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    // PERF: no allocation statistics: they take a global mutex on every sqlite3_malloc/free
    // (~2% of an import).
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)InstallSqlitePageArena();  // advice for speed: SQLite's own methods otherwise
  });
}

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

void RowFeed::AddText(std::string_view v) {
  EndView();
  cells_.push_back({0, static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(v.size()), true});
  text_.append(v);
}

namespace {

// accord_rows: an eponymous-only virtual table over the RowFeed bound to its hidden column,
// in the manner of SQLite's carray extension (ext/misc/carray.c), with a pointer of type
// kFeedType (sqlite3_bind_pointer: SQL text cannot forge one).
constexpr const char* kFeedType = "accord-row-feed";
constexpr int kFeedColumn = RowFeed::kMaxColumns;  // the hidden argument

struct FeedCursor {
  sqlite3_vtab_cursor base;  // first: SQLite passes &base
  const RowFeed* feed;
  size_t row;
};

FeedCursor* CursorOf(sqlite3_vtab_cursor* c) { return reinterpret_cast<FeedCursor*>(c); }

int FeedConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(c0, c1, c2, c3, feed HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  auto* vtab = static_cast<sqlite3_vtab*>(sqlite3_malloc(sizeof(sqlite3_vtab)));
  if (vtab == nullptr) return SQLITE_NOMEM;
  *vtab = sqlite3_vtab{};
  *out = vtab;
  return SQLITE_OK;
}

int FeedDisconnect(sqlite3_vtab* vtab) {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

// Only a plan that passes the feed (accord_rows(?)) is possible.
int FeedBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn == kFeedColumn && c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.usable) {
      info->aConstraintUsage[i].argvIndex = 1;
      info->aConstraintUsage[i].omit = 1;
      info->estimatedCost = 1;
      info->estimatedRows = 1000;
      return SQLITE_OK;
    }
  }
  return SQLITE_CONSTRAINT;
}

int FeedOpen(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* c = static_cast<FeedCursor*>(sqlite3_malloc(sizeof(FeedCursor)));
  if (c == nullptr) return SQLITE_NOMEM;
  *c = FeedCursor{};
  *out = &c->base;
  return SQLITE_OK;
}

int FeedClose(sqlite3_vtab_cursor* c) {
  sqlite3_free(c);
  return SQLITE_OK;
}

int FeedFilter(sqlite3_vtab_cursor* cur, int, const char*, int argc, sqlite3_value** argv) {
  FeedCursor* c = CursorOf(cur);
  c->feed =
      argc > 0 ? static_cast<const RowFeed*>(sqlite3_value_pointer(argv[0], kFeedType)) : nullptr;
  c->row = 0;
  return SQLITE_OK;
}

int FeedNext(sqlite3_vtab_cursor* cur) {
  ++CursorOf(cur)->row;
  return SQLITE_OK;
}

int FeedEof(sqlite3_vtab_cursor* cur) {
  const FeedCursor* c = CursorOf(cur);
  return c->feed == nullptr || c->row >= c->feed->rows() ? 1 : 0;
}

int FeedColumn(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int column) {
  const FeedCursor* c = CursorOf(cur);
  if (column >= c->feed->columns()) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  const RowFeed::Cell cell = c->feed->At(c->row, column);
  if (cell.text) {
    std::string_view t = c->feed->TextOf(cell);
    sqlite3_result_text(ctx, t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
  } else {
    sqlite3_result_int64(ctx, cell.value);
  }
  return SQLITE_OK;
}

int FeedRowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(CursorOf(cur)->row);
  return SQLITE_OK;
}

sqlite3_module MakeFeedModule() {
  sqlite3_module m{};
  m.xConnect = FeedConnect;  // no xCreate: eponymous-only
  m.xBestIndex = FeedBestIndex;
  m.xDisconnect = FeedDisconnect;
  m.xOpen = FeedOpen;
  m.xClose = FeedClose;
  m.xFilter = FeedFilter;
  m.xNext = FeedNext;
  m.xEof = FeedEof;
  m.xColumn = FeedColumn;
  m.xRowid = FeedRowid;
  return m;
}

const sqlite3_module kFeedModule = MakeFeedModule();

}  // namespace

absl::Status RegisterRowFeed(sqlite3* db) {
  if (sqlite3_create_module(db, "accord_rows", &kFeedModule, nullptr) != SQLITE_OK) {
    return SqlError(db, "register accord_rows");
  }
  return absl::OkStatus();
}

absl::Status BindRowFeed(sqlite3_stmt* s, int i, const RowFeed* feed) {
  return BindResult(s, sqlite3_bind_pointer(s, i, const_cast<RowFeed*>(feed), kFeedType, nullptr),
                    i);
}

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

namespace {
thread_local int t_marked_fd = -1;  // the waiting file this thread marked (MarkWaiting)

// A lock of `type` on byte 0 (l_pid 0, as open file description locks require).
struct flock ByteZero(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 1;
  return l;
}

bool LockByteZero(int fd, short type) {
  struct flock l = ByteZero(type);
  return ::fcntl(fd, F_OFD_SETLK, &l) == 0;
}
}  // namespace

void MarkWaiting(int fd) {
  if (fd < 0 || t_marked_fd >= 0) return;
  if (LockByteZero(fd, F_RDLCK)) t_marked_fd = fd;
}

void UnmarkWaiting() {
  if (t_marked_fd < 0) return;
  (void)LockByteZero(t_marked_fd, F_UNLCK);
  t_marked_fd = -1;
}

bool AnyoneWaiting(int fd) {
  if (fd < 0) return true;
  struct flock l = ByteZero(F_WRLCK);
  if (::fcntl(fd, F_OFD_GETLK, &l) != 0) return true;
  return l.l_type != F_UNLCK;
}

absl::Status Txn::Begin(bool immediate) {
  absl::Status st = Exec(db_, immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (immediate) UnmarkWaiting();  // no longer waiting, whether it got the lock or gave up
  ACCORD_RETURN_IF_ERROR(st);
  open_ = true;
  return absl::OkStatus();
}

absl::Status Txn::Commit() {
  ACCORD_RETURN_IF_ERROR(Exec(db_, "COMMIT"));
  open_ = false;
  return absl::OkStatus();
}

}  // namespace accord::store::detail
