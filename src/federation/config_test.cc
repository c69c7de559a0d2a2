// [federation] in accord.toml: defaults, every key, and errors that name the line.
#include "accord/federation/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace accord::federation {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-fedconfig-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  absl::StatusOr<FederationConfig> Load(const std::string& toml) {
    std::ofstream(dir_ / "accord.toml") << toml;
    return LoadFederationConfig(dir_.string());
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsWithoutAFileOrTable) {
  auto c = LoadFederationConfig(dir_.string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->manual_key_trust);
  EXPECT_EQ(c->default_tlp, policy::Tlp::kAmber);  // the issue: default_tlp defaults to amber
  EXPECT_EQ(c->sync_interval_ms, 30000);
  c = Load("[server]\nport = 1\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->page_size, 1000);
}

TEST_F(ConfigTest, EveryKeyIsRead) {
  auto c = Load(
      "[federation]\nkey_trust = \"manual\"\ndefault_tlp = \"amber+strict\"\n"
      "sync_interval = 0.25\npage_size = 10\nmax_page_bytes = 2048\nmax_pages_per_round = 3\n"
      "request_timeout = 7\nretry_base_ms = 50\nretry_max_s = 9\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->manual_key_trust);
  EXPECT_EQ(c->default_tlp, policy::Tlp::kAmberStrict);
  EXPECT_EQ(c->sync_interval_ms, 250);
  EXPECT_EQ(c->page_size, 10);
  EXPECT_EQ(c->max_page_bytes, 2048);
  EXPECT_EQ(c->max_pages_per_round, 3);
  EXPECT_EQ(c->request_timeout_s, 7);
  EXPECT_EQ(c->retry_base_ms, 50);
  EXPECT_EQ(c->retry_max_s, 9);
  c = Load("[federation]\nsync_interval = 0\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sync_interval_ms, 0);
}

TEST_F(ConfigTest, ABadKeyOrValueNamesItsLine) {
  struct Bad {
    std::string toml, says;
  };
  const Bad bad[] = {
      {"[federation]\n\nsync_intervall = 3\n", ":3:1: [federation] unknown key 'sync_intervall'"},
      {"[federation]\ndefault_tlp = \"yellow\"\n", ":2:15: [federation] default_tlp must be"},
      {"[federation]\nsync_interval = 0.01\n", ":2:17: [federation] sync_interval must be"},
      {"[federation]\npage_size = 0\n", ":2:13: [federation] page_size must be an integer"},
      {"[federation]\nkey_trust = true\n", ":2:13: [federation] key_trust must be"},
  };
  for (const Bad& b : bad) {
    auto c = Load(b.toml);
    ASSERT_FALSE(c.ok()) << b.toml;
    EXPECT_NE(c.status().message().find(b.says), std::string::npos) << c.status();
  }
}

}  // namespace
}  // namespace accord::federation
