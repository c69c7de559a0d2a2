// `accord store copy` (copy.h, issue 17): a store copied into another backend holds the same
// collections, versions in order, users, keys, settings and match ledger (recording times
// included); a difference is found and named.
#include "accord/store/copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "accord/common/time.h"
#include "store/store_test_fixture.h"

namespace accord::store {
namespace {

using common::Cat;

// (source backend, target backend)
class StoreCopy : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
 protected:
  void SetUp() override {
    if (from_at_.server_missing() || to_at_.server_missing()) {
      GTEST_SKIP() << "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";
    }
    for (TestStoreLocation* where : {&from_at_, &to_at_}) {
      absl::Status made = where->Make();
      ASSERT_TRUE(made.ok()) << made;
    }
    auto f = Store::Open(from_at_.options());
    ASSERT_TRUE(f.ok()) << f.status();
    from_ = std::move(*f);
    Options o = to_at_.options();
    o.create_default_collection = false;
    auto t = Store::Open(o);
    ASSERT_TRUE(t.ok()) << t.status();
    to_ = std::move(*t);
  }

  TestStoreLocation from_at_{GetParam().first, "copy-from"};
  TestStoreLocation to_at_{GetParam().second, "copy-to"};
  std::unique_ptr<Store> from_, to_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreCopy,
                         ::testing::Values(std::make_pair("sqlite", "postgresql"),
                                           std::make_pair("postgresql", "sqlite"),
                                           std::make_pair("sqlite", "sqlite")),
                         [](const auto& p) { return p.param.first + "_to_" + p.param.second; });

const std::string kA = "indicator--11111111-1111-4111-8111-111111111111";
const std::string kB = "indicator--22222222-2222-4222-8222-222222222222";
const std::string kC = "malware--33333333-3333-4333-8333-333333333333";

TEST_P(StoreCopy, TheCopyHoldsWhatTheSourceServesAndVerifies) {
  // Source, by hand: "default" holds A@1, B@1, A@2 (in that order); "partners" (made with an
  // id, public) holds B@1 again and C@1 revoked; a version deleted from every collection
  // (C@5); alice with a key and a grant; two settings.
  auto stix = [](const std::string& id, common::Micros m, bool revoked = false) {
    stix::ObjectRecord r = TestRecord(id, m, revoked);
    // Records read back from the store are parsed again: they must be valid STIX.
    r.json =
        Cat(R"({"type":")", r.type, R"(","spec_version":"2.1","id":")", id,
            R"(","created":"2024-01-01T00:00:00.000Z","modified":")", common::FormatTimestamp(m),
            R"(","name":"n)", m, R"(")", revoked ? R"(,"revoked":true)" : "",
            r.type == "indicator"
                ? R"(,"pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix",)"
                  R"("valid_from":"2024-01-01T00:00:00Z")"
                : R"(,"is_family":false)",
            "}");
    return r;
  };
  const common::Micros t1 = 1735689600000000, t2 = t1 + 1000, t5 = t1 + 5000;
  ImportAll(from_.get(), {stix(kA, t1), stix(kB, t1), stix(kA, t2)});
  CollectionInfo partners;
  partners.id = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
  partners.alias = "partners";
  partners.title = "Shared with partners";
  partners.is_public = true;
  ASSERT_TRUE(from_->CreateCollection(partners).ok());
  ImportAll(from_.get(), {stix(kB, t1), stix(kC, t1, true)}, "partners");
  ImportAll(from_.get(), {stix(kC, t5)});
  ASSERT_EQ(*from_->Delete("default", kC, {t5}), 1u);
  ASSERT_TRUE(from_->auth()->AddUser({"alice", "analyst", 7}).ok());
  ASSERT_TRUE(from_->auth()->AddKey({"k1", "alice", "$argon2id$hash", 8, false, "laptop"}).ok());
  ASSERT_TRUE(from_->auth()->SetGrant({"alice", partners.id, true, false}).ok());
  ASSERT_TRUE(from_->PutSetting("node.identity", "identity--x").ok());
  ASSERT_TRUE(from_->PutSetting("sync.cursor.b", "c").ok());

  auto report = CopyStore(*from_, *to_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->collections, 2u);
  EXPECT_EQ(report->memberships, 5u);          // 3 in default, 2 in partners
  EXPECT_EQ(report->versions, 4u);             // A@1, B@1, A@2, C@1: B@1 once
  EXPECT_EQ(report->not_copied_unlinked, 1u);  // C@5
  EXPECT_EQ(report->users, 1u);
  EXPECT_EQ(report->keys, 1u);
  EXPECT_EQ(report->grants, 1u);
  EXPECT_EQ(report->settings, 2u);
  absl::Status same = VerifyCopy(*from_, *to_);
  EXPECT_TRUE(same.ok()) << same;

  // Read through the copy itself.
  auto p = to_->GetCollection("partners");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->id, partners.id);
  EXPECT_TRUE(p->is_public);
  Query q;
  q.collection = "default";
  q.versions = VersionSelect::kAll;
  auto page = to_->List(q);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].id, kA);
  EXPECT_EQ(page->objects[1].id, kB);
  EXPECT_EQ(page->objects[2].modified, t2);
  EXPECT_EQ(to_->Get(kC, VersionSelect::kAll)->size(), 1u);  // C@5 stayed behind
  auto key = to_->auth()->FindKey("k1");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->hash, "$argon2id$hash");  // the key keeps working
  EXPECT_EQ(**to_->GetSetting("node.identity"), "identity--x");

  // A difference is found and named; a second copy into a store that is not empty refused.
  ImportAll(to_.get(), {stix(kB, t5)}, "partners");
  absl::Status differs = VerifyCopy(*from_, *to_);
  EXPECT_EQ(differs.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(differs.message().find(partners.id), std::string::npos) << differs;
  EXPECT_EQ(CopyStore(*from_, *to_).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Issue 17: the match ledger goes with the copy, each record with its event time and its
// recording time (so the copy's tallies and sightings go on where the source's stopped), and
// the verification compares it.
TEST_P(StoreCopy, TheCopyCarriesTheMatchLedger) {
  // 2,345 records (three of the copy's pages of 1,000) in five Record calls: event "s:k"
  // matched kA when k % 5 == 0, else kB, at t0 + k ms.
  const common::Micros t0 = 1735689600000000;  // 2025-01-01T00:00:00Z: an hour's start
  constexpr int kRecords = 2345;
  for (int from = 0; from < kRecords; from += 500) {
    std::vector<MatchRecord> batch;
    for (int k = from; k < std::min(kRecords, from + 500); ++k) {
      batch.push_back({Cat("s:", k), k % 5 == 0 ? kA : kB, t0 + k * 1000});
    }
    ASSERT_TRUE(from_->matches()->Record(batch).ok());
  }
  auto report = CopyStore(*from_, *to_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->match_records, 2345u);
  EXPECT_EQ(*to_->matches()->Count(), 2345u);
  // By hand, in the hour from t0: kA has k = 0, 5, ..., 2340 (469 records, t0 to t0 + 2.34 s),
  // kB the other 1,876 (k = 1 to 2344).
  const common::Micros hour = 3600000000LL;
  auto there = to_->matches()->Tally(hour, {{kA, t0}, {kB, t0}});
  ASSERT_TRUE(there.ok()) << there.status();
  ASSERT_EQ(there->size(), 2u);
  EXPECT_EQ((*there)[0].count, 469u);
  EXPECT_EQ((*there)[0].first, t0);
  EXPECT_EQ((*there)[0].last, t0 + 2340000);
  EXPECT_EQ((*there)[1].count, 1876u);
  EXPECT_EQ((*there)[1].first, t0 + 1000);
  EXPECT_EQ((*there)[1].last, t0 + 2344000);
  // The recording times came along: the source's tallies to the microsecond.
  auto here = from_->matches()->Tally(hour, {{kA, t0}, {kB, t0}});
  ASSERT_TRUE(here.ok()) << here.status();
  ASSERT_EQ(here->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*there)[i].recorded_first, (*here)[i].recorded_first) << i;
    EXPECT_EQ((*there)[i].recorded_last, (*here)[i].recorded_last) << i;
  }
  EXPECT_LT((*here)[0].recorded_first, (*here)[1].recorded_last);  // five calls, five times
  absl::Status same = VerifyCopy(*from_, *to_);
  EXPECT_TRUE(same.ok()) << same;

  // A record made on the copy is recorded after every copied one.
  ASSERT_TRUE(to_->matches()->Record({{"s:new", kA, t0 + 5}}).ok());
  auto moved = to_->matches()->Tally(hour, {{kA, t0}});
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_GT((*moved)[0].recorded_last,
            std::max((*here)[0].recorded_last, (*here)[1].recorded_last));
  // The ledgers differ: in their counts, then, as many records on each side, in a record.
  absl::Status differs = VerifyCopy(*from_, *to_);
  EXPECT_EQ(differs.code(), absl::StatusCode::kDataLoss) << differs;
  EXPECT_NE(differs.message().find("match ledger"), std::string::npos) << differs;
  ASSERT_TRUE(from_->matches()->Record({{"s:other", kA, t0 + 5}}).ok());
  differs = VerifyCopy(*from_, *to_);
  EXPECT_EQ(differs.code(), absl::StatusCode::kDataLoss) << differs;
  EXPECT_NE(differs.message().find("match ledger"), std::string::npos) << differs;
}

TEST_P(StoreCopy, ACopyIntoAStoreWithMatchRecordsIsRefused) {
  ASSERT_TRUE(to_->matches()->Record({{"s:1", kA, 1}}).ok());
  auto report = CopyStore(*from_, *to_);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition) << report.status();
  EXPECT_NE(report.status().message().find("match records"), std::string::npos) << report.status();
}

}  // namespace
}  // namespace accord::store
