#include "accord/common/json_stream.h"

#include <array>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cstring>
#include <vector>

#include "accord/common/strings.h"

namespace accord::common {
namespace {
bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDelim(char c) { return IsWs(c) || c == ',' || c == ']' || c == '}'; }
}  // namespace

JsonStreamReader::JsonStreamReader(std::unique_ptr<InputStream> in, std::string source_name,
                                   JsonStreamOptions options)
    : in_(std::move(in)), name_(std::move(source_name)), opts_(options) {
  if (opts_.chunk_bytes == 0) opts_.chunk_bytes = 1;
}

absl::Status JsonStreamReader::Error(std::string_view rule, bool exhausted) const {
  // "NAME:LINE: malformed JSON at byte offset O, object #N: rule" (a limit is not malformed
  // JSON: "NAME:LINE: at byte offset ..."). JsonErrorLocation splits the location back off.
  std::string msg = Cat(name_, ":", line_, exhausted ? ": at" : ": malformed JSON at",
                        " byte offset ", base_ + pos_, ", object #", index_ + 1, ": ", rule);
  return exhausted ? absl::ResourceExhaustedError(msg) : absl::InvalidArgumentError(msg);
}

// Reads one more chunk, first dropping the bytes before anchor_. False at end of input.
absl::StatusOr<bool> JsonStreamReader::Fill() {
  if (eof_) return false;
  if (anchor_ > 0) {
    std::memmove(buf_.data(), buf_.data() + anchor_, end_ - anchor_);
    end_ -= anchor_;
    pos_ -= anchor_;
    base_ += anchor_;
    anchor_ = 0;
  }
  if (buf_.size() < end_ + opts_.chunk_bytes) buf_.resize(end_ + opts_.chunk_bytes);
  absl::StatusOr<size_t> read = in_->Read(buf_.data() + end_, opts_.chunk_bytes);
  if (!read.ok()) {
    input_failed_ = true;
    return read.status();
  }
  size_t r = *read;
  if (r == 0) {
    eof_ = true;
    return false;
  }
  end_ += r;
  return true;
}

// Skips blanks; `*c` is the next byte (not consumed). False at end of input.
absl::StatusOr<bool> JsonStreamReader::SkipWs(char* c, bool keep) {
  while (true) {
    while (pos_ < end_ && IsWs(buf_[pos_])) {
      if (buf_[pos_] == '\n') ++line_;
      ++pos_;
    }
    if (pos_ < end_) {
      *c = buf_[pos_];
      return true;
    }
    if (!keep) anchor_ = pos_;
    ACCORD_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return false;
  }
}

// The bytes that matter inside a string, and outside strings inside a value.
constexpr std::array<bool, 256> StopTable(std::string_view stops) {
  std::array<bool, 256> t{};
  for (char c : stops) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::string_view kStringStopChars = "\"\\\n";
constexpr std::string_view kValueStopChars = "\"{}[]\n";
constexpr std::array<bool, 256> kStringStops = StopTable(kStringStopChars);
constexpr std::array<bool, 256> kValueStops = StopTable(kValueStopChars);

// The first index in [i, end) of a byte of `chars` (`table` is the same set), or end. PERF:
// 16 bytes at a time with SSE2 (a byte at a time was 4-5% of a bundle import).
inline size_t SkipTo(const char* p, size_t i, size_t end, std::string_view chars,
                     const std::array<bool, 256>& table) {
#ifdef __SSE2__
  for (; i + 16 <= end; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i hit = _mm_setzero_si128();
    for (char c : chars) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
    if (int bits = _mm_movemask_epi8(hit)) return i + static_cast<size_t>(__builtin_ctz(bits));
  }
#endif
  while (i < end && !table[static_cast<unsigned char>(p[i])]) ++i;
  return i;
}

// pos_ at an opening quote; leaves pos_ after the closing one.
absl::Status JsonStreamReader::ScanString(size_t max_bytes) {
  size_t start = pos_ - anchor_;  // relative to anchor_, which Fill keeps at 0
  ++pos_;
  bool esc = false;
  while (true) {
    for (; pos_ < end_; ++pos_) {
      char ch = buf_[pos_];
      if (esc) {
        esc = false;
      } else if (ch == '\\') {
        esc = true;
      } else if (ch == '"') {
        ++pos_;
        return absl::OkStatus();
      } else if (ch == '\n') {
        ++line_;
      }
    }
    if (pos_ - anchor_ - start > max_bytes) {
      return Error(Cat("string longer than the limit of ", max_bytes, " bytes"), true);
    }
    ACCORD_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return Error("truncated input: a string is not closed");
  }
}

// pos_ at a value's first byte (anchor_ there too); leaves pos_ after its last byte.
absl::Status JsonStreamReader::ScanValue() {
  char first = buf_[pos_];
  if (first == '"') return ScanString(opts_.max_element_bytes);
  if (first != '{' && first != '[') {
    // A scalar: up to the next delimiter; the parser checks it.
    while (true) {
      while (pos_ < end_ && !IsDelim(buf_[pos_])) ++pos_;
      if (pos_ < end_) return absl::OkStatus();
      if (pos_ - anchor_ > opts_.max_element_bytes) {
        return Error("value longer than the element limit", true);
      }
      ACCORD_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return absl::OkStatus();
    }
  }
  stack_.clear();
  bool in_str = false;
  bool esc = false;
  while (true) {
    const char* p = buf_.data();
    for (; pos_ < end_; ++pos_) {
      // PERF: skip the bytes that change nothing (most of them) with one table lookup each;
      // the switch below was 5% of a bundle import.
      if (!esc) {
        pos_ = in_str ? SkipTo(p, pos_, end_, kStringStopChars, kStringStops)
                      : SkipTo(p, pos_, end_, kValueStopChars, kValueStops);
        if (pos_ == end_) break;
      }
      char ch = p[pos_];
      if (in_str) {
        if (esc) {
          esc = false;
        } else if (ch == '\\') {
          esc = true;
        } else if (ch == '"') {
          in_str = false;
        } else if (ch == '\n') {
          ++line_;
        }
        continue;
      }
      switch (ch) {
        case '"': in_str = true; break;
        case '{':
        case '[':
          if (stack_.size() >= opts_.max_depth) {
            return Error(Cat("nesting deeper than the limit of ", opts_.max_depth), true);
          }
          stack_.push_back(ch);
          break;
        case '}':
        case ']':
          if (stack_.empty() || stack_.back() != (ch == '}' ? '{' : '[')) {
            return Error(
                Cat("'", std::string(1, ch), "' does not close an open ",
                    stack_.empty() ? "value" : (stack_.back() == '{' ? "object" : "array")));
          }
          stack_.pop_back();
          if (stack_.empty()) {
            ++pos_;
            return absl::OkStatus();
          }
          break;
        case '\n': ++line_; break;
        default: break;
      }
    }
    if (pos_ - anchor_ > opts_.max_element_bytes) {
      return Error(Cat("element larger than the limit of ", opts_.max_element_bytes, " bytes"),
                   true);
    }
    ACCORD_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return Error("truncated input: an element is not closed");
  }
}

void JsonStreamReader::Emit(size_t start, uint64_t line, JsonContainer c, JsonElement* out) {
  out->bytes = std::string_view(buf_.data() + start, pos_ - start);
  out->index = ++index_;
  out->offset = base_ + start;
  out->line = line;
  out->container = c;
}

absl::StatusOr<bool> JsonStreamReader::TopObject(JsonElement* out) {
  // pos_ at '{'. Members are collected until an `objects` array shows it is a bundle (then they
  // are reported, and its elements streamed) or the object ends (then it is one element).
  anchor_ = pos_;
  uint64_t start_line = line_;
  ++pos_;
  members_ = 0;
  struct Pending {
    size_t name_at, name_len, value_at, value_len;  // relative to anchor_
  };
  std::vector<Pending> pending;
  char c = 0;
  ACCORD_ASSIGN_OR_RETURN(bool have, SkipWs(&c, true));
  if (have && c == '}') {
    ++pos_;
    Emit(anchor_, start_line, JsonContainer::kValue, out);
    return true;
  }
  while (true) {
    if (!have) return Error("truncated input: the top-level object is not closed");
    if (c != '"') return Error("expected a member name in the top-level object");
    if (++members_ > opts_.max_members) {
      return Error(Cat("more than ", opts_.max_members, " members in the top-level object"), true);
    }
    size_t name_at = pos_ - anchor_;
    ACCORD_RETURN_IF_ERROR(ScanString(opts_.max_member_name_bytes));
    size_t name_len = pos_ - anchor_ - name_at;
    ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c, true));
    if (!have) return Error("truncated input: the top-level object is not closed");
    if (c != ':') return Error("expected ':' after a member name");
    ++pos_;
    ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c, true));
    if (!have) return Error("truncated input: a member has no value");
    std::string_view name(buf_.data() + anchor_ + name_at, name_len);
    if (c == '[' && name == "\"objects\"") {
      // A bundle (or a TAXII envelope): report the members seen so far, stream the array.
      if (on_member_) {
        for (const Pending& m : pending) {
          std::string_view n(buf_.data() + anchor_ + m.name_at + 1, m.name_len - 2);
          on_member_(n, std::string_view(buf_.data() + anchor_ + m.value_at, m.value_len));
        }
      }
      ++pos_;
      anchor_ = pos_;
      in_bundle_ = true;
      state_ = State::kArrayFirst;
      return false;
    }
    size_t value_at = pos_ - anchor_;
    ACCORD_RETURN_IF_ERROR(ScanValue());  // keeps anchor_ (the object's start)
    pending.push_back({name_at, name_len, value_at, pos_ - anchor_ - value_at});
    if (pos_ - anchor_ > opts_.max_element_bytes) {
      return Error(Cat("element larger than the limit of ", opts_.max_element_bytes, " bytes"),
                   true);
    }
    ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c, true));
    if (!have) return Error("truncated input: the top-level object is not closed");
    if (c == '}') {
      ++pos_;
      Emit(anchor_, start_line, JsonContainer::kValue, out);
      return true;
    }
    if (c != ',') return Error("expected ',' or '}' in the top-level object");
    ++pos_;
    ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c, true));
  }
}

