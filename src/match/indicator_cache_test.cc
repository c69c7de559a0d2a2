// The start-up cache file: a hit only for the same generation, scope and time window, and a
// miss (never a wrong answer) for a changed, truncated or corrupted file.
#include "accord/match/indicator_cache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace accord::match {
namespace {

class IndicatorCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-indicator-cache-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "c.bin").string();
    active_.indicators.push_back({"indicator--1", "[ipv4-addr:value = '10.0.0.1']", "1000"});
    active_.indicators.push_back({"indicator--2", "[domain-name:value = 'a.example']", "2000"});
    active_.inactive = 3;
    active_.not_stix = 4;
    active_.withheld = 5;
    active_.next_change = 5000;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
  ActiveIndicators active_;
  IndicatorCacheKey key_{7, "collections=a\nb"};
};

TEST_F(IndicatorCacheTest, RoundTripWithinItsKeyAndWindow) {
  ASSERT_TRUE(WriteIndicatorCache(path_, key_, 1000, active_).ok());
  auto got = ReadIndicatorCache(path_, key_, 4999);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->indicators.size(), 2u);
  EXPECT_EQ(got->indicators[1].id, "indicator--2");
  EXPECT_EQ(got->indicators[1].pattern, "[domain-name:value = 'a.example']");
  EXPECT_EQ(got->indicators[1].version, "2000");
  EXPECT_EQ(got->inactive, 3u);
  EXPECT_EQ(got->not_stix, 4u);
  EXPECT_EQ(got->withheld, 5u);
  EXPECT_EQ(got->next_change, 5000);
}

TEST_F(IndicatorCacheTest, OtherGenerationScopeOrTimeIsAMiss) {
  ASSERT_TRUE(WriteIndicatorCache(path_, key_, 1000, active_).ok());
  EXPECT_FALSE(ReadIndicatorCache(path_, {8, key_.scope}, 2000).has_value());
  EXPECT_FALSE(ReadIndicatorCache(path_, {7, "collections=a"}, 2000).has_value());
  EXPECT_FALSE(ReadIndicatorCache(path_, key_, 5000).has_value());  // an indicator ended
  EXPECT_FALSE(ReadIndicatorCache(path_, key_, 999).has_value());   // the clock went back
  EXPECT_FALSE(ReadIndicatorCache((dir_ / "absent").string(), key_, 2000).has_value());
}

TEST_F(IndicatorCacheTest, TruncatedOrCorruptFileIsAMiss) {
  ASSERT_TRUE(WriteIndicatorCache(path_, key_, 1000, active_).ok());
  const auto size = std::filesystem::file_size(path_);
  for (uintmax_t cut : {size - 1, size / 2, uintmax_t{10}, uintmax_t{0}}) {
    ASSERT_TRUE(WriteIndicatorCache(path_, key_, 1000, active_).ok());
    std::filesystem::resize_file(path_, cut);
    EXPECT_FALSE(ReadIndicatorCache(path_, key_, 2000).has_value()) << cut;
  }
  for (uintmax_t at : {uintmax_t{9}, size / 2, size - 1}) {
    ASSERT_TRUE(WriteIndicatorCache(path_, key_, 1000, active_).ok());
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
    f.close();
    EXPECT_FALSE(ReadIndicatorCache(path_, key_, 2000).has_value()) << at;
  }
}

}  // namespace
}  // namespace accord::match
