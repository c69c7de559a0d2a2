#include "pattern/lexer.h"

#include <cstring>

#include "accord/common/encoding.h"

namespace accord::pattern::detail {
namespace {

// ASCII-only classes on purpose: identifiers and keywords are ASCII in STIXPattern.g4
// (spec digest §2), and <cctype> would depend on the locale.
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsIdentChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_'; }

// Length of a well-formed UTF-8 sequence at s[i], 0 if malformed.
// Rejects overlong forms (C0/C1 lead bytes, E0 < A0, F0 < 90 via the cp range checks),
// surrogates (U+D800..U+DFFF) and code points above U+10FFFF, as RFC 3629 does. Used to
// validate string literal bytes and to quote a whole bad character in error messages.
size_t Utf8Len(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
    cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    cp = b & 0x0F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    cp = b & 0x07;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// Length of a Unicode whitespace character (spec digest §2) at s[i], 0 if none.
// The list is the spec digest's §2 set: U+0009..U+000D, space, U+0085, U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, matched on their UTF-8 bytes so no
// decoding is needed. at() returns 0 past the end, which matches no continuation byte.
size_t SpaceLen(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b == ' ' || (b >= 0x09 && b <= 0x0D)) return 1;
  if (b < 0x80) return 0;
  auto at = [&](size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  if (b == 0xC2 && (at(1) == 0x85 || at(1) == 0xA0)) return 2;
  if (b == 0xE1 && at(1) == 0x9A && at(2) == 0x80) return 3;
  if (b == 0xE2 && at(1) == 0x80 &&
      ((at(2) >= 0x80 && at(2) <= 0x8A) || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF)) {
    return 3;
  }
  if (b == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;
  if (b == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;
  return 0;
}

struct Keyword {
  const char* text;
  Tok tok;
};
// Keywords are case-sensitive (spec digest §2): "within" is an identifier. LAST is reserved
// with no grammar use; true/false lex as kBool.
constexpr Keyword kKeywords[] = {
    {"AND", Tok::kAnd},
    {"OR", Tok::kOr},
    {"NOT", Tok::kNot},
    {"FOLLOWEDBY", Tok::kFollowedBy},
    {"LIKE", Tok::kLike},
    {"MATCHES", Tok::kMatches},
    {"ISSUPERSET", Tok::kIsSuperset},
    {"ISSUBSET", Tok::kIsSubset},
    {"EXISTS", Tok::kExists},
    {"IN", Tok::kIn},
    {"START", Tok::kStart},
    {"STOP", Tok::kStop},
    {"SECONDS", Tok::kSeconds},
    {"WITHIN", Tok::kWithin},
    {"REPEATS", Tok::kRepeats},
    {"TIMES", Tok::kTimes},
    {"LAST", Tok::kLast},
    {"true", Tok::kBool},
    {"false", Tok::kBool},
};

Tok KeywordOrIdent(std::string_view w) {
  // Keywords are 2..10 ASCII letters; a cheap first-letter filter keeps identifiers fast.
  if (w.size() < 2 || w.size() > 10) return Tok::kIdent;
  char c = w[0];
  // PERF: every identifier (object types, property names) passes through here, and most are
  // lower-case, so the first-letter test rejects them before any string compare. This is part
  // of the "Parse only" 956,000 patterns/s in docs/PERFORMANCE.md.
  if (!((c >= 'A' && c <= 'W') || c == 't' || c == 'f')) return Tok::kIdent;
  for (const Keyword& k : kKeywords) {
    if (w == k.text) return k.tok;
  }
  return Tok::kIdent;
}

// Checks `t'...'` body (between quotes) against the TimestampLiteral grammar.
// The grammar's ranges (spec digest §2) are checked numerically: month 01-12, day 01-31,
// hour <= 23, minute <= 59, second <= 60 (leap seconds). Days are not checked against the month
// here: t'2024-02-30T00:00:00Z' lexes, as in the grammar (spec digest §5 item 6).
bool TimestampBodyOk(std::string_view b) {
  // YYYY-MM-DDTHH:MM:SS[.f+]Z
  if (b.size() < 20) return false;
  auto d = [&](size_t i) { return IsDigit(b[i]); };
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!d(i)) return false;
  }
  if (b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':') return false;
  int month = (b[5] - '0') * 10 + (b[6] - '0');
  int day = (b[8] - '0') * 10 + (b[9] - '0');
  int hour = (b[11] - '0') * 10 + (b[12] - '0');
  int minute = (b[14] - '0') * 10 + (b[15] - '0');
  int second = (b[17] - '0') * 10 + (b[18] - '0');
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t i = 19;
  if (b[i] == '.') {
    ++i;
    size_t digits = 0;
    while (i < b.size() && IsDigit(b[i])) ++i, ++digits;
    if (digits == 0) return false;
  }
  return i + 1 == b.size() && b[i] == 'Z';
}

// STIXPattern.g4's BinaryLiteral: at least one group of padded base64. Its characters, padding
// and (stricter than the grammar, as everywhere in Accord) canonical last group are
// common::IsBase64's rules.
bool BinaryBodyOk(std::string_view b) { return !b.empty() && common::IsBase64(b); }

}  // namespace

const char* TokName(Tok t) {
  switch (t) {
    case Tok::kEof: return "end of pattern";
    case Tok::kError: return "an invalid token";
    case Tok::kLBracket: return "'['";
    case Tok::kRBracket: return "']'";
    case Tok::kLParen: return "'('";
    case Tok::kRParen: return "')'";
    case Tok::kColon: return "':'";
    case Tok::kDot: return "'.'";
    case Tok::kComma: return "','";
    case Tok::kAsterisk: return "'*'";
    case Tok::kEq: return "'='";
    case Tok::kNeq: return "'!='";
    case Tok::kLt: return "'<'";
    case Tok::kLe: return "'<='";
    case Tok::kGt: return "'>'";
    case Tok::kGe: return "'>='";
    case Tok::kPlus: return "'+'";
    case Tok::kMinus: return "'-'";
    case Tok::kCaret: return "'^'";
    case Tok::kSlash: return "'/'";
    case Tok::kAnd: return "AND";
    case Tok::kOr: return "OR";
    case Tok::kNot: return "NOT";
    case Tok::kFollowedBy: return "FOLLOWEDBY";
    case Tok::kLike: return "LIKE";
    case Tok::kMatches: return "MATCHES";
    case Tok::kIsSuperset: return "ISSUPERSET";
    case Tok::kIsSubset: return "ISSUBSET";
    case Tok::kExists: return "EXISTS";
    case Tok::kIn: return "IN";
    case Tok::kStart: return "START";
    case Tok::kStop: return "STOP";
    case Tok::kSeconds: return "SECONDS";
    case Tok::kWithin: return "WITHIN";
    case Tok::kRepeats: return "REPEATS";
    case Tok::kTimes: return "TIMES";
    case Tok::kLast: return "LAST";
    case Tok::kBool: return "a boolean";
    case Tok::kIdent: return "an identifier";
    case Tok::kIdentHyphen: return "an identifier";
    case Tok::kIntPos:
    case Tok::kIntNeg: return "an integer";
    case Tok::kFloatPos:
    case Tok::kFloatNeg: return "a float";
    case Tok::kString: return "a string literal";
    case Tok::kHex: return "a hex literal";
    case Tok::kBinary: return "a binary literal";
    case Tok::kTimestamp: return "a timestamp literal";
  }
  return "?";
}

// Errors are terminal: pos_ jumps to the end, so the parser sees no further tokens and only
// one (the first) error is reported per pattern.
Token Lexer::Error(size_t at, std::string msg) {
  Token t;
  t.kind = Tok::kError;
  t.offset = static_cast<uint32_t>(at);
  t.length = 0;
  t.error = std::move(msg);
  pos_ = src_.size();  // stop
  return t;
}

// Skips the spec digest §2 whitespace plus the ANTLR grammar's /* */ and // comments (not in
// the spec, accepted for compatibility with patterns written for the reference tools).
// ASCII whitespace is tested inline first. PERF: SpaceLen is only called for bytes >= 0x80.
// Returns false with *err set for an unterminated block comment.
bool Lexer::SkipSpaceAndComments(Token* err) {
  const size_t n = src_.size();
  while (pos_ < n) {
    char c = src_[pos_];
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) {
      ++pos_;
      continue;
    }
    if (c == '/' && pos_ + 1 < n && src_[pos_ + 1] == '*') {
      size_t end = src_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) {
        *err = Error(pos_, "unterminated comment: '/*' is never closed by '*/'");
        return false;
      }
      pos_ = end + 2;
      continue;
    }
    if (c == '/' && pos_ + 1 < n && src_[pos_ + 1] == '/') {
      size_t end = src_.find_first_of("\n\r", pos_ + 2);
      pos_ = end == std::string_view::npos ? n : end;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t l = SpaceLen(src_, pos_);
      if (l) {
        pos_ += l;
        continue;
      }
    }
    break;
  }
  return true;
}

