// The field's formats (docs/FORMATS.md): what `accord import --format` reads besides STIX
// (MISP events, CSV, plain lists, free text) and what `accord export --format` writes for
// sensors. Converters here do no I/O: they take bytes and hand out STIX 2.1 objects (as
// minified JSON) grouped in Units, which the CLI feeds through the one ingest path
// (src/ingest/), so every imported object is validated, pattern-checked and indexed like any
// other.
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/stix/reader.h"

namespace accord::formats {

using Problem = stix::Problem;
using ProblemSink = std::function<void(Problem&&)>;

/// What `accord import --format` reads.
enum class Format { kStix, kMisp, kCsv, kList, kText };
std::string_view FormatName(Format f);
/// "stix", "misp", "csv", "list" or "text"; an error that names them otherwise.
absl::StatusOr<Format> ParseFormat(std::string_view name);
/// The formats, for messages: "stix (bundle, object, array or JSON lines), misp (...), ...".
extern const std::string_view kReadableFormats;

/// The format `auto` chose for an input, and why (printed by `accord import`).
struct Sniffed {
  Format format;
  std::string why;
};
/// Guesses the format of an input from its name and first bytes. nullopt: no reader accepts
/// it (binary content, or JSON that is neither STIX nor MISP).
std::optional<Sniffed> Sniff(std::string_view name, std::string_view head);

/// The kinds of values Accord takes from lists, text, CSV and MISP, and exports for sensors.
enum class ValueKind {
  kIpv4,
  kIpv6,
  kIpv4Cidr,
  kIpv6Cidr,
  kDomain,
  kUrl,
  kEmail,
  kMd5,
  kSha1,
  kSha256,
  kSha512,
  kCve,
};
inline constexpr int kValueKindCount = 12;
/// "ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr", "domain", "url", "email", "md5", "sha1", "sha256",
/// "sha512", "cve".
std::string_view ValueKindName(ValueKind k);
std::optional<ValueKind> ParseValueKind(std::string_view name);

/// A typed value, normalised (domains and hashes lower case, CIDRs and addresses canonical).
struct Value {
  ValueKind kind;
  std::string value;
  bool operator==(const Value&) const = default;
};

/// The STIX pattern that matches `v`: "[domain-name:value = 'evil.example']",
/// "[file:hashes.'SHA-256' = '...']", "[ipv4-addr:value = '10.0.0.0/8']", ...; nullopt for
/// kinds that no pattern matches (CVE ids, which become vulnerability objects).
std::optional<std::string> PatternFor(const Value& v);

/// Appends `s` as a JSON string ('"' and the escapes of common::AppendJsonEscaped).
void AppendJsonString(std::string* out, std::string_view s);
/// Appends `s` as a STIX pattern string literal (Patterning §3.3: ' and \ escaped with \).
void AppendPatternString(std::string* out, std::string_view s);

/// A group of STIX objects stored together or not at all (one MISP event, one text report).
struct Unit {
  std::string name;                  // for messages: "events.json: event 5f2c..."
  std::vector<std::string> objects;  // minified STIX 2.1 JSON, one object each
  /// Incremental state: when non-empty, the CLI stores setting `state_key` = `state_value`
  /// with the unit, and skips a later unit whose value is not newer (MISP: event uuid and
  /// timestamp).
  std::string state_key, state_value;
};
using UnitSink = std::function<absl::Status(Unit&&)>;

/// A Unit handed over object by object as it is converted, so that storing can begin before the
/// converter is done with it (ReadMisp: one event of 150,000 attributes is ~80 MB of STIX).
/// The unit is still one transaction: Begin, then Add for each object in order, then End when
/// the unit is whole, or Abort when its conversion failed (nothing of it may be kept). An
/// error from Begin, Add or End stops the conversion and is returned by the converter.
///
/// Thread safety: called by one thread.
class UnitStream {
 public:
  virtual ~UnitStream() = default;
  /// A unit begins; `name`, `state_key` and `state_value` as in Unit.
  virtual absl::Status Begin(std::string_view name, std::string_view state_key,
                             std::string_view state_value) = 0;
  /// The unit's next object (minified STIX 2.1 JSON).
  virtual absl::Status Add(std::string&& object) = 0;
  /// The unit is whole: store it.
  virtual absl::Status End() = 0;
  /// The unit's conversion failed after Begin: forget what was added.
  virtual void Abort() = 0;
};

/// What every converter takes.
struct ConvertOptions {
  std::string source_name = "<input>";  // used in problem locations and report names
  common::Micros now = 0;               // created/modified/valid_from where the input has no time
  std::string created_by_ref;           // the node's identity, when set
  bool strict = false;                  // the first malformed record stops the conversion
  std::vector<std::string> labels;      // added to every indicator
};

/// A STIX indicator for `v` (pattern from PatternFor), with a deterministic id: UUIDv5 of the
/// pattern in Accord's namespace, so that the same value imported twice is one object.
/// `extra` is appended inside the object (e.g. R"("description":"...")"), or empty.
std::string IndicatorFor(const Value& v, const ConvertOptions& o, std::string_view extra = {});
/// Accord's UUIDv5 namespace for objects it derives from other formats.
inline constexpr std::string_view kAccordNamespace = "6f1d9b8e-6a4b-5d0e-9d3f-3c2a1b0e4f57";
/// "<type>--<UUIDv5(kAccordNamespace, name)>".
std::string DerivedId(std::string_view type, std::string_view name);

}  // namespace accord::formats
