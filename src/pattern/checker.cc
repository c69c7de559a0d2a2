// Type checker (spec digest §5): errors for patterns that can never be valid, warnings for
// producer hygiene (unknown/custom types and properties, comparisons that can never match).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "accord/common/encoding.h"
#include "accord/common/ip.h"
#include "accord/pattern/pattern.h"
#include "pattern/lexer.h"
#include "pattern/sco_catalog.h"

namespace accord::pattern {
namespace {

using detail::Excerpt;
using detail::PropType;

const char* QualifierName(ObservationKind k) {
  switch (k) {
    case ObservationKind::kWithin: return "WITHIN";
    case ObservationKind::kRepeats: return "REPEATS";
    default: return "START/STOP";
  }
}

bool IsQualifier(ObservationKind k) {
  return k == ObservationKind::kWithin || k == ObservationKind::kRepeats ||
         k == ObservationKind::kStartStop;
}

const char* LiteralKindName(LiteralKind k) {
  switch (k) {
    case LiteralKind::kString: return "string";
    case LiteralKind::kInt: return "integer";
    case LiteralKind::kFloat: return "float";
    case LiteralKind::kHex: return "hex";
    case LiteralKind::kBinary: return "binary";
    case LiteralKind::kBool: return "boolean";
    case LiteralKind::kTimestamp: return "timestamp";
  }
  return "?";
}

std::string TimestampText(const Timestamp& t) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02u:%02u:%02u", t.year, unsigned{t.month},
                unsigned{t.day}, unsigned{t.hour}, unsigned{t.minute}, unsigned{t.second});
  return buf;
}

bool IsHexString(std::string_view s) { return common::IsHex(s); }

// Hash algorithm formats (spec digest §5 rule 8). Returns the display name, or null when
// the key is not a known algorithm.
const char* HashAlgorithm(std::string_view key, bool (**ok)(std::string_view)) {
  std::string norm;
  for (char c : key) {
    if (c == '-' || c == '\'') continue;
    norm.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
  }
  struct Alg {
    const char* key;
    const char* name;
    bool (*ok)(std::string_view);
  };
  static constexpr Alg kAlgs[] = {
      {"MD5", "MD5", [](std::string_view s) { return s.size() == 32 && IsHexString(s); }},
      {"MD6", "MD6",
       [](std::string_view s) {
         size_t n = s.size();
         return (n == 32 || n == 40 || n == 56 || n == 64 || n == 96 || n == 128) && IsHexString(s);
       }},
      {"RIPEMD160", "RIPEMD-160",
       [](std::string_view s) { return s.size() == 40 && IsHexString(s); }},
      {"SHA1", "SHA-1", [](std::string_view s) { return s.size() == 40 && IsHexString(s); }},
      {"SHA224", "SHA-224", [](std::string_view s) { return s.size() == 56 && IsHexString(s); }},
      {"SHA256", "SHA-256", [](std::string_view s) { return s.size() == 64 && IsHexString(s); }},
      {"SHA384", "SHA-384", [](std::string_view s) { return s.size() == 96 && IsHexString(s); }},
      {"SHA512", "SHA-512", [](std::string_view s) { return s.size() == 128 && IsHexString(s); }},
      {"SHA3224", "SHA3-224", [](std::string_view s) { return s.size() == 56 && IsHexString(s); }},
      {"SHA3256", "SHA3-256", [](std::string_view s) { return s.size() == 64 && IsHexString(s); }},
      {"SHA3384", "SHA3-384", [](std::string_view s) { return s.size() == 96 && IsHexString(s); }},
      {"SHA3512", "SHA3-512", [](std::string_view s) { return s.size() == 128 && IsHexString(s); }},
      {"WHIRLPOOL", "WHIRLPOOL",
       [](std::string_view s) { return s.size() == 128 && IsHexString(s); }},
      {"SSDEEP", "SSDEEP",
       [](std::string_view s) {
         // blocksize:hash:hash
         size_t a = s.find(':');
         if (a == 0 || a == std::string_view::npos) return false;
         for (size_t i = 0; i < a; ++i) {
           if (s[i] < '0' || s[i] > '9') return false;
         }
         size_t b = s.find(':', a + 1);
         if (b == std::string_view::npos) return false;
         for (size_t i = a + 1; i < s.size(); ++i) {
           char c = s[i];
           if (i == b) continue;
           bool b64 = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/';
           if (!b64) return false;
         }
         return true;
       }},
  };
  for (const Alg& a : kAlgs) {
    if (norm == a.key) {
      *ok = a.ok;
      return a.name;
    }
  }
  return nullptr;
}

