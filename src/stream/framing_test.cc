// LogFramer (issue 17): Zeek TSV rows as Zeek JSON objects, JSON lines passed through, JSON
// arrays split into elements, and the bounds and errors around them. Every expected message is
// written by hand from framing.h and Zeek's JSON log format (LogAscii::use_json), never pasted
// from the framer's output; JSON results are compared parsed, so key order does not matter.
#include "accord/stream/framing.h"
#include "common/gzip_util.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace accord::stream {
namespace {

struct Skipped {
  std::string location;
  std::string reason;
};

// Everything one framer made of `input`, read to its end or its first error.
struct Framed {
  std::vector<std::string> messages;
  std::vector<uint64_t> lines;  // LogFramer::line() after each message
  std::vector<Skipped> skipped;
  absl::Status status;
  FramerStats stats;
};

Framed Frame(std::string_view input, const std::string& source = "dns.log") {
  Framed f;
  LogFramer framer(common::InputStream::FromBuffer(input), source,
                   [&f](std::string_view location, std::string_view reason) {
                     f.skipped.push_back({std::string(location), std::string(reason)});
                   });
  std::string msg;
  for (;;) {
    absl::StatusOr<bool> more = framer.Next(&msg);
    if (!more.ok()) {
      f.status = more.status();
      break;
    }
    if (!*more) break;
    f.messages.push_back(msg);
    f.lines.push_back(framer.line());
  }
  f.stats = framer.stats();
  return f;
}

nlohmann::json Parse(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j;
}

using ::accord::testing::Gzip;

// A dns.log as Zeek writes it (TSV), with the auth/addl sets of Bro's DNS::Info. Row 1 has
// every field set, a two-element set and an empty one; row 2 leaves rtt, rcode, answers, TTLs
// and addl unset, has an empty auth set, and a query with a tab that Zeek escaped as \x09.
const std::string kDnsLog =
    "#separator \\x09\n"
    "#set_separator\t,\n"
    "#empty_field\t(empty)\n"
    "#unset_field\t-\n"
    "#path\tdns\n"
    "#open\t2009-11-18-08-00-21\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery"
    "\tqtype_name\trcode\tAA\tRD\tanswers\tTTLs\tauth\taddl\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring"
    "\tstring\tcount\tbool\tbool\tvector[string]\tvector[interval]\tset[string]\tset[string]\n"
    "1258531221.486539\tCz8F3O3rmUNrd0OxS5\t192.168.1.102\t68\t192.168.1.1\t53\tudp\t36393"
    "\t0.000123\twww.example.com\tA\t0\tF\tT\t93.184.216.34,example.net\t3600.000000,60.000000"
    "\tns1.example.com,ns2.example.com\t(empty)\n"
    "1258531222.000001\tC2\tfe80::1\t5353\tff02::fb\t5353\tudp\t0\t-\tweird\\x09name.example"
    "\tAAAA\t-\tT\tF\t-\t-\t(empty)\t-\n"
    "#close\t2009-11-18-08-05-00\n";

// Row 1 of kDnsLog as Zeek's JSON writer puts it (plus "_path"): port, count, time and interval
// are numbers, bools true/false, vectors and sets arrays, "(empty)" an empty array.
const char* kDnsRow1 = R"({
  "_path": "dns", "ts": 1258531221.486539, "uid": "Cz8F3O3rmUNrd0OxS5",
  "id.orig_h": "192.168.1.102", "id.orig_p": 68, "id.resp_h": "192.168.1.1", "id.resp_p": 53,
  "proto": "udp", "trans_id": 36393, "rtt": 0.000123, "query": "www.example.com",
  "qtype_name": "A", "rcode": 0, "AA": false, "RD": true,
  "answers": ["93.184.216.34", "example.net"], "TTLs": [3600.0, 60.0],
  "auth": ["ns1.example.com", "ns2.example.com"], "addl": []
})";

// Row 2: unset fields are left out; the \x09 escape stays four characters (JSON "\\x09").
const char* kDnsRow2 = R"({
  "_path": "dns", "ts": 1258531222.000001, "uid": "C2",
  "id.orig_h": "fe80::1", "id.orig_p": 5353, "id.resp_h": "ff02::fb", "id.resp_p": 5353,
  "proto": "udp", "trans_id": 0, "query": "weird\\x09name.example",
  "qtype_name": "AAAA", "AA": true, "RD": false, "auth": []
})";

