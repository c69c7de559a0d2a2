// Where a matched indicator comes from, for the match line (issue 11): the collection(s)
// holding it (its `name` is the program's, Program::Name). LoadActiveIndicators finds both
// while it lists the indicators and the compiled program keeps them (Program::Name,
// Program::Origin), so a match line needs no store read: 100,000 distinct indicators matching
// cost one indexed read per collection each before (a fifth of a run's time at 25% of events
// matching).
//
// Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "accord/common/status.h"
#include "accord/match/engine.h"
#include "accord/store/store.h"

namespace accord::match {

struct IndicatorOrigin {
  store::CollectionInfo collection;  // the first collection read that holds its newest version
  std::vector<store::CollectionInfo> also_in;  // the other collections read holding that version
  /// The line's bytes for these collections, rendered once by PrepareMatchLine (match_line.h):
  /// `"also_in":[…],"collection":{…},`; set when `prepared` (every string is valid UTF-8).
  std::string prepared_head;
  bool prepared = false;
};

/// The origins of the indicators of one program at a time, made from the program's Origin()
/// (collection ids, '\n'-separated, as LoadActiveIndicators writes them) and the collections'
/// alias and title, read from `store` once per program. One IndicatorOrigin per distinct
/// origin (the program interns them: a few per store), prepared for the match line.
class IndicatorOrigins {
 public:
  explicit IndicatorOrigins(store::Store* store) : store_(store) {}
  /// The origin of indicator `index` of `program`, or nullptr when it has none (no collection
  /// is named, or every one named has been deleted since it was compiled). Asking about
  /// another program forgets the previous one's. The pointer is valid until then.
  absl::StatusOr<const IndicatorOrigin*> Find(const Program& program, uint32_t index);

 private:
  store::Store* store_;
  const Program* program_ = nullptr;
  std::optional<absl::flat_hash_map<std::string, store::CollectionInfo>> collections_;
  // By Program::Origin() text (interned by the program: its address names it); null: none.
  absl::flat_hash_map<const char*, std::unique_ptr<IndicatorOrigin>> found_;
};

}  // namespace accord::match
