// Reference semantics of STIX patterning (see eval.h): object path resolution (spec digest
// §6.2), value comparison (§7, §8) and the binding search over observation expressions (§9-§11).
// The interpreter and the engine's confirmations both decide here, so a change in this file
// changes both; tests/match/match_conformance_test.cc (378 OASIS cases) pins the behaviour.
// Where the reference matcher and the spec text disagree, this code follows the spec and the
// comment says so (digest §15).
#include "match/eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "accord/common/encoding.h"
#include "accord/common/time.h"

namespace accord::match::detail {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// STIX _hex and _bin values, decoded by the rules every layer uses (accord/common/encoding.h:
// strict hex; padded, canonical standard base64). A value that does not decode is compared
// as the string it is.
bool DecodeHex(std::string_view s, std::string* out) {
  auto bytes = common::HexDecode(s);
  if (!bytes) return false;
  *out = std::move(*bytes);
  return true;
}

bool DecodeBase64(std::string_view s, std::string* out) {
  auto bytes = common::Base64Decode(s);
  if (!bytes) return false;
  *out = std::move(*bytes);
  return true;
}

// Decodes one UTF-8 code point; returns its length (1 on invalid bytes, cp = the byte).
// No overlong or surrogate checks: callers only need to know whether code points are < U+0100
// and to step through text; they never fail on malformed input.
size_t NextCodePoint(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  if (n == 1) {
    *cp = c;
    return 1;
  }
  uint32_t v = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  *cp = v;
  return n;
}

template <typename T>
int Sign(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

// Byte order of UTF-8 is code-point order, which is what §8.2 asks of string ordering
// (no collation); bytes compare as unsigned (§8.2 binary).
int CompareBytes(std::string_view a, std::string_view b) {
  int c = a.compare(b);  // char_traits<char>::compare is unsigned (memcmp)
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// A value as reported in MatchResult::values: strings as is, bytes as lowercase hex, floats
// with 17 significant digits (round-trip); lists, objects and null have no text.
std::string CandText(const Cand& v) {
  switch (v.kind) {
    case Cand::Kind::kBool: return v.b ? "true" : "false";
    case Cand::Kind::kInt: return std::to_string(v.i);
    case Cand::Kind::kFloat: {
      char buf[32];
      snprintf(buf, sizeof buf, "%.17g", v.f);
      return buf;
    }
    case Cand::Kind::kString: return std::string(v.s);
    case Cand::Kind::kBytes: {
      static const char* kHex = "0123456789abcdef";
      std::string out;
      for (unsigned char c : v.s) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return out;
    }
    default: return "";
  }
}

}  // namespace

// §8.8: a string meets bytes only if each of its code points fits one byte (U+00XX -> 0xXX).
bool Latin1Bytes(std::string_view utf8, std::string* out) {
  out->clear();
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp;
    i += NextCodePoint(utf8, i, &cp);
    if (cp > 0xff) return false;
    out->push_back(static_cast<char>(cp));
  }
  return true;
}

// §8.4, §8.5: LIKE and MATCHES see NFC-normalised text. If ICU fails, the text is used as is.
// PERF: ASCII text is already NFC, so most values skip ICU and its round trip through UTF-16.
std::string_view Nfc(std::string_view s, std::string* buf) {
  bool ascii = true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_FAILURE(err)) return s;
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString n = nfc->normalize(u, err);
  if (U_FAILURE(err)) return s;
  buf->clear();
  n.toUTF8String(*buf);
  return *buf;
}

// §8.4. Every code point that is not an ASCII letter or digit is written as \x{..}, so no
// character of the LIKE text can act as regex syntax, and the same text suits PCRE2 and
// Vectorscan. The regex is compiled with DOTALL (Regex(), engine.cc), so `%` and `_` also
// match line breaks; the reference matcher does not set DOTALL for LIKE, and the spec is
// silent (digest §8.4).
std::string LikeToRegex(std::string_view like, bool bytes) {
  std::string re = "^";
  for (size_t i = 0; i < like.size();) {
    uint32_t cp;
    size_t n = bytes ? 1 : NextCodePoint(like, i, &cp);
    if (bytes) cp = static_cast<unsigned char>(like[i]);
    i += n;
    if (cp == '%') {
      re += ".*";
    } else if (cp == '_') {
      re += ".";
    } else if (cp < 0x80 && std::isalnum(static_cast<int>(cp))) {
      re.push_back(static_cast<char>(cp));
    } else {
      char buf[16];
      snprintf(buf, sizeof buf, "\\x{%x}", cp);
      re += buf;
    }
  }
  re += "$";
  return re;
}

