// STIX 2.1 data markings: granular markings and their selectors (§7.2.3), TLP 1.0 and 2.0
// marking definitions and the marking-definition object rules (§7.1, §7.2). Split out of
// validate.cc.
#include "stix/validate_internal.h"

#include <string>
#include <string_view>

#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

using common::Cat;

// Does `selector` point at content present in `root` (§7.2.3)?
bool SelectorResolves(object root, std::string_view selector) {
  element cur;
  size_t pos = 0;
  bool first = true;
  while (pos <= selector.size()) {
    size_t dot = selector.find('.', pos);
    if (dot == std::string_view::npos) dot = selector.size();
    std::string_view part = selector.substr(pos, dot - pos);
    if (part.empty()) return false;
    if (first) {
      if (root[part].get(cur)) return false;
    } else if (part.front() == '[' && part.back() == ']') {
      array a;
      if (cur.get_array().get(a)) return false;
      std::string_view digits = part.substr(1, part.size() - 2);
      if (digits.empty() || digits.size() > 9 ||
          digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      size_t idx = std::stoul(std::string(digits));
      if (a.at(idx).get(cur)) return false;
    } else {
      object o;
      if (cur.get_object().get(o)) return false;
      if (o[part].get(cur)) return false;
    }
    first = false;
    pos = dot + 1;
  }
  return true;
}

// --- TLP markings (§7.1, §7.2) ---
struct Tlp1 {
  std::string_view id, name, level;
};

constexpr Tlp1 kTlp1[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
};

constexpr Tlp1 kTlp2[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT",
     "amber+strict"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"},
};

constexpr std::string_view kTlp2Extension =
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

}  // namespace

absl::Status CheckGranular(element e, object root) {
  array a;
  if (e.get_array().get(a)) return Invalid("'granular_markings' must be a list");
  size_t i = 0;
  for (element item : a) {
    object o;
    if (item.get_object().get(o)) {
      return Invalid(Cat("granular marking (item ", i, ") must be an object"));
    }
    array selectors;
    if (o["selectors"].get_array().get(selectors) || selectors.size() == 0) {
      return Invalid(Cat("granular marking (item ", i, ") requires a non-empty 'selectors' list"));
    }
    bool has_ref = o["marking_ref"].error() == simdjson::SUCCESS;
    bool has_lang = o["lang"].error() == simdjson::SUCCESS;
    if (has_ref == has_lang) {
      return Invalid(
          Cat("granular marking (item ", i, ") needs exactly one of 'marking_ref' or 'lang'"));
    }
    if (has_ref) {
      ACCORD_RETURN_IF_ERROR(CheckIdentifier(o["marking_ref"].value_unsafe(),
                                             "granular_markings.marking_ref",
                                             {"marking-definition"}));
    }
    for (element sel : selectors) {
      std::string_view s;
      if (sel.get_string().get(s)) {
        return Invalid(Cat("granular marking (item ", i, ") selectors must be strings"));
      }
      if (!SelectorResolves(root, s)) {
        return Invalid(Cat("granular marking selector \"", s,
                           "\" does not point at content present in the object"));
      }
    }
    ++i;
  }
  return absl::OkStatus();
}

absl::Status CheckMarkingDefinition(object obj, std::string_view id) {
  std::string_view def_type = GetString(obj, "definition_type");
  bool has_ext = obj["extensions"].error() == simdjson::SUCCESS;
  bool has_def = obj["definition"].error() == simdjson::SUCCESS;
  if (!has_ext && (def_type.empty() || !has_def)) {
    return Invalid(
        "marking-definition without 'extensions' requires 'definition_type' and "
        "'definition'");
  }
  object def;
  if (has_def && obj["definition"].get_object().get(def)) {
    return Invalid("marking-definition 'definition' must be an object");
  }
  if (def_type == "statement" && GetString(def, "statement").empty() &&
      def["statement"].get_string().error()) {
    return Invalid("statement marking requires 'definition.statement' as a string");
  }
  std::string_view created = GetString(obj, "created");
  for (const auto& t : kTlp1) {
    if (t.id != id) continue;
    std::string_view level = has_def ? GetString(def, "tlp") : std::string_view();
    std::string_view name = GetString(obj, "name");
    if (def_type != "tlp" || level != t.level || def.size() != 1 ||
        (!name.empty() && name != t.name) ||
        common::ParseTimestamp(created).value_or(common::ParsedTimestamp{}).micros !=
            common::ParseTimestamp("2017-01-20T00:00:00.000Z")->micros) {
      return Invalid(Cat("forged TLP marking: ", id, " is the predefined TLP 1.0 ", t.name,
                         " marking and must have definition_type \"tlp\", definition {\"tlp\":\"",
                         t.level, "\"}, created 2017-01-20T00:00:00.000Z; found definition_type \"",
                         def_type, "\", definition ",
                         has_def ? Show(obj["definition"].value_unsafe()) : "(none)", ", name \"",
                         name, "\""));
    }
    return absl::OkStatus();
  }
  if (def_type == "tlp") {
    return Invalid(
        Cat("definition_type \"tlp\" is allowed only on the four predefined "
            "TLP 1.0 marking-definitions; found it on ",
            id));
  }
  object tlp2_ext;
  bool has_tlp2_ext = !obj["extensions"][kTlp2Extension].get_object().get(tlp2_ext);
  for (const auto& t : kTlp2) {
    if (t.id != id) continue;
    std::string_view name = GetString(obj, "name");
    std::string_view level = has_tlp2_ext ? GetString(tlp2_ext, "tlp_2_0") : std::string_view();
    if (!has_tlp2_ext || level != t.level || name != t.name ||
        common::ParseTimestamp(created).value_or(common::ParsedTimestamp{}).micros !=
            common::ParseTimestamp("2022-10-01T00:00:00.000Z")->micros) {
      return Invalid(Cat(
          "forged TLP marking: ", id, " is the TLP 2.0 ", t.name, " marking and must have name \"",
          t.name, "\", created 2022-10-01T00:00:00.000Z and extension ", kTlp2Extension,
          " with tlp_2_0 \"", t.level, "\"; found name \"", name, "\", tlp_2_0 \"", level, "\""));
    }
    return absl::OkStatus();
  }
  if (has_tlp2_ext) {
    return Invalid(Cat("forged TLP marking: the TLP 2.0 extension is used on ", id,
                       ", which is not one of the five TLP 2.0 marking-definition ids"));
  }
  return absl::OkStatus();
}

}  // namespace accord::stix::detail
