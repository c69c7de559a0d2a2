// The hand-written match line gives the bytes nlohmann::json's dump() gives (the oracle: an
// independent JSON writer) for random indicator ids, inputs and values, including quotes,
// backslashes, every control byte, multi-byte UTF-8 and invalid UTF-8.
#include "accord/match/match_line.h"

#include <random>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"

namespace accord::match {
namespace {

std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "evil.example",
                                                   "\"",
                                                   "\\",
                                                   "/",
                                                   "\b",
                                                   "\f",
                                                   "\n",
                                                   "\r",
                                                   "\t",
                                                   std::string(1, '\0'),
                                                   "\x01",
                                                   "\x1f",
                                                   "\x7f",
                                                   "\xc3\xa9",
                                                   "\xe2\x82\xac",
                                                   "\xf0\x9f\x98\x80",
                                                   "\xff",
                                                   "\xc3",
                                                   "\xe2\x82",
                                                   " ",
                                                   "10.0.0.1"};
  std::string s;
  int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) s += kPieces[rng() % kPieces.size()];
  return s;
}

TEST(MatchLineTest, SameBytesAsNlohmannDump) {
  std::mt19937 rng(11);
  int prepared_lines = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string id = round % 3 ? "indicator--" + RandomText(rng) : RandomText(rng);
    std::string input = RandomText(rng);
    std::vector<std::string> values;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) values.push_back(RandomText(rng));
    std::vector<uint64_t> events;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) events.push_back(rng() % 100000000);
    common::Micros t = static_cast<common::Micros>(rng()) * 1000;
    // Every other line has an origin: a collection, 0-2 others; most have a name.
    IndicatorOrigin origin;
    const bool with_origin = rng() % 2;
    auto coll = [&] {
      store::CollectionInfo c;
      c.id = RandomText(rng);
      c.alias = RandomText(rng);
      c.title = RandomText(rng);
      return c;
    };
    const std::string name = rng() % 4 ? RandomText(rng) : "";  // with or without an origin
    origin.collection = coll();
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) origin.also_in.push_back(coll());
    nlohmann::json j = {{"indicator", id},
                        {"values", values},
                        {"events", events},
                        {"input", input},
                        {"time", common::FormatTimestamp(t)}};
    // The oracle's fields, as docs/MATCH_INPUTS.md "Output" lists them.
    auto cj = [](const store::CollectionInfo& c) {
      return nlohmann::json{{"id", c.id}, {"alias", c.alias}, {"title", c.title}};
    };
    if (!name.empty()) j["name"] = name;
    if (with_origin) {
      j["collection"] = cj(origin.collection);
      if (!origin.also_in.empty()) {
        j["also_in"] = nlohmann::json::array();
        for (const auto& c : origin.also_in) j["also_in"].push_back(cj(c));
      }
    }
    std::string want = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    // Half of the origins are prepared (their part rendered once, as IndicatorOrigins does):
    // the same bytes either way.
    if (rng() % 2) {
      PrepareMatchLine(&origin);
      if (with_origin && origin.prepared) ++prepared_lines;
    }
    std::string got;
    AppendMatchLine({id, &values, &events, input, t, with_origin ? &origin : nullptr, name}, &got);
    ASSERT_EQ(got, want) << "round " << round;
  }
  EXPECT_GT(prepared_lines, 50);  // the copied parts were used on many lines
}

}  // namespace
}  // namespace accord::match
