// Sightings leave through the caller's egress decision (SightingEgress): withheld ones are not
// written, replaced ones are written as the replacement, and without a decision nothing is.
#include "accord/match/sightings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "accord/store/store.h"

namespace accord::match {
namespace {

constexpr common::Micros kHour = 3600ll * 1000000;
constexpr const char* kIdentity = "identity--d0d0d0d0-0000-4000-8000-000000000001";
constexpr const char* kInd1 = "indicator--e0e0e0e0-0000-4000-8000-000000000001";
constexpr const char* kInd2 = "indicator--e0e0e0e0-0000-4000-8000-000000000002";

class SightingsEgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-sightings-egress-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    store::Options o;
    o.dir = dir_.string();
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    agg_.Add(kInd1, 10 * kHour + 5);
    agg_.Add(kInd2, 10 * kHour + 7);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  uint64_t Stored(const std::string& collection) {
    auto st = store_->GetStats();
    EXPECT_TRUE(st.ok());
    for (const auto& [c, n] : st->per_collection) {
      if (c == collection) return n;
    }
    return 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  SightingAggregator agg_;
};

TEST_F(SightingsEgressTest, WithheldSightingsAreNotWritten) {
  uint64_t withheld = 0;
  // Withholds the sighting of the first indicator only.
  auto n = agg_.WriteTo(
      *store_, "s", kIdentity, 11 * kHour,
      [](const std::string& json) -> std::optional<std::string> {
        if (json.find(kInd1) != std::string::npos) return std::nullopt;
        return json;
      },
      &withheld);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(withheld, 1u);
  EXPECT_EQ(Stored("s"), 1u);
}

TEST_F(SightingsEgressTest, ANullDecisionWritesNothing) {
  uint64_t withheld = 0;
  auto n = agg_.WriteTo(*store_, "s", kIdentity, 11 * kHour, nullptr, &withheld);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(withheld, 2u);
  EXPECT_EQ(Stored("s"), 0u);
}

TEST_F(SightingsEgressTest, AReplacementIsWrittenInsteadOfTheSighting) {
  // The replacement drops first_seen/last_seen (a coarser sighting): still valid STIX.
  auto n = agg_.WriteTo(
      *store_, "s", kIdentity, 11 * kHour,
      [](const std::string& json) -> std::optional<std::string> {
        if (json.find(kInd2) == std::string::npos) return std::nullopt;
        std::string id = json.substr(json.find("sighting--"), 46);
        return std::string(R"({"type":"sighting","spec_version":"2.1","id":")") + id +
               R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":")" +
               kInd2 + R"(","count":1})";
      });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1u);
  store::Query q;
  q.collection = "s";
  auto page = store_->List(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].json.find("first_seen"), std::string::npos) << page->objects[0].json;
  EXPECT_NE(page->objects[0].json.find(kInd2), std::string::npos);
}

}  // namespace
}  // namespace accord::match