TEST(LogFramerTest, ZeekDnsRowsBecomeZeekJson) {
  Framed f = Frame(kDnsLog);
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(Parse(f.messages[0]), nlohmann::json::parse(kDnsRow1));
  EXPECT_EQ(Parse(f.messages[1]), nlohmann::json::parse(kDnsRow2));
  // Numbers are JSON numbers, not strings holding digits.
  nlohmann::json r1 = Parse(f.messages[0]);
  EXPECT_TRUE(r1["ts"].is_number_float());
  EXPECT_TRUE(r1["id.resp_p"].is_number_integer());
  EXPECT_TRUE(r1["AA"].is_boolean());
  // The escape as it appears in the message text: a JSON-escaped backslash, then "x09".
  EXPECT_NE(f.messages[1].find(R"("query":"weird\\x09name.example")"), std::string::npos)
      << f.messages[1];
  for (const std::string& m : f.messages) {
    EXPECT_EQ(m.find('\n'), std::string::npos);
    EXPECT_EQ(m.front(), '{');
    EXPECT_EQ(m.back(), '}');
  }
}

TEST(LogFramerTest, HeadersMakeNoMessageAndAreCountedAsLines) {
  Framed f = Frame(kDnsLog);
  ASSERT_TRUE(f.status.ok()) << f.status;
  // 8 header lines, 2 rows, #close.
  EXPECT_EQ(f.stats.lines, 11u);
  EXPECT_EQ(f.stats.messages, 2u);
  EXPECT_EQ(f.stats.skipped, 0u);
  EXPECT_TRUE(f.skipped.empty());
  EXPECT_EQ(f.lines, (std::vector<uint64_t>{9, 10}));
}

TEST(LogFramerTest, HeadersOnlyMakeNoMessage) {
  Framed f = Frame(
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
      "#path\tconn\n#fields\tts\tuid\n#types\ttime\tstring\n#close\t2024-01-01-00-00-00\n");
  ASSERT_TRUE(f.status.ok()) << f.status;
  EXPECT_TRUE(f.messages.empty());
  EXPECT_EQ(f.stats.lines, 8u);
  EXPECT_EQ(f.stats.messages, 0u);
}

TEST(LogFramerTest, GzipInputIsInflated) {
  std::string gz = Gzip(kDnsLog);
  ASSERT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  Framed f = Frame(gz, "dns.log.gz");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(Parse(f.messages[0]), nlohmann::json::parse(kDnsRow1));
  EXPECT_EQ(Parse(f.messages[1]), nlohmann::json::parse(kDnsRow2));
}

// The header of a small conn.log, for the tests that need only a few fields.
const std::string kConnHeader =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#fields\tts\tuid\tid.orig_p\tservice\n#types\ttime\tstring\tport\tstring\n";

TEST(LogFramerTest, RowWithWrongFieldCountIsSkippedWithItsLocation) {
  Framed f = Frame(kConnHeader +
                       "1.0\tC1\t80\thttp\n"     // line 8
                       "2.0\tC2\t80\n"           // line 9: a field short
                       "3.0\tC3\t80\thttp\tx\n"  // line 10: one too many
                       "4.0\tC4\t443\tssl\n",    // line 11
                   "conn.log");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(Parse(f.messages[0]),
            nlohmann::json::parse(
                R"({"_path":"conn","ts":1.0,"uid":"C1","id.orig_p":80,"service":"http"})"));
  EXPECT_EQ(Parse(f.messages[1]),
            nlohmann::json::parse(
                R"({"_path":"conn","ts":4.0,"uid":"C4","id.orig_p":443,"service":"ssl"})"));
  EXPECT_EQ(f.lines, (std::vector<uint64_t>{8, 11}));
  ASSERT_EQ(f.skipped.size(), 2u);
  EXPECT_EQ(f.skipped[0].location, "conn.log:9");
  EXPECT_EQ(f.skipped[1].location, "conn.log:10");
  EXPECT_NE(f.skipped[0].reason.find("field count"), std::string::npos) << f.skipped[0].reason;
  EXPECT_EQ(f.stats.skipped, 2u);
  EXPECT_EQ(f.stats.messages, 2u);
  EXPECT_EQ(f.stats.lines, 11u);
}