// §8.6: range(a) inside range(b) iff a's prefix is at least as long and the first b.prefix
// bits agree. Host bits beyond the prefix are ignored on both sides.
bool IpSubset(const common::IpPrefix& a, const common::IpPrefix& b) {
  if (a.family == 0 || a.family != b.family || a.prefix < b.prefix) return false;
  int full = b.prefix / 8, rest = b.prefix % 8;
  if (memcmp(a.addr, b.addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.addr[full] & mask) == (b.addr[full] & mask);
}

// A compiled PCRE2 regex and its match data. Owned by regex_cache_; null `code` records a
// regex that failed to compile, so the failure is not retried on every value.
struct Evaluator::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_data* md = nullptr;
  ~Compiled() {
    if (md) pcre2_match_data_free(md);
    if (code) pcre2_code_free(code);
  }
};

// The limits every pcre2_match of this Evaluator runs under.
struct Evaluator::MatchContext {
  pcre2_match_context* ctx = nullptr;
  ~MatchContext() {
    if (ctx) pcre2_match_context_free(ctx);
  }
};

Evaluator::Evaluator() = default;
Evaluator::~Evaluator() = default;

void Evaluator::SetRegexLimits(uint32_t match_limit, uint32_t depth_limit) {
  if (match_limit == 0 && depth_limit == 0) {
    match_context_.reset();
    return;
  }
  auto mc = std::make_unique<MatchContext>();
  mc->ctx = pcre2_match_context_create(nullptr);
  if (!mc->ctx) return;  // out of memory: keep the previous limits
  if (match_limit) pcre2_set_match_limit(mc->ctx, match_limit);
  if (depth_limit) pcre2_set_depth_limit(mc->ctx, depth_limit);
  match_context_ = std::move(mc);
}

// Runs `re` over `subject` with search semantics (§8.5: matches anywhere unless anchored).
// Text mode uses UTF and UCP, and MATCH_INVALID_UTF so that invalid UTF-8 in event data makes
// no match rather than an error; byte mode reads the regex as Latin-1 (§8.5: code points below
// U+0100 stand for single bytes). Errors count in counters.regex_errors and make the test
// false.
// PERF: each regex is compiled once per Evaluator and cached by mode and text. The cache is not
// bounded; its keys come from patterns, never from event data.
bool Evaluator::Regex(const std::string& re, bool bytes, std::string_view subject) {
  std::string key = (bytes ? "b" : "t") + re;
  auto it = regex_cache_.find(key);
  if (it == regex_cache_.end()) {
    auto c = std::make_unique<Compiled>();
    int err;
    PCRE2_SIZE off;
    uint32_t flags = PCRE2_DOTALL | (bytes ? 0 : (PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF));
    std::string pat = re;
    std::string latin;
    if (bytes) {
      // §8.5: for binary values the regex's code points (< U+0100) are single bytes.
      if (!Latin1Bytes(re, &latin)) {
        c.reset();
      } else {
        pat = latin;
      }
    }
    if (c) {
      c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(), flags, &err,
                              &off, nullptr);
      if (c->code) c->md = pcre2_match_data_create_from_pattern(c->code, nullptr);
    }
    it = regex_cache_.emplace(key, std::move(c)).first;
  }
  Compiled* c = it->second.get();
  if (!c || !c->code) {
    ++counters.regex_errors;
    return false;
  }
  int rc = pcre2_match(c->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       c->md, match_context_ ? match_context_->ctx : nullptr);
  // -1 is PCRE2_ERROR_NOMATCH; lower codes are failures. The limits are counted apart: a
  // planted regex with nested quantifiers under a lookahead (which Vectorscan cannot
  // prefilter) hits them on every value, and the engine disables such an indicator.
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
    ++counters.regex_limit_hits;
  } else if (rc < -1) {
    ++counters.regex_errors;
  }
  return rc >= 0;
}

