// STIX 2.1 extensions (§7.3) and the predefined SCO extensions (§6): extension names,
// required members and suffix-typed members inside extension content. Split out of
// validate.cc.
#include "stix/validate_internal.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/strings.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

using common::Cat;

// --- extensions (§7.3, §6 predefined extensions) ---
bool ValidExtensionName(std::string_view k) {
  // ^([a-z][a-z0-9]*)+(-[a-z0-9]+)*-ext$
  if (!HasSuffix(k, "-ext") || k.size() < 5) return false;
  std::string_view stem = k.substr(0, k.size() - 4);
  return !stem.empty() && stem[0] >= 'a' && stem[0] <= 'z' && stem.back() != '-' &&
         std::all_of(stem.begin(), stem.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '-'; }) &&
         stem.find("--") == std::string_view::npos;
}

struct PredefinedExt {
  std::string_view name;
  std::string_view owner;
  std::vector<std::string_view> required;
};

const std::vector<PredefinedExt>& PredefinedExtensions() {
  static const std::vector<PredefinedExt> kExts = {
      {"archive-ext", "file", {"contains_refs"}},
      {"ntfs-ext", "file", {}},
      {"pdf-ext", "file", {}},
      {"raster-image-ext", "file", {}},
      {"windows-pebinary-ext", "file", {"pe_type"}},
      {"http-request-ext", "network-traffic", {"request_method", "request_value"}},
      {"icmp-ext", "network-traffic", {"icmp_type_hex", "icmp_code_hex"}},
      {"socket-ext", "network-traffic", {"address_family"}},
      {"tcp-ext", "network-traffic", {}},
      {"windows-process-ext", "process", {}},
      {"windows-service-ext", "process", {}},
      {"unix-account-ext", "user-account", {}},
  };
  return kExts;
}

// Suffix-typed members inside extension content (e.g. icmp_type_hex, contains_refs).
absl::Status CheckExtensionMembers(object ext, std::string_view key) {
  for (auto f : ext) {
    ACCORD_RETURN_IF_ERROR(CheckBySuffix(f.key, f.value));
    if (f.key == "hashes" || HasSuffix(f.key, "_hashes")) {
      ACCORD_RETURN_IF_ERROR(CheckHashes(f.value, Cat(key, ".", f.key)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckExtensions(element e, std::string_view type) {
  object exts;
  if (e.get_object().get(exts)) {
    return Invalid(Cat("'extensions' must be a dictionary, found ", JsonTypeName(e.type())));
  }
  if (exts.size() == 0) return Invalid("'extensions' is an empty dictionary");
  for (auto f : exts) {
    object ext;
    if (f.value.get_object().get(ext) || ext.size() == 0) {
      return Invalid(Cat("extension \"", f.key, "\" must be a non-empty object"));
    }
    if (f.key.substr(0, 22) == "extension-definition--") {
      if (IdType(f.key) != "extension-definition") {
        return Invalid(
            Cat("extension key \"", f.key, "\" is not a valid extension-definition identifier"));
      }
      std::string_view et = GetString(ext, "extension_type");
      static const std::vector<std::string_view> kTypes = {
          "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"};
      if (!Contains(kTypes, et)) {
        return Invalid(Cat("extension ", f.key, " requires 'extension_type' (one of ",
                           Join(kTypes, ", "), "), found ",
                           ext["extension_type"].error()
                               ? std::string("none")
                               : Show(ext["extension_type"].value_unsafe())));
      }
      continue;
    }
    if (!ValidExtensionName(f.key)) {
      return Invalid(Cat("extension key \"", f.key,
                         "\" must be an extension-definition id or a name ending in "
                         "\"-ext\" (a-z, 0-9, '-')"));
    }
    for (const auto& p : PredefinedExtensions()) {
      if (p.name != f.key) continue;
      if (p.owner != type) {
        return Invalid(Cat("predefined extension \"", p.name, "\" applies only to ", p.owner,
                           " objects, found on ", type));
      }
      for (auto r : p.required) {
        if (ext[r].error()) {
          return Invalid(Cat("extension \"", p.name, "\": required property '", r, "' is missing"));
        }
      }
    }
    ACCORD_RETURN_IF_ERROR(CheckExtensionMembers(ext, f.key));
  }
  return absl::OkStatus();
}

}  // namespace accord::stix::detail
