#include "cli/match_config.h"

#include <toml++/toml.h>
#include <filesystem>

#include "accord/common/strings.h"

namespace accord::cli {

namespace {

// <data_dir>/accord.toml parsed (an empty table when the file does not exist), or the parse
// error with its line and column.
absl::StatusOr<toml::table> ReadNodeToml(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return toml::table();
  try {
    return toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(common::Cat(path.string(), ":", e.source().begin.line, ":",
                                                  e.source().begin.column, ": ", e.description()));
  }
}

}  // namespace

absl::StatusOr<MatchConfig> LoadMatchConfig(const std::string& data_dir) {
  MatchConfig c;
  std::filesystem::path path = std::filesystem::path(data_dir) / "accord.toml";
  ACCORD_ASSIGN_OR_RETURN(toml::table t, ReadNodeToml(path));
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

absl::StatusOr<Retention> LoadRetention(const std::string& data_dir) {
  Retention r;
  const std::string path = (std::filesystem::path(data_dir) / "accord.toml").string();
  ACCORD_ASSIGN_OR_RETURN(toml::table t, ReadNodeToml(path));
  const toml::node* sec = t.get("retention");
  if (sec == nullptr) return r;
  if (!sec->is_table()) {
    return absl::InvalidArgumentError(common::Cat(path, ": [retention] must be a table"));
  }
  for (const auto& [k, v] : *sec->as_table()) {
    const std::string key(k.str());
    int64_t* into = key == "indicator_grace_days" ? &r.indicator_grace_days
                    : key == "sightings_days"     ? &r.sightings_days
                    : key == "quarantine_days"    ? &r.quarantine_days
                    : key == "audit_days"         ? &r.audit_days
                    : key == "matches_days"       ? &r.matches_days
                                                  : nullptr;
    if (into == nullptr) {
      return absl::InvalidArgumentError(common::Cat(
          path, ":", k.source().begin.line, ":", k.source().begin.column, ": unknown key '", key,
          "' in [retention] (known: indicator_grace_days, sightings_days, "
          "quarantine_days, audit_days, matches_days)"));
    }
    // A match record must outlive every redelivery of its event, or the event counts twice:
    // matches_days must exceed the stream's max age, which Accord does not see
    // (docs/SCALE_OUT.md, "Ledger retention"). Less than a day is refused: 0 would drop the
    // records of the batch a worker is acknowledging.
    const int64_t least = into == &r.matches_days ? 1 : 0;
    const auto* i = v.as_integer();
    if (i == nullptr || i->get() < least || i->get() > 36500) {
      return absl::InvalidArgumentError(
          common::Cat(path, ":", v.source().begin.line, ":", v.source().begin.column, ": ", key,
                      " must be a number of days from ", least, " to 36500",
                      least > 0 ? " (longer than the event stream keeps a message: "
                                  "docs/SCALE_OUT.md, \"Ledger retention\")"
                                : ""));
    }
    *into = i->get();
  }
  return r;
}

}  // namespace accord::cli
