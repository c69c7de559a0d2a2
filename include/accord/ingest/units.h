// How converted input (src/formats/: one MISP event, one text report, one block of a list) is
// stored (issue 15): each Unit in one transaction through the one ingest path, with the node's
// warninglists applied and incremental state kept. `accord import --format` and the web UI's
// import (docs/UI_API.md) both use it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "accord/formats/formats.h"
#include "accord/formats/warninglist.h"
#include "accord/ingest/ingest.h"
#include "accord/store/store.h"

namespace accord::ingest {

/// Running totals of a formats import, over every unit and STIX file.
struct UnitTotals {
  uint64_t accepted = 0, added = 0, duplicates = 0, rejected = 0, conflicts = 0, upgraded = 0;
  uint64_t units = 0, units_unchanged = 0, already_stored = 0, inputs_refused = 0;
  uint64_t warninglisted = 0;  // indicators flagged or dropped
};

/// Stores converted units, each in its own transaction (a unit is stored whole or not at all:
/// one MISP event, one text report, one block of a list), through the one ingest path.
///
/// As a formats::UnitStream it stores a unit while it is converted: the objects go through the
/// ingest path in batches as they arrive, into the one transaction of the unit, which commits
/// at End and rolls back at Abort (nothing of a unit that fails is stored). Not thread-safe.
class UnitImporter final : public formats::UnitStream {
 public:
  /// `skip_existing`: values from lists and text carry the time of import, so an object the
  /// collection already holds (by id) is left as it is rather than versioned again. `base`
  /// and `totals` must outlive the importer.
  UnitImporter(store::Store* s, const Options& base, bool skip_existing, UnitTotals* totals);
  ~UnitImporter() override;  // rolls back a unit begun and not ended

  /// The node's warninglists (issue 15): an indicator whose values are on a list is flagged
  /// (label "warninglist:NAME") or, with `drop`, left out; counted per list either way.
  void SetWarninglists(const formats::WarninglistSet* lists, bool drop,
                       std::map<std::string, uint64_t>* per_list) {
    lists_ = lists;
    drop_ = drop;
    per_list_ = per_list;
  }
  /// Called with each object the ingest path refused (by default: none is reported).
  void OnRejected(std::function<void(const Problem&)> f) { on_rejected_ = std::move(f); }

  /// Stores `u` in one transaction (nothing when its state says it is unchanged).
  absl::Status Import(formats::Unit&& u);
  /// Adds a finished run's counts (and reports its refusals).
  void Count(const Result& res);

  /// formats::UnitStream. With `skip_existing` the unit is collected and stored whole at End
  /// (Import): which of its objects the collection holds is asked once, for all of them.
  /// Without it, a unit larger than one batch is read on a thread of the importer's own while
  /// Add returns (the first error surfaces at a later Add or at End), so the base Options'
  /// callbacks (on_problem, on_accepted) may run on that thread, never two at once.
  absl::Status Begin(std::string_view name, std::string_view state_key,
                     std::string_view state_value) override;
  absl::Status Add(std::string&& object) override;
  absl::Status End() override;
  void Abort() override;

  /// Objects a streamed unit hands to the ingest path at a time. PERF: small enough that the
  /// store's writer starts early, large enough that a read's fixed cost is shared.
  static constexpr uint64_t kStreamBatchObjects = 1024;

 private:
  struct Streamed;
  class Feeder;
  // The node's warninglists on one object: false when it is dropped; a listed indicator kept
  // is relabelled in place.
  bool ApplyWarninglists(std::string* object);
  // Reads the streamed unit's batch into its run (all of it, or all but the last object).
  absl::Status Feed(Streamed& u, bool keep_last);
  // A run of the ingest path that stores one unit in one transaction.
  std::unique_ptr<ingest::Import> OpenUnitRun() const;
  // Whether a unit with this import state was stored already at that state (or later).
  absl::StatusOr<bool> Unchanged(const std::string& state_key,
                                 const std::string& state_value) const;
  // Commits `run` (the unit `name`) and keeps its state.
  absl::Status FinishUnit(ingest::Import& run, const std::string& name,
                          const std::string& state_key, const std::string& state_value);

  store::Store* s_;
  const Options& base_;
  bool skip_existing_;
  UnitTotals* t_;
  const formats::WarninglistSet* lists_ = nullptr;
  bool drop_ = false;
  std::map<std::string, uint64_t>* per_list_ = nullptr;
  std::function<void(const Problem&)> on_rejected_;
  std::unique_ptr<Streamed> open_;  // the unit between Begin and End/Abort
};

}  // namespace accord::ingest
