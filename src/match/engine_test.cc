// Differential test: the compiled engine (indexes + confirmation) against plain
// interpretation of every leaf on every observation, on random patterns and events.
#include <algorithm>
#include <random>

#include "accord/match/engine.h"
#include "gtest/gtest.h"
#include "match/random_patterns_test_util.h"

namespace accord::match {
namespace {

using test_util::MakeEvent;
using test_util::RandomPattern;

TEST(EngineDifferentialTest, CompiledAgreesWithInterpretation) {
  std::mt19937 rng(42);
  std::vector<IndicatorSpec> specs;
  for (int i = 0; i < 400; ++i)
    specs.push_back({"indicator--" + std::to_string(i), RandomPattern(rng)});
  // PERF: windows of 16 instead of the default 64. A two-observation pattern whose windows are
  // full binds 16x16 pairs per event instead of 64x64, which made this test two minutes of
  // CI's ASan run; the windows still fill and evict, identically in both engines.
  MatchOptions compiled_opts, interp_opts;
  compiled_opts.max_window_per_indicator = interp_opts.max_window_per_indicator = 16;
  interp_opts.interpret = true;
  std::vector<std::pair<uint32_t, std::string>> rejected;
  auto compiled = Engine::Build(specs, compiled_opts, &rejected);
  auto interp = Engine::Build(specs, interp_opts);
  ASSERT_TRUE(compiled.ok() && interp.ok());
  EXPECT_TRUE(rejected.empty()) << rejected[0].second << " in " << specs[rejected[0].first].pattern;
  EngineStats s = (*compiled)->Stats();
  EXPECT_GT(s.exact_keys, 0u);
  EXPECT_GT(s.cidr_entries, 0u);
  EXPECT_GT(s.regex_entries, 0u);
  Observation o;
  uint64_t total = 0;
  for (int t = 0; t < 1500; ++t) {
    MakeEvent(rng, t, &o);
    std::vector<MatchResult> a, b;
    (*compiled)->Process(o, static_cast<uint64_t>(t) + 1, &a);
    (*interp)->Process(o, static_cast<uint64_t>(t) + 1, &b);
    ASSERT_EQ(a.size(), b.size()) << "event " << t;
    auto by_indicator = [](const MatchResult& x, const MatchResult& y) {
      return x.indicator < y.indicator;
    };
    std::sort(a.begin(), a.end(), by_indicator);
    std::sort(b.begin(), b.end(), by_indicator);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].indicator, b[i].indicator);
      EXPECT_EQ(a[i].events, b[i].events) << specs[a[i].indicator].pattern;
    }
    total += a.size();
  }
  EXPECT_GT(total, 500u);
  // The compiled engine confirms far fewer leaves than interpretation visits.
  EXPECT_LT((*compiled)->Stats().candidates, (*interp)->Stats().candidates);
}

