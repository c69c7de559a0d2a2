// Reads STIX content: a bundle, a single object, a JSON array of objects, or JSON lines
// (one object or bundle per line), gzip or plain. Each object is validated
// (STIX 2.1 rules, ../shared/spec/STIX21-objects.md) and handed out as an ObjectRecord;
// each rejected object is reported as a Problem. STIX 2.0 objects are upgraded by the rule
// in docs/STIX20_UPGRADE.md, or refused when `upgrade_20` is off.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "accord/common/io.h"
#include "accord/common/status.h"
#include "accord/stix/object.h"

namespace simdjson::dom {
class object;
}  // namespace simdjson::dom

namespace accord::stix {

/// Why one object (or part of the input) was rejected.
struct Problem {
  std::string location;   // "file:line:column" or "file: object #N" (1-based)
  std::string object_id;  // empty when the object has none or none could be read
  std::string message;    // the rule broken, in plain words
  bool warning = false;   // true: the object was accepted; this is only a finding about it
  std::string ToString() const;
};

/// An extra check on an accepted object (e.g. the pattern checker for indicators, which lives in
/// a layer above this one). A non-OK status rejects the object with the status's message.
using ObjectCheck = std::function<absl::Status(const ObjectRecord&)>;

struct ReaderOptions {
  std::string source_name = "<input>";  // used in locations
  bool upgrade_20 = true;               // upgrade STIX 2.0 content (else refuse it)
  bool check_sco_ids = true;            // recompute deterministic SCO ids (UUIDv5)
  // Bundles, bare arrays and pretty-printed values are streamed element by element (ReadFile),
  // and this no longer bounds them. It bounds a document that is read whole: a single large
  // top-level object, or a first line longer than the sniffed head that is not a bundle (that
  // line is then skipped as over-long and the JSON lines after it are read).
  uint64_t max_document_bytes = 1ull << 30;
  // JSON lines: longest accepted line; a longer one is reported with its line and byte offset
  // and skipped, and reading goes on.
  uint64_t max_line_bytes = 64u << 20;
  // Problems handed to the problem sink per input; past it they are only counted
  // (ReadStats::rejected), after one problem that says so.
  uint64_t max_listed_problems = 100000;
  ObjectCheck object_check;  // optional
  // Optional: called for each accepted object, after object_check and before the object sink,
  // with the parsed object its record's JSON holds (valid during the call only), so that the
  // caller can read more of it without parsing the JSON again.
  std::function<void(const simdjson::dom::object&, ObjectRecord*)> with_dom;
};

struct ReadStats {
  uint64_t objects = 0;   // accepted
  uint64_t rejected = 0;  // problems reported
  uint64_t upgraded = 0;  // STIX 2.0 objects upgraded
  uint64_t warnings = 0;  // findings on accepted objects (Problem::warning)
};

using ObjectSink = std::function<absl::Status(ObjectRecord&&)>;
using ProblemSink = std::function<void(Problem&&)>;

/// Streams `path` ("-" for standard input). JSON lines are processed line by line, and a
/// bundle, array or pretty-printed values element by element, in bounded memory.
/// Returns an error only when the input cannot be read at all or a sink fails;
/// content problems go to `on_problem`.
absl::StatusOr<ReadStats> ReadFile(const std::string& path, const ReaderOptions& options,
                                   const ObjectSink& on_object, const ProblemSink& on_problem);

/// Called for each member of a TAXII envelope other than `objects`: its name and raw JSON value.
using MemberSink = std::function<void(std::string_view name, std::string_view raw)>;

/// A TAXII envelope ({"more": ..., "next": ..., "objects": [...]}, TAXII 2.1 §3.7) streamed
/// element by element: each object of `objects` is read as an element of a bundle would be, and
/// every other member goes to `on_member`. Input that is not one envelope (truncated, an array,
/// a second `objects`) is an InvalidArgument error naming the byte offset, and the caller should
/// keep none of it: a partial page must not move a pull's cursor.
absl::StatusOr<ReadStats> ReadEnvelope(std::unique_ptr<common::InputStream> in,
                                       const ReaderOptions& options, const ObjectSink& on_object,
                                       const ProblemSink& on_problem, const MemberSink& on_member);

/// Same for content already in memory.
absl::StatusOr<ReadStats> ReadBuffer(std::string_view data, const ReaderOptions& options,
                                     const ObjectSink& on_object, const ProblemSink& on_problem);

}  // namespace accord::stix
