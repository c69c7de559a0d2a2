#include "policy/text_scan.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstring>

namespace accord::policy::detail {

namespace {

struct Masks {
  uint64_t quote = 0, dot = 0, dash = 0, colon = 0, slash = 0, backslash = 0;
};

// The masks of the 64 bytes at `b`: bit k for byte k.
Masks Classify(const char* b) {
  Masks m;
#if defined(__SSE2__)
  for (int k = 0; k < 4; ++k) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16 * k));  // NOLINT
    auto mask = [&](char x) {
      return static_cast<uint64_t>(
                 static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8(x)))))
             << (16 * k);
    };
    m.quote |= mask('"');
    m.dot |= mask('.');
    m.dash |= mask('-');
    m.colon |= mask(':');
    m.slash |= mask('/');
    m.backslash |= mask('\\');
  }
#else
  for (int k = 0; k < 64; ++k) {
    const uint64_t bit = uint64_t{1} << k;
    switch (b[k]) {
      case '"': m.quote |= bit; break;
      case '.': m.dot |= bit; break;
      case '-': m.dash |= bit; break;
      case ':': m.colon |= bit; break;
      case '/': m.slash |= bit; break;
      case '\\': m.backslash |= bit; break;
      default: break;
    }
  }
#endif
  return m;
}

#if defined(__x86_64__)
// The same with AVX-512BW: a compare gives a class's 64-bit mask at once. PERF: the precheck of
// a stored indicator (~350 bytes) 196 -> 157 ns (bench/audit/redact_bench.cc).
__attribute__((target("avx512bw"))) Masks ClassifyAvx512(const char* b) {
  const __m512i c = _mm512_loadu_si512(b);
  Masks m;
  m.quote = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('"'));
  m.dot = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('.'));
  m.dash = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('-'));
  m.colon = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8(':'));
  m.slash = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('/'));
  m.backslash = _mm512_cmpeq_epi8_mask(c, _mm512_set1_epi8('\\'));
  return m;
}
#endif

}  // namespace

bool TextScan::HasAvx512() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512bw") != 0;
  return has;
#else
  return false;
#endif
}

void TextScan::Run(std::string_view s, bool raw, Kernel kernel) {
  backslash = false;
  const char* p = s.data();
  const size_t n = s.size();
  // At most one position per byte; the last block may be padded to 64.
  uint32_t* q = quotes.Start(n + 64);
  uint32_t* d = dots.Start(n + 64);
  uint32_t* dd = dashes.Start(n + 64);
  uint32_t* sc = schemes.Start(n + 64);
  auto finish = [&] {
    quotes.Finish(q);
    dots.Finish(d);
    dashes.Finish(dd);
    schemes.Finish(sc);
  };
  const bool avx512 = kernel == Kernel::kBest && HasAvx512();
  // Bit k of each mask is byte i + k. The *_next masks carry in the bytes after the block, for
  // a "--" or a "://" that starts in its last bytes.
  char pad[64 + 2];
  for (size_t i = 0; i < n; i += 64) {
    const char* b = p + i;
    if (n - i < 64 + 2) {  // the last block(s): a zero-padded copy (zeros match nothing)
      std::memset(pad, 0, sizeof pad);
      std::memcpy(pad, b, n - i);
      b = pad;
    }
#if defined(__x86_64__)
    const Masks m = avx512 ? ClassifyAvx512(b) : Classify(b);
#else
    const Masks m = Classify(b);
#endif
    if (raw && m.backslash != 0) {
      backslash = true;
      finish();
      return;
    }
    const uint64_t dash_next = (m.dash >> 1) | (uint64_t{b[64] == '-'} << 63);
    const uint64_t slash_next = (m.slash >> 1) | (uint64_t{b[64] == '/'} << 63);
    const uint64_t slash_next2 =
        (m.slash >> 2) | (uint64_t{b[64] == '/'} << 62) | (uint64_t{b[65] == '/'} << 63);
    const auto at = static_cast<uint32_t>(i);
    for (uint64_t x = m.quote; x != 0; x &= x - 1) *q++ = at + __builtin_ctzll(x);
    for (uint64_t x = m.dot; x != 0; x &= x - 1) *d++ = at + __builtin_ctzll(x);
    for (uint64_t x = m.dash & dash_next; x != 0; x &= x - 1) *dd++ = at + __builtin_ctzll(x);
    for (uint64_t x = m.colon & slash_next & slash_next2; x != 0; x &= x - 1) {
      *sc++ = at + __builtin_ctzll(x);
    }
  }
  finish();
}

}  // namespace accord::policy::detail
