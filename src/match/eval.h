// Reference semantics of STIX patterning over the event model: value comparison, object path
// resolution, comparison expressions on one observation, and bindings of observation
// expressions over many observations (../shared/spec/STIX21-patterning.md §6-§11).
// Both the reference interpreter and the compiled engine use this code to decide; the
// compiled engine only uses it on candidates its indexes selected.
//
// Not thread-safe (caches and scratch buffers); one Evaluator per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "accord/common/ip.h"
#include "accord/match/event.h"
#include "accord/match/expr.h"

namespace accord::match::detail {

/// A resolved property value (a candidate for a comparison).
struct Cand {
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kBytes, kList, kObject };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string_view s;
};

/// range(a) is inside range(b) (same family); ranges from common::ParseIpPrefix.
bool IpSubset(const common::IpPrefix& a, const common::IpPrefix& b);

/// NFC normalisation (identity fast path for ASCII). Returns `s` or a view into `*buf`.
std::string_view Nfc(std::string_view s, std::string* buf);
/// The reference LIKE -> regex conversion (§8.4): anchored, % -> .*, _ -> ., rest literal.
std::string LikeToRegex(std::string_view like_nfc, bool bytes);
/// Converts UTF-8 text whose code points are all < U+0100 to bytes; false otherwise.
bool Latin1Bytes(std::string_view utf8, std::string* out);

struct EvalOptions {
  /// WITHIN: the spec's half-open window (latest - earliest < x). false: the reference
  /// matcher's closed window (<= x).
  bool strict_within = true;
  /// Upper bound on bindings kept per sub-expression (the search is combinatorial).
  size_t max_bindings = 4096;
};

struct EvalCounters {
  uint64_t type_errors = 0;         // e.g. a non-timestamp string compared with t'...'
  uint64_t regex_errors = 0;        // regex that PCRE2 refused or failed on
  uint64_t regex_limit_hits = 0;    // values on which PCRE2 hit the match or depth limit
  uint64_t truncated_bindings = 0;  // binding lists cut at max_bindings
};

class Evaluator {
 public:
  Evaluator();
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  /// True if some root SCO of `o` satisfies `e` (§6.3). If `values` is given, the values
  /// that satisfied comparisons on the successful root are appended (as text).
  bool EvalComp(const CompExpr& e, const Observation& o,
                std::vector<std::string>* values = nullptr);
  /// One comparison on one root object (whose type already equals the path's type).
  bool EvalCmp(const Comparison& c, const Observation& o, const Node& root,
               std::vector<std::string>* values);
  /// Candidate values of `p` on `root`.
  void Resolve(const Observation& o, const Node& root, const ObjectPath& p, std::vector<Cand>* out);
  /// Does value `v` satisfy the (un-negated) operator against the literal(s)?
  bool Test(const Comparison& c, const Cand& v);
  /// Bounds every later PCRE2 match (0: PCRE2's default). A value on which the bound is hit
  /// does not match and counts in counters.regex_limit_hits.
  void SetRegexLimits(uint32_t match_limit, uint32_t depth_limit);

  EvalCounters counters;

 private:
  bool EvalOnRoot(const CompExpr& e, const Observation& o, const Node& root, std::string_view type,
                  std::vector<std::string>* values);
  void Step(const Observation& o, const Node& cur, const ObjectPath& p, size_t i, bool deref_elems,
            std::vector<Cand>* out);
  bool Regex(const std::string& re, bool bytes, std::string_view subject);

  struct Compiled;
  struct MatchContext;
  absl::flat_hash_map<std::string, std::unique_ptr<Compiled>> regex_cache_;
  std::unique_ptr<MatchContext> match_context_;  // null: PCRE2's default limits
  std::deque<std::string> scratch_;              // decoded _hex/_bin values (stable addresses)
  size_t scratch_used_ = 0;
  std::vector<std::vector<Cand>> cand_stack_;
  size_t depth_ = 0;
  std::string nfc_buf_, nfc_buf2_, bytes_buf_;
};

/// What the binding search needs to know about one observation.
struct ObsFacts {
  common::Micros first = 0, last = 0;
  int64_t number_observed = 1;
};

/// Leaves (kSimple nodes) of an observation expression in depth-first order.
void CollectLeaves(const ObsExpr& e, std::vector<const ObsExpr*>* out);
/// Maximum number of observation instances one binding of `e` can use.
int64_t Width(const ObsExpr& e);

/// Searches bindings (§9-§11). `sat(obs, leaf)` says whether observation `obs` satisfies leaf
/// number `leaf`. On success `*binding` receives the distinct observation indexes of the
/// first binding, ascending.
bool FindBinding(const ObsExpr& e, const std::vector<ObsFacts>& facts,
                 const std::vector<std::vector<uint8_t>>& sat, const EvalOptions& opts,
                 EvalCounters* counters, std::vector<uint32_t>* binding);

}  // namespace accord::match::detail
