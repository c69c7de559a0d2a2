// Recursive-descent parser for STIXPattern.g4 (spec digest §3). Builds the arena AST of
// accord/pattern/ast.h directly, flattening AND/OR chains and dropping redundant parentheses.
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/encoding.h"
#include "accord/pattern/pattern.h"
#include "pattern/lexer.h"

namespace accord::pattern {
namespace {

using detail::Excerpt;
using detail::Lexer;
using detail::Tok;
using detail::Token;
using detail::TokName;

// The postfix qualifiers of spec digest §10 (WITHIN, REPEATS, START/STOP).
bool IsQualifierKind(ObservationKind k) {
  return k == ObservationKind::kWithin || k == ObservationKind::kRepeats ||
         k == ObservationKind::kStartStop;
}

// One Parser per Parse() call; it owns nothing shared, so concurrent Parse() calls on different
// threads are safe. Error handling: the first failure is recorded in status_ and every parse
// function returns false up the stack; later Fail calls never overwrite the first message.
// Recursion is bounded: every '(' '[' and qualifier goes through Enter(), which caps depth at
// ParseOptions::max_depth (1000 by default) so hostile input cannot overflow the stack.
class Parser {
 public:
  Parser(std::string_view src, const ParseOptions& opt) : lex_(src), src_(src), opt_(opt) {}

  absl::StatusOr<Pattern> Run() {
    p_.source.assign(src_.data(), src_.size());
    // PERF: reserving up front avoids regrowing the arenas mid-parse (one node per ~24 source
    // bytes is the estimate). This path is the "Parse only" figure of docs/PERFORMANCE.md:
    // 956,000 patterns/s at 193 bytes on average.
    // Rough size hints so that typical patterns need one allocation per arena.
    const size_t guess = src_.size() / 24 + 2;
    p_.literals.reserve(guess);
    p_.comparisons.reserve(guess);
    p_.paths.reserve(guess);
    p_.steps.reserve(guess + 2);
    p_.observations.reserve(4);
    Advance();
    NodeIndex root;
    if (!ParseFollowedBy(&root)) return std::move(status_);
    // Spec digest §5 item 1: the whole input must be consumed.
    if (tok_.kind != Tok::kEof) {
      std::string hint;
      // The most common mistake is a lower-case keyword, which lexes as an identifier (keywords are
      // case-sensitive, spec digest §2), so the hint names the upper-case form.
      if (tok_.kind == Tok::kIdent) {
        std::string upper(Text(tok_));
        for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        if (upper == "AND" || upper == "OR" || upper == "FOLLOWEDBY" || upper == "WITHIN" ||
            upper == "REPEATS" || upper == "START") {
          hint = detail::Cat(" (keywords are upper case: ", upper, ")");
        }
      }
      Fail(tok_,
           detail::Cat("expected AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, "
                       "START) or the end of the pattern"),
           hint);
      return std::move(status_);
    }
    p_.root = root;
    return std::move(p_);
  }

 private:
  // ---- tokens and errors ----
  void Advance() { tok_ = lex_.Next(); }
  std::string_view Text(const Token& t) const { return src_.substr(t.offset, t.length); }
  uint32_t Column(uint32_t offset) const { return detail::ColumnAt(src_, offset); }

  std::string Found(const Token& t) const {
    switch (t.kind) {
      case Tok::kEof: return "the end of the pattern";
      default: return Excerpt(Text(t));
    }
  }

  // Records "column N: <expected>, found <token><hint>" and returns false.
  bool Fail(const Token& t, std::string_view expected, std::string_view hint = {}) {
    if (!status_.ok()) return false;
    if (t.kind == Tok::kError) {
      status_ = absl::InvalidArgumentError(detail::Cat("column ", Column(t.offset), ": ", t.error));
    } else {
      status_ = absl::InvalidArgumentError(
          detail::Cat("column ", Column(t.offset), ": ", expected, ", found ", Found(t), hint));
    }
    return false;
  }
  bool FailAt(uint32_t offset, std::string_view msg) {
    if (!status_.ok()) return false;
    status_ = absl::InvalidArgumentError(detail::Cat("column ", Column(offset), ": ", msg));
    return false;
  }

