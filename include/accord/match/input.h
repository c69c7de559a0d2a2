// Telemetry readers: each turns one input format into a stream of Observations (the event
// model of event.h). Formats and their default mappings to STIX SCOs are documented in
// docs/MATCH_INPUTS.md.
//
// A malformed record is counted, reported to the MalformedSink with "file:line: reason", and
// skipped; the stream goes on. Readers reuse their parsers and buffers, so steady-state
// reading allocates nothing per event.
//
// Not thread-safe; one reader per input.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/io.h"
#include "accord/common/status.h"
#include "accord/match/event.h"

namespace accord::match {

enum class InputFormat { kAuto, kZeek, kSuricata, kStix, kJsonl };
/// "zeek", "suricata", "stix", "jsonl", "auto".
absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name);

/// Generic JSON lines: which JSON field feeds which SCO property.
/// File format, one rule a line ('#' comments):  `field.path = sco-type:property`
/// plus optional `@time = field` (the event time, RFC 3339 or epoch seconds).
struct FieldMapping {
  struct Rule {
    std::vector<std::string> field;  // JSON path, split on '.'
    std::string sco_type;
    std::string property;  // top-level property of that SCO (dots make nested keys)
  };
  std::vector<Rule> rules;
  std::vector<std::string> time_field;
  static absl::StatusOr<FieldMapping> Parse(std::string_view text);
};

struct ReaderStats {
  uint64_t records = 0;    // lines or objects read
  uint64_t events = 0;     // observations produced
  uint64_t malformed = 0;  // records skipped
  uint64_t ignored = 0;    // well-formed records with nothing to match (headers, other logs)
};

using MalformedSink = std::function<void(std::string_view location, std::string_view reason)>;

class EventReader {
 public:
  virtual ~EventReader() = default;
  /// Fills `*o` with the next observation. Returns false at the end of the input.
  /// Errors are only for input that cannot be read at all.
  virtual absl::StatusOr<bool> Next(Observation* o) = 0;
  virtual const ReaderStats& stats() const = 0;
  /// The SCO types some indicator mentions (Program::Types(); "*": all). A reader may then
  /// leave out SCOs of other types, and those only they refer to; a record whose SCOs are all
  /// left out is still an event, so stream positions do not change. Readers that do not use
  /// it build everything.
  virtual void SetWantedTypes(const std::vector<std::string>& types) {}

  /// `source` names the input in messages. `mapping` is required for kJsonl.
  /// kAuto sniffs the first non-empty line.
  static absl::StatusOr<std::unique_ptr<EventReader>> Open(InputFormat format,
                                                           std::unique_ptr<common::InputStream> in,
                                                           std::string source,
                                                           const FieldMapping* mapping,
                                                           MalformedSink on_malformed);
};

/// Converts STIX content (a bundle, an observed-data object, an array of either, or a list of
/// bundles as in the conformance vectors) to observations, one per observed-data, in order.
/// Objects are resolved through `object_refs` (2.1) or the embedded `objects` map (2.0).
absl::Status ObservationsFromStix(std::string_view json, std::vector<Observation>* out);

}  // namespace accord::match
