#include "accord/ingest/ingest.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "accord/ingest/units.h"

namespace accord::ingest {
namespace {

std::string Indicator(int n, const std::string& pattern) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--6b5e7a3c-0000-4000-8000-%012d", n);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
         R"("pattern":")" +
         pattern + R"(","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
}

const std::string kGood = "[ipv4-addr:value = '198.51.100.1']";

// A stage that refuses one id, recording the order it ran in.
class RefuseId final : public Stage {
 public:
  RefuseId(std::string name, std::string id, std::vector<std::string>* log)
      : name_(std::move(name)), id_(std::move(id)), log_(log) {}
  std::string_view Name() const override { return name_; }
  absl::Status Check(const stix::ObjectRecord& r, const Origin& o) const override {
    log_->push_back(name_ + ":" + o.entry_point);
    if (r.id == id_) return absl::PermissionDeniedError(name_ + " says no");
    return absl::OkStatus();
  }

 private:
  std::string name_, id_;
  std::vector<std::string>* log_;
};

class TempStore {
 public:
  TempStore() {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-ingest-unit-" + std::to_string(getpid()) + "-" + std::to_string(n_++));
    std::filesystem::remove_all(dir_);
    store::Options o;
    o.dir = dir_.string();
    store_ = std::move(*store::Store::Open(o));
  }
  ~TempStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  store::Store* get() { return store_.get(); }
  bool HasCollection(const std::string& alias) {
    auto cs = store_->ListCollections();
    for (const auto& c : *cs) {
      if (c.alias == alias) return true;
    }
    return false;
  }

 private:
  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

// An audit log in a directory of its own, removed with it: how many chunks a run committed
// (one write entry per chunk) is its head's seq.
class TempAuditLog {
 public:
  explicit TempAuditLog(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             ("accord-ingest-" + name + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto log = audit::Log::Open(dir_.string(), nullptr);
    EXPECT_TRUE(log.ok()) << log.status();
    if (log.ok()) log_ = std::move(*log);
  }
  ~TempAuditLog() {
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  audit::Log* get() { return log_.get(); }
  uint64_t Seq() {
    auto head = log_->ReadHead();
    EXPECT_TRUE(head.ok()) << head.status();
    return head.ok() ? head->seq : 0;
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<audit::Log> log_;
};

TEST(Pipeline, DefaultRunsThePatternCheckOnlyAndNamesTheRule) {
  Pipeline p = Pipeline::Default();
  ASSERT_NE(p.Get(Hook::kPatternCheck), nullptr);
  EXPECT_EQ(p.Get(Hook::kSignature), nullptr);
  EXPECT_EQ(p.Get(Hook::kIngressPolicy), nullptr);
  EXPECT_EQ(p.Get(Hook::kValueIndex), nullptr);
  stix::ObjectRecord r;
  r.type = "indicator";
  r.pattern_type = "stix";
  r.pattern = "[broken";
  absl::Status st = p.Check(r, {});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(st.message()).rfind("invalid STIX pattern: ", 0), 0u) << st;
  // Other pattern languages are carried, not checked.
  r.pattern_type = "sigma";
  EXPECT_TRUE(p.Check(r, {}).ok());
}

TEST(Pipeline, StagesRunInSlotOrderAndTheFirstRefusalWins) {
  std::vector<std::string> log;
  Pipeline p;
  // Installed out of order; they run in slot order.
  p.Set(Hook::kValueIndex, std::make_shared<RefuseId>("index", "x", &log));
  p.Set(Hook::kSignature, std::make_shared<RefuseId>("sig", "x", &log));
  p.Set(Hook::kIngressPolicy, std::make_shared<RefuseId>("policy", "y", &log));
  stix::ObjectRecord r;
  r.id = "y";
  absl::Status st = p.Check(r, {"taxii-post", "alice"});
  EXPECT_EQ(st.message(), "policy says no");
  EXPECT_EQ(log, (std::vector<std::string>{"sig:taxii-post", "policy:taxii-post"}));
}

// A stage installed once holds for every kind of source, with the same message.
TEST(Sources, EverySourceRunsTheSameStagesWithTheSameMessage) {
  std::string bad = Indicator(2, "[broken");
  std::string arr = "[" + Indicator(1, kGood) + "," + bad + "]";
  Options o;
  auto buf = BufferSource("page", arr);
  auto a = CheckSource(*buf, o);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->records.size(), 1u);
  ASSERT_EQ(a->problems.size(), 1u);
  EXPECT_EQ(a->problems[0].location, "page: object #2");
  EXPECT_EQ(a->problems[0].object_id, "indicator--6b5e7a3c-0000-4000-8000-000000000002");

  auto path = std::filesystem::temp_directory_path() /
              ("accord-ingest-unit-" + std::to_string(getpid()) + ".json");
  std::ofstream(path) << arr;
  auto file = FileSource(path.string());
  auto b = CheckSource(*file, o);
  std::filesystem::remove(path);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->problems.size(), 1u);
  EXPECT_EQ(b->problems[0].message, a->problems[0].message);