  // Increments depth_; callers decrement when the construct closes (or restore a saved depth for
  // qualifier chains). Returns false when the limit is exceeded.
  bool Enter(const Token& t) {
    if (++depth_ > opt_.max_depth) {
      return FailAt(t.offset, detail::Cat("nesting too deep: more than ", opt_.max_depth,
                                          " levels of parentheses, brackets and qualifiers"));
    }
    return true;
  }

  // ---- observation level ----
  NodeIndex NewObs(ObservationKind k, uint32_t offset) {
    ObservationNode n;
    n.kind = k;
    n.offset = offset;
    p_.observations.push_back(n);
    return static_cast<NodeIndex>(p_.observations.size() - 1);
  }

  // Builds an n-ary observation node from items; flattens children of the same kind
  // (for FOLLOWEDBY only the leftmost, which is associative-equivalent).
  // Flattening keeps the AST shallow for long chains ("[a] OR [b] OR ... ") so later passes do
  // not recurse per operand. AND and OR are associative, so any same-kind child is inlined;
  // FOLLOWEDBY is order-sensitive and left-associative (spec digest §4), so only a leftmost
  // child may be inlined: "([a] FOLLOWEDBY [b]) FOLLOWEDBY [c]" is "[a] FOLLOWEDBY [b] FOLLOWEDBY
  // [c]", but the same group on the right is not.
  NodeIndex MakeObsNary(ObservationKind k, const std::vector<NodeIndex>& items, uint32_t offset) {
    NodeIndex id = NewObs(k, offset);
    uint32_t begin = static_cast<uint32_t>(p_.observation_children.size());
    for (size_t i = 0; i < items.size(); ++i) {
      const ObservationNode& c = p_.observations[items[i]];
      if (c.kind == k && (k != ObservationKind::kFollowedBy || i == 0)) {
        // Copy the child's children (they were appended earlier in the vector).
        for (uint32_t j = 0; j < c.children.size; ++j) {
          p_.observation_children.push_back(p_.observation_children[c.children.begin + j]);
        }
      } else {
        p_.observation_children.push_back(items[i]);
      }
    }
    p_.observations[id].children = {begin,
                                    static_cast<uint32_t>(p_.observation_children.size()) - begin};
    return id;
  }

  // Observation level, lowest precedence first (spec digest §3, §4): FOLLOWEDBY < OR < AND <
  // qualifiers < parentheses. Each level loops instead of recursing, so a chain of N operators
  // costs one stack frame per level, not N.
  [[nodiscard]] bool ParseFollowedBy(NodeIndex* out) {
    uint32_t offset = tok_.offset;
    NodeIndex first;
    if (!ParseObsOr(&first)) return false;
    if (tok_.kind != Tok::kFollowedBy) {
      *out = first;
      return true;
    }
    std::vector<NodeIndex> items{first};
    while (tok_.kind == Tok::kFollowedBy) {
      Advance();
      NodeIndex next;
      if (!ParseObsOr(&next)) return false;
      items.push_back(next);
    }
    *out = MakeObsNary(ObservationKind::kFollowedBy, items, offset);
    return true;
  }

  [[nodiscard]] bool ParseObsOr(NodeIndex* out) {
    uint32_t offset = tok_.offset;
    NodeIndex first;
    if (!ParseObsAnd(&first)) return false;
    if (tok_.kind != Tok::kOr) {
      *out = first;
      return true;
    }
    std::vector<NodeIndex> items{first};
    while (tok_.kind == Tok::kOr) {
      Advance();
      NodeIndex next;
      if (!ParseObsAnd(&next)) return false;
      items.push_back(next);
    }
    *out = MakeObsNary(ObservationKind::kOr, items, offset);
    return true;
  }

  [[nodiscard]] bool ParseObsAnd(NodeIndex* out) {
    uint32_t offset = tok_.offset;
    NodeIndex first;
    if (!ParseQualified(&first)) return false;
    if (tok_.kind != Tok::kAnd) {
      *out = first;
      return true;
    }
    std::vector<NodeIndex> items{first};
    while (tok_.kind == Tok::kAnd) {
      Advance();
      NodeIndex next;
      if (!ParseQualified(&next)) return false;
      items.push_back(next);
    }
    *out = MakeObsNary(ObservationKind::kAnd, items, offset);
    return true;
  }

