// File input: whole-file reads and chunked streaming, with transparent gzip.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "accord/common/status.h"

namespace accord::common {

/// Upper bound for ReadFile (whole-document inputs such as a STIX bundle).
inline constexpr uint64_t kDefaultMaxFileBytes = 4ull << 30;

/// Bounds on transparent gzip decompression, against decompression bombs (a few hundred KB of
/// gzip that inflate to GBs). A stream that passes either bound fails with ResourceExhausted,
/// naming the input; nothing after that point is returned.
struct InputLimits {
  /// Most bytes one gzip input may inflate to (all members together).
  uint64_t max_decompressed_bytes = 4ull << 30;
  /// Most decompressed bytes per compressed byte read so far; 0 disables the check. Checked
  /// once more than kRatioFloorBytes came out, so tiny files never trip it. Real STIX and Zeek
  /// data compress 5:1 to 20:1; deflate cannot exceed about 1032:1.
  uint64_t max_ratio = 1000;
};
inline constexpr uint64_t kRatioFloorBytes = 1u << 20;

/// The limits InputStream::Open and ReadFile use when given none: InputLimits{} until the
/// process sets others (the CLI's --max-gzip-bytes / --max-gzip-ratio). Set it before any
/// input is opened; it is read without synchronisation.
const InputLimits& DefaultInputLimits();
void SetDefaultInputLimits(const InputLimits& limits);

/// Reads a whole file ("-" is standard input), gunzipping it if it starts with the gzip magic.
/// Fails with ResourceExhausted if the (decompressed) content exceeds `max_bytes`, or the gzip
/// data exceed DefaultInputLimits(). A regular file is read into a string whose capacity
/// leaves kReadFileSlack bytes past its end (simdjson's padding: parsers may use the string in
/// place instead of copying it).
inline constexpr size_t kReadFileSlack = 64;
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     uint64_t max_bytes = kDefaultMaxFileBytes);

/// Asks the kernel to back [p, p + n) with transparent huge pages where it covers whole 2 MiB
/// pages (madvise MADV_HUGEPAGE; nothing happens for a smaller range or where the kernel has
/// them off). For large buffers about to be filled once: a page fault costs ~10 us on a
/// paravirtualised machine, and a 25 MB input parsed into a DOM faults ~20,000 4 KiB pages.
/// `p` and `n` must lie within one allocation of the caller's.
void AdviseHugePages(void* p, size_t n);
/// Reserves room for `n` bytes in `s` and advises its buffer for huge pages (AdviseHugePages):
/// for a large string about to be filled once.
void ReserveHuge(std::string* s, size_t n);

/// Writes `data` to `path` atomically (temp file + rename).
absl::Status WriteFileAtomic(const std::string& path, std::string_view data);

/// A sequential byte source with transparent gzip, for streaming inputs (JSON lines, logs).
/// Not thread-safe.
class InputStream {
 public:
  virtual ~InputStream() = default;
  /// Reads up to `n` bytes into `buf`; returns 0 at end of input.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  /// Opens `path` ("-" is standard input); gzip is inflated within `limits`.
  static absl::StatusOr<std::unique_ptr<InputStream>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<InputStream>> Open(const std::string& path,
                                                           const InputLimits& limits);
  /// Reads from an in-memory buffer (must outlive the stream); gunzips if it is gzip.
  static std::unique_ptr<InputStream> FromBuffer(std::string_view data);
  static std::unique_ptr<InputStream> FromBuffer(std::string_view data, const InputLimits& limits,
                                                 std::string name = "<buffer>");
  /// `head` (bytes already read from `rest`, e.g. to sniff the format), then the rest of `rest`.
  static std::unique_ptr<InputStream> Prefixed(std::string head, std::unique_ptr<InputStream> rest);
};

/// Default longest line for LineReader (and the readers built on it): 64 MiB.
inline constexpr size_t kDefaultMaxLineBytes = 64u << 20;

/// Splits an InputStream into lines ('\n', a trailing '\r' removed), with a bound on line
/// length: a longer line is reported by `too_long` and skipped, never buffered whole.
/// Linear time: every input byte is scanned for '\n' once and copied at most twice (read,
/// then one compaction), whatever the line lengths; memory is at most max_line + 1 MiB.
/// Not thread-safe.
class LineReader {
 public:
  explicit LineReader(std::unique_ptr<InputStream> in, size_t max_line = kDefaultMaxLineBytes);
  /// Next line in `*line` (valid until the next call). Returns false at end of input.
  /// `*line_no` is 1-based. A line over the limit sets `*too_long` and its content is empty;
  /// line_offset() and line_bytes() then say where it was and how long.
  absl::StatusOr<bool> Next(std::string_view* line, uint64_t* line_no, bool* too_long);

  /// Byte offset (in the decompressed input, 0-based) of the line Next returned last.
  uint64_t line_offset() const { return line_offset_; }
  /// Length in bytes of that line without its newline (also for a skipped line).
  uint64_t line_bytes() const { return line_bytes_; }
  /// Bytes scanned for newlines so far (each input byte counts once): for tests of linearity.
  uint64_t bytes_scanned() const { return scanned_; }
  size_t max_line() const { return max_line_; }

 private:
  std::unique_ptr<InputStream> in_;
  size_t max_line_;
  std::string buf_;  // buf_[0, end_) holds input; the rest is room for the next read
  size_t end_ = 0;
  size_t start_ = 0;         // start of the current line in buf_
  size_t scan_ = 0;          // buf_[start_, scan_) holds no '\n'
  uint64_t buf_offset_ = 0;  // stream offset of buf_[0]
  uint64_t line_no_ = 0;
  uint64_t line_offset_ = 0, line_bytes_ = 0;
  uint64_t skip_start_ = 0;  // stream offset where the line being skipped began
  uint64_t scanned_ = 0;
  bool eof_ = false;
  bool skipping_ = false;
};

/// 1-based line and column of byte `offset` in `text`.
struct TextPosition {
  uint64_t line = 1;
  uint64_t column = 1;
};
TextPosition PositionOf(std::string_view text, size_t offset);

}  // namespace accord::common
