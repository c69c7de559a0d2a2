// PLACEHOLDER: minimal rules until the full rule set lands.
#include "stix/validate.h"

#include "absl/strings/str_cat.h"

namespace accord::stix::detail {

absl::Status ValidateObject(simdjson::dom::object obj, const ValidateOptions& opts) {
  std::string_view type, id;
  if (obj["type"].get_string().get(type)) return absl::InvalidArgumentError("missing 'type'");
  if (obj["id"].get_string().get(id)) return absl::InvalidArgumentError("missing 'id'");
  return absl::OkStatus();
}

bool IsStix20(simdjson::dom::object obj, std::string_view bundle_spec_version) {
  std::string_view sv;
  if (!obj["spec_version"].get_string().get(sv)) return sv == "2.0";
  return bundle_spec_version == "2.0";
}

absl::StatusOr<std::string> UpgradeFrom20(simdjson::dom::object obj) {
  return absl::InvalidArgumentError("STIX 2.0 content is not supported");
}

}  // namespace accord::stix::detail