  // observationExpression followed by any number of postfix qualifiers (spec digest §3, §10).
  // Qualifiers bind tighter than AND/OR/FOLLOWEDBY and are not greedy (spec digest §4):
  // "[b] FOLLOWEDBY [c] REPEATS 5 TIMES" qualifies only [c]. Chained qualifiers apply left to
  // right, each wrapping the node built so far.
  [[nodiscard]] bool ParseQualified(NodeIndex* out) {
    uint32_t offset = tok_.offset;
    bool parenthesized = tok_.kind == Tok::kLParen;
    NodeIndex node;
    if (!ParsePrimaryObs(&node)) return false;
    const NodeIndex primary = node;
    const uint32_t saved_depth = depth_;
    uint32_t kinds_outer = 0;  // bitmask of qualifier kinds applied in this chain
    while (tok_.kind == Tok::kWithin || tok_.kind == Tok::kRepeats || tok_.kind == Tok::kStart) {
      Token q = tok_;
      if (!Enter(q)) return false;
      Advance();
      ObservationNode qn;
      qn.offset = q.offset;
      qn.child = node;
      if (q.kind == Tok::kWithin) {
        qn.kind = ObservationKind::kWithin;
        // WITHIN takes a positive int or float (spec digest §10.2); the grammar allows 0, which the
        // checker rejects (spec digest §5 item 4). A negative number arrives as one
        // kIntNeg/kFloatNeg token (the sign is part of the literal), hence the specific hint.
        if (tok_.kind == Tok::kIntPos) {
          uint64_t v;
          if (!ParseUnsigned(tok_, &v)) return false;
          qn.within_seconds = static_cast<double>(v);
        } else if (tok_.kind == Tok::kFloatPos) {
          if (!ParseDouble(tok_, &qn.within_seconds)) return false;
        } else {
          return Fail(tok_, "expected a positive number of seconds after WITHIN",
                      tok_.kind == Tok::kIntNeg || tok_.kind == Tok::kFloatNeg
                          ? " (WITHIN takes a positive number)"
                          : "");
        }
        Advance();
        if (tok_.kind != Tok::kSeconds) {
          return Fail(tok_, "expected SECONDS after the WITHIN duration",
                      " (the only unit is SECONDS, in upper case)");
        }
        Advance();
      } else if (q.kind == Tok::kRepeats) {
        qn.kind = ObservationKind::kRepeats;
        // REPEATS n: n > 0 is enforced by the checker (spec digest §5 item 3); here only the range.
        if (tok_.kind != Tok::kIntPos) {
          return Fail(tok_, "expected a positive integer after REPEATS");
        }
        uint64_t v;
        if (!ParseUnsigned(tok_, &v)) return false;
        qn.repeats = static_cast<int64_t>(v);
        Advance();
        if (tok_.kind != Tok::kTimes) return Fail(tok_, "expected TIMES after the REPEATS count");
        Advance();
      } else {
        qn.kind = ObservationKind::kStartStop;
        // START/STOP timestamps are stored as written; a >= b is not a syntax error (spec digest §5
        // item 5: the qualifier simply never matches).
        if (tok_.kind != Tok::kTimestamp) {
          return Fail(tok_, "expected a timestamp literal t'YYYY-MM-DDTHH:MM:SSZ' after START");
        }
        DecodeTimestamp(tok_, &qn.start);
        Advance();
        if (tok_.kind != Tok::kStop) {
          return Fail(tok_, detail::Cat("expected STOP to complete the START qualifier at column ",
                                        Column(q.offset)));
        }
        Advance();
        if (tok_.kind != Tok::kTimestamp) {
          return Fail(tok_, "expected a timestamp literal t'YYYY-MM-DDTHH:MM:SSZ' after STOP");
        }
        DecodeTimestamp(tok_, &qn.stop);
        Advance();
      }
      kinds_outer |= 1u << static_cast<unsigned>(qn.kind);
      p_.observations.push_back(qn);
      node = static_cast<NodeIndex>(p_.observations.size() - 1);
    }
    depth_ = saved_depth;
    // Spec digest §5 item 2: two qualifiers of one kind on an observation are an error, but the
    // reference validator resets the set at a parenthesised group, so "([x] WITHIN 5 SECONDS)
    // WITHIN 6 SECONDS" is valid. Marking `grouped` only when the outer chain repeats an inner
    // kind keeps the checker compatible and lets the printer drop parentheses everywhere else.
    // `(<qualified>) QUAL`: keep the group only when it matters, i.e. when the outer chain
    // repeats a qualifier kind of the inner chain (see ObservationNode::grouped).
    if (parenthesized && node != primary && IsQualifierKind(p_.observations[primary].kind)) {
      uint32_t kinds_inner = 0;
      NodeIndex k = primary;
      while (IsQualifierKind(p_.observations[k].kind)) {
        kinds_inner |= 1u << static_cast<unsigned>(p_.observations[k].kind);
        if (p_.observations[k].grouped) break;
        k = p_.observations[k].child;
      }
      if (kinds_inner & kinds_outer) p_.observations[primary].grouped = true;
    }
    (void)offset;
    *out = node;
    return true;
  }