// One token per call, no lookahead buffer: the parser keeps one token of lookahead itself.
// Tokens are (offset, length) into src_, so lexing allocates nothing except error messages.
Token Lexer::Next() {
  Token err;
  if (!SkipSpaceAndComments(&err)) return err;
  const size_t n = src_.size();
  if (pos_ >= n) return Make(Tok::kEof, pos_);
  const size_t start = pos_;
  const char c = src_[pos_];
  auto peek = [&](size_t k) -> char { return pos_ + k < n ? src_[pos_ + k] : '\0'; };
  switch (c) {
    case '[': ++pos_; return Make(Tok::kLBracket, start);
    case ']': ++pos_; return Make(Tok::kRBracket, start);
    case '(': ++pos_; return Make(Tok::kLParen, start);
    case ')': ++pos_; return Make(Tok::kRParen, start);
    case ':': ++pos_; return Make(Tok::kColon, start);
    case ',': ++pos_; return Make(Tok::kComma, start);
    case '*': ++pos_; return Make(Tok::kAsterisk, start);
    case '^': ++pos_; return Make(Tok::kCaret, start);
    case '/': ++pos_; return Make(Tok::kSlash, start);
    // "=" and "==" are the same operator (spec digest §2: EQ = "=" | "=="); likewise "<>" is NEQ.
    case '=': pos_ += peek(1) == '=' ? 2 : 1; return Make(Tok::kEq, start);
    case '!':
      if (peek(1) == '=') {
        pos_ += 2;
        return Make(Tok::kNeq, start);
      }
      return Error(start, "invalid character '!' (did you mean '!='?)");
    case '<':
      if (peek(1) == '=') {
        pos_ += 2;
        return Make(Tok::kLe, start);
      }
      if (peek(1) == '>') {
        pos_ += 2;
        return Make(Tok::kNeq, start);
      }
      ++pos_;
      return Make(Tok::kLt, start);
    case '>':
      if (peek(1) == '=') {
        pos_ += 2;
        return Make(Tok::kGe, start);
      }
      ++pos_;
      return Make(Tok::kGt, start);
    case '\'': return LexString(start);
    case '.':
      // ".5" is a float (spec digest §2); a lone '.' is the path separator.
      if (IsDigit(peek(1))) return LexNumber(start);
      ++pos_;
      return Make(Tok::kDot, start);
    case '+':
    case '-':
      // A sign directly before a digit is part of the number: "-5" is one IntNegLiteral, so
      // "WITHIN -5 SECONDS" fails in the parser (spec digest §2 disambiguation notes).
      if (IsDigit(peek(1)) || (peek(1) == '.' && IsDigit(peek(2)))) return LexNumber(start);
      ++pos_;
      return Make(c == '+' ? Tok::kPlus : Tok::kMinus, start);
    default: break;
  }
  if (IsDigit(c)) return LexNumber(start);
  if (IsLetter(c) || c == '_') {
    // h'..', b'..', t'..' are typed literals. Unlike ANTLR, which would fall back to an identifier
    // followed by a string, a malformed one is reported here with a specific message; both ways
    // the pattern is rejected (spec digest §2).
    if ((c == 'h' || c == 'b' || c == 't') && peek(1) == '\'') {
      Token t;
      if (TryTypedLiteral(c, start, &t)) return t;
    }
    bool hyphen = false;
    ++pos_;
    // Longest match (as ANTLR): "file-name" is one kIdentHyphen token, legal only as an object
    // type; the parser rejects it as a property name.
    while (pos_ < n && (IsIdentChar(src_[pos_]) || src_[pos_] == '-')) {
      hyphen |= src_[pos_] == '-';
      ++pos_;
    }
    if (hyphen) return Make(Tok::kIdentHyphen, start);
    return Make(KeywordOrIdent(src_.substr(start, pos_ - start)), start);
  }
  if (static_cast<unsigned char>(c) >= 0x80) {
    size_t l = Utf8Len(src_, pos_);
    if (l == 0) return Error(start, "invalid UTF-8 byte sequence");
    return Error(start, Cat("invalid character '", src_.substr(start, l), "'"));
  }
  if (c == '"') {
    return Error(start, "invalid character '\"': string literals use single quotes ('...')");
  }
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
    static constexpr char kHex[] = "0123456789abcdef";
    auto u = static_cast<unsigned char>(c);
    return Error(start, Cat("invalid control character 0x", kHex[u >> 4], kHex[u & 15]));
  }
  return Error(start, Cat("invalid character '", std::string_view(&c, 1), "'"));
}

