// The content-conflict quarantine (store.h Quarantine; sqlite_quarantine.cc, pg_store.cc): drop,
// and the two ways of releasing an entry, on both store backends (PostgreSQL on the server of
// ACCORD_TEST_PG); and SQLite's schema 3 -> 4 migration that adds it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <string>

#include "accord/common/strings.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "store/store_test_fixture.h"

namespace accord::store {
namespace {

using common::Cat;

const std::string kId = "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061";
const std::string kModified = "2024-05-06T07:08:09.000Z";
constexpr common::Micros kModifiedMicros = 1714979289000000;  // 2024-05-06T07:08:09Z

// A valid STIX 2.1 malware object of that version, named `name`.
std::string Malware(const std::string& name) {
  return Cat(R"({"type":"malware","spec_version":"2.1","id":")", kId,
             R"(","created":"2024-01-01T00:00:00.000Z","modified":")", kModified, R"(","name":")",
             name, R"(","is_family":false})");
}

stix::ObjectRecord Record(const std::string& json) {
  std::optional<stix::ObjectRecord> rec;
  stix::ReaderOptions ro;
  auto st = stix::ReadBuffer(
      json, ro,
      [&](stix::ObjectRecord&& r) {
        rec = std::move(r);
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) { ADD_FAILURE() << p.ToString(); });
  EXPECT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(rec.has_value());
  return rec ? *rec : stix::ObjectRecord{};
}

class QuarantineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (where_.server_missing()) {
      GTEST_SKIP() << "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";
    }
    absl::Status made = where_.Make();
    ASSERT_TRUE(made.ok()) << made;
    Open();
  }
  void TearDown() override { store_.reset(); }
  void Open() {
    auto s = Store::Open(where_.options());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    q_ = store_->quarantine();
    ASSERT_NE(q_, nullptr);
  }
  ImportResult Import(const std::string& json, const std::string& coll,
                      const std::string& writer = "import") {
    auto t = store_->BeginImport(coll);
    EXPECT_TRUE(t.ok()) << t.status();
    (*t)->SetWriter(writer);
    EXPECT_TRUE((*t)->Add(Record(json)).ok());
    auto r = (*t)->Commit();
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }
  // JSON of kId in `coll` ("" when absent there).
  std::string In(const std::string& coll) {
    Query q;
    q.collection = coll;
    q.ids = {kId};
    q.include_revoked = true;
    auto p = store_->List(q);
    EXPECT_TRUE(p.ok()) << p.status();
    return p->objects.empty() ? "" : p->objects[0].json;
  }
  // The first-writer case: Bob's copy stored first in `shared`, the real one refused for
  // `attack`. Returns the entry's number.
  int64_t Collide() {
    Import(Malware("bob's copy"), "shared", "bob");
    ImportResult r = Import(Malware("the real one"), "attack");
    EXPECT_EQ(r.conflicts, 1u);
    auto entries = *q_->ListQuarantine(0);
    EXPECT_EQ(entries.size(), 1u);
    return entries.empty() ? 0 : entries[0].qid;
  }

  TestStoreLocation where_{GetParam(), "quarantine"};
  std::unique_ptr<Store> store_;
  Quarantine* q_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Backends, QuarantineTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

// SQLite's own: a store of an older schema.
class SqliteQuarantineTest : public QuarantineTest {};
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteQuarantineTest, ::testing::Values("sqlite"),
                         [](const auto& p) { return p.param; });

TEST_P(QuarantineTest, EntryKeepsTheRefusedCopyAndWhereItWasGoing) {
  int64_t qid = Collide();
  auto e = q_->GetQuarantined(qid);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->id, kId);
  EXPECT_EQ(e->modified, kModifiedMicros);
  EXPECT_EQ(e->collection_alias, "attack");
  EXPECT_EQ(e->writer, "import");
  EXPECT_GT(e->received, 0);
  EXPECT_EQ(e->json, Malware("the real one"));
  EXPECT_EQ(In("attack"), "");
  EXPECT_EQ(In("shared"), Malware("bob's copy"));
}

