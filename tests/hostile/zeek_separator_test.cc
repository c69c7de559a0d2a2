// Issue 10, hostile files: invalid Zeek headers. Before the fix a Zeek log with
// `#separator \x00` was skipped whole, silently, with exit 0 (every row became one field, which
// matched nothing). Now a header that would make every row misread is an error naming the file
// and the line, and `accord match` exits non-zero: a NUL, CR or LF separator, a separator not
// written as one \xHH byte, a second #fields in a header block, #types whose count differs from
// #fields, and TSV data before any #fields.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/test_util.h"
#include "hostile/input_child.h"

namespace accord::testing {
namespace {

// A data directory with one indicator for 203.0.113.9, which the conn rows below contain: a
// log that is read at all matches it.
class ZeekHeaders : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    auto ind = dir_.path() / "ind.jsonl";
    std::ofstream(ind)
        << R"({"type":"indicator","spec_version":"2.1","id":"indicator--0f4e1f7a-2b9a-4c55-9c1e-000000000009",)"
        << R"("created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",)"
        << R"("pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix",)"
        << R"("valid_from":"2025-01-01T00:00:00Z"})"
        << "\n";
    ASSERT_EQ(RunAccord({"--data", data_, "import", ind.string()}, dir_.path()).exit_code, 0);
  }

  ChildResult Match(const std::string& log_text) {
    auto log = dir_.path() / "conn.log";
    std::ofstream(log, std::ios::binary) << log_text;
    return RunAccord({"--data", data_, "match", "--input-format", "zeek", log.string()},
                     dir_.path());
  }

  TempDir dir_{"zeek-headers"};
  std::string data_;
};

// Zeek's own header block for conn.log (abridged field list), with `sep` as the separator line.
std::string Header(const std::string& separator_line, char sep) {
  std::string s(1, sep);
  return separator_line + "\n#set_separator" + s + ",\n#empty_field" + s + "(empty)\n" +
         "#unset_field" + s + "-\n#path" + s + "conn\n" + "#fields" + s + "ts" + s + "uid" + s +
         "id.orig_h" + s + "id.orig_p" + s + "id.resp_h" + s + "id.resp_p" + s + "proto\n" +
         "#types" + s + "time" + s + "string" + s + "addr" + s + "port" + s + "addr" + s + "port" +
         s + "enum\n";
}

std::string Row(char sep) {
  std::string s(1, sep);
  return "1700000000.000000" + s + "C1" + s + "10.0.0.1" + s + "1234" + s + "203.0.113.9" + s +
         "443" + s + "tcp\n";
}

TEST_F(ZeekHeaders, ValidLogMatches) {
  ChildResult r = Match(Header("#separator \\x09", '\t') + Row('\t'));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("indicator--0f4e1f7a-2b9a-4c55-9c1e-000000000009"), std::string::npos)
      << r.out << r.err;
}

TEST_F(ZeekHeaders, NulSeparatorIsAnErrorNamingFileAndLine) {
  ChildResult r = Match(Header("#separator \\x00", '\0') + Row('\0'));
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conn.log:1: invalid Zeek header: #separator \\x00"), std::string::npos)
      << r.err;
}

TEST_F(ZeekHeaders, NewlineSeparatorIsAnError) {
  ChildResult r = Match(Header("#separator \\x0a", '\t') + Row('\t'));
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conn.log:1: invalid Zeek header"), std::string::npos) << r.err;
}

TEST_F(ZeekHeaders, SeparatorThatIsNotOneEscapedByteIsAnError) {
  ChildResult r = Match(Header("#separator tab", '\t') + Row('\t'));
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conn.log:1: invalid Zeek header: #separator must be one byte"),
            std::string::npos)
      << r.err;
}

TEST_F(ZeekHeaders, DuplicateFieldsIsAnErrorNamingTheLine) {
  // Line 8 is a second #fields in the same header block (the first is line 6).
  std::string log = Header("#separator \\x09", '\t') + "#fields\tts\tuid\n" + Row('\t');
  ChildResult r = Match(log);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conn.log:8: invalid Zeek header: duplicate #fields (the first is at "
                       "line 6)"),
            std::string::npos)
      << r.err;
}

TEST_F(ZeekHeaders, TypesCountMismatchIsAnError) {
  std::string log = "#separator \\x09\n#fields\tts\tuid\tid.resp_h\n#types\ttime\tstring\n" +
                    std::string("1700000000.0\tC1\t203.0.113.9\n");
  ChildResult r = Match(log);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conn.log:3: invalid Zeek header: #types names 2 types but #fields 3"),
            std::string::npos)
      << r.err;
}

TEST_F(ZeekHeaders, DataBeforeFieldsIsAnError) {
  ChildResult r = Match("#separator \\x09\n" + Row('\t'));
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conn.log:2: Zeek TSV data before any #fields header"), std::string::npos)
      << r.err;
}

// Rotated logs concatenated: a new header block (starting with #separator) may redefine the
// fields; that is not a duplicate.
TEST_F(ZeekHeaders, ConcatenatedLogsAreValid) {
  std::string one = Header("#separator \\x09", '\t') + Row('\t') + "#close\t2023-11-14-22-13-20\n";
  ChildResult r = Match(one + one);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace accord::testing