  // '[' comparisons ']' or '(' observation expression ')'. Brackets are required even for a
  // single comparison (spec digest §5 item 11), hence the hint for a bare type:property.
  [[nodiscard]] bool ParsePrimaryObs(NodeIndex* out) {
    Token open = tok_;
    if (open.kind == Tok::kLBracket) {
      if (!Enter(open)) return false;
      Advance();
      NodeIndex comp;
      if (!ParseCompOr(&comp)) return false;
      if (tok_.kind != Tok::kRBracket) {
        return Fail(tok_,
                    detail::Cat("expected ']' to close the observation expression opened "
                                "at column ",
                                Column(open.offset)),
                    AfterTestHint());
      }
      Advance();
      --depth_;
      NodeIndex id = NewObs(ObservationKind::kSimple, open.offset);
      p_.observations[id].comparison = comp;
      *out = id;
      return true;
    }
    if (open.kind == Tok::kLParen) {
      if (!Enter(open)) return false;
      Advance();
      NodeIndex inner;
      if (!ParseFollowedBy(&inner)) return false;
      if (tok_.kind != Tok::kRParen) {
        return Fail(tok_, detail::Cat("expected ')' to close the parenthesis opened at column ",
                                      Column(open.offset)));
      }
      Advance();
      --depth_;
      *out = inner;
      return true;
    }
    std::string_view hint;
    if (open.kind == Tok::kIdent || open.kind == Tok::kIdentHyphen) {
      hint = " (comparisons must be inside square brackets: [type:property = value])";
    }
    return Fail(open, "expected '[' or '(' to start an observation expression", hint);
  }

  std::string AfterTestHint() const {
    if (tok_.kind == Tok::kIdent || tok_.kind == Tok::kIdentHyphen) {
      return " (join comparisons with AND or OR)";
    }
    return {};
  }

  // ---- comparison level ----
  // Same flattening as MakeObsNary; comparison AND/OR are associative (spec digest §4).
  NodeIndex MakeCompNary(ComparisonKind k, const std::vector<NodeIndex>& items, uint32_t offset) {
    ComparisonNode n;
    n.kind = k;
    n.offset = offset;
    uint32_t begin = static_cast<uint32_t>(p_.comparison_children.size());
    for (NodeIndex i : items) {
      const ComparisonNode& c = p_.comparisons[i];
      if (c.kind == k) {
        for (uint32_t j = 0; j < c.children.size; ++j) {
          p_.comparison_children.push_back(p_.comparison_children[c.children.begin + j]);
        }
      } else {
        p_.comparison_children.push_back(i);
      }
    }
    n.children = {begin, static_cast<uint32_t>(p_.comparison_children.size()) - begin};
    p_.comparisons.push_back(n);
    return static_cast<NodeIndex>(p_.comparisons.size() - 1);
  }

  // Comparison level inside [...]: OR < AND < parentheses (spec digest §4).
  [[nodiscard]] bool ParseCompOr(NodeIndex* out) {
    uint32_t offset = tok_.offset;
    NodeIndex first;
    if (!ParseCompAnd(&first)) return false;
    if (tok_.kind != Tok::kOr) {
      *out = first;
      return true;
    }
    std::vector<NodeIndex> items{first};
    while (tok_.kind == Tok::kOr) {
      Advance();
      NodeIndex next;
      if (!ParseCompAnd(&next)) return false;
      items.push_back(next);
    }
    *out = MakeCompNary(ComparisonKind::kOr, items, offset);
    return true;
  }

