// `accord import` on bad input: clear errors with file, line:column or object index, id and
// rule; default mode keeps the valid objects, --strict keeps nothing (issue #2).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/test_util.h"

namespace accord::testing {
namespace {

class ImportCliTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& content) {
    auto p = tmp_.path() / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  RunResult Accord(const std::string& args) {
    return RunCmd(testing::Accord() + " " + args + " --data " + ShellQuote(data_.string()),
                  tmp_.path());
  }
  uint64_t Versions() {
    auto r = Accord("stats --json");
    return nlohmann::json::parse(r.out)["versions"].get<uint64_t>();
  }
  TempDir tmp_{"cli"};
  std::filesystem::path data_ = tmp_.path() / "node";
};

const char* kGood =
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",)"
    R"("created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z",)"
    R"("pattern":"[file:hashes.MD5 = '3773a88f65a5e780c8dff9cdc3a056f3']","pattern_type":"stix",)"
    R"("valid_from":"2014-02-20T09:00:00Z"})";

TEST_F(ImportCliTest, MalformedJsonNamesFileLineAndColumn) {
  // Line 3 is truncated after the colon: the error is on line 3 (or where the text ends).
  auto f = Write("broken.json", "{\n  \"type\": \"bundle\",\n  \"id\":\n");
  auto r = Accord("import " + ShellQuote(f.string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(f.string() + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("malformed JSON"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find(":3:") != std::string::npos || r.err.find(":4:") != std::string::npos)
      << r.err;
  EXPECT_EQ(Versions(), 0u);
}

TEST_F(ImportCliTest, JsonLinesErrorsNameTheLine) {
  // Line 2 is not JSON; lines 1 and 3 are fine.
  std::string good2 = kGood;
  good2.replace(good2.find("a932fcc6"), 8, "b932fcc6");
  auto f = Write("feed.jsonl", std::string(kGood) + "\n{\"type\": oops}\n" + good2 + "\n");
  auto r = Accord("import " + ShellQuote(f.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(f.string() + ":2:"), std::string::npos) << r.err;
  EXPECT_EQ(Versions(), 2u);
}

TEST_F(ImportCliTest, DefaultModeKeepsValidObjectsAndListsRejected) {
  std::string bundle =
      std::string(
          R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[)") +
      kGood + "," +
      // #2: identifier of the wrong form
      R"({"type":"indicator","spec_version":"2.1","id":"indicator-1234","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","valid_from":"2014-02-20T09:00:00Z"},)"
      // #3: bad timestamp
      R"({"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc","created":"2014-02-30T09:16:08.989Z","modified":"2014-02-30T09:16:08.989Z","name":"x","is_family":true},)"
      // #4: missing required property (indicator without pattern)
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--c932fcc6-e032-476c-826f-cb970a5a1ade","created":"2014-02-20T09:16:08.989Z","modified":"2014-02-20T09:16:08.989Z","pattern_type":"stix","valid_from":"2014-02-20T09:00:00Z"},)"
      // #5: not an object
      R"("just a string",)"
      // #6: modified before created
      R"({"type":"malware","spec_version":"2.1","id":"malware--41b940d4-6f7f-459a-80ea-9c1f17b58abc","created":"2016-01-01T00:00:00.000Z","modified":"2015-01-01T00:00:00.000Z","name":"x","is_family":true}]})";
  auto f = Write("mixed.json", bundle);
  auto r = Accord("import " + ShellQuote(f.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Versions(), 1u);
  auto has = [&](const std::string& s) { return r.err.find(s) != std::string::npos; };
  EXPECT_TRUE(has("object #2: indicator-1234:")) << r.err;
  EXPECT_TRUE(has("object #3: malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc:")) << r.err;
  EXPECT_TRUE(has("object #4: indicator--c932fcc6-e032-476c-826f-cb970a5a1ade:")) << r.err;
  EXPECT_TRUE(has("'pattern'")) << r.err;
  EXPECT_TRUE(has("object #5: expected a STIX object, found a string")) << r.err;
  EXPECT_TRUE(has("object #6: malware--41b940d4-6f7f-459a-80ea-9c1f17b58abc:")) << r.err;
  EXPECT_TRUE(has("earlier than")) << r.err;
}

TEST_F(ImportCliTest, StrictModeStoresNothing) {
  std::string bundle =
      std::string(
          R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[)") +
      kGood + R"(,{"type":"indicator","id":"indicator-1"}]})";
  auto f = Write("strict.json", bundle);
  auto r = Accord("import --strict " + ShellQuote(f.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nothing was stored"), std::string::npos) << r.err;
  EXPECT_EQ(Versions(), 0u);
}

TEST_F(ImportCliTest, GzipInputImportsDirectlyAndExportRoundTrips) {
  auto f = Write("one.json", kGood);
  ASSERT_EQ(std::system(("gzip -f " + ShellQuote(f.string())).c_str()), 0);
  auto r = Accord("import " + ShellQuote(f.string() + ".gz"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto e = Accord("export");
  ASSERT_EQ(e.exit_code, 0);
  auto bundle = nlohmann::json::parse(e.out);
  ASSERT_EQ(bundle["objects"].size(), 1u);
  EXPECT_EQ(bundle["objects"][0], nlohmann::json::parse(kGood));
  // Importing the same version again stores nothing new.
  r = Accord("import " + ShellQuote(f.string() + ".gz"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("0 new version(s), 1 already stored"), std::string::npos) << r.out;
}

TEST_F(ImportCliTest, GetVersionsAndListLimit) {
  std::string v2 = kGood;
  v2.replace(v2.find("\"modified\":\"2014-02-20T09:16:08.989Z\""),
             std::string("\"modified\":\"2014-02-20T09:16:08.989Z\"").size(),
             "\"modified\":\"2015-01-01T00:00:00.000Z\"");
  auto f = Write("v.jsonl", std::string(kGood) + "\n" + v2 + "\n");
  ASSERT_EQ(Accord("import " + ShellQuote(f.string())).exit_code, 0);
  auto last = Accord("get indicator--a932fcc6-e032-476c-826f-cb970a5a1ade");
  EXPECT_NE(last.out.find("2015-01-01T00:00:00.000Z"), std::string::npos);
  auto all = Accord("get --versions all indicator--a932fcc6-e032-476c-826f-cb970a5a1ade");
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 2);
  auto missing = Accord("get indicator--00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(missing.exit_code, 3);
  auto list = Accord("list --json --versions all --limit 1");
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1);
}

// A version is immutable: the same (id, modified) re-sent with other content is refused
// (issue 10), and the analyst is told; the same content re-sent (even reformatted) is simply a
// duplicate.
TEST_F(ImportCliTest, SameVersionWithOtherContentIsReported) {
  const std::string id = "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade";
  ASSERT_EQ(Accord("import " + ShellQuote(Write("a.json", kGood).string())).exit_code, 0);
  // Same object, members reordered and spaced out: not a conflict.
  auto j = nlohmann::json::parse(kGood);
  std::string reordered = "{\n  \"valid_from\": \"2014-02-20T09:00:00Z\",";
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "valid_from") reordered += " \"" + it.key() + "\": " + it.value().dump() + ",";
  }
  reordered.back() = '}';
  auto same = Accord("import " + ShellQuote(Write("b.json", reordered).string()));
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.err.find("different content"), std::string::npos) << same.err;
  // Same id and modified, other pattern: reported, and the first copy stays.
  std::string changed = kGood;
  changed.replace(changed.find("3773a88f65a5e780c8dff9cdc3a056f3"), 32,
                  "00000000000000000000000000000000");
  // Issue 10: refused (exit 1, a "rejected:" line naming the file and the id), quarantined.
  auto conflict = Accord("import " + ShellQuote(Write("c.json", changed).string()));
  EXPECT_EQ(conflict.exit_code, 1) << conflict.err;
  EXPECT_NE(conflict.err.find("rejected: " + Write("c.json", changed).string() + ": " + id +
                              ": version 2014-02-20T09:16:08.989000Z: this version (id, "
                              "modified) exists with different content"),
            std::string::npos)
      << conflict.err;
  EXPECT_NE(conflict.out.find("1 refused: exist with different content"), std::string::npos)
      << conflict.out;
  auto got = Accord("get --versions all " + id);
  EXPECT_EQ(std::count(got.out.begin(), got.out.end(), '\n'), 1);
  EXPECT_NE(got.out.find("3773a88f65a5e780c8dff9cdc3a056f3"), std::string::npos) << got.out;
}

TEST_F(ImportCliTest, IndicatorWithInvalidStixPatternIsRejected) {
  // "AND" followed by "]": column 58 is the ']' (counted by hand over the pattern below).
  std::string bad = kGood;
  std::string from = "[file:hashes.MD5 = '3773a88f65a5e780c8dff9cdc3a056f3']";
  std::string to = "[file:hashes.MD5 = '3773a88f65a5e780c8dff9cdc3a056f3' AND]";
  bad.replace(bad.find(from), from.size(), to);
  auto f = Write("badpattern.json", bad);
  auto r = Accord("import " + ShellQuote(f.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid STIX pattern: column 58:"), std::string::npos) << r.err;
  EXPECT_EQ(Versions(), 0u);
  // A pattern in another language is not checked as STIX.
  std::string sigma = kGood;
  const std::string stix_type = "\"pattern_type\":\"stix\"";
  sigma.replace(sigma.find(stix_type), stix_type.size(), "\"pattern_type\":\"yara\"");
  sigma.replace(sigma.find(from), from.size(), "rule x { condition: true }");
  auto g = Write("yara.json", sigma);
  r = Accord("import " + ShellQuote(g.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ImportCliTest, EmptyAndMissingFiles) {
  auto f = Write("empty.json", "  \n");
  auto r = Accord("import " + ShellQuote(f.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("empty input"), std::string::npos) << r.err;
  r = Accord("import /nonexistent/file.json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/file.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace accord::testing
