#include "accord/store/async_import.h"

#include "accord/common/strings.h"

namespace accord::store {

AsyncImport::AsyncImport(std::unique_ptr<ImportTxn> txn, size_t batch_size, size_t max_batches)
    : txn_(std::move(txn)), batch_size_(batch_size), max_batches_(max_batches) {
  current_.reserve(batch_size_);
  // The thread's top: an exception from the store (bad_alloc, say) becomes the import's error,
  // which the producer sees on its next Add() or at Commit(); the import then rolls back.
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
  current_bytes_ += rec.json.size();
  if (rec.index_text) {
    current_bytes_ += rec.index_text->name.size() + rec.index_text->description.size() +
                      rec.index_text->markings.size();
  }
  current_.push_back(std::move(rec));
  if (current_.size() >= batch_size_ || current_bytes_ >= kMaxBatchBytes) {
    Push(false);
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }
  return absl::OkStatus();
}

void AsyncImport::Push(bool final_batch) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return queue_.size() < max_batches_ || !error_.ok(); });
  if (!current_.empty() && error_.ok()) queue_.push_back(std::move(current_));
  current_ = {};
  current_.reserve(batch_size_);
  current_bytes_ = 0;
  if (final_batch) closed_ = true;
  cv_.notify_all();
}

void AsyncImport::WriterLoop() {
  while (true) {
    std::vector<stix::ObjectRecord> batch;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
    }
    for (const auto& r : batch) {
      absl::Status st = txn_->Add(r);
      if (!st.ok()) {
        std::lock_guard<std::mutex> l(mu_);
        error_ = st;
        queue_.clear();
        cv_.notify_all();
        return;
      }
    }
  }
}

void AsyncImport::Fail(absl::Status st) {
  std::lock_guard<std::mutex> l(mu_);
  if (error_.ok()) error_ = std::move(st);
  queue_.clear();
  closed_ = true;
  cv_.notify_all();
}

absl::Status AsyncImport::Drain() {
  if (writer_.joinable()) {
    Push(true);
    writer_.join();
  }
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

absl::StatusOr<ImportResult> AsyncImport::Commit() {
  ACCORD_RETURN_IF_ERROR(Drain());
  if (!txn_) return absl::FailedPreconditionError("import already finished");
  auto res = txn_->Commit();
  txn_.reset();
  return res;
}

void AsyncImport::Abort() {
  (void)Drain();
  txn_.reset();  // rolls back if not committed
}

}  // namespace accord::store
