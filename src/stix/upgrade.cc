// STIX 2.0 -> 2.1 upgrade, by the rule in docs/STIX20_UPGRADE.md.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "accord/common/strings.h"
#include "stix/validate.h"

namespace accord::stix::detail {
namespace {

using common::Cat;

using Json = nlohmann::ordered_json;

bool IsVersionedType(std::string_view t) {
  static constexpr std::string_view kTypes[] = {
      "attack-pattern", "campaign",      "course-of-action", "identity", "indicator",
      "intrusion-set",  "malware",       "observed-data",    "report",   "threat-actor",
      "tool",           "vulnerability", "relationship",     "sighting"};
  for (auto k : kTypes) {
    if (k == t) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> UpgradeFrom20(simdjson::dom::object obj) {
  Json in = Json::parse(simdjson::minify(obj), nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded() || !in.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (!in.contains("type") || !in["type"].is_string()) {
    return absl::InvalidArgumentError("'type' is missing, so the object cannot be upgraded");
  }
  const std::string type = in["type"].get<std::string>();
  if (!in.contains("id") || !in["id"].is_string()) {
    return absl::InvalidArgumentError("'id' is missing, so the object cannot be upgraded");
  }
  if (in.contains("spec_version") &&
      !(in["spec_version"].is_string() && in["spec_version"].get<std::string>() == "2.0")) {
    return absl::InvalidArgumentError(
        Cat("'spec_version' is ", in["spec_version"].dump(), ", not \"2.0\""));
  }
  if (IsVersionedType(type)) {
    for (const char* k : {"created", "modified"}) {
      if (!in.contains(k)) {
        return absl::InvalidArgumentError(
            Cat(type, " has no '", k, "'; a timestamp cannot be invented, so it is not upgraded"));
      }
    }
  }
  if (type == "marking-definition" && !in.contains("created")) {
    return absl::InvalidArgumentError(
        "marking-definition has no 'created'; a timestamp cannot be invented");
  }
  if (type == "malware" && !in.contains("is_family") && !in.contains("name")) {
    // 2.1 requires a name on a family; without one we would have to invent is_family:false.
    return absl::InvalidArgumentError(
        "malware has neither 'name' nor 'is_family'; cannot mark it as a family");
  }

  // Rebuild in the original member order; spec_version goes right after type.
  Json out = Json::object();
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (it.key() == "spec_version") continue;
    out[it.key()] = it.value();
    if (it.key() == "type") out["spec_version"] = "2.1";
  }
  if (type == "indicator" && !out.contains("pattern_type")) out["pattern_type"] = "stix";
  if (type == "malware" && !out.contains("is_family")) out["is_family"] = true;
  out["x_accord_upgraded_from"] = "2.0";
  return out.dump();
}

}  // namespace accord::stix::detail