TEST(LogFramerTest, RowsBeforeFieldsAreAnError) {
  Framed f = Frame("1.0\tC1\t80\n", "conn.log");
  EXPECT_EQ(f.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status.message().find("conn.log:1"), std::string::npos) << f.status;
  EXPECT_TRUE(f.messages.empty());

  // Headers without #fields: the error names the row's line.
  Framed g = Frame("#separator \\x09\n#path\tconn\n\n1.0\tC1\t80\n", "conn.log");
  EXPECT_EQ(g.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(g.status.message().find("conn.log:4"), std::string::npos) << g.status;
  EXPECT_NE(g.status.message().find("#fields"), std::string::npos) << g.status;
}

TEST(LogFramerTest, AnErrorEndsTheInput) {
  // A row before #fields, then a complete log: nothing after the error is read.
  std::string input =
      "1.0\tC1\t80\n#separator \\x09\n#fields\tts\tquery\n#types\ttime\tstring\n"
      "2.0\tevil.example\n";
  LogFramer framer(common::InputStream::FromBuffer(input), "conn.log", nullptr);
  std::string msg;
  absl::StatusOr<bool> first = framer.Next(&msg);
  ASSERT_FALSE(first.ok());
  absl::StatusOr<bool> again = framer.Next(&msg);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status(), first.status());
  EXPECT_EQ(framer.stats().messages, 0u);
}

TEST(LogFramerTest, ASecondHeaderBlockBringsItsOwnFields) {
  // Two logs concatenated (as `cat conn.log dns.log` or a rotation gives).
  Framed f = Frame(kConnHeader + "1.0\tC1\t80\thttp\n#close\t2024-01-01-00-00-00\n" +
                   "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                   "#unset_field\t-\n#path\tdns\n#fields\tts\tquery\tanswers\n"
                   "#types\ttime\tstring\tvector[string]\n"
                   "2.5\tevil.example\t192.0.2.1\n");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(Parse(f.messages[0]),
            nlohmann::json::parse(
                R"({"_path":"conn","ts":1.0,"uid":"C1","id.orig_p":80,"service":"http"})"));
  EXPECT_EQ(Parse(f.messages[1]),
            nlohmann::json::parse(
                R"({"_path":"dns","ts":2.5,"query":"evil.example","answers":["192.0.2.1"]})"));
}

TEST(LogFramerTest, OtherSeparatorsAreHonoured) {
  // '|' between fields, ';' inside sets, and other markers for unset and empty.
  Framed f = Frame(
      "#separator \\x7c\n#set_separator|;\n#empty_field|EMPTY\n#unset_field|NONE\n#path|conn\n"
      "#fields|ts|uid|tunnel_parents|service|note\n"
      "#types|time|string|set[string]|string|string\n"
      "1.5|C1|a;b|NONE|tab\there\n"
      "2.5|C2|EMPTY|dns|-\n",
      "conn.log");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(Parse(f.messages[0]), nlohmann::json::parse(R"({"_path":"conn","ts":1.5,"uid":"C1",
      "tunnel_parents":["a","b"],"note":"tab\there"})"));
  // "-" is not the unset marker in this log: it is a string.
  EXPECT_EQ(Parse(f.messages[1]), nlohmann::json::parse(R"({"_path":"conn","ts":2.5,"uid":"C2",
      "tunnel_parents":[],"service":"dns","note":"-"})"));
}

TEST(LogFramerTest, ValuesThatAreNotNumbersStayStrings) {
  // A count Zeek would never write, an int with a sign, a bool that is not T/F, a double in
  // exponent form, and the same text in a string field.
  Framed f = Frame(
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
      "#fields\ta\tb\tc\td\te\tf\n#types\tcount\tint\tbool\tdouble\tstring\tvector[count]\n"
      "0x10\t-7\tyes\t1.5e3\t42\t1,x,3\n");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 1u);
  // No #path: no "_path".
  EXPECT_EQ(Parse(f.messages[0]), nlohmann::json::parse(R"({"a":"0x10","b":-7,"c":"yes",
      "d":1500.0,"e":"42","f":[1,"x",3]})"));
}

