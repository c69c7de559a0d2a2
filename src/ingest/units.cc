#include "accord/ingest/units.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/formats/export.h"

namespace accord::ingest {
namespace {

// An object this large gets a batch buffer of its own size (UnitImporter::Add).
constexpr size_t kLargeObjectBytes = size_t{1} << 20;

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

// Reads a streamed unit's batches into its run on a thread of its own, while the caller
// converts the next ones. PERF: converting (the MISP reader) and reading the converted JSON
// (parse, validate, pattern check, value terms) each took about half of the importing thread,
// with the store's writer on a third thread: docs/PERFORMANCE.md, issue 15. At most
// kMaxQueued batches wait, so memory stays bounded; the first error stops the reading, and the
// caller sees it at its next Push or at Drain.
class UnitImporter::Feeder {
 public:
  Feeder(ingest::Import* run, std::string name)
      : run_(run), name_(std::move(name)), thread_([this] { Loop(); }) {}
  ~Feeder() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Feeder(const Feeder&) = delete;
  Feeder& operator=(const Feeder&) = delete;

  // Queues *batch (JSON lines; `line` and `offset` in the unit of its first line) and leaves a
  // spent buffer, empty, in its place.
  absl::Status Push(std::string* batch, uint64_t line, uint64_t offset) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.size() < kMaxQueued || !status_.ok(); });
    if (!status_.ok()) return status_;
    queue_.push_back(Batch{std::move(*batch), line, offset});
    batch->clear();
    if (!spare_.empty()) {
      batch->swap(spare_.back());
      spare_.pop_back();
    }
    cv_.notify_all();
    return absl::OkStatus();
  }

  // Waits until every queued batch was read; the first error, if any.
  absl::Status Drain() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return (queue_.empty() && !busy_) || !status_.ok(); });
    return status_;
  }

 private:
  struct Batch {
    std::string lines;
    uint64_t line = 1, offset = 0;
  };
  static constexpr size_t kMaxQueued = 2;

  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return !queue_.empty() || stop_; });
      if (stop_) return;  // an aborted unit: what waits is dropped
      Batch b = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      l.unlock();
      auto src = JsonLinesSource(name_, b.lines, b.line, b.offset);
      absl::Status st = run_->Add(*src);
      src.reset();
      b.lines.clear();
      l.lock();
      busy_ = false;
      if (!st.ok() && status_.ok()) status_ = std::move(st);
      if (spare_.size() < kMaxQueued) spare_.push_back(std::move(b.lines));
      cv_.notify_all();
      if (!status_.ok()) return;
    }
  }

  ingest::Import* run_;
  const std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  std::vector<std::string> spare_;  // spent buffers, handed back to the caller
  bool busy_ = false;               // a batch is being read
  bool stop_ = false;
  absl::Status status_;
  std::thread thread_;  // last: started once the rest is constructed
};

// A unit between Begin and End.
struct UnitImporter::Streamed {
  formats::Unit unit;      // name and state; the objects only when collected whole (skip_existing)
  bool unchanged = false;  // its state says it was imported already: only counted
  std::unique_ptr<ingest::Import> run;  // opened at the first batch
  std::unique_ptr<Feeder> feeder;       // reads into `run`; declared after it, so stopped first
  std::string batch;                    // JSON lines not yet handed to the feeder
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
  if (object.size() >= kLargeObjectBytes) {
    // PERF: one allocation of the size needed, in huge pages (a MISP event's report lists
    // every object: 7 MB for 150,000 attributes), not doublings of the batch into fresh memory.
    common::ReserveHuge(&u.batch, u.batch.size() + object.size() + 1);
  }
  u.batch += object;
  u.batch += '\n';
  ++u.batch_objects;
  return absl::OkStatus();
}

absl::Status UnitImporter::Feed(Streamed& u, bool keep_last) {
  const size_t cut = keep_last ? u.last_start : u.batch.size();
  const uint64_t n = keep_last ? u.batch_objects - 1 : u.batch_objects;
  if (!u.run) {
    u.run = OpenUnitRun();
    u.feeder = std::make_unique<Feeder>(u.run.get(), u.unit.name);
  }
  std::string rest = u.batch.substr(cut);  // the object held back: one, or none
  u.batch.resize(cut);
  ACCORD_RETURN_IF_ERROR(u.feeder->Push(&u.batch, u.next_line, u.next_offset));
  u.batch += rest;
  u.next_line += n;
  u.next_offset += cut;
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
    ACCORD_RETURN_IF_ERROR(u.feeder->Drain());
    u.feeder.reset();
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