// An address or CIDR (common::ParseIpPrefix: strict dotted quads, IPv6, prefix in range).
[[nodiscard]] bool ParseIpOrCidr(std::string_view s) {
  common::IpPrefix ignored;
  return common::ParseIpPrefix(s, &ignored);
}

bool LooksLikeIp(std::string_view s) { return s.find_first_of("./:") != std::string_view::npos; }

bool IsValidCustomTypeName(std::string_view t) {
  if (t.size() < 3 || t.size() > 250) return false;
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return t.front() != '-' && t.back() != '-' && t.find("--") == std::string_view::npos;
}

class Checker {
 public:
  Checker(const Pattern& p, std::vector<Diagnostic>* w, const CheckOptions& o)
      : p_(p), warnings_(w), options_(o) {}

  absl::Status Run() {
    if (p_.root == kNoNode) return absl::InvalidArgumentError("empty pattern");
    Obs(p_.root);
    return status_;
  }

 private:
  uint32_t Col(uint32_t offset) const { return p_.ColumnOf(offset); }

  void Error(uint32_t offset, std::string_view msg) {
    if (!status_.ok()) return;
    status_ = absl::InvalidArgumentError(detail::Cat("column ", Col(offset), ": ", msg));
  }
  void Warn(uint32_t offset, std::string msg) {
    if (warnings_ == nullptr) return;
    warnings_->push_back(Diagnostic{Col(offset), std::move(msg)});
  }

  void Obs(NodeIndex i) {
    if (!status_.ok()) return;
    const ObservationNode& n = p_.observations[i];
    switch (n.kind) {
      case ObservationKind::kSimple: {
        Comp(n.comparison);
        return;
      }
      case ObservationKind::kAnd:
      case ObservationKind::kOr:
      case ObservationKind::kFollowedBy:
        for (NodeIndex c : p_.Children(n)) Obs(c);
        return;
      case ObservationKind::kWithin:
        if (!(n.within_seconds > 0)) {
          Error(n.offset, "WITHIN needs a positive number of seconds, found 0");
        }
        break;
      case ObservationKind::kRepeats:
        if (n.repeats < 1) Error(n.offset, "REPEATS needs a count of at least 1, found 0");
        break;
      case ObservationKind::kStartStop:
        CheckTimestamp(n.start, n.offset, "START");
        CheckTimestamp(n.stop, n.offset, "STOP");
        if (status_.ok() && n.start.ToUnixMicros() >= n.stop.ToUnixMicros()) {
          Warn(n.offset,
               detail::Cat("START ", TimestampText(n.start), " is not before STOP ",
                           TimestampText(n.stop), ": this qualifier can never be satisfied"));
        }
        break;
    }
    // Duplicate qualifier kinds in one chain (the group resets it, see ObservationNode::grouped).
    for (NodeIndex c = n.child; IsQualifier(p_.observations[c].kind);) {
      const ObservationNode& cn = p_.observations[c];
      if (cn.grouped) break;
      if (cn.kind == n.kind) {
        Error(n.offset, detail::Cat("duplicate qualifier type ", QualifierName(n.kind),
                                    ": the observation expression already has ",
                                    QualifierName(n.kind), " at column ", Col(cn.offset)));
        return;
      }
      c = cn.child;
    }
    Obs(n.child);
  }

