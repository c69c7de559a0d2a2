// The matching engine: every active indicator compiled into one program, run over a stream of
// observations (../shared/DESIGN.md, "The matcher is a compiler"; semantics in
// ../shared/spec/STIX21-patterning.md).
//
//   auto engine = Engine::Build(indicators, options);     // off the hot path
//   for each observation o at 1-based stream position p:
//     engine->Process(o, p, &matches);                     // hot path, no I/O
//
// Two parts (issue 11):
//   * a Program: the compiled indicators (indexes, key arena, Vectorscan databases).
//     Immutable once built, shared read-only through shared_ptr<const Program> by any number
//     of engines on any threads;
//   * an Engine: one thread's matcher over a program, owning its scratch space, temporal
//     windows and counters. Not thread-safe: use one per thread.
//
//   auto program = Program::Build(indicators, options);    // any thread, off the hot path
//   auto engine = Engine::Create(*program);
//   ... on a store change:
//   auto fresh = Engine::Create(*Program::Build(new_indicators, options));
//   fresh->TakeStateFrom(*engine);                          // windows carried over
//   engine = std::move(fresh);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/status.h"
#include "accord/match/event.h"
#include "accord/match/expr.h"

namespace accord::pattern {
struct Pattern;
}

namespace accord::match {

/// Converts a parsed and checked pattern into the matcher's form.
absl::StatusOr<ObsExpr> FromPattern(const pattern::Pattern& p);
/// Parse + Check + FromPattern.
absl::StatusOr<ObsExpr> CompilePattern(std::string_view text);

struct MatchOptions {
  /// WITHIN uses the spec's half-open window (STIX 2.1 §9.5.1); false = the reference
  /// matcher's closed window (spec digest §15.1).
  bool strict_within = true;
  /// Bound on bindings kept per sub-expression in the combinatorial search.
  size_t max_bindings = 4096;
  /// Temporal state: observations remembered per indicator, and in total. Older ones are
  /// evicted first and counted (Stats::evicted).
  size_t max_window_per_indicator = 64;
  size_t max_window_total = 1u << 20;
  /// Compiled engine (indexes) or plain interpretation of every leaf on every observation
  /// (the reference, for differential tests).
  bool interpret = false;
  /// PCRE2 bounds for MATCHES and LIKE confirmation, as Suricata's pcre `match-limit` and
  /// `match-limit-recursion`: a regex that needs more backtracking than this on one value
  /// fails that value (counted in EngineStats::regex_limit_hits) instead of running to
  /// PCRE2's default of 10,000,000 steps. 0 keeps PCRE2's default.
  uint32_t regex_match_limit = 20000;
  uint32_t regex_depth_limit = 2000;
  /// An indicator whose regular expressions hit those limits this many times is disabled for
  /// the rest of the engine's life (Engine::Disabled() names it); 0 never disables.
  uint32_t regex_disable_after = 100;
};

/// Whole-set semantics (the conformance oracle): does `e` match the observations? On a match
/// `binding` receives the indexes of the observations of the first binding found.
/// `type_errors` (may be null) counts comparisons whose value had the wrong type for the
/// literal (a non-timestamp string against t'...'): the reference matcher raises there; we
/// count and treat the comparison as false (spec digest §15.12).
bool MatchAll(const ObsExpr& e, const std::vector<Observation>& observations,
              const MatchOptions& options, std::vector<uint32_t>* binding = nullptr,
              uint64_t* type_errors = nullptr);

/// One indicator to compile.
struct IndicatorSpec {
  IndicatorSpec() = default;
  IndicatorSpec(std::string id_, std::string pattern_, std::string version_ = {})
      : id(std::move(id_)), pattern(std::move(pattern_)), version(std::move(version_)) {}
  std::string id;       // indicator--...
  std::string pattern;  // STIX pattern text
  /// Names this version of the indicator (its `modified`): state moves from one engine to the
  /// next (Engine::TakeStateFrom) only between indicators with the same id and version.
  std::string version;
  /// Kept for the caller and returned by Program::Name() and Program::Origin(), not read by
  /// matching: the indicator's `name`, and where it comes from (the match command's
  /// collection ids). Origins are interned: indicators from the same place share one copy.
  std::string name;
  std::string origin;
};

/// One match on the stream.
struct MatchResult {
  uint32_t indicator = 0;           // index into the Build() input
  std::vector<uint64_t> events;     // 1-based positions of the observations in the binding
  std::vector<std::string> values;  // the values that satisfied comparisons
};

/// Whether a Vectorscan build that finds every match of some known cases is in use (checked
/// once per process). Debian 12's (5.4.9) misses some at some offsets on CPUs with AVX-512; its
/// AVX2 build is used then, when it passes; when none does, engines leave the databases unused
/// and PCRE2 checks every LIKE/MATCHES comparison of a value's path (docs/MATCH_INPUTS.md).
bool VectorscanUsable();

struct EngineStats {
  uint64_t indicators = 0;
  uint64_t rejected = 0;         // patterns that failed to parse/check
  uint64_t exact_keys = 0;       // (path, value) keys in the hash index
  uint64_t cidr_entries = 0;     // prefixes in the CIDR tables
  uint64_t regex_entries = 0;    // LIKE/MATCHES in the Vectorscan databases
  uint64_t residual_leaves = 0;  // leaves visited for every SCO of their type
  uint64_t temporal = 0;         // indicators with state across observations
  uint64_t observations = 0;
  uint64_t candidates = 0;  // leaves confirmed exactly
  uint64_t evicted = 0;     // observations dropped from temporal windows
  uint64_t type_errors = 0;
  uint64_t regex_errors = 0;
  uint64_t regex_limit_hits = 0;  // values on which a regex hit the PCRE2 limits
  uint64_t disabled = 0;          // indicators disabled for hitting them too often
  uint64_t truncated_bindings = 0;
  uint64_t memory_bytes = 0;  // approximate size of the compiled program
};

/// The compiled indicators. Immutable: every method is const and safe from any thread.
class Program {
 public:
  virtual ~Program() = default;
  /// Compiles `indicators`. Patterns that fail to parse or check are skipped; their index
  /// and error go to `rejected` (may be null).
  static absl::StatusOr<std::shared_ptr<const Program>> Build(
      const std::vector<IndicatorSpec>& indicators, const MatchOptions& options,
      std::vector<std::pair<uint32_t, std::string>>* rejected = nullptr);
  /// Indicators, counting rejected ones (the Build() input's numbering).
  virtual size_t size() const = 0;
  virtual std::string IndicatorId(uint32_t index) const = 0;
  /// The pattern of indicator `index` when the program keeps it (the indicators that keep a
  /// tree: anything but one equality); "" otherwise.
  virtual std::string Pattern(uint32_t index) const = 0;
  /// IndicatorSpec::name and IndicatorSpec::origin of indicator `index` ("" when out of range);
  /// views valid for the program's lifetime.
  virtual std::string_view Name(uint32_t index) const = 0;
  virtual std::string_view Origin(uint32_t index) const = 0;
  /// The SCO types that some compiled comparison mentions, sorted; {"*"} when any type may
  /// matter (interpretation mode). An observation's SCOs of other types cannot change a match.
  virtual std::vector<std::string> Types() const = 0;
  /// What was compiled (indicators, keys, memory); the matching counters are zero.
  virtual EngineStats Stats() const = 0;

