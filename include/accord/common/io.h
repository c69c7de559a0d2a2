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

/// Reads a whole file ("-" is standard input), gunzipping it if it starts with the gzip magic.
/// Fails with ResourceExhausted if the (decompressed) content exceeds `max_bytes`.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     uint64_t max_bytes = kDefaultMaxFileBytes);

/// Writes `data` to `path` atomically (temp file + rename).
absl::Status WriteFileAtomic(const std::string& path, std::string_view data);

/// A sequential byte source with transparent gzip, for streaming inputs (JSON lines, logs).
/// Not thread-safe.
class InputStream {
 public:
  virtual ~InputStream() = default;
  /// Reads up to `n` bytes into `buf`; returns 0 at end of input.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  /// Opens `path` ("-" is standard input).
  static absl::StatusOr<std::unique_ptr<InputStream>> Open(const std::string& path);
  /// Reads from an in-memory buffer (must outlive the stream); gunzips if it is gzip.
  static std::unique_ptr<InputStream> FromBuffer(std::string_view data);
};

/// Splits an InputStream into lines ('\n', a trailing '\r' removed), with a bound on line
/// length: a longer line is reported by `too_long` and skipped, never buffered whole.
class LineReader {
 public:
  explicit LineReader(std::unique_ptr<InputStream> in, size_t max_line = 64u << 20);
  /// Next line in `*line` (valid until the next call). Returns false at end of input.
  /// `*line_no` is 1-based. A line over the limit sets `*too_long` and its content is empty.
  absl::StatusOr<bool> Next(std::string_view* line, uint64_t* line_no, bool* too_long);

 private:
  std::unique_ptr<InputStream> in_;
  size_t max_line_;
  std::string buf_;
  size_t start_ = 0;
  uint64_t line_no_ = 0;
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
