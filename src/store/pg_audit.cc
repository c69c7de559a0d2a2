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

absl::StatusOr<std::pair<uint64_t, std::string>> LastRow(PgConn* c) {
  ACCORD_ASSIGN_OR_RETURN(PgRows r,
                          c->Run("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                                 "read the audit log's head"));
  if (r.size() == 0) return std::pair<uint64_t, std::string>{0, ""};
  return std::pair<uint64_t, std::string>{static_cast<uint64_t>(r.num(0, 0)),
                                          std::string(r.text(0, 1))};
}

}  // namespace

// PERF: an append is one round trip (bench/audit/append_bench): no transaction block, no lock
// and no read of the head. The head is the one this process wrote last; the primary key on
// seq is what keeps the chain one: when another process appended meanwhile, the insert of the
// same seq fails (unique_violation), the head is read again and the rows are made again from
// it. A connection of its own, whose session does not wait for the WAL flush (see below), so
// that no other statement of the store is written that way.
absl::StatusOr<uint64_t> PgAuditStore::Append(const MakeRows& make) {
  std::lock_guard<std::mutex> l(mu_);
  if (conn_ == nullptr || !conn_->healthy()) {
    head_known_ = false;
    ACCORD_ASSIGN_OR_RETURN(conn_, PgConn::Connect(store_->url()));
    // The commit does not wait for the WAL to reach the disk (4 ms a commit here: 250
    // appends/s from one thread). That is the file log's durability (written to the kernel,
    // not fsynced): a crash of the database server can lose the last entries committed, and
    // only a suffix of them, since the WAL is written in order. A checkpoint is stored by a
    // synchronous commit, which flushes the WAL up to it, so no signed checkpoint can vouch
    // for an entry that was lost.
    ACCORD_RETURN_IF_ERROR(conn_->Exec("SET synchronous_commit = off", "set up audit appends"));
  }
  // Bounded: each retry means another process appended in between.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (!head_known_) {
      ACCORD_ASSIGN_OR_RETURN(auto last, LastRow(conn_.get()));
      head_seq_ = last.first;
      head_hash_ = std::move(last.second);
      head_known_ = true;
    }
    ACCORD_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, make(head_seq_, head_hash_));
    if (rows.empty()) return head_seq_;
    PgArray seqs, hashes, lines;
    uint64_t seq = head_seq_ == 0 ? rows.front().seq - 1 : head_seq_;  // an empty log: anywhere
    for (const AuditRow& r : rows) {
      if (r.seq == 0 || r.seq != ++seq) {
        return absl::InvalidArgumentError(common::Cat("audit row ", r.seq, " does not follow ",
                                                      seq - 1, ": the log's rows go one by one"));
      }
      seqs.Num(static_cast<int64_t>(r.seq));
      hashes.Text(r.hash);
      lines.Text(r.line);
    }
    absl::Status inserted =
        conn_
            ->Run(
                "INSERT INTO audit_log(seq, hash, line) "
                "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
                PgParams().Array(seqs).Array(hashes).Array(lines), "append to the audit log")
            .status();
    if (inserted.ok()) {
      head_seq_ = rows.back().seq;
      head_hash_ = rows.back().hash;
      return head_seq_;
    }
    head_known_ = false;
    if (inserted.code() != absl::StatusCode::kAlreadyExists) return inserted;
  }
  return absl::UnavailableError("audit log: other processes kept appending first; try again");
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
  // Under the store's write lock, as any other removal (purges are rare; appends never wait
  // for it).
  PgStore::WriteTxn t(store_);
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
