#include "accord/store/async_import.h"

#include "accord/common/strings.h"

namespace accord::store {

AsyncImport::AsyncImport(BeginFn begin, CommittedFn committed, size_t batch_size)
    : begin_(std::move(begin)), committed_(std::move(committed)), batch_size_(batch_size) {
  current_.records.reserve(batch_size_);
  // The thread's top: an exception from the store (bad_alloc, say) becomes the import's error,
  // which the producer sees on its next Add() or at Finish(); the open chunk then rolls back.
  writer_ = std::thread([this] {
    try {
      WriterLoop();
    } catch (const std::exception& e) {
      Fail(absl::InternalError(common::Cat("import writer: ", e.what())));
    } catch (...) {
      Fail(absl::InternalError("import writer: unknown exception"));
    }
  });
}

AsyncImport::~AsyncImport() { Abort(); }

absl::Status AsyncImport::Add(stix::ObjectRecord&& rec) {
  current_.bytes += rec.json.size();
  if (rec.index_text) {
    current_.bytes += rec.index_text->name.size() + rec.index_text->description.size() +
                      rec.index_text->markings.size();
  }
  if (rec.prepared) {
    current_.bytes += rec.prepared->text.size() + rec.prepared->term_keys.size() * sizeof(int64_t);
  }
  current_.records.push_back(std::move(rec));
  if (current_.records.size() >= batch_size_ || current_.bytes >= kMaxBatchBytes) {
    return Push(false, false);
  }
  return absl::OkStatus();
}

absl::Status AsyncImport::EndChunk() { return Push(true, false); }

absl::Status AsyncImport::Push(bool end_chunk, bool final_batch) {
  std::vector<std::vector<stix::ObjectRecord>> spent;
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] {
    return (queue_.size() < kMaxQueuedBatches && queued_bytes_ < kMaxQueuedBytes) || !error_.ok() ||
           closed_;
  });
  if (error_.ok() && !closed_ && (!current_.records.empty() || end_chunk)) {
    current_.end_chunk = end_chunk;
    queued_bytes_ += current_.bytes;
    queue_.push_back(std::move(current_));
  }
  current_ = Batch{};
  if (!final_batch) current_.records.reserve(batch_size_);
  if (final_batch) closed_ = true;
  cv_.notify_all();
  spent.swap(spent_);
  absl::Status st = error_;
  l.unlock();
  spent.clear();  // the records die on the thread that allocated them
  return st;
}

void AsyncImport::WriterLoop() {
  while (true) {
    Batch batch;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed: Drain rolls back a chunk left open
      batch = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= batch.bytes;
      cv_.notify_all();
    }
    absl::Status st = Write(batch);
    if (!st.ok()) {
      Fail(std::move(st));
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    if (!closed_) spent_.push_back(std::move(batch.records));
  }
}

absl::Status AsyncImport::Write(Batch& batch) {
  if (!batch.records.empty() && !txn_) {
    ACCORD_ASSIGN_OR_RETURN(txn_, begin_());
    chunk_first_ = records_written_;
  }
  for (const auto& r : batch.records) {
    ACCORD_RETURN_IF_ERROR(txn_->Add(r));
    ++records_written_;
  }
  if (batch.end_chunk && txn_) {
    ACCORD_ASSIGN_OR_RETURN(ImportResult res, txn_->Commit());
    txn_.reset();
    ACCORD_RETURN_IF_ERROR(committed_(std::move(res), chunk_first_));
  }
  return absl::OkStatus();
}

void AsyncImport::Fail(absl::Status st) {
  std::lock_guard<std::mutex> l(mu_);
  if (error_.ok()) error_ = std::move(st);
  queue_.clear();
  queued_bytes_ = 0;
  closed_ = true;
  cv_.notify_all();
}

absl::Status AsyncImport::Drain(bool commit_last) {
  if (writer_.joinable()) {
    (void)Push(commit_last, true);
    writer_.join();
  }
  txn_.reset();  // a chunk still open was not ended: it rolls back
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

absl::Status AsyncImport::Finish() { return Drain(true); }

void AsyncImport::Abort() { (void)Drain(false); }

}  // namespace accord::store
