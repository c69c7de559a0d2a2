// The precheck's scan (text_scan.h) against a byte-by-byte reading of the same texts, with
// each way of classifying bytes: the processor's best (AVX-512 where it has it) and the
// portable one.
#include "policy/text_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace accord::policy::detail {
namespace {

struct Expected {
  bool backslash = false;
  std::vector<uint32_t> quotes, dots, dashes, schemes;
};

// What the scan should find, by definition, a byte at a time.
Expected Reference(const std::string& s) {
  Expected e;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto at = static_cast<uint32_t>(i);
    if (s[i] == '\\') e.backslash = true;
    if (s[i] == '"') e.quotes.push_back(at);
    if (s[i] == '.') e.dots.push_back(at);
    if (s.compare(i, 2, "--") == 0) e.dashes.push_back(at);
    if (s.compare(i, 3, "://") == 0) e.schemes.push_back(at);
  }
  return e;
}

std::vector<uint32_t> Of(const Positions& p) { return {p.begin(), p.end()}; }

// Both kernels find, in `s`, what Reference() does (raw: unless `s` holds a backslash, which
// the scan reports instead).
void ExpectTheReference(const std::string& s) {
  const Expected e = Reference(s);
  for (auto kernel : {TextScan::Kernel::kBest, TextScan::Kernel::kPortable}) {
    for (bool raw : {true, false}) {
      SCOPED_TRACE(testing::Message()
                   << "text '" << s << "', kernel " << static_cast<int>(kernel) << ", raw " << raw);
      TextScan scan;
      scan.Run(s, raw, kernel);
      if (raw && e.backslash) {
        EXPECT_TRUE(scan.backslash);
        continue;
      }
      EXPECT_FALSE(scan.backslash);
      EXPECT_EQ(Of(scan.quotes), e.quotes);
      EXPECT_EQ(Of(scan.dots), e.dots);
      EXPECT_EQ(Of(scan.dashes), e.dashes);
      EXPECT_EQ(Of(scan.schemes), e.schemes);
    }
  }
}

TEST(TextScanTest, PairsAndSchemesAcrossTheEdgesOfA64ByteBlock) {
  ExpectTheReference("");
  ExpectTheReference("-");
  ExpectTheReference("---");
  ExpectTheReference(":/");
  ExpectTheReference("://");
  // A "--" or "://" whose first byte is each of the last bytes of the first block, in texts
  // that end there or go on (the scan pads the last block or two).
  for (size_t at = 58; at < 68; ++at) {
    for (size_t tail : {0, 1, 2, 3, 40, 100}) {
      for (const char* what : {"--", "://", "\".\""}) {
        std::string s(at, 'a');
        s += what;
        s += std::string(tail, 'b');
        ExpectTheReference(s);
      }
    }
  }
}

TEST(TextScanTest, AgreesWithTheReferenceOnRandomTexts) {
  std::mt19937 random(20261207);  // fixed: a failure can be replayed
  const std::string alphabet = "\"\\.-:/a0 ";
  for (int n = 0; n < 20000; ++n) {
    std::string s(random() % 300, ' ');
    for (char& c : s) c = alphabet[random() % alphabet.size()];
    ExpectTheReference(s);
    if (testing::Test::HasFailure()) return;  // one case is enough to read
  }
}

TEST(TextScanTest, AgreesWithTheReferenceOnAnObject) {
  ExpectTheReference(
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",)"
      R"("created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",)"
      R"("pattern":"[url:value = 'http://198.51.100.7/a?b=c--d']","pattern_type":"stix",)"
      R"("valid_from":"2016-01-01T00:00:00Z"})");
}

}  // namespace
}  // namespace accord::policy::detail