  // Records read without the stages (as a converter would) meet them in RecordSource.
  std::vector<stix::ObjectRecord> recs;
  ASSERT_TRUE(stix::ReadBuffer(
                  arr, {},
                  [&](stix::ObjectRecord&& r) {
                    recs.push_back(std::move(r));
                    return absl::OkStatus();
                  },
                  [](stix::Problem&&) {})
                  .ok());
  ASSERT_EQ(recs.size(), 2u);
  auto rs = RecordSource("converted", std::move(recs));
  auto c = CheckSource(*rs, o);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->problems.size(), 1u);
  EXPECT_EQ(c->problems[0].location, "converted: object #2");
  EXPECT_EQ(c->problems[0].message, a->problems[0].message);
  EXPECT_EQ(c->accepted, 1u);
  EXPECT_EQ(c->rejected, 1u);
}

TEST(Import, StoresTheAcceptedObjectsInOneTransaction) {
  TempStore s;
  Options o;
  o.collection = "feeds";
  Import run(s.get(), o);
  std::string arr =
      "[" + Indicator(1, kGood) + "," + Indicator(2, "[broken") + "," + Indicator(3, kGood) + "]";
  auto src = BufferSource("in", arr);
  ASSERT_TRUE(run.Add(*src).ok());
  auto r = run.Finish();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->committed);
  EXPECT_EQ(r->stored.added, 2u);
  EXPECT_EQ(r->checked.rejected, 1u);
  store::Query q;
  q.collection = "feeds";
  auto page = s.get()->List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 2u);
}

TEST(Import, NothingAcceptedCreatesNoCollection) {
  TempStore s;
  Options o;
  o.collection = "empty";
  Import run(s.get(), o);
  std::string arr = "[" + Indicator(2, "[broken") + "]";
  auto src = BufferSource("in", arr);
  ASSERT_TRUE(run.Add(*src).ok());
  auto r = run.Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->committed);
  EXPECT_FALSE(s.HasCollection("empty"));
}

TEST(Import, StrictStoresNothingWhenAnythingIsRefused) {
  TempStore s;
  Options o;
  o.collection = "strict";
  o.strict = true;
  Import run(s.get(), o);
  std::string arr = "[" + Indicator(1, kGood) + "," + Indicator(2, "[broken") + "]";
  auto src = BufferSource("in", arr);
  ASSERT_TRUE(run.Add(*src).ok());
  auto r = run.Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->committed);
  EXPECT_FALSE(s.HasCollection("strict"));
  auto objs =
      s.get()->Get("indicator--6b5e7a3c-0000-4000-8000-000000000001", store::VersionSelect::kAll);
  EXPECT_TRUE(!objs.ok() || objs->empty());
}

TEST(Import, AnUnreadableSourceFailsTheRunAndStoresNothing) {
  TempStore s;
  Options o;
  o.collection = "partial";
  Import run(s.get(), o);
  std::string arr = "[" + Indicator(1, kGood) + "]";
  auto good = BufferSource("in", arr);
  ASSERT_TRUE(run.Add(*good).ok());
  auto missing = FileSource("/nonexistent/accord/feed.json");
  EXPECT_FALSE(run.Add(*missing).ok());
  EXPECT_FALSE(run.Finish().ok());  // the run is over
  EXPECT_FALSE(s.HasCollection("partial"));
}

