// Hand-written lexer for STIX patterns (spec digest §2). Internal to src/pattern.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace accord::pattern::detail {

enum class Tok : uint8_t {
  kEof,
  kError,  // Lexer error; Token::error holds the message.
  // punctuation
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kColon,
  kDot,
  kComma,
  kAsterisk,
  kEq,
  kNeq,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kCaret,
  kSlash,  // lexed by the grammar but used by no rule
  // keywords
  kAnd,
  kOr,
  kNot,
  kFollowedBy,
  kLike,
  kMatches,
  kIsSuperset,
  kIsSubset,
  kExists,
  kIn,
  kStart,
  kStop,
  kSeconds,
  kWithin,
  kRepeats,
  kTimes,
  kLast,
  kBool,
  // identifiers
  kIdent,        // IdentifierWithoutHyphen
  kIdentHyphen,  // IdentifierWithHyphen (contains at least one '-')
  // literals
  kIntPos,
  kIntNeg,
  kFloatPos,
  kFloatNeg,
  kString,
  kHex,
  kBinary,
  kTimestamp,
};

struct Token {
  Tok kind = Tok::kEof;
  uint32_t offset = 0;      // byte offset of the first character
  uint32_t length = 0;      // bytes
  bool has_escape = false;  // kString: contains a backslash escape
  std::string error;        // kError
};

/// Human-readable token class ("']'", "the keyword AND", "a string literal" ...).
const char* TokName(Tok t);

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}
  /// Scans the next token. After kEof or kError it keeps returning the same.
  Token Next();
  std::string_view src() const { return src_; }

 private:
  bool SkipSpaceAndComments(Token* err);
  Token Make(Tok k, size_t start) const {
    Token t;
    t.kind = k;
    t.offset = static_cast<uint32_t>(start);
    t.length = static_cast<uint32_t>(pos_ - start);
    return t;
  }
  Token Error(size_t at, std::string msg);
  Token LexNumber(size_t start);
  Token LexString(size_t start);
  bool TryTypedLiteral(char prefix, size_t start, Token* out);

  std::string_view src_;
  size_t pos_ = 0;
};

// absl::StrCat does not take std::string_view with Debian's abseil (absl::string_view is its
// own type there), so messages are built with these.
inline void CatOne(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }
inline void CatOne(std::string* out, const char* s) { out->append(s); }
inline void CatOne(std::string* out, const std::string& s) { out->append(s); }
inline void CatOne(std::string* out, char c) { out->push_back(c); }
template <typename T>
requires std::is_arithmetic_v<T>
inline void CatOne(std::string* out, T v) { out->append(std::to_string(v)); }
template <typename... Args>
void CatAppend(std::string* out, const Args&... args) {
  (CatOne(out, args), ...);
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (CatOne(&out, args), ...);
  return out;
}

/// Decodes a kString token's text (without quotes) into UTF-8 text.
void DecodeString(std::string_view body, bool has_escape, std::string* out);
/// 1-based code-point column of a byte offset.
uint32_t ColumnAt(std::string_view src, size_t offset);
/// Shortens a token's text for messages (at most ~40 characters, with "...").
std::string Excerpt(std::string_view text);

}  // namespace accord::pattern::detail
