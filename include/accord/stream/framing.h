// Telemetry logs as stream messages (issue 17): `accord ingest --to nats://...` turns a log
// into one message per event, each a single line that a matching worker reads on its own.
//
// - Zeek TSV rows become Zeek JSON objects, as Zeek writes them with LogAscii::use_json: keys
//   are the #fields names (flat, "id.orig_h"), `_path` comes from #path, unset fields are left
//   out, sets and vectors are arrays ("(empty)": []), numbers, times and intervals are JSON
//   numbers, bools true/false, everything else (addresses, strings, enums) a string with
//   Zeek's escapes (\x09) kept as they are; the #empty_field marker in a string is "", as
//   Zeek's JSON writer writes it. The headers themselves become no message.
// - JSON lines (Zeek JSON, Suricata EVE, other events) pass through unchanged.
// - A JSON array (Suricata's samples are pretty-printed arrays) gives one message per
//   element, printed compactly.
// docs/SCALE_OUT.md has the whole path.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/io.h"
#include "accord/common/status.h"

namespace accord::stream {

/// Largest message the framer makes: NATS's default max_payload (1 MiB). A longer event is
/// reported and skipped, never sent truncated.
inline constexpr size_t kMaxMessageBytes = 1u << 20;

struct FramerStats {
  uint64_t lines = 0;     // input lines read (array input: elements)
  uint64_t messages = 0;  // messages made
  uint64_t skipped = 0;   // events reported through the sink and left out
};

class LogFramer {
 public:
  using Sink = std::function<void(std::string_view location, std::string_view reason)>;
  /// `source` names the input in messages ("file:line: reason").
  LogFramer(std::unique_ptr<common::InputStream> in, std::string source, Sink on_skipped);
  /// The next message in `*msg`. Returns false at the end of the input. An error (Zeek rows
  /// before any #fields header, a JSON array that does not parse) names the source and line
  /// and ends the input; events before it were already handed out.
  absl::StatusOr<bool> Next(std::string* msg);
  const FramerStats& stats() const { return stats_; }
  /// The 1-based line (array input: element) of the message Next returned last.
  uint64_t line() const { return line_no_; }

 private:
  absl::StatusOr<bool> NextUnchecked(std::string* msg);
  absl::Status Header(std::string_view line);
  bool Row(std::string_view line, std::string* msg);
  absl::StatusOr<bool> NextElement(std::string* msg);
  void Skip(std::string_view why);
  void SkipOversized(size_t bytes);

  common::LineReader lines_;
  std::string source_;
  Sink sink_;
  FramerStats stats_;
  uint64_t line_no_ = 0;
  bool started_ = false;
  // Zeek TSV state, from the headers.
  char sep_ = '\t', set_sep_ = ',';
  std::string empty_ = "(empty)", unset_ = "-", path_;
  std::vector<std::string> names_, types_;
  std::vector<std::string_view> values_;
  // Array input: the elements, printed, handed out in order.
  std::vector<std::string> elements_;
  size_t next_element_ = 0;
  bool array_ = false;
  absl::Status error_;  // the error that ended the input
};

}  // namespace accord::stream