  void CheckTimestamp(const Timestamp& t, uint32_t offset, std::string_view what) {
    if (t.IsCalendarValid()) return;
    static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                              "May",       "June",     "July",     "August",
                                              "September", "October",  "November", "December"};
    Error(offset, detail::Cat(what, " t'", TimestampText(t), "Z' is not a calendar date (",
                              kMonths[(t.month - 1) % 12], " ", t.year, " has no day ",
                              unsigned{t.day}, ")"));
  }

  // Returns the set of root object types a comparison subtree can constrain (for the
  // same-object rule of AND, spec digest §5 rule 10). Empty vector = "any" (error path).
  void Comp(NodeIndex i) {
    if (!status_.ok()) return;
    const ComparisonNode& n = p_.comparisons[i];
    if (n.kind != ComparisonKind::kTest) {
      for (NodeIndex c : p_.Children(n)) Comp(c);
      if (n.kind == ComparisonKind::kAnd && status_.ok()) CheckSameRoot(n);
      return;
    }
    Test(n);
  }

  void CollectTypes(NodeIndex i, std::vector<std::string_view>* out) const {
    const ComparisonNode& n = p_.comparisons[i];
    if (n.kind == ComparisonKind::kTest) {
      out->push_back(p_.paths[n.path].type);
      return;
    }
    for (NodeIndex c : p_.Children(n)) CollectTypes(c, out);
  }

  void CheckSameRoot(const ComparisonNode& n) {
    // Each AND operand must be satisfiable by the same root object; if two operands can only
    // be satisfied by disjoint sets of types, the AND never matches.
    std::vector<std::string_view> common;
    bool first = true;
    for (NodeIndex c : p_.Children(n)) {
      std::vector<std::string_view> types;
      CollectTypes(c, &types);
      if (first) {
        common = std::move(types);
        first = false;
        continue;
      }
      std::vector<std::string_view> next;
      for (std::string_view t : common) {
        for (std::string_view u : types) {
          if (t == u) {
            next.push_back(t);
            break;
          }
        }
      }
      common = std::move(next);
      if (common.empty()) {
        Warn(n.offset,
             "comparisons on different object types are joined by AND inside one "
             "observation expression; they must hold on the same object, so this "
             "can never match (use OR, or separate [...] expressions)");
        return;
      }
    }
  }

  void Test(const ComparisonNode& n) {
    const ObjectPath& path = p_.paths[n.path];
    auto steps = p_.Steps(path);
    auto values = p_.Values(n);
    CheckPathNames(path, steps);

    // Literals: timestamps, set homogeneity.
    for (const Literal& l : values) {
      if (l.kind == LiteralKind::kTimestamp && !l.timestamp.IsCalendarValid()) {
        CheckTimestamp(l.timestamp, l.offset, "timestamp");
        return;
      }
    }
    if (n.op == Operator::kIn) {
      if (values.empty()) {
        Warn(n.offset, "IN () is an empty set: this comparison is never true");
      }
      for (size_t k = 1; k < values.size(); ++k) {
        bool compatible =
            values[k].kind == values[0].kind || (values[k].IsNumeric() && values[0].IsNumeric());
        if (!compatible) {
          Error(values[k].offset,
                detail::Cat("the IN set mixes ", LiteralKindName(values[0].kind), " and ",
                            LiteralKindName(values[k].kind),
                            " values; all values must have one type (integers and floats may "
                            "mix)"));
          return;
        }
      }
    }
    for (const PathStep& s : steps) {
      if (s.kind == StepKind::kIndex && s.index < 0) {
        Warn(path.offset,
             detail::Cat("negative list index [", s.index, "] never selects an element"));
      }
    }

    switch (n.op) {
      case Operator::kMatches: CheckRegex(n, steps, values[0]); break;
      case Operator::kIsSubset:
      case Operator::kIsSuperset: {
        const Literal& l = values[0];
        if (!ParseIpOrCidr(l.text)) {
          std::string msg = detail::Cat(Excerpt(l.text),
                                        " is not an IPv4/IPv6 address or CIDR "
                                        "block (as in '198.51.100.0/24'), which ",
                                        OperatorName(n.op), " needs");
          if (LooksLikeIp(l.text)) {
            Error(l.offset, msg);
            return;
          }
          Warn(l.offset, detail::Cat(msg, "; this comparison is never true"));
        }
        break;
      }
      default: break;
    }
    if (!status_.ok()) return;
    CheckHashes(n, steps, values);
    CheckPropertyType(n, path, steps, values);
    CheckValueFormat(n, path, steps, values);
  }

  // A string the property can never hold (STIX 2.1 §6: ipv4-addr/ipv6-addr values are an
  // address or a CIDR block of their family; mac-addr values are six colon-separated pairs of
  // lowercase hex digits) compared with =, != or IN: almost always a typo. A warning, not an
  // error: the pattern is valid, it just never matches (or, with !=, always does).
  void CheckValueFormat(const ComparisonNode& n, const ObjectPath& path,
                        std::span<const PathStep> steps, std::span<const Literal> values) {
    if (steps.size() != 1 || steps.front().key != "value") return;
    if (n.op != Operator::kEqual && n.op != Operator::kNotEqual && n.op != Operator::kIn) return;
    const char* expected = nullptr;
    if (path.type == "ipv4-addr") {
      expected = "an IPv4 address or CIDR block, as in '198.51.100.1' or '198.51.100.0/24'";
    } else if (path.type == "ipv6-addr") {
      expected = "an IPv6 address or CIDR block, as in '2001:db8::1' or '2001:db8::/32'";
    } else if (path.type == "mac-addr") {
      expected = "six colon-separated pairs of lowercase hex digits, as in '00:00:5e:00:53:af'";
    } else {
      return;
    }
    // `!=` and `NOT =` hold for every object when the value cannot occur.
    bool always_true = (n.op == Operator::kNotEqual) != n.negated;
    for (const Literal& l : values) {
      if (l.kind != LiteralKind::kString || ValueFits(path.type, l.text)) continue;
      Warn(l.offset,
           detail::Cat(
               Excerpt(l.text), " cannot be a ", path.type, ":value, which is ", expected, "; ",
               always_true ? "this comparison is always true" : "this comparison never matches"));
      return;
    }
  }

  static bool ValueFits(std::string_view type, std::string_view v) {
    if (type == "mac-addr") {
      if (v.size() != 17) return false;
      for (size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        bool ok = i % 3 == 2 ? c == ':' : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if (!ok) return false;
      }
      return true;
    }
    common::IpPrefix ip;
    if (!common::ParseIpPrefix(v, &ip)) return false;
    return ip.family == (type == "ipv4-addr" ? 4 : 6);
  }

  void CheckRegex(const ComparisonNode& n, std::span<const PathStep> steps, const Literal& l) {
    int err = 0;
    PCRE2_SIZE erroff = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(l.text.data()), l.text.size(),
                                     PCRE2_UTF | PCRE2_DOTALL, &err, &erroff, nullptr);
    if (code == nullptr) {
      // Binary properties are matched byte-wise, without UTF (spec digest §8.5).
      const std::string& last = steps.back().key;
      bool binary =
          steps.back().kind == StepKind::kKey && (last.ends_with("_bin") || last.ends_with("_hex"));
      if (binary) {
        int err2 = 0;
        PCRE2_SIZE off2 = 0;
        code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(l.text.data()), l.text.size(),
                             PCRE2_DOTALL, &err2, &off2, nullptr);
      }
    }
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      Error(l.offset, detail::Cat("invalid regular expression for MATCHES: ",
                                  reinterpret_cast<const char*>(msg), " at offset ", erroff, " of ",
                                  Excerpt(l.text)));
      return;
    }
    // PCRE2 counts backreferences itself; the scan below also names the construct and finds
    // lookaround, recursion and conditionals, which it does not count.
    uint32_t backref_max = 0;
    pcre2_pattern_info(code, PCRE2_INFO_BACKREFMAX, &backref_max);
    pcre2_code_free(code);
    (void)n;
    if (options_.allow_backtracking_regex) return;
    std::optional<BacktrackingConstruct> bt = FindBacktrackingConstruct(l.text);
    if (!bt && backref_max > 0) bt = BacktrackingConstruct{"backreference", "", 0};
    if (!bt) return;
    std::string what = bt->text.empty()
                           ? bt->name
                           : detail::Cat(bt->name, " '", bt->text, "' at offset ", bt->offset);
    Error(l.offset,
          detail::Cat("MATCHES regular expression ", Excerpt(l.text), " uses a ", what,
                      ": lookaround, backreferences, recursion and conditionals need a "
                      "backtracking matcher whose time can grow exponentially with the value, "
                      "and are refused unless the node allows them for the collection "
                      "([pattern] allow_backtracking_regex in accord.toml)"));
  }

  void CheckHashes(const ComparisonNode& n, std::span<const PathStep> steps,
                   std::span<const Literal> values) {
    if (n.op != Operator::kEqual && n.op != Operator::kNotEqual && n.op != Operator::kIn) return;
    if (steps.size() < 2 || steps.back().kind != StepKind::kKey) return;
    bool has_hashes = false;
    for (size_t k = 0; k + 1 < steps.size(); ++k) {
      has_hashes |= steps[k].kind == StepKind::kKey && steps[k].key == "hashes";
    }
    if (!has_hashes) return;
    bool (*ok)(std::string_view) = nullptr;
    const char* alg = HashAlgorithm(steps.back().key, &ok);
    if (alg == nullptr) return;
    for (const Literal& l : values) {
      if (l.kind != LiteralKind::kString) continue;
      if (!ok(l.text)) {
        Error(l.offset, detail::Cat(Excerpt(l.text), " is not a valid ", alg, " hash"));
        return;
      }
    }
  }

  void CheckPathNames(const ObjectPath& path, std::span<const PathStep> steps) {
    const std::string& type = path.type;
    if (!detail::IsKnownScoType(type)) {
      if (!warned_types_.insert(type).second) return;
      if (detail::IsNonScoType(type)) {
        Warn(path.offset, detail::Cat("'", type,
                                      "' is not a cyber-observable type; patterns "
                                      "only match SCOs, so this comparison never matches"));
      } else if (!IsValidCustomTypeName(type)) {
        Warn(path.offset,
             detail::Cat("unknown object type '", type,
                         "' is not a valid custom type name "
                         "(3-250 characters: lowercase letters, digits and single hyphens)"));
      } else {
        Warn(path.offset, detail::Cat("unknown object type '", type,
                                      "' (not a STIX 2.1 SCO; assumed to be a custom object)"));
      }
      return;
    }
    const std::string& prop = steps.front().key;
    bool known = false;
    detail::ScoPropertyType(type, prop, &known);
    if (!known && !prop.starts_with("x_")) {
      std::string key = detail::Cat(type, ":", prop);
      if (!warned_types_.insert(key).second) return;
      Warn(path.offset, detail::Cat("'", type, "' has no property '", prop,
                                    "' in STIX 2.1 (custom properties should start with x_)"));
    }
  }

  void CheckPropertyType(const ComparisonNode& n, const ObjectPath& path,
                         std::span<const PathStep> steps, std::span<const Literal> values) {
    if (steps.size() != 1 || n.op == Operator::kExists || values.empty()) return;
    bool known = false;
    PropType pt = detail::ScoPropertyType(path.type, steps.front().key, &known);
    if (!known) return;
    for (const Literal& l : values) {
      bool ok = true;
      switch (pt) {
        case PropType::kInteger:
          ok = l.IsNumeric() && n.op != Operator::kLike && n.op != Operator::kMatches;
          break;
        case PropType::kBoolean: ok = l.kind == LiteralKind::kBool; break;
        case PropType::kTimestamp:
          ok = l.kind == LiteralKind::kTimestamp || n.op == Operator::kLike ||
               n.op == Operator::kMatches;
          break;
        case PropType::kString: ok = l.kind == LiteralKind::kString || l.IsBytes(); break;
        case PropType::kBinary:
        case PropType::kHex: ok = l.kind == LiteralKind::kString || l.IsBytes(); break;
        default: break;
      }
      if (!ok) {
        std::string hint = pt == PropType::kTimestamp ? " (write timestamps as t'...')" : "";
        Warn(l.offset,
             detail::Cat(path.type, ":", steps.front().key, " is a ", detail::PropTypeName(pt),
                         " property; comparing it with a ", LiteralKindName(l.kind),
                         " literal using ", OperatorName(n.op), " never matches", hint));
        return;
      }
    }
  }

  const Pattern& p_;
  std::vector<Diagnostic>* warnings_;
  const CheckOptions& options_;
  absl::Status status_;
  absl::flat_hash_set<std::string> warned_types_;
};

}  // namespace

