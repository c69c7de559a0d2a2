#include "accord/policy/granular.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "accord/common/strings.h"
#include "accord/policy/redaction.h"
#include "accord/stix/reader.h"

namespace accord::policy {

namespace {

using Json = nlohmann::ordered_json;

// One selector's components (STIX21-objects.md §7.4): a property name or dictionary key, or a
// list index written `[n]`.
struct Step {
  std::string key;
  std::optional<size_t> index;
};

std::optional<std::vector<Step>> ParseSelector(std::string_view selector) {
  std::vector<Step> steps;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(selector.data(), selector.size()), '.')) {
    Step s;
    if (part.size() >= 3 && part.front() == '[' && part.back() == ']') {
      size_t n = 0;
      if (!absl::SimpleAtoi(part.substr(1, part.size() - 2), &n)) return std::nullopt;
      s.index = n;
    } else if (part.empty()) {
      return std::nullopt;
    } else {
      s.key = std::string(part);
    }
    steps.push_back(std::move(s));
  }
  if (steps.empty() || steps.front().index) return std::nullopt;
  return steps;
}

// The node `steps` select under `root`, or null when they select nothing present.
Json* Resolve(Json& root, const std::vector<Step>& steps) {
  Json* at = &root;
  for (const Step& s : steps) {
    if (at->is_discarded()) return at;  // within a part already withheld
    if (s.index) {
      if (!at->is_array() || *s.index >= at->size()) return nullptr;
      at = &(*at)[*s.index];
    } else {
      if (!at->is_object()) return nullptr;
      auto it = at->find(s.key);
      if (it == at->end()) return nullptr;
      at = &*it;
    }
  }
  return at;
}

// Removes every node marked discarded: properties from their objects, items from their lists;
// a list that loses all its items goes too (STIX lists are never empty).
void Sweep(Json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      bool emptied = false;
      if (!it->is_discarded()) {
        const bool was_full = it->is_array() && !it->empty();
        Sweep(*it);
        emptied = was_full && it->empty();
      }
      if (it->is_discarded() || emptied) {
        it = j.erase(it);
      } else {
        ++it;
      }
    }
  } else if (j.is_array()) {
    Json kept = Json::array();
    for (Json& v : j) {
      if (v.is_discarded()) continue;
      const bool was_full = v.is_array() && !v.empty();
      Sweep(v);
      if (was_full && v.empty()) continue;
      kept.push_back(std::move(v));
    }
    j = std::move(kept);
  }
}

// `selector` in the copy: its list indexes lowered by the items removed before them in the
// same list; nullopt when it lies within (or is) removed content.
std::optional<std::string> Remap(const std::string& selector,
                                 const std::set<std::string>& removed) {
  std::optional<std::vector<Step>> steps = ParseSelector(selector);
  if (!steps) return std::nullopt;
  std::string orig, now;
  for (const Step& s : *steps) {
    if (!s.index) {
      common::Append(&orig, orig.empty() ? "" : ".", s.key);
      common::Append(&now, now.empty() ? "" : ".", s.key);
    } else {
      const std::string list = orig + ".[";
      size_t before = 0;
      for (const std::string& r : removed) {
        size_t m = 0;
        if (r.size() > list.size() + 1 && r.compare(0, list.size(), list) == 0 && r.back() == ']' &&
            absl::SimpleAtoi(absl::string_view(r).substr(list.size(), r.size() - list.size() - 1),
                             &m) &&
            m < *s.index) {
          ++before;
        }
      }
      common::Append(&orig, ".[", *s.index, "]");
      common::Append(&now, ".[", *s.index - before, "]");
    }
    if (removed.count(orig)) return std::nullopt;
  }
  return now;
}

// "TLP:RED", as people write it.
std::string Label(Tlp tlp) {
  return "TLP:" +
         absl::AsciiStrToUpper(absl::string_view(TlpName(tlp).data(), TlpName(tlp).size()));
}

}  // namespace

bool MayHaveGranularTlp(std::string_view object_json) {
  return object_json.find("\"granular_markings\"") != std::string_view::npos;
}