// Issue 12: a received version that fails a check is held with its reason, stored nowhere.
TEST_P(QuarantineTest, HeldVersionKeepsItsReasonAndIsStoredNowhere) {
  const std::string copy = Malware("forged");
  ASSERT_TRUE(q_->Hold("from-b", kId, kModifiedMicros, "cert-b", "bad signature", copy).ok());
  ASSERT_TRUE(q_->Hold("from-b", kId, kModifiedMicros, "cert-b", "bad signature", copy).ok());
  EXPECT_EQ(q_->Hold("from-b", kId, kModifiedMicros, "cert-b", "", copy).code(),
            absl::StatusCode::kInvalidArgument);
  auto entries = *q_->ListQuarantine(0);
  ASSERT_EQ(entries.size(), 1u);  // the same copy for the same collection: once
  EXPECT_EQ(entries[0].reason, "bad signature");
  EXPECT_EQ(entries[0].writer, "cert-b");
  EXPECT_EQ(entries[0].collection_alias, "from-b");
  EXPECT_EQ(q_->GetQuarantined(entries[0].qid)->json, copy);
  EXPECT_EQ(store_->Get(kId, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(In("from-b"), "");
  // A content conflict has no reason.
  ASSERT_TRUE(q_->DropQuarantined(entries[0].qid).ok());
  int64_t qid = Collide();
  EXPECT_EQ(q_->GetQuarantined(qid)->reason, "");
}

TEST_P(QuarantineTest, DropDiscardsTheCopyOnly) {
  int64_t qid = Collide();
  ASSERT_TRUE(q_->DropQuarantined(qid).ok());
  EXPECT_TRUE(q_->ListQuarantine(0)->empty());
  EXPECT_EQ(In("shared"), Malware("bob's copy"));
  EXPECT_EQ(In("attack"), "");
  EXPECT_EQ(q_->DropQuarantined(qid).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(q_->GetQuarantined(qid).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(QuarantineTest, ReleasingTheStoredCopyLinksItIntoTheTargetedCollection) {
  int64_t qid = Collide();
  uint64_t gen = *store_->Generation();
  ASSERT_TRUE(q_->ReleaseQuarantined(qid, Quarantine::Winner::kStored).ok());
  EXPECT_EQ(In("attack"), Malware("bob's copy"));
  EXPECT_EQ(In("shared"), Malware("bob's copy"));
  EXPECT_TRUE(q_->ListQuarantine(0)->empty());
  EXPECT_GT(*store_->Generation(), gen);
  EXPECT_EQ(q_->ReleaseQuarantined(qid, Quarantine::Winner::kStored).code(),
            absl::StatusCode::kNotFound);
}

TEST_P(QuarantineTest, ReleasingTheQuarantinedCopyReplacesTheStoredVersionEverywhere) {
  int64_t qid = Collide();
  ASSERT_TRUE(q_->ReleaseQuarantined(qid, Quarantine::Winner::kQuarantined).ok());
  // The real copy is the version now, in the targeted collection only.
  EXPECT_EQ(In("attack"), Malware("the real one"));
  EXPECT_EQ(In("shared"), "");
  auto all = store_->Get(kId, VersionSelect::kAll);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].json, Malware("the real one"));
  // The losing copy is kept in quarantine, for the collection that held it.
  auto entries = *q_->ListQuarantine(0);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].collection_alias, "shared");
  EXPECT_EQ(entries[0].writer, Cat("replaced (release of #", qid, ")"));
  EXPECT_EQ(q_->GetQuarantined(entries[0].qid)->json, Malware("bob's copy"));
  // Bob sending his copy again is a conflict now.
  ImportResult again = Import(Malware("bob's copy"), "shared", "bob");
  EXPECT_EQ(again.conflicts, 1u);
  EXPECT_EQ(In("shared"), "");
  // The replacement survives reopening the store.
  store_.reset();
  Open();
  EXPECT_EQ(In("attack"), Malware("the real one"));
}

TEST_P(SqliteQuarantineTest, Schema3StoreGainsTheQuarantine) {
  Import(Malware("stored"), "default");
  store_.reset();
  {
    // What a schema-3 store is: this one without the quarantine table.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((where_.dir() / "accord.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(
        sqlite3_exec(db, "DROP TABLE quarantine; PRAGMA user_version = 3;", nullptr, nullptr, &err),
        SQLITE_OK)
        << err;
    sqlite3_close(db);
  }
  {
    Options ro;
    ro.dir = where_.dir().string();
    ro.read_only = true;
    ro.create = false;
    auto s = Store::Open(ro);  // read-only cannot migrate: it says how
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("run 'accord migrate' on it once"), std::string::npos)
        << s.status();
  }
  Open();
  ImportResult r = Import(Malware("other"), "default");
  EXPECT_EQ(r.conflicts, 1u);
  EXPECT_EQ(q_->ListQuarantine(0)->size(), 1u);
  EXPECT_EQ(In("default"), Malware("stored"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((where_.dir() / "accord.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* v = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &v, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(v), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(v, 0), 13);  // migrated to the current schema, 13
  sqlite3_finalize(v);
  sqlite3_close(db);
}

}  // namespace
}  // namespace accord::store