void Evaluator::Resolve(const Observation& o, const Node& root, const ObjectPath& p,
                        std::vector<Cand>* out) {
  out->clear();
  Step(o, root, p, 0, false, out);
}

// Resolves steps[i..] from `cur`, appending every value reached (§6.2). A [*] step fans out,
// so one path can yield many candidates. `deref_elems` is set when `cur` is the list of a
// `_refs` property: its elements are ids, replaced by the SCOs they name (ids that do not
// resolve within the observation are dropped, §6.1).
void Evaluator::Step(const Observation& o, const Node& cur, const ObjectPath& p, size_t i,
                     bool deref_elems, std::vector<Cand>* out) {
  if (out->size() > 100000) return;  // bound fan-out on hostile input
  if (i == p.steps.size()) {
    Cand c;
    switch (cur.kind) {
      case Node::Kind::kNull: c.kind = Cand::Kind::kNull; break;
      case Node::Kind::kBool:
        c.kind = Cand::Kind::kBool;
        c.b = cur.b;
        break;
      case Node::Kind::kInt:
        c.kind = Cand::Kind::kInt;
        c.i = cur.i;
        break;
      case Node::Kind::kFloat:
        c.kind = Cand::Kind::kFloat;
        c.f = cur.f;
        break;
      case Node::Kind::kString:
        c.kind = Cand::Kind::kString;
        c.s = o.Str(cur);
        break;
      case Node::Kind::kList: c.kind = Cand::Kind::kList; break;
      case Node::Kind::kObject: c.kind = Cand::Kind::kObject; break;
    }
    out->push_back(c);
    return;
  }
  const PathStep& s = p.steps[i];
  if (s.kind == PathStep::Kind::kKey) {
    // A missing member yields no candidate: the comparison is then false whatever the
    // operator (§6.2 step 7), except NOT EXISTS (EvalCmp).
    const Node* m = o.Member(cur, s.key);
    if (!m) return;
    if (m->kind == Node::Kind::kString && EndsWith(s.key, "_ref")) {
      const Node* t = o.FindSco(o.Str(*m));
      if (t) Step(o, *t, p, i + 1, false, out);
      return;
    }
    if (m->kind == Node::Kind::kList && EndsWith(s.key, "_refs")) {
      Step(o, *m, p, i + 1, true, out);
      return;
    }
    // A _hex/_bin property at the end of the path is decoded to bytes (§6.2 step 6). The
    // bytes live in scratch_, a deque so that views into earlier buffers stay valid while
    // more are added; EvalCmp recycles them when it returns. A value that does not decode
    // is compared as the string it is.
    if (m->kind == Node::Kind::kString && i + 1 == p.steps.size() &&
        (EndsWith(s.key, "_hex") || EndsWith(s.key, "_bin"))) {
      if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
      std::string& buf = scratch_[scratch_used_];
      bool ok =
          EndsWith(s.key, "_hex") ? DecodeHex(o.Str(*m), &buf) : DecodeBase64(o.Str(*m), &buf);
      if (ok) {
        ++scratch_used_;
        Cand c;
        c.kind = Cand::Kind::kBytes;
        c.s = buf;
        out->push_back(c);
        return;
      }
    }
    Step(o, *m, p, i + 1, false, out);
    return;
  }
  // [n] and [*] apply to lists only; an index out of range (or negative) yields nothing.
  if (cur.kind != Node::Kind::kList) return;
  auto visit = [&](const Node& e) {
    if (deref_elems && e.kind == Node::Kind::kString) {
      const Node* t = o.FindSco(o.Str(e));
      if (t) Step(o, *t, p, i + 1, false, out);
    } else {
      Step(o, e, p, i + 1, false, out);
    }
  };
  if (s.kind == PathStep::Kind::kIndex) {
    if (s.index < 0 || static_cast<uint64_t>(s.index) >= cur.count) return;
    visit(o.node(cur.first + static_cast<uint32_t>(s.index)));
  } else {
    for (uint32_t k = 0; k < cur.count; ++k) visit(o.node(cur.first + k));
  }
}