absl::StatusOr<bool> JsonStreamReader::Next(JsonElement* out) {
  char c = 0;
  while (true) {
    anchor_ = pos_;
    switch (state_) {
      case State::kDone: return false;
      case State::kTop: {
        ACCORD_ASSIGN_OR_RETURN(bool have, SkipWs(&c));
        if (!have) {
          state_ = State::kDone;
          return false;
        }
        anchor_ = pos_;
        if (c == '[') {
          ++pos_;
          in_bundle_ = false;
          state_ = State::kArrayFirst;
          continue;
        }
        if (c == '{') {
          ACCORD_ASSIGN_OR_RETURN(bool elem, TopObject(out));
          if (elem) return true;
          continue;
        }
        if (c == ']' || c == '}' || c == ',' || c == ':') {
          return Error(Cat("unexpected '", std::string(1, c), "' at the top level"));
        }
        uint64_t line = line_;
        ACCORD_RETURN_IF_ERROR(ScanValue());
        Emit(anchor_, line, JsonContainer::kValue, out);
        return true;
      }
      case State::kArrayFirst:
      case State::kArrayNext: {
        ACCORD_ASSIGN_OR_RETURN(bool have, SkipWs(&c));
        if (!have) return Error("truncated input: the array is not closed");
        if (c == ']') {
          ++pos_;
          state_ = in_bundle_ ? State::kBundleRest : State::kTop;
          continue;
        }
        if (state_ == State::kArrayNext) {
          if (c != ',') return Error("expected ',' or ']' after an array element");
          ++pos_;
          ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c));
          if (!have) return Error("truncated input: the array is not closed");
        }
        if (c == ']' || c == '}' || c == ',' || c == ':') {
          return Error(Cat("unexpected '", std::string(1, c), "' where an element was expected"));
        }
        anchor_ = pos_;
        uint64_t line = line_;
        ACCORD_RETURN_IF_ERROR(ScanValue());
        Emit(anchor_, line, in_bundle_ ? JsonContainer::kBundleObjects : JsonContainer::kArray,
             out);
        state_ = State::kArrayNext;
        return true;
      }
      case State::kBundleRest: {
        ACCORD_ASSIGN_OR_RETURN(bool have, SkipWs(&c));
        if (!have) return Error("truncated input: the top-level object is not closed");
        if (c == '}') {
          ++pos_;
          in_bundle_ = false;
          state_ = State::kTop;
          continue;
        }
        if (c != ',') return Error("expected ',' or '}' after the 'objects' array");
        ++pos_;
        ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c));
        if (!have || c != '"') return Error("expected a member name in the top-level object");
        if (++members_ > opts_.max_members) {
          return Error(Cat("more than ", opts_.max_members, " members in the top-level object"),
                       true);
        }
        anchor_ = pos_;
        ACCORD_RETURN_IF_ERROR(ScanString(opts_.max_member_name_bytes));
        size_t name_len = pos_ - anchor_;
        ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c, true));
        if (!have || c != ':') return Error("expected ':' after a member name");
        ++pos_;
        ACCORD_ASSIGN_OR_RETURN(have, SkipWs(&c, true));
        if (!have) return Error("truncated input: a member has no value");
        size_t value_at = pos_ - anchor_;
        ACCORD_RETURN_IF_ERROR(ScanValue());
        std::string_view name(buf_.data() + anchor_ + 1, name_len - 2);
        if (name == "objects") return Error("duplicate key 'objects' in the top-level object");
        if (on_member_) {
          on_member_(name,
                     std::string_view(buf_.data() + anchor_ + value_at, pos_ - anchor_ - value_at));
        }
        continue;
      }
    }
  }
}

}  // namespace accord::common
