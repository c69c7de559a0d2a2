#include "cli/match_config.h"

#include <toml++/toml.h>
#include <filesystem>

#include "accord/common/strings.h"

namespace accord::cli {

absl::StatusOr<MatchConfig> LoadMatchConfig(const std::string& data_dir) {
  MatchConfig c;
  std::filesystem::path path = std::filesystem::path(data_dir) / "accord.toml";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return c;
  toml::table t;
  try {
    t = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(common::Cat(path.string(), ":", e.source().begin.line, ":",
                                                  e.source().begin.column, ": ", e.description()));
  }
  const toml::node* n = t["match"]["collections"].node();
  if (n == nullptr) return c;  // absent: every collection
  const toml::array* a = n->as_array();
  std::string bad = common::Cat(path.string(),
                                ": [match] collections must be a non-empty array "
                                "of collection names or ids (leave it out to "
                                "match the indicators of every collection)");
  if (a == nullptr || a->empty()) return absl::InvalidArgumentError(bad);
  for (const toml::node& e : *a) {
    auto v = e.value<std::string>();
    if (!v || v->empty()) return absl::InvalidArgumentError(bad);
    c.collections.push_back(*v);
  }
  return c;
}

}  // namespace accord::cli
