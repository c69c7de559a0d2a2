// An LRU of serialized TAXII GET responses, bounded by bytes. A hit must match the change
// stamp taken when the entry was filled (see ServiceOptions::response_cache_bytes).
//
// Thread safety: all methods may be called concurrently (one internal mutex). Pages are
// immutable once put and shared by pointer, so a reader keeps its page alive after eviction.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "accord/audit/log.h"
#include "accord/common/time.h"

namespace accord::taxii {

class PageCache {
 public:
  struct Page {
    std::string body;
    std::string added_first, added_last;  // X-TAXII-Date-Added-First/Last, empty when none
    uint64_t stamp_local = 0, stamp_external = 0;
    uint64_t stamp_policy = 0;  // the egress gate's generation when filled
    common::Micros filled = 0;
    /// What the page delivers, for the audit entry of every time it is served (issue 13):
    /// the versions sent, and those the gate withheld or redacted for this audience class.
    audit::Entry delivery;
  };

  explicit PageCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The page under `key` if it was filled at the stamps (`local`, `external`, the gate's
  // generation `policy`) and not before `not_before`; a stale entry is dropped. The key names
  // the audience (service.cc, Cached), so principals with different decisions never share a
  // page.
  std::shared_ptr<const Page> Get(const std::string& key, uint64_t local, uint64_t external,
                                  uint64_t policy, common::Micros not_before);

  // Stores `page` under `key`, evicting least recently used pages beyond the byte bound.
  void Put(const std::string& key, std::shared_ptr<const Page> page);

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const Page>>;
  using Map = std::unordered_map<std::string, std::list<Entry>::iterator>;

  static size_t Cost(const std::string& key, const Page& p) {
    return 2 * key.size() + p.body.size() + p.added_first.size() + p.added_last.size() + 160;
  }
  void Erase(Map::iterator it);

  const uint64_t max_bytes_;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  Map map_;
  uint64_t bytes_ = 0;
};

}  // namespace accord::taxii
