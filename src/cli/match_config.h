// The CLI's sections of the node's configuration (<data>/accord.toml): `[match]`, read by
// `accord match` (docs/INGEST.md "Versions belong to their collection"), and `[retention]`,
// read by `accord purge` (docs/PRIVACY.md "Retention").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accord/common/status.h"

namespace accord::cli {

struct MatchConfig {
  /// `[match] collections`: the collections (ids or aliases) whose indicators are compiled.
  /// Empty (the default, when the key or the file is absent): every collection.
  std::vector<std::string> collections;
};

/// Reads `<data_dir>/accord.toml` when it exists (defaults otherwise). InvalidArgument, naming
/// the file and the key, when the section is malformed.
absl::StatusOr<MatchConfig> LoadMatchConfig(const std::string& data_dir);

/// `[retention]` (issue 13, point 6; docs/PRIVACY.md "Retention"), read by `accord purge`, in
/// days; -1 where the key is absent (kept forever).
struct Retention {
  int64_t indicator_grace_days = -1;  ///< after an indicator's valid_until
  int64_t sightings_days = -1;
  int64_t quarantine_days = -1;
  /// Audit entries older than this go, but only as whole checkpoints (through the newest
  /// checkpoint signed before the cut-off).
  int64_t audit_days = -1;
  /// Match-ledger records (stream workers, issue 17) whose event and recording are both older
  /// than this (store::PurgeRules::matches_before). At least 1: a record must outlive every
  /// redelivery of its event, so this must exceed the stream's max age (docs/SCALE_OUT.md).
  int64_t matches_days = -1;
  bool any() const {
    return indicator_grace_days >= 0 || sightings_days >= 0 || quarantine_days >= 0 ||
           audit_days >= 0 || matches_days >= 0;
  }
};

/// Reads `<data_dir>/accord.toml`'s [retention]. InvalidArgument naming the file, line and key
/// for an unknown key or a value that is not a number of days from 0 (matches_days: 1) to
/// 36500.
absl::StatusOr<Retention> LoadRetention(const std::string& data_dir);

}  // namespace accord::cli
