// STIX 2.1 object rules (../shared/spec/STIX21-objects.md): the entry points ValidateObject
// and IsStix20. Table-driven: every known type has a property table (name, value type,
// required, allowed reference targets or enum values) in validate_schema.cc; value checks are
// in validate_values.cc, markings in validate_markings.cc, extensions in
// validate_extensions.cc, and the rules that tie properties together are written out per
// type in validate_types.cc. Shared declarations: validate_internal.h.
#include "stix/validate.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/stix/object.h"
#include "stix/sco_id.h"
#include "stix/validate_internal.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

using common::Cat;

constexpr std::string_view kReservedNames[] = {"severity", "username", "phone_number",
                                               "phone_numbers", "action"};

}  // namespace

absl::Status ValidateObject(object obj, const ValidateOptions& opts) {
  // type
  element type_el;
  if (obj["type"].get(type_el)) return Invalid("required property 'type' is missing");
  std::string_view type;
  if (type_el.get_string().get(type)) {
    return Invalid(Cat("'type' must be a string, found ", JsonTypeName(type_el.type())));
  }
  if (!ValidTypeName(type)) {
    return Invalid(
        Cat("'type' must be 3-250 characters of a-z, 0-9 and '-' (starting "
            "with a letter, no \"--\"), found \"",
            type, "\""));
  }
  // id
  element id_el;
  if (obj["id"].get(id_el)) return Invalid(Cat(type, ": required property 'id' is missing"));
  std::string_view id;
  if (id_el.get_string().get(id)) {
    return Invalid(Cat("'id' must be a string, found ", JsonTypeName(id_el.type())));
  }
  if (id.size() != type.size() + 2 + 36 || id.substr(0, type.size()) != type ||
      id.substr(type.size(), 2) != "--" || !ValidUuid(id.substr(type.size() + 2))) {
    return Invalid(Cat("'id' must be \"", type, "--\" followed by a UUID, found \"", id, "\""));
  }

  const auto& specs = Specs();
  auto it = specs.find(type);
  const TypeSpec* spec = it == specs.end() ? nullptr : &it->second;
  Kind kind = spec ? spec->kind : Kind::kCustom;
  // Custom objects: SDO-like when they carry created/modified (new-sdo / legacy x- types).
  bool versioned = kind == Kind::kSdo || kind == Kind::kSro || kind == Kind::kLanguageContent ||
                   kind == Kind::kExtensionDefinition;

  // spec_version
  element sv_el;
  bool has_sv = !obj["spec_version"].get(sv_el);
  if (has_sv) {
    std::string_view sv;
    if (sv_el.get_string().get(sv) || sv != "2.1") {
      return Invalid(Cat("'spec_version' must be \"2.1\", found ", Show(sv_el)));
    }
  } else if (kind != Kind::kSco && kind != Kind::kCustom) {
    return Invalid(Cat(type, ": required property 'spec_version' is missing"));
  }

  // Required common properties by kind.
  std::vector<std::string_view> required_common;
  if (versioned) required_common = {"created", "modified"};
  if (kind == Kind::kMarking) required_common = {"created"};
  if (kind == Kind::kExtensionDefinition) required_common.push_back("created_by_ref");
  for (auto r : required_common) {
    if (!Has(obj, r)) return Invalid(Cat(type, ": required property '", r, "' is missing"));
  }
  if (kind != Kind::kSco && kind != Kind::kCustom && Has(obj, "defanged")) {
    return Invalid(Cat("'defanged' is allowed only on SCOs, found on a ", KindName(kind)));
  }
  if (kind == Kind::kMarking && Has(obj, "modified")) {
    return Invalid(
        "marking-definition must not have 'modified' (marking definitions are not versioned)");
  }

  // Every member: known (typed) or custom (name format + suffix typing).
  const PropIndex& props = PropsOf(spec);
  for (auto f : obj) {
    const Prop* prop = props.Find(f.key);
    ACCORD_RETURN_IF_ERROR(CheckNoNullOrEmpty(f.value, f.key, 1, prop != nullptr));
    if (prop != nullptr) {
      if (f.key == "created" || f.key == "modified") {
        ACCORD_RETURN_IF_ERROR(CheckTimestamp(f.value, f.key, 3, nullptr));
      } else if (f.key == "extensions") {
        ACCORD_RETURN_IF_ERROR(CheckExtensions(f.value, type));
      } else {
        ACCORD_RETURN_IF_ERROR(CheckValue(*prop, f.value, obj));
      }
      continue;
    }
    for (auto r : kReservedNames) {
      if (f.key == r) {
        return Invalid(Cat("property name '", f.key, "' is reserved and must not be used"));
      }
    }
    if (!ValidPropertyName(f.key)) {
      return Invalid(
          Cat("custom property name \"", f.key, "\" must be 3-250 characters of a-z, 0-9 and '_'"));
    }
    if (auto st = CheckBySuffix(f.key, f.value); !st.ok()) {
      // Custom properties are the producer's own: a malformed custom reference (ATT&CK 18.1's
      // deprecated data components carry "x_mitre_data_source_ref": "") is flagged, not fatal.
      if (!HasSuffix(f.key, "_ref") && !HasSuffix(f.key, "_refs")) return st;
      if (opts.warnings) opts.warnings->emplace_back(st.message());
    }
  }

  // Required type-specific properties.
  if (spec != nullptr) {
    for (const auto& p : spec->props) {
      if (p.required && !Has(obj, p.name)) {
        return Invalid(Cat(type, ": required property '", p.name, "' is missing"));
      }
    }
  }
  ACCORD_RETURN_IF_ERROR(CheckOrder(obj, "created", "modified", false));
  ACCORD_RETURN_IF_ERROR(CheckTypeRules(type, kind, obj));

  // Deterministic SCO ids.
  if (kind == Kind::kSco && opts.check_sco_ids) {
    std::string_view uuid = id.substr(type.size() + 2);
    if (uuid[14] == '5') {
      auto expected = type == "process" ? std::nullopt : ComputeScoId(type, obj);
      if (!expected) {
        if (opts.warnings) {
          opts.warnings->push_back(Cat("deterministic id mismatch: ", type,
                                       " has none of its ID contributing properties, so its id "
                                       "should be a UUIDv4, found ",
                                       id));
        }
        return absl::OkStatus();
      }
      if (!EqualsIgnoreCase(*expected, id) && opts.warnings) {
        // STIX 2.1 §2.9: a consumer must not reject an SCO because its id does not reproduce.
        opts.warnings->push_back(
            Cat("deterministic id mismatch: expected ", *expected, ", found ", id));
      }
    }
  }
  return absl::OkStatus();
}

bool IsStix20(object obj, std::string_view bundle_spec_version) {
  std::string_view sv;
  if (!obj["spec_version"].get_string().get(sv)) return sv == "2.0";
  if (bundle_spec_version == "2.0") return true;
  std::string_view type;
  if (obj["type"].get_string().get(type)) return false;
  auto it = Specs().find(type);
  if (it != Specs().end()) {
    Kind k = it->second.kind;
    return k == Kind::kSdo || k == Kind::kSro || k == Kind::kMarking;
  }
  // A custom object with versioning properties and no spec_version is 2.0-style content
  // (e.g. ATT&CK's x-mitre-tactic in the 2.0 release).
  return !IsSco(type) && Has(obj, "created");
}

}  // namespace accord::stix::detail
