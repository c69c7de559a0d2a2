// Issue 10, hostile files: a gzip bomb. A few hundred KB of .json.gz that inflate to half a GB
// of "0,0,0,..." inside a bundle: before the fix `accord import` read it whole and handed it to
// the JSON parser (4.67 GB RSS on main), and `accord match` read it whole as STIX input.
// Now decompression stops at the configured ratio (1000:1 by default; deflate's own limit is
// about 1032:1, which this file reaches) and both commands exit non-zero naming the file, with
// a small peak RSS (measured on the child with wait4).
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>

#include "common/test_util.h"
#include "hostile/input_child.h"

namespace accord::testing {
namespace {

constexpr uint64_t kInflatedBytes = 512ull << 20;

// A gzip file of a bundle whose objects array is kInflatedBytes of "0,". Written with zlib's
// gz* API at level 9, so it compresses close to deflate's maximum ratio.
std::string WriteBomb(const std::filesystem::path& path) {
  gzFile f = gzopen(path.c_str(), "wb9");
  EXPECT_NE(f, nullptr);
  std::string head =
      R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[)";
  gzwrite(f, head.data(), static_cast<unsigned>(head.size()));
  std::string block;
  for (int i = 0; i < (1 << 19); ++i) block += "0,";  // 1 MiB
  for (uint64_t done = 0; done < kInflatedBytes; done += block.size()) {
    gzwrite(f, block.data(), static_cast<unsigned>(block.size()));
  }
  gzwrite(f, "0]}", 3);
  gzclose(f);
  return path.string();
}

// Peak RSS the child may take beyond an idle `accord` (its --help, measured in the same test:
// under ASan that is most of the figure, ~190 MB with this binary's instrumented globals, and
// it grows with the binary); reading the inflated bomb (512 MB) or parsing it costs far more.
constexpr uint64_t kMaxExtraRssMb = 128;

uint64_t MaxRssMb(const std::filesystem::path& tmp) {
  return RunAccord({"--help"}, tmp).peak_rss_mb + kMaxExtraRssMb;
}

TEST(GzipBomb, ImportStopsAtTheRatioAndNamesTheFile) {
  TempDir dir("gzip-bomb-import");
  std::string bomb = WriteBomb(dir.path() / "bomb.json.gz");
  ASSERT_LT(std::filesystem::file_size(bomb), 1u << 20) << "the bomb is not a bomb";
  ChildResult r = RunAccord({"--data", (dir.path() / "data").string(), "import", bomb}, dir.path());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bomb.json.gz"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("decompression bomb"), std::string::npos) << r.err;
  EXPECT_LT(r.peak_rss_mb, MaxRssMb(dir.path())) << r.err;
}

TEST(GzipBomb, MatchStopsAtTheRatioAndNamesTheFile) {
  TempDir dir("gzip-bomb-match");
  std::string bomb = WriteBomb(dir.path() / "bomb.json.gz");
  std::string data = (dir.path() / "data").string();
  // One active indicator, so that match has something to run.
  std::filesystem::path ind = dir.path() / "ind.json";
  {
    std::ofstream(ind)
        << R"({"type":"indicator","spec_version":"2.1",)"
        << R"("id":"indicator--0f4e1f7a-2b9a-4c55-9c1e-3f2d5a6b7c8d",)"
        << R"("created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",)"
        << R"("pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",)"
        << R"("valid_from":"2025-01-01T00:00:00Z"})"
        << "\n";
  }
  ChildResult imp = RunAccord({"--data", data, "import", ind.string()}, dir.path());
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  ChildResult r = RunAccord({"--data", data, "match", bomb}, dir.path());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bomb.json.gz"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("decompression bomb"), std::string::npos) << r.err;
  EXPECT_LT(r.peak_rss_mb, MaxRssMb(dir.path())) << r.err;
}

// The size bound alone, with the ratio check off: the file is refused once it inflates past
// --max-gzip-bytes, still naming the file.
TEST(GzipBomb, ImportStopsAtTheSizeBound) {
  TempDir dir("gzip-bomb-size");
  std::string bomb = WriteBomb(dir.path() / "bomb.json.gz");
  ChildResult r = RunAccord({"--data", (dir.path() / "data").string(), "import", bomb,
                             "--max-gzip-ratio", "0", "--max-gzip-bytes", "8388608"},
                            dir.path());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("bomb.json.gz: gzip data inflate to more than 8388608 bytes"),
            std::string::npos)
      << r.err;
  EXPECT_LT(r.peak_rss_mb, MaxRssMb(dir.path())) << r.err;
}

}  // namespace
}  // namespace accord::testing