TEST(LogFramerTest, EmptyStringFieldIsAnEmptyString) {
  // Zeek's ASCII writer writes an empty string as the #empty_field marker (and a string that
  // is the marker itself as "\x28empty)"); its JSON writer writes "".
  Framed f = Frame(kConnHeader + "1.0\tC1\t80\t(empty)\n2.0\tC2\t80\t\\x28empty)\n");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(
      Parse(f.messages[0]),
      nlohmann::json::parse(R"({"_path":"conn","ts":1.0,"uid":"C1","id.orig_p":80,"service":""})"));
  EXPECT_EQ(
      Parse(f.messages[1]),
      nlohmann::json::parse(
          R"js({"_path":"conn","ts":2.0,"uid":"C2","id.orig_p":80,"service":"\\x28empty)"})js"));
  // The same inside a vector: an element that is an empty string.
  Framed g = Frame(
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
      "#fields\tv\n#types\tvector[string]\nx,(empty)\n");
  ASSERT_TRUE(g.status.ok()) << g.status;
  ASSERT_EQ(g.messages.size(), 1u);
  EXPECT_EQ(Parse(g.messages[0]), nlohmann::json::parse(R"({"v":["x",""]})"));
}

TEST(LogFramerTest, JsonLinesPassThroughUnchanged) {
  const std::string a = R"({"_path":"dns","ts":1.5,"query":"a.example"})";
  const std::string b = R"(  {"event_type": "alert",  "src_ip" : "10.0.0.1", "x": [1, 2]})";
  const std::string c = R"({"not":"valid json", )";  // passed on as it is; workers judge it
  Framed f = Frame(a + "\n\n   \t\n" + b + "\r\n\n" + c + "\n", "eve.json");
  ASSERT_TRUE(f.status.ok()) << f.status;
  // The CRLF line loses its "\r" (a line ending), nothing else.
  EXPECT_EQ(f.messages, (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(f.lines, (std::vector<uint64_t>{1, 4, 6}));
  EXPECT_EQ(f.stats.lines, 6u);
  EXPECT_EQ(f.stats.messages, 3u);
  EXPECT_EQ(f.stats.skipped, 0u);
}

TEST(LogFramerTest, EmptyInputMakesNothing) {
  Framed f = Frame("");
  ASSERT_TRUE(f.status.ok()) << f.status;
  EXPECT_TRUE(f.messages.empty());
  Framed g = Frame("\n\n  \n");
  ASSERT_TRUE(g.status.ok()) << g.status;
  EXPECT_TRUE(g.messages.empty());
  EXPECT_EQ(g.stats.messages, 0u);
}

TEST(LogFramerTest, PrettyJsonArrayGivesOneCompactMessagePerElement) {
  const std::string input = R"(

[
  {
    "timestamp": "2018-03-24T14:37:19.000000+0000",
    "event_type": "dns",
    "src_ip": "10.0.0.1",
    "dns": {
      "rrname": "evil.example",
      "answers": [ "192.0.2.7", "192.0.2.8" ]
    }
  },
  {
    "event_type": "stats",
    "stats": { "uptime": 5 }
  },
  "text",
  7
]
)";
  Framed f = Frame(input, "eve.json");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 4u);
  EXPECT_EQ(Parse(f.messages[0]), nlohmann::json::parse(R"({
    "timestamp":"2018-03-24T14:37:19.000000+0000","event_type":"dns","src_ip":"10.0.0.1",
    "dns":{"rrname":"evil.example","answers":["192.0.2.7","192.0.2.8"]}})"));
  EXPECT_EQ(Parse(f.messages[1]),
            nlohmann::json::parse(R"({"event_type":"stats","stats":{"uptime":5}})"));
  EXPECT_EQ(f.messages[2], R"("text")");
  EXPECT_EQ(f.messages[3], "7");
  for (const std::string& m : f.messages) {
    // Compact: no line breaks, no indentation, no space after ':' or ','.
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find(": "), std::string::npos) << m;
    EXPECT_EQ(m.find(", "), std::string::npos) << m;
  }
  // Array input counts elements, and line() is the element's index.
  EXPECT_EQ(f.stats.lines, 4u);
  EXPECT_EQ(f.stats.messages, 4u);
  EXPECT_EQ(f.lines, (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(LogFramerTest, EmptyJsonArrayMakesNothing) {
  Framed f = Frame("[ ]\n", "eve.json");
  ASSERT_TRUE(f.status.ok()) << f.status;
  EXPECT_TRUE(f.messages.empty());
  EXPECT_EQ(f.stats.lines, 0u);
}

TEST(LogFramerTest, BracketInputThatIsNotAnArrayIsAnError) {
  for (const char* input : {
           "[\n  {\"a\": 1},\n",                // cut short
           "[1, 2] [3]\n",                      // something after the array
           "[\n  {\"a\": 1}\n]\n{\"b\": 2}\n",  // JSON lines after an array
           "[not json]\n",
       }) {
    Framed f = Frame(input, "eve.json");
    EXPECT_EQ(f.status.code(), absl::StatusCode::kInvalidArgument) << input;
    EXPECT_NE(f.status.message().find("eve.json"), std::string::npos) << f.status;
    EXPECT_NE(f.status.message().find("not a JSON array"), std::string::npos) << f.status;
    EXPECT_TRUE(f.messages.empty()) << input;
  }
}

TEST(LogFramerTest, OversizedJsonLineIsSkippedNotTruncated) {
  // {"a":"xxx...x"}: 8 bytes of syntax around the string.
  auto line_of = [](size_t bytes) { return "{\"a\":\"" + std::string(bytes - 8, 'x') + "\"}"; };
  const std::string fits = line_of(kMaxMessageBytes);
  const std::string big = line_of(kMaxMessageBytes + 1);
  ASSERT_EQ(fits.size(), kMaxMessageBytes);
  Framed f = Frame(big + "\n" + fits + "\n{\"b\":1}\n", "big.json");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 2u);
  EXPECT_EQ(f.messages[0], fits);
  EXPECT_EQ(f.messages[1], "{\"b\":1}");
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].location, "big.json:1");
  EXPECT_NE(f.skipped[0].reason.find(std::to_string(kMaxMessageBytes + 1) + " bytes"),
            std::string::npos)
      << f.skipped[0].reason;
  EXPECT_EQ(f.stats.skipped, 1u);
  EXPECT_EQ(f.stats.messages, 2u);
}

