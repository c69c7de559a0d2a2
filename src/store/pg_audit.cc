// The node's audit log in the PostgreSQL store (pg_store.h, PgAuditStore): one chain for every
// process that uses the database, so that a node of several frontends and workers keeps one
// log, which any of them can show and verify.
#include <string>
#include <utility>
#include <vector>

#include "accord/common/strings.h"
#include "store/pg_store.h"

namespace accord::store::detail {

namespace {

// Serialises appenders (and a purge) across every process on the database, apart from the
// store's write lock: an audit entry never waits for an import. ("audit" in ASCII.)
constexpr const char* kBeginLocked =
    "BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_advisory_xact_lock(97117100105116)";

// A transaction holding the audit lock, on a leased connection; rolled back unless committed.
// Not subject to Options::read_only: a read through a read-only handle is still audited.
class AuditTxn {
 public:
  explicit AuditTxn(PgStore* s) : lease_(s) {}
  ~AuditTxn() {
    if (open_ && lease_.get() != nullptr) (void)lease_->Exec("ROLLBACK", "roll back");
  }
  AuditTxn(const AuditTxn&) = delete;
  AuditTxn& operator=(const AuditTxn&) = delete;
  absl::Status Begin() {
    ACCORD_RETURN_IF_ERROR(lease_.Open());
    // PERF: the commit does not wait for the WAL to reach the disk (4 ms a commit here, so 250
    // appends/s from one thread; bench/audit/append_bench). That is the file log's durability
    // (written to the kernel, not fsynced): a crash of the database server can lose the last
    // entries committed, and only a suffix of them, since the WAL is written in order. A
    // checkpoint is stored by a synchronous commit, which flushes the WAL up to it, so no
    // signed checkpoint can vouch for an entry that was lost.
    // One round trip: the transaction, its setting and the lock.
    open_ = true;
    return lease_->Exec(kBeginLocked, "begin an audit append");
  }
  absl::Status Commit() {
    open_ = false;
    return lease_->Exec("COMMIT", "commit an audit append");
  }
  PgConn* conn() const { return lease_.get(); }

 private:
  PgStore::Lease lease_;
  bool open_ = false;
};

absl::StatusOr<std::pair<uint64_t, std::string>> LastRow(PgConn* c) {
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                                 "read the audit log's head"));
  if (r.size() == 0) return std::pair<uint64_t, std::string>{0, ""};
  return std::pair<uint64_t, std::string>{static_cast<uint64_t>(r.num(0, 0)),
                                          std::string(r.text(0, 1))};
}

}  // namespace

absl::StatusOr<uint64_t> PgAuditStore::Append(const MakeRows& make) {
  AuditTxn t(store_);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  ACCORD_ASSIGN_OR_RETURN(auto last, LastRow(t.conn()));
  ACCORD_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, make(last.first, last.second));
  if (rows.empty()) return last.first;
  PgArray seqs, hashes, lines;
  uint64_t seq = last.first;
  if (seq == 0) seq = rows.front().seq - 1;  // an empty log starts where its first row says
  for (const AuditRow& r : rows) {
    if (r.seq == 0 || r.seq != ++seq) {
      return absl::InvalidArgumentError(common::Cat("audit row ", r.seq, " does not follow ",
                                                    seq - 1, ": the log's rows go one by one"));
    }
    seqs.Num(static_cast<int64_t>(r.seq));
    hashes.Text(r.hash);
    lines.Text(r.line);
  }
  ACCORD_RETURN_IF_ERROR(t.conn()
                             ->Run("INSERT INTO audit_log(seq, hash, line) "
                                   "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
                                   PgParams().Array(seqs).Array(hashes).Array(lines),
                                   "append to the audit log")
                             .status());
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return seq;
}

absl::StatusOr<std::pair<uint64_t, std::string>> PgAuditStore::Last() {
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  return LastRow(c.get());
}

absl::StatusOr<std::vector<AuditRow>> PgAuditStore::Read(uint64_t after, uint64_t limit) {
  if (limit == 0) return absl::InvalidArgumentError("an audit read needs a limit above 0");
  PgStore::Lease c(store_);
  ACCORD_RETURN_IF_ERROR(c.Open());
  ACCORD_ASSIGN_OR_RETURN(
      PgRows r, c->Run("SELECT seq, hash, line FROM audit_log WHERE seq > $1::bigint "
                       "ORDER BY seq LIMIT $2::bigint",
                       PgParams().Num(static_cast<int64_t>(after)).Num(static_cast<int64_t>(limit)),
                       "read the audit log"));
  std::vector<AuditRow> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back(
        {static_cast<uint64_t>(r.num(i, 0)), std::string(r.text(i, 1)), std::string(r.text(i, 2))});
  }
  return out;
}

absl::StatusOr<uint64_t> PgAuditStore::DropThrough(uint64_t seq, const std::string& hash) {
  AuditTxn t(store_);
  ACCORD_RETURN_IF_ERROR(t.Begin());
  ACCORD_ASSIGN_OR_RETURN(auto last, LastRow(t.conn()));
  if (seq >= last.first) {
    return absl::FailedPreconditionError(common::Cat(
        "audit log: entry ", seq, " is not before the last (", last.first, "): nothing after it"));
  }
  ACCORD_ASSIGN_OR_RETURN(
      PgRows at, t.conn()->Run("SELECT hash FROM audit_log WHERE seq = $1::bigint",
                               PgParams().Num(static_cast<int64_t>(seq)), "find a checkpoint"));
  if (at.size() == 0) {
    return absl::FailedPreconditionError(
        common::Cat("audit log: entry ", seq, " is not in the log (purged already?)"));
  }
  if (at.text(0, 0) != hash) {
    return absl::FailedPreconditionError(
        common::Cat("audit log: entry ", seq,
                    " does not have the checkpoint's hash; nothing was purged (run `accord "
                    "audit verify`)"));
  }
  ACCORD_ASSIGN_OR_RETURN(
      PgRows gone, t.conn()->Run("DELETE FROM audit_log WHERE seq <= $1::bigint",
                                 PgParams().Num(static_cast<int64_t>(seq)), "purge the audit log"));
  ACCORD_RETURN_IF_ERROR(t.Commit());
  return gone.changed();
}

}  // namespace accord::store::detail
