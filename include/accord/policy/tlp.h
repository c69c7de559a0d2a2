// Traffic Light Protocol rules for sharing with peers (issue 12, points 3 and 4; docs/
// FEDERATION.md "TLP"). Pure functions: the egress layer applies them to every object that
// leaves for a peer.
//
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"

namespace accord::policy {

/// TLP 2.0 levels, in order of restriction. TLP 1.0's WHITE is CLEAR.
enum class Tlp { kClear = 0, kGreen = 1, kAmber = 2, kAmberStrict = 3, kRed = 4 };

/// "clear", "green", "amber", "amber+strict", "red".
std::string_view TlpName(Tlp tlp);

/// The TLP 2.0 marking-definition id of `tlp`.
std::string_view TlpMarkingId(Tlp tlp);
/// The level named "clear", "green", "amber", "amber+strict" or "red"; nullopt otherwise.
std::optional<Tlp> ParseTlpName(std::string_view name);

/// Every marking-definition id that stands for `tlp`: its TLP 2.0 id, then its TLP 1.0 one
/// (none for AMBER+STRICT).
std::vector<std::string_view> TlpMarkingIds(Tlp tlp);

/// The marking-definition ids a person means by `m` (a search's filter): a TLP level's name,
/// in any case and with or without "tlp:", stands for its ids (TlpMarkingIds); a
/// "marking-definition--" id for itself. InvalidArgument, naming `m`, otherwise.
absl::StatusOr<std::vector<std::string>> MarkingIdsNamed(std::string_view m);

/// The level a marking-definition id stands for: the five TLP 2.0 ids and the four TLP 1.0
/// ones (STIX21-objects.md §7.1, §7.2); nullopt for any other marking.
std::optional<Tlp> TlpOfMarking(std::string_view marking_definition_id);

/// The most restrictive TLP anywhere in an object: its object-level TLP (`default_tlp` when its
/// object_marking_refs carry none) or any of its granular markings'. Unparseable JSON is RED.
/// The egress gate decides on the object level and withholds marked parts (granular.h).
Tlp TlpOfObject(std::string_view object_json, Tlp default_tlp);

/// What egress needs to know of an object, from one parse: its object-level TLP (from
/// object_marking_refs; `default_tlp` when it carries none), the most restrictive TLP of its
/// granular markings (which mark parts: granular.h), and the signer its signature entry (under
/// extension `signature_extension`) names.
struct EgressFacts {
  Tlp tlp = Tlp::kRed;           // object level (RED when not parsed)
  std::optional<Tlp> granular;   // the parts' most restrictive TLP, if any part has one
  bool parsed = false;           // false: not a JSON object (then RED)
  bool signature_entry = false;  // the object carries an entry under the extension
  std::string signer;            // its "signer" ("" when absent or not a string)
};
EgressFacts EgressFactsOf(std::string_view object_json, Tlp default_tlp,
                          std::string_view signature_extension);

/// What a peer's agreement says about TLP (federation::Agreement's [share] and
/// same_organization).
struct ShareTerms {
  bool same_organization = false;
  Tlp max_tlp = Tlp::kGreen;
  bool forward = false;
};

/// May an object of TLP `tlp` go to a peer under `terms`? `forwarded`: it came to this node
/// from another peer (this node did not originate it). The rules: RED never leaves; AMBER+STRICT
/// only to the same organisation; AMBER only directly (never forwarded); GREEN and CLEAR
/// forwarded only where `forward`; and never above the peer's `max_tlp`.
bool TlpAllows(Tlp tlp, const ShareTerms& terms, bool forwarded);

}  // namespace accord::policy
