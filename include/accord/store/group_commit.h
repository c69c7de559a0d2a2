// Group commit on a committer thread, for every writer that commits many small batches: TAXII
// POST handlers (which parse and validate on their workers, then hand their records over and
// return, http::Response::deferred, so no worker waits for the disk), `accord taxii pull` and,
// later, federation. Records reach it only through the ingest path (src/ingest/). The
// committer writes everything queued meanwhile (same collection, up to kMaxGroupRecords) in
// one store transaction and calls each request's `done` with the outcome; a request is
// answered only after the transaction holding its records committed.
// PERF: one 100-object transaction dirties ~100 random leaves of the store's id index; under
// load the groups grow and that cost is shared (bench/store/small_txn_bench: 42k objects/s in
// transactions of 100, 158k in transactions of 5,000).
//
// Thread safety: Submit may be called from any thread; `done` runs on the committer thread
// (or, once the committer has failed, on the submitting thread). The destructor commits what
// is queued, then joins.
//
// Failures: a store write that throws counts as an Internal error of its group; a `done` that
// throws is logged. Anything else escaping the loop is caught at the thread's top: the
// committer logs it, fails every queued and later request with Internal, and stops.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "accord/common/status.h"
#include "accord/stix/object.h"
#include "accord/store/store.h"

namespace accord::store {

class GroupCommitter {
 public:
  static constexpr size_t kMaxGroupRecords = 20000;
  static constexpr size_t kMaxQueuedRecords = 200000;  // beyond this, Submit waits (backpressure)
  /// The outcome of the transaction that held the records: its counts cover every request
  /// committed in the same group (exactly this one's when it was alone, or retried alone).
  using Done = std::function<void(const absl::StatusOr<ImportResult>&)>;

  explicit GroupCommitter(store::Store* store);
  ~GroupCommitter();

  /// Queues `records` for `collection` (id or alias); `done` runs once they are committed (or
  /// failed: then none of them is stored). `writer` (the user or peer; optional) is recorded
  /// with copies refused as content conflicts; the result's `conflicting` lists only this
  /// request's, indexed into `records`.
  void Submit(std::string collection, std::vector<stix::ObjectRecord> records, Done done,
              std::string writer = "");

  /// Submit, then wait for the outcome (for callers with nothing else to do meanwhile).
  absl::StatusOr<ImportResult> Commit(std::string collection,
                                      std::vector<stix::ObjectRecord> records,
                                      std::string writer = "");

 private:
  struct Job {
    std::string collection;
    std::vector<stix::ObjectRecord> records;
    Done done;
    std::string writer;
  };

  void Loop();
  void Run();
  void FailAll(std::string_view why);
  absl::StatusOr<ImportResult> Write(const std::vector<Job>& group, size_t begin, size_t end);
  static void Call(const Done& done, const absl::StatusOr<ImportResult>& result);

  store::Store* store_;
  std::mutex mu_;
  std::condition_variable cv_, space_;
  std::deque<Job> queue_;
  size_t queued_ = 0;
  bool stop_ = false;
  bool failed_ = false;  // the loop died: requests fail at once
  std::thread thread_;   // last: started after the members it uses
};

}  // namespace accord::store
