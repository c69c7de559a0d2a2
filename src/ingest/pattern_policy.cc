// [pattern] in accord.toml (include/accord/ingest/pattern_policy.h).
#include "accord/ingest/pattern_policy.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>

#include "accord/common/strings.h"

namespace accord::ingest {

namespace {

// The pattern-check stage of ingest.cc with CheckOptions: same refusal text.
class PatternCheckWith final : public Stage {
 public:
  explicit PatternCheckWith(const pattern::CheckOptions& o) : options_(o) {}
  std::string_view Name() const override { return "pattern-check"; }
  absl::Status Check(const stix::ObjectRecord& rec, const Origin&) const override {
    if (rec.type != "indicator" || rec.pattern_type != "stix") return absl::OkStatus();
    auto p = pattern::ParseAndCheck(rec.pattern, nullptr, {}, options_);
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          common::Cat("invalid STIX pattern: ", common::View(p.status().message())));
    }
    return absl::OkStatus();
  }

 private:
  pattern::CheckOptions options_;
};

}  // namespace

bool PatternPolicy::AllowsBacktracking(std::string_view id, std::string_view alias) const {
  return std::any_of(allow_backtracking_regex.begin(), allow_backtracking_regex.end(),
                     [&](const std::string& c) {
                       return (!id.empty() && c == id) || (!alias.empty() && c == alias);
                     });
}

absl::StatusOr<PatternPolicy> LoadPatternPolicy(const std::string& data_dir) {
  PatternPolicy policy;
  std::string path = (std::filesystem::path(data_dir) / "accord.toml").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return policy;
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(common::Cat(path, ":", e.source().begin.line, ":",
                                                  e.source().begin.column, ": ", e.description()));
  }
  const toml::node* allow = t["pattern"]["allow_backtracking_regex"].node();
  if (allow == nullptr) return policy;
  const toml::array* list = allow->as_array();
  auto bad = [&] {
    return absl::InvalidArgumentError(
        common::Cat(path, ":", allow->source().begin.line,
                    ": [pattern] allow_backtracking_regex must be a list of collection names "
                    "(aliases or ids), e.g. [\"partner-feed\"]"));
  };
  if (list == nullptr) return bad();
  for (const toml::node& n : *list) {
    const auto* s = n.as_string();
    if (s == nullptr) return bad();
    policy.allow_backtracking_regex.push_back(s->get());
  }
  return policy;
}

std::shared_ptr<const Stage> PatternCheckStage(const pattern::CheckOptions& options) {
  if (!options.allow_backtracking_regex) return PatternCheckStage();
  static const auto allowing = std::make_shared<const PatternCheckWith>(options);
  return allowing;
}

void ApplyPatternPolicy(const PatternPolicy& policy, Options* options, std::string_view id,
                        std::string_view alias) {
  pattern::CheckOptions co;
  co.allow_backtracking_regex =
      policy.AllowsBacktracking(options->collection) || policy.AllowsBacktracking(id, alias);
  options->pipeline.Set(Hook::kPatternCheck, PatternCheckStage(co));
}

}  // namespace accord::ingest