// ---- Backtracking-only constructs in PCRE2 syntax -------------------------------------------
//
// A scan, not a parser: it tracks only what changes the meaning of '(' and '\' (escapes,
// \Q...\E quoting, character classes), which is enough to find the constructs exactly. Inside
// a class, '(' is literal and \1 is an octal escape, so neither is looked at there.

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The end of the character class whose '[' is at `i` (the index after its ']').
size_t SkipClass(std::string_view r, size_t i) {
  size_t j = i + 1;
  if (j < r.size() && r[j] == '^') ++j;
  if (j < r.size() && r[j] == ']') ++j;  // a ']' first in the class is literal
  while (j < r.size()) {
    char c = r[j];
    if (c == '\\') {
      if (j + 1 < r.size() && r[j + 1] == 'Q') {  // \Q...\E quotes inside a class too
        size_t e = r.find("\\E", j + 2);
        j = e == std::string_view::npos ? r.size() : e + 2;
        continue;
      }
      j += 2;
      continue;
    }
    if (c == '[' && j + 1 < r.size() && r[j + 1] == ':') {  // [:alpha:]
      size_t e = r.find(":]", j + 2);
      if (e != std::string_view::npos) {
        j = e + 2;
        continue;
      }
    }
    if (c == ']') return j + 1;
    ++j;
  }
  return r.size();
}

