// STIX 2.1 per-type rules: the co-occurrence and ordering rules for each SDO, SRO and SCO
// that tie properties together (checklist item 11), beyond what the schema tables say. Split
// out of validate.cc.
#include "stix/validate_internal.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>

#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::stix::detail {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

using common::Cat;

// --- per-type co-occurrence rules (checklist item 11) ---
// The string value of e, or "" when e is not a string; for comparisons that treat a wrongly
// typed value as absent (the type error is reported by the property checks, not here).
std::string_view StrOr(element e) {
  std::string_view s;
  if (e.get_string().get(s)) return {};
  return s;
}

// The instant of o[k]; nullopt when k is absent or not a parseable timestamp, so CheckOrder
// stays silent and the property check reports the format problem instead.
std::optional<common::Micros> TimeOf(object o, std::string_view k) {
  std::string_view s;
  if (o[k].get_string().get(s)) return std::nullopt;
  auto p = common::ParseTimestamp(s);
  if (!p.ok()) return std::nullopt;
  return p->micros;
}

// Members that are not common properties (STIX21-objects.md §5). `extensions` counts as
// specific: an SCO whose only content is an extension is still non-empty.
// PERF: O(members x common props), both small; runs only for the four types that need it.
size_t SpecificPropertyCount(object o) {
  size_t n = 0;
  for (auto f : o) {
    bool common_prop = false;
    for (const auto& p : CommonProps()) {
      if (p.name == f.key && p.name != "extensions") common_prop = true;
    }
    if (!common_prop) ++n;
  }
  return n;
}

}  // namespace

bool Has(object o, std::string_view k) { return o[k].error() == simdjson::SUCCESS; }

// Timestamps compare as instants, not strings (STIX21-objects.md §4: "...12.1Z" equals
// "...12.100Z"). Missing or malformed values pass; other checks report them.
// a <op> b on the instants; `strict` means b must be strictly later.
absl::Status CheckOrder(object o, std::string_view earlier, std::string_view later, bool strict) {
  auto a = TimeOf(o, earlier);
  auto b = TimeOf(o, later);
  if (!a || !b) return absl::OkStatus();
  if (strict ? *b <= *a : *b < *a) {
    return Invalid(Cat("'", later, "' (", GetString(o, later), ") ",
                       strict ? "must be later than" : "is earlier than", " '", earlier, "' (",
                       GetString(o, earlier), ")"));
  }
  return absl::OkStatus();
}

