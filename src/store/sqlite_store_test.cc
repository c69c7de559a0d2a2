#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "accord/common/strings.h"
#include "accord/store/store.h"
#include "store/sqlite_store.h"
#include "store/store_test_fixture.h"

namespace accord::store {
namespace {

using common::Cat;

class SqliteStoreTest : public StoreFixture {
 protected:
  SqliteStoreTest() : StoreFixture("accord-store-test") {}

  static stix::ObjectRecord Rec(const std::string& id, common::Micros modified,
                                bool revoked = false) {
    stix::ObjectRecord r;
    r.id = id;
    r.type = id.substr(0, id.find("--"));
    r.spec_version = "2.1";
    r.modified = modified;
    r.has_modified = true;
    r.revoked = revoked;
    r.json = Cat(R"({"type":")", r.type, R"(","id":")", id, R"(","m":)", modified, "}");
    return r;
  }

  ImportResult Import(const std::vector<stix::ObjectRecord>& recs,
                      const std::string& coll = "default") {
    auto t = store_->BeginImport(coll);
    EXPECT_TRUE(t.ok()) << t.status();
    for (const auto& r : recs) EXPECT_TRUE((*t)->Add(r).ok());
    auto res = (*t)->Commit();
    EXPECT_TRUE(res.ok()) << res.status();
    return *res;
  }
};

const std::string kA = "indicator--11111111-1111-4111-8111-111111111111";
const std::string kB = "indicator--22222222-2222-4222-8222-222222222222";
const std::string kC = "malware--33333333-3333-4333-8333-333333333333";

TEST_F(SqliteStoreTest, SameVersionTwiceIsStoredOnce) {
  auto r1 = Import({Rec(kA, 1000), Rec(kA, 1000)});
  EXPECT_EQ(r1.added, 1u);
  EXPECT_EQ(r1.duplicates, 1u);
  auto r2 = Import({Rec(kA, 1000)});
  EXPECT_EQ(r2.added, 0u);
  auto all = store_->Get(kA, VersionSelect::kAll);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(SqliteStoreTest, VersionsFirstLastAll) {
  Import({Rec(kA, 3000), Rec(kA, 1000), Rec(kA, 2000)});
  EXPECT_EQ((*store_->Get(kA, VersionSelect::kFirst))[0].modified, 1000);
  EXPECT_EQ((*store_->Get(kA, VersionSelect::kLast))[0].modified, 3000);
  auto all = *store_->Get(kA, VersionSelect::kAll);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].modified, 1000);
  EXPECT_EQ(all[2].modified, 3000);
  EXPECT_EQ(store_->Get(kB, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ListByTypeAndRevokedExcluded) {
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

TEST_F(SqliteStoreTest, DateAddedStrictlyIncreasesAcrossImports) {
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

TEST_F(SqliteStoreTest, PaginationIsStableWhileWritersAppend) {
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

TEST_F(SqliteStoreTest, PaginationInStorageOrderWithoutCollection) {
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

TEST_F(SqliteStoreTest, LatestVersionInCollectionOnly) {
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

// A few ids in a large collection are found through the (idh, modified) index, not by walking
// the collection's memberships (match/origin.cc asks this for every matched indicator). The
// bound is the plan's cost in SQLite VM steps: a walk of 20000 memberships costs at least one
// step per membership, an indexed read of one id a few dozen steps in all.
TEST_F(SqliteStoreTest, ListByIdInALargeCollectionIsIndexed) {
  std::vector<stix::ObjectRecord> recs;
  for (int i = 0; i < 20000; ++i) {
    char id[64];
    snprintf(id, sizeof id, "indicator--%08x-1111-4111-8111-111111111111", i);
    recs.push_back(Rec(id, 1000));
  }
  Import(recs, "alpha");
  Import({recs[12345]}, "beta");
  Query q;
  q.collection = "alpha";
  q.ids = {recs[12345].id};
  q.types = {"indicator"};
  q.limit = 1;
  auto p = store_->List(q);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->objects.size(), 1u);
  EXPECT_EQ(p->objects[0].id, recs[12345].id);
  auto* sqlite = dynamic_cast<detail::SqliteStore*>(store_.get());
  ASSERT_NE(sqlite, nullptr);
  EXPECT_LT(sqlite->last_list_vm_steps(), 2000u);
  q.ids = {"indicator--99999999-1111-4111-8111-111111111111"};  // absent: no walk either
  p = store_->List(q);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->objects.empty());
  EXPECT_LT(sqlite->last_list_vm_steps(), 2000u);
}

TEST_F(SqliteStoreTest, UncommittedImportLeavesNothing) {
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->Add(Rec(kA, 1)).ok());
  }  // destroyed without Commit
  EXPECT_EQ(store_->Get(kA, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetStats()->versions, 0u);
}

// Issue 12: a sync cursor commits with the objects it covers, or not at all.
TEST_F(SqliteStoreTest, SettingInAnImportCommitsWithItsRecordsOnly) {
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

TEST_F(SqliteStoreTest, GenerationChangesOnEveryCommittedWrite) {
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
TEST_F(SqliteStoreTest, GenerationIsUnchangedByAWriteThatChangesNoRow) {
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

TEST_F(SqliteStoreTest, BadCursorIsInvalidArgument) {
  Query q;
  q.collection = "default";
  q.cursor = "garbage";
  EXPECT_EQ(store_->List(q).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, DeleteRemovesMembership) {
  Import({Rec(kA, 1000), Rec(kA, 2000)});
  EXPECT_EQ(*store_->Delete("default", kA, {1000}), 1u);
  Query q;
  q.collection = "default";
  q.versions = VersionSelect::kAll;
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].modified, 2000);
}

TEST_F(SqliteStoreTest, CollectionsAndSettings) {
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
TEST_F(SqliteStoreTest, SameVersionWithOtherContentIsRefusedAndQuarantined) {
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

TEST_F(SqliteStoreTest, QuarantineRecordsTheWriter) {
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

TEST_F(SqliteStoreTest, RefusingConflictsFailsTheWholeImport) {
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
TEST_F(SqliteStoreTest, RevocationCountsOnlyInItsCollection) {
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

TEST_F(SqliteStoreTest, NewDataDirectoryIsPrivate) {
  auto st = std::filesystem::status(dir_).permissions();
  EXPECT_EQ(st & std::filesystem::perms::all, std::filesystem::perms::owner_all);
}

// The object log: JSON comes back byte for byte, from neighbouring and scattered offsets.
TEST_F(SqliteStoreTest, JsonComesBackExactly) {
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
  // The log is JSON lines: every stored version once, in the order stored.
  std::ifstream log(dir_ / "objects.log", std::ios::binary);
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_EQ(ss.str(), a1.json + "\n" + b.json + "\n" + c.json + "\n" + a2.json + "\n");
}

TEST_F(SqliteStoreTest, BytesOfARolledBackImportAreCutOff) {
  auto a = Rec(kA, 1), b = Rec(kB, 1), c = Rec(kC, 1);
  Import({a});
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE(t.ok());
    // 3 MiB: more than the log's write buffer, so bytes reach the file before the rollback.
    for (int i = 0; i < 3000; ++i) {
      auto big = Rec(kB, i + 10);
      big.json.insert(big.json.size() - 1, Cat(R"(,"pad":")", std::string(1024, 'x'), "\""));
      ASSERT_TRUE((*t)->Add(big).ok());
    }
    EXPECT_GT(std::filesystem::file_size(dir_ / "objects.log"), a.json.size() + 1);
  }  // rolled back
  Import({c});
  EXPECT_EQ(store_->Get(kB, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store_->Get(kC, VersionSelect::kLast))[0].json, c.json);
  EXPECT_EQ(std::filesystem::file_size(dir_ / "objects.log"),
            a.json.size() + 1 + c.json.size() + 1);
}

// Ids are indexed by a 64-bit hash; two ids that share one must still be told apart. A
// collision is forged by rewriting a stored row's hash to another id's.
TEST_F(SqliteStoreTest, IdHashCollisionDoesNotMergeObjects) {
  Import({Rec(kB, 1000)});
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "accord.db").c_str(), &db), SQLITE_OK);
    std::string sql =
        Cat("UPDATE objects SET idh = ", detail::IdHash(kA), " WHERE id = '", kB, "'");
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto r = Import({Rec(kA, 1000)});  // same hash and modified as the forged row, other id
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(r.duplicates, 0u);
  auto a = *store_->Get(kA, VersionSelect::kAll);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].json, Rec(kA, 1000).json);
  Query q;
  q.ids = {kA};
  auto p = *store_->List(q);
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].id, kA);
}

TEST_F(SqliteStoreTest, TruncatedLogIsReportedNotMisread) {
  Import({Rec(kA, 1), Rec(kB, 1)});
  std::filesystem::resize_file(dir_ / "objects.log", 10);
  auto got = store_->Get(kB, VersionSelect::kAll);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("objects.log"), std::string::npos) << got.status();
  EXPECT_EQ(store_->BeginImport("default").status().code(), absl::StatusCode::kDataLoss);
}

// A store written by schema version 1 (JSON inside SQLite, text id index) is migrated on open.
TEST(SqliteStoreMigrationTest, Version1StoreIsMigrated) {
  auto dir = std::filesystem::temp_directory_path() / Cat("accord-store-v1-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string a = R"({"type":"indicator","id":")" + kA + R"(","v":1})";
  const std::string b = R"({"type":"malware","id":")" + kC + R"(","v":2})";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "accord.db").c_str(), &db), SQLITE_OK);
    // Schema version 1 as released (src/store/sqlite_store.cc before the object log).
    std::string sql =
        Cat(R"sql(
CREATE TABLE objects(vid INTEGER PRIMARY KEY, id TEXT NOT NULL, modified INTEGER NOT NULL,
  type TEXT NOT NULL, spec_version TEXT NOT NULL, has_modified INTEGER NOT NULL,
  revoked INTEGER NOT NULL, valid_from INTEGER, valid_until INTEGER, first_added INTEGER NOT NULL,
  json BLOB NOT NULL, UNIQUE(id, modified));
CREATE INDEX objects_type ON objects(type);
CREATE INDEX objects_revoked ON objects(id) WHERE revoked = 1;
CREATE TABLE collections(cid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, alias TEXT UNIQUE,
  title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', is_public INTEGER NOT NULL DEFAULT 0);
CREATE TABLE membership(cid INTEGER NOT NULL, date_added INTEGER NOT NULL, vid INTEGER NOT NULL,
  PRIMARY KEY(cid, date_added)) WITHOUT ROWID;
CREATE UNIQUE INDEX membership_vid ON membership(vid, cid);
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
INSERT INTO generation VALUES(1, 7);
CREATE TABLE clock(one INTEGER PRIMARY KEY CHECK (one = 1), last_added INTEGER NOT NULL);
INSERT INTO clock VALUES(1, 200);
INSERT INTO collections(cid, id, alias, title) VALUES(1, '0a6e2c3e-8f3a-4c33-9d2b-2f1d1f0e0a01', 'default', 'default');
INSERT INTO objects VALUES(1, ')sql",
            kA, R"sql(', 1000, 'indicator', '2.1', 1, 0, NULL, NULL, 100, ')sql", a, R"sql(');
INSERT INTO objects VALUES(2, ')sql",
            kC, R"sql(', 1000, 'malware', '2.1', 1, 0, NULL, NULL, 200, ')sql", b, R"sql(');
INSERT INTO membership VALUES(1, 100, 1), (1, 200, 2);
PRAGMA user_version = 1;
)sql");
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }
  Options o;
  o.dir = dir.string();
  auto s = Store::Open(o);
  ASSERT_TRUE(s.ok()) << s.status();
  auto got = (*s)->Get(kA, VersionSelect::kAll);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].json, a);
  Query q;
  q.collection = "default";
  auto p = *(*s)->List(q);
  ASSERT_EQ(p.objects.size(), 2u);
  EXPECT_EQ(p.objects[0].json, a);
  EXPECT_EQ(p.objects[0].date_added, 100);
  EXPECT_EQ(p.objects[1].json, b);
  // The same version again is recognised as stored; a new one lands after the old ones.
  auto t = (*s)->BeginImport("default");
  ASSERT_TRUE(t.ok()) << t.status();
  stix::ObjectRecord again;
  again.id = kA;
  again.type = "indicator";
  again.spec_version = "2.1";
  again.modified = 1000;
  again.has_modified = true;
  again.json = a;
  ASSERT_TRUE((*t)->Add(again).ok());
  auto res = (*t)->Commit();
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->added, 0u);
  EXPECT_EQ(res->duplicates, 1u);
  // The generation row (7) survived the migration, and the re-import of a stored version
  // changed no row, so it did not move (GenerationIsUnchangedByAWriteThatChangesNoRow).
  EXPECT_EQ(*(*s)->Generation(), 7u);
  s->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accord::store
