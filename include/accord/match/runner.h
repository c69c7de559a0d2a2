// The matching run (issue 11): inputs are read and parsed into observations, each observation
// is matched by the engine, matches go to a sink. Out of the CLI so that every front end (the
// CLI today, a service later) runs the same loop.
//
//   Runner runner(std::move(engine), options);
//   runner.SetReloader(&reloader);                       // optional: --follow
//   absl::Status st = runner.Run(inputs, open, on_event, on_match);
//
// Threads: with RunnerOptions::threads = 2 a reader thread parses events into batches while
// the calling thread matches them; with 1, both happen on the calling thread. The engine sees
// the same observations in the same order either way, so the matches, their order and their
// 1-based stream positions are identical (tests/match/match_threads_test.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "accord/common/io.h"
#include "accord/common/status.h"
#include "accord/match/engine.h"
#include "accord/match/input.h"

namespace accord::match {

/// `tail -F`: reads to the end, waits for more, and reopens the path when it is rotated (inode
/// changed) or truncated. Read() returns 0 (end) once `stop` returns true; it polls every
/// 200 ms while the file is idle.
std::unique_ptr<common::InputStream> OpenFollow(std::string path, std::function<bool()> stop);

/// Recompiles the indicators off the hot path when they change. A thread checks `changed`
/// every `interval_s` seconds and, when it says yes, calls `load` and compiles a Program,
/// which Take() hands out once. Both callbacks run on that thread only. An error in them is
/// reported on stderr and the current program stays in use.
class Reloader {
 public:
  using Changed = std::function<absl::StatusOr<bool>()>;
  using Load = std::function<absl::StatusOr<std::vector<IndicatorSpec>>()>;
  Reloader(Changed changed, Load load, const MatchOptions& options, double interval_s,
           std::function<bool()> stop);
  ~Reloader();
  /// The new program if one is ready (an atomic load when none is).
  std::shared_ptr<const Program> Take();
  /// When a new program is ready, replaces `*engine` with an engine over it that takes the old
  /// one's temporal windows (Engine::TakeStateFrom), and reports on stderr the observations
  /// dropped from windows of indicators that changed or are gone. Returns whether it did.
  bool Apply(std::unique_ptr<Engine>* engine);

 private:
  void Run();
  Changed changed_;
  Load load_;
  MatchOptions options_;
  double interval_s_;
  std::function<bool()> stop_;
  std::atomic<bool> done_{false}, ready_{false};
  std::mutex mu_;
  std::shared_ptr<const Program> pending_;
  std::thread thread_;
};

struct RunnerOptions {
  /// 1: read and match on the calling thread. 2: a reader thread parses ahead.
  int threads = 2;
  /// Events handed from the reader thread at a time. Following a file, use 1: a batch is
  /// handed over only when full or at the end of an input, and a followed file may be idle.
  size_t batch_events = 128;
  /// Polled between events; true ends the run after the event in hand.
  std::function<bool()> stop;
};

struct RunTotals {
  uint64_t events = 0;     // observations matched (the last position)
  uint64_t malformed = 0;  // records the readers skipped
  uint64_t matched = 0;    // events with at least one match
  uint64_t matches = 0;
};

class Runner {
 public:
  Runner(std::unique_ptr<Engine> engine, RunnerOptions options);
  ~Runner();
  /// Programs from `r` replace the engine's between two events; the new engine takes the old
  /// one's temporal windows (Engine::TakeStateFrom). `r` must outlive Run().
  void SetReloader(Reloader* r) { reloader_ = r; }

  /// Opens input `name` (called on the reader thread).
  using Open = std::function<absl::StatusOr<std::unique_ptr<EventReader>>(const std::string&)>;
  /// Before each event is matched, on the calling thread.
  using OnEvent = std::function<absl::Status(const Observation&, uint64_t position)>;
  /// After an event that matched; `results` index the engine's program (engine.IndicatorId).
  using OnMatch =
      std::function<absl::Status(const Engine& engine, const Observation&, uint64_t position,
                                 const std::string& input, const std::vector<MatchResult>&)>;
  /// Reads the inputs in order as one stream (positions run on across inputs). Returns the
  /// first error of an input that cannot be read, or of a callback.
  absl::Status Run(const std::vector<std::string>& inputs, const Open& open,
                   const OnEvent& on_event, const OnMatch& on_match);

  const Engine& engine() const { return *engine_; }
  /// True once Run() is ending early (a callback failed, or stop): a followed input's stop
  /// function should include it, so that the reader thread is not left waiting for data.
  bool quitting() const { return quit_.load(std::memory_order_relaxed); }
  const RunTotals& totals() const { return totals_; }

 private:
  struct Batch;
  class Feed;
  absl::Status Match(const Observation& o, const std::string& input, const OnEvent& on_event,
                     const OnMatch& on_match);

  std::unique_ptr<Engine> engine_;
  RunnerOptions options_;
  Reloader* reloader_ = nullptr;
  RunTotals totals_;
  std::vector<MatchResult> results_;
  std::atomic<bool> quit_{false};
};

}  // namespace accord::match
