// Issue 10, disk full: the uncommitted object-log tail. A write that fails (a full disk) or is
// killed leaves bytes in objects.log past the committed end that the store records. Before the
// fix nothing cut them until the next import began, so on a full disk they kept the space, and
// `serve` (which writes at start) could not start. Now every command that opens the store for
// writing cuts them (under the write lock), and the data stays intact.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/test_util.h"
#include "hostile/input_child.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

std::string Indicator(int i) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--7c1d1f7a-2b9a-4c55-9c1e-%012d", i);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",)" +
         R"("pattern":"[ipv4-addr:value = '198.51.100.)" + std::to_string(i) +
         R"(']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"})";
}

// Appends what a failed write leaves behind: part of an object, no newline.
void AppendTail(const std::filesystem::path& log, size_t bytes) {
  std::ofstream f(log, std::ios::binary | std::ios::app);
  std::string junk = R"({"type":"indicator","spec_version":"2.1","id":"indicator--dead)";
  while (junk.size() < bytes) junk += 'x';
  f << junk.substr(0, bytes);
}

class LogTail : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    auto in = dir_.path() / "two.jsonl";
    std::ofstream(in) << Indicator(1) << "\n" << Indicator(2) << "\n";
    ChildResult r = RunAccord({"--data", data_.string(), "import", in.string()}, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    log_ = data_ / "objects.log";
    committed_ = std::filesystem::file_size(log_);
    // Both objects' JSON and a newline each: the committed end, computed from the input.
    ASSERT_EQ(committed_, Indicator(1).size() + 1 + Indicator(2).size() + 1);
    AppendTail(log_, 1 << 20);
    ASSERT_EQ(std::filesystem::file_size(log_), committed_ + (1 << 20));
  }

  TempDir dir_{"log-tail"};
  std::filesystem::path data_, log_;
  uintmax_t committed_ = 0;
};

TEST_F(LogTail, ListCutsTheTailAndReadsIntactData) {
  ChildResult r = RunAccord({"--data", data_.string(), "list"}, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("indicator--7c1d1f7a-2b9a-4c55-9c1e-000000000002"), std::string::npos);
  EXPECT_EQ(std::filesystem::file_size(log_), committed_) << "the uncommitted tail is still there";
  ChildResult get = RunAccord(
      {"--data", data_.string(), "get", "indicator--7c1d1f7a-2b9a-4c55-9c1e-000000000001"},
      dir_.path());
  EXPECT_EQ(get.out, Indicator(1) + "\n") << get.err;
}

TEST_F(LogTail, ServeStartsAndCutsTheTail) {
  ServerProcess server;
  ASSERT_TRUE(server.Start(data_.string()));
  EXPECT_EQ(std::filesystem::file_size(log_), committed_) << "the uncommitted tail is still there";
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(LogTail, ImportAfterTheTailKeepsEverything) {
  auto in = dir_.path() / "third.jsonl";
  std::ofstream(in) << Indicator(3) << "\n";
  ChildResult r = RunAccord({"--data", data_.string(), "import", in.string()}, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::filesystem::file_size(log_), committed_ + Indicator(3).size() + 1);
  for (int i = 1; i <= 3; ++i) {
    std::string id = "indicator--7c1d1f7a-2b9a-4c55-9c1e-00000000000" + std::to_string(i);
    ChildResult get = RunAccord({"--data", data_.string(), "get", id}, dir_.path());
    EXPECT_EQ(get.out, Indicator(i) + "\n") << get.err;
  }
}

}  // namespace
}  // namespace accord::testing
