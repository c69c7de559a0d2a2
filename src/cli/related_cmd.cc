// accord related ID | --value V: what shares a value, through the value index (issue 15).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "accord/common/strings.h"
#include "accord/correlate/terms.h"
#include "accord/formats/text.h"
#include "accord/stix/reader.h"
#include "cli/cli.h"
#include "cli/egress.h"

namespace accord::cli {
namespace {

struct RelatedFlags {
  std::string id;
  std::string value;
  uint64_t limit = 20;  // objects listed per value
  bool json = false;
};

// What a hit is, for the counts: indicators, observables (SCOs and observed-data),
// sightings, reports (and notes, groupings, opinions), other.
std::string_view CategoryOf(std::string_view type) {
  if (type == "indicator") return "indicators";
  if (type == "sighting") return "sightings";
  if (type == "report" || type == "note" || type == "grouping" || type == "opinion") {
    return "reports";
  }
  if (type == "observed-data" || stix::IsScoType(type)) return "observables";
  return "other";
}

// One looked-up value and what holds it (latest version per object, admitted by the gate).
struct Group {
  std::string term;
  std::map<std::string, store::TermHit> objects;  // by id
};

int Related(const Globals& g, const RelatedFlags& f) {
  if (f.id.empty() == f.value.empty()) {
    return Fail(absl::InvalidArgumentError("name an object ID or --value V (one of them)"));
  }
  auto s = OpenDataStore(g, false);
  if (!s.ok()) return Fail(s.status());
  auto t0 = std::chrono::steady_clock::now();
  auto current = (*s)->ValueIndexCurrent();
  if (!current.ok()) return Fail(current.status());
  if (!*current) {
    std::cerr << "accord: indexing the versions stored before the value index existed (once)\n";
    auto n = (*s)->Reindex();
    if (!n.ok()) return Fail(n.status());
  }
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);