namespace {

// Three-way comparison of a value with a literal; nullopt when the types are incompatible
// (§7). `ordering` is false for =/!=/IN, where booleans are comparable. For =/!= only zero
// versus non-zero matters, which is why booleans answer 0 or 1. Int/float pairs compare as long
// double, which holds every int64 exactly: 2^53 + 1 must not equal the float 2^53 (§7: exact
// values). `buf` receives a string converted to bytes.
std::optional<int> Order(const Cand& v, const Literal& lit, bool ordering, std::string* buf,
                         EvalCounters* counters) {
  using K = Cand::Kind;
  using L = Literal::Kind;
  switch (lit.kind) {
    case L::kBool:
      if (ordering || v.kind != K::kBool) return std::nullopt;
      return v.b == lit.b ? 0 : 1;
    case L::kInt:
      if (v.kind == K::kInt) return Sign(v.i, lit.i);
      if (v.kind == K::kFloat)
        return Sign(static_cast<long double>(v.f), static_cast<long double>(lit.i));
      return std::nullopt;
    case L::kFloat:
      if (v.kind == K::kInt)
        return Sign(static_cast<long double>(v.i), static_cast<long double>(lit.f));
      if (v.kind == K::kFloat) return Sign(v.f, lit.f);
      return std::nullopt;
    case L::kString:
      if (v.kind == K::kString) return CompareBytes(v.s, lit.s);
      if (v.kind == K::kBytes) {
        // §8.8: the constant's code points (< U+0100) become bytes.
        if (!Latin1Bytes(lit.s, buf)) return std::nullopt;
        return CompareBytes(v.s, *buf);
      }
      return std::nullopt;
    case L::kBytes:
      if (v.kind == K::kBytes) return CompareBytes(v.s, lit.s);
      if (v.kind == K::kString) {
        if (!Latin1Bytes(v.s, buf)) return std::nullopt;
        return CompareBytes(*buf, lit.s);
      }
      return std::nullopt;
    case L::kTimestamp: {
      if (v.kind != K::kString) return std::nullopt;
      auto ts = common::ParseTimestamp(v.s);
      if (!ts.ok()) {
        ++counters->type_errors;
        return std::nullopt;
      }
      return Sign(ts->micros, lit.ts);
    }
  }
  return std::nullopt;
}

}  // namespace

// The un-negated result of one operator on one candidate value (§8). Incompatible types give
// false, except for != which gives true (§7).
bool Evaluator::Test(const Comparison& c, const Cand& v) {
  switch (c.op) {
    case CmpOp::kEq: {
      auto r = Order(v, c.values[0], false, &bytes_buf_, &counters);
      return r && *r == 0;
    }
    case CmpOp::kNe: {
      uint64_t errors = counters.type_errors;
      auto r = Order(v, c.values[0], false, &bytes_buf_, &counters);
      // A malformed value (a non-timestamp string against t'...') is a type error, not a
      // difference: false, as for an absent value (the reference matcher raises).
      if (counters.type_errors != errors) return false;
      return !r || *r != 0;
    }
    case CmpOp::kLt:
    case CmpOp::kLe:
    case CmpOp::kGt:
    case CmpOp::kGe: {
      auto r = Order(v, c.values[0], true, &bytes_buf_, &counters);
      if (!r) return false;
      switch (c.op) {
        case CmpOp::kLt: return *r < 0;
        case CmpOp::kLe: return *r <= 0;
        case CmpOp::kGt: return *r > 0;
        default: return *r >= 0;
      }
    }
    case CmpOp::kIn:
      for (const Literal& l : c.values) {
        auto r = Order(v, l, false, &bytes_buf_, &counters);
        if (r && *r == 0) return true;
      }
      return false;
    case CmpOp::kLike:
    case CmpOp::kMatches: {
      const std::string& pat = c.values[0].s;
      if (v.kind == Cand::Kind::kString) {
        std::string_view subject = Nfc(v.s, &nfc_buf_);
        if (c.op == CmpOp::kLike) {
          std::string_view p = Nfc(pat, &nfc_buf2_);
          return Regex(LikeToRegex(p, false), false, subject);
        }
        return Regex(std::string(Nfc(pat, &nfc_buf2_)), false, subject);
      }
      if (v.kind == Cand::Kind::kBytes) {
        if (c.op == CmpOp::kLike) {
          std::string latin;
          if (!Latin1Bytes(pat, &latin)) return false;
          // Bytes regex: \x{..} escapes are below 0x100 here, PCRE2 reads them as bytes.
          return Regex(LikeToRegex(pat, false), true, v.s);
        }
        return Regex(pat, true, v.s);
      }
      return false;
    }
    // IPv4 and IPv6, bare addresses as /32 and /128 (§8.6); the reference matcher's IPv4-only
    // limits are not copied (digest §15.4).
    case CmpOp::kIsSubset:
    case CmpOp::kIsSuperset: {
      if (v.kind != Cand::Kind::kString) return false;
      common::IpPrefix a, b;
      if (!common::ParseIpPrefix(v.s, &a) || !common::ParseIpPrefix(c.values[0].s, &b))
        return false;
      return c.op == CmpOp::kIsSubset ? IpSubset(a, b) : IpSubset(b, a);
    }
    case CmpOp::kExists: return true;
  }
  return false;
}

