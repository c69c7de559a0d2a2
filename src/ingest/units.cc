#include "accord/ingest/units.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "accord/common/strings.h"
#include "accord/formats/export.h"

namespace accord::ingest {
namespace {

// Decimal timestamps (MISP): numerically newer; otherwise any change counts.
bool Newer(const std::string& now, const std::string& before) {
  char* e1 = nullptr;
  char* e2 = nullptr;
  long long a = std::strtoll(now.c_str(), &e1, 10);
  long long b = std::strtoll(before.c_str(), &e2, 10);
  if (*e1 == '\0' && *e2 == '\0' && !now.empty() && !before.empty()) return a > b;
  return now != before;
}
std::string_view IdOfJson(std::string_view json) {
  size_t p = json.find(R"("id":")");
  if (p == std::string_view::npos) return {};
  p += 6;
  return json.substr(p, json.find('"', p) - p);
}

}  // namespace

// A unit between Begin and End.
struct UnitImporter::Streamed {
  formats::Unit unit;      // name and state; the objects only when collected whole (skip_existing)
  bool unchanged = false;  // its state says it was imported already: only counted
  std::unique_ptr<ingest::Import> run;  // opened at the first batch
  std::string batch;                    // JSON lines not yet read into `run`
  uint64_t batch_objects = 0;
  size_t last_start = 0;     // where the batch's last line begins
  uint64_t next_line = 1;    // the unit's line number of the batch's first line
  uint64_t next_offset = 0;  // and its byte offset
};

UnitImporter::UnitImporter(store::Store* s, const Options& base, bool skip_existing,
                           UnitTotals* totals)
    : s_(s), base_(base), skip_existing_(skip_existing), t_(totals) {}

UnitImporter::~UnitImporter() = default;

absl::Status UnitImporter::Begin(std::string_view name, std::string_view state_key,
                                 std::string_view state_value) {
  open_ = std::make_unique<Streamed>();
  Streamed& u = *open_;
  u.unit.name = std::string(name);
  u.unit.state_key = std::string(state_key);
  u.unit.state_value = std::string(state_value);
  if (skip_existing_) return absl::OkStatus();  // Import checks, at End
  ACCORD_ASSIGN_OR_RETURN(u.unchanged, Unchanged(u.unit.state_key, u.unit.state_value));
  return absl::OkStatus();
}

absl::Status UnitImporter::Add(std::string&& object) {
  if (!open_) return absl::FailedPreconditionError("UnitImporter::Add without Begin");
  Streamed& u = *open_;
  if (skip_existing_) {
    u.unit.objects.push_back(std::move(object));
    return absl::OkStatus();
  }
  // (Counted for an unchanged unit too, as Import counts them.)
  if (lists_ != nullptr && lists_->size() > 0 && !ApplyWarninglists(&object)) {
    return absl::OkStatus();
  }
  if (u.unchanged) return absl::OkStatus();
  // A batch holds its last object back, so that the last batch of a unit is never one object
  // alone (ReadBuffer would read a lone object as a document, not as line N).
  if (u.batch_objects >= kStreamBatchObjects) ACCORD_RETURN_IF_ERROR(Feed(u, true));
  u.last_start = u.batch.size();
  u.batch += object;
  u.batch += '\n';
  ++u.batch_objects;
  return absl::OkStatus();
}

absl::Status UnitImporter::Feed(Streamed& u, bool keep_last) {
  const size_t cut = keep_last ? u.last_start : u.batch.size();
  const uint64_t n = keep_last ? u.batch_objects - 1 : u.batch_objects;
  if (!u.run) u.run = OpenUnitRun();
  auto src = JsonLinesSource(u.unit.name, std::string_view(u.batch).substr(0, cut), u.next_line,
                             u.next_offset);
  ACCORD_RETURN_IF_ERROR(u.run->Add(*src));
  u.next_line += n;
  u.next_offset += cut;
  u.batch.erase(0, cut);
  u.batch_objects -= n;
  return absl::OkStatus();
}

absl::Status UnitImporter::End() {
  if (!open_) return absl::FailedPreconditionError("UnitImporter::End without Begin");
  std::unique_ptr<Streamed> open = std::move(open_);
  Streamed& u = *open;
  if (skip_existing_) return Import(std::move(u.unit));
  if (u.unchanged) {
    ++t_->units_unchanged;
    return absl::OkStatus();
  }
  if (!u.run) {
    if (u.batch.empty()) return absl::OkStatus();  // every object dropped
    // The whole unit in one batch: read as Import reads it (a lone object as a document).
    u.run = OpenUnitRun();
    auto src = BufferSource(u.unit.name, u.batch);
    ACCORD_RETURN_IF_ERROR(u.run->Add(*src));
  } else {
    ACCORD_RETURN_IF_ERROR(Feed(u, false));
  }
  return FinishUnit(*u.run, u.unit.name, u.unit.state_key, u.unit.state_value);
}

void UnitImporter::Abort() { open_.reset(); }  // ~Import rolls the transaction back

absl::Status UnitImporter::Import(formats::Unit&& u) {
  if (lists_ != nullptr && lists_->size() > 0) {
    std::vector<std::string> kept;
    kept.reserve(u.objects.size());
    for (auto& o : u.objects) {
      if (ApplyWarninglists(&o)) kept.push_back(std::move(o));
    }
    u.objects = std::move(kept);
  }
  ACCORD_ASSIGN_OR_RETURN(bool unchanged, Unchanged(u.state_key, u.state_value));
  if (unchanged) {
    ++t_->units_unchanged;
    return absl::OkStatus();
  }
  std::string lines;
  if (skip_existing_) {
    // Values from lists and text carry the time of import: a value this collection already
    // holds is left as it is, not versioned again with a new timestamp.
    store::Query q;
    q.collection = base_.collection;
    q.include_revoked = true;
    for (const auto& o : u.objects) q.ids.emplace_back(IdOfJson(o));
    absl::flat_hash_set<std::string> have;
    auto page = s_->List(q);
    if (page.ok()) {
      for (auto& o : page->objects) have.insert(o.id);
    } else if (!absl::IsNotFound(page.status())) {
      return page.status();
    }
    for (auto& o : u.objects) {
      if (have.count(std::string(IdOfJson(o)))) {
        ++t_->already_stored;
        continue;
      }
      lines += o;
      lines += '\n';
    }
  } else {
    // PERF: one allocation for the unit's JSON lines, each object freed once copied (a
    // 150,000-attribute MISP event is about 80 MB of STIX).
    size_t total = 0;
    for (const auto& o : u.objects) total += o.size() + 1;
    lines.reserve(total);
    for (auto& o : u.objects) {
      lines += o;
      lines += '\n';
      std::string().swap(o);
    }
  }
  if (lines.empty()) return absl::OkStatus();
  std::unique_ptr<ingest::Import> run = OpenUnitRun();
  auto src = BufferSource(u.name, lines);
  ACCORD_RETURN_IF_ERROR(run->Add(*src));
  return FinishUnit(*run, u.name, u.state_key, u.state_value);
}

std::unique_ptr<ingest::Import> UnitImporter::OpenUnitRun() const {
  Options o = base_;
  o.chunk_objects = 0;  // one transaction per unit
  o.chunk_seconds = 0;
  return std::make_unique<ingest::Import>(s_, std::move(o));
}

absl::StatusOr<bool> UnitImporter::Unchanged(const std::string& state_key,
                                             const std::string& state_value) const {
  if (state_key.empty()) return false;
  ACCORD_ASSIGN_OR_RETURN(auto prev, s_->GetSetting(state_key));
  return prev.has_value() && !Newer(state_value, *prev);
}

absl::Status UnitImporter::FinishUnit(ingest::Import& run, const std::string& name,
                                      const std::string& state_key,
                                      const std::string& state_value) {
  ACCORD_ASSIGN_OR_RETURN(Result res, run.Finish());
  Count(res);
  if (!res.committed && res.checked.accepted > 0) {
    return absl::FailedPreconditionError(common::Cat(name, ": ", res.not_committed_why));
  }
  if (res.committed && !state_key.empty()) {
    ACCORD_RETURN_IF_ERROR(s_->PutSetting(state_key, state_value));
  }
  ++t_->units;
  return absl::OkStatus();
}

void UnitImporter::Count(const Result& res) {
  const Checked& c = res.checked;
  if (on_rejected_) {
    for (const auto& p : c.problems) on_rejected_(p);
  }
  t_->accepted += c.accepted;
  t_->rejected += c.rejected;
  t_->upgraded += c.upgraded;
  if (res.committed) {
    t_->added += res.stored.added;
    t_->duplicates += res.stored.duplicates;
    t_->conflicts += res.stored.conflicts;
  }
}

bool UnitImporter::ApplyWarninglists(std::string* o) {
  if (o->find(R"("type":"indicator")") == std::string::npos) return true;
  auto j = nlohmann::json::parse(*o, nullptr, false);
  if (!j.is_object() || j.value("type", "") != "indicator" || !j.contains("pattern") ||
      !j["pattern"].is_string()) {
    return true;
  }
  std::vector<std::string> names;
  for (const auto& v : formats::ExportableValues(j["pattern"].get<std::string>(), nullptr)) {
    for (auto h : lists_->Match(v)) {
      if (std::find(names.begin(), names.end(), h) == names.end()) names.emplace_back(h);
    }
  }
  if (names.empty()) return true;
  for (const auto& n : names) ++(*per_list_)[n];
  ++t_->warninglisted;
  if (drop_) return false;
  auto& labels = j["labels"];
  if (!labels.is_array()) labels = nlohmann::json::array();
  for (const auto& n : names) labels.push_back("warninglist:" + n);
  *o = j.dump();
  return true;
}

}  // namespace accord::ingest
