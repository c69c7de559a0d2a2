// Runs an import's store writes on a background thread so that parsing and validation (the
// caller's thread) overlap with SQLite's B-tree work and with each chunk's commit. Memory stays
// bounded: at most kMaxQueuedBatches batches (of `batch_size` records or kMaxBatchBytes) and
// kMaxQueuedBytes are queued.
//
// An import is a sequence of chunks, each one store transaction (ImportTxn). The writer begins
// a chunk at its first record (so a run that queues nothing takes no write lock and creates no
// collection) and commits it when the producer has ended it (EndChunk) and its records are
// written; the producer goes on queueing the next chunk's records meanwhile.
//
// Not thread-safe: one producer thread calls Add/EndChunk/Finish/Abort.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "accord/store/store.h"

namespace accord::store {

class AsyncImport {
 public:
  /// Begins a chunk's transaction (on the writer thread).
  using BeginFn = std::function<absl::StatusOr<std::unique_ptr<ImportTxn>>()>;
  /// Called on the writer thread after a chunk has committed, with its result and the number of
  /// records queued before the chunk began. An error stops the import (the chunk stays
  /// committed).
  using CommittedFn = std::function<absl::Status(ImportResult&&, uint64_t first_record)>;

  AsyncImport(BeginFn begin, CommittedFn committed, size_t batch_size = 512);
  ~AsyncImport();  // rolls back the chunk that is open, if any

  /// A batch goes to the writer at `batch_size` records or this many bytes of JSON and index
  /// text, whichever comes first (objects with long descriptions fill batches by bytes).
  static constexpr size_t kMaxBatchBytes = 2 << 20;
  /// What the producer may run ahead of the writer. PERF: enough to keep parsing through a
  /// chunk's commit (~50-100 ms at 1M objects), little enough for the RSS goal of issue 11.
  static constexpr size_t kMaxQueuedBatches = 8;
  static constexpr size_t kMaxQueuedBytes = 8 << 20;

  /// Queues one record; returns the writer's error if it has failed already.
  absl::Status Add(stix::ObjectRecord&& rec);
  /// Ends the current chunk: it commits once its records are written. Returns at once (with
  /// the writer's error, if any).
  absl::Status EndChunk();
  /// Waits for the writer and commits the last chunk.
  absl::Status Finish();
  /// Waits for the writer and rolls back the open chunk; chunks already committed stay.
  void Abort();

 private:
  struct Batch {
    std::vector<stix::ObjectRecord> records;
    size_t bytes = 0;
    bool end_chunk = false;
  };
  absl::Status Push(bool end_chunk, bool final_batch);
  void WriterLoop();
  absl::Status Write(Batch& batch);
  void Fail(absl::Status st);  // records the writer's error and releases the producer
  absl::Status Drain(bool commit_last);

  BeginFn begin_;
  CommittedFn committed_;
  size_t batch_size_;
  Batch current_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  // Written batches, handed back for the producer to free. PERF: glibc's free() of memory that
  // another thread allocated takes that arena's lock and defeats its thread cache; freed here on
  // the writer, the records cost it ~3 s of 1M objects (issue 11, docs/PERFORMANCE.md).
  std::vector<std::vector<stix::ObjectRecord>> spent_;
  size_t queued_bytes_ = 0;
  bool closed_ = false;
  absl::Status error_;
  std::thread writer_;
  // The writer thread's own state.
  std::unique_ptr<ImportTxn> txn_;
  uint64_t records_written_ = 0;
  uint64_t chunk_first_ = 0;
};

}  // namespace accord::store
