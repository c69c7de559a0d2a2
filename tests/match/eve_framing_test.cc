// Suricata EVE framing (issue 11): the shared sample (pretty-printed JSON arrays) is read whole,
// its event count checked against a count computed here with nlohmann::json; the same events
// come out of the array, the pretty form and JSON lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "accord/common/io.h"
#include "accord/match/input.h"
#include "common/test_util.h"

namespace accord::match {
namespace {

struct Read {
  std::vector<std::string> events;  // first_observed and the SCOs' types and ids, per event
  ReaderStats stats;
};

Read ReadEve(const std::string& data) {
  Read r;
  auto in = common::InputStream::FromBuffer(data);
  auto reader = EventReader::Open(InputFormat::kSuricata, std::move(in), "eve.json", nullptr,
                                  [](std::string_view, std::string_view) {});
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return r;
  Observation o;
  while (true) {
    auto more = (*reader)->Next(&o);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    std::string sig = std::to_string(o.first_observed);
    for (const Sco& s : o.scos()) sig += " " + std::string(o.Type(s)) + "/" + std::string(o.Id(s));
    r.events.push_back(sig);
  }
  r.stats = (*reader)->stats();
  return r;
}

TEST(EveFraming, SharedSampleIsReadWholeInEveryForm) {
  auto dir =
      std::filesystem::temp_directory_path() / ("accord_eve_framing_" + std::to_string(::getpid()));
  ACCORD_REQUIRE_SHARED(testing::SharedDir() / "data/telemetry/suricata-sample-alerts.tar.gz");
  ASSERT_TRUE(testing::ExtractShared("data/telemetry/suricata-sample-alerts.tar.gz", dir));
  int files = 0;
  for (auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.path().filename() != "alerts-only.json") continue;
    ++files;
    std::ifstream is(f.path());
    std::stringstream ss;
    ss << is.rdbuf();
    std::string pretty = ss.str();
    nlohmann::json all = nlohmann::json::parse(pretty);
    ASSERT_TRUE(all.is_array());
    size_t expected = 0;  // alerts with an address give an event
    std::string lines, concatenated;
    for (auto& ev : all) {
      if (ev.contains("src_ip") || ev.contains("dest_ip")) ++expected;
      lines += ev.dump() + "\n";
      concatenated += ev.dump(2) + "\n";
    }
    Read a = ReadEve(pretty);
    Read l = ReadEve(lines);
    Read c = ReadEve(concatenated);
    EXPECT_EQ(a.stats.malformed, 0u) << f.path();
    EXPECT_EQ(a.stats.records, all.size()) << f.path();
    EXPECT_EQ(a.events.size(), expected) << f.path();
    EXPECT_GT(expected, 10u);
    EXPECT_EQ(a.events, l.events) << f.path();
    EXPECT_EQ(c.events, l.events) << f.path();
  }
  EXPECT_GE(files, 4);
  std::filesystem::remove_all(dir);
}

TEST(EveFraming, TruncatedArrayFailsNamingTheOffset) {
  // (The first event has a time: an event without one is malformed and skipped.)
  std::string data =
      "[\n {\"timestamp\": \"2018-03-24T14:37:19.037299-0600\", \"src_ip\": \"10.0.0.1\", "
      "\"event_type\": \"alert\"},\n {\"src_ip\": ";
  auto reader = EventReader::Open(InputFormat::kSuricata, common::InputStream::FromBuffer(data),
                                  "eve.json", nullptr, [](std::string_view, std::string_view) {});
  ASSERT_TRUE(reader.ok());
  Observation o;
  auto first = (*reader)->Next(&o);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  auto second = (*reader)->Next(&o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("byte offset"), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find("object #2"), std::string::npos) << second.status();
}

}  // namespace
}  // namespace accord::match
