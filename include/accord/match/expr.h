// The matcher's own form of a STIX pattern: a small, self-contained tree that the reference
// interpreter and the compiled engine both read. It is built from the pattern layer's typed
// AST (src/match/from_ast.cc), so the matcher depends on the AST in exactly one file.
//
// Plain value types; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accord/common/time.h"

namespace accord::match {

/// A pattern constant (STIX 2.1 §9.2). Binary and hex constants are both kBytes.
struct Literal {
  enum class Kind : uint8_t { kBool, kInt, kFloat, kString, kBytes, kTimestamp };
  Kind kind = Kind::kString;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;          // kString: UTF-8 text; kBytes: the raw bytes
  common::Micros ts = 0;  // kTimestamp
};

/// One step of an object path after the first property (which is a kKey step too).
struct PathStep {
  enum class Kind : uint8_t { kKey, kIndex, kAny };
  Kind kind = Kind::kKey;
  std::string key;    // kKey
  int64_t index = 0;  // kIndex (negative never resolves)
};

struct ObjectPath {
  std::string type;             // SCO type, e.g. "ipv4-addr"
  std::vector<PathStep> steps;  // at least one
  /// Canonical text, "type:a.b[*]", distinct for distinct paths; the engine's key for paths.
  std::string ToString() const;
};

enum class CmpOp : uint8_t {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kLike,
  kMatches,
  kIsSubset,
  kIsSuperset,
  kExists
};

/// `path [NOT] op value(s)`; for kIn `values` is the set, otherwise one value (none for
/// kExists).
struct Comparison {
  ObjectPath path;
  CmpOp op = CmpOp::kEq;
  bool negated = false;
  std::vector<Literal> values;
};

/// Boolean structure inside one pair of brackets.
struct CompExpr {
  enum class Kind : uint8_t { kCmp, kAnd, kOr };
  Kind kind = Kind::kCmp;
  Comparison cmp;                  // kCmp
  std::vector<CompExpr> children;  // kAnd, kOr (two or more)
};

/// Observation-level structure with qualifiers (STIX 2.1 §9.5).
struct ObsExpr {
  enum class Kind : uint8_t { kSimple, kAnd, kOr, kFollowedBy, kRepeats, kWithin, kStartStop };
  Kind kind = Kind::kSimple;
  CompExpr comp;                       // kSimple
  std::vector<ObsExpr> children;       // kAnd/kOr/kFollowedBy: two or more; qualifiers: one
  int64_t repeats = 0;                 // kRepeats
  double within_seconds = 0;           // kWithin
  common::Micros start = 0, stop = 0;  // kStartStop
};

}  // namespace accord::match