  /// The compiled program as bytes, for the start-up cache (program_image.h): the indexes as
  /// they are, the patterns of the indicators that keep a tree, and the Vectorscan databases
  /// serialised. FailedPrecondition for an interpreting program (nothing is compiled).
  virtual absl::StatusOr<std::string> Image() const = 0;
  /// The program of Image() bytes (made by this build of Accord), with `options` for what
  /// matching reads. Only the trees of complex indicators are compiled again; the indexes are
  /// taken as they are. Every index in the bytes is checked: corrupt bytes give
  /// InvalidArgument, never a crash or an out-of-bounds read later.
  static absl::StatusOr<std::shared_ptr<const Program>> FromImage(std::string image,
                                                                  const MatchOptions& options);
  /// The same over bytes that `owner` keeps alive (a mapped file): the key tables are probed
  /// where they lie, so the program holds `owner` for its lifetime.
  static absl::StatusOr<std::shared_ptr<const Program>> FromImage(std::string_view image,
                                                                  std::shared_ptr<const void> owner,
                                                                  const MatchOptions& options);
};

class Engine {
 public:
  virtual ~Engine() = default;
  /// Program::Build, then Create.
  static absl::StatusOr<std::unique_ptr<Engine>> Build(
      const std::vector<IndicatorSpec>& indicators, const MatchOptions& options,
      std::vector<std::pair<uint32_t, std::string>>* rejected = nullptr);
  /// A matcher over `program`, which it keeps alive. Cheap: scratch space sized to it.
  static std::unique_ptr<Engine> Create(std::shared_ptr<const Program> program);
  virtual const std::shared_ptr<const Program>& program() const = 0;

  /// Takes over the state `old` keeps for indicators that this engine's program has with the
  /// same id and version: the temporal windows (observations awaiting the rest of a
  /// binding, with their stream positions, so the caller keeps numbering the same stream)
  /// and the regex-limit counts and disabled indicators. `old` must have been made by
  /// Create(); its windows are left empty. Returns the observations dropped from windows of
  /// indicators that are gone or changed.
  virtual uint64_t TakeStateFrom(Engine& old) = 0;

  /// Matches one observation at stream position `position` (1-based); appends matches.
  /// A temporal indicator matches on the observation that completes a binding, and reports
  /// the positions of all of its observations, which are then not reused for that indicator.
  /// `o` is only read during the call.
  virtual void Process(const Observation& o, uint64_t position, std::vector<MatchResult>* out) = 0;
  /// Id of indicator `index` (the Build() input's numbering). The reference is valid until
  /// the next call.
  virtual const std::string& IndicatorId(uint32_t index) const = 0;
  /// Counters since Build(); cheap (a copy).
  virtual EngineStats Stats() const = 0;
  /// Indicators disabled since Build() because their regular expressions kept hitting the
  /// PCRE2 limits (MatchOptions::regex_disable_after), in the order they were disabled. A
  /// disabled indicator never matches again; the caller should report it by id.
  virtual std::vector<uint32_t> Disabled() const = 0;
};

}  // namespace accord::match
