// Where a matched indicator comes from, for the match line (issue 11): its `name` and the
// collection(s) holding it, looked up in the store when the indicator first matches.
//
// Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::match {

struct IndicatorOrigin {
  std::string name;                  // the indicator's `name`; "" when it has none
  store::CollectionInfo collection;  // the first collection read that holds its newest version
  std::vector<store::CollectionInfo> also_in;  // the other collections read holding that version
};

/// Finds and remembers the origin of indicators by id, among `collections` (ids or aliases, in
/// the order given; empty: every collection of the store, in the store's order). In each
/// collection the latest unrevoked version of the id counts, as in LoadActiveIndicators; the
/// newest of those is the indicator's version, named by the first collection holding it.
/// Cost: one indexed read per collection the first time an id is asked for; none after that.
class IndicatorOrigins {
 public:
  IndicatorOrigins(store::Store* store, std::vector<std::string> collections)
      : store_(store), scope_(std::move(collections)) {}
  /// The origin of indicator `id`, or nullptr when no collection read holds it (it was deleted
  /// since it was compiled). The pointer is valid until Clear().
  absl::StatusOr<const IndicatorOrigin*> Find(const std::string& id);
  /// Forgets what was found (the store changed: names and memberships may have too).
  void Clear() { found_.clear(); }

 private:
  store::Store* store_;
  std::vector<std::string> scope_;
  std::optional<std::vector<store::CollectionInfo>> collections_;  // resolved on first use
  absl::flat_hash_map<std::string, std::optional<IndicatorOrigin>> found_;
};

}  // namespace accord::match