bool Evaluator::EvalCmp(const Comparison& c, const Observation& o, const Node& root,
                        std::vector<std::string>* values) {
  // The candidate vectors are kept per depth and reused, so a comparison allocates nothing
  // once they have grown.
  if (depth_ == cand_stack_.size()) cand_stack_.emplace_back();
  std::vector<Cand>& cands = cand_stack_[depth_];
  ++depth_;
  Resolve(o, root, c.path, &cands);
  bool result = false;
  if (c.op == CmpOp::kExists) {
    // §8.7: the one place where an absent path gives true (NOT EXISTS).
    result = c.negated ? cands.empty() : !cands.empty();
    if (result && values && !cands.empty()) values->push_back(CandText(cands[0]));
  } else {
    for (const Cand& v : cands) {
      // §8.9 (spec, not the reference matcher): the raw result, false for incompatible
      // types except !=, is negated for values that exist.
      bool r = Test(c, v) != c.negated;
      if (r) {
        result = true;
        if (values) values->push_back(CandText(v));
        break;
      }
    }
  }
  --depth_;
  // The decoded bytes are no longer referenced. Resolve() called alone (the engine's probes)
  // never fills scratch_: the engine indexes no _hex/_bin path.
  if (depth_ == 0) scratch_used_ = 0;
  return result;
}

// §6.3: every comparison of an AND must hold on the same root SCO; a comparison on another
// SCO type is false on this root. A failed AND takes back the values its earlier conjuncts
// appended.
bool Evaluator::EvalOnRoot(const CompExpr& e, const Observation& o, const Node& root,
                           std::string_view type, std::vector<std::string>* values) {
  switch (e.kind) {
    case CompExpr::Kind::kCmp:
      if (e.cmp.path.type != type) return false;
      return EvalCmp(e.cmp, o, root, values);
    case CompExpr::Kind::kAnd: {
      size_t mark = values ? values->size() : 0;
      for (const CompExpr& c : e.children) {
        if (!EvalOnRoot(c, o, root, type, values)) {
          if (values) values->resize(mark);
          return false;
        }
      }
      return true;
    }
    case CompExpr::Kind::kOr:
      for (const CompExpr& c : e.children) {
        if (EvalOnRoot(c, o, root, type, values)) return true;
      }
      return false;
  }
  return false;
}

bool Evaluator::EvalComp(const CompExpr& e, const Observation& o,
                         std::vector<std::string>* values) {
  for (const Sco& s : o.scos()) {
    if (EvalOnRoot(e, o, o.node(s.root), o.Type(s), values)) return true;
  }
  return false;
}

// ---- Bindings ---------------------------------------------------------------------------------

void CollectLeaves(const ObsExpr& e, std::vector<const ObsExpr*>* out) {
  if (e.kind == ObsExpr::Kind::kSimple) {
    out->push_back(&e);
    return;
  }
  for (const ObsExpr& c : e.children) CollectLeaves(c, out);
}