  [[nodiscard]] bool ParseCompAnd(NodeIndex* out) {
    uint32_t offset = tok_.offset;
    NodeIndex first;
    if (!ParsePropTest(&first)) return false;
    if (tok_.kind != Tok::kAnd) {
      *out = first;
      return true;
    }
    std::vector<NodeIndex> items{first};
    while (tok_.kind == Tok::kAnd) {
      Advance();
      NodeIndex next;
      if (!ParsePropTest(&next)) return false;
      items.push_back(next);
    }
    *out = MakeCompNary(ComparisonKind::kAnd, items, offset);
    return true;
  }

  // propTest of spec digest §3: a path, optional NOT, an operator and a literal or set; or
  // [NOT] EXISTS path. NOT on an operator negates that comparison (spec digest §8.9), so it is
  // stored as a flag on the node, not as a separate node.
  [[nodiscard]] bool ParsePropTest(NodeIndex* out) {
    Token start = tok_;
    if (start.kind == Tok::kLParen) {
      if (!Enter(start)) return false;
      Advance();
      if (!ParseCompOr(out)) return false;
      if (tok_.kind != Tok::kRParen) {
        return Fail(tok_,
                    detail::Cat("expected ')' to close the parenthesis opened at column ",
                                Column(start.offset)),
                    AfterTestHint());
      }
      Advance();
      --depth_;
      return true;
    }
    ComparisonNode n;
    n.offset = start.offset;
    if (start.kind == Tok::kNot || start.kind == Tok::kExists) {
      if (start.kind == Tok::kNot) {
        Advance();
        if (tok_.kind != Tok::kExists) {
          return Fail(tok_, "expected EXISTS after a leading NOT",
                      " (to negate an operator write it after the path: type:prop NOT = value)");
        }
        n.negated = true;
      }
      Advance();
      n.op = Operator::kExists;
      if (!ParsePath(&n.path)) return false;
      n.values = {static_cast<uint32_t>(p_.literals.size()), 0};
      return Push(n, out);
    }
    if (!ParsePath(&n.path)) return false;
    if (tok_.kind == Tok::kNot) {
      n.negated = true;
      Advance();
    }
    Token op = tok_;
    switch (op.kind) {
      case Tok::kEq: n.op = Operator::kEqual; break;
      case Tok::kNeq: n.op = Operator::kNotEqual; break;
      case Tok::kLt: n.op = Operator::kLess; break;
      case Tok::kLe: n.op = Operator::kLessEqual; break;
      case Tok::kGt: n.op = Operator::kGreater; break;
      case Tok::kGe: n.op = Operator::kGreaterEqual; break;
      case Tok::kIn: n.op = Operator::kIn; break;
      case Tok::kLike: n.op = Operator::kLike; break;
      case Tok::kMatches: n.op = Operator::kMatches; break;
      case Tok::kIsSubset: n.op = Operator::kIsSubset; break;
      case Tok::kIsSuperset: n.op = Operator::kIsSuperset; break;
      default:
        return Fail(
            op,
            n.negated ? "expected a comparison operator after NOT"
                      : "expected a comparison operator (=, !=, <, <=, >, >=, IN, "
                        "LIKE, MATCHES, ISSUBSET, ISSUPERSET) or NOT",
            op.kind == Tok::kExists ? " (EXISTS goes before the path: EXISTS type:prop)" : "");
    }
    Advance();
    const uint32_t begin = static_cast<uint32_t>(p_.literals.size());
    // IN (v1, v2, ...) (spec digest §8.3). An empty set "()" parses here; mixed value types are a
    // check error, not a syntax error (spec digest §5 item 7).
    if (n.op == Operator::kIn) {
      if (tok_.kind != Tok::kLParen) {
        return Fail(tok_, "expected '(' to open the set of values after IN");
      }
      Token open = tok_;
      Advance();
      if (tok_.kind != Tok::kRParen) {
        while (true) {
          if (!ParseLiteral(op, /*allow_bool=*/true, /*string_only=*/false)) return false;
          if (tok_.kind == Tok::kComma) {
            Advance();
            continue;
          }
          if (tok_.kind == Tok::kRParen) break;
          return Fail(tok_, detail::Cat("expected ',' or ')' to close the IN set opened at "
                                        "column ",
                                        Column(open.offset)));
        }
      }
      Advance();
    } else {
      // LIKE, MATCHES, ISSUBSET, ISSUPERSET take a string only (spec digest §8.4-§8.6): relies on
      // these being the last Operator enumerators. Booleans only compare with = and != (§8.1,
      // §8.2).
      bool string_only = n.op >= Operator::kLike;
      bool allow_bool = n.op == Operator::kEqual || n.op == Operator::kNotEqual;
      if (!ParseLiteral(op, allow_bool, string_only)) return false;
    }
    n.values = {begin, static_cast<uint32_t>(p_.literals.size()) - begin};
    return Push(n, out);
  }

