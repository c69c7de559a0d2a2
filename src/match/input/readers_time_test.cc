// Event time in every telemetry reader (issue 11): Zeek `ts` as epoch seconds or ISO 8601 with an
// offset, generic JSON lines `@time`, STIX observed-data first_observed/last_observed. A record
// whose time is missing or unreadable is malformed (reported with file:line), never 1970.
//
// Expected instant, by hand: 2018-03-24T20:37:19Z. Days 1970-01-01 .. 2018-01-01: 48 * 365 + 12
// leap days (1972 .. 2016) = 17532; + 31 (Jan) + 28 (Feb) + 23 = 17614 days; 17614 * 86400 =
// 1521849600 s; + 20:37:19 = 74239 s -> 1521923839 s. 14:37:19-06:00 and 02:07:19+05:30 on the
// 25th denote the same instant.
#include <string>
#include <vector>

#include "accord/match/input.h"
#include "gtest/gtest.h"

namespace accord::match {
namespace {

constexpr common::Micros kInstant = 1521923839'037299;

struct Read {
  std::vector<common::Micros> times;
  std::vector<std::string> malformed;  // "location: reason"
};

Read ReadAll(InputFormat format, const std::string& text, const FieldMapping* mapping = nullptr) {
  Read r;
  auto reader =
      EventReader::Open(format, common::InputStream::FromBuffer(text), "in.log", mapping,
                        [&](std::string_view where, std::string_view why) {
                          r.malformed.push_back(std::string(where) + ": " + std::string(why));
                        });
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return r;
  Observation o;
  while (true) {
    auto more = (*reader)->Next(&o);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    r.times.push_back(o.first_observed);
  }
  return r;
}

TEST(ReadersTime, ZeekTsEpochAndIso8601WithOffsets) {
  std::string tsv =
      "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.resp_h\n"
      "1521923839.037299\t10.0.0.1\t10.0.0.2\n"                  // line 4: epoch seconds, exact
      "soon\t10.0.0.1\t10.0.0.2\n"                               // line 5: unreadable
      "2018-03-24T14:37:19.037299-06:00\t10.0.0.1\t10.0.0.2\n";  // line 6
  Read r = ReadAll(InputFormat::kZeek, tsv);
  EXPECT_EQ(r.times, (std::vector<common::Micros>{kInstant, kInstant}));
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_NE(r.malformed[0].find("in.log:5"), std::string::npos) << r.malformed[0];
  EXPECT_NE(r.malformed[0].find("'ts'"), std::string::npos) << r.malformed[0];

  std::string json =
      R"({"_path":"conn","ts":"2018-03-25T02:07:19.037299+0530","id.orig_h":"10.0.0.1"})"
      "\n"
      R"({"_path":"conn","ts":1521923839.5,"id.orig_h":"10.0.0.1"})"
      "\n"
      R"({"_path":"conn","id.orig_h":"10.0.0.1"})"
      "\n"
      // 1700000000.0 is "1.7e+09" in shortest form; it is still epoch seconds.
      R"({"_path":"conn","ts":1700000000.0,"id.orig_h":"10.0.0.1"})"
      "\n";
  r = ReadAll(InputFormat::kZeek, json);
  EXPECT_EQ(r.times, (std::vector<common::Micros>{kInstant, 1521923839'500000, 1700000000'000000}));
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_NE(r.malformed[0].find("in.log:3"), std::string::npos) << r.malformed[0];
}

TEST(ReadersTime, JsonLinesTimeField) {
  auto mapping = FieldMapping::Parse("@time = when\nhost = domain-name:value\n");
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  std::string text = R"({"when":"2018-03-24T20:37:19.037299Z","host":"a.example"})"
                     "\n"
                     R"({"when":"2018-03-24T14:37:19.037299-06","host":"a.example"})"
                     "\n"
                     R"({"host":"a.example"})"
                     "\n"
                     R"({"when":"2018-03-24 14:37:19+5","host":"a.example"})"  // partial offset
                     "\n"
                     R"({"when":"2018-03-24T20:37:19.037299","host":"a.example"})"  // none: UTC
                     "\n";
  Read r = ReadAll(InputFormat::kJsonl, text, &*mapping);
  EXPECT_EQ(r.times, (std::vector<common::Micros>{kInstant, kInstant, kInstant}));
  ASSERT_EQ(r.malformed.size(), 2u);
  EXPECT_NE(r.malformed[0].find("in.log:3"), std::string::npos) << r.malformed[0];
  EXPECT_NE(r.malformed[1].find("in.log:4"), std::string::npos) << r.malformed[1];
}

TEST(ReadersTime, StixObservedDataOffsetsAndBadTimes) {
  std::vector<Observation> out;
  ASSERT_TRUE(
      ObservationsFromStix(R"({"type":"observed-data","id":"observed-data--1",)"
                           R"("first_observed":"2018-03-24T14:37:19.037299-06:00",)"
                           R"("last_observed":"2018-03-24T20:37:19.037299Z","number_observed":1,)"
                           R"("objects":{"0":{"type":"domain-name","value":"a.example"}}})",
                           &out)
          .ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first_observed, kInstant);
  EXPECT_EQ(out[0].last_observed, kInstant);
  out.clear();
  absl::Status s = ObservationsFromStix(
      R"({"type":"observed-data","id":"observed-data--2","first_observed":"yesterday",)"
      R"("last_observed":"2018-03-24T20:37:19Z","number_observed":1,"objects":{}})",
      &out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("observed-data--2"), std::string::npos) << s;
  EXPECT_NE(s.message().find("first_observed"), std::string::npos) << s;
}

}  // namespace
}  // namespace accord::match