// Chunks commit on the writer thread while the next chunk is read: each committed chunk has its
// audit entry, and a content conflict in a later chunk is still named with the source it came
// from (the store counts records from the chunk's first; the run adds the chunks before it).
TEST(Import, ChunksCommitInOrderAndNameTheSourceOfALaterChunksConflict) {
  TempStore s;
  {
    Options o;
    o.collection = "c";
    Import first(s.get(), o);
    const std::string earlier = Indicator(4, kGood);
    auto src = BufferSource("earlier", earlier);
    ASSERT_TRUE(first.Add(*src).ok());
    ASSERT_TRUE(first.Finish().ok());
  }
  TempAuditLog log("audit");
  ASSERT_NE(log.get(), nullptr);
  Options o;
  o.collection = "c";
  o.chunk_objects = 2;
  o.chunk_seconds = 0;
  o.audit = log.get();
  Import run(s.get(), o);
  // Records 0-2 from "a"; from "b", record 3 is indicator 4 again with other content (a
  // conflict), record 4 is new. Chunks of two: {0, 1}, {2, 3}, {4}.
  const std::string in_a =
      "[" + Indicator(1, kGood) + "," + Indicator(2, kGood) + "," + Indicator(3, kGood) + "]";
  const std::string in_b =
      "[" + Indicator(4, "[ipv4-addr:value = '198.51.100.4']") + "," + Indicator(5, kGood) + "]";
  auto a = BufferSource("a", in_a);
  auto b = BufferSource("b", in_b);
  ASSERT_TRUE(run.Add(*a).ok());
  ASSERT_TRUE(run.Add(*b).ok());
  auto r = run.Finish();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->committed);
  EXPECT_EQ(r->stored.added, 4u);
  EXPECT_EQ(r->stored.conflicts, 1u);
  ASSERT_EQ(r->checked.problems.size(), 1u);
  EXPECT_EQ(r->checked.problems[0].location, "b");
  EXPECT_EQ(r->checked.problems[0].object_id, "indicator--6b5e7a3c-0000-4000-8000-000000000004");
  EXPECT_EQ(log.Seq(), 3u);  // one write entry per chunk
}

// The time bound ends a chunk only when another writer waits for the lock the run holds: with
// nobody waiting, a run whose chunk is old enough at every check (a bound of a nanosecond,
// checked every 64 objects) is one chunk, one audit entry. With a thread of this process
// asking for the store's write lock until the run ends, the run's chunks end while it waits:
// more than one entry. (10,000 objects: the parsing side runs at most 8 batches of 512 ahead
// of the writer, so its checks fall while the writer holds the lock.)
TEST(Import, TheTimeBoundEndsAChunkOnlyWhenAWriterWaits) {
  for (bool waiter : {false, true}) {
    SCOPED_TRACE(waiter ? "a writer waits" : "nobody waits");
    TempStore s;
    TempAuditLog log("chunks");
    ASSERT_NE(log.get(), nullptr);
    Options o;
    o.collection = "c";
    o.chunk_objects = 0;
    o.chunk_seconds = 1e-9;
    o.audit = log.get();
    std::string in = "[";
    for (int i = 1; i <= 10000; ++i) in += (i > 1 ? "," : "") + Indicator(i, kGood);
    in += "]";
    std::thread other;
    std::atomic<bool> done{false};
    if (waiter) {
      // Takes the lock once the run holds it (the run's first chunk begins at its first
      // record), and keeps asking for it until the run ends.
      other = std::thread([&] {
        while (!done.load()) {
          auto t = s.get()->BeginImport("other");
          if (t.ok()) (void)(*t)->Commit();
        }
      });
    }
    Import run(s.get(), o);
    auto src = BufferSource("in", in);
    ASSERT_TRUE(run.Add(*src).ok());
    auto r = run.Finish();
    done = true;
    if (other.joinable()) other.join();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->stored.added, 10000u);
    // One write entry per chunk.
    if (waiter) {
      EXPECT_GE(log.Seq(), 2u);
    } else {
      EXPECT_EQ(log.Seq(), 1u);
    }
  }
}