// The per-type co-occurrence and ordering rules: checklist items 5 (ordering), 11, 13 and 14 of
// STIX21-objects.md §16; the comments below cite the object sections (§10-§13).
// REQUIRES: o already passed the per-property checks in validate.cc (CheckValue against the
// schema tables), which fixed the JSON types of typed properties; the value_unsafe() calls
// below rely on that (observed-data.objects, body_multipart items, language-content contents).
// Returns the first violation only, as the other validate* checks do.
absl::Status CheckTypeRules(std::string_view type, Kind kind, object o) {
  // §4 ordering table: valid_until strictly after valid_from.
  if (type == "indicator") return CheckOrder(o, "valid_from", "valid_until", true);
  if (type == "campaign" || type == "intrusion-set" || type == "threat-actor" ||
      type == "malware" || type == "infrastructure" || type == "sighting") {
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "first_seen", "last_seen", false));
  }
  if (type == "malware") {
    bool fam = false;
    if (!o["is_family"].get_bool().get(fam) && fam && !Has(o, "name")) {
      return Invalid("malware: 'name' is required when 'is_family' is true");
    }
  } else if (type == "observed-data") {
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "first_observed", "last_observed", false));
    // §10.14: exactly one of objects (deprecated, §9) or object_refs.
    bool objs = Has(o, "objects"), refs = Has(o, "object_refs");
    if (objs == refs) {
      return Invalid("observed-data needs exactly one of 'objects' or 'object_refs'");
    }
    if (objs) {
      object c = o["objects"].get_object().value_unsafe();
      for (auto f : c) {
        object sco;
        if (f.value.get_object().get(sco) || GetString(sco, "type").empty()) {
          return Invalid(
              Cat("observed-data 'objects' entry \"", f.key, "\" must be an object with a 'type'"));
        }
      }
    }
  } else if (type == "relationship") {
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "start_time", "stop_time", true));
    // Relationship types are open vocabulary but must be lower-case with '-' (§11.1); source and
    // target must be SDOs or SCOs, never SROs or meta objects (checklist item 11).
    std::string_view rt = GetString(o, "relationship_type");
    if (rt.empty() ||
        !std::all_of(rt.begin(), rt.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; })) {
      return Invalid(Cat("'relationship_type' must use only a-z, 0-9 and '-', found \"", rt, "\""));
    }
    for (std::string_view k : {"source_ref", "target_ref"}) {
      std::string_view t = IdType(GetString(o, k));
      if (t == "relationship" || t == "sighting" || t == "bundle" || t == "language-content" ||
          t == "marking-definition" || t == "extension-definition") {
        return Invalid(
            Cat("relationship '", k, "' must reference an SDO or SCO, found ", GetString(o, k)));
      }
    }
  } else if (type == "sighting") {
    // §11.2: sighting_of_ref names an SDO only (an SCO is sighted through observed-data).
    std::string_view t = IdType(GetString(o, "sighting_of_ref"));
    if (IsSco(t) || t == "relationship" || t == "sighting" || t == "bundle" ||
        t == "language-content" || t == "marking-definition" || t == "extension-definition") {
      return Invalid(Cat("sighting 'sighting_of_ref' must reference an SDO, found ",
                         GetString(o, "sighting_of_ref")));
    }
  } else if (type == "location") {
    // §10.10: region, country, or a lat/long pair; precision only with coordinates.
    bool lat = Has(o, "latitude"), lon = Has(o, "longitude");
    if (lat != lon) return Invalid("location: 'latitude' and 'longitude' must be given together");
    if (Has(o, "precision") && !lat) {
      return Invalid("location: 'precision' requires 'latitude' and 'longitude'");
    }
    if (!lat && !Has(o, "region") && !Has(o, "country")) {
      return Invalid(
          "location needs at least one of 'region', 'country', or 'latitude'+'longitude'");
    }
  } else if (type == "malware-analysis") {
    if (!Has(o, "result") && !Has(o, "analysis_sco_refs")) {
      return Invalid("malware-analysis needs at least one of 'result' or 'analysis_sco_refs'");
    }
  } else if (type == "artifact") {
    // §12.1: the payload is inline (payload_bin) or by reference (url), never both; a url needs
    // hashes so the fetched bytes can be checked.
    bool bin = Has(o, "payload_bin"), url = Has(o, "url");
    if (bin == url) return Invalid("artifact needs exactly one of 'payload_bin' or 'url'");
    if (url && !Has(o, "hashes"))
      return Invalid("artifact: 'hashes' is required when 'url' is present");
    if (Has(o, "decryption_key") && !Has(o, "encryption_algorithm")) {
      return Invalid("artifact: 'decryption_key' requires 'encryption_algorithm'");
    }
  } else if (type == "file") {
    if (!Has(o, "hashes") && !Has(o, "name"))
      return Invalid("file needs at least one of 'hashes' or 'name'");
  } else if (type == "network-traffic") {
    if (!Has(o, "src_ref") && !Has(o, "dst_ref")) {
      return Invalid("network-traffic needs at least one of 'src_ref' or 'dst_ref'");
    }
    bool active = false;
    if (!o["is_active"].get_bool().get(active) && active && Has(o, "end")) {
      return Invalid("network-traffic: 'end' must not be present when 'is_active' is true");
    }
    ACCORD_RETURN_IF_ERROR(CheckOrder(o, "start", "end", false));
  } else if (type == "email-message") {
    // §12.6: is_multipart decides between body and body_multipart.
    bool multi = false;
    if (o["is_multipart"].get_bool().get(multi)) multi = false;
    if (multi && Has(o, "body"))
      return Invalid("email-message: 'body' must not be used when 'is_multipart' is true");
    if (!multi && Has(o, "body_multipart")) {
      return Invalid(
          "email-message: 'body_multipart' must not be used when 'is_multipart' is false");
    }
    array parts;
    if (!o["body_multipart"].get_array().get(parts)) {
      size_t i = 0;
      for (element p : parts) {
        object part = p.get_object().value_unsafe();
        if (Has(part, "body") == Has(part, "body_raw_ref")) {
          return Invalid(Cat("email MIME part (body_multipart item ", i,
                             ") needs exactly one of 'body' or 'body_raw_ref'"));
        }
        if (Has(part, "body_raw_ref")) {
          ACCORD_RETURN_IF_ERROR(CheckIdentifier(part["body_raw_ref"].value_unsafe(),
                                                 "body_multipart.body_raw_ref",
                                                 {"artifact", "file"}));
        }
        ++i;
      }
    }
    object headers;
    if (!o["additional_header_fields"].get_object().get(headers)) {
      for (auto f : headers) {
        // §12.6 says values are lists of strings; a bare string is accepted too (lenient), and list
        // items are not inspected here.
        if (f.value.type() != element_type::STRING && f.value.type() != element_type::ARRAY) {
          return Invalid(Cat("email-message 'additional_header_fields' value for \"", f.key,
                             "\" must be a list of strings"));
        }
      }
    }
  } else if (type == "process" || type == "user-account" || type == "windows-registry-key" ||
             type == "x509-certificate") {
    // §12.13, §12.16-§12.18 have no required property but must not be empty (item 11).
    if (SpecificPropertyCount(o) == 0) {
      return Invalid(Cat(type, " needs at least one property besides the common ones"));
    }
  } else if (type == "marking-definition") {
    // Checklist item 13: a marking-definition must not mark itself; the TLP rules follow in
    // CheckMarkingDefinition (§7.1, §7.2).
    std::string_view id = GetString(o, "id");
    array refs;
    if (!o["object_marking_refs"].get_array().get(refs)) {
      for (element r : refs) {
        if (StrOr(r) == id) {
          return Invalid("a marking-definition must not list itself in 'object_marking_refs'");
        }
      }
    }
    return CheckMarkingDefinition(o, id);
  } else if (type == "extension-definition") {
    // Checklist item 14 (§8.2): extension_properties only with toplevel-property-extension.
    if (Has(o, "extension_properties")) {
      bool toplevel = false;
      array types;
      if (o["extension_types"].get_array().get(types)) types = array();
      for (element t : types) {
        if (StrOr(t) == "toplevel-property-extension") toplevel = true;
      }
      if (!toplevel) {
        return Invalid(
            "extension-definition: 'extension_properties' may be used only with "
            "extension type \"toplevel-property-extension\"");
      }
    }
  } else if (type == "language-content") {
    // §13.1: contents maps language tags to objects of translated properties.
    object contents = o["contents"].get_object().value_unsafe();
    if (contents.size() == 0) return Invalid("language-content 'contents' must not be empty");
    for (auto f : contents) {
      if (f.value.type() != element_type::OBJECT) {
        return Invalid(Cat("language-content 'contents' entry \"", f.key,
                           "\" must be an object of translated properties"));
      }
    }
  }
  (void)kind;
  return absl::OkStatus();
}

}  // namespace accord::stix::detail
