// Canonical printer and tree explainer (pattern.h).
//
// Print() must keep Parse(Print(p)) == p (fuzz/pattern/pattern_fuzz.cc checks it) and print
// equivalent spellings alike. The canonical choices: `=` and `!=`, single spaces around
// operators, keys bare whenever the grammar allows, lowercase hex, padded base64, floats
// always with a '.', timestamps without a zero fraction, and only the parentheses that
// precedence or `grouped` requires. Section numbers refer to the spec digest
// (../shared/spec/STIX21-patterning.md).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "accord/common/encoding.h"
#include "accord/pattern/pattern.h"
#include "pattern/lexer.h"

namespace accord::pattern {
namespace {

// A key may print bare only if it lexes back as the same key: an IdentifierWithoutHyphen that
// is not a keyword, as keywords are matched before identifiers (§2). Others are quoted.
bool IsBareKey(std::string_view k) {
  if (k.empty()) return false;
  char c = k[0];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return false;
  for (char d : k) {
    if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9') || d == '_')) {
      return false;
    }
  }
  static constexpr const char* kReserved[] = {
      "AND",      "OR",     "NOT",  "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET",
      "ISSUBSET", "EXISTS", "IN",   "START",      "STOP", "SECONDS", "WITHIN",
      "REPEATS",  "TIMES",  "LAST", "true",       "false"};
  for (const char* r : kReserved) {
    if (k == r) return false;
  }
  return true;
}

// String literals and quoted keys. The grammar's only escapes are \' and \\ (§2); every other
// character, control and non-ASCII ones included, is written as is.
void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('\'');
  for (char c : s) {
    if (c == '\'' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

// Shortest round-trip decimal without exponent, always with a '.'.
// The grammar has no exponent form (§2), hence fixed notation, whose longest output (DBL_MAX,
// 309 digits) fits the buffer. Without the '.', `1` would re-parse as an int literal.
void AppendDouble(double v, std::string* out) {
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  out->append(s);
  if (s.find('.') == std::string_view::npos) out->append(".0");
}

// The fraction is printed without trailing zeros, and not at all when zero; microseconds are
// all the precision the parser keeps, so nothing is lost.
void AppendTimestamp(const Timestamp& t, std::string* out) {
  char buf[48];
  int n =
      std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02u:%02u:%02u", t.year, unsigned{t.month},
                    unsigned{t.day}, unsigned{t.hour}, unsigned{t.minute}, unsigned{t.second});
  out->append(buf, static_cast<size_t>(n));
  if (t.micros != 0) {
    n = std::snprintf(buf, sizeof(buf), ".%06d", t.micros);
    while (n > 2 && buf[n - 1] == '0') --n;
    out->append(buf, static_cast<size_t>(n));
  }
  out->push_back('Z');
}

void AppendLiteral(const Literal& l, std::string* out) {
  switch (l.kind) {
    case LiteralKind::kString: AppendQuoted(l.text, out); break;
    case LiteralKind::kInt: detail::CatAppend(out, l.int_value); break;
    case LiteralKind::kFloat: AppendDouble(l.float_value, out); break;
    case LiteralKind::kBool: out->append(l.bool_value ? "true" : "false"); break;
    // Lowercase: the spec's spelling (§15.6), although the grammar also reads uppercase.
    case LiteralKind::kHex: {
      out->append("h'");
      out->append(common::HexEncode(l.text));
      out->push_back('\'');
      break;
    }
    // Base64 in groups of four with '=' padding, the only form the grammar accepts (§2).
    case LiteralKind::kBinary: {
      out->append("b'");
      out->append(common::Base64Encode(l.text));
      out->push_back('\'');
      break;
    }
    case LiteralKind::kTimestamp:
      out->append("t'");
      AppendTimestamp(l.timestamp, out);
      out->push_back('\'');
      break;
  }
}

// Lives for one Print() or Explain() call and refers to the pattern it prints.
class Printer {
 public:
  explicit Printer(const Pattern& p) : p_(p) {}

  // The type prints as is: the grammar has it only as an identifier, never quoted (§3).
  void Path(const ObjectPath& path, std::string* out) const {
    out->append(path.type);
    out->push_back(':');
    bool first = true;
    for (const PathStep& s : p_.Steps(path)) {
      switch (s.kind) {
        case StepKind::kKey:
          if (!first) out->push_back('.');
          if (IsBareKey(s.key)) {
            out->append(s.key);
          } else {
            AppendQuoted(s.key, out);
          }
          break;
        case StepKind::kIndex: detail::CatAppend(out, "[", s.index, "]"); break;
        case StepKind::kAnyIndex: out->append("[*]"); break;
      }
      first = false;
    }
  }

  // NOT goes before EXISTS, and between path and operator otherwise: the only places the
  // grammar has for it (§3). IN always prints its parentheses, `()` included.
  void Test(const ComparisonNode& n, std::string* out) const {
    if (n.op == Operator::kExists) {
      if (n.negated) out->append("NOT ");
      out->append("EXISTS ");
      Path(p_.paths[n.path], out);
      return;
    }
    Path(p_.paths[n.path], out);
    out->push_back(' ');
    if (n.negated) out->append("NOT ");
    out->append(OperatorName(n.op));
    out->push_back(' ');
    auto values = p_.Values(n);
    if (n.op == Operator::kIn) {
      out->push_back('(');
      for (size_t i = 0; i < values.size(); ++i) {
        if (i) out->append(", ");
        AppendLiteral(values[i], out);
      }
      out->push_back(')');
    } else if (!values.empty()) {
      AppendLiteral(values[0], out);
    }
  }

  // Binding strength inside brackets, weakest first: OR, AND, a single test (§4).
  static int CompPrec(ComparisonKind k) {
    return k == ComparisonKind::kOr ? 1 : k == ComparisonKind::kAnd ? 2 : 3;
  }

  void Comp(NodeIndex i, std::string* out) const {
    const ComparisonNode& n = p_.comparisons[i];
    if (n.kind == ComparisonKind::kTest) {
      Test(n, out);
      return;
    }
    const char* sep = n.kind == ComparisonKind::kAnd ? " AND " : " OR ";
    bool first = true;
    for (NodeIndex c : p_.Children(n)) {
      if (!first) out->append(sep);
      first = false;
      // A child that binds no tighter than its parent is parenthesised. Parse flattens chains
      // of one kind, so in a parsed tree this brackets only an OR inside an AND.
      bool paren = CompPrec(p_.comparisons[c].kind) <= CompPrec(n.kind);
      if (paren) out->push_back('(');
      Comp(c, out);
      if (paren) out->push_back(')');
    }
  }

  // Between observations, weakest first: FOLLOWEDBY, OR, AND, then a simple or qualified
  // expression (§4).
  static int ObsPrec(ObservationKind k) {
    switch (k) {
      case ObservationKind::kFollowedBy: return 1;
      case ObservationKind::kOr: return 2;
      case ObservationKind::kAnd: return 3;
      default: return 4;
    }
  }

  void Obs(NodeIndex i, std::string* out) const {
    const ObservationNode& n = p_.observations[i];
    switch (n.kind) {
      case ObservationKind::kSimple:
        out->push_back('[');
        Comp(n.comparison, out);
        out->push_back(']');
        return;
      case ObservationKind::kAnd:
      case ObservationKind::kOr:
      case ObservationKind::kFollowedBy: {
        const char* sep = n.kind == ObservationKind::kAnd  ? " AND "
                          : n.kind == ObservationKind::kOr ? " OR "
                                                           : " FOLLOWEDBY ";
        bool first = true;
        for (NodeIndex c : p_.Children(n)) {
          if (!first) out->append(sep);
          // As for comparisons; a FOLLOWEDBY child (always a right-nested group, ast.h) thus
          // keeps its parentheses. ObsPrec is 1 only for FOLLOWEDBY, so the second clause
          // never changes the result.
          bool paren = ObsPrec(p_.observations[c].kind) <= ObsPrec(n.kind) &&
                       !(first && n.kind == ObservationKind::kFollowedBy &&
                         p_.observations[c].kind != ObservationKind::kFollowedBy);
          first = false;
          if (paren) out->push_back('(');
          Obs(c, out);
          if (paren) out->push_back(')');
        }
        return;
      }
      case ObservationKind::kWithin:
      case ObservationKind::kRepeats:
      case ObservationKind::kStartStop: {
        // Qualifiers are postfix and bind tighter than any operator (§3), so an operator child
        // needs parentheses; so does a `grouped` child, whose parentheses allow the same
        // qualifier again (ast.h; §5 rule 2). Chains print bare: `[a] REPEATS 2 TIMES WITHIN 5
        // SECONDS`.
        const ObservationNode& c = p_.observations[n.child];
        bool paren = ObsPrec(c.kind) < 4 || c.grouped;
        if (paren) out->push_back('(');
        Obs(n.child, out);
        if (paren) out->push_back(')');
        if (n.kind == ObservationKind::kWithin) {
          out->append(" WITHIN ");
          // The node holds a double whether `5` or `5.0` was written; an integral value
          // prints as an int (exact below 2^53), anything else as a float.
          double v = n.within_seconds;
          if (v == std::floor(v) && v >= 0 && v < 9.007199254740992e15) {
            detail::CatAppend(out, static_cast<int64_t>(v));
          } else {
            AppendDouble(v, out);
          }
          out->append(" SECONDS");
        } else if (n.kind == ObservationKind::kRepeats) {
          detail::CatAppend(out, " REPEATS ", n.repeats, " TIMES");
        } else {
          out->append(" START t'");
          AppendTimestamp(n.start, out);
          out->append("' STOP t'");
          AppendTimestamp(n.stop, out);
          out->push_back('\'');
        }
        return;
      }
    }
  }

  // ---- explain ----
  // One node per line. The wording says what the operator means: AND inside brackets holds
  // on one object (§6.3), AND between observations binds distinct ones (§9).
  void Indent(int depth, std::string* out) const {
    out->append(static_cast<size_t>(depth) * 2, ' ');
  }

  void ExplainComp(NodeIndex i, int depth, std::string* out) const {
    const ComparisonNode& n = p_.comparisons[i];
    Indent(depth, out);
    if (n.kind == ComparisonKind::kTest) {
      out->append("COMPARISON ");
      Test(n, out);
      const ObjectPath& path = p_.paths[n.path];
      detail::CatAppend(out, "    {type ", path.type, ", path");
      for (const PathStep& s : p_.Steps(path)) {
        switch (s.kind) {
          case StepKind::kKey: detail::CatAppend(out, " key(", s.key, ")"); break;
          case StepKind::kIndex: detail::CatAppend(out, " index(", s.index, ")"); break;
          case StepKind::kAnyIndex: out->append(" any[*]"); break;
        }
      }
      for (const Literal& l : p_.Values(n)) {
        // Indexed by LiteralKind: keep in the enum's order (ast.h).
        static constexpr const char* kKinds[] = {"string", "int",  "float",    "hex",
                                                 "binary", "bool", "timestamp"};
        detail::CatAppend(out, ", ", kKinds[static_cast<int>(l.kind)]);
      }
      out->append("}\n");
      return;
    }
    out->append(n.kind == ComparisonKind::kAnd ? "AND (same object)\n" : "OR\n");
    for (NodeIndex c : p_.Children(n)) ExplainComp(c, depth + 1, out);
  }

  void ExplainObs(NodeIndex i, int depth, std::string* out) const {
    const ObservationNode& n = p_.observations[i];
    Indent(depth, out);
    switch (n.kind) {
      case ObservationKind::kSimple:
        out->append("OBSERVATION [...]\n");
        ExplainComp(n.comparison, depth + 1, out);
        return;
      case ObservationKind::kAnd:
      case ObservationKind::kOr:
      case ObservationKind::kFollowedBy:
        out->append(n.kind == ObservationKind::kAnd  ? "AND (distinct observations)\n"
                    : n.kind == ObservationKind::kOr ? "OR\n"
                                                     : "FOLLOWEDBY (in this order)\n");
        for (NodeIndex c : p_.Children(n)) ExplainObs(c, depth + 1, out);
        return;
      case ObservationKind::kWithin:
        out->append("WITHIN ");
        AppendDouble(n.within_seconds, out);
        out->append(" SECONDS\n");
        break;
      case ObservationKind::kRepeats:
        detail::CatAppend(out, "REPEATS ", n.repeats, " TIMES\n");
        break;
      case ObservationKind::kStartStop:
        out->append("START ");
        AppendTimestamp(n.start, out);
        out->append(" STOP ");
        AppendTimestamp(n.stop, out);
        out->push_back('\n');
        break;
    }
    ExplainObs(n.child, depth + 1, out);
  }

 private:
  const Pattern& p_;
};

}  // namespace

std::string Print(const Pattern& pattern) {
  std::string out;
  if (pattern.root == kNoNode) return out;
  out.reserve(pattern.source.size() + 16);
  Printer(pattern).Obs(pattern.root, &out);
  return out;
}

std::string Explain(const Pattern& pattern) {
  std::string out;
  if (pattern.root == kNoNode) return out;
  Printer(pattern).ExplainObs(pattern.root, 0, &out);
  return out;
}

}  // namespace accord::pattern
