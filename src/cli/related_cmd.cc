// accord related ID | --value V: what shares a value, through the value index (issue 15).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "accord/common/strings.h"
#include "accord/correlate/related.h"
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
    std::cerr << "accord: indexing the versions stored before the search indexes existed (once)\n";
    auto n = (*s)->Reindex();
    if (!n.ok()) return Fail(n.status());
  }
  Egress egress(s->get(), g);
  if (!egress.audit_status.ok()) return Fail(egress.audit_status);

  // The terms to look up: a value's, or an object's (read through the gate like any read).
  correlate::RelatedQuery rq;
  std::string query;
  if (!f.value.empty()) {
    auto v = formats::ClassifyToken(f.value);
    if (!v) {
      return Fail(absl::InvalidArgumentError(common::Cat(
          "--value '", f.value,
          "' is no IPv4/IPv6 address, CIDR, domain, URL, e-mail address, hash or CVE id")));
    }
    query = correlate::TermOf(*v);
    rq = correlate::ValueQuery(*v);
  } else {
    auto got =
        egress.reader.Get(f.id, store::VersionSelect::kLast, egress.audience, policy::Exit::kGet);
    if (!got.ok()) return Fail(got.status());
    if (got->objects.empty()) {
      return Fail(absl::NotFoundError(common::Cat("no object ", f.id, " this operator may read")));
    }
    query = f.id;
    rq = correlate::ObjectQuery(f.id, got->objects[0].json);
  }
  constexpr uint64_t kScan = 10000;  // versions read per term
  // Only what this operator may read is counted and named.
  auto admit = [&](const std::set<std::string>& ids) -> absl::StatusOr<std::set<std::string>> {
    store::Query q;
    q.ids.assign(ids.begin(), ids.end());
    q.versions = store::VersionSelect::kLast;
    q.include_revoked = true;
    auto page = egress.reader.List(q, egress.audience, policy::Exit::kListJson);
    if (!page.ok()) return page.status();
    egress.Count(*page);
    std::set<std::string> out;
    for (const auto& o : page->objects) out.insert(o.id);
    return out;
  };
  auto groups = correlate::FindRelated(**s, rq, kScan, f.limit, admit);
  if (!groups.ok()) return Fail(groups.status());
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json out;
  out["query"] = query;
  out["values"] = nlohmann::ordered_json::array();
  for (const correlate::RelatedGroup& gr : *groups) {
    if (f.json) {
      nlohmann::ordered_json j;
      j["kind"] = gr.kind;
      j["value"] = gr.value;
      j["counts"] = gr.counts;
      j["objects"] = nlohmann::ordered_json::array();
      for (const store::TermHit& h : gr.listed) {
        j["objects"].push_back({{"id", h.id},
                                {"type", h.type},
                                {"modified", common::FormatTimestampMillis(h.modified)},
                                {"revoked", h.revoked}});
      }
      out["values"].push_back(std::move(j));
    } else {
      std::cout << (gr.kind == "refers-to" ? "refers to " : gr.kind + " ") << gr.value << ":";
      for (const auto& [c, n] : gr.counts) std::cout << " " << n << " " << c;
      std::cout << "\n";
      for (const store::TermHit& h : gr.listed) {
        std::cout << "  " << h.id << "  " << common::FormatTimestampMillis(h.modified)
                  << (h.revoked ? "  revoked" : "") << "\n";
      }
    }
  }
  if (f.json) {
    out["elapsed_ms"] = ms;
    std::cout << out.dump() << "\n";
  } else if (groups->empty()) {
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
