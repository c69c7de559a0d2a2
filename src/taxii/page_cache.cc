#include "taxii/page_cache.h"

namespace accord::taxii {

// Returns the page and marks it most recently used, or nullptr on a miss. A stale entry (any
// stamp differs, or filled before not_before, i.e. older than response_cache_max_age_us) is
// erased here rather than by a background sweep, so staleness costs nothing until looked up.
// PERF: the lock covers only a hash lookup and a list splice; the body is shared by pointer and
// never copied under the lock (docs/TAXII.md: cached bodies are shared with the response).
std::shared_ptr<const PageCache::Page> PageCache::Get(const std::string& key, uint64_t local,
                                                      uint64_t external, uint64_t policy,
                                                      common::Micros not_before) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  const auto& p = it->second->second;
  if (p->stamp_local != local || p->stamp_external != external || p->stamp_policy != policy ||
      p->filled < not_before) {
    Erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return p;
}

// Inserts or replaces the page under key, then evicts from the LRU tail until within
// max_bytes_. Cost() is computed before taking the lock since the page is immutable.
void PageCache::Put(const std::string& key, std::shared_ptr<const Page> page) {
  size_t cost = Cost(key, *page);
  if (cost > max_bytes_ / 4) return;  // one huge page must not flush everything else
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = map_.find(key); it != map_.end()) Erase(it);
  lru_.emplace_front(key, std::move(page));
  map_.emplace(key, lru_.begin());
  bytes_ += cost;
  while (bytes_ > max_bytes_ && !lru_.empty()) Erase(map_.find(lru_.back().first));
}

// REQUIRES: mu_ held. Subtracts the same Cost() that Put added, so bytes_ stays exact.
void PageCache::Erase(Map::iterator it) {
  bytes_ -= Cost(it->first, *it->second->second);
  lru_.erase(it->second);
  map_.erase(it);
}

}  // namespace accord::taxii
