// Granular markings (issue 13, point 2; ../shared/spec/STIX21-objects.md §7.4): a TLP marking
// in an object's `granular_markings` applies to the parts its selectors select, not to the
// whole object. The egress gate delivers such an object to an audience that may not see a
// part's level as a copy without that part, or not at all when the copy would no longer be a
// valid STIX object (docs/PRIVACY.md, "Markings").
//
// Thread-safe: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "accord/policy/tlp.h"

namespace accord::policy {

struct PartsResult {
  enum class Kind { kUnchanged, kRedacted, kDropped };
  Kind kind = Kind::kUnchanged;
  std::string json;    ///< kRedacted: the copy without the withheld parts
  std::string reason;  ///< kDropped: why; kRedacted: what was removed
};

/// Removes from a copy of `object_json` every part that a granular TLP marking selects when
/// `may_see` refuses the marking's level: a selected property is removed from its object, a
/// selected list item from its list (`labels.[1]`), a selected object or list with everything
/// beneath it. Granular markings that select only removed content go too (their selectors
/// would point at nothing, which STIX forbids); the copy carries the redaction extension
/// (kRedactionExtension) with `markings`, one line per part removed.
///
/// kDropped when the part is the object itself (`id`), when a withheld selector selects
/// nothing the object has (what it covers cannot be told), or when the copy would break a STIX
/// rule (a required property such as an indicator's `pattern`): the reason names the part and
/// the rule. Granular markings that are not TLP (statements, `lang`) never remove anything.
/// Input that is not a JSON object is kDropped (fail closed).
PartsResult WithholdMarkedParts(std::string_view object_json,
                                const std::function<bool(Tlp)>& may_see);

/// Whether `object_json` has a granular TLP marking at all (a cheap pre-check: no parse).
bool MayHaveGranularTlp(std::string_view object_json);

}  // namespace accord::policy