// IntLiteral / FloatLiteral of spec digest §2: optional sign, no exponent, "5." is not a float
// (the '.' becomes a path separator), and integers have no leading zeros. The value itself is
// converted by the parser, which also range-checks it.
Token Lexer::LexNumber(size_t start) {
  const size_t n = src_.size();
  bool neg = false;
  if (src_[pos_] == '+' || src_[pos_] == '-') {
    neg = src_[pos_] == '-';
    ++pos_;
  }
  size_t int_start = pos_;
  while (pos_ < n && IsDigit(src_[pos_])) ++pos_;
  size_t int_digits = pos_ - int_start;
  if (pos_ + 1 < n && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
    ++pos_;
    while (pos_ < n && IsDigit(src_[pos_])) ++pos_;
    return Make(neg ? Tok::kFloatNeg : Tok::kFloatPos, start);
  }
  if (int_digits > 1 && src_[int_start] == '0') {
    return Error(start, Cat("invalid integer '", src_.substr(start, pos_ - start),
                            "': leading zeros are not allowed"));
  }
  return Make(neg ? Tok::kIntNeg : Tok::kIntPos, start);
}

// StringLiteral: the only escapes are \' and \\ (spec digest §2); any other backslash is an
// error, so 'C:\foo' must be written 'C:\\foo'. Bytes >= 0x80 must form valid UTF-8.
// has_escape lets DecodeString skip the unescape loop for the common escape-free string.
Token Lexer::LexString(size_t start) {
  const size_t n = src_.size();
  ++pos_;  // opening quote
  bool esc = false;
  while (pos_ < n) {
    char c = src_[pos_];
    if (c == '\'') {
      ++pos_;
      Token t = Make(Tok::kString, start);
      t.has_escape = esc;
      return t;
    }
    if (c == '\\') {
      char d = pos_ + 1 < n ? src_[pos_ + 1] : '\0';
      if (d != '\'' && d != '\\') {
        if (pos_ + 1 >= n) break;
        size_t l = Utf8Len(src_, pos_ + 1);
        return Error(pos_, Cat("invalid escape '\\", src_.substr(pos_ + 1, l ? l : 1),
                               "' in string literal: only \\' and \\\\ are allowed "
                               "(write a backslash as \\\\)"));
      }
      esc = true;
      pos_ += 2;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      size_t l = Utf8Len(src_, pos_);
      if (l == 0) return Error(pos_, "invalid UTF-8 byte sequence in string literal");
      pos_ += l;
      continue;
    }
    ++pos_;
  }
  return Error(start, "unterminated string literal: the quote opened here is never closed");
}

