// The matching run: follow streams, the reloader, and the reader -> matcher pipeline.
#include "accord/match/runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>

namespace accord::match {

namespace {

class FollowStream final : public common::InputStream {
 public:
  FollowStream(std::string path, std::function<bool()> stop)
      : path_(std::move(path)), stop_(std::move(stop)) {}
  ~FollowStream() override {
    if (fd_ >= 0) close(fd_);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      if (stop_ && stop_()) return 0;
      if (fd_ < 0) {
        fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        struct stat st;
        fstat(fd_, &st);
        inode_ = st.st_ino;
      }
      ssize_t r = read(fd_, buf, n);
      if (r > 0) {
        offset_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      struct stat now;
      if (stat(path_.c_str(), &now) == 0 &&
          (now.st_ino != inode_ || static_cast<uint64_t>(now.st_size) < offset_)) {
        close(fd_);
        fd_ = -1;
        offset_ = 0;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  std::string path_;
  std::function<bool()> stop_;
  int fd_ = -1;
  ino_t inode_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<common::InputStream> OpenFollow(std::string path, std::function<bool()> stop) {
  return std::make_unique<FollowStream>(std::move(path), std::move(stop));
}

// ---------------------------------------------------------------------------------------------
// Reloader

Reloader::Reloader(Changed changed, Load load, const MatchOptions& options, double interval_s,
                   std::function<bool()> stop)
    : changed_(std::move(changed)),
      load_(std::move(load)),
      options_(options),
      interval_s_(interval_s),
      stop_(std::move(stop)) {
  // The thread's top: an exception (bad_alloc while compiling, say) ends reloading with a
  // message; the engine in use keeps matching.
  thread_ = std::thread([this] {
    try {
      Run();
    } catch (const std::exception& e) {
      std::cerr << "accord: reload disabled: " << e.what() << "\n";
    } catch (...) {
      std::cerr << "accord: reload disabled: unknown exception\n";
    }
  });
}

Reloader::~Reloader() {
  done_ = true;
  thread_.join();
}

std::shared_ptr<const Program> Reloader::Take() {
  if (!ready_.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard<std::mutex> l(mu_);
  ready_ = false;
  return std::move(pending_);
}

void Reloader::Run() {
  for (;;) {
    for (double waited = 0; waited < interval_s_; waited += 0.05) {
      if (done_ || (stop_ && stop_())) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    absl::StatusOr<bool> changed = changed_();
    if (!changed.ok()) {
      std::cerr << "accord: reload check failed: " << changed.status() << "\n";
      continue;
    }
    if (!*changed) continue;
    auto t0 = std::chrono::steady_clock::now();
    auto specs = load_();
    if (!specs.ok()) {
      std::cerr << "accord: reload failed: " << specs.status() << "\n";
      continue;
    }
    auto program = Program::Build(*specs, options_);
    if (!program.ok()) {
      std::cerr << "accord: reload failed: " << program.status() << "\n";
      continue;
    }
    std::cerr << "accord: store changed: " << (*program)->Stats().indicators
              << " active indicators recompiled in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
              << " s\n";
    std::lock_guard<std::mutex> l(mu_);
    pending_ = std::move(*program);
    ready_.store(true, std::memory_order_release);
  }
}

// ---------------------------------------------------------------------------------------------
// Runner

// Observations parsed ahead by the reader thread. The Observation objects are reused from one
// batch to the next, so steady-state reading allocates nothing (input.h).
struct Runner::Batch {
  std::vector<Observation> obs;
  size_t n = 0;
  size_t input = 0;
};

// A bounded queue of batches between one producer (the reader thread) and one consumer (the
// matching thread). At most kBatches batches exist, which bounds the memory read ahead.
class Runner::Feed {
 public:
  static constexpr size_t kBatches = 4;
  explicit Feed(size_t batch_events) {
    for (size_t i = 0; i < kBatches; ++i) {
      all_.push_back(std::make_unique<Batch>());
      all_.back()->obs.resize(batch_events);
      free_.push_back(all_.back().get());
    }
  }
  // Producer: a batch to fill, or null once the consumer has quit.
  Batch* Free() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !free_.empty() || quit_; });
    if (quit_) return nullptr;
    Batch* b = free_.front();
    free_.pop_front();
    return b;
  }
  void Push(Batch* b) {
    std::lock_guard<std::mutex> l(mu_);
    full_.push_back(b);
    cv_.notify_all();
  }
  void Finish(absl::Status st) {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
    status_ = std::move(st);
    cv_.notify_all();
  }
  // Consumer: the next batch in order, or null at the end.
  Batch* Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !full_.empty() || done_; });
    if (full_.empty()) return nullptr;
    Batch* b = full_.front();
    full_.pop_front();
    return b;
  }
  void Recycle(Batch* b) {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(b);
    cv_.notify_all();
  }
  void Quit() {
    std::lock_guard<std::mutex> l(mu_);
    quit_ = true;
    cv_.notify_all();
  }
  bool quitting() {
    std::lock_guard<std::mutex> l(mu_);
    return quit_;
  }
  absl::Status status() {
    std::lock_guard<std::mutex> l(mu_);
    return status_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Batch>> all_;
  std::deque<Batch*> free_, full_;
  bool done_ = false, quit_ = false;
  absl::Status status_;
};

Runner::Runner(std::unique_ptr<Engine> engine, RunnerOptions options)
    : engine_(std::move(engine)), options_(std::move(options)) {
  if (options_.batch_events == 0) options_.batch_events = 1;
}

Runner::~Runner() = default;

bool Reloader::Apply(std::unique_ptr<Engine>* engine) {
  std::shared_ptr<const Program> program = Take();
  if (!program) return false;
  std::unique_ptr<Engine> fresh = Engine::Create(std::move(program));
  if (uint64_t dropped = fresh->TakeStateFrom(**engine)) {
    std::cerr << "accord: " << dropped
              << " observation(s) dropped from the temporal windows of indicators that "
                 "changed or are gone\n";
  }
  *engine = std::move(fresh);
  return true;
}

absl::Status Runner::Match(const Observation& o, const std::string& input, const OnEvent& on_event,
                           const OnMatch& on_match) {
  if (reloader_) reloader_->Apply(&engine_);
  const uint64_t position = ++totals_.events;
  if (on_event) ACCORD_RETURN_IF_ERROR(on_event(o, position));
  results_.clear();
  engine_->Process(o, position, &results_);
  if (results_.empty()) return absl::OkStatus();
  ++totals_.matched;
  totals_.matches += results_.size();
  return on_match ? on_match(*engine_, o, position, input, results_) : absl::OkStatus();
}

absl::Status Runner::Run(const std::vector<std::string>& inputs, const Open& open,
                         const OnEvent& on_event, const OnMatch& on_match) {
  auto stopped = [&] { return options_.stop && options_.stop(); };
  if (options_.threads <= 1) {
    Observation o;
    for (const std::string& input : inputs) {
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<EventReader> reader, open(input));
      for (;;) {
        ACCORD_ASSIGN_OR_RETURN(bool more, reader->Next(&o));
        if (!more || stopped()) break;
        ACCORD_RETURN_IF_ERROR(Match(o, input, on_event, on_match));
      }
      totals_.malformed += reader->stats().malformed;
      if (stopped()) break;
    }
    return absl::OkStatus();
  }
  Feed feed(options_.batch_events);
  std::atomic<uint64_t> malformed{0};
  std::thread producer([&] {
    absl::Status st;
    for (size_t i = 0; i < inputs.size() && st.ok() && !feed.quitting(); ++i) {
      auto reader = open(inputs[i]);
      if (!reader.ok()) {
        st = reader.status();
        break;
      }
      bool end = false;
      while (!end) {
        Batch* b = feed.Free();
        if (!b) break;
        b->n = 0;
        b->input = i;
        while (b->n < b->obs.size()) {
          auto more = (*reader)->Next(&b->obs[b->n]);
          if (!more.ok()) st = more.status();
          if (!more.ok() || !*more || stopped()) {
            end = true;
            break;
          }
          ++b->n;
        }
        if (b->n)
          feed.Push(b);
        else
          feed.Recycle(b);
      }
      malformed += (*reader)->stats().malformed;
      if (stopped()) break;
    }
    feed.Finish(std::move(st));
  });
  absl::Status st;
  while (Batch* b = feed.Pop()) {
    for (size_t k = 0; k < b->n && st.ok(); ++k) {
      if (stopped()) break;
      st = Match(b->obs[k], inputs[b->input], on_event, on_match);
    }
    feed.Recycle(b);
    if (!st.ok() || stopped()) break;
  }
  quit_ = true;
  feed.Quit();
  // The producer ends: Free() returns null once quit, and a followed input's Read() returns
  // at the stop flag (the caller's stop should also cover quitting(), see the CLI).
  producer.join();
  totals_.malformed += malformed.load();
  if (!st.ok()) return st;
  return feed.status();
}

}  // namespace accord::match