  bool Push(const ComparisonNode& n, NodeIndex* out) {
    p_.comparisons.push_back(n);
    *out = static_cast<NodeIndex>(p_.comparisons.size() - 1);
    return true;
  }

  // objectPath = type ':' first { '.' key | '[' index ']' }
  // Spec digest §6.2 object path. A hyphenated type is fine ("network-traffic"); hyphenated
  // property names must be quoted (spec digest §2), which ParseKey explains in its message.
  [[nodiscard]] bool ParsePath(NodeIndex* out) {
    Token type = tok_;
    if (type.kind != Tok::kIdent && type.kind != Tok::kIdentHyphen) {
      std::string_view hint;
      if (type.kind == Tok::kString ||
          (type.kind >= Tok::kIntPos && type.kind <= Tok::kTimestamp) || type.kind == Tok::kBool) {
        hint = " (the object path goes on the left: type:property = value)";
      }
      return Fail(type, "expected an object path (type:property)", hint);
    }
    ObjectPath path;
    path.offset = type.offset;
    path.type.assign(Text(type));
    Advance();
    if (tok_.kind != Tok::kColon) {
      return Fail(tok_, detail::Cat("expected ':' after the object type ", Excerpt(path.type)),
                  tok_.kind == Tok::kDot ? " (write type:property, not type.property)" : "");
    }
    Advance();
    const uint32_t begin = static_cast<uint32_t>(p_.steps.size());
    if (!ParseKey(/*first=*/true)) return false;
    while (true) {
      if (tok_.kind == Tok::kDot) {
        Advance();
        if (!ParseKey(/*first=*/false)) return false;
      } else if (tok_.kind == Tok::kLBracket) {
        Token open = tok_;
        Advance();
        PathStep s;
        if (tok_.kind == Tok::kAsterisk) {
          s.kind = StepKind::kAnyIndex;
        } else if (tok_.kind == Tok::kIntPos || tok_.kind == Tok::kIntNeg) {
          s.kind = StepKind::kIndex;
          // Negative indexes parse (the grammar allows IntNegLiteral here); they select nothing at
          // match time (spec digest §6.2), and the checker warns.
          if (!ParseSigned(tok_, &s.index)) return false;
        } else {
          return Fail(tok_, "expected a list index (an integer or '*') after '['");
        }
        Advance();
        if (tok_.kind != Tok::kRBracket) {
          return Fail(tok_, detail::Cat("expected ']' to close the list index opened at column ",
                                        Column(open.offset)));
        }
        Advance();
        p_.steps.push_back(std::move(s));
      } else {
        break;
      }
    }
    path.steps = {begin, static_cast<uint32_t>(p_.steps.size()) - begin};
    p_.paths.push_back(std::move(path));
    *out = static_cast<NodeIndex>(p_.paths.size() - 1);
    return true;
  }

