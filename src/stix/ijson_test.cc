#include "accord/stix/ijson.h"

#include <gtest/gtest.h>

#include <string>

namespace accord::stix {
namespace {

// Parses `json` and returns FindDuplicateKey's answer ("" for none).
std::string Dup(const std::string& json) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  EXPECT_EQ(parser.parse(json).get(e), simdjson::SUCCESS) << json;
  return FindDuplicateKey(e).value_or("");
}

TEST(IJsonTest, NoDuplicates) {
  EXPECT_EQ(Dup(R"({"type":"indicator","id":"x","pattern":"[a:b = 'c']"})"), "");
  EXPECT_EQ(Dup(R"([{"a":1},{"a":2},{"b":{"a":3}}])"), "");
  EXPECT_EQ(Dup(R"("just a string")"), "");
  EXPECT_EQ(Dup(R"({})"), "");
  // The same name at different levels is no duplicate.
  EXPECT_EQ(Dup(R"({"a":{"a":{"a":1}}})"), "");
}

TEST(IJsonTest, TopLevelDuplicate) {
  EXPECT_EQ(Dup(R"({"id":"indicator--1","type":"indicator","id":"indicator--2"})"), "id");
}

TEST(IJsonTest, NestedDuplicateHasItsPath) {
  EXPECT_EQ(Dup(R"({"type":"bundle","objects":[{"id":"a"},{"id":"b"},{"x":1},)"
                R"({"pattern":"p","id":"d","pattern":"q"}]})"),
            "objects[3].pattern");
  EXPECT_EQ(Dup(R"({"external_references":[{"url":"a","url":"b"}]})"),
            "external_references[0].url");
  EXPECT_EQ(Dup(R"([[{"k":1}],[{"k":1,"k":2}]])"), "[1][0].k");
}

TEST(IJsonTest, EscapedNamesAreComparedUnescaped) {
  // "\u0069d" is "id": the same member name (RFC 7493 §2.3 compares the unescaped names).
  EXPECT_EQ(Dup(R"({"id":"a","\u0069d":"b"})"), "id");
}

TEST(IJsonTest, NamesThatAreNotIdentifiersAreQuoted) {
  EXPECT_EQ(Dup(R"({"a":{"x y":1,"x y":2}})"), R"(a["x y"])");
}

TEST(IJsonTest, ManyMembersUseTheSortedPath) {
  // Over the linear-scan threshold: 40 distinct names, then one repeated.
  std::string json = "{";
  for (int i = 0; i < 40; ++i) json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_EQ(Dup(json + "\"last\":0}"), "");
  EXPECT_EQ(Dup(json + "\"k17\":0}"), "k17");
}

TEST(IJsonTest, OwnKeysOnlyIgnoresNestedValues) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  ASSERT_EQ(parser.parse(std::string(R"({"objects":[{"a":1,"a":2}],"more":false})")).get(e),
            simdjson::SUCCESS);
  EXPECT_FALSE(FindDuplicateOwnKey(e.get_object().value_unsafe()).has_value());
  ASSERT_EQ(parser.parse(std::string(R"({"objects":[],"more":false,"objects":[]})")).get(e),
            simdjson::SUCCESS);
  EXPECT_EQ(FindDuplicateOwnKey(e.get_object().value_unsafe()).value_or(""), "objects");
}

TEST(IJsonTest, MessageNamesKeyPathAndRule) {
  EXPECT_EQ(DuplicateKeyMessage("objects[3].pattern"),
            "duplicate key 'pattern' at objects[3].pattern (RFC 7493 I-JSON: member names must be "
            "unique)");
  EXPECT_EQ(DuplicateKeyMessage("id"),
            "duplicate key 'id' at id (RFC 7493 I-JSON: member names must be unique)");
}

}  // namespace
}  // namespace accord::stix