bool Lexer::TryTypedLiteral(char prefix, size_t start, Token* out) {
  // The body ends at the first quote: none of the three literal forms may contain one.
  // prefix ' body ' with no escapes inside
  size_t body_start = start + 2;
  size_t close = src_.find('\'', body_start);
  if (close == std::string_view::npos) return false;
  std::string_view body = src_.substr(body_start, close - body_start);
  const char* what = nullptr;
  Tok kind;
  switch (prefix) {
    case 'h': {
      if (common::IsHex(body)) {
        kind = Tok::kHex;
        break;
      }
      what = "invalid hex literal: expected an even number of hex digits, as in h'0a1b'";
      break;
    }
    case 'b':
      if (BinaryBodyOk(body)) {
        kind = Tok::kBinary;
        break;
      }
      what = "invalid binary literal: expected base64 with padding, as in b'aGVsbG8='";
      break;
    default:
      if (TimestampBodyOk(body)) {
        kind = Tok::kTimestamp;
        break;
      }
      what =
          "invalid timestamp literal: expected t'YYYY-MM-DDTHH:MM:SS[.fraction]Z' with "
          "month 01-12, day 01-31, hour 00-23, minute 00-59, second 00-60";
      break;
  }
  if (what != nullptr) {
    *out = Error(start, Cat(what, ", found ", Excerpt(src_.substr(start, close + 1 - start))));
    return true;
  }
  pos_ = close + 1;
  *out = Make(kind, start);
  return true;
}

// REQUIRES: body came from a kString token, so every backslash starts a valid escape pair.
// PERF: an escape-free body is a single copy.
void DecodeString(std::string_view body, bool has_escape, std::string* out) {
  if (!has_escape) {
    out->assign(body.data(), body.size());
    return;
  }
  out->clear();
  out->reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '\\' && i + 1 < body.size()) c = body[++i];
    out->push_back(c);
  }
}

// Columns count code points (UTF-8 lead bytes), so a caret under a non-ASCII pattern points at
// the right character. O(offset): used on the error path only.
uint32_t ColumnAt(std::string_view src, size_t offset) {
  if (offset > src.size()) offset = src.size();
  uint32_t col = 1;
  for (size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) ++col;
  }
  return col;
}

// Bounds error messages: a pattern from an untrusted feed may be megabytes long, so only 40
// bytes of it are quoted, cut back to a UTF-8 character boundary.
std::string Excerpt(std::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return Cat("'", text, "'");
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return Cat("'", text.substr(0, cut), "...' (", text.size(), " bytes)");
}

}  // namespace accord::pattern::detail
