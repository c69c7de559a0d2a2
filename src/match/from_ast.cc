// The one file that reads the pattern layer's AST.
//
// It copies the Pattern's index-based arenas into the matcher's self-contained value tree
// (expr.h), so nothing refers back to the Pattern, which may be dropped afterwards. The copy is
// one to one: node kinds, n-ary AND/OR/FOLLOWEDBY nodes and the order of children are kept, so
// leaves come out in the order they were written.
#include "accord/match/engine.h"
#include "accord/pattern/ast.h"
#include "accord/pattern/pattern.h"

namespace accord::match {

namespace {

// Hex and binary constants were decoded to raw bytes by the parser and compare alike (spec
// digest §7), so both become kBytes. Timestamps become microseconds since the epoch (a leap
// second 60 counts as the next second, Timestamp::ToUnixMicros).
Literal ConvertLiteral(const pattern::Literal& l) {
  Literal out;
  switch (l.kind) {
    case pattern::LiteralKind::kString:
      out.kind = Literal::Kind::kString;
      out.s = l.text;
      break;
    case pattern::LiteralKind::kInt:
      out.kind = Literal::Kind::kInt;
      out.i = l.int_value;
      break;
    case pattern::LiteralKind::kFloat:
      out.kind = Literal::Kind::kFloat;
      out.f = l.float_value;
      break;
    case pattern::LiteralKind::kHex:
    case pattern::LiteralKind::kBinary:
      out.kind = Literal::Kind::kBytes;
      out.s = l.text;
      break;
    case pattern::LiteralKind::kBool:
      out.kind = Literal::Kind::kBool;
      out.b = l.bool_value;
      break;
    case pattern::LiteralKind::kTimestamp:
      out.kind = Literal::Kind::kTimestamp;
      out.ts = l.timestamp.ToUnixMicros();
      break;
  }
  return out;
}

CmpOp ConvertOp(pattern::Operator op) {
  switch (op) {
    case pattern::Operator::kEqual: return CmpOp::kEq;
    case pattern::Operator::kNotEqual: return CmpOp::kNe;
    case pattern::Operator::kLess: return CmpOp::kLt;
    case pattern::Operator::kLessEqual: return CmpOp::kLe;
    case pattern::Operator::kGreater: return CmpOp::kGt;
    case pattern::Operator::kGreaterEqual: return CmpOp::kGe;
    case pattern::Operator::kIn: return CmpOp::kIn;
    case pattern::Operator::kLike: return CmpOp::kLike;
    case pattern::Operator::kMatches: return CmpOp::kMatches;
    case pattern::Operator::kIsSubset: return CmpOp::kIsSubset;
    case pattern::Operator::kIsSuperset: return CmpOp::kIsSuperset;
    case pattern::Operator::kExists: return CmpOp::kExists;
  }
  return CmpOp::kEq;
}

// Recursion is bounded by the parser's nesting limit (ParseOptions::max_depth); `depth` is
// passed down but not checked here. Each comparison gets its own copy of its path; the engine
// interns equal paths by their text (ObjectPath::ToString).
CompExpr ConvertComp(const pattern::Pattern& p, pattern::NodeIndex idx, int depth) {
  const pattern::ComparisonNode& n = p.comparisons[idx];
  CompExpr out;
  if (n.kind == pattern::ComparisonKind::kTest) {
    out.kind = CompExpr::Kind::kCmp;
    const pattern::ObjectPath& path = p.PathOf(n);
    out.cmp.path.type = path.type;
    for (const pattern::PathStep& s : p.Steps(path)) {
      PathStep st;
      st.kind = s.kind == pattern::StepKind::kKey     ? PathStep::Kind::kKey
                : s.kind == pattern::StepKind::kIndex ? PathStep::Kind::kIndex
                                                      : PathStep::Kind::kAny;
      st.key = s.key;
      st.index = s.index;
      out.cmp.path.steps.push_back(std::move(st));
    }
    out.cmp.op = ConvertOp(n.op);
    out.cmp.negated = n.negated;
    for (const pattern::Literal& l : p.Values(n)) out.cmp.values.push_back(ConvertLiteral(l));
    return out;
  }
  out.kind = n.kind == pattern::ComparisonKind::kAnd ? CompExpr::Kind::kAnd : CompExpr::Kind::kOr;
  for (pattern::NodeIndex c : p.Children(n)) out.children.push_back(ConvertComp(p, c, depth + 1));
  return out;
}

// Qualifiers wrap exactly one child. ObservationNode::grouped is not carried over: it only
// matters to the printer, not to what the pattern matches.
ObsExpr ConvertObs(const pattern::Pattern& p, pattern::NodeIndex idx) {
  const pattern::ObservationNode& n = p.observations[idx];
  ObsExpr out;
  switch (n.kind) {
    case pattern::ObservationKind::kSimple:
      out.kind = ObsExpr::Kind::kSimple;
      out.comp = ConvertComp(p, n.comparison, 0);
      return out;
    case pattern::ObservationKind::kAnd: out.kind = ObsExpr::Kind::kAnd; break;
    case pattern::ObservationKind::kOr: out.kind = ObsExpr::Kind::kOr; break;
    case pattern::ObservationKind::kFollowedBy: out.kind = ObsExpr::Kind::kFollowedBy; break;
    case pattern::ObservationKind::kWithin:
      out.kind = ObsExpr::Kind::kWithin;
      out.within_seconds = n.within_seconds;
      out.children.push_back(ConvertObs(p, n.child));
      return out;
    case pattern::ObservationKind::kRepeats:
      out.kind = ObsExpr::Kind::kRepeats;
      out.repeats = n.repeats;
      out.children.push_back(ConvertObs(p, n.child));
      return out;
    case pattern::ObservationKind::kStartStop:
      out.kind = ObsExpr::Kind::kStartStop;
      out.start = n.start.ToUnixMicros();
      out.stop = n.stop.ToUnixMicros();
      out.children.push_back(ConvertObs(p, n.child));
      return out;
  }
  for (pattern::NodeIndex c : p.Children(n)) out.children.push_back(ConvertObs(p, c));
  return out;
}

}  // namespace

// Conversion does not require Check(): the conformance test converts unchecked parses to run
// the semantics of patterns the checker refuses. The engine compiles only checked patterns
// (CompilePattern).
absl::StatusOr<ObsExpr> FromPattern(const pattern::Pattern& p) {
  if (p.root == pattern::kNoNode) return absl::InvalidArgumentError("empty pattern");
  return ConvertObs(p, p.root);
}

absl::StatusOr<ObsExpr> CompilePattern(std::string_view text) {
  // Backtracking-only MATCHES constructs were refused at ingest unless the node allowed them
  // for the collection; what is stored is matched, under the PCRE2 limits (MatchOptions).
  pattern::CheckOptions allow;
  allow.allow_backtracking_regex = true;
  ACCORD_ASSIGN_OR_RETURN(pattern::Pattern p, pattern::ParseAndCheck(text, nullptr, {}, allow));
  return FromPattern(p);
}

}  // namespace accord::match
