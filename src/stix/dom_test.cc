#include "accord/stix/dom.h"

#include <gtest/gtest.h>

#include <string>

namespace accord::stix {
namespace {

// A JSON array of `n` small objects, about 30 bytes each.
std::string Objects(size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ',';
    s += R"({"id":)" + std::to_string(i) + R"(,"v":"x"})";
  }
  return s + "]";
}

TEST(ReserveForLargeTest, ALargeDocumentsParserIsSizedBeforeItParses) {
  const std::string doc = Objects(200000);  // ~5 MB, over kLargeDocumentBytes
  ASSERT_GE(doc.size(), kLargeDocumentBytes);
  simdjson::dom::parser p;
  EXPECT_EQ(p.capacity(), 0u);
  ReserveForLarge(&p, doc.size());
  EXPECT_EQ(p.capacity(), doc.size());
  EXPECT_EQ(p.doc.capacity(), doc.size());
  // It parses as a parser that sized itself does: 200,000 elements, the last one's id.
  simdjson::dom::array a;
  ASSERT_EQ(p.parse(doc).get_array().get(a), simdjson::SUCCESS);
  EXPECT_EQ(a.size(), 200000u);
  int64_t last = 0;
  ASSERT_EQ(a.at(199999)["id"].get_int64().get(last), simdjson::SUCCESS);
  EXPECT_EQ(last, 199999);
}

TEST(ReserveForLargeTest, SmallDocumentsAndSizedParsersAreLeftAlone) {
  simdjson::dom::parser p;
  ReserveForLarge(&p, kLargeDocumentBytes - 1);
  EXPECT_EQ(p.capacity(), 0u);  // parse() sizes it, as before
  ASSERT_EQ(p.allocate(8 << 20), simdjson::SUCCESS);
  ReserveForLarge(&p, 5 << 20);
  EXPECT_EQ(p.capacity(), size_t{8} << 20);  // not shrunk
}

}  // namespace
}  // namespace accord::stix
