// Splits a stream of JSON into its top-level values without building a DOM: the elements of a
// STIX bundle's `objects` array, the elements of a bare array, or each of several concatenated
// (or pretty-printed) values. Memory is bounded by the largest element, never the input.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "accord/common/io.h"
#include "accord/common/status.h"

namespace accord::common {

struct JsonStreamOptions {
  size_t chunk_bytes = 1u << 20;         // bytes read from the stream at a time
  size_t max_element_bytes = 64u << 20;  // longest element (and longest top-level object)
  size_t max_depth = 1024;               // deepest nesting inside one element
  size_t max_member_name_bytes = 4096;   // longest member name of a bundle/envelope
  size_t max_members = 4096;             // most members of a bundle/envelope
};

/// Where an element came from.
enum class JsonContainer {
  kBundleObjects,  // an element of the `objects` array of a top-level object
  kArray,          // an element of a top-level array
  kValue,          // a whole top-level value (an object without an `objects` array, a scalar)
};

struct JsonElement {
  std::string_view bytes;  // the element's raw bytes; valid until the next call to Next
  uint64_t index = 0;      // 1-based, counted over all elements handed out
  uint64_t offset = 0;     // byte offset of its first byte (0-based, decompressed input)
  uint64_t line = 0;       // 1-based line of its first byte
  JsonContainer container = JsonContainer::kValue;
};

/// Not thread-safe. Framing errors (truncated input, a bad bracket, a limit) are returned as
/// InvalidArgument / ResourceExhausted naming the source, the byte offset and the element index;
/// the elements handed out before stay valid results.
class JsonStreamReader {
 public:
  /// Called for each member of a top-level object that holds an `objects` array, other than
  /// `objects` itself: its name and its value's raw bytes.
  using MemberSink = std::function<void(std::string_view name, std::string_view raw)>;

  JsonStreamReader(std::unique_ptr<InputStream> in, std::string source_name,
                   JsonStreamOptions options = {});
  void set_member_sink(MemberSink sink) { on_member_ = std::move(sink); }

  /// The next element in `*out`; false at the end of the input.
  absl::StatusOr<bool> Next(JsonElement* out);
  /// True when the last error came from the input stream itself (a read error, a gzip bomb),
  /// not from the JSON in it: the caller stops there, as it would on any unreadable input.
  bool input_failed() const { return input_failed_; }

 private:
  enum class State { kTop, kArrayFirst, kArrayNext, kBundleRest, kDone };
  absl::StatusOr<bool> Fill();
  absl::StatusOr<bool> SkipWs(char* c, bool keep = false);
  absl::Status ScanValue();
  absl::Status ScanString(size_t max_bytes);
  absl::StatusOr<bool> TopObject(JsonElement* out);
  absl::Status Error(std::string_view rule, bool exhausted = false) const;
  void Emit(size_t start, uint64_t line, JsonContainer c, JsonElement* out);

  std::unique_ptr<InputStream> in_;
  std::string name_;
  JsonStreamOptions opts_;
  MemberSink on_member_;
  std::string buf_;
  size_t pos_ = 0;                // next byte to look at, index into buf_
  size_t end_ = 0;                // bytes held in buf_
  size_t anchor_ = 0;             // first byte that Fill must keep
  uint64_t base_ = 0;             // input offset of buf_[0]
  size_t next_read_ = 16u << 10;  // bytes the next Fill asks for; doubles to chunk_bytes
  uint64_t line_ = 1;             // line of buf_[pos_]
  bool eof_ = false;
  bool input_failed_ = false;
  State state_ = State::kTop;
  bool in_bundle_ = false;
  uint64_t index_ = 0;
  size_t members_ = 0;
  std::string stack_;
};

}  // namespace accord::common