TEST(EngineTest, ExactIndicatorReportsValueAndPosition) {
  auto e = Engine::Build({{"indicator--a", "[ipv4-addr:value = '10.0.0.1']"},
                          {"indicator--b", "[domain-name:value = 'nope']"}},
                         MatchOptions());
  ASSERT_TRUE(e.ok());
  Observation o;
  o.Open();
  o.AddString("value", "10.0.0.1");
  o.AddSco(o.Close(Node::Kind::kObject), "ipv4-addr", "x");
  std::vector<MatchResult> out;
  (*e)->Process(o, 7, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ((*e)->IndicatorId(out[0].indicator), "indicator--a");
  EXPECT_EQ(out[0].events, std::vector<uint64_t>{7});
  EXPECT_EQ(out[0].values, std::vector<std::string>{"10.0.0.1"});
}

// MATCHES finds its match wherever the value puts it. Debian 12's Vectorscan (5.4.9) misses
// some regular expressions at some offsets on CPUs with AVX-512 (fixed upstream in 5.4.12/13):
// with it, these indicators went unmatched for most lengths of the part before the match. The
// expected hits follow from the patterns alone: every value below holds a match.
TEST(EngineTest, RegexMatchesAtEveryOffset) {
  auto e = Engine::Build(
      {{"indicator--tld", R"([domain-name:value MATCHES '[\\w-]+\\.(top|xyz|ru)'])"},
       {"indicator--gap", R"([url:value MATCHES 'x[^a]*y'])"},
       {"indicator--mail", R"([email-addr:value MATCHES '[\\w.+-]+@[\\w-]+\\.[\\w.]+'])"}},
      MatchOptions());
  ASSERT_TRUE(e.ok()) << e.status();
  struct Probe {
    const char* type;
    const char* tail;  // appended to a run of 'a's
  };
  for (const Probe& p : {Probe{"domain-name", "-bad-domain.top"}, Probe{"url", "-x-----y"},
                         Probe{"email-addr", ".info@beta.com"}}) {
    int missed = 0;
    for (int pad = 0; pad < 200; ++pad) {
      Observation o;
      o.Open();
      o.AddString("value", std::string(static_cast<size_t>(pad), 'a') + p.tail);
      o.AddSco(o.Close(Node::Kind::kObject), p.type, "x");
      std::vector<MatchResult> out;
      (*e)->Process(o, static_cast<uint64_t>(pad) + 1, &out);
      if (out.size() != 1) ++missed;
    }
    EXPECT_EQ(missed, 0) << p.type << ": values of 200 lengths";
  }
}

TEST(EngineTest, TemporalWindowIsBoundedAndCountsEvictions) {
  MatchOptions opts;
  opts.max_window_per_indicator = 4;
  auto e = Engine::Build(
      {{"indicator--t", "[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [ipv4-addr:value = '2.2.2.2']"}},
      opts);
  ASSERT_TRUE(e.ok());
  Observation o;
  std::vector<MatchResult> out;
  for (int i = 0; i < 10; ++i) {
    o.Clear();
    o.first_observed = o.last_observed = i * 1000000;
    o.Open();
    o.AddString("value", "1.1.1.1");
    o.AddSco(o.Close(Node::Kind::kObject), "ipv4-addr", "x");
    (*e)->Process(o, static_cast<uint64_t>(i) + 1, &out);
  }
  EXPECT_TRUE(out.empty());
  EXPECT_EQ((*e)->Stats().evicted, 6u);
  o.Clear();
  o.first_observed = o.last_observed = 20 * 1000000;
  o.Open();
  o.AddString("value", "2.2.2.2");
  o.AddSco(o.Close(Node::Kind::kObject), "ipv4-addr", "x");
  (*e)->Process(o, 11, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].events.size(), 2u);
  EXPECT_EQ(out[0].events.back(), 11u);
}

// A REPEATS count near 2^62 passes the checker (it is a valid integer); the binding search's
// width bound once multiplied it by the child's width in int64 (signed overflow, UB). Under
// UBSan (the CI build) the old code aborts here.
TEST(EngineTest, HugeRepeatsCountDoesNotOverflow) {
  auto e =
      Engine::Build({{"indicator--r",
                      "([ipv4-addr:value = '1.1.1.1'] AND [ipv4-addr:value = '2.2.2.2']) REPEATS "
                      "4611686018427387904 TIMES"}},
                    MatchOptions());
  ASSERT_TRUE(e.ok());
  Observation o;
  std::vector<MatchResult> out;
  for (int i = 0; i < 4; ++i) {
    o.Clear();
    o.first_observed = o.last_observed = i * 1000000;
    o.Open();
    o.AddString("value", i % 2 ? "2.2.2.2" : "1.1.1.1");
    o.AddSco(o.Close(Node::Kind::kObject), "ipv4-addr", "x");
    (*e)->Process(o, static_cast<uint64_t>(i) + 1, &out);
  }
  // Two pairs of observations cannot satisfy 2^62 repetitions.
  EXPECT_TRUE(out.empty());
}

// Issue 10: a planted regex with nested quantifiers under a lookahead defeats Vectorscan's
// prefilter and backtracks exponentially in PCRE2. Each value must stop at the match limit,
// and after regex_disable_after such values the indicator is switched off, while a clean
// indicator on the same values keeps matching.
TEST(EngineTest, CatastrophicRegexHitsTheLimitAndIsDisabled) {
  MatchOptions opts;
  opts.regex_disable_after = 5;
  auto e = Engine::Build(
      {{"indicator--hostile", "[domain-name:value MATCHES '(?=(\\\\w+\\\\.?)+!)']"},
       {"indicator--clean", "[domain-name:value = 'abcdefghijklmnopqrstuvwxyz0123.example']"}},
      opts);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ((*e)->Stats().rejected, 0u);
  Observation o;
  std::vector<MatchResult> out;
  const int kEvents = 50;
  for (int i = 0; i < kEvents; ++i) {
    o.Clear();
    o.Open();
    // 30 word characters and no '!': (\w+\.?)+ has 2^29 ways to split them before failing.
    o.AddString("value", "abcdefghijklmnopqrstuvwxyz0123.example");
    o.AddSco(o.Close(Node::Kind::kObject), "domain-name", "d");
    (*e)->Process(o, static_cast<uint64_t>(i) + 1, &out);
  }
  EngineStats s = (*e)->Stats();
  // Exactly five values ran into the limit; after that the indicator was never confirmed.
  EXPECT_EQ(s.regex_limit_hits, 5u);
  EXPECT_EQ(s.disabled, 1u);
  ASSERT_EQ((*e)->Disabled().size(), 1u);
  EXPECT_EQ((*e)->IndicatorId((*e)->Disabled()[0]), "indicator--hostile");
  // The clean indicator matched every event; the hostile one never did.
  ASSERT_EQ(out.size(), static_cast<size_t>(kEvents));
  for (const MatchResult& m : out) EXPECT_EQ((*e)->IndicatorId(m.indicator), "indicator--clean");
}

}  // namespace
}  // namespace accord::match