// A unit streamed in batches (UnitImporter as a formats::UnitStream) is one transaction, and a
// refused object is located by its line in the whole unit, as when the unit is read at once.
TEST(UnitImporter, StreamedUnitIsOneTransactionAndRefusalsKeepTheirLine) {
  TempStore s;
  Options o;
  o.collection = "streamed";
  UnitTotals totals;
  UnitImporter units(s.get(), o, false, &totals);
  std::vector<Problem> refused;
  units.OnRejected([&](const Problem& p) { refused.push_back(p); });
  // 2,500 objects: more than two batches of kStreamBatchObjects (1,024); the 2,000th refused.
  static_assert(UnitImporter::kStreamBatchObjects < 2000);
  ASSERT_TRUE(units.Begin("unit", "", "").ok());
  for (int i = 1; i <= 2500; ++i) {
    ASSERT_TRUE(units.Add(Indicator(i, i == 2000 ? "[broken" : kGood)).ok());
  }
  ASSERT_TRUE(units.End().ok());
  EXPECT_EQ(totals.units, 1u);
  EXPECT_EQ(totals.accepted, 2499u);
  EXPECT_EQ(totals.added, 2499u);
  EXPECT_EQ(totals.rejected, 1u);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].location, "unit:2000");
  EXPECT_EQ(refused[0].object_id, "indicator--6b5e7a3c-0000-4000-8000-000000002000");
  store::Query q;
  q.collection = "streamed";
  q.limit = 10000;
  auto page = s.get()->List(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->objects.size(), 2499u);
}

// An error in a batch read while the unit is still being added (UnitImporter reads batches on
// a thread of its own) reaches the caller, at a later Add or at End, and the unit stores
// nothing. The error: a strict run refuses a content conflict (the 100th object is another copy
// of a version stored by an earlier unit), which fails the store's writer.
TEST(UnitImporter, AnErrorInAStreamedBatchReachesTheCallerAndTheUnitStoresNothing) {
  TempStore s;
  Options o;
  o.collection = "strict";
  o.strict = true;
  UnitTotals totals;
  UnitImporter units(s.get(), o, false, &totals);
  ASSERT_TRUE(units.Begin("first", "", "").ok());
  ASSERT_TRUE(units.Add(Indicator(1, kGood)).ok());
  ASSERT_TRUE(units.Add(Indicator(2, kGood)).ok());
  ASSERT_TRUE(units.End().ok());
  ASSERT_EQ(totals.added, 2u);

  ASSERT_TRUE(units.Begin("second", "", "").ok());
  absl::Status failed;
  for (int i = 3; i <= 5000 && failed.ok(); ++i) {
    failed = units.Add(i == 100 ? Indicator(1, "[ipv4-addr:value = '203.0.113.9']")
                                : Indicator(i, kGood));
  }
  if (failed.ok()) {
    failed = units.End();
  } else {
    units.Abort();
  }
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(std::string(failed.message()).find("indicator--6b5e7a3c-0000-4000-8000-000000000001"),
            std::string::npos)
      << failed;
  EXPECT_EQ(totals.added, 2u);
  for (int i : {3, 99, 101, 2000}) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--6b5e7a3c-0000-4000-8000-%012d", i);
    auto got = s.get()->Get(id, store::VersionSelect::kAll);
    EXPECT_TRUE(!got.ok() || got->empty()) << id;
  }
}

// A unit aborted after some of its batches went to the store's writer leaves nothing behind:
// not its objects, not its collection; the next unit is stored as usual.
TEST(UnitImporter, AbortedUnitStoresNothing) {
  TempStore s;
  Options o;
  o.collection = "aborted";
  UnitTotals totals;
  UnitImporter units(s.get(), o, false, &totals);
  ASSERT_TRUE(units.Begin("failing event", "misp.event.x", "1700000000").ok());
  for (int i = 1; i <= 2500; ++i) ASSERT_TRUE(units.Add(Indicator(i, kGood)).ok());
  units.Abort();
  EXPECT_FALSE(s.HasCollection("aborted"));
  auto got =
      s.get()->Get("indicator--6b5e7a3c-0000-4000-8000-000000000001", store::VersionSelect::kAll);
  EXPECT_TRUE(!got.ok() || got->empty());
  auto state = s.get()->GetSetting("misp.event.x");
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->has_value());
  EXPECT_EQ(totals.units, 0u);
  EXPECT_EQ(totals.added, 0u);

  ASSERT_TRUE(units.Begin("next event", "", "").ok());
  ASSERT_TRUE(units.Add(Indicator(3000, kGood)).ok());
  ASSERT_TRUE(units.Add(Indicator(3001, kGood)).ok());
  ASSERT_TRUE(units.End().ok());
  EXPECT_EQ(totals.units, 1u);
  EXPECT_EQ(totals.added, 2u);
  EXPECT_TRUE(s.HasCollection("aborted"));
}

}  // namespace
}  // namespace accord::ingest
