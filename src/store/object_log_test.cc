// ObjectLog::TrimTail: bytes past the committed end go, committed bytes never do.
#include "store/object_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace accord::store::detail {
namespace {

class ObjectLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-objlog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "objects.log").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(ObjectLogTest, ALargeObjectBetweenSmallOnesReadsBackWhole) {
  auto log = ObjectLog::Open(path_, true);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->Begin(0).ok());
  const std::string small1 = R"({"a":1})";
  std::string large = R"({"refs":")";
  large += std::string(3 << 20, 'x');  // 3 MiB: larger than the log's 1 MiB write buffer
  large += R"("})";
  const std::string small2 = R"({"b":2})";
  auto o1 = (*log)->Append(small1);
  auto o2 = (*log)->Append(large);
  auto o3 = (*log)->Append(small2);
  ASSERT_TRUE(o1.ok() && o2.ok() && o3.ok());
  // The offsets the file will hold, one newline after each object.
  EXPECT_EQ(*o1, 0);
  EXPECT_EQ(*o2, static_cast<int64_t>(small1.size() + 1));
  EXPECT_EQ(*o3, static_cast<int64_t>(small1.size() + 1 + large.size() + 1));
  // Read before the sync, through the writer's view.
  const std::vector<std::pair<int64_t, std::string>> want = {
      {*o1, small1}, {*o2, large}, {*o3, small2}};
  for (const auto& [off, json] : want) {
    std::string got;
    ASSERT_TRUE((*log)->ReadAppended({off, static_cast<int64_t>(json.size()), &got}).ok());
    EXPECT_EQ(got, json) << "at " << off;
  }
  auto end = (*log)->Sync();
  ASSERT_TRUE(end.ok());
  // The file is the three objects, each followed by a newline, in order.
  std::ifstream in(path_, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(file, small1 + "\n" + large + "\n" + small2 + "\n");
  EXPECT_EQ(*end, static_cast<int64_t>(file.size()));
}

TEST_F(ObjectLogTest, TrimTailCutsOnlyPastTheCommittedEnd) {
  auto log = ObjectLog::Open(path_, true);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->Begin(0).ok());
  ASSERT_TRUE((*log)->Append(R"({"a":1})").ok());
  ASSERT_TRUE((*log)->Append(R"({"b":2})").ok());
  auto end = (*log)->Sync();
  ASSERT_TRUE(end.ok());
  ASSERT_EQ(*end, 16);  // two 7-byte objects, a newline each
  // A failed write's leftovers.
  std::ofstream(path_, std::ios::app | std::ios::binary) << R"({"c":3, "trunc)";
  ASSERT_EQ(std::filesystem::file_size(path_), 30u);  // 16 + 14
  auto cut = (*log)->TrimTail(16);
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(*cut, 14);
  EXPECT_EQ(std::filesystem::file_size(path_), 16u);
  // Nothing past the end: nothing to cut.
  EXPECT_EQ(*(*log)->TrimTail(16), 0);
  // A committed end past the file (damage outside the store) is never "fixed" by cutting.
  EXPECT_EQ(*(*log)->TrimTail(100), 0);
  EXPECT_EQ(std::filesystem::file_size(path_), 16u);
  std::string a;
  ASSERT_TRUE((*log)->Read({{0, 7, &a}}).ok());
  EXPECT_EQ(a, R"({"a":1})");
}

}  // namespace
}  // namespace accord::store::detail
