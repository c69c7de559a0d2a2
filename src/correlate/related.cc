#include "accord/correlate/related.h"

#include <algorithm>

#include "accord/common/strings.h"
#include "accord/correlate/terms.h"
#include "accord/stix/object.h"
#include "accord/stix/reader.h"

namespace accord::correlate {

std::string_view CategoryOf(std::string_view type) {
  if (type == "indicator") return "indicators";
  if (type == "sighting") return "sightings";
  if (type == "report" || type == "note" || type == "grouping" || type == "opinion") {
    return "reports";
  }
  if (type == "observed-data" || stix::IsScoType(type)) return "observables";
  return "other";
}

RelatedQuery ValueQuery(const formats::Value& v) {
  RelatedQuery q;
  q.terms = QueryTerms(v);
  AddressRange(v, &q.lo, &q.hi);
  return q;
}

RelatedQuery ObjectQuery(const std::string& id, const std::string& json) {
  RelatedQuery q;
  q.exclude_id = id;
  stix::ReaderOptions ro;
  ro.check_sco_ids = false;
  std::vector<stix::ObjectRecord> recs;
  (void)stix::ReadBuffer(
      json, ro,
      [&](stix::ObjectRecord&& r) {
        recs.push_back(std::move(r));
        return absl::OkStatus();
      },
      [](stix::Problem&&) {});
  if (!recs.empty()) DeriveTerms(recs[0], &q.terms);
  // What refers to it (reports, sightings), and for an address what CIDRs hold it.
  std::vector<std::string> more = {common::Cat("ref:", id)};
  for (const auto& t : q.terms) {
    auto [kind, value] = SplitTerm(t);
    if (kind == "ipv4" || kind == "ipv6") {
      auto v = formats::ClassifyToken(value);
      if (v) {
        for (auto& term : QueryTerms(*v)) more.push_back(std::move(term));
      }
    }
  }
  for (auto& m : more) {
    if (std::find(q.terms.begin(), q.terms.end(), m) == q.terms.end()) {
      q.terms.push_back(std::move(m));
    }
  }
  return q;
}

absl::StatusOr<std::vector<RelatedGroup>> FindRelated(store::Store& store, const RelatedQuery& q,
                                                      uint64_t scan, size_t limit,
                                                      const AdmitFn& admit) {
  // PERF: a few hundred lookups of the (term, vid) key at most, plus one range scan.
  absl::StatusOr<std::vector<store::TermHit>> hits = store.FindTerms(q.terms, scan);
  if (!hits.ok()) return hits.status();
  if (!q.lo.empty()) {
    auto range = store.FindTermRange(q.lo, q.hi, scan);
    if (!range.ok()) return range.status();
    hits->insert(hits->end(), range->begin(), range->end());
  }
  // By term, the latest version of each object.
  std::map<std::string, std::map<std::string, store::TermHit>> groups;
  std::set<std::string> ids;
  for (store::TermHit& h : *hits) {
    if (h.id == q.exclude_id) continue;
    std::string term = h.term;
    if (term.rfind("ipv4n:", 0) == 0) {
      // An address in the CIDR asked about: named as the address.
      auto v = formats::ClassifyToken(common::Cat(std::stoul(term.substr(6, 2), nullptr, 16), ".",
                                                  std::stoul(term.substr(8, 2), nullptr, 16), ".",
                                                  std::stoul(term.substr(10, 2), nullptr, 16), ".",
                                                  std::stoul(term.substr(12, 2), nullptr, 16)));
      if (v) term = TermOf(*v);
    }
    auto& objects = groups[term];
    auto [it, fresh] = objects.emplace(h.id, h);
    if (!fresh && h.modified > it->second.modified) it->second = h;
    ids.insert(h.id);
  }
  std::set<std::string> admitted;
  if (!ids.empty()) {
    absl::StatusOr<std::set<std::string>> a = admit(ids);
    if (!a.ok()) return a.status();
    admitted = std::move(*a);
  }
  std::vector<RelatedGroup> out;
  for (auto& [term, objects] : groups) {
    RelatedGroup g;
    auto [kind, value] = SplitTerm(term);
    g.kind = kind == "ref" ? "refers-to" : kind;
    g.value = value;
    for (const auto& [id, h] : objects) {
      if (!admitted.count(id)) continue;
      ++g.counts[std::string(CategoryOf(h.type))];
      if (g.listed.size() < limit) g.listed.push_back(h);
    }
    if (!g.counts.empty()) out.push_back(std::move(g));
  }
  return out;
}

}  // namespace accord::correlate
