#include "accord/store/generation_poll.h"

#include "accord/common/time.h"

namespace accord::store {

uint64_t GenerationPoll::Get() {
  const int64_t now = min_interval_us_ > 0 ? common::SteadyMicros() : 0;
  if (min_interval_us_ > 0 && now - polled_us_.load(std::memory_order_acquire) < min_interval_us_) {
    return last_.load(std::memory_order_relaxed);
  }
  absl::StatusOr<uint64_t> g = store_->Generation();
  const uint64_t v = g.ok() ? *g : failures_.fetch_add(1) | kFailed;
  last_.store(v, std::memory_order_relaxed);
  polled_us_.store(now, std::memory_order_release);
  return v;
}

}  // namespace accord::store