  // A property name is an unquoted identifier or a quoted string (spec digest §3); keywords must
  // be quoted to be used as names ("'IN'"), because keywords lex before identifiers (§2).
  [[nodiscard]] bool ParseKey(bool first) {
    PathStep s;
    s.kind = StepKind::kKey;
    if (tok_.kind == Tok::kIdent) {
      s.key.assign(Text(tok_));
    } else if (tok_.kind == Tok::kString) {
      std::string_view t = Text(tok_);
      detail::DecodeString(t.substr(1, t.size() - 2), tok_.has_escape, &s.key);
    } else if (tok_.kind == Tok::kIdentHyphen) {
      return Fail(tok_, "expected a property name",
                  detail::Cat(" (names containing '-' must be quoted: '", Text(tok_), "')"));
    } else if (tok_.kind >= Tok::kAnd && tok_.kind <= Tok::kBool) {
      return Fail(tok_, "expected a property name",
                  detail::Cat(" (a keyword; quote it to use it as a name: '", Text(tok_), "')"));
    } else {
      return Fail(tok_, first ? "expected a property name after ':'"
                              : "expected a property name or quoted key after '.'");
    }
    Advance();
    p_.steps.push_back(std::move(s));
    return true;
  }

  // ---- literals ----

  // The unbroken run of characters at `offset` up to a space, a quote or a character that ends
  // a literal in the grammar (']', ')', ','): what a user who forgot the quotes meant as one
  // value, e.g. 1.2.3.4 or example.com (which lex as a float and more, or a name and more).
  std::string_view UnquotedRun(uint32_t offset) const {
    size_t end = offset;
    while (end < src_.size()) {
      char c = src_[end];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ']' || c == ')' || c == ',' ||
          c == '\'') {
        break;
      }
      ++end;
    }
    return src_.substr(offset, end - offset);
  }

  // Fails with "quote the value" when the literal at tok_ is an unquoted string: a name
  // (evil.com lexes as a name), or a number the value goes on after (1.2.3.4 lexes as 1.2).
  bool FailIfUnquoted(std::string_view opname) {
    bool name = tok_.kind == Tok::kIdent || tok_.kind == Tok::kIdentHyphen;
    bool number = tok_.kind == Tok::kIntPos || tok_.kind == Tok::kIntNeg ||
                  tok_.kind == Tok::kFloatPos || tok_.kind == Tok::kFloatNeg;
    if (!name && !number) return true;
    std::string_view run = UnquotedRun(tok_.offset);
    if (number && run.size() <= tok_.length) return true;  // a number, and nothing glued to it
    // The run is capped at 80 bytes so the message stays bounded on hostile input.
    if (run.size() > 80) run = run.substr(0, 80);
    std::string quoted;
    for (char c : run) {
      if (c == '\\' || c == '\'') quoted.push_back('\\');
      quoted.push_back(c);
    }
    return FailAt(tok_.offset,
                  detail::Cat("expected a literal value after '", opname, "', found ", run,
                              ", which is not quoted: quote the value, as in '", quoted, "'"));
  }

  // Appends one literal to p_.literals and advances. `op` is only used for messages.
  // String-only operators reject other literal kinds here rather than in the checker, so the
  // error points at the literal's column.
  [[nodiscard]] bool ParseLiteral(const Token& op, bool allow_bool, bool string_only) {
    Literal lit;
    lit.offset = tok_.offset;
    std::string_view t = Text(tok_);
    const std::string_view opname = Text(op);
    if (!FailIfUnquoted(opname)) return false;
    switch (tok_.kind) {
      case Tok::kString:
        lit.kind = LiteralKind::kString;
        detail::DecodeString(t.substr(1, t.size() - 2), tok_.has_escape, &lit.text);
        break;
      case Tok::kIntPos:
      case Tok::kIntNeg:
        if (string_only) return FailStringOnly(opname);
        lit.kind = LiteralKind::kInt;
        if (!ParseSigned(tok_, &lit.int_value)) return false;
        break;
      case Tok::kFloatPos:
      case Tok::kFloatNeg:
        if (string_only) return FailStringOnly(opname);
        lit.kind = LiteralKind::kFloat;
        if (!ParseDouble(tok_, &lit.float_value)) return false;
        break;
      case Tok::kHex:
        if (string_only) return FailStringOnly(opname);
        lit.kind = LiteralKind::kHex;
        // The lexer has checked the body (common::IsHex), so it decodes.
        lit.text = common::HexDecode(t.substr(2, t.size() - 3)).value_or("");
        break;
      case Tok::kBinary: {
        if (string_only) return FailStringOnly(opname);
        lit.kind = LiteralKind::kBinary;
        // The lexer has checked the body (common::IsBase64), so it decodes.
        lit.text = common::Base64Decode(t.substr(2, t.size() - 3)).value_or("");
        break;
      }
      case Tok::kTimestamp:
        if (string_only) return FailStringOnly(opname);
        lit.kind = LiteralKind::kTimestamp;
        DecodeTimestamp(tok_, &lit.timestamp);
        break;
      case Tok::kBool:
        if (string_only) return FailStringOnly(opname);
        if (!allow_bool) {
          return Fail(tok_, detail::Cat("expected an orderable literal after '", opname, "'"),
                      " (booleans can only be compared with = and !=)");
        }
        lit.kind = LiteralKind::kBool;
        lit.bool_value = t == "true";
        break;
      default:  // (an unquoted name was reported by FailIfUnquoted)
        return Fail(tok_, string_only
                              ? detail::Cat("expected a string literal after ", opname)
                              : detail::Cat("expected a literal value after '", opname, "'"));
    }
    Advance();
    p_.literals.push_back(std::move(lit));
    return true;
  }

