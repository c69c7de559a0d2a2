// STIX observed-data -> observations (spec digest §6.1).
#include <simdjson.h>

#include "absl/container/flat_hash_map.h"
#include "accord/match/input.h"
#include "accord/stix/ijson.h"
#include "match/input/json_tree.h"

namespace accord::match {

namespace {

// The 2.1 SDO/SRO/meta types: never roots of an object path (spec digest §6.1).
bool IsNonScoType(std::string_view t) {
  static constexpr std::string_view kTypes[] = {"attack-pattern",
                                                "campaign",
                                                "course-of-action",
                                                "grouping",
                                                "identity",
                                                "incident",
                                                "indicator",
                                                "infrastructure",
                                                "intrusion-set",
                                                "location",
                                                "malware",
                                                "malware-analysis",
                                                "note",
                                                "observed-data",
                                                "opinion",
                                                "report",
                                                "threat-actor",
                                                "tool",
                                                "vulnerability",
                                                "relationship",
                                                "sighting",
                                                "marking-definition",
                                                "language-content",
                                                "extension-definition",
                                                "bundle"};
  for (std::string_view k : kTypes) {
    if (k == t) return true;
  }
  return false;
}

void CollectObjects(simdjson::dom::element e, std::vector<simdjson::dom::element>* out, int depth) {
  if (depth > 4) return;
  if (e.is_array()) {
    for (auto x : e.get_array()) CollectObjects(x, out, depth + 1);
    return;
  }
  if (!e.is_object()) return;
  std::string_view type;
  if (e["type"].get(type) == simdjson::SUCCESS && type == "bundle") {
    simdjson::dom::array objs;
    if (e["objects"].get(objs) == simdjson::SUCCESS) {
      for (auto x : objs) out->push_back(x);
    }
    return;
  }
  out->push_back(e);
}

void AddScoObject(Observation* o, simdjson::dom::object obj, std::string_view id) {
  std::string_view type;
  if (obj["type"].get(type) != simdjson::SUCCESS) return;
  if (IsNonScoType(type)) return;
  o->Open();
  for (auto f : obj) detail::AddJson(o, f.key, f.value, 1);
  o->AddSco(o->Close(Node::Kind::kObject), type, id);
}

}  // namespace

absl::Status ObservationsFromStix(std::string_view json, std::vector<Observation>* out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) {
    return absl::InvalidArgumentError(std::string("not JSON: ") + simdjson::error_message(err));
  }
  // I-JSON (RFC 7493): a duplicate key makes the document (or line) malformed.
  ACCORD_RETURN_IF_ERROR(stix::CheckNoDuplicateKeys(root));
  std::vector<simdjson::dom::element> objects;
  CollectObjects(root, &objects, 0);
  absl::flat_hash_map<absl::string_view, simdjson::dom::object> by_id;
  for (auto e : objects) {
    std::string_view id;
    if (e.is_object() && e["id"].get(id) == simdjson::SUCCESS)
      by_id.emplace(absl::string_view(id.data(), id.size()), e.get_object().value_unsafe());
  }
  for (auto e : objects) {
    std::string_view type;
    if (!e.is_object() || e["type"].get(type) != simdjson::SUCCESS || type != "observed-data")
      continue;
    Observation& o = out->emplace_back();
    o.Clear();
    simdjson::dom::element t;
    // A timestamp that does not parse used to be ignored silently (the observation then sat
    // at 1970); it is refused, naming the object.
    std::string_view oid;
    if (e["id"].get(oid) != simdjson::SUCCESS) oid = "observed-data";
    for (const char* key : {"first_observed", "last_observed"}) {
      if (e[key].get(t) != simdjson::SUCCESS) continue;
      common::Micros* at = key[0] == 'f' ? &o.first_observed : &o.last_observed;
      auto ts = detail::ParseTime(t);
      if (!ts.ok()) {
        return absl::InvalidArgumentError(std::string(oid) + ": '" + key +
                                          "': " + std::string(ts.status().message()));
      }
      *at = *ts;
      if (key[0] == 'f') o.last_observed = o.first_observed;
    }
    int64_t n = 1;
    if (e["number_observed"].get(n) == simdjson::SUCCESS && n >= 1) o.number_observed = n;
    simdjson::dom::array refs;
    simdjson::dom::object embedded;
    if (e["object_refs"].get(refs) == simdjson::SUCCESS) {
      for (auto r : refs) {
        std::string_view rid;
        if (r.get(rid) != simdjson::SUCCESS) continue;
        auto it = by_id.find(absl::string_view(rid.data(), rid.size()));
        if (it != by_id.end()) AddScoObject(&o, it->second, rid);
      }
    } else if (e["objects"].get(embedded) == simdjson::SUCCESS) {
      for (auto f : embedded) {
        simdjson::dom::object so;
        if (f.value.get(so) == simdjson::SUCCESS) AddScoObject(&o, so, f.key);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace accord::match
