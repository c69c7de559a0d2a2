#include "accord/policy/tlp.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "accord/common/strings.h"

namespace accord::policy {

std::string_view TlpName(Tlp tlp) {
  switch (tlp) {
    case Tlp::kClear: return "clear";
    case Tlp::kGreen: return "green";
    case Tlp::kAmber: return "amber";
    case Tlp::kAmberStrict: return "amber+strict";
    case Tlp::kRed: return "red";
  }
  return "red";
}

std::string_view TlpMarkingId(Tlp tlp) {
  switch (tlp) {
    case Tlp::kClear: return "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
    case Tlp::kGreen: return "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    case Tlp::kAmber: return "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    case Tlp::kAmberStrict: return "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
    case Tlp::kRed: return "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
  }
  return "";
}

std::optional<Tlp> ParseTlpName(std::string_view name) {
  for (Tlp t : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed}) {
    if (name == TlpName(t)) return t;
  }
  return std::nullopt;
}

namespace {

// TLP 1.0's marking-definition ids (STIX 2.1 §7.2.1.4); "" for AMBER+STRICT, which it lacks.
std::string_view Tlp1MarkingId(Tlp tlp) {
  switch (tlp) {
    case Tlp::kClear: return "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
    case Tlp::kGreen: return "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    case Tlp::kAmber: return "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
    case Tlp::kAmberStrict: return "";
    case Tlp::kRed: return "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
  }
  return "";
}

}  // namespace

std::vector<std::string_view> TlpMarkingIds(Tlp tlp) {
  std::vector<std::string_view> ids = {TlpMarkingId(tlp)};
  if (!Tlp1MarkingId(tlp).empty()) ids.push_back(Tlp1MarkingId(tlp));
  return ids;
}

absl::StatusOr<std::vector<std::string>> MarkingIdsNamed(std::string_view m) {
  std::string name(m);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.rfind("tlp:", 0) == 0) name.erase(0, 4);
  if (std::optional<Tlp> tlp = ParseTlpName(name)) {
    std::vector<std::string> ids;
    for (std::string_view id : TlpMarkingIds(*tlp)) ids.emplace_back(id);
    return ids;
  }
  if (m.rfind("marking-definition--", 0) == 0) return std::vector<std::string>{std::string(m)};
  return absl::InvalidArgumentError(
      common::Cat("marking '", m,
                  "' is no TLP level (clear, green, amber, amber+strict, red) or "
                  "marking-definition id"));
}

std::optional<Tlp> TlpOfMarking(std::string_view id) {
  // TLP 2.0 (OASIS cti-stix-common-objects), then TLP 1.0 (STIX 2.1 §7.2.1.4).
  for (Tlp t : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed}) {
    if (id == TlpMarkingId(t)) return t;
  }
  for (Tlp t : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kRed}) {
    if (id == Tlp1MarkingId(t)) return t;
  }
  return std::nullopt;
}

EgressFacts EgressFactsOf(std::string_view object_json, Tlp default_tlp,
                          std::string_view signature_extension) {
  EgressFacts out;
  // PERF: one parser per thread, reused (this runs for every object leaving for a peer).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(object_json.data(), object_json.size()).get_object().get(obj) !=
      simdjson::SUCCESS) {
    return out;  // cannot tell: RED, never shared
  }
  out.parsed = true;
  std::optional<Tlp> found;
  auto note = [](std::optional<Tlp>* into, std::string_view ref) {
    if (std::optional<Tlp> t = TlpOfMarking(ref)) *into = *into ? std::max(**into, *t) : *t;
  };
  simdjson::dom::array refs;
  if (obj["object_marking_refs"].get_array().get(refs) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : refs) {
      std::string_view ref;
      if (e.get_string().get(ref) == simdjson::SUCCESS) note(&found, ref);
    }
  }
  simdjson::dom::array granular;
  if (obj["granular_markings"].get_array().get(granular) == simdjson::SUCCESS) {
    for (simdjson::dom::element g : granular) {
      std::string_view ref;
      if (g["marking_ref"].get_string().get(ref) == simdjson::SUCCESS) note(&out.granular, ref);
    }
  }
  out.tlp = found.value_or(default_tlp);
  simdjson::dom::object extensions, entry;
  if (!signature_extension.empty() &&
      obj["extensions"].get_object().get(extensions) == simdjson::SUCCESS &&
      extensions[signature_extension].get_object().get(entry) == simdjson::SUCCESS) {
    out.signature_entry = true;
    std::string_view signer;
    if (entry["signer"].get_string().get(signer) == simdjson::SUCCESS) out.signer = signer;
  }
  return out;
}

Tlp TlpOfObject(std::string_view object_json, Tlp default_tlp) {
  EgressFacts f = EgressFactsOf(object_json, default_tlp, {});
  return f.granular ? std::max(f.tlp, *f.granular) : f.tlp;
}

bool TlpAllows(Tlp tlp, const ShareTerms& terms, bool forwarded) {
  if (tlp > terms.max_tlp) return false;
  switch (tlp) {
    case Tlp::kRed: return false;
    case Tlp::kAmberStrict: return terms.same_organization && !forwarded;
    case Tlp::kAmber: return !forwarded;
    case Tlp::kGreen:
    case Tlp::kClear: return !forwarded || terms.forward;
  }
  return false;
}

}  // namespace accord::policy
