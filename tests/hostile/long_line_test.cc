// Issue 10, hostile files: a huge first line. Before the fix a 2 GB first line was read as one
// document (the sniff looked for the first newline in the whole file), and the valid JSON lines
// after it were lost; the line reader was quadratic (a 300 MB line cost 35 s to skip). Now the
// sniff reads a bounded head, an over-long line is skipped in linear time and reported with
// its line number and byte offset, and reading goes on with the next line.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "common/test_util.h"
#include "hostile/input_child.h"

namespace accord::testing {
namespace {

constexpr uint64_t kLongLine = 200ull << 20;  // 200 MB, over the 64 MiB default line limit

std::string Indicator(int i, const std::string& ip) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--0f4e1f7a-2b9a-4c55-9c1e-%012d", i);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",)" +
         R"("pattern":"[ipv4-addr:value = ')" + ip + R"(']","pattern_type":"stix",)" +
         R"("valid_from":"2025-01-01T00:00:00Z"})";
}

// Line 1: `prefix` and then `fill` up to kLongLine bytes; then `rest` (lines ending in '\n').
void WriteLongFirstLine(const std::filesystem::path& p, const std::string& prefix, char fill,
                        const std::string& rest) {
  std::ofstream f(p, std::ios::binary);
  f << prefix;
  std::string block(1 << 20, fill);
  uint64_t done = prefix.size();
  while (done < kLongLine) {
    uint64_t n = std::min<uint64_t>(block.size(), kLongLine - done);
    f.write(block.data(), static_cast<std::streamsize>(n));
    done += n;
  }
  f << "\n" << rest;
}

std::string ThreeIndicators() {
  return Indicator(1, "198.51.100.1") + "\n" + Indicator(2, "198.51.100.2") + "\n" +
         Indicator(3, "198.51.100.3") + "\n";
}

// Line 1 is 200 MB of garbage that cannot start a JSON document: the three indicators after it
// are imported, and line 1 is reported with its position; the import exits 1 (a line was
// refused), as for any refused object.
TEST(LongLine, GarbageFirstLineIsSkippedAndTheRestImported) {
  TempDir dir("long-line-garbage");
  auto file = dir.path() / "feed.jsonl";
  WriteLongFirstLine(file, "", 'x', ThreeIndicators());
  std::string data = (dir.path() / "data").string();
  ChildResult r = RunAccord({"--data", data, "import", file.string()}, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("feed.jsonl:1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line of " + std::to_string(kLongLine) + " bytes at byte offset 0"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("imported 3 object(s)"), std::string::npos) << r.out << r.err;
  ChildResult list = RunAccord({"--data", data, "list"}, dir.path());
  EXPECT_NE(list.out.find("indicator--0f4e1f7a-2b9a-4c55-9c1e-000000000003"), std::string::npos)
      << list.out << list.err;
}

// Line 1 starts like a JSON document ('{') and runs on for 200 MB: past --max-document-bytes
// it is skipped as an over-long line, and the lines after it are imported.
TEST(LongLine, DocumentLikeFirstLineOverTheDocumentLimitIsSkipped) {
  TempDir dir("long-line-doc");
  auto file = dir.path() / "feed.jsonl";
  WriteLongFirstLine(file, R"({"type":"indicator","name":")", 'A', ThreeIndicators());
  std::string data = (dir.path() / "data").string();
  ChildResult r = RunAccord(
      {"--data", data, "import", file.string(), "--max-document-bytes", "33554432"}, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("feed.jsonl:1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line of " + std::to_string(kLongLine) + " bytes at byte offset 0"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("imported 3 object(s)"), std::string::npos) << r.out << r.err;
}

// An over-long line in the middle: reported with its line number and byte offset, and the
// lines on both sides are imported.
TEST(LongLine, LongLineInTheMiddleIsReportedWithItsOffset) {
  TempDir dir("long-line-middle");
  auto file = dir.path() / "feed.jsonl";
  std::string first = Indicator(1, "198.51.100.1") + "\n" + Indicator(2, "198.51.100.2") + "\n";
  {
    std::ofstream f(file, std::ios::binary);
    f << first;
    std::string block(1 << 20, 'y');
    for (uint64_t done = 0; done < kLongLine; done += block.size()) f << block;
    f << "\n" << Indicator(3, "198.51.100.3") << "\n";
  }
  std::string data = (dir.path() / "data").string();
  ChildResult r = RunAccord({"--data", data, "import", file.string()}, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("feed.jsonl:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line of " + std::to_string(kLongLine) + " bytes at byte offset " +
                       std::to_string(first.size())),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("imported 3 object(s)"), std::string::npos) << r.out << r.err;
}

// `accord match` on Zeek JSON whose first line is 200 MB of garbage: the events after it are
// matched, and the line is reported with its position.
TEST(LongLine, MatchSkipsTheLongLineAndMatchesTheRest) {
  TempDir dir("long-line-match");
  std::string data = (dir.path() / "data").string();
  auto ind = dir.path() / "ind.jsonl";
  std::ofstream(ind) << Indicator(7, "203.0.113.9") << "\n";
  ASSERT_EQ(RunAccord({"--data", data, "import", ind.string()}, dir.path()).exit_code, 0);
  auto log = dir.path() / "conn.log";
  std::string events =
      R"({"ts":1700000000.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1234,"id.resp_h":"203.0.113.9","id.resp_p":443,"proto":"tcp"})"
      "\n"
      R"({"ts":1700000001.0,"uid":"C2","id.orig_h":"10.0.0.2","id.orig_p":1234,"id.resp_h":"192.0.2.1","id.resp_p":443,"proto":"tcp"})"
      "\n";
  WriteLongFirstLine(log, "", 'z', events);
  ChildResult r =
      RunAccord({"--data", data, "match", "--input-format", "zeek", log.string()}, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;  // match exits 1 when it skipped malformed lines
  EXPECT_NE(r.err.find("2 events read, 1 malformed, 1 matched"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("indicator--0f4e1f7a-2b9a-4c55-9c1e-000000000007"), std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.err.find("conn.log:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at byte offset 0"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace accord::testing
