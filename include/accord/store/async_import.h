// Runs an ImportTxn's writes on a background thread so that parsing and validation (the
// caller's thread) overlap with SQLite's B-tree work. Memory stays bounded: at most
// `max_batches` batches of `batch_size` records, or of kMaxBatchBytes, are queued.
//
// Not thread-safe: one producer thread calls Add/Finish.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "accord/store/store.h"

namespace accord::store {

class AsyncImport {
 public:
  explicit AsyncImport(std::unique_ptr<ImportTxn> txn, size_t batch_size = 512,
                       size_t max_batches = 8);
  ~AsyncImport();  // without a successful Commit(), rolls back

  /// A batch goes to the writer at `batch_size` records or this many bytes of JSON and index
  /// text, whichever comes first (objects with long descriptions fill batches by bytes).
  static constexpr size_t kMaxBatchBytes = 2 << 20;

  /// Queues one record; returns the writer's error if it has failed already.
  absl::Status Add(stix::ObjectRecord&& rec);
  /// Waits for the writer and commits everything (all or nothing).
  absl::StatusOr<ImportResult> Commit();
  /// Waits for the writer and rolls back.
  void Abort();

 private:
  void Push(bool final_batch);
  void WriterLoop();
  void Fail(absl::Status st);  // records the writer's error and releases the producer
  absl::Status Drain();

  std::unique_ptr<ImportTxn> txn_;
  size_t batch_size_, max_batches_;
  std::vector<stix::ObjectRecord> current_;
  size_t current_bytes_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<stix::ObjectRecord>> queue_;
  bool closed_ = false;
  absl::Status error_;
  std::thread writer_;
};

}  // namespace accord::store
