// The store's contract (store.h), one suite run against every backend (issue 17): SQLite in a
// fresh data directory, and PostgreSQL in a fresh database on the server named by
// ACCORD_TEST_PG (a postgresql:// URL without a database; scripts/test.sh starts a throwaway
// server with scripts/pg.sh and sets it). Without ACCORD_TEST_PG the PostgreSQL cases skip,
// and a skipped test fails the run under CI=true.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "accord/common/strings.h"
#include "accord/store/store.h"
#include "store/store_test_fixture.h"

namespace accord::store {
namespace {

using common::Cat;

class StoreContract : public BackendStoreTest {
 protected:
  StoreContract() : BackendStoreTest("contract") {}

  // Another handle on the same store: for SQLite another connection set on the directory, for
  // PostgreSQL what another frontend process would open.
  std::unique_ptr<Store> OpenAnother() {
    auto s = Store::Open(where_.options());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static stix::ObjectRecord Rec(const std::string& id, common::Micros modified,
                                bool revoked = false) {
    return TestRecord(id, modified, revoked);
  }

  ImportResult Import(const std::vector<stix::ObjectRecord>& recs,
                      const std::string& coll = "default") {
    return ImportAll(store_.get(), recs, coll);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

const std::string kA = "indicator--11111111-1111-4111-8111-111111111111";
const std::string kB = "indicator--22222222-2222-4222-8222-222222222222";
const std::string kC = "malware--33333333-3333-4333-8333-333333333333";

TEST_P(StoreContract, SameVersionTwiceIsStoredOnce) {
  auto r1 = Import({Rec(kA, 1000), Rec(kA, 1000)});
  EXPECT_EQ(r1.added, 1u);
  EXPECT_EQ(r1.duplicates, 1u);
  auto r2 = Import({Rec(kA, 1000)});
  EXPECT_EQ(r2.added, 0u);
  auto all = store_->Get(kA, VersionSelect::kAll);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(StoreContract, VersionsFirstLastAll) {
  Import({Rec(kA, 3000), Rec(kA, 1000), Rec(kA, 2000)});
  EXPECT_EQ((*store_->Get(kA, VersionSelect::kFirst))[0].modified, 1000);
  EXPECT_EQ((*store_->Get(kA, VersionSelect::kLast))[0].modified, 3000);
  auto all = *store_->Get(kA, VersionSelect::kAll);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].modified, 1000);
  EXPECT_EQ(all[2].modified, 3000);
  EXPECT_EQ(store_->Get(kB, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContract, ListByTypeAndRevokedExcluded) {
  Import({Rec(kA, 1000), Rec(kB, 1000), Rec(kB, 2000, /*revoked=*/true), Rec(kC, 1000)});
  Query q;
  q.types = {"indicator"};
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].id, kA);
  q.include_revoked = true;
  p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 2u);
  EXPECT_EQ(p.objects[1].id, kB);
  EXPECT_EQ(p.objects[1].modified, 2000);  // latest version only
}

TEST_P(StoreContract, DateAddedStrictlyIncreasesAcrossImports) {
  Import({Rec(kA, 1), Rec(kB, 1)});
  Import({Rec(kC, 1)});
  Query q;
  q.collection = "default";
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 3u);
  EXPECT_LT(p.objects[0].date_added, p.objects[1].date_added);
  EXPECT_LT(p.objects[1].date_added, p.objects[2].date_added);
  q.added_after = p.objects[0].date_added;
  auto after = *store_->List(q);
  ASSERT_EQ(after.objects.size(), 2u);
  EXPECT_EQ(after.objects[0].id, kB);
}

TEST_P(StoreContract, PaginationIsStableWhileWritersAppend) {
  std::vector<stix::ObjectRecord> recs;
  for (int i = 0; i < 25; ++i) {
    recs.push_back(Rec(
        Cat("indicator--00000000-0000-4000-8000-", std::string(10, '0'), i < 10 ? "0" : "", i), 1));
  }
  Import(recs);
  Query q;
  q.collection = "default";
  q.limit = 10;
  std::vector<std::string> seen;
  auto p = *store_->List(q);
  for (auto& o : p.objects) seen.push_back(o.id);
  ASSERT_TRUE(p.more);
  // A writer appends between pages: the cursor must neither skip nor repeat.
  Import({Rec(kC, 5)});
  while (p.more) {
    q.cursor = p.next;
    p = *store_->List(q);
    for (auto& o : p.objects) seen.push_back(o.id);
  }
  ASSERT_EQ(seen.size(), 26u);
  EXPECT_EQ(seen.back(), kC);
  std::set<std::string> uniq(seen.begin(), seen.end());
  EXPECT_EQ(uniq.size(), 26u);
}

TEST_P(StoreContract, PaginationInStorageOrderWithoutCollection) {
  std::vector<stix::ObjectRecord> recs;
  for (int i = 0; i < 25; ++i) {
    recs.push_back(
        Rec(Cat("indicator--00000000-0000-4000-8000-0000000000", i < 10 ? "0" : "", i), 1));
  }
  Import(recs);
  Query q;
  q.limit = 10;
  std::vector<std::string> seen;
  Page p;
  do {
    p = *store_->List(q);
    for (auto& o : p.objects) seen.push_back(o.id);
    q.cursor = p.next;
  } while (p.more);
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[i], recs[i].id);  // the order they were stored
}

TEST_P(StoreContract, LatestVersionInCollectionOnly) {
  Import({Rec(kA, 1000)}, "alpha");
  Import({Rec(kA, 2000)}, "beta");
  Query q;
  q.collection = "alpha";
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].modified, 1000);  // beta's newer version is not in alpha
  q.collection = "nope";
  EXPECT_EQ(store_->List(q).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContract, UncommittedImportLeavesNothing) {
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->Add(Rec(kA, 1)).ok());
  }  // destroyed without Commit
  EXPECT_EQ(store_->Get(kA, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetStats()->versions, 0u);
}

// Issue 12: a sync cursor commits with the objects it covers, or not at all.
TEST_P(StoreContract, SettingInAnImportCommitsWithItsRecordsOnly) {
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->Add(Rec(kA, 1)).ok());
    ASSERT_TRUE((*t)->PutSetting("sync.cursor", "one").ok());
  }  // rolled back: neither the record nor the setting
  EXPECT_EQ(*store_->GetSetting("sync.cursor"), std::nullopt);
  EXPECT_EQ(store_->Get(kA, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE((*t)->Add(Rec(kA, 1)).ok());
    ASSERT_TRUE((*t)->PutSetting("sync.cursor", "two").ok());
    ASSERT_TRUE((*t)->Commit().ok());
  }
  EXPECT_EQ(*store_->GetSetting("sync.cursor"), std::optional<std::string>("two"));
  EXPECT_TRUE(store_->Get(kA, VersionSelect::kAll).ok());
  // Moving the cursor over versions already stored is no change for readers.
  uint64_t g = *store_->Generation();
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE((*t)->Add(Rec(kA, 1)).ok());
    ASSERT_TRUE((*t)->PutSetting("sync.cursor", "three").ok());
    ASSERT_TRUE((*t)->Commit().ok());
  }
  EXPECT_EQ(*store_->GetSetting("sync.cursor"), std::optional<std::string>("three"));
  EXPECT_EQ(*store_->Generation(), g);
}

TEST_P(StoreContract, GenerationChangesOnEveryCommittedWrite) {
  uint64_t g0 = *store_->Generation();
  Import({Rec(kA, 1)});
  uint64_t g1 = *store_->Generation();
  EXPECT_NE(g1, g0);
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE((*t)->Add(Rec(kB, 1)).ok());
  }  // rolled back: no change
  EXPECT_EQ(*store_->Generation(), g1);
  ASSERT_TRUE(store_->Delete("default", kA, {}).ok());
  EXPECT_NE(*store_->Generation(), g1);
}

