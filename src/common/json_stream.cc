#include "accord/common/json_stream.h"

#include <algorithm>
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
  // PERF: reads start at 16 KiB and double up to chunk_bytes: a buffer of chunk_bytes for every
  // small file (an ATT&CK checkout is 24,000 files of 4 KB) cost a page-faulting memset of
  // 1 MiB each, most of the import's time.
  // The buffer grows only when less than half a read is free (not to see the end of a small
  // file), and the reads double only while they come back full.
  size_t want = std::min(opts_.chunk_bytes, next_read_);
  if (buf_.size() - end_ < (want + 1) / 2) buf_.resize(std::max(end_ + want, buf_.size() * 2));
  want = std::min(want, buf_.size() - end_);
  absl::StatusOr<size_t> read = in_->Read(buf_.data() + end_, want);
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
  if (r == want) next_read_ = std::min(opts_.chunk_bytes, next_read_ * 2);
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
    const char* p = buf_.data();
    for (; pos_ < end_; ++pos_) {
      if (!esc) {
        pos_ = SkipTo(p, pos_, end_, kStringStopChars, kStringStops);
        if (pos_ == end_) break;
      }
      char ch = p[pos_];
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

namespace {

// The bytes of one 64-byte block that matter to the framing, one bit per byte.
struct BlockMasks {
  uint64_t quote = 0, backslash = 0, bracket = 0, newline = 0;
};

#ifdef __SSE2__
inline uint64_t Eq16(__m128i v, char c, int shift) {
  return static_cast<uint64_t>(
             static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)))))
         << shift;
}
#endif

inline BlockMasks Classify(const char* p) {
  BlockMasks m;
#ifdef __SSE2__
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    m.quote |= Eq16(v, '"', 16 * k);
    m.backslash |= Eq16(v, '\\', 16 * k);
    m.newline |= Eq16(v, '\n', 16 * k);
    m.bracket |=
        Eq16(v, '{', 16 * k) | Eq16(v, '}', 16 * k) | Eq16(v, '[', 16 * k) | Eq16(v, ']', 16 * k);
  }
#else
  for (int i = 0; i < 64; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    switch (p[i]) {
      case '"': m.quote |= bit; break;
      case '\\': m.backslash |= bit; break;
      case '\n': m.newline |= bit; break;
      case '{':
      case '}':
      case '[':
      case ']': m.bracket |= bit; break;
      default: break;
    }
  }
#endif
  return m;
}

// Bit i is the xor of bits 0..i: set from an opening quote up to (not including) its closing one.
inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

inline uint64_t Below(unsigned i) { return i >= 64 ? ~uint64_t{0} : (uint64_t{1} << i) - 1; }

}  // namespace

// pos_ at a value's first byte (anchor_ there too); leaves pos_ after its last byte.
// PERF: a container is framed 64 bytes at a time, with one bit per byte for quotes, brackets
// and newlines, strings found by a prefix xor of the quotes, and only the brackets outside
// strings looked at one by one (simdjson's stage 1, Langdale and Lemire 2019). A block with a
// backslash, or after one, takes the byte loop, which knows escapes. The byte loop alone was
// ~10% of the parsing thread of a 1M-object bundle import (docs/PERFORMANCE.md).
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
  // One bracket outside strings, at pos_: kClosed when it closed the value, or an error.
  enum class Step { kOn, kClosed, kError };
  absl::Status err;
  auto bracket = [&](char ch) {
    if (ch == '{' || ch == '[') {
      if (stack_.size() >= opts_.max_depth) {
        err = Error(Cat("nesting deeper than the limit of ", opts_.max_depth), true);
        return Step::kError;
      }
      stack_.push_back(ch);
      return Step::kOn;
    }
    if (stack_.empty() || stack_.back() != (ch == '}' ? '{' : '[')) {
      err = Error(Cat("'", std::string(1, ch), "' does not close an open ",
                      stack_.empty() ? "value" : (stack_.back() == '{' ? "object" : "array")));
      return Step::kError;
    }
    stack_.pop_back();
    return stack_.empty() ? Step::kClosed : Step::kOn;
  };
  while (true) {
    const char* p = buf_.data();
    while (pos_ < end_) {
      if (!esc && end_ - pos_ >= 64) {
        const BlockMasks m = Classify(p + pos_);
        if (m.backslash == 0) {
          const uint64_t in_s = PrefixXor(m.quote) ^ (in_str ? ~uint64_t{0} : 0);
          uint64_t structural = m.bracket & ~in_s;
          while (structural) {
            const auto i = static_cast<unsigned>(__builtin_ctzll(structural));
            structural &= structural - 1;
            const uint64_t line = line_;
            line_ += static_cast<uint64_t>(__builtin_popcountll(m.newline & Below(i)));
            const size_t block = pos_;
            pos_ += i;  // where an error names
            const Step step = bracket(p[pos_]);
            if (step == Step::kError) return err;
            if (step == Step::kClosed) {
              ++pos_;
              return absl::OkStatus();
            }
            pos_ = block;
            line_ = line;
          }
          line_ += static_cast<uint64_t>(__builtin_popcountll(m.newline));
          in_str = (in_s >> 63) != 0;
          pos_ += 64;
          continue;
        }
      }
      // The byte loop, for one block's worth: the tail of the buffer, or a block with escapes.
      const size_t lim = std::min(end_, pos_ + 64);
      for (; pos_ < lim; ++pos_) {
        if (!esc) {
          pos_ = in_str ? SkipTo(p, pos_, lim, kStringStopChars, kStringStops)
                        : SkipTo(p, pos_, lim, kValueStopChars, kValueStops);
          if (pos_ == lim) break;
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
        if (ch == '"') {
          in_str = true;
        } else if (ch == '\n') {
          ++line_;
        } else {
          const Step step = bracket(ch);
          if (step == Step::kError) return err;
          if (step == Step::kClosed) {
            ++pos_;
            return absl::OkStatus();
          }
        }
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
