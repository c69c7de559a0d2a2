// InputStream's gzip bounds, ReadFile, and LineReader's bounded, linear line splitting.
#include "accord/common/io.h"
#include "common/gzip_util.h"
#include "common/test_util.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <zlib.h>

#include <fstream>
#include <random>
#include <string>

namespace accord::common {
namespace {

using ::accord::testing::Gzip;

absl::StatusOr<std::string> ReadAll(InputStream* in) {
  std::string out;
  char buf[1 << 16];
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(size_t n, in->Read(buf, sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
  }
}

TEST(InputStreamTest, OrdinaryGzipIsInflated) {
  std::mt19937 rng(7);
  std::string text;
  while (text.size() < (4u << 20)) text += "line " + std::to_string(rng()) + "\n";
  std::string gz = Gzip(text);
  auto in = InputStream::FromBuffer(gz, InputLimits{}, "feed.gz");
  auto got = ReadAll(in.get());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, text);
}

// 64 MiB of zeros compress about 1030:1, over the default 1000:1: refused once the first MiB
// came out, naming the input.
TEST(InputStreamTest, RatioBoundStopsABomb) {
  std::string gz = Gzip(std::string(64u << 20, '\0'));
  ASSERT_LT(gz.size(), 70000u);
  auto in = InputStream::FromBuffer(gz, InputLimits{}, "bomb.gz");
  std::string buf(1 << 20, '\0');
  uint64_t total = 0;
  absl::Status st;
  while (true) {
    auto n = in->Read(buf.data(), buf.size());
    if (!n.ok()) {
      st = n.status();
      break;
    }
    if (*n == 0) break;
    total += *n;
  }
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("bomb.gz: gzip data inflate more than 1000:1"),
            absl::string_view::npos)
      << st;
  // Stopped within a MiB or two of the floor, not at 64 MiB.
  EXPECT_LE(total, 3u << 20);
}

TEST(InputStreamTest, SizeBoundStopsLargeOutput) {
  std::string gz = Gzip(std::string(8u << 20, 'a'));
  InputLimits limits;
  limits.max_ratio = 0;  // off: only the size bound
  limits.max_decompressed_bytes = 2u << 20;
  auto in = InputStream::FromBuffer(gz, limits, "big.gz");
  auto got = ReadAll(in.get());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(got.status().message().find("big.gz: gzip data inflate to more than 2097152 bytes"),
            absl::string_view::npos)
      << got.status();
}

// Reads every line; returns them with "<too long @offset+len>" for skipped ones.
std::vector<std::string> Lines(LineReader* r) {
  std::vector<std::string> out;
  std::string_view line;
  uint64_t no = 0;
  bool too_long = false;
  while (true) {
    auto more = r->Next(&line, &no, &too_long);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    EXPECT_EQ(no, out.size() + 1);
    if (too_long) {
      out.push_back("<too long @" + std::to_string(r->line_offset()) + "+" +
                    std::to_string(r->line_bytes()) + ">");
    } else {
      out.emplace_back(line);
    }
  }
  return out;
}

// ReadFile reads a regular file into a string sized for it, with simdjson's padding to spare,
// and still reads whatever else the file turns out to hold: gzipped content larger than the
// file, an empty file, a file over the limit.
TEST(ReadFileTest, ContentWholeWithSlackForEveryShape) {
  accord::testing::TempDir dir("readfile");
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::string path = (dir.path() / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  };
  std::mt19937 rng(7);
  std::string text;
  for (int i = 0; i < 300000; ++i) text.push_back(static_cast<char>('a' + rng() % 26));
  for (size_t size : {size_t{1}, size_t{4095}, size_t{4096}, size_t{70000}, text.size()}) {
    std::string want = text.substr(0, size);
    auto got = ReadFile(write("plain", want));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want) << size;
    EXPECT_GE(got->capacity(), got->size() + kReadFileSlack) << size;
  }
  // 300,000 bytes of a 26-letter alphabet gzip to about 180 KB: the content outgrows the
  // reserved size, and a run of one letter (2 MB into a few KB) outgrows it by far.
  for (const std::string& want : {text, std::string(2u << 20, 'q') + text}) {
    std::string gz = Gzip(want);
    ASSERT_LT(gz.size(), want.size());
    auto got = ReadFile(write("data.gz", gz));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->size(), want.size());
    EXPECT_TRUE(*got == want);
  }
  auto empty = ReadFile(write("empty", ""));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
  auto over = ReadFile(write("over", text), 100000);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("larger than the limit of 100000 bytes"),
            std::string::npos)
      << over.status();
}

