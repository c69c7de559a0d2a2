// One STIX 2.1 object version as Accord keeps it: the original JSON (minified, never
// re-modelled) plus the few properties that are indexed (../shared/DESIGN.md, "Keep the
// original JSON; index what you query").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/time.h"

namespace accord::stix {

/// What the full-text index (issue 16) keeps of an object version: its `name`, its
/// `description` and its `object_marking_refs` (space-separated). Empty strings when absent.
struct IndexText {
  std::string name;
  std::string description;
  std::string markings;
  bool empty() const { return name.empty() && description.empty() && markings.empty(); }
};

/// The IndexText of an object's JSON (all empty when it does not parse as an object). Bounded:
/// at most kMaxIndexText bytes of each field are kept.
IndexText IndexTextOf(std::string_view json);
inline constexpr size_t kMaxIndexText = 64 * 1024;

/// A validated object version. Plain value type; not synchronised.
struct ObjectRecord {
  std::string type;
  std::string id;
  std::string spec_version;  // "2.1" (after any upgrade); empty for objects that carry none
  /// Version key (STIX 2.1 §3.6): `modified`, else `created`, else 0 (SCOs, markings).
  common::Micros modified = 0;
  bool has_modified = false;  // the object carries `modified` (or `created` standing in)
  std::optional<common::Micros> created;
  bool revoked = false;
  std::optional<common::Micros> valid_from;
  std::optional<common::Micros> valid_until;
  std::string pattern;                    // indicators only
  std::string pattern_type;               // indicators only
  std::vector<std::string> marking_refs;  // object_marking_refs
  std::string json;                       // the object, minified
  /// Value-index terms (issue 15), when the ingest path derived them (off the store's
  /// writer thread); otherwise the store derives them itself.
  std::vector<std::string> index_terms;
  bool terms_derived = false;
  /// The full-text index's fields (IndexTextOf), when the ingest path read them off the
  /// store's writer thread; otherwise the store reads them itself.
  std::optional<IndexText> index_text;
  /// What the store computes from the record before writing it, when store::Store::PrepareWrite
  /// ran on the caller's thread (PERF: off the store's single writer thread); otherwise the
  /// store computes it while writing. Meaningful to the store that prepared it only.
  struct Prepared {
    int64_t content_hash = 0;
    int64_t id_hash = 0;
    std::vector<int64_t> term_keys;  // the value index's keys
    std::string text;                // the full-text index's row; empty: none
  };
  std::optional<Prepared> prepared;
};

/// True when `a` and `b` hold the same JSON value, whatever their member order and
/// formatting (both compared in RFC 8785 canonical form). False when either does not parse.
bool SameJson(std::string_view a, std::string_view b);

/// True for the SCO types of STIX 2.1 §6 (and custom types the caller declares as SCOs).
bool IsScoType(std::string_view type);

/// The deterministic id ("<type>--<UUIDv5>", STIX21-objects.md §3.2) of the SCO whose JSON is
/// `sco_json`, from its ID-contributing properties; nullopt when it is not a JSON object with a
/// `type` that has them (or none is present).
std::optional<std::string> DeterministicScoId(std::string_view sco_json);

/// True for the object types STIX 2.1 defines (SDOs, SROs, SCOs, SMOs, bundle excluded).
bool IsStandardType(std::string_view type);

}  // namespace accord::stix