// Bounds the number of instances of one observation a binding can use: an observation with
// number_observed = N stands for N instances (§9), but no more than Width(e) of them can be
// bound at once, so FindBinding expands at most that many. Capped at 2^20, which keeps the
// instance number within the 24 bits of Inst.
int64_t Width(const ObsExpr& e) {
  switch (e.kind) {
    case ObsExpr::Kind::kSimple: return 1;
    case ObsExpr::Kind::kAnd:
    case ObsExpr::Kind::kFollowedBy: {
      int64_t w = 0;
      for (const ObsExpr& c : e.children) w += Width(c);
      return std::min<int64_t>(w, 1 << 20);
    }
    case ObsExpr::Kind::kOr: {
      int64_t w = 0;
      for (const ObsExpr& c : e.children) w = std::max(w, Width(c));
      return w;
    }
    // The child's width is at most 2^20 and the count is clamped to 2^20 before the product,
    // so it stays below 2^40: REPEATS takes any integer the checker accepts (a peer's
    // `REPEATS 4611686018427387904 TIMES` once overflowed int64 here).
    case ObsExpr::Kind::kRepeats: {
      const int64_t times = std::clamp<int64_t>(e.repeats, 1, int64_t{1} << 20);
      return std::min<int64_t>(Width(e.children[0]) * times, 1 << 20);
    }
    default: return Width(e.children[0]);
  }
}

namespace {

// A binding is the set of observation instances bound by one way of satisfying a
// sub-expression, kept sorted so that disjointness and merging are linear, and instances of
// one observation are adjacent.
using Inst = uint64_t;              // observation index << 24 | instance number
using Binding = std::vector<Inst>;  // sorted

// Bottom-up evaluation of an observation expression into its bindings (digest §11). Every
// list of bindings is cut at opts.max_bindings (counted in truncated_bindings): the number of
// bindings grows combinatorially, so a cut search may miss a match, but never invents one.
//
// Leaves are numbered by a counter in visiting order, which must equal CollectLeaves' order
// (the numbering of `sat`): Eval visits every child exactly once, left to right, even under
// REPEATS and even when a list is already full.
class Search {
 public:
  Search(const std::vector<ObsFacts>& facts, const std::vector<std::vector<uint8_t>>& sat,
         const EvalOptions& opts, EvalCounters* counters, int64_t width)
      : facts_(facts), sat_(sat), opts_(opts), counters_(counters), width_(width) {}

  std::vector<Binding> Eval(const ObsExpr& e) {
    std::vector<Binding> out;
    switch (e.kind) {
      case ObsExpr::Kind::kSimple: {
        size_t leaf = leaf_++;
        for (size_t o = 0; o < facts_.size(); ++o) {
          if (!sat_[o][leaf]) continue;
          int64_t n = std::min(facts_[o].number_observed, width_);
          for (int64_t k = 0; k < n; ++k) {
            if (!Push(&out, Binding{(static_cast<Inst>(o) << 24) | static_cast<Inst>(k)})) break;
          }
        }
        break;
      }
      // §9: the sides bind disjoint instances. The n-ary node is folded left to right, and
      // for FOLLOWEDBY all that is bound so far must be able to precede the next operand:
      // max(first_observed) on the left <= min(last_observed) on the right (the reference
      // matcher's optimistic reading of interval times). Bindings equal as sets are merged
      // after each step, as nothing above looks at which operand bound what.
      case ObsExpr::Kind::kAnd:
      case ObsExpr::Kind::kFollowedBy: {
        out = Eval(e.children[0]);
        for (size_t i = 1; i < e.children.size(); ++i) {
          std::vector<Binding> r = Eval(e.children[i]);
          std::vector<Binding> next;
          for (const Binding& a : out) {
            for (const Binding& b : r) {
              if (!Disjoint(a, b)) continue;
              if (e.kind == ObsExpr::Kind::kFollowedBy && MaxFirst(a) > MinLast(b)) continue;
              if (!Push(&next, Merge(a, b))) goto done_pairs;
            }
          }
        done_pairs:
          out = Dedup(std::move(next));
        }
        break;
      }
      // A satisfied side need not bind the others: the union of the sides' bindings.
      case ObsExpr::Kind::kOr:
        for (const ObsExpr& c : e.children) {
          for (Binding& b : Eval(c)) {
            if (!Push(&out, std::move(b))) break;
          }
        }
        break;
      case ObsExpr::Kind::kRepeats: {
        std::vector<Binding> items = Eval(e.children[0]);
        Binding cur;
        Combine(items, 0, e.repeats, &cur, &out);
        out = Dedup(std::move(out));
        break;
      }
      case ObsExpr::Kind::kWithin: {
        auto items = Eval(e.children[0]);
        // §10.2: an interval of length x must meet every bound observation window, i.e.
        // max(first) - min(last) is below x (spec, half-open) or at most x (reference
        // matcher, closed; digest §15.1). Overlapping windows give a negative spread.
        long double x = static_cast<long double>(e.within_seconds) * 1e6L;
        for (Binding& b : items) {
          long double spread =
              static_cast<long double>(MaxFirst(b)) - static_cast<long double>(MinLast(b));
          if (opts_.strict_within ? spread < x : spread <= x) out.push_back(std::move(b));
        }
        break;
      }
      // §10.3: every bound window must overlap [start, stop); touching start counts, touching
      // only stop does not, and start >= stop never matches.
      case ObsExpr::Kind::kStartStop: {
        auto items = Eval(e.children[0]);
        for (Binding& b : items) {
          bool ok = e.start < e.stop;
          for (Inst in : b) {
            const ObsFacts& f = facts_[in >> 24];
            if (!(f.first < e.stop && f.last >= e.start)) ok = false;
          }
          if (ok) out.push_back(std::move(b));
        }
        break;
      }
    }
    return out;
  }

