#include "store/sqlite_status.h"

#include <sqlite3.h>

#include <mutex>
#include <type_traits>

#include "accord/common/strings.h"
#include "store/sqlite_store.h"
#include "store/sqlite_util.h"

namespace accord::store::detail {

// A status row holds the counts; its failures are rows of their own (the ids of successes
// are not kept, see RequestStatus). `sid` ties them together; `created` drives expiry.
const char* const kStatusSchema = R"sql(
CREATE TABLE IF NOT EXISTS request_status(
  sid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  created INTEGER NOT NULL,
  request_ts INTEGER NOT NULL,
  complete INTEGER NOT NULL,
  total INTEGER NOT NULL,
  success INTEGER NOT NULL,
  failure INTEGER NOT NULL,
  pending INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS request_status_created ON request_status(created);
CREATE TABLE IF NOT EXISTS request_status_failure(
  sid INTEGER NOT NULL,
  n INTEGER NOT NULL,
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY(sid, n)) WITHOUT ROWID;
)sql";

namespace {

// Deletes the statuses (and their failures) selected by `where`, "created < ?1" or "id = ?1".
absl::Status DeleteStatuses(Conn* c, std::string_view where, const auto& value) {
  auto bind = [&](sqlite3_stmt* s) {
    if constexpr (std::is_integral_v<std::decay_t<decltype(value)>>) {
      return BindInt(s, 1, value);
    } else {
      return BindText(s, 1, value);
    }
  };
  ACCORD_ASSIGN_OR_RETURN(StmtRef f,
                          Cached(c, common::Cat("DELETE FROM request_status_failure WHERE sid IN "
                                                "(SELECT sid FROM request_status WHERE ",
                                                where, ")")));
  ACCORD_RETURN_IF_ERROR(bind(f.get()));
  ACCORD_RETURN_IF_ERROR(StepDone(f.get(), "delete status failures"));
  ACCORD_ASSIGN_OR_RETURN(StmtRef s,
                          Cached(c, common::Cat("DELETE FROM request_status WHERE ", where)));
  ACCORD_RETURN_IF_ERROR(bind(s.get()));
  return StepDone(s.get(), "delete statuses");
}

}  // namespace

absl::Status SqliteStatusStore::PutStatus(const RequestStatus& st, Micros purge_before) {
  ACCORD_RETURN_IF_ERROR(store_->CheckWritable());
  std::unique_lock<WriteMutex> lock(store_->write_mu());
  Conn* c = store_->writer();
  Txn txn(c->get());
  ACCORD_RETURN_IF_ERROR(txn.Begin(true));
  // PERF: expiry rides on writes, by the `created` index; nothing runs in the background.
  ACCORD_RETURN_IF_ERROR(DeleteStatuses(c, "created < ?1", int64_t{purge_before}));
  ACCORD_RETURN_IF_ERROR(DeleteStatuses(c, "id = ?1", st.id));
  ACCORD_ASSIGN_OR_RETURN(StmtRef ins,
                          Cached(c,
                                 "INSERT INTO request_status(id, owner, created, request_ts, "
                                 "complete, total, success, failure, pending) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  sqlite3_stmt* q = ins.get();
  ACCORD_RETURN_IF_ERROR(BindText(q, 1, st.id));
  ACCORD_RETURN_IF_ERROR(BindText(q, 2, st.owner));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 3, st.created));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 4, st.request_timestamp));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 5, st.complete ? 1 : 0));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 6, static_cast<int64_t>(st.total_count)));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 7, static_cast<int64_t>(st.success_count)));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 8, static_cast<int64_t>(st.failure_count)));
  ACCORD_RETURN_IF_ERROR(BindInt(q, 9, static_cast<int64_t>(st.pending_count)));
  ACCORD_RETURN_IF_ERROR(StepDone(q, "store status"));
  const int64_t sid = sqlite3_last_insert_rowid(c->get());
  if (!st.failures.empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        StmtRef fi, Cached(c,
                           "INSERT INTO request_status_failure(sid, n, id, version, message) "
                           "VALUES(?1, ?2, ?3, ?4, ?5)"));
    for (size_t i = 0; i < st.failures.size(); ++i) {
      const StatusDetail& d = st.failures[i];
      ACCORD_RETURN_IF_ERROR(BindInt(fi.get(), 1, sid));
      ACCORD_RETURN_IF_ERROR(BindInt(fi.get(), 2, static_cast<int64_t>(i)));
      ACCORD_RETURN_IF_ERROR(BindStatic(fi.get(), 3, d.id));
      ACCORD_RETURN_IF_ERROR(BindStatic(fi.get(), 4, d.version));
      ACCORD_RETURN_IF_ERROR(BindStatic(fi.get(), 5, d.message));
      absl::Status added = StepDone(fi.get(), "store status failure");
      sqlite3_reset(fi.get());  // rewinds; the step's result is `added`
      if (!added.ok()) return added;
    }
  }
  return txn.Commit();
}

absl::StatusOr<std::optional<RequestStatus>> SqliteStatusStore::GetStatus(const std::string& id,
                                                                          Micros not_before) {
  SqliteStore::Reader r(store_);
  ACCORD_RETURN_IF_ERROR(r.Open());
  Txn snapshot(r.get());  // the row and its failures from one state of the store
  ACCORD_RETURN_IF_ERROR(snapshot.Begin(false));
  ACCORD_ASSIGN_OR_RETURN(StmtRef q,
                          Cached(r.conn(),
                                 "SELECT sid, owner, created, request_ts, complete, total, "
                                 "success, failure, pending FROM request_status "
                                 "WHERE id = ?1 AND created >= ?2"));
  ACCORD_RETURN_IF_ERROR(BindText(q.get(), 1, id));
  ACCORD_RETURN_IF_ERROR(BindInt(q.get(), 2, not_before));
  ACCORD_ASSIGN_OR_RETURN(bool found, Step(q.get(), "read status"));
  if (!found) return std::optional<RequestStatus>();
  RequestStatus st;
  const int64_t sid = ColInt(q.get(), 0);
  st.id = id;
  st.owner = ColText(q.get(), 1);
  st.created = ColInt(q.get(), 2);
  st.request_timestamp = ColInt(q.get(), 3);
  st.complete = ColInt(q.get(), 4) != 0;
  st.total_count = static_cast<uint64_t>(ColInt(q.get(), 5));
  st.success_count = static_cast<uint64_t>(ColInt(q.get(), 6));
  st.failure_count = static_cast<uint64_t>(ColInt(q.get(), 7));
  st.pending_count = static_cast<uint64_t>(ColInt(q.get(), 8));
  q = StmtRef(nullptr, nullptr);  // resets the statement
  ACCORD_ASSIGN_OR_RETURN(StmtRef f,
                          Cached(r.conn(),
                                 "SELECT id, version, message FROM request_status_failure "
                                 "WHERE sid = ?1 ORDER BY n"));
  ACCORD_RETURN_IF_ERROR(BindInt(f.get(), 1, sid));
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(bool row, Step(f.get(), "read status failures"));
    if (!row) break;
    st.failures.push_back(
        StatusDetail{ColText(f.get(), 0), ColText(f.get(), 1), ColText(f.get(), 2)});
  }
  f = StmtRef(nullptr, nullptr);  // no statement in progress at COMMIT
  ACCORD_RETURN_IF_ERROR(snapshot.Commit());
  return std::optional<RequestStatus>(std::move(st));
}

}  // namespace accord::store::detail
