// Store::Generation() read at most once per interval, for caches in a busy process (the TAXII
// page cache, the egress gate's look-up memo).
#pragma once

#include <atomic>
#include <cstdint>

#include "accord/store/store.h"

namespace accord::store {

/// A number that changes whenever `store`'s Generation() does, read from the store at most once
/// per `min_interval_us` by all threads together (0: at every call), so that a change committed
/// by any process is seen within that time. A failed read gives a number of its own, with
/// kFailed set and never given before: nothing keyed on it is taken for current. Thread-safe.
class GenerationPoll {
 public:
  static constexpr uint64_t kFailed = uint64_t{1} << 63;

  GenerationPoll(Store* store, int64_t min_interval_us)
      : store_(store), min_interval_us_(min_interval_us) {}

  uint64_t Get();

 private:
  Store* const store_;
  const int64_t min_interval_us_;
  // The last poll: its number is stored before its time, so that a thread that reads the new
  // time reads that number (of two polls at once, either's may stay, read a poll apart).
  std::atomic<uint64_t> last_{0}, failures_{0};
  std::atomic<int64_t> polled_us_{INT64_MIN / 2};
};

}  // namespace accord::store
