// The pattern layer's check on import: every indicator whose pattern_type is "stix" must carry
// a pattern that parses and type-checks (issue #3). Replaces the weak default in
// import_hooks.cc when the pattern layer is built.
#include "accord/common/strings.h"
#include "accord/pattern/pattern.h"
#include "cli/import_hooks.h"

namespace accord::cli {

ObjectCheck DefaultObjectCheck() {
  return [](const stix::ObjectRecord& rec) -> absl::Status {
    if (rec.type != "indicator" || rec.pattern_type != "stix") return absl::OkStatus();
    auto p = pattern::ParseAndCheck(rec.pattern);
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          common::Cat("invalid STIX pattern: ", common::View(p.status().message())));
    }
    return absl::OkStatus();
  };
}

}  // namespace accord::cli
