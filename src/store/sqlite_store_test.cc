#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "accord/common/strings.h"
#include "accord/store/store.h"

namespace accord::store {
namespace {

using common::Cat;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           Cat("accord-store-test-", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
               "-", getpid());
    std::filesystem::remove_all(dir_);
    Options o;
    o.dir = dir_.string();
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

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

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
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
    recs.push_back(Rec(Cat("indicator--00000000-0000-4000-8000-", std::string(10, '0'),
                           i < 10 ? "0" : "", i),
                       1));
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

TEST_F(SqliteStoreTest, UncommittedImportLeavesNothing) {
  {
    auto t = store_->BeginImport("default");
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->Add(Rec(kA, 1)).ok());
  }  // destroyed without Commit
  EXPECT_EQ(store_->Get(kA, VersionSelect::kAll).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetStats()->versions, 0u);
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

}  // namespace
}  // namespace accord::store
