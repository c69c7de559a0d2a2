// Structural equality of patterns, and Timestamp and operator helpers (ast.h).
//
// Equality is what the printer's round-trip property is stated in: Parse(Print(p)) == p
// (pattern.h), checked by fuzz/pattern/pattern_fuzz.cc. It therefore compares what the
// canonical text preserves (kinds, operators, decoded literals, the order of children,
// `grouped`) and ignores what it does not (source offsets, the source text).
#include "accord/pattern/ast.h"

#include <cmath>

#include "accord/common/time.h"
#include "pattern/lexer.h"

namespace accord::pattern {
namespace {

using common::DaysFromCivil;
bool IsLeap(int64_t y) { return common::IsLeapYear(y); }

// Compares decoded values, so spellings that decode alike are equal: h'AB' and h'ab', +1 and 1.
bool LiteralEq(const Literal& a, const Literal& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case LiteralKind::kString:
    case LiteralKind::kHex:
    case LiteralKind::kBinary: return a.text == b.text;
    case LiteralKind::kInt: return a.int_value == b.int_value;
    case LiteralKind::kFloat:
      // Bitwise, so -0.0 and 0.0 differ like their spellings.
      return a.float_value == b.float_value &&
             std::signbit(a.float_value) == std::signbit(b.float_value);
    case LiteralKind::kBool: return a.bool_value == b.bool_value;
    case LiteralKind::kTimestamp: return a.timestamp == b.timestamp;
  }
  return false;
}

bool StepEq(const PathStep& a, const PathStep& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == StepKind::kKey) return a.key == b.key;
  if (a.kind == StepKind::kIndex) return a.index == b.index;
  return true;
}

// The two paths may belong to different patterns: each one's step span indexes its own
// pattern's arena, hence the pattern arguments.
bool PathEq(const Pattern& pa, const ObjectPath& a, const Pattern& pb, const ObjectPath& b) {
  if (a.type != b.type || a.steps.size != b.steps.size) return false;
  auto sa = pa.Steps(a);
  auto sb = pb.Steps(b);
  for (size_t i = 0; i < sa.size(); ++i) {
    if (!StepEq(sa[i], sb[i])) return false;
  }
  return true;
}

// Walks both trees in step. Children are compared in order: `a AND b` and `b AND a` are
// different patterns, as the canonical form keeps the written order.
bool CompEq(const Pattern& pa, NodeIndex ia, const Pattern& pb, NodeIndex ib) {
  const ComparisonNode& a = pa.comparisons[ia];
  const ComparisonNode& b = pb.comparisons[ib];
  if (a.kind != b.kind) return false;
  if (a.kind != ComparisonKind::kTest) {
    if (a.children.size != b.children.size) return false;
    auto ca = pa.Children(a);
    auto cb = pb.Children(b);
    for (size_t i = 0; i < ca.size(); ++i) {
      if (!CompEq(pa, ca[i], pb, cb[i])) return false;
    }
    return true;
  }
  if (a.op != b.op || a.negated != b.negated || a.values.size != b.values.size) return false;
  if (!PathEq(pa, pa.paths[a.path], pb, pb.paths[b.path])) return false;
  auto va = pa.Values(a);
  auto vb = pb.Values(b);
  for (size_t i = 0; i < va.size(); ++i) {
    if (!LiteralEq(va[i], vb[i])) return false;
  }
  return true;
}

bool ObsEq(const Pattern& pa, NodeIndex ia, const Pattern& pb, NodeIndex ib) {
  const ObservationNode& a = pa.observations[ia];
  const ObservationNode& b = pb.observations[ib];
  // `grouped` counts: it keeps parentheses that the duplicate-qualifier rule depends on.
  if (a.kind != b.kind || a.grouped != b.grouped) return false;
  switch (a.kind) {
    case ObservationKind::kSimple: return CompEq(pa, a.comparison, pb, b.comparison);
    case ObservationKind::kAnd:
    case ObservationKind::kOr:
    case ObservationKind::kFollowedBy: {
      if (a.children.size != b.children.size) return false;
      auto ca = pa.Children(a);
      auto cb = pb.Children(b);
      for (size_t i = 0; i < ca.size(); ++i) {
        if (!ObsEq(pa, ca[i], pb, cb[i])) return false;
      }
      return true;
    }
    // Qualifiers: compare the argument here, the qualified child after the switch.
    case ObservationKind::kWithin:
      if (a.within_seconds != b.within_seconds) return false;
      break;
    case ObservationKind::kRepeats:
      if (a.repeats != b.repeats) return false;
      break;
    case ObservationKind::kStartStop:
      if (!(a.start == b.start) || !(a.stop == b.stop)) return false;
      break;
  }
  return ObsEq(pa, a.child, pb, b.child);
}

}  // namespace

// Proleptic Gregorian days (common::DaysFromCivil) plus the time of day. No range check is
// needed: the grammar gives four-digit years.
int64_t Timestamp::ToUnixMicros() const {
  int64_t days = DaysFromCivil(year, month, day);
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  return secs * 1000000 + micros;
}

// The grammar admits days such as 2024-02-30; Check() rejects them with this (spec digest §5
// rule 6).
bool Timestamp::IsCalendarValid() const {
  static constexpr uint8_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60 || micros < 0 ||
      micros > 999999) {
    return false;
  }
  unsigned max = kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  return day <= max;
}

const char* OperatorName(Operator op) {
  switch (op) {
    case Operator::kEqual: return "=";
    case Operator::kNotEqual: return "!=";
    case Operator::kLess: return "<";
    case Operator::kLessEqual: return "<=";
    case Operator::kGreater: return ">";
    case Operator::kGreaterEqual: return ">=";
    case Operator::kIn: return "IN";
    case Operator::kLike: return "LIKE";
    case Operator::kMatches: return "MATCHES";
    case Operator::kIsSubset: return "ISSUBSET";
    case Operator::kIsSuperset: return "ISSUPERSET";
    case Operator::kExists: return "EXISTS";
  }
  return "?";
}

uint32_t Pattern::ColumnOf(uint32_t offset) const { return detail::ColumnAt(source, offset); }

// An empty pattern (no root) equals only another empty pattern.
bool operator==(const Pattern& a, const Pattern& b) {
  if (a.root == kNoNode || b.root == kNoNode) return a.root == b.root;
  return ObsEq(a, a.root, b, b.root);
}

}  // namespace accord::pattern