// The text of a group reference that starts at `i` and closes with `close`, for messages.
std::string_view Upto(std::string_view r, size_t i, char close) {
  size_t e = r.find(close, i);
  if (e == std::string_view::npos || e - i > 64)
    return r.substr(i, std::min<size_t>(8, r.size() - i));
  return r.substr(i, e - i + 1);
}

}  // namespace

std::optional<BacktrackingConstruct> FindBacktrackingConstruct(std::string_view r) {
  auto found = [&](const char* name, size_t at, std::string_view text) {
    return std::optional<BacktrackingConstruct>(BacktrackingConstruct{name, std::string(text), at});
  };
  size_t i = 0;
  while (i < r.size()) {
    char c = r[i];
    if (c == '\\') {
      if (i + 1 >= r.size()) return std::nullopt;
      char e = r[i + 1];
      if (e == 'Q') {
        size_t end = r.find("\\E", i + 2);
        if (end == std::string_view::npos) return std::nullopt;
        i = end + 2;
        continue;
      }
      if (e >= '1' && e <= '9') {  // \1..\9 (and \10.. when that many groups exist)
        size_t j = i + 2;
        while (j < r.size() && IsDigit(r[j])) ++j;
        return found("backreference", i, r.substr(i, j - i));
      }
      if (e == 'g' && i + 2 < r.size()) {
        char g = r[i + 2];
        if (g == '<' || g == '\'') {  // \g<name> \g'name': a subroutine call (Oniguruma)
          return found("subroutine call", i, Upto(r, i, g == '<' ? '>' : '\''));
        }
        if (g == '{') return found("backreference", i, Upto(r, i, '}'));
        if (IsDigit(g) || g == '-' || g == '+') {
          size_t j = i + 3;
          while (j < r.size() && IsDigit(r[j])) ++j;
          return found("backreference", i, r.substr(i, j - i));
        }
      }
      if (e == 'k' && i + 2 < r.size() &&
          (r[i + 2] == '<' || r[i + 2] == '\'' || r[i + 2] == '{')) {
        char close = r[i + 2] == '<' ? '>' : r[i + 2] == '{' ? '}' : '\'';
        return found("named backreference", i, Upto(r, i, close));
      }
      if (e == 'c') {  // \cX: X is any character, even '\' or '('
        i += 3;
        continue;
      }
      i += 2;  // any other escape: one escaped character (\x{..} and \p{..} hold no '(' or '\')
      continue;
    }
    if (c == '[') {
      i = SkipClass(r, i);
      continue;
    }
    if (c != '(' || i + 1 >= r.size()) {
      ++i;
      continue;
    }
    std::string_view rest = r.substr(i + 1);
    if (rest.starts_with("?#")) {  // a comment runs to the first ')' (no escapes inside)
      size_t e = r.find(')', i + 3);
      i = e == std::string_view::npos ? r.size() : e + 1;
      continue;
    }
    if (rest.starts_with("?=")) return found("lookahead", i, "(?=");
    if (rest.starts_with("?!")) return found("negative lookahead", i, "(?!");
    if (rest.starts_with("?<=")) return found("lookbehind", i, "(?<=");
    if (rest.starts_with("?<!")) return found("negative lookbehind", i, "(?<!");
    if (rest.starts_with("?P=")) return found("named backreference", i, Upto(r, i, ')'));
    if (rest.starts_with("?P>") || rest.starts_with("?&")) {
      return found("subroutine call", i, Upto(r, i, ')'));
    }
    if (rest.starts_with("?R)") || rest.starts_with("?0)")) return found("recursion", i, "(?R)");
    if (rest.size() >= 2 && rest[0] == '?' &&
        (IsDigit(rest[1]) ||
         ((rest[1] == '+' || rest[1] == '-') && rest.size() >= 3 && IsDigit(rest[2])))) {
      return found("subroutine call", i, Upto(r, i, ')'));
    }
    if (rest.starts_with("?(")) return found("conditional", i, "(?(");
    if (rest.starts_with("*")) {
      // PCRE2 10.34+ alphabetic assertions: (*pla: (*positive_lookahead: (*nla: (*plb: (*nlb:
      // (*napla: (*naplb: and the long forms; verbs like (*SKIP) and (*UTF) are not these.
      static constexpr const char* kAlpha[][2] = {
          {"*pla:", "lookahead"},
          {"*positive_lookahead:", "lookahead"},
          {"*nla:", "negative lookahead"},
          {"*negative_lookahead:", "negative lookahead"},
          {"*plb:", "lookbehind"},
          {"*positive_lookbehind:", "lookbehind"},
          {"*nlb:", "negative lookbehind"},
          {"*negative_lookbehind:", "negative lookbehind"},
          {"*napla:", "non-atomic lookahead"},
          {"*non_atomic_positive_lookahead:", "non-atomic lookahead"},
          {"*naplb:", "non-atomic lookbehind"},
          {"*non_atomic_positive_lookbehind:", "non-atomic lookbehind"},
      };
      for (const auto& a : kAlpha) {
        if (rest.starts_with(a[0])) return found(a[1], i, r.substr(i, std::strlen(a[0]) + 1));
      }
    }
    ++i;
  }
  return std::nullopt;
}

std::string Diagnostic::ToString() const {
  if (column == 0) return message;
  return detail::Cat("column ", column, ": ", message);
}

absl::Status Check(const Pattern& pattern, std::vector<Diagnostic>* warnings,
                   const CheckOptions& options) {
  return Checker(pattern, warnings, options).Run();
}

absl::StatusOr<Pattern> ParseAndCheck(std::string_view text, std::vector<Diagnostic>* warnings,
                                      const ParseOptions& options,
                                      const CheckOptions& check_options) {
  absl::StatusOr<Pattern> p = Parse(text, options);
  if (!p.ok()) return p;
  absl::Status s = Check(*p, warnings, check_options);
  if (!s.ok()) return s;
  return p;
}

}  // namespace accord::pattern