TEST(LogFramerTest, OversizedZeekRowIsSkippedNotTruncated) {
  // The row's text fits, but as JSON (keys, quotes, "_path") it is longer than a message.
  Framed f = Frame(
      kConnHeader + "1.0\tC1\t80\t" + std::string(kMaxMessageBytes, 's') + "\n2.0\tC2\t53\tdns\n",
      "conn.log");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 1u);
  EXPECT_EQ(Parse(f.messages[0]),
            nlohmann::json::parse(
                R"({"_path":"conn","ts":2.0,"uid":"C2","id.orig_p":53,"service":"dns"})"));
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].location, "conn.log:8");
  EXPECT_NE(f.skipped[0].reason.find("longer than a message"), std::string::npos)
      << f.skipped[0].reason;
  EXPECT_EQ(f.stats.skipped, 1u);
}

TEST(LogFramerTest, OversizedArrayElementIsSkippedNotTruncated) {
  const std::string input =
      "[\n{\"a\":\"" + std::string(kMaxMessageBytes, 'x') + "\"},\n{\"b\":2}\n]\n";
  Framed f = Frame(input, "eve.json");
  ASSERT_TRUE(f.status.ok()) << f.status;
  ASSERT_EQ(f.messages.size(), 1u);
  EXPECT_EQ(f.messages[0], "{\"b\":2}");
  EXPECT_EQ(f.lines, (std::vector<uint64_t>{2}));
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].location, "eve.json:1");
  EXPECT_EQ(f.stats.skipped, 1u);
  EXPECT_EQ(f.stats.lines, 2u);
}

}  // namespace
}  // namespace accord::stream