  bool FailStringOnly(std::string_view opname) {
    return Fail(tok_, detail::Cat("expected a string literal after ", opname));
  }

  // Counts (REPEATS) and durations (WITHIN) must fit int64 so later arithmetic cannot overflow.
  // from_chars rejects anything out of range instead of saturating, so "99999999999999999999"
  // is an error, never a wrapped value.
  [[nodiscard]] bool ParseUnsigned(const Token& t, uint64_t* v) {
    std::string_view s = Text(t);
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (r.ec != std::errc() || *v > static_cast<uint64_t>(INT64_MAX)) {
      return FailAt(t.offset,
                    detail::Cat("integer ", Excerpt(Text(t)), " is out of range (64-bit signed)"));
    }
    return true;
  }

  [[nodiscard]] bool ParseSigned(const Token& t, int64_t* v) {
    std::string_view s = Text(t);
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (r.ec != std::errc()) {
      return FailAt(t.offset,
                    detail::Cat("integer ", Excerpt(Text(t)), " is out of range (64-bit signed)"));
    }
    return true;
  }

  [[nodiscard]] bool ParseDouble(const Token& t, double* v) {
    std::string_view s = Text(t);
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (r.ec != std::errc()) {
      return FailAt(t.offset, detail::Cat("float ", Excerpt(Text(t)), " is out of range"));
    }
    return true;
  }

  // REQUIRES: t is a kTimestamp token, so the lexer already checked the layout (fixed digit
  // offsets, trailing "Z'"). Fraction digits beyond 6 are dropped (scale reaches 0): patterns
  // have microsecond precision, like common::Micros. The fraction loop stops at the 'Z'.
  void DecodeTimestamp(const Token& t, Timestamp* ts) {
    std::string_view b = Text(t).substr(2);  // YYYY-MM-DDTHH:MM:SS[.f]Z'
    auto num = [&](size_t i, size_t n) {
      int v = 0;
      for (size_t k = 0; k < n; ++k) v = v * 10 + (b[i + k] - '0');
      return v;
    };
    ts->year = num(0, 4);
    ts->month = static_cast<uint8_t>(num(5, 2));
    ts->day = static_cast<uint8_t>(num(8, 2));
    ts->hour = static_cast<uint8_t>(num(11, 2));
    ts->minute = static_cast<uint8_t>(num(14, 2));
    ts->second = static_cast<uint8_t>(num(17, 2));
    ts->micros = 0;
    if (b[19] == '.') {
      int scale = 100000;
      for (size_t i = 20; b[i] >= '0' && b[i] <= '9'; ++i) {
        ts->micros += (b[i] - '0') * scale;
        scale /= 10;
      }
    }
  }

  Lexer lex_;
  std::string_view src_;
  const ParseOptions& opt_;
  Token tok_;
  Pattern p_;
  absl::Status status_;
  uint32_t depth_ = 0;
};

}  // namespace

// Untrusted input bound: max_length (16 MiB by default) caps the work and the copy into
// Pattern::source; offsets are uint32_t, hence the hard limit just under 4 GiB.
absl::StatusOr<Pattern> Parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_length || text.size() > 0xFFFFFFF0u) {
    return absl::InvalidArgumentError(detail::Cat("pattern is too long: ", text.size(),
                                                  " bytes (limit ", options.max_length, ")"));
  }
  return Parser(text, options).Run();
}

}  // namespace accord::pattern
