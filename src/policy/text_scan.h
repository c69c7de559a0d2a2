// The redaction precheck's one pass over an object's text (redaction.cc): where its quotes,
// dots, "--" and "://" are. Internal to the policy layer; a header for its test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace accord::policy::detail {

// Positions in a text, written through a raw pointer (PERF: a thread's lists keep their
// memory; push_back through a thread_local vector reloaded its end on every position).
class Positions {
 public:
  size_t size() const { return n_; }
  uint32_t operator[](size_t i) const { return buf_[i]; }
  const uint32_t* begin() const { return buf_.data(); }
  const uint32_t* end() const { return buf_.data() + n_; }

 private:
  friend struct TextScan;
  // Room for `n` positions; returns where the first goes.
  uint32_t* Start(size_t n) {
    if (buf_.size() < n) buf_.resize(n);
    n_ = 0;
    return buf_.data();
  }
  void Finish(const uint32_t* end) { n_ = static_cast<size_t>(end - buf_.data()); }

  std::vector<uint32_t> buf_;
  size_t n_ = 0;
};

// The positions in a JSON text, without a backslash, of what the precheck looks for: its
// quotes (every one of them opens or closes a string, since none is escaped), the dots, the
// "--" pairs (the first '-' of each) and the "://" (their ':'). PERF: one pass, 64 bytes at
// a time, each byte class a 64-bit mask (one AVX-512 compare where the processor has it,
// else four SSE2 compares); "--" and "://" are found from the masks, not byte by byte (the
// precheck had made a dozen passes over every object it read, more than half its time; then
// one pass that stopped at every '-' and ':', about a third of what was left:
// docs/PERFORMANCE.md, issue 13).
struct TextScan {
  // How the bytes are classified: the best the processor has, or the portable way (SSE2, or
  // a byte at a time without it). Both find the same positions (text_scan_test.cc).
  enum class Kernel { kBest, kPortable };
  // Whether kBest is AVX-512 here.
  static bool HasAvx512();

  bool backslash = false;  // when true, the positions are incomplete: do not use them
  Positions quotes, dots, dashes, schemes;  // schemes: the ':' of each "://"

  // `raw`: a JSON text, where a backslash stops the scan (its quotes would not pair up);
  // otherwise any text (one with its escapes decoded), where only the dots, "--" and "://"
  // are of use.
  void Run(std::string_view s, bool raw = true, Kernel kernel = Kernel::kBest);
};

}  // namespace accord::policy::detail