namespace accord::match {
namespace {

// One event with one ipv4-addr at time t seconds.
void IpEvent(const std::string& ip, int t, Observation* o) {
  o->Clear();
  o->first_observed = o->last_observed = static_cast<common::Micros>(t) * 1000000;
  o->Open();
  o->AddString("value", ip);
  o->AddSco(o->Close(Node::Kind::kObject), "ipv4-addr", "0");
}

const char* kSeqId = "indicator--00000000-0000-4000-8000-0000000000a1";
const char* kPlainId = "indicator--00000000-0000-4000-8000-0000000000a2";
const char* kSeq =
    "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.2'] WITHIN 60 SECONDS";

// Issue 11: a reload carries the temporal windows over to the new engine for the indicators
// with the same id and version, at new indexes, with their stream positions.
TEST(EngineReloadTest, WindowsMoveToTheSameIndicatorVersion) {
  auto old = Engine::Build({{kSeqId, kSeq, "v1"}}, MatchOptions{});
  ASSERT_TRUE(old.ok()) << old.status();
  Observation o;
  std::vector<MatchResult> out;
  IpEvent("10.0.0.1", 100, &o);
  (*old)->Process(o, 1, &out);
  EXPECT_TRUE(out.empty());
  // The new program puts another indicator first: the sequence moves from index 0 to 1.
  auto fresh = Engine::Build(
      {{kPlainId, "[ipv4-addr:value = '10.0.0.9']", "v1"}, {kSeqId, kSeq, "v1"}}, MatchOptions{});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ((*fresh)->TakeStateFrom(**old), 0u);
  IpEvent("10.0.0.2", 130, &o);  // 30 s later: within the 60 s
  (*fresh)->Process(o, 2, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].indicator, 1u);
  EXPECT_EQ(out[0].events, (std::vector<uint64_t>{1, 2}));
  // The old engine gave its window away: the same second half finds nothing there.
  out.clear();
  (*old)->Process(o, 2, &out);
  EXPECT_TRUE(out.empty());
}

TEST(EngineReloadTest, AChangedVersionStartsEmpty) {
  auto old = Engine::Build({{kSeqId, kSeq, "v1"}}, MatchOptions{});
  ASSERT_TRUE(old.ok());
  Observation o;
  std::vector<MatchResult> out;
  IpEvent("10.0.0.1", 100, &o);
  (*old)->Process(o, 1, &out);
  auto fresh = Engine::Build({{kSeqId, kSeq, "v2"}}, MatchOptions{});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->TakeStateFrom(**old), 1u);  // one observation dropped
  IpEvent("10.0.0.2", 130, &o);
  (*fresh)->Process(o, 2, &out);
  EXPECT_TRUE(out.empty());
}

// Two engines over one program keep separate windows: the program holds no match state.
TEST(EngineReloadTest, EnginesSharingAProgramKeepTheirOwnWindows) {
  auto program = Program::Build({{kSeqId, kSeq, "v1"}}, MatchOptions{});
  ASSERT_TRUE(program.ok()) << program.status();
  auto a = Engine::Create(*program), b = Engine::Create(*program);
  EXPECT_EQ(a->program().get(), program->get());
  Observation o;
  std::vector<MatchResult> out;
  IpEvent("10.0.0.1", 100, &o);
  a->Process(o, 1, &out);
  IpEvent("10.0.0.2", 110, &o);
  b->Process(o, 1, &out);  // b never saw the first half
  EXPECT_TRUE(out.empty());
  a->Process(o, 2, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].events, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(a->Stats().observations, 2u);
  EXPECT_EQ(b->Stats().observations, 1u);
}

}  // namespace
}  // namespace accord::match
