// The bounded pool http::Server runs handlers on, off its I/O threads: a fixed number of
// worker threads and a bounded queue. TrySubmit refuses (the server then answers 503) when
// every worker is busy and the queue is full, so a burst of slow requests costs memory
// bounded by `max_queued`, never an unbounded backlog.
//
// Thread safety: TrySubmit and Shutdown may be called from any thread. A task that throws is
// logged and dropped; the worker carries on.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace accord::http::detail {

class HandlerPool {
 public:
  using Task = std::function<void()>;

  /// `threads` >= 1 workers; up to `max_queued` tasks wait beyond the ones running.
  HandlerPool(int threads, size_t max_queued);
  ~HandlerPool();  // Shutdown()
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  /// Queues `task`; false (and `task` untouched) when the pool is full or shut down.
  bool TrySubmit(Task& task);

  /// Stops taking tasks, destroys the queued ones without running them, and joins the
  /// workers (after the tasks they are running have returned). Idempotent.
  void Shutdown();

 private:
  void Worker();
  void Loop();

  const size_t capacity_;  // threads + max_queued: tasks accepted at once
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  size_t running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace accord::http::detail
