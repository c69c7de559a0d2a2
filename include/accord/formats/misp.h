// MISP event JSON <-> STIX 2.1 (issue 15; the mapping, type by type, is in docs/FORMATS.md,
// section "MISP events"). Pure conversion: bytes in, minified STIX objects out, no I/O.
//
// Thread safety: ReadMisp and ReadMispManifest are pure functions; a MispWriter is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/formats/formats.h"

namespace accord::formats {

/// What ReadMisp did.
struct MispStats {
  uint64_t events = 0;       // events converted (one Unit each)
  uint64_t attributes = 0;   // attributes seen (event level and inside objects; deleted ones not)
  uint64_t objects = 0;      // MISP objects seen
  uint64_t indicators = 0;   // STIX indicators emitted
  uint64_t observables = 0;  // STIX SCOs emitted (to_ids false attributes)
  uint64_t skipped = 0;      // attributes of a type with no STIX mapping (text, comment, ...)
  uint64_t malformed = 0;    // attributes reported as a Problem (bad value for their type)
  uint64_t skipped_events = 0;  // events reported and not converted
  /// Per MISP attribute type ("ip-dst", "md5", ...): to_ids attributes that went into an
  /// indicator. One indicator may carry several (the OR-ed hashes of a file object).
  std::map<std::string, uint64_t> indicators_per_type;
};

/// Limits for untrusted input (STYLE.md §4: every parser has explicit limits).
inline constexpr size_t kMispMaxInputBytes = size_t{1} << 31;  // simdjson's own bound is 4 GiB
inline constexpr uint32_t kMispMaxNesting = 4;  // arrays of {"response":[...]} inside arrays

/// Reads MISP JSON in its three shapes: {"Event":{...}}, {"response":[{"Event":...}, ...]}, a
/// bare event object, and a JSON array of any of these. Emits one Unit per event: all of the
/// event's STIX objects (identity, report, indicators, SCOs, galaxy objects, relationships),
/// stored all or nothing. Unit.state_key = "misp.event.<uuid>", state_value = the event's
/// `timestamp` (decimal seconds), for incremental feed imports.
///
/// Malformed JSON is one Problem (source, line:column and byte offset). A malformed attribute
/// (a value its type does not allow) is a Problem naming event and attribute and the rule; the
/// conversion goes on without it, unless `o.strict`, which stops at the first Problem with an
/// InvalidArgument error. Returns an error also when `on_unit` fails.
absl::StatusOr<MispStats> ReadMisp(std::string_view json, const ConvertOptions& o,
                                   const UnitSink& on_unit, const ProblemSink& on_problem);
/// ReadMisp handing each event's objects to `out` as they are converted (in the order the Unit
/// would hold them), so that they can be stored while the rest of the event converts; an event
/// that fails after its first object is aborted (UnitStream::Abort), never ended.
absl::StatusOr<MispStats> ReadMisp(std::string_view json, const ConvertOptions& o, UnitStream* out,
                                   const ProblemSink& on_problem);
/// The same, taking the input (left empty) and releasing it as soon as it is parsed.
absl::StatusOr<MispStats> ReadMisp(std::string&& json, const ConvertOptions& o, UnitStream* out,
                                   const ProblemSink& on_problem);

/// One event of a MISP feed's manifest.json.
struct FeedEntry {
  std::string uuid;
  int64_t timestamp = 0;  // unix seconds
};
/// A MISP feed's manifest.json: {"<event uuid>": {"timestamp": "...", "info": ..., ...}, ...}.
/// Entries in input order; an entry without a valid uuid key or timestamp is an error.
absl::StatusOr<std::vector<FeedEntry>> ReadMispManifest(std::string_view json);

/// STIX -> MISP. Feed it STIX objects (minified JSON, any order); Finish returns MISP JSON
/// {"response":[{"Event":{...}}, ...]}: one event per STIX report (the indicators among its
/// object_refs as attributes, to_ids true), plus one event "Accord export" for the indicators no
/// report refers to. Attributes come from indicator patterns of the simple form
/// [x:y = 'v'] (and OR of those, within or between observations), plus the AND pairs ReadMisp
/// writes for composite MISP types (filename|md5, domain|ip, ip-dst|port, regkey|value); other
/// patterns are skipped and counted. A label misp:type="..." on the indicator (as ReadMisp
/// writes it) chooses the MISP type when it fits the pattern.
class MispWriter {
 public:
  MispWriter();
  ~MispWriter();
  MispWriter(const MispWriter&) = delete;
  MispWriter& operator=(const MispWriter&) = delete;

  /// One STIX object. InvalidArgument when it is not a JSON object with "type" and "id".
  absl::Status Add(std::string_view stix_json);
  /// The MISP JSON of everything added. REQUIRES: called once.
  std::string Finish();
  /// Indicators whose pattern had no MISP form (only meaningful after Finish).
  uint64_t skipped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::formats
