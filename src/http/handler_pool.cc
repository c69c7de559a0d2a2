#include "http/handler_pool.h"

#include <cstdio>
#include <exception>

namespace accord::http::detail {

HandlerPool::HandlerPool(int threads, size_t max_queued)
    : capacity_(static_cast<size_t>(threads < 1 ? 1 : threads) + max_queued) {
  for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) threads_.emplace_back([this] { Worker(); });
}

HandlerPool::~HandlerPool() { Shutdown(); }

bool HandlerPool::TrySubmit(Task& task) {
  std::lock_guard<std::mutex> l(mu_);
  // Counted under the lock with the running tasks, so "full" is exact: a test (or an
  // operator) can rely on the (threads + max_queued + 1)-th concurrent request being refused.
  if (stop_ || queue_.size() + running_ >= capacity_) return false;
  queue_.push_back(std::move(task));
  cv_.notify_one();
  return true;
}

void HandlerPool::Shutdown() {
  std::deque<Task> dropped;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && threads_.empty()) return;
    stop_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  dropped.clear();  // outside the lock: a task's captures may take other locks as they go
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> l(mu_);
  threads_.clear();
}

// The thread's top: nothing escapes a worker (an exception leaving a std::thread would
// terminate the process). Tasks are caught one by one in Loop(); this is for the loop itself.
void HandlerPool::Worker() {
  try {
    Loop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accord: handler pool: worker stopped: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "accord: handler pool: worker stopped\n");
  }
}

void HandlerPool::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    l.unlock();
    // Top-level catch: a task that throws must not take the worker (and the process) down.
    // The server's tasks catch their own errors and answer 500; this is the last resort.
    try {
      task();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "accord: handler pool: task failed: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "accord: handler pool: task failed with an unknown exception\n");
    }
    task = nullptr;  // captures released before the task counts as finished
    l.lock();
    --running_;
  }
}

}  // namespace accord::http::detail