// Issue 11: readers (accord match --follow) rebuild what they compiled when the generation
// moves, so a write that changes no row must leave it alone: re-importing what is stored, or
// deleting what is not there. A write that changes what a collection serves still moves it.
TEST_P(StoreContract, GenerationIsUnchangedByAWriteThatChangesNoRow) {
  Import({Rec(kA, 1), Rec(kB, 1)});
  uint64_t g1 = *store_->Generation();
  Import({Rec(kA, 1), Rec(kB, 1)});  // the same versions, the same collection
  EXPECT_EQ(*store_->Generation(), g1);
  Import({});  // an empty import
  EXPECT_EQ(*store_->Generation(), g1);
  auto gone = store_->Delete("default", kC, {});  // nothing of that id is stored
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(*gone, 0u);
  EXPECT_EQ(*store_->Generation(), g1);
  Import({Rec(kA, 1)}, "other");  // a stored version, newly in a second collection
  uint64_t g2 = *store_->Generation();
  EXPECT_NE(g2, g1);
  Import({Rec(kA, 2)});  // a new version
  EXPECT_NE(*store_->Generation(), g2);
}

// Issue 17: matchers recompile their program when IndicatorGeneration moves, so the sightings
// they write (and any other write that leaves indicators alone) must not move it, while every
// write that changes an indicator's versions or memberships must.
TEST_P(StoreContract, IndicatorGenerationMovesOnlyWithIndicators) {
  const std::string kS = "sighting--55555555-5555-4555-8555-555555555551";
  auto both = [&] { return std::pair{*store_->Generation(), *store_->IndicatorGeneration()}; };
  auto [g0, i0] = both();
  Import({Rec(kS, 500)});  // a sighting: the store changed, the indicators did not
  auto [g1, i1] = both();
  EXPECT_NE(g1, g0);
  EXPECT_EQ(i1, i0);
  Import({Rec(kC, 1)});  // a malware object
  auto [g2, i2] = both();
  EXPECT_NE(g2, g1);
  EXPECT_EQ(i2, i0);
  ASSERT_TRUE(store_->CreateCollection({"", "more", "More", "", false}).ok());
  EXPECT_EQ(*store_->IndicatorGeneration(), i0);
  Import({Rec(kA, 1)});  // an indicator
  auto [g3, i3] = both();
  EXPECT_NE(g3, g2);
  EXPECT_NE(i3, i0);
  Import({Rec(kA, 1)});  // the same version again: nothing changed
  EXPECT_EQ(both(), std::pair(g3, i3));
  Import({Rec(kA, 1)}, "more");  // the stored version, linked into a second collection
  auto [g4, i4] = both();
  EXPECT_NE(i4, i3);
  ASSERT_EQ(*store_->Delete("default", kS, {}), 1u);  // a sighting out of a collection
  auto [g5, i5] = both();
  EXPECT_NE(g5, g4);
  EXPECT_EQ(i5, i4);
  ASSERT_EQ(*store_->Delete("more", kA, {}), 1u);  // an indicator out of one
  auto [g6, i6] = both();
  EXPECT_NE(i6, i5);
  // Retention: an old sighting leaves the indicators alone, an expired indicator does not.
  Import({Rec("sighting--55555555-5555-4555-8555-555555555552", 10)});
  auto [g7, i7] = both();
  PurgeRules sightings;
  sightings.sightings_before = 100;
  auto purged = store_->Purge(sightings, false);
  ASSERT_TRUE(purged.ok()) << purged.status();
  ASSERT_EQ(purged->items.size(), 1u);
  EXPECT_NE(*store_->Generation(), g7);
  EXPECT_EQ(*store_->IndicatorGeneration(), i7);
  stix::ObjectRecord expired = Rec(kB, 10);
  expired.valid_until = 100;
  Import({expired});
  const uint64_t i8 = *store_->IndicatorGeneration();
  EXPECT_NE(i8, i7);
  PurgeRules indicators;
  indicators.indicators_expired_before = 1000;
  purged = store_->Purge(indicators, false);
  ASSERT_TRUE(purged.ok()) << purged.status();
  ASSERT_EQ(purged->items.size(), 1u);
  EXPECT_NE(*store_->IndicatorGeneration(), i8);
  // Another handle on the same store sees the same number.
  EXPECT_EQ(*OpenAnother()->IndicatorGeneration(), *store_->IndicatorGeneration());
}

// Issue 17: matchers that start together on one store draw the node's identity once. Several
// handles (processes, frontends) race to set one setting: the first value wins, and every
// caller gets that value back, then and later.
TEST_P(StoreContract, PutSettingIfAbsentHasOneWinnerThatEveryoneSees) {
  constexpr int kRacers = 6;
  std::vector<std::unique_ptr<Store>> handles;
  for (int i = 0; i < kRacers; ++i) handles.push_back(OpenAnother());
  std::vector<std::string> got(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      auto v = handles[i]->PutSettingIfAbsent("race", "value-" + std::to_string(i));
      got[i] = v.ok() ? *v : "error: " + std::string(v.status().message());
    });
  }
  for (auto& t : threads) t.join();
  auto stored = store_->GetSetting("race");
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(stored->value().rfind("value-", 0), 0u) << stored->value();
  for (int i = 0; i < kRacers; ++i) EXPECT_EQ(got[i], stored->value()) << "racer " << i;
  // Once set, it stays: another value is not taken.
  auto again = store_->PutSettingIfAbsent("race", "late");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, stored->value());
  EXPECT_EQ(*store_->GetSetting("race"), stored->value());
}

TEST_P(StoreContract, BadCursorIsInvalidArgument) {
  Query q;
  q.collection = "default";
  q.cursor = "garbage";
  EXPECT_EQ(store_->List(q).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreContract, DeleteRemovesMembership) {
  Import({Rec(kA, 1000), Rec(kA, 2000)});
  EXPECT_EQ(*store_->Delete("default", kA, {1000}), 1u);
  Query q;
  q.collection = "default";
  q.versions = VersionSelect::kAll;
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].modified, 2000);
}

TEST_P(StoreContract, CollectionsAndSettings) {
  CollectionInfo c;
  c.alias = "shared-eu";
  c.title = "Shared with EU partners";
  auto made = store_->CreateCollection(c);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->id.size(), 36u);
  EXPECT_EQ(store_->CreateCollection(c).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetCollection(made->id)->alias, "shared-eu");
  ASSERT_TRUE(store_->PutSetting("k", "v1").ok());
  ASSERT_TRUE(store_->PutSetting("k", "v2").ok());
  EXPECT_EQ(**store_->GetSetting("k"), "v2");
  EXPECT_FALSE(store_->GetSetting("absent")->has_value());
}

