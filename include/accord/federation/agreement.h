// A sharing agreement with one peer (issue 12, point 3; docs/FEDERATION.md "Agreements"): what
// this node gives the peer and what it takes from it, written by the operator as TOML. Parsing
// is strict: an unknown key, type or TLP name, or a value of the wrong kind, is an error that
// names the file, line and column.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/policy/tlp.h"

namespace accord::federation {

// The TLP levels and rules live in the egress policy layer, which enforces them.
using policy::Tlp;
using policy::TlpName;

struct Agreement {
  /// True only between nodes of one organisation (TLP:AMBER+STRICT may pass).
  bool same_organization = false;
  struct Share {
    std::vector<std::string> collections;  // local collections the peer may read; none: nothing
    std::vector<std::string> types;        // empty: every type
    Tlp max_tlp = Tlp::kGreen;             // the most restricted marking the peer may receive
    bool forward = false;                  // may objects other peers gave us reach this peer
    // Issue 13: privacy terms.
    std::string redaction;             // redaction profile (accord.toml) applied on the way out
    bool share_observed_data = false;  // may raw observed-data leave for this peer
    int64_t sighting_min_count = 1;    // a sighting leaves only once its count reaches this
    int64_t sighting_bucket_s = 0;     // sighting times coarsened to buckets of this many s
  } share;
  struct Accept {
    std::vector<std::string> from;   // the peer's collections to pull; none: nothing
    std::string into;                // the local collection their objects land in
    std::vector<std::string> types;  // empty: every type
  } accept;
  /// Issue 14: [deadlines], overrides of the default request deadlines for requests sent to
  /// this peer, by "<kind>.<urgency>" (e.g. "notification.critical"); seconds.
  struct Deadline {
    int64_t ack_s = 0;
    int64_t respond_s = 0;
  };
  std::map<std::string, Deadline> deadlines;
};

/// Parses the agreement for peer `peer` from `toml` (`source` names it in errors). Keys:
/// `same_organization` (bool); `[share]` `collections` (non-empty strings), `types` (STIX
/// types: standard ones, or custom ones starting "x-"), `max_tlp` ("clear" | "green" |
/// "amber" | "amber+strict"; "red" never leaves a node), `forward` (bool), `redaction` (a
/// profile name), `share_observed_data` (bool), `sighting_min_count` (integer >= 1),
/// `sighting_bucket` (seconds, 0 to 31 days: 0 keeps times as they are); `[accept]` `from`,
/// `into` (default "from-<peer>"), `types`; `[deadlines]` "KIND.URGENCY" = { ack = D,
/// respond = D } (D: "90s", "30m", "12h", "2d" or seconds, at most 365 days, ack <= respond).
/// Defaults: not the same organisation, share and accept nothing, max_tlp "green", forward false.
/// InvalidArgument "source:line:column: why".
absl::StatusOr<Agreement> ParseAgreement(std::string_view toml, std::string_view source,
                                         std::string_view peer);

}  // namespace accord::federation
