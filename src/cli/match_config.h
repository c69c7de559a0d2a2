// The `[match]` section of the node's configuration (<data>/accord.toml), read by
// `accord match` (docs/INGEST.md "Versions belong to their collection").
#pragma once

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

}  // namespace accord::cli