// Issue 10: a version whose (id, modified) is stored with other content is refused (nothing
// linked into the writer's collection, the stored copy unchanged) and its copy quarantined.
// Member order and whitespace are no difference (RFC 8785 canonical comparison).
TEST_P(StoreContract, SameVersionWithOtherContentIsRefusedAndQuarantined) {
  auto a = Rec(kA, 1000);
  Import({a}, "alpha");
  auto reformatted = a;
  reformatted.json = R"({ "m": 1000, "id": ")" + kA + R"(", "type": "indicator" })";
  auto r1 = Import({reformatted}, "beta");  // same members and values: a duplicate
  EXPECT_EQ(r1.duplicates, 1u);
  EXPECT_EQ(r1.conflicts, 0u);
  EXPECT_EQ(r1.memberships, 1u);  // and linked into beta, as any duplicate
  auto changed = a;
  changed.json = R"({"type":"indicator","id":")" + kA + R"(","m":1001})";
  auto r2 = Import({changed}, "gamma");
  EXPECT_EQ(r2.duplicates, 0u);
  EXPECT_EQ(r2.conflicts, 1u);
  EXPECT_EQ(r2.memberships, 0u);
  ASSERT_EQ(r2.conflicting.size(), 1u);
  EXPECT_EQ(r2.conflicting[0].id, kA);
  EXPECT_EQ(r2.conflicting[0].modified, 1000);
  EXPECT_EQ(r2.conflicting[0].index, 0u);
  // Nothing reached gamma (the collection exists, empty), and the stored copy is unchanged.
  Query q;
  q.collection = "gamma";
  q.include_revoked = true;
  EXPECT_TRUE(store_->List(q)->objects.empty());
  EXPECT_EQ((*store_->Get(kA, VersionSelect::kAll))[0].json, a.json);
  // The refused copy is in quarantine, aimed at gamma.
  Quarantine* qu = store_->quarantine();
  ASSERT_NE(qu, nullptr);
  auto entries = *qu->ListQuarantine(0);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, kA);
  EXPECT_EQ(entries[0].modified, 1000);
  EXPECT_EQ(entries[0].collection_alias, "gamma");
  EXPECT_EQ(entries[0].writer, "import");
  EXPECT_TRUE(entries[0].json.empty());  // List leaves the copies out
  EXPECT_EQ(qu->GetQuarantined(entries[0].qid)->json, changed.json);

  // Within one import too, while the first copy is still in the log's write buffer; the
  // index is the refused record's position among the transaction's Adds.
  auto b1 = Rec(kB, 5), b2 = Rec(kB, 5);
  b2.json += " ";
  b2.json.insert(1, "\"x\":1,");
  auto r0 = Import({b1, b2});
  EXPECT_EQ(r0.added, 1u);
  EXPECT_EQ(r0.conflicts, 1u);
  ASSERT_EQ(r0.conflicting.size(), 1u);
  EXPECT_EQ(r0.conflicting[0].index, 1u);
  EXPECT_EQ((*store_->Get(kB, VersionSelect::kAll))[0].json, b1.json);

  // A stored duplicate next to a conflict: each counted as what it is. The same copy for the
  // same collection is quarantined once.
  auto r3 = Import({changed, a}, "gamma");
  EXPECT_EQ(r3.duplicates, 1u);
  EXPECT_EQ(r3.conflicts, 1u);
  EXPECT_EQ(r3.memberships, 1u);                 // `a` itself
  EXPECT_EQ(qu->ListQuarantine(0)->size(), 2u);  // gamma's kA copy (once) and kB's
}

TEST_P(StoreContract, QuarantineRecordsTheWriter) {
  Import({Rec(kA, 1000)});
  auto changed = Rec(kA, 1000);
  changed.json.insert(1, "\"evil\":true,");
  auto t = *store_->BeginImport("bobonly");
  t->SetWriter("bob");
  ASSERT_TRUE(t->Add(changed).ok());
  ASSERT_TRUE(t->Commit().ok());
  auto entries = *store_->quarantine()->ListQuarantine(0);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].writer, "bob");
  EXPECT_EQ(entries[0].collection_alias, "bobonly");
}

TEST_P(StoreContract, RefusingConflictsFailsTheWholeImport) {
  Import({Rec(kA, 1000)});
  auto changed = Rec(kA, 1000);
  changed.json.insert(1, "\"evil\":true,");
  auto t = *store_->BeginImport("strict");
  t->SetRefuseConflicts(true);
  ASSERT_TRUE(t->Add(Rec(kB, 1)).ok());
  absl::Status st = t->Add(changed);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("exists with different content"), std::string::npos) << st;
  EXPECT_EQ(st.message().find("evil"), std::string::npos) << st;
  t.reset();  // rolled back: nothing stored, nothing quarantined
  EXPECT_EQ(store_->Get(kB, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->quarantine()->ListQuarantine(0)->empty());
}

// Versions belong to their collection: a revoked version written into another collection
// does not hide an object from a listing of this one.
TEST_P(StoreContract, RevocationCountsOnlyInItsCollection) {
  Import({Rec(kA, 1000)}, "trusted");
  Import({Rec(kA, 2000, /*revoked=*/true)}, "other");
  Query q;
  q.collection = "trusted";
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].modified, 1000);
  EXPECT_FALSE(p.objects[0].revoked);
  q.collection = "other";
  EXPECT_TRUE(store_->List(q)->objects.empty());
  q.include_revoked = true;
  ASSERT_EQ(store_->List(q)->objects.size(), 1u);
  // Store-wide (no collection): the object is revoked.
  Query all;
  all.ids = {kA};
  EXPECT_TRUE(store_->List(all)->objects.empty());
}

// The object log: JSON comes back byte for byte, from neighbouring and scattered offsets.
TEST_P(StoreContract, JsonComesBackExactly) {
  auto a1 = Rec(kA, 1000), a2 = Rec(kA, 2000), b = Rec(kB, 1000), c = Rec(kC, 1000);
  a2.json = R"({"type":"indicator","id":")" + kA + R"(","note":"ünïcödé \" \\ \n"})";
  Import({a1, b});
  Import({c, a2});
  auto all = *store_->Get(kA, VersionSelect::kAll);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].json, a1.json);
  EXPECT_EQ(all[1].json, a2.json);
  Query q;
  q.collection = "default";
  q.versions = VersionSelect::kAll;
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 4u);
  std::vector<std::string> want = {a1.json, b.json, c.json, a2.json};  // date_added order
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(p.objects[i].json, want[i]) << i;
  if (!sqlite()) return;
  // SQLite's object log is JSON lines: every stored version once, in the order stored.
  std::ifstream log(where_.dir() / "objects.log", std::ios::binary);
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_EQ(ss.str(), a1.json + "\n" + b.json + "\n" + c.json + "\n" + a2.json + "\n");
}

// A transaction of more records than a backend writes at once (PostgreSQL writes batches of
// 500): the same counts, order and conflict positions as record by record. Record i + 700 is
// record i again (a duplicate in a later batch), and record 1150 changes record 450's content.
TEST_P(StoreContract, ALargeImportKeepsItsOrderCountsAndConflictPositions) {
  std::vector<stix::ObjectRecord> recs;
  for (int i = 0; i < 700; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--%08d-1111-4111-8111-111111111111", i);
    recs.push_back(Rec(id, 1000));
  }
  for (int i = 0; i < 700; ++i) recs.push_back(recs[i]);
  recs[1150].json.insert(1, "\"x\":1,");
  auto r = Import(recs);
  EXPECT_EQ(r.added, 700u);
  EXPECT_EQ(r.duplicates, 699u);
  EXPECT_EQ(r.conflicts, 1u);
  ASSERT_EQ(r.conflicting.size(), 1u);
  EXPECT_EQ(r.conflicting[0].index, 1150u);
  EXPECT_EQ(r.conflicting[0].id, recs[450].id);
  EXPECT_EQ(r.memberships, 700u);
  ASSERT_EQ(r.written.size(), 700u);
  for (size_t i = 0; i < 700; ++i) EXPECT_EQ(r.written[i].first, recs[i].id) << i;
  Query q;
  q.collection = "default";
  auto p = store_->List(q);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->objects.size(), 700u);
  for (size_t i = 0; i < 700; ++i) {
    EXPECT_EQ(p->objects[i].id, recs[i].id) << i;
    EXPECT_EQ(p->objects[i].json, recs[i].json) << i;
    if (i > 0) {
      EXPECT_GT(p->objects[i].date_added, p->objects[i - 1].date_added);
    }
  }
  EXPECT_EQ(p->objects.back().date_added, r.added_last);
}

// More new versions than one batch of pending memberships (the SQLite store inserts a new
// version's membership later, in batches of 4,096), each sent twice in the same import, then
// all of them again into a second collection: every version is stored once and every
// membership counted once, in order.
TEST_P(StoreContract, AnImportLargerThanABatchCountsEveryMembershipOnce) {
  constexpr int kN = 10000;
  std::vector<stix::ObjectRecord> recs;
  for (int i = 0; i < kN; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--%08d-2222-4222-8222-222222222222", i);
    recs.push_back(Rec(id, 1000));
    if (i % 3 == 0) recs.push_back(recs.back());  // at once, while its membership waits
  }
  for (int i = 0; i < kN; i += 7) recs.push_back(recs[i]);  // much later in the same import
  auto r = Import(recs);
  EXPECT_EQ(r.added, static_cast<uint64_t>(kN));
  EXPECT_EQ(r.duplicates, recs.size() - kN);
  EXPECT_EQ(r.memberships, static_cast<uint64_t>(kN));
  auto again = Import(recs, "second");
  EXPECT_EQ(again.added, 0u);
  EXPECT_EQ(again.memberships, static_cast<uint64_t>(kN));
  for (const std::string coll : {"default", "second"}) {
    Query q;
    q.collection = coll;
    q.limit = kN + 10;
    auto p = store_->List(q);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_EQ(p->objects.size(), static_cast<size_t>(kN)) << coll;
    std::set<std::string> ids;
    for (size_t i = 0; i < p->objects.size(); ++i) {
      ids.insert(p->objects[i].id);
      if (i > 0) {
        EXPECT_GT(p->objects[i].date_added, p->objects[i - 1].date_added) << coll;
      }
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(kN)) << coll;
  }
}

