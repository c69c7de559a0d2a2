// The node's federation settings: the [federation] table of <data>/accord.toml (docs/
// FEDERATION.md "Configuration"). Parsing is strict: an unknown key or a bad value is an error
// naming the file, line and column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "accord/common/status.h"
#include "accord/policy/tlp.h"

namespace accord::federation {

struct FederationConfig {
  /// key_trust = "auto" | "manual": whether keys that peers introduce are believed at once.
  bool manual_key_trust = false;
  /// default_tlp: the TLP of an object that carries no TLP marking.
  policy::Tlp default_tlp = policy::Tlp::kAmber;
  /// sync_interval: seconds (a fraction allowed, at least 0.05) between `accord serve`'s sync
  /// rounds with each peer; 0: serve does not sync (rounds run only by `accord sync --once`).
  int64_t sync_interval_ms = 30000;
  /// page_size: objects asked for per page.
  int64_t page_size = 1000;
  /// max_page_bytes: the largest page accepted from a peer; a bigger one fails that round.
  int64_t max_page_bytes = 64ll << 20;
  /// max_pages_per_round: a peer's round stops after this many pages (the rest comes next
  /// round), so that an endless `more` cannot hold the node.
  int64_t max_pages_per_round = 1000;
  /// request_timeout: seconds one request to a peer may take, connection to last byte.
  int64_t request_timeout_s = 60;
  /// retry_base_ms, retry_max_s: back-off after a failed round, doubling from the base up to
  /// the maximum, with jitter.
  int64_t retry_base_ms = 1000;
  int64_t retry_max_s = 300;
  /// request_interval: seconds (a fraction allowed) between `accord serve`'s rounds of the
  /// request channel (issue 14): deliveries retried, deadlines checked, pings sent; 0: off.
  int64_t request_interval_ms = 2000;
  /// ping_interval: seconds between the communication checks (pings) sent to each peer; 0
  /// (the default): none are sent on a schedule.
  int64_t ping_interval_s = 0;
  /// notify_command: run (by /bin/sh -c) for each event of the request channel a person must
  /// hear of at once: a request received, a step the peer took, a request overdue or
  /// escalated. The event is one JSON object on its standard input, its name in ACCORD_EVENT;
  /// it is killed after 10 s. Empty (the default): none.
  std::string notify_command;
};

/// Reads [federation] from <data_dir>/accord.toml; defaults when the file or table is absent.
absl::StatusOr<FederationConfig> LoadFederationConfig(const std::string& data_dir);

/// `[store] url` of <data_dir>/accord.toml (issue 17: a PostgreSQL store shared by several
/// frontends), "" when there is none. InvalidArgument, with file:line:column, for a value that
/// is not a postgresql:// URL or a file that is not TOML.
absl::StatusOr<std::string> ConfiguredStoreUrl(const std::string& data_dir);
/// The same from `toml_text`; `path` names it in errors ("PATH:LINE:COLUMN: ...").
absl::StatusOr<FederationConfig> ParseFederationConfig(std::string_view toml_text,
                                                       std::string_view path);

}  // namespace accord::federation