PartsResult WithholdMarkedParts(std::string_view object_json,
                                const std::function<bool(Tlp)>& may_see) {
  PartsResult out;
  if (!MayHaveGranularTlp(object_json)) return out;
  Json o = Json::parse(object_json, nullptr, false);
  if (o.is_discarded() || !o.is_object()) {
    out.kind = PartsResult::Kind::kDropped;
    out.reason = "not a JSON object";
    return out;
  }
  auto gm = o.find("granular_markings");
  if (gm == o.end() || !gm->is_array()) return out;

  // The selectors of every marking the audience may not see, in the order they appear.
  std::vector<std::pair<std::string, Tlp>> withheld;
  for (const Json& g : *gm) {
    if (!g.is_object() || !g.contains("marking_ref") || !g["marking_ref"].is_string()) continue;
    std::optional<Tlp> tlp = TlpOfMarking(g["marking_ref"].get_ref<const std::string&>());
    if (!tlp || may_see(*tlp)) continue;
    if (!g.contains("selectors") || !g["selectors"].is_array()) continue;
    for (const Json& s : g["selectors"]) {
      if (s.is_string()) withheld.emplace_back(s.get<std::string>(), *tlp);
    }
  }
  if (withheld.empty()) return out;

  std::set<std::string> removed;
  std::vector<std::string> lines;
  for (const auto& [selector, tlp] : withheld) {
    if (selector == "id") {
      out.kind = PartsResult::Kind::kDropped;
      out.reason = common::Cat("its granular ", Label(tlp), " marking selects the object");
      return out;
    }
    // A selector that selects nothing present breaks a STIX rule, and what it was meant to
    // cover cannot be told: fail closed.
    std::optional<std::vector<Step>> steps = ParseSelector(selector);
    Json* node = steps ? Resolve(o, *steps) : nullptr;
    if (!node) {
      out.kind = PartsResult::Kind::kDropped;
      out.reason = common::Cat("its granular ", Label(tlp), " marking selects '", selector,
                               "', which it does not have (what it covers cannot be told)");
      return out;
    }
    if (node->is_discarded()) continue;  // selected twice
    *node = Json(Json::value_t::discarded);
    removed.insert(selector);
    lines.push_back(common::Cat("removed '", selector, "' (granular ", Label(tlp), ")"));
  }
  if (removed.empty()) return out;

  Sweep(o);
  // The granular markings left must select only what is still there (STIX forbids selectors
  // that point at nothing), at the indexes the items have now; those left selecting nothing go.
  Json kept = Json::array();
  if (o.contains("granular_markings") && o["granular_markings"].is_array()) {
    for (Json& g : o["granular_markings"]) {
      if (!g.is_object() || !g.contains("selectors") || !g["selectors"].is_array()) continue;
      Json selectors = Json::array();
      for (const Json& s : g["selectors"]) {
        if (!s.is_string()) continue;
        std::optional<std::string> now = Remap(s.get<std::string>(), removed);
        if (!now) continue;
        std::optional<std::vector<Step>> steps = ParseSelector(*now);
        if (steps && Resolve(o, *steps)) selectors.push_back(*now);
      }
      if (selectors.empty()) continue;
      g["selectors"] = std::move(selectors);
      kept.push_back(std::move(g));
    }
  }
  if (kept.empty()) {
    o.erase("granular_markings");
  } else {
    o["granular_markings"] = std::move(kept);
  }
  Json& ext = o["extensions"][std::string(kRedactionExtension)];
  ext["extension_type"] = "property-extension";
  ext["markings"] = lines;
  std::string copy = o.dump();

  // The copy must still be a STIX object (a required property may have been the part).
  stix::ReaderOptions ro;
  ro.source_name = "the copy";
  ro.check_sco_ids = false;
  std::string problem;
  uint64_t accepted = 0;
  absl::StatusOr<stix::ReadStats> read = stix::ReadBuffer(
      copy, ro,
      [&](stix::ObjectRecord&&) {
        ++accepted;
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) {
        if (!p.warning && problem.empty()) problem = p.message;
      });
  if (!read.ok() || accepted != 1) {
    out.kind = PartsResult::Kind::kDropped;
    out.reason = common::Cat("without its ", absl::StrJoin(removed, ", "),
                             " (granular markings) it is no valid STIX object: ",
                             problem.empty() ? std::string(read.status().message()) : problem);
    return out;
  }
  out.kind = PartsResult::Kind::kRedacted;
  out.json = std::move(copy);
  out.reason = absl::StrJoin(lines, "; ");
  return out;
}

}  // namespace accord::policy
