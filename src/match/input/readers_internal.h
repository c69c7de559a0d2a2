// Internal to the telemetry readers (src/match/input/): the pieces shared by readers.cc (format
// detection, EventReader::Open) and the per-format files zeek.cc, suricata_eve.cc and
// json_mapped.cc. Formats and mappings: docs/MATCH_INPUTS.md. Not a public header.
#pragma once

#include <simdjson.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/strings.h"
#include "accord/match/input.h"

namespace accord::match::detail {

// ---- Helpers building SCOs (readers.cc) ----

// An SCO {"type": type, "value": value}, referable as `id`.
void AddValueSco(Observation* o, std::string_view type, std::string_view value,
                 std::string_view id);
// An ipv4-addr or ipv6-addr SCO, referable as `id`.
void AddIpSco(Observation* o, std::string_view value, std::string_view id);

// ---- Line-based reader base
// ----------------------------------------------------------------------

class LineEventReader : public EventReader {
 public:
  LineEventReader(std::unique_ptr<common::InputStream> in, std::string source, MalformedSink sink,
                  size_t max_line = common::kDefaultMaxLineBytes)
      : lines_(std::move(in), max_line), source_(std::move(source)), sink_(std::move(sink)) {}
  const ReaderStats& stats() const override { return stats_; }

  absl::StatusOr<bool> Next(Observation* o) override {
    for (;;) {
      std::string_view line;
      bool too_long = false;
      ACCORD_ASSIGN_OR_RETURN(bool more, lines_.Next(&line, &line_no_, &too_long));
      if (!more) return false;
      if (too_long) {
        Malformed(common::Cat("line of ", lines_.line_bytes(), " bytes at byte offset ",
                              lines_.line_offset(), " is longer than the limit of ",
                              lines_.max_line(), " bytes (--max-line-bytes)"));
        continue;
      }
      if (line.empty()) continue;
      ++stats_.records;
      o->Clear();
      int r = Handle(line, o);
      if (r > 0) {
        ++stats_.events;
        return true;
      }
      if (r == kFatal) return fatal_;
      if (r == 0) ++stats_.ignored;
    }
  }

 protected:
  static constexpr int kFatal = -2;
  // 1: an event in *o; 0: nothing to match; -1: malformed (already reported); kFatal: the
  // input cannot be read on (Fatal() set the error, which Next returns).
  virtual int Handle(std::string_view line, Observation* o) = 0;
  // An error that ends the input (a broken header, after which every row would be misread):
  // "source:line: why", InvalidArgument.
  int Fatal(std::string_view why) {
    fatal_ = absl::InvalidArgumentError(common::Cat(source_, ":", line_no_, ": ", why));
    return kFatal;
  }
  void Malformed(std::string_view why) {
    ++stats_.malformed;
    if (sink_) {
      loc_.assign(source_);
      loc_.push_back(':');
      loc_.append(std::to_string(line_no_));
      sink_(loc_, why);
    }
  }
  // Parses a JSON line without copying it per event (PERF: the padded buffer is reused).
  [[nodiscard]] bool ParseJson(std::string_view line, simdjson::dom::element* out) {
    if (padded_.size() < line.size() + simdjson::SIMDJSON_PADDING)
      padded_.resize(line.size() + simdjson::SIMDJSON_PADDING + 4096);
    memcpy(padded_.data(), line.data(), line.size());
    auto err = parser_.parse(padded_.data(), line.size(), false).get(*out);
    if (err) {
      Malformed(simdjson::error_message(err));
      return false;
    }
    return true;
  }

  common::LineReader lines_;
  absl::Status fatal_;
  std::string source_;
  MalformedSink sink_;
  uint64_t line_no_ = 0;
  ReaderStats stats_;
  std::string loc_;
  simdjson::dom::parser parser_;
  std::string padded_;
  std::vector<std::string_view> list_;
  std::string tmp_;
};

// ---- Per-format factories ----

// Zeek TSV and JSON logs (zeek.cc).
std::unique_ptr<EventReader> NewZeekReader(std::unique_ptr<common::InputStream> in,
                                           const std::string& source, MalformedSink on_malformed);
// Suricata EVE JSON (suricata_eve.cc).
std::unique_ptr<EventReader> NewEveReader(std::unique_ptr<common::InputStream> in,
                                          const std::string& source, MalformedSink on_malformed);
// JSON lines as they are; a JSON array or pretty-printed / concatenated JSON values (detected
// from the first non-blank byte and the first line) turned into JSON lines, one minified value
// per line, streamed by common::JsonStreamReader in bounded memory (json_framing.cc).
std::unique_ptr<common::InputStream> AsJsonLines(std::unique_ptr<common::InputStream> in,
                                                 const std::string& source);
// Generic JSON lines with a FieldMapping (json_mapped.cc).
std::unique_ptr<EventReader> NewMappedJsonReader(std::unique_ptr<common::InputStream> in,
                                                 const std::string& source,
                                                 MalformedSink on_malformed,
                                                 const FieldMapping& mapping);

}  // namespace accord::match::detail
