// Issue 11, bundles in bounded memory: before, a bundle was parsed whole (simdjson DOM, several
// times its size in memory, up to --max-document-bytes = 1 GiB), so a 300 MB bundle took well
// over 1 GB of RSS. Now its objects are streamed one at a time: the import's peak RSS, measured
// on the child process (wait4), grows far less than the file size over the same binary's
// import of one small object. A bundle cut in the middle of an
// object keeps the objects before the cut, names the byte offset and the object index, and the
// import exits non-zero.
#include <gtest/gtest.h>

#include <algorithm>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/test_util.h"
#include "hostile/input_child.h"

namespace accord::testing {
namespace {

constexpr uint64_t kBundleBytes = 300ull << 20;  // 300 MB
// The import's growth over the same binary importing one small object (its own RSS, which
// under ASan is ~160 MB and grows with the binary, is not what this measures); a reader that
// held the file whole would grow by more than the file's 300 MB.
constexpr uint64_t kMaxGrowthMb = 100;

std::string IndicatorId(int i) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--7d3e5a1c-4b2f-4e8d-9a6b-%012d", i);
  return id;
}

// An indicator with a description of `pad` bytes (escaped quotes and brackets in it, which
// the framing must skip as string content).
std::string Indicator(int i, size_t pad) {
  std::string desc;
  desc.reserve(pad);
  while (desc.size() < pad) desc += "text with \\\"quotes\\\", [brackets] and {braces} ";
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + IndicatorId(i) +
         R"(","created":"2025-03-01T00:00:00.000Z","modified":"2025-03-01T00:00:00.000Z",)" +
         R"("description":")" + desc + R"(","pattern":"[domain-name:value = 'big)" +
         std::to_string(i) + R"(.example']","pattern_type":"stix",)" +
         R"("valid_from":"2025-03-01T00:00:00Z"})";
}

constexpr const char* kHead =
    "{\"type\": \"bundle\", \"id\": \"bundle--2f6e1d7a-8c1b-4f0e-9d3a-5b7c9e1f2a4d\",\n"
    " \"objects\": [\n";

TEST(BigBundle, ThreeHundredMegabytesImportInBoundedMemory) {
  TempDir dir("big-bundle");
  auto file = dir.path() / "big.json";
  // Written piece by piece from one description string: the test process must stay small,
  // since the child's ru_maxrss also counts the pages it shares with this process until exec
  // (and ASan would keep every freed per-object string in its quarantine).
  int n = 0;
  {
    const std::string pad = Indicator(0, 8192);
    const std::string desc = pad.substr(pad.find("\"description\":"));
    std::ofstream f(file, std::ios::binary);
    f << kHead;
    uint64_t written = 0;
    char head[256];
    while (written < kBundleBytes) {
      int k = std::snprintf(
          head, sizeof head,
          "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":"
          "\"2025-03-01T00:00:00.000Z\",\"modified\":\"2025-03-01T00:00:00.000Z\",",
          n > 0 ? ",\n" : "", IndicatorId(n).c_str());
      f.write(head, k);
      // `desc` runs from the description to the end of indicator 0: patch its pattern.
      const size_t cut = desc.find("big0.example");
      f.write(desc.data(), static_cast<std::streamsize>(cut));
      k = std::snprintf(head, sizeof head, "big%d.example", n);
      f.write(head, k);
      f.write(desc.data() + cut + 12, static_cast<std::streamsize>(desc.size() - cut - 12));
      written += desc.size() + 160;
      ++n;
    }
    f << "\n]}\n";
  }
  ASSERT_GE(std::filesystem::file_size(file), kBundleBytes);
  std::string data = (dir.path() / "data").string();
  // Under ASan, freed memory waits in a quarantine of 256 MB by default, which would count in
  // the child's RSS whatever the reader does; a small quarantine keeps the measure about the
  // reader (Release figures: docs/PERFORMANCE.md).
  const char* asan = std::getenv("ASAN_OPTIONS");
  std::string opts = asan ? std::string(asan) + ":" : std::string();
  ::setenv("ASAN_OPTIONS", (opts + "quarantine_size_mb=8").c_str(), 1);
  const auto tiny = dir.path() / "tiny.json";
  std::ofstream(tiny) << kHead << Indicator(0, 100) << "\n]}\n";
  ChildResult base =
      RunAccord({"--data", (dir.path() / "base").string(), "import", tiny.string()}, dir.path());
  ChildResult r = RunAccord({"--data", data, "import", file.string()}, dir.path());
  if (asan) {
    ::setenv("ASAN_OPTIONS", asan, 1);
  } else {
    ::unsetenv("ASAN_OPTIONS");
  }
  std::filesystem::remove(file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported " + std::to_string(n) + " object(s)"), std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(base.exit_code, 0) << base.err;
  EXPECT_LT(r.peak_rss_mb, base.peak_rss_mb + kMaxGrowthMb) << r.err;
  std::printf("300 MB bundle, %d objects: child peak RSS %llu MB (one small object: %llu MB)\n", n,
              static_cast<unsigned long long>(r.peak_rss_mb),
              static_cast<unsigned long long>(base.peak_rss_mb));
  ChildResult get = RunAccord({"--data", data, "get", IndicatorId(n - 1)}, dir.path());
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find("big" + std::to_string(n - 1) + ".example"), std::string::npos);
}

TEST(BigBundle, TruncatedBundleKeepsTheObjectsBeforeAndExitsNonZero) {
  TempDir dir("cut-bundle");
  auto file = dir.path() / "cut.json";
  std::string text = kHead;
  for (int i = 0; i < 5; ++i) text += Indicator(i, 100) + ",\n";
  text += Indicator(5, 100).substr(0, 150);  // object #6, cut short: the input ends in it
  {
    std::ofstream f(file, std::ios::binary);
    f << text;
  }
  std::string data = (dir.path() / "data").string();
  ChildResult r = RunAccord({"--data", data, "import", file.string()}, dir.path());
  EXPECT_NE(r.exit_code, 0) << r.err;
  // FILE:LINE (the line where the input ends, inside object #6), then the offset of its end.
  const auto line = 1 + std::count(text.begin(), text.end(), '\n');
  EXPECT_NE(r.err.find("cut.json:" + std::to_string(line) + ": malformed JSON at byte offset " +
                       std::to_string(text.size())),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("object #6"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  ChildResult list = RunAccord({"--data", data, "list"}, dir.path());
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(list.out.find(IndicatorId(i)), std::string::npos) << i << list.out << list.err;
  }
  EXPECT_EQ(list.out.find(IndicatorId(5)), std::string::npos) << list.out;
}

}  // namespace
}  // namespace accord::testing