 private:
  bool Push(std::vector<Binding>* v, Binding b) {
    if (v->size() >= opts_.max_bindings) {
      ++counters_->truncated_bindings;
      return false;
    }
    v->push_back(std::move(b));
    return true;
  }
  static bool Disjoint(const Binding& a, const Binding& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (a[i] == b[j]) return false;
      if (a[i] < b[j])
        ++i;
      else
        ++j;
    }
    return true;
  }
  static Binding Merge(const Binding& a, const Binding& b) {
    Binding m;
    m.reserve(a.size() + b.size());
    std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(m));
    return m;
  }
  static std::vector<Binding> Dedup(std::vector<Binding> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }
  common::Micros MaxFirst(const Binding& b) const {
    common::Micros m = INT64_MIN;
    for (Inst i : b) m = std::max(m, facts_[i >> 24].first);
    return m;
  }
  common::Micros MinLast(const Binding& b) const {
    common::Micros m = INT64_MAX;
    for (Inst i : b) m = std::min(m, facts_[i >> 24].last);
    return m;
  }
  // Order-independent n-combinations of pairwise-disjoint bindings (§10.1).
  void Combine(const std::vector<Binding>& items, size_t from, int64_t left, Binding* cur,
               std::vector<Binding>* out) {
    if (left == 0) {
      Push(out, *cur);
      return;
    }
    if (items.size() - from < static_cast<size_t>(left)) return;
    for (size_t i = from; i < items.size(); ++i) {
      if (out->size() >= opts_.max_bindings) return;
      if (!Disjoint(*cur, items[i])) continue;
      Binding saved = *cur;
      *cur = Merge(*cur, items[i]);
      Combine(items, i + 1, left - 1, cur, out);
      *cur = std::move(saved);
    }
  }

  const std::vector<ObsFacts>& facts_;
  const std::vector<std::vector<uint8_t>>& sat_;
  const EvalOptions& opts_;
  EvalCounters* counters_;
  int64_t width_;
  size_t leaf_ = 0;
};

}  // namespace

// Reports the first binding of the root's list, its instances mapped back to distinct
// observation indexes (adjacent, as the binding is sorted).
bool FindBinding(const ObsExpr& e, const std::vector<ObsFacts>& facts,
                 const std::vector<std::vector<uint8_t>>& sat, const EvalOptions& opts,
                 EvalCounters* counters, std::vector<uint32_t>* binding) {
  Search s(facts, sat, opts, counters, std::max<int64_t>(1, Width(e)));
  std::vector<Binding> all = s.Eval(e);
  if (all.empty()) return false;
  if (binding) {
    binding->clear();
    for (Inst i : all.front()) {
      uint32_t o = static_cast<uint32_t>(i >> 24);
      if (binding->empty() || binding->back() != o) binding->push_back(o);
    }
  }
  return true;
}

}  // namespace accord::match::detail