  // The terms to look up, and for a range query (a CIDR) the address range.
  std::vector<std::string> terms;
  std::string lo, hi;
  std::string query;
  if (!f.value.empty()) {
    auto v = formats::ClassifyToken(f.value);
    if (!v) {
      return Fail(absl::InvalidArgumentError(common::Cat(
          "--value '", f.value,
          "' is no IPv4/IPv6 address, CIDR, domain, URL, e-mail address, hash or CVE id")));
    }
    query = correlate::TermOf(*v);
    terms = correlate::QueryTerms(*v);
    correlate::AddressRange(*v, &lo, &hi);
  } else {
    // The object itself comes through the gate like any read.
    auto got =
        egress.reader.Get(f.id, store::VersionSelect::kLast, egress.audience, policy::Exit::kGet);
    if (!got.ok()) return Fail(got.status());
    if (got->objects.empty()) {
      return Fail(absl::NotFoundError(common::Cat("no object ", f.id, " this operator may read")));
    }
    query = f.id;
    stix::ReaderOptions ro;
    ro.check_sco_ids = false;
    std::vector<stix::ObjectRecord> recs;
    (void)stix::ReadBuffer(
        got->objects[0].json, ro,
        [&](stix::ObjectRecord&& r) {
          recs.push_back(std::move(r));
          return absl::OkStatus();
        },
        [](stix::Problem&&) {});
    if (!recs.empty()) correlate::DeriveTerms(recs[0], &terms);
    // What refers to it (reports, sightings), and for an address what CIDRs hold it.
    std::vector<std::string> more = {common::Cat("ref:", f.id)};
    for (const auto& t : terms) {
      auto [kind, value] = correlate::SplitTerm(t);
      if (kind == "ipv4" || kind == "ipv6") {
        auto v = formats::ClassifyToken(value);
        if (v) {
          for (auto& q : correlate::QueryTerms(*v)) more.push_back(std::move(q));
        }
      }
    }
    for (auto& m : more) {
      if (std::find(terms.begin(), terms.end(), m) == terms.end()) terms.push_back(std::move(m));
    }
  }
  // PERF: a few hundred lookups of the (term, vid) key at most, plus one range scan.
  constexpr uint64_t kScan = 10000;  // versions read per term
  auto hits = (*s)->FindTerms(terms, kScan);
  if (!hits.ok()) return Fail(hits.status());
  if (!lo.empty()) {
    auto range = (*s)->FindTermRange(lo, hi, kScan);
    if (!range.ok()) return Fail(range.status());
    hits->insert(hits->end(), range->begin(), range->end());
  }
  std::map<std::string, Group> groups;
  std::set<std::string> ids;
  for (auto& h : *hits) {
    if (h.id == f.id) continue;  // the object asked about
    std::string term = h.term;
    if (term.rfind("ipv4n:", 0) == 0) {
      // An address in the CIDR asked about: named as the address.
      auto v = formats::ClassifyToken(common::Cat(std::stoul(term.substr(6, 2), nullptr, 16), ".",
                                                  std::stoul(term.substr(8, 2), nullptr, 16), ".",
                                                  std::stoul(term.substr(10, 2), nullptr, 16), ".",
                                                  std::stoul(term.substr(12, 2), nullptr, 16)));
      if (v) term = correlate::TermOf(*v);
    }
    Group& gr = groups[term];
    gr.term = term;
    auto [it, fresh] = gr.objects.emplace(h.id, h);
    if (!fresh && h.modified > it->second.modified) it->second = h;
    ids.insert(h.id);
  }
  // Only what this operator may read is counted and named.
  std::set<std::string> admitted;
  if (!ids.empty()) {
    store::Query q;
    q.ids.assign(ids.begin(), ids.end());
    q.versions = store::VersionSelect::kLast;
    q.include_revoked = true;
    auto page = egress.reader.List(q, egress.audience, policy::Exit::kListJson);
    if (!page.ok()) return Fail(page.status());
    egress.Count(*page);
    for (const auto& o : page->objects) admitted.insert(o.id);
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json out;
  out["query"] = query;
  out["values"] = nlohmann::ordered_json::array();
  size_t shown_groups = 0;
  for (auto& [term, gr] : groups) {
    std::map<std::string, uint64_t> counts;
    std::vector<const store::TermHit*> listed;
    for (const auto& [id, h] : gr.objects) {
      if (!admitted.count(id)) continue;
      ++counts[std::string(CategoryOf(h.type))];
      if (listed.size() < f.limit) listed.push_back(&h);
    }
    if (counts.empty()) continue;
    ++shown_groups;
    auto [kind, value] = correlate::SplitTerm(term);
    if (f.json) {
      nlohmann::ordered_json j;
      j["kind"] = kind == "ref" ? "refers-to" : kind;
      j["value"] = value;
      j["counts"] = counts;
      j["objects"] = nlohmann::ordered_json::array();
      for (const auto* h : listed) {
        j["objects"].push_back({{"id", h->id},
                                {"type", h->type},
                                {"modified", common::FormatTimestampMillis(h->modified)},
                                {"revoked", h->revoked}});
      }
      out["values"].push_back(std::move(j));
    } else {
      std::cout << (kind == "ref" ? "refers to " : kind + " ") << value << ":";
      for (const auto& [c, n] : counts) std::cout << " " << n << " " << c;
      std::cout << "\n";
      for (const auto* h : listed) {
        std::cout << "  " << h->id << "  " << common::FormatTimestampMillis(h->modified)
                  << (h->revoked ? "  revoked" : "") << "\n";
      }
    }
  }
  if (f.json) {
    out["elapsed_ms"] = ms;
    std::cout << out.dump() << "\n";
  } else if (shown_groups == 0) {
    std::cout << "nothing shares a value with " << query << "\n";
  }
  return 0;
}

}  // namespace

void RegisterRelatedCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "related",
      "What shares a value with an object or a value: indicators, observables, sightings and "
      "reports, with counts (the value index; docs/FORMATS.md)");
  AddDataOption(cmd, g);
  auto f = std::make_shared<RelatedFlags>();
  cmd->add_option("id", f->id, "A STIX object id");
  cmd->add_option("--value", f->value,
                  "A value: an address, CIDR, domain, URL, e-mail address, hash or CVE id");
  cmd->add_option("--limit", f->limit, "Objects listed per shared value")->capture_default_str();
  cmd->add_flag("--json", f->json, "Machine-readable output");
  cmd->callback([g, f, exit_code] { *exit_code = Related(*g, *f); });
}

}  // namespace accord::cli