// A filter that few versions pass, paged in small pages: every page holds what passes, in
// order, across stretches of versions that do not pass (PostgreSQL reads a collection in
// windows: a page may need several).
TEST_P(StoreContract, SparseFiltersPageThroughEverythingInOrder) {
  std::vector<stix::ObjectRecord> recs;
  std::vector<std::string> want;
  for (int i = 0; i < 400; ++i) {
    char id[64];
    const bool rare = i % 37 == 5;
    std::snprintf(id, sizeof id, "%s--%08d-1111-4111-8111-111111111111",
                  rare ? "malware" : "indicator", i);
    recs.push_back(Rec(id, 1000));
    if (rare) want.push_back(id);
  }
  Import(recs);
  for (bool by_collection : {true, false}) {
    Query q;
    if (by_collection) q.collection = "default";
    q.types = {"malware"};
    q.limit = 3;
    std::vector<std::string> got;
    int pages = 0;
    while (true) {
      auto p = store_->List(q);
      ASSERT_TRUE(p.ok()) << p.status();
      for (const auto& o : p->objects) got.push_back(o.id);
      ++pages;
      if (!p->more) break;
      EXPECT_EQ(p->objects.size(), 3u);
      q.cursor = p->next;
    }
    EXPECT_EQ(got, want) << (by_collection ? "collection" : "store-wide");
    EXPECT_EQ(pages, 4) << "11 hits in pages of 3";
  }
}

// Retention (issue 13's rules, on every backend): an indicator goes whole once even its newest
// version expired; an indicator whose newest version is still valid, or open-ended, stays;
// sightings and quarantined copies go by age. A dry run says the same and removes nothing.
TEST_P(StoreContract, PurgeRemovesWhatTheRulesSayAndNothingElse) {
  auto indicator = [](const std::string& id, common::Micros modified,
                      std::optional<common::Micros> valid_until) {
    stix::ObjectRecord r = Rec(id, modified);
    r.valid_until = valid_until;
    return r;
  };
  const std::string kS1 = "sighting--55555555-5555-4555-8555-555555555551";
  const std::string kS2 = "sighting--55555555-5555-4555-8555-555555555552";
  const common::Micros cutoff = 1000000;
  auto a1 = indicator(kA, 10, 100), a2 = indicator(kA, 20, 200);      // both expired
  auto b1 = indicator(kB, 10, 100), b2 = indicator(kB, 20, 5000000);  // extended: stays
  auto c1 = indicator("indicator--33333333-3333-4333-8333-333333333333", 10, std::nullopt);
  auto s1 = Rec(kS1, 50), s2 = Rec(kS2, 5000000);
  Import({a1, a2, b1, b2, c1, s1, s2});
  auto conflicting = b2;
  conflicting.json.insert(1, "\"x\":1,");
  ASSERT_EQ(Import({conflicting}).conflicts, 1u);
  PurgeRules rules;
  rules.indicators_expired_before = cutoff;
  rules.sightings_before = cutoff;
  rules.quarantine_before = common::NowMicros() + 3600000000LL;
  // By hand: A's two versions, the old sighting, the quarantined copy of B.
  const std::set<std::pair<std::string, Micros>> want = {{"indicator " + kA, 10},
                                                         {"indicator " + kA, 20},
                                                         {"sighting " + kS1, 50},
                                                         {"quarantine " + kB, 20}};
  const int64_t want_bytes = static_cast<int64_t>(a1.json.size() + a2.json.size() + s1.json.size() +
                                                  conflicting.json.size());
  auto items = [](const PurgeReport& r) {
    std::set<std::pair<std::string, Micros>> got;
    for (const PurgeItem& it : r.items) got.insert({it.kind + " " + it.id, it.modified});
    return got;
  };
  auto dry = store_->Purge(rules, true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(items(*dry), want);
  EXPECT_EQ(dry->bytes, want_bytes);
  EXPECT_TRUE(store_->Get(kA, VersionSelect::kAll).ok()) << "a dry run removed something";
  const uint64_t g = *store_->Generation();
  auto done = store_->Purge(rules, false);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(items(*done), want);
  EXPECT_EQ(done->bytes, want_bytes);
  EXPECT_NE(*store_->Generation(), g);
  EXPECT_EQ(store_->Get(kA, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(kS1, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  Query q;
  q.collection = "default";
  q.versions = VersionSelect::kAll;
  std::multiset<std::string> left;
  auto page = store_->List(q);
  ASSERT_TRUE(page.ok()) << page.status();
  for (const auto& o : page->objects) left.insert(o.id);
  EXPECT_EQ(left, (std::multiset<std::string>{kB, kB, c1.id, kS2}));
  EXPECT_TRUE(store_->quarantine()->ListQuarantine(0)->empty());
  EXPECT_TRUE(store_->Purge(rules, false)->items.empty());  // nothing left to purge
}

// Issue 17: frontends writing at once on one store, and a reader paging by added_after as
// a TAXII client polls: every object acknowledged is read exactly once, none skipped (a
// date_added committed after a later one was read) and none repeated.
TEST_P(StoreContract, ConcurrentWritersNeverMakeAPagerSkipOrRepeat) {
  constexpr int kWriters = 3, kTxns = 30, kPerTxn = 4;
  std::vector<std::unique_ptr<Store>> frontends;
  for (int w = 0; w < kWriters + 1; ++w) {
    frontends.push_back(OpenAnother());
    ASSERT_NE(frontends.back(), nullptr);
  }
  std::atomic<int> writers_left{kWriters};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int t = 0; t < kTxns; ++t) {
        auto txn = frontends[w]->BeginImport("default");
        ASSERT_TRUE(txn.ok()) << txn.status();
        for (int k = 0; k < kPerTxn; ++k) {
          char id[64];
          snprintf(id, sizeof id, "indicator--%08x-0000-4000-8000-%012d", w, t * kPerTxn + k);
          ASSERT_TRUE((*txn)->Add(Rec(id, 1000)).ok());
        }
        auto done = (*txn)->Commit();
        ASSERT_TRUE(done.ok()) << done.status();
        ASSERT_EQ(done->memberships, static_cast<uint64_t>(kPerTxn));
      }
      --writers_left;
    });
  }
  std::map<std::string, int> seen;
  Query q;
  q.collection = "default";
  q.limit = 7;
  int64_t last = 0;
  bool final_pass = false;
  while (true) {
    // Read what the writers acknowledged so far, from a handle of its own.
    bool writers_done = writers_left.load() == 0;
    q.added_after = last;
    auto page = frontends[kWriters]->List(q);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& o : page->objects) {
      ++seen[o.id];
      EXPECT_GT(o.date_added, last);
      last = o.date_added;
    }
    if (page->more) continue;
    if (final_pass) break;
    final_pass = writers_done;  // one more pass after the last commit
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWriters * kTxns * kPerTxn));
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

// --- users, keys, grants and request statuses ---------------------------------------------

