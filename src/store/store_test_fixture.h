// A test fixture with a fresh store in a directory of its own (removed afterwards), for the
// store's unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "accord/common/strings.h"
#include "accord/store/store.h"

namespace accord::store {

class StoreFixture : public ::testing::Test {
 protected:
  // `prefix` names the directory, with the test's name and the process id.
  explicit StoreFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        common::Cat(prefix_, "-", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
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

  std::string prefix_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace accord::store
