#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

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
    return TestRecord(id, modified, revoked);
  }

  ImportResult Import(const std::vector<stix::ObjectRecord>& recs,
                      const std::string& coll = "default") {
    return ImportAll(store_.get(), recs, coll);
  }
};

const std::string kA = "indicator--11111111-1111-4111-8111-111111111111";
const std::string kB = "indicator--22222222-2222-4222-8222-222222222222";
const std::string kC = "malware--33333333-3333-4333-8333-333333333333";

// A few ids in a large collection are found through the (idh, modified) index, not by walking
// the collection's memberships (match/origin.cc asks this for every matched indicator). The
// bound is the plan's cost in SQLite VM steps: a walk of 20000 memberships costs at least one
// step per membership, an indexed read of one id a few dozen steps in all.
// A deriver may give a term more than once (correlate::DeriveTermsUnsorted, which the process
// installs); the keys both backends write hold each term's key once.
TEST(TermKeysOfTest, EachKeyOnceWhateverTheDeriverRepeats) {
  const std::vector<std::string> given = {"ref:indicator--b", "domain:evil.example",
                                          "ref:indicator--a", "domain:evil.example",
                                          "ipv4n:c0000201",   "ref:indicator--b"};
  TermDeriver repeat = [&](const stix::ObjectRecord&, std::vector<std::string>* out) {
    out->insert(out->end(), given.begin(), given.end());
  };
  std::vector<int64_t> keys;
  detail::TermKeysOf(repeat, stix::ObjectRecord{}, &keys);
  // Four distinct terms, by hand; their keys in ascending order.
  std::vector<int64_t> want = {
      detail::TermKey("ref:indicator--b"), detail::TermKey("domain:evil.example"),
      detail::TermKey("ref:indicator--a"), detail::TermKey("ipv4n:c0000201")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(keys, want);
  EXPECT_EQ(std::set<int64_t>(want.begin(), want.end()).size(), 4u);
}

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

// Store::WritersWaiting, which ends a long import's chunk (ingest::Options::chunk_seconds):
// false while nobody waits for the write lock an import holds; true while a thread of the
// same process waits for it (the store's mutex), and while another handle, here as another
// process would (its own open of accord.db-writers), waits in SQLite's busy handler; false
// again once that writer has the lock. Each wait is seen by polling, without a time bound.
TEST_F(SqliteStoreTest, WritersWaitingSeesWritersOfThisAndOtherHandles) {
  auto WaitUntil = [](Store* s, bool want) {
    while (s->WritersWaiting() != want) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  auto holder = store_->BeginImport("default");
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_FALSE(store_->WritersWaiting());

  // A thread of this process: waits on the store's mutex.
  std::thread same([&] {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE((*t)->Add(Rec(kA, 1000)).ok());
    ASSERT_TRUE((*t)->Commit().ok());
  });
  WaitUntil(store_.get(), true);
  ASSERT_TRUE((*holder)->Commit().ok());
  holder->reset();
  same.join();
  EXPECT_FALSE(store_->WritersWaiting());

  // Another handle: waits in SQLite's busy handler, marked in accord.db-writers.
  Options o;
  o.dir = dir_.string();
  auto other = Store::Open(o);
  ASSERT_TRUE(other.ok()) << other.status();
  holder = store_->BeginImport("default");
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_FALSE(store_->WritersWaiting());
  std::atomic<bool> other_began{false};
  std::thread another([&] {
    auto t = (*other)->BeginImport("default");
    ASSERT_TRUE(t.ok()) << t.status();
    other_began = true;
    // While it holds the lock, nobody waits for it (it waits for nobody either).
    EXPECT_FALSE((*other)->WritersWaiting());
    ASSERT_TRUE((*t)->Add(Rec(kB, 1000)).ok());
    ASSERT_TRUE((*t)->Commit().ok());
  });
  WaitUntil(store_.get(), true);
  EXPECT_FALSE(other_began.load());
  ASSERT_TRUE((*holder)->Commit().ok());
  holder->reset();
  another.join();
  EXPECT_TRUE(other_began.load());
  EXPECT_FALSE(store_->WritersWaiting());
  EXPECT_FALSE((*other)->WritersWaiting());
  EXPECT_EQ(store_->Get(kB, VersionSelect::kAll)->size(), 1u);
}

TEST_F(SqliteStoreTest, NewDataDirectoryIsPrivate) {
  auto st = std::filesystem::status(dir_).permissions();
  EXPECT_EQ(st & std::filesystem::perms::all, std::filesystem::perms::owner_all);
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

const std::string kV1A = R"({"type":"indicator","id":")" + kA + R"(","v":1})";
const std::string kV1B = R"({"type":"malware","id":")" + kC + R"(","v":2})";

// A store of schema version 1 as released (JSON inside SQLite, text id index) in `dir`: kA
// (JSON kV1A, date_added 100) and kC (kV1B, 200) in "default"; generation 7.
void MakeVersion1Store(const std::filesystem::path& dir) {
  const std::string& a = kV1A;
  const std::string& b = kV1B;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
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
}

// A store written by schema version 1 is migrated on open.
TEST(SqliteStoreMigrationTest, Version1StoreIsMigrated) {
  auto dir = std::filesystem::temp_directory_path() / Cat("accord-store-v1-", getpid());
  MakeVersion1Store(dir);
  if (::testing::Test::HasFatalFailure()) return;
  const std::string& a = kV1A;
  const std::string& b = kV1B;
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

// `accord migrate` on a SQLite store (issue 17): opened as it is (allow_old_schema), the store
// is left at version 1 until Migrate(), which does what a writing open would have done.
TEST(SqliteStoreMigrationTest, Version1StoreIsMigratedByMigrate) {
  auto dir = std::filesystem::temp_directory_path() / Cat("accord-store-v1m-", getpid());
  MakeVersion1Store(dir);
  if (::testing::Test::HasFatalFailure()) return;
  Options o;
  o.dir = dir.string();
  o.create = false;
  o.allow_old_schema = true;
  {
    Options ro = o;
    ro.allow_old_schema = false;
    ro.read_only = true;
    auto refused = Store::Open(ro);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("run 'accord migrate' on it once"), std::string::npos)
        << refused.status();
    ro.allow_old_schema = true;
    auto check = Store::Open(ro);
    ASSERT_TRUE(check.ok()) << check.status();
    auto st = (*check)->Schema();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->current, 1);
    EXPECT_EQ(st->latest, 13);
    EXPECT_EQ(st->location, (dir / "accord.db").string());
    EXPECT_EQ((*check)->Migrate().status().code(), absl::StatusCode::kFailedPrecondition);
  }
  auto s = Store::Open(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Schema()->current, 1);  // the open changed nothing
  auto m = (*s)->Migrate();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->current, 13);
  EXPECT_EQ(m->latest, 13);
  auto again = (*s)->Migrate();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->current, 13);
  auto got = (*s)->Get(kA, VersionSelect::kAll);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].json, kV1A);
  EXPECT_EQ(*(*s)->Generation(), 7u);
  EXPECT_EQ(ImportAll(s->get(), {TestRecord(kB, 1000)}).added, 1u);
  s->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accord::store