TEST_P(StoreContract, UsersKeysAndGrantsRoundTrip) {
  AuthStore* a = store_->auth();
  EXPECT_FALSE(*a->HasUsers());
  ASSERT_TRUE(a->AddUser({"bob", "user", 20}).ok());
  ASSERT_TRUE(a->AddUser({"alice", "admin", 10}).ok());
  EXPECT_EQ(a->AddUser({"bob", "admin", 30}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(*a->HasUsers());
  auto users = a->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "alice");  // by name
  EXPECT_EQ((*users)[0].role, "admin");
  EXPECT_EQ((*users)[0].created, 10);
  EXPECT_EQ((*users)[1].role, "user");  // the second AddUser did not replace bob
  EXPECT_FALSE(a->FindUser("carol")->has_value());

  EXPECT_EQ(a->AddKey({"k0", "carol", "h", 1, false, ""}).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(a->AddKey({"k2", "bob", "hash2", 2, false, "laptop"}).ok());
  ASSERT_TRUE(a->AddKey({"k1", "alice", "hash1", 1, false, ""}).ok());
  EXPECT_EQ(a->AddKey({"k1", "bob", "x", 3, false, ""}).code(), absl::StatusCode::kAlreadyExists);
  auto k = a->FindKey("k2");
  ASSERT_TRUE(k.ok() && k->has_value());
  EXPECT_EQ((*k)->user, "bob");
  EXPECT_EQ((*k)->hash, "hash2");
  EXPECT_EQ((*k)->label, "laptop");
  EXPECT_FALSE((*k)->revoked);
  ASSERT_TRUE(a->RevokeKey("k2").ok());
  EXPECT_TRUE((*a->FindKey("k2"))->revoked);
  EXPECT_EQ(a->RevokeKey("nope").code(), absl::StatusCode::kNotFound);
  auto all = a->ListKeys("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].key_id, "k1");  // oldest first
  EXPECT_EQ((*all)[0].hash, "");      // listings never carry the hash
  EXPECT_EQ(a->ListKeys("bob")->size(), 1u);

  EXPECT_EQ(a->SetGrant({"carol", "c1", true, false}).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(a->SetGrant({"bob", "c2", true, true}).ok());
  ASSERT_TRUE(a->SetGrant({"bob", "c1", true, false}).ok());
  ASSERT_TRUE(a->SetGrant({"bob", "c2", false, true}).ok());  // replaces
  auto g = a->ListGrants("bob");
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].collection, "c1");
  EXPECT_TRUE((*g)[0].read);
  EXPECT_FALSE((*g)[0].write);
  EXPECT_FALSE((*g)[1].read);
  EXPECT_TRUE((*g)[1].write);
  ASSERT_TRUE(a->SetGrant({"bob", "c1", false, false}).ok());  // removes
  EXPECT_EQ(a->ListGrants("bob")->size(), 1u);
}

TEST_P(StoreContract, EveryAuthChangeBumpsTheGenerationSeenByAnotherStore) {
  Store* writer = store_.get();
  auto other = OpenAnother();  // another process (SQLite) or frontend (PostgreSQL)
  auto gen = [&] { return *other->auth()->AuthGeneration(); };
  uint64_t g0 = gen();
  ASSERT_TRUE(writer->auth()->AddUser({"bob", "user", 1}).ok());
  uint64_t g1 = gen();
  EXPECT_NE(g1, g0);
  ASSERT_TRUE(writer->auth()->AddKey({"k", "bob", "h", 1, false, ""}).ok());
  uint64_t g2 = gen();
  EXPECT_NE(g2, g1);
  ASSERT_TRUE(writer->auth()->SetGrant({"bob", "c", true, false}).ok());
  uint64_t g3 = gen();
  EXPECT_NE(g3, g2);
  ASSERT_TRUE(writer->auth()->RevokeKey("k").ok());
  uint64_t g4 = gen();
  EXPECT_NE(g4, g3);
  // A failed change changes nothing.
  EXPECT_FALSE(writer->auth()->RevokeKey("unknown").ok());
  EXPECT_EQ(gen(), g4);
  // Object writes are not auth changes.
  ASSERT_TRUE(writer->PutSetting("x", "y").ok());
  EXPECT_EQ(gen(), g4);
}

TEST_P(StoreContract, SetUserRole) {
  AuthStore* a = store_->auth();
  ASSERT_TRUE(a->AddUser({"bob", "analyst", 1}).ok());
  const uint64_t g = *a->AuthGeneration();
  ASSERT_TRUE(a->SetUserRole("bob", "auditor").ok());
  EXPECT_EQ((*a->FindUser("bob"))->role, "auditor");
  EXPECT_GT(*a->AuthGeneration(), g);
  EXPECT_EQ(a->SetUserRole("nobody", "reader").code(), absl::StatusCode::kNotFound);
}

RequestStatus MakeStatus(const std::string& id, Micros created) {
  RequestStatus st;
  st.id = id;
  st.owner = "alice";
  st.created = created;
  st.request_timestamp = created - 5;
  st.total_count = 4;
  st.success_count = 2;
  st.failure_count = 2;
  st.failures = {{"indicator--1", "2024-01-01T00:00:00.000Z", "pattern: unexpected ']'"},
                 {"", "", "not an object"}};
  return st;
}

TEST_P(StoreContract, StatusKeepsCountsAndFailuresAcrossReopen) {
  ASSERT_TRUE(store_->statuses()->PutStatus(MakeStatus("s-1", 1000), 0).ok());
  store_.reset();
  auto s = OpenAnother();
  auto got = s->statuses()->GetStatus("s-1", 0);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  const RequestStatus& st = **got;
  EXPECT_EQ(st.owner, "alice");
  EXPECT_EQ(st.created, 1000);
  EXPECT_EQ(st.request_timestamp, 995);
  EXPECT_TRUE(st.complete);
  EXPECT_EQ(st.total_count, 4u);
  EXPECT_EQ(st.success_count, 2u);
  EXPECT_EQ(st.failure_count, 2u);
  EXPECT_EQ(st.pending_count, 0u);
  ASSERT_EQ(st.failures.size(), 2u);
  EXPECT_EQ(st.failures[0].id, "indicator--1");
  EXPECT_EQ(st.failures[0].version, "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(st.failures[0].message, "pattern: unexpected ']'");
  EXPECT_EQ(st.failures[1].message, "not an object");
  EXPECT_FALSE(s->statuses()->GetStatus("s-2", 0)->has_value());
}

TEST_P(StoreContract, StatusesExpireAndArePurgedOnWrite) {
  Store* s = store_.get();
  ASSERT_TRUE(s->statuses()->PutStatus(MakeStatus("old", 1000), 0).ok());
  ASSERT_TRUE(s->statuses()->PutStatus(MakeStatus("new", 5000), 0).ok());
  // Expired for a reader asking for statuses created at 2000 or later.
  EXPECT_FALSE(s->statuses()->GetStatus("old", 2000)->has_value());
  EXPECT_TRUE(s->statuses()->GetStatus("old", 1000)->has_value());
  // A write that purges everything before 2000 deletes it for good (with its failures).
  ASSERT_TRUE(s->statuses()->PutStatus(MakeStatus("newer", 6000), 2000).ok());
  EXPECT_FALSE(s->statuses()->GetStatus("old", 0)->has_value());
  EXPECT_TRUE(s->statuses()->GetStatus("new", 0)->has_value());
  // Storing an id again replaces it, failures included.
  RequestStatus again = MakeStatus("new", 7000);
  again.failures.resize(1);
  again.failure_count = 1;
  ASSERT_TRUE(s->statuses()->PutStatus(again, 0).ok());
  EXPECT_EQ((*s->statuses()->GetStatus("new", 0))->failures.size(), 1u);
  EXPECT_EQ((*s->statuses()->GetStatus("new", 0))->created, 7000);
}

// --- the match ledger (issue 17) ---------------------------------------------------------------

MatchRecord M(const std::string& event, const std::string& indicator, Micros time) {
  return MatchRecord{event, indicator, time};
}

using Indexes = std::vector<size_t>;

// A tally's count and times (count, first, last, recorded_first, recorded_last), to compare
// with one worked out by hand.
using TallyTimes = std::tuple<uint64_t, Micros, Micros, Micros, Micros>;
TallyTimes Times(const MatchTally& t) {
  return {t.count, t.first, t.last, t.recorded_first, t.recorded_last};
}

TEST_P(StoreContract, MatchLedgerRecordsEachPairOnce) {
  MatchLedger* l = store_->matches();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(*l->Count(), 0u);
  auto r1 = l->Record({M("s:1", kA, 100), M("s:1", kB, 100), M("s:2", kA, 200)});
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(*r1, (Indexes{0, 1, 2}));
  // A redelivery of s:2 and s:1 (for kB) next to new pairs: only the new ones are new.
  auto r2 = l->Record({M("s:2", kA, 200), M("s:3", kA, 300), M("s:1", kB, 100), M("s:1", kC, 100)});
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(*r2, (Indexes{1, 3}));
  EXPECT_EQ(*l->Count(), 5u);
  // A pair recorded already is left as it is, whatever time comes with it again.
  auto r3 = l->Record({M("s:3", kA, 999)});
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_TRUE(r3->empty());
  EXPECT_TRUE(l->Record({})->empty());
  auto other = OpenAnother();  // another process (SQLite) or frontend (PostgreSQL)
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(*other->matches()->Count(), 5u);
  auto t = other->matches()->Tally(1000, {{kA, 0}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].count, 3u);  // s:1, s:2, s:3
  EXPECT_EQ((*t)[0].first, 100);
  EXPECT_EQ((*t)[0].last, 300);
}

TEST_P(StoreContract, MatchLedgerDuplicatesInOneCallCountOnce) {
  MatchLedger* l = store_->matches();
  auto r = l->Record({M("e", kA, 10), M("e", kA, 10), M("f", kA, 20), M("e", kA, 30),
                      M("e", kB, 10), M("f", kA, 20)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (Indexes{0, 2, 4}));
  EXPECT_EQ(*l->Count(), 3u);
  auto t = l->Tally(100, {{kA, 0}, {kB, 0}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].count, 2u);  // e and f; the first copy of e (time 10) is the one kept
  EXPECT_EQ((*t)[0].first, 10);
  EXPECT_EQ((*t)[0].last, 20);
  EXPECT_EQ((*t)[1].count, 1u);
}

TEST_P(StoreContract, MatchLedgerTalliesByBucket) {
  MatchLedger* l = store_->matches();
  // Buckets of 100: [0, 100) holds 0, 50, 99; 100 is the next bucket's first instant.
  ASSERT_TRUE(l->Record({M("a0", kA, 0), M("a1", kA, 50), M("a2", kA, 99), M("a3", kA, 100),
                         M("a4", kA, 250), M("a5", kA, -1), M("b0", kB, 100), M("b1", kB, 199),
                         M("b2", kB, 200), M("c0", kC, INT64_MAX)})
                  .ok());
  const std::vector<std::pair<std::string, Micros>> keys = {
      {kB, 100}, {kA, 0}, {kC, 0}, {kA, 200}, {kA, 100}, {kA, -100}, {kB, 300}};
  auto t = l->Tally(100, keys);
  ASSERT_TRUE(t.ok()) << t.status();
  // Keys without records ({kC, 0}, {kB, 300}) are left out; the others keep their order.
  struct Want {
    std::string indicator;
    Micros bucket;
    uint64_t count;
    Micros first, last;
  };
  const std::vector<Want> want = {{kB, 100, 2, 100, 199},
                                  {kA, 0, 3, 0, 99},
                                  {kA, 200, 1, 250, 250},
                                  {kA, 100, 1, 100, 100},
                                  {kA, -100, 1, -1, -1}};
  ASSERT_EQ(t->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const MatchTally& got = (*t)[i];
    EXPECT_EQ(got.indicator, want[i].indicator) << i;
    EXPECT_EQ(got.bucket, want[i].bucket) << i;
    EXPECT_EQ(got.count, want[i].count) << i;
    EXPECT_EQ(got.first, want[i].first) << i;
    EXPECT_EQ(got.last, want[i].last) << i;
    // One call recorded them all: one recording time.
    EXPECT_GT(got.recorded_first, 0) << i;
    EXPECT_EQ(got.recorded_first, got.recorded_last) << i;
    EXPECT_EQ(got.recorded_first, (*t)[0].recorded_first) << i;
  }
  // A bucket whose end lies past the greatest time still ends there.
  auto top = l->Tally(100, {{kC, INT64_MAX - 50}});
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].count, 1u);
  EXPECT_EQ((*top)[0].last, INT64_MAX);
  // Wider buckets: [0, 1000) holds a0..a4.
  EXPECT_EQ((*l->Tally(1000, {{kA, 0}}))[0].count, 5u);
  EXPECT_TRUE(l->Tally(100, {})->empty());
  EXPECT_EQ(l->Tally(0, keys).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(l->Tally(-5, keys).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreContract, MatchLedgerRecordingTimesStrictlyIncrease) {
  MatchLedger* l = store_->matches();
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  auto tally = [&](const std::string& indicator) {
    auto t = l->Tally(1000, {{indicator, 0}});
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() && t->size() == 1 ? (*t)[0] : MatchTally{};
  };
  ASSERT_TRUE(l->Record({M("a", kA, 1), M("b", kA, 2)}).ok());
  const MatchTally first = tally(kA);
  EXPECT_EQ(first.count, 2u);
  EXPECT_EQ(first.recorded_first, first.recorded_last);  // one call, one recording time
  ASSERT_TRUE(l->Record({M("c", kA, 3), M("a", kA, 1)}).ok());
  const MatchTally second = tally(kA);
  EXPECT_EQ(second.count, 3u);
  EXPECT_EQ(second.recorded_first, first.recorded_first);
  EXPECT_GT(second.recorded_last, first.recorded_first);
  // Calls in quick succession, from two handles in turn, each later than the one before.
  Micros last = second.recorded_last;
  for (int i = 0; i < 20; ++i) {
    Store* s = i % 2 ? other.get() : store_.get();
    const std::string indicator = Cat("indicator--", i);
    ASSERT_TRUE(s->matches()->Record({M(Cat("e", i), indicator, 5)}).ok());
    const MatchTally t = tally(indicator);
    EXPECT_GT(t.recorded_first, last) << i;
    last = t.recorded_first;
  }
  // A call that records nothing new leaves the recorded rows as they were.
  ASSERT_TRUE(other->matches()->Record({M("c", kA, 3)}).ok());
  EXPECT_EQ(tally(kA).recorded_last, second.recorded_last);
}

// Workers on two handles (processes, frontends) recording overlapping sets at once: every
// pair is recorded exactly once, and exactly one of the workers is told it was new.
TEST_P(StoreContract, MatchLedgerConcurrentRecordersRecordTheUnionOnce) {
  constexpr int kPerWorker = 500, kBatch = 50, kOverlap = 250;
  std::vector<std::unique_ptr<Store>> handles;
  for (int w = 0; w < 2; ++w) {
    handles.push_back(OpenAnother());
    ASSERT_NE(handles.back(), nullptr);
  }
  // Worker w records events [w * kOverlap, w * kOverlap + kPerWorker): 750 distinct pairs.
  auto pair_of = [](int k) { return M(Cat("stream:", k), k % 3 == 0 ? kA : kB, k); };
  std::vector<std::set<int>> told_new(2);
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  workers.reserve(2);
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      const int from = w * kOverlap;
      for (int b = 0; b < kPerWorker; b += kBatch) {
        std::vector<MatchRecord> batch;
        for (int k = from + b; k < from + b + kBatch; ++k) batch.push_back(pair_of(k));
        auto fresh = handles[w]->matches()->Record(batch);
        ASSERT_TRUE(fresh.ok()) << fresh.status();
        for (size_t i = 0; i < fresh->size(); ++i) {
          ASSERT_LT((*fresh)[i], batch.size());
          if (i > 0) {
            EXPECT_LT((*fresh)[i - 1], (*fresh)[i]);
          }
          told_new[w].insert(from + b + static_cast<int>((*fresh)[i]));
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  constexpr size_t kDistinct = kOverlap + kPerWorker;
  EXPECT_EQ(told_new[0].size() + told_new[1].size(), kDistinct);
  std::set<int> both = told_new[0];
  both.insert(told_new[1].begin(), told_new[1].end());
  EXPECT_EQ(both.size(), kDistinct);  // no pair was new to both
  EXPECT_EQ(*store_->matches()->Count(), kDistinct);
  auto t = store_->matches()->Tally(1000, {{kA, 0}, {kB, 0}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].count, 250u);  // k = 0, 3, ..., 747
  EXPECT_EQ((*t)[1].count, 500u);
}

// Issue 17, `accord store copy`: Restore adds records with the recording times they had
// elsewhere and moves the match clock past them; Scan pages through every record once.
TEST_P(StoreContract, MatchLedgerRestoreKeepsRecordingTimesAndScanPagesThroughAll) {
  MatchLedger* l = store_->matches();
  // Recording times an hour ahead, so that Record must draw after them, not from the clock.
  const Micros r0 = common::NowMicros() + 3600000000LL;
  const std::vector<RecordedMatch> restored = {{"s:1", kA, 100, r0},
                                               {"s:2", kA, 150, r0},
                                               {"s:3", kA, 900, r0 + 5},
                                               {"s:1", kB, 100, r0 + 7},
                                               {"s:10", kB, 120, r0 + 7}};
  absl::Status put = l->Restore(restored);
  ASSERT_TRUE(put.ok()) << put;
  ASSERT_TRUE(l->Restore({}).ok());
  EXPECT_EQ(*l->Count(), 5u);
  // By hand: [0, 1000) of kA holds s:1, s:2, s:3; of kB, s:1 and s:10.
  auto t = l->Tally(1000, {{kA, 0}, {kB, 0}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(Times((*t)[0]), TallyTimes(3, 100, 900, r0, r0 + 5));
  EXPECT_EQ(Times((*t)[1]), TallyTimes(2, 100, 120, r0 + 7, r0 + 7));
  // Pages of 2 (2, 2, 1): every record once, with both its times.
  auto key = [](const RecordedMatch& m) {
    return std::make_tuple(m.event, m.indicator, m.time, m.recorded);
  };
  std::multiset<std::tuple<std::string, std::string, Micros, Micros>> want, seen;
  for (const RecordedMatch& m : restored) want.insert(key(m));
  std::optional<RecordedMatch> after;
  int pages = 0;
  while (true) {
    auto page = l->Scan(after ? &*after : nullptr, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->size(), 2u);
    if (page->empty()) break;
    ++pages;
    for (const RecordedMatch& m : *page) seen.insert(key(m));
    after = page->back();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, want);
  // A pair recorded already: AlreadyExists, and nothing of that call is added.
  absl::Status again = l->Restore({{"s:4", kA, 950, r0 + 9}, {"s:2", kA, 150, r0}});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(l->Restore({{"s:5", kA, 1, 0}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*l->Count(), 5u);
  // Another handle records after the restored times: recorded_last keeps moving forward.
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  auto fresh = other->matches()->Record({M("s:4", kA, 950)});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(*fresh, (Indexes{0}));
  auto moved = l->Tally(1000, {{kA, 0}});
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ((*moved)[0].count, 4u);
  EXPECT_GT((*moved)[0].recorded_last, r0 + 7);
}

// Retention of the match ledger (issue 17): a record goes once both its event time and its
// recording time are before the cut-off (the recording time keeps an old event that arrived
// late, whose message may still be redelivered); the purge reports how many, a dry run removes
// nothing, and the tallies left are those of the records kept.
TEST_P(StoreContract, PurgeRemovesMatchRecordsWhoseEventAndRecordingAreOld) {
  MatchLedger* l = store_->matches();
  const Micros cutoff = 2000;
  absl::Status put = l->Restore({{"s:1", kA, 100, 1000},     // goes
                                 {"s:2", kA, 1999, 1000},    // goes: just before the cut-off
                                 {"s:3", kA, 2000, 1000},    // stays: its event at the cut-off
                                 {"s:4", kB, 300, 1999},     // goes
                                 {"s:5", kB, 400, 2000},     // stays: recorded at the cut-off
                                 {"s:6", kB, 5000, 9000}});  // stays
  ASSERT_TRUE(put.ok()) << put;
  PurgeRules rules;
  rules.matches_before = cutoff;
  const uint64_t g = *store_->Generation();
  auto dry = store_->Purge(rules, true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->match_records, 3u);  // s:1, s:2, s:4
  EXPECT_TRUE(dry->items.empty());
  EXPECT_EQ(dry->bytes, 0);
  EXPECT_EQ(*l->Count(), 6u) << "a dry run removed something";
  auto done = store_->Purge(rules, false);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->match_records, 3u);
  EXPECT_TRUE(done->items.empty());
  EXPECT_EQ(*l->Count(), 3u);
  EXPECT_EQ(*store_->Generation(), g);  // the ledger is not an object write
  // By hand, in [0, 10000): kA keeps s:3 (time 2000, recorded 1000); kB keeps s:5 (400,
  // recorded 2000) and s:6 (5000, recorded 9000).
  auto t = l->Tally(10000, {{kA, 0}, {kB, 0}});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(Times((*t)[0]), TallyTimes(1, 2000, 2000, 1000, 1000));
  EXPECT_EQ(Times((*t)[1]), TallyTimes(2, 400, 5000, 2000, 9000));
  // A record kept still deduplicates its event's redelivery.
  auto redelivered = l->Record({M("s:3", kA, 2000), M("s:5", kB, 400)});
  ASSERT_TRUE(redelivered.ok()) << redelivered.status();
  EXPECT_TRUE(redelivered->empty());
  // Nothing left to purge; the other rules leave the ledger alone.
  EXPECT_EQ(store_->Purge(rules, false)->match_records, 0u);
  PurgeRules others;
  others.sightings_before = cutoff;
  others.quarantine_before = cutoff;
  EXPECT_EQ(store_->Purge(others, false)->match_records, 0u);
  EXPECT_EQ(*l->Count(), 3u);
}

// Objects and match records in one purge: one transaction, and the report has both.
TEST_P(StoreContract, PurgeRemovesObjectsAndMatchRecordsTogether) {
  const std::string kS1 = "sighting--55555555-5555-4555-8555-555555555551";
  Import({Rec(kS1, 50), Rec(kB, 5000000)});
  ASSERT_TRUE(store_->matches()->Restore({{"s:1", kB, 10, 20}, {"s:2", kB, 3000000, 20}}).ok());
  PurgeRules rules;
  rules.sightings_before = 1000000;
  rules.matches_before = 1000000;
  const uint64_t g = *store_->Generation();
  auto done = store_->Purge(rules, false);
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->items.size(), 1u);
  EXPECT_EQ(done->items[0].id, kS1);
  EXPECT_EQ(done->match_records, 1u);  // s:1; s:2's event is after the cut-off
  EXPECT_NE(*store_->Generation(), g);
  EXPECT_EQ(store_->Get(kS1, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store_->matches()->Count(), 1u);
}

// --- web UI sessions (issue 17) ----------------------------------------------------------------

SessionRow Session(const std::string& key, Micros created, Micros last_used) {
  return SessionRow{key, "csrf-of-" + key, "alice", "k1d", "reader", created, last_used};
}

// The keys of the rows that `keys` names and that the store holds, in that order.
std::vector<std::string> Held(SessionStore* s, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    auto row = s->Find(k);
    EXPECT_TRUE(row.ok()) << row.status();
    if (row.ok() && row->has_value()) out.push_back(k);
  }
  return out;
}

using Keys = std::vector<std::string>;

TEST_P(StoreContract, SessionsRoundTripAndAreSeenByAnotherHandle) {
  SessionStore* s = store_->sessions();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->Count(), 0u);
  SessionRow row{"0a1b", "c3d4", "alice", "k1d", "analyst", 1000, 1500};
  ASSERT_TRUE(s->Put(row, {}).ok());
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  auto got = other->sessions()->Find("0a1b");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->key, "0a1b");
  EXPECT_EQ((*got)->csrf_hash, "c3d4");
  EXPECT_EQ((*got)->user, "alice");
  EXPECT_EQ((*got)->key_id, "k1d");
  EXPECT_EQ((*got)->role, "analyst");
  EXPECT_EQ((*got)->created, 1000);
  EXPECT_EQ((*got)->last_used, 1500);
  EXPECT_FALSE(other->sessions()->Find("0a1c")->has_value());
  // A Put of the same key replaces the row.
  row.role = "reader";
  row.last_used = 1700;
  ASSERT_TRUE(s->Put(row, {}).ok());
  EXPECT_EQ(*other->sessions()->Count(), 1u);
  EXPECT_EQ((*other->sessions()->Find("0a1b"))->role, "reader");
  EXPECT_EQ((*other->sessions()->Find("0a1b"))->last_used, 1700);
}

TEST_P(StoreContract, SessionTouchMovesLastUsedForwardOnly) {
  SessionStore* s = store_->sessions();
  ASSERT_TRUE(s->Put(Session("aa", 1000, 1000), {}).ok());
  auto t = s->Touch("aa", 5000);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(*t);
  EXPECT_EQ((*s->Find("aa"))->last_used, 5000);
  EXPECT_TRUE(*s->Touch("aa", 3000));  // found, and left at 5000
  EXPECT_EQ((*s->Find("aa"))->last_used, 5000);
  EXPECT_EQ((*s->Find("aa"))->created, 1000);
  auto none = s->Touch("bb", 6000);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(*none);
  EXPECT_FALSE(s->Find("bb")->has_value());
}

TEST_P(StoreContract, ASessionDeletedThroughOneHandleIsGoneForEveryOther) {
  SessionStore* s = store_->sessions();
  ASSERT_TRUE(s->Put(Session("aa", 1000, 1000), {}).ok());
  ASSERT_TRUE(s->Put(Session("bb", 1000, 1000), {}).ok());
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Held(other->sessions(), {"aa", "bb"}), (Keys{"aa", "bb"}));
  ASSERT_TRUE(other->sessions()->Delete("aa").ok());
  EXPECT_EQ(Held(s, {"aa", "bb"}), (Keys{"bb"}));
  EXPECT_FALSE(*s->Touch("aa", 2000));
  ASSERT_TRUE(s->Delete("aa").ok());  // nothing to delete: no error
  EXPECT_EQ(*s->Count(), 1u);
}

// A Put removes expired rows: idle ones (last_used before idle_before) and old ones (created
// before created_before, however recently used).
TEST_P(StoreContract, SessionPutSweepsExpiredRows) {
  SessionStore* s = store_->sessions();
  ASSERT_TRUE(s->Put(Session("a", 100, 900), {}).ok());    // idle
  ASSERT_TRUE(s->Put(Session("b", 500, 999), {}).ok());    // idle, by 1 us
  ASSERT_TRUE(s->Put(Session("c", 299, 2000), {}).ok());   // created too long ago
  ASSERT_TRUE(s->Put(Session("d", 300, 1000), {}).ok());   // neither: kept
  ASSERT_TRUE(s->Put(Session("e", 1500, 1500), {}).ok());  // kept
  EXPECT_EQ(*s->Count(), 5u);
  SessionBounds bounds;
  bounds.idle_before = 1000;
  bounds.created_before = 300;
  ASSERT_TRUE(s->Put(Session("f", 2000, 2000), bounds).ok());
  EXPECT_EQ(Held(s, {"a", "b", "c", "d", "e", "f"}), (Keys{"d", "e", "f"}));
  EXPECT_EQ(*s->Count(), 3u);
}

// The sweep's work is bounded: a backlog of expired rows goes over several Puts.
TEST_P(StoreContract, SessionPutSweepsAtMostMaxSweptRows) {
  SessionStore* s = store_->sessions();
  const uint64_t backlog = SessionStore::kMaxSwept + 5;
  for (uint64_t i = 0; i < backlog; ++i) {
    ASSERT_TRUE(s->Put(Session(Cat("old", i), 100, 100), {}).ok());
  }
  SessionBounds bounds;
  bounds.idle_before = 1000;
  ASSERT_TRUE(s->Put(Session("new1", 2000, 2000), bounds).ok());
  EXPECT_EQ(*s->Count(), 5u + 1u);
  ASSERT_TRUE(s->Put(Session("new2", 2000, 2000), bounds).ok());
  EXPECT_EQ(*s->Count(), 2u);
}

// Beyond max_rows, the least recently used rows go, never the one just put.
TEST_P(StoreContract, SessionPutEvictsTheLeastRecentlyUsedBeyondTheBound) {
  SessionStore* s = store_->sessions();
  ASSERT_TRUE(s->Put(Session("a", 100, 300), {}).ok());
  ASSERT_TRUE(s->Put(Session("b", 100, 100), {}).ok());
  ASSERT_TRUE(s->Put(Session("c", 100, 200), {}).ok());
  SessionBounds bounds;
  bounds.max_rows = 3;
  ASSERT_TRUE(s->Put(Session("d", 400, 400), bounds).ok());  // 4 rows: b, the oldest, goes
  EXPECT_EQ(Held(s, {"a", "b", "c", "d"}), (Keys{"a", "c", "d"}));
  ASSERT_TRUE(s->Touch("c", 500).ok());  // now a is the oldest
  ASSERT_TRUE(s->Put(Session("e", 450, 450), bounds).ok());
  EXPECT_EQ(Held(s, {"a", "c", "d", "e"}), (Keys{"c", "d", "e"}));
  bounds.max_rows = 1;
  ASSERT_TRUE(s->Put(Session("f", 50, 50), bounds).ok());  // the oldest, but the one put
  EXPECT_EQ(Held(s, {"c", "d", "e", "f"}), (Keys{"f"}));
}

TEST_P(StoreContract, SessionWritesOnAReadOnlyStoreAreRefused) {
  ASSERT_TRUE(store_->sessions()->Put(Session("aa", 1000, 1000), {}).ok());
  Options o = where_.options();
  o.read_only = true;
  o.create = false;
  auto ro = Store::Open(o);
  ASSERT_TRUE(ro.ok()) << ro.status();
  SessionStore* s = (*ro)->sessions();
  EXPECT_EQ((*s->Find("aa"))->created, 1000);  // reads work
  EXPECT_EQ(s->Put(Session("bb", 1000, 1000), {}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->Touch("aa", 2000).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s->Delete("aa").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*s->Count(), 1u);
}

// Issue 17, `accord migrate`: a store is created at the schema version this build writes, and
// migrating a current store changes nothing.
TEST_P(StoreContract, AFreshStoreHasTheLatestSchema) {
  auto st = store_->Schema();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_GT(st->latest, 0);
  EXPECT_EQ(st->current, st->latest);
  EXPECT_FALSE(st->location.empty());
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  auto seen = other->Schema();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->current, st->latest);
  EXPECT_EQ(seen->location, st->location);
}

TEST_P(StoreContract, MigratingACurrentStoreChangesNothing) {
  Import({Rec(kA, 1000)});
  auto before = store_->Schema();
  ASSERT_TRUE(before.ok()) << before.status();
  const uint64_t generation = *store_->Generation();
  for (int i = 0; i < 2; ++i) {
    auto m = store_->Migrate();
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->current, before->current);
    EXPECT_EQ(m->latest, before->latest);
    EXPECT_EQ(m->location, before->location);
  }
  EXPECT_EQ(*store_->Generation(), generation);
  EXPECT_EQ(store_->Get(kA, VersionSelect::kAll)->size(), 1u);
  EXPECT_EQ(Import({Rec(kB, 1000)}).added, 1u);  // still writable
}

TEST_P(StoreContract, MigrateOnAReadOnlyStoreIsRefused) {
  Options o = where_.options();
  o.read_only = true;
  o.create = false;
  auto ro = Store::Open(o);
  ASSERT_TRUE(ro.ok()) << ro.status();
  auto st = (*ro)->Schema();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->current, st->latest);
  EXPECT_EQ((*ro)->Migrate().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace accord::store