// The huge-page advice covers only the whole 2 MiB pages inside the range it is given: the
// kernel's own record of the mapping (/proc/self/smaps, VmFlags "hg") shows which.
TEST(AdviseHugePagesTest, OnlyWholeHugePagesInsideTheRange) {
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  }
  constexpr size_t kMiB = size_t{1} << 20;
  // 8 MiB, then the 2 MiB-aligned 6 MiB inside it: [base, base + 6 MiB).
  void* raw = ::mmap(nullptr, 8 * kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED);
  const uintptr_t base = (reinterpret_cast<uintptr_t>(raw) + 2 * kMiB - 1) & ~(2 * kMiB - 1);
  AdviseHugePages(reinterpret_cast<char*>(base) + kMiB, 4 * kMiB);  // [1, 5) MiB: only [2, 4)
  AdviseHugePages(reinterpret_cast<char*>(base) + 5 * kMiB, kMiB);  // less than a huge page
  // The advised mappings, as (start, end) offsets from base in MiB.
  std::vector<std::pair<intptr_t, intptr_t>> advised;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  const auto mib_from_base = [&](uintptr_t a) {
    return (static_cast<intptr_t>(a) - static_cast<intptr_t>(base)) / static_cast<intptr_t>(kMiB);
  };
  uintptr_t lo = 0, hi = 0;
  while (std::getline(smaps, line)) {
    unsigned long a = 0, b = 0;  // a mapping's header line: "start-end perms ..."
    if (std::sscanf(line.c_str(), "%lx-%lx", &a, &b) == 2) {
      lo = a;
      hi = b;
    } else if (line.rfind("VmFlags:", 0) == 0 && line.find(" hg") != std::string::npos &&
               lo >= reinterpret_cast<uintptr_t>(raw) &&
               hi <= reinterpret_cast<uintptr_t>(raw) + 8 * kMiB) {
      advised.emplace_back(mib_from_base(lo), mib_from_base(hi));
    }
  }
  ::munmap(raw, 8 * kMiB);
  EXPECT_EQ(advised, (std::vector<std::pair<intptr_t, intptr_t>>{{2, 4}}));
}

TEST(LineReaderTest, LongLineIsSkippedWithItsPositionAndReadingGoesOn) {
  // "a\n" (2 bytes), then a 5,000,000-byte line at offset 2, then "b\r\n" at 5,000,003.
  std::string text = "a\n" + std::string(5000000, 'x') + "\nb\r\nc";
  LineReader r(InputStream::FromBuffer(text), 1000);
  EXPECT_EQ(Lines(&r), (std::vector<std::string>{"a", "<too long @2+5000000>", "b", "c"}));
  EXPECT_EQ(r.bytes_scanned(), text.size());
}

TEST(LineReaderTest, LongLastLineWithoutNewline) {
  std::string text = "first\n" + std::string(3000, 'y');
  LineReader r(InputStream::FromBuffer(text), 1000);
  EXPECT_EQ(Lines(&r), (std::vector<std::string>{"first", "<too long @6+3000>"}));
}

// Linear: a 48 MiB line under a 64 MiB limit is kept, and each byte is scanned for '\n' once
// (the former reader searched the partial line again after every 1 MiB read: ~1.2 GB here).
TEST(LineReaderTest, EachByteIsScannedOnce) {
  std::string text = std::string(48u << 20, 'z') + "\nend\n";
  LineReader r(InputStream::FromBuffer(text));
  auto lines = Lines(&r);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 48u << 20);
  EXPECT_EQ(lines[1], "end");
  EXPECT_EQ(r.bytes_scanned(), text.size());
}

}  // namespace
}  // namespace accord::common
