// The start-up cache holds the compiled program (issue 11, fast start). A program loaded from its
// image must match exactly as the program it was saved from; the file is a hit only for the
// same generation, scope and time window, and a miss (never a wrong answer, never a crash) for a
// changed, truncated or corrupted file.
#include "accord/match/program_image.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "gtest/gtest.h"
#include "match/random_patterns_test_util.h"

namespace accord::match {
namespace {

using Results = std::vector<std::pair<std::string, std::vector<uint64_t>>>;

// Every match of `engine` on `events` (1-based positions), as (indicator id, positions), sorted
// per event so that the order within one observation does not matter.
Results MatchAllEvents(Engine& engine, const std::vector<Observation>& events) {
  Results out;
  for (size_t t = 0; t < events.size(); ++t) {
    std::vector<MatchResult> m;
    engine.Process(events[t], t + 1, &m);
    Results one;
    for (const MatchResult& r : m) one.emplace_back(engine.IndicatorId(r.indicator), r.events);
    std::sort(one.begin(), one.end());
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}

Observation Domain(const std::string& value, int t) {
  Observation o;
  o.first_observed = o.last_observed = static_cast<common::Micros>(t) * 1000000;
  o.Open();
  o.AddString("value", value);
  o.AddSco(o.Close(Node::Kind::kObject), "domain-name", "d");
  return o;
}

TEST(ProgramImageTest, LoadedProgramMatchesLikeTheBuiltOneOnRandomIndicators) {
  std::mt19937 rng(7);
  std::vector<IndicatorSpec> specs;
  for (int i = 0; i < 400; ++i) {
    specs.push_back(
        {"indicator--" + std::to_string(i), test_util::RandomPattern(rng), std::to_string(i)});
  }
  // Shared keys (two indicators, one value), an id that is not indicator--UUID, a UUID id, and
  // a pattern that does not compile (its index stays reserved).
  specs.push_back(
      {"indicator--00000000-0000-4000-8000-000000000001", "[domain-name:value = 'x.org']", "a"});
  specs.push_back({"feed-7", "[domain-name:value = 'x.org']", "b"});
  specs.push_back({"indicator--bad", "[domain-name:value = ", "c"});
  MatchOptions opts;
  opts.max_window_per_indicator = 16;
  std::vector<std::pair<uint32_t, std::string>> rejected;
  auto built = Program::Build(specs, opts, &rejected);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(rejected.size(), 1u);
  auto image = (*built)->Image();
  ASSERT_TRUE(image.ok()) << image.status();
  auto loaded = Program::FromImage(*image, opts);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EngineStats a = (*built)->Stats(), b = (*loaded)->Stats();
  EXPECT_EQ(a.indicators, b.indicators);
  EXPECT_EQ(a.exact_keys, b.exact_keys);
  EXPECT_GT(a.cidr_entries, 0u);
  EXPECT_GT(a.regex_entries, 0u);
  EXPECT_GT(a.temporal, 0u);
  EXPECT_EQ((*built)->Types(), (*loaded)->Types());
  std::vector<Observation> events(800);
  for (int t = 0; t < 800; ++t) test_util::MakeEvent(rng, t, &events[t]);
  events.push_back(Domain("x.org", 1300));
  auto e1 = Engine::Create(*built);
  auto e2 = Engine::Create(*loaded);
  Results r1 = MatchAllEvents(*e1, events), r2 = MatchAllEvents(*e2, events);
  EXPECT_GT(r1.size(), 300u);
  EXPECT_EQ(r1, r2);
  // The last event names x.org: both indicators of the shared key match it, by their own ids.
  Results last;
  for (const auto& [id, pos] : r2) {
    if (pos == std::vector<uint64_t>{events.size()} &&
        (id == "feed-7" || id.find("0001") != std::string::npos)) {
      last.emplace_back(id, pos);
    }
  }
  EXPECT_EQ(last.size(), 2u);
}

// The match line's name and origin (issue 11) are kept per indicator, by Build() and through
// the image, with origins shared between indicators from the same collections.
TEST(ProgramImageTest, NamesAndOriginsAreKeptThroughTheImage) {
  std::vector<IndicatorSpec> specs(5);
  const char* values[] = {"a.example", "b.example", "c.example", "d.example", "e.example"};
  for (size_t i = 0; i < specs.size(); ++i) {
    specs[i].id = "indicator--" + std::to_string(i);
    specs[i].pattern = std::string("[domain-name:value = '") + values[i] + "']";
    specs[i].version = "1";
  }
  specs[0].name = "Evil domain";
  specs[0].origin = "c-beta\nc-alpha";
  specs[1].origin = "c-beta\nc-alpha";  // no name
  specs[2].name = "caf\xc3\xa9";        // UTF-8, kept as bytes
  specs[2].origin = "c-alpha";
  specs[3].pattern = "[domain-name:value = ";  // rejected: its name and origin are kept anyway
  specs[3].name = "broken";
  specs[3].origin = "c-gamma";
  // specs[4]: neither
  auto built = Program::Build(specs, MatchOptions());
  ASSERT_TRUE(built.ok()) << built.status();
  auto image = (*built)->Image();
  ASSERT_TRUE(image.ok()) << image.status();
  auto loaded = Program::FromImage(*image, MatchOptions());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const auto& p : {*built, *loaded}) {
    for (uint32_t i = 0; i < specs.size(); ++i) {
      EXPECT_EQ(p->Name(i), specs[i].name) << i;
      EXPECT_EQ(p->Origin(i), specs[i].origin) << i;
    }
    EXPECT_EQ(p->Name(5), "");  // out of range
    EXPECT_EQ(p->Origin(5), "");
    // Interned: the two indicators from beta and alpha share one copy.
    EXPECT_EQ(p->Origin(0).data(), p->Origin(1).data());
  }
}

TEST(ProgramImageTest, CorruptBytesAreRefusedOrHarmlessNeverACrash) {
  std::vector<IndicatorSpec> specs = {
      {"indicator--1", "[domain-name:value = 'a.example']", "1"},
      {"indicator--2", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "2"},
      {"indicator--3", "[domain-name:value MATCHES '^b\\\\.']", "3"},
      {"indicator--4", "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'c']",
       "4"}};
  specs[0].name = "one";
  specs[0].origin = "c1";
  specs[3].origin = "c1\nc2";
  auto built = Program::Build(specs, MatchOptions());
  ASSERT_TRUE(built.ok());
  std::string image = *(*built)->Image();
  ASSERT_TRUE(Program::FromImage(image, MatchOptions()).ok());
  EXPECT_FALSE(Program::FromImage(image.substr(0, image.size() - 1), MatchOptions()).ok());
  EXPECT_FALSE(Program::FromImage(image + "x", MatchOptions()).ok());
  EXPECT_FALSE(Program::FromImage("", MatchOptions()).ok());
  // Every byte flipped in turn (no checksum at this level): refused, or a program that runs.
  std::vector<Observation> events = {Domain("a.example", 1), Domain("b.x", 2), Domain("c", 3)};
  size_t refused = 0;
  for (size_t at = 0; at < image.size(); ++at) {
    std::string bad = image;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    // Probed in place (as a mapped cache file is): every view must lie within `bad`.
    auto p = Program::FromImage(std::string_view(bad), nullptr, MatchOptions());
    if (!p.ok()) {
      ++refused;
      continue;
    }
    auto e = Engine::Create(*p);
    (void)MatchAllEvents(*e, events);
    for (uint32_t i = 0; i < 5; ++i) {
      // Views within the image, never past it.
      for (std::string_view v : {(*p)->Name(i), (*p)->Origin(i)}) {
        ASSERT_TRUE(v.empty() ||
                    (v.data() >= bad.data() && v.data() + v.size() <= bad.data() + bad.size()));
      }
    }
  }
  EXPECT_GT(refused, image.size() / 4);
}

class ProgramImageFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-program-image-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "p.bin").string();
    auto p = Program::Build({{"indicator--1", "[ipv4-addr:value = '10.0.0.1']", "1000"},
                             {"indicator--2", "[domain-name:value = 'a.example']", "2000"},
                             {"indicator--3", "[nonsense", "3000"}},
                            MatchOptions());
    ASSERT_TRUE(p.ok());
    image_.program = *p;
    image_.inactive = 3;
    image_.not_stix = 4;
    image_.withheld = 5;
    image_.next_change = 5000;
    image_.rejected = {{"indicator--3", "syntax"}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::optional<ProgramImage> Read(const IndicatorCacheKey& key, common::Micros now) {
    return ReadProgramImage(path_, key, now, MatchOptions());
  }
  std::filesystem::path dir_;
  std::string path_;
  ProgramImage image_;
  IndicatorCacheKey key_{7, "collections=a\nb"};
};

TEST_F(ProgramImageFileTest, RoundTripWithinItsKeyAndWindow) {
  ASSERT_TRUE(WriteProgramImage(path_, key_, 1000, image_).ok());
  auto got = Read(key_, 4999);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->program->size(), 3u);
  EXPECT_EQ(got->program->IndicatorId(1), "indicator--2");
  EXPECT_EQ(got->program->Stats().indicators, 2u);
  EXPECT_EQ(got->inactive, 3u);
  EXPECT_EQ(got->not_stix, 4u);
  EXPECT_EQ(got->withheld, 5u);
  EXPECT_EQ(got->next_change, 5000);
  ASSERT_EQ(got->rejected.size(), 1u);
  EXPECT_EQ(got->rejected[0].first, "indicator--3");
  auto e = Engine::Create(got->program);
  std::vector<MatchResult> m;
  e->Process(Domain("a.example", 1), 1, &m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(e->IndicatorId(m[0].indicator), "indicator--2");
}

TEST_F(ProgramImageFileTest, OtherGenerationScopeOrTimeIsAMiss) {
  ASSERT_TRUE(WriteProgramImage(path_, key_, 1000, image_).ok());
  EXPECT_FALSE(Read({8, key_.scope}, 2000).has_value());
  EXPECT_FALSE(Read({7, "collections=a"}, 2000).has_value());
  EXPECT_FALSE(Read(key_, 5000).has_value());  // an indicator ended
  EXPECT_FALSE(Read(key_, 999).has_value());   // the clock went back
  EXPECT_FALSE(ReadProgramImage((dir_ / "absent").string(), key_, 2000, MatchOptions()));
  MatchOptions interpret;
  interpret.interpret = true;
  EXPECT_FALSE(ReadProgramImage(path_, key_, 2000, interpret).has_value());
}

TEST_F(ProgramImageFileTest, TruncatedOrCorruptFileIsAMiss) {
  ASSERT_TRUE(WriteProgramImage(path_, key_, 1000, image_).ok());
  const auto size = std::filesystem::file_size(path_);
  for (uintmax_t cut : {size - 1, size / 2, uintmax_t{10}, uintmax_t{0}}) {
    ASSERT_TRUE(WriteProgramImage(path_, key_, 1000, image_).ok());
    std::filesystem::resize_file(path_, cut);
    EXPECT_FALSE(Read(key_, 2000).has_value()) << cut;
  }
  for (uintmax_t at : {uintmax_t{9}, size / 2, size - 30, size - 1}) {
    ASSERT_TRUE(WriteProgramImage(path_, key_, 1000, image_).ok());
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
    f.close();
    EXPECT_FALSE(Read(key_, 2000).has_value()) << at;
  }
}

}  // namespace
}  // namespace accord::match
