#include "accord/web/sightings_api.h"

#include <simdjson.h>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "accord/common/status.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/federation/node.h"
#include "accord/federation/peers.h"
#include "accord/http/message.h"
#include "accord/policy/egress_reader.h"
#include "accord/web/session.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

constexpr int64_t kDefaultDays = 30, kMaxDays = 366;
constexpr uint64_t kTopIndicators = 10, kBatch = 1000;
constexpr common::Micros kSightingsDay = 86400LL * 1000000;

// Counts per day of the window, and their sum.
struct Series {
  uint64_t total = 0;
  std::vector<uint64_t> per_day;
  void Add(size_t day, uint64_t n, size_t days) {
    if (per_day.empty()) per_day.assign(days, 0);
    per_day[day] += n;
    total += n;
  }
};

// Who is who: identities of this node and its peers, and the collections peers' objects land in.
struct Names {
  std::map<std::string, std::string> identity;            // identity id -> name to show
  std::map<std::string, std::string> peer_of_collection;  // landing collection -> peer
};

absl::StatusOr<Names> LoadNames(store::Store& store) {
  Names n;
  ACCORD_ASSIGN_OR_RETURN(std::optional<federation::NodeInfo> node, federation::LoadNode(store));
  if (node) n.identity[node->identity] = common::Cat(node->name, " (this node)");
  ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(store));
  for (const federation::Peer& p : peers) {
    n.identity[p.identity] = p.name;
    ACCORD_ASSIGN_OR_RETURN(auto agreement, federation::CurrentAgreement(store, p.name));
    if (agreement && !agreement->accept.into.empty()) {
      n.peer_of_collection[agreement->accept.into] = p.name;
    }
  }
  return n;
}

// One sighting's counted parts; false when it has no first_seen or sighting_of_ref to count by.
struct Seen {
  std::string of, source;
  uint64_t count = 1;
  common::Micros first_seen = 0;
};

bool ReadSighting(const std::string& json, Seen* s) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return false;
  std::string_view v;
  if (doc["sighting_of_ref"].get_string().get(v) != simdjson::SUCCESS) return false;
  s->of = std::string(v);
  if (doc["first_seen"].get_string().get(v) != simdjson::SUCCESS) return false;
  absl::StatusOr<common::Micros> t = common::ParseRfc3339(v);
  if (!t.ok()) return false;
  s->first_seen = *t;
  int64_t count = 1;
  if (doc["count"].get_int64().get(count) == simdjson::SUCCESS && count >= 0) {
    s->count = static_cast<uint64_t>(count);
  }
  simdjson::dom::array where;
  if (doc["where_sighted_refs"].get_array().get(where) == simdjson::SUCCESS && where.size() > 0 &&
      where.at(0).get_string().get(v) == simdjson::SUCCESS) {
    s->source = std::string(v);
  } else if (doc["created_by_ref"].get_string().get(v) == simdjson::SUCCESS) {
    s->source = std::string(v);
  }
  return true;
}

nlohmann::json SeriesJson(const Series& s, size_t days) {
  return {{"total", s.total},
          {"series", s.per_day.empty() ? std::vector<uint64_t>(days, 0) : s.per_day}};
}

// Largest total first, then by key, at most `max` (0: all).
std::vector<std::pair<std::string, const Series*>> Ranked(const std::map<std::string, Series>& m,
                                                          size_t max) {
  std::vector<std::pair<std::string, const Series*>> out;
  out.reserve(m.size());
  for (const auto& [k, s] : m) out.emplace_back(k, &s);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second->total > b.second->total; });
  if (max && out.size() > max) out.resize(max);
  return out;
}

struct Totals {
  Series all;
  std::map<std::string, Series> indicators, sources, peers;
  uint64_t sightings = 0;  // counted
  uint64_t read = 0;       // read, counted or not
  bool truncated = false;
  audit::Entry entry;  // what the counts were made of
};

// Reads and counts the sightings; false when it answered (403, 500).
bool Count(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res,
           const Names& names, const std::string& indicator, common::Micros first, size_t days,
           Totals* t) {
  auto collections = deps.store->ListCollections();
  if (!collections.ok()) {
    Failed(ctx, res, "read", collections.status());
    return false;
  }
  // One indicator's sightings are found through the value index (the sightings that refer to
  // it), not by reading every sighting: 587 ms -> a few ms on a node of 1M objects.
  std::vector<std::string> ids;
  bool none = false;  // no sighting refers to the indicator: nothing to read
  if (!indicator.empty()) {
    auto hits = deps.store->FindTerms({common::Cat("ref:", indicator)}, kMaxSightingsRead);
    if (hits.ok()) {
      for (const store::TermHit& h : *hits) {
        if (h.type == "sighting") ids.push_back(h.id);
      }
      none = ids.empty();
    } else if (!absl::IsUnimplemented(hits.status())) {
      Failed(ctx, res, "read", hits.status());
      return false;
    }
  }
  policy::EgressReader reader(deps.store, deps.gate);
  policy::GatedPage all;
  for (const store::CollectionInfo& c : *collections) {
    if (none) break;
    if (!MayReadCollection(ctx.principal, c)) continue;
    std::string peer;
    for (const std::string& key : {c.id, c.alias}) {
      auto it = names.peer_of_collection.find(key);
      if (!key.empty() && it != names.peer_of_collection.end()) peer = it->second;
    }
    store::Query q;
    q.collection = c.id;
    q.types = {"sighting"};
    q.ids = ids;  // empty: every sighting
    q.versions = store::VersionSelect::kLast;
    q.added_after = first - 1;
    q.limit = kBatch;
    for (bool more = true; more;) {
      if (t->read >= kMaxSightingsRead) {
        t->truncated = true;
        break;
      }
      absl::StatusOr<policy::GatedPage> page =
          reader.List(q, AudienceOf(ctx.principal), policy::Exit::kUiSightings);
      if (!page.ok()) {
        ReadFailed(ctx, res, page.status());
        return false;
      }
      MergeTotals(*page, &all);
      t->read += page->objects.size();
      for (const store::StoredObject& o : page->objects) {
        Seen s;
        if (!ReadSighting(o.json, &s) || s.first_seen < first) continue;
        if (!indicator.empty() && s.of != indicator) continue;
        const size_t day = static_cast<size_t>((s.first_seen - first) / kSightingsDay);
        if (day >= days) continue;  // first seen after today: a clock elsewhere runs ahead
        t->all.Add(day, s.count, days);
        t->indicators[s.of].Add(day, s.count, days);
        t->sources[s.source].Add(day, s.count, days);
        t->peers[peer].Add(day, s.count, days);
        ++t->sightings;
        if (t->entry.objects.size() < audit::kMaxVersionsPerEntry) {
          t->entry.objects.push_back(o.id, o.modified);
        }
      }
      more = page->more;
      q.cursor = page->next;
    }
  }
  audit::Entry e =
      policy::EgressEntry(AudienceOf(ctx.principal), policy::Exit::kUiSightings, "", {}, all);
  e.objects = std::move(t->entry.objects);
  e.detail =
      common::Cat(t->sightings, " sightings counted", e.detail.empty() ? "" : "; ", e.detail);
  t->entry = std::move(e);
  return true;
}

// The names of `ids` the caller may read (the latest version of each), through the same exit.
// Each version named is added to `entry` (it leaves with the answer).
std::map<std::string, std::string> IndicatorNames(const ReadApiDeps& deps,
                                                  http::RequestContext& ctx,
                                                  const std::vector<std::string>& ids,
                                                  audit::Entry* entry) {
  std::map<std::string, std::string> out;
  if (ids.empty()) return out;
  auto collections = deps.store->ListCollections();
  if (!collections.ok()) return out;
  policy::EgressReader reader(deps.store, deps.gate);
  for (const store::CollectionInfo& c : *collections) {
    if (!MayReadCollection(ctx.principal, c)) continue;
    store::Query q;
    q.collection = c.id;
    q.ids = ids;
    q.include_revoked = true;
    auto page = reader.List(q, AudienceOf(ctx.principal), policy::Exit::kUiSightings);
    if (!page.ok()) continue;
    for (const store::StoredObject& o : page->objects) {
      std::string name = NameOf(o.json);
      if (name.empty()) continue;
      out[o.id] = std::move(name);
      entry->objects.push_back(o.id, o.modified);
    }
  }
  return out;
}

void Answer(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return;
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad request", std::string(params.status().message()));
    return;
  }
  int64_t days = kDefaultDays;
  std::string indicator;
  for (const auto& [k, v] : *params) {
    if (k == "days") {
      if (!absl::SimpleAtoi(v, &days) || days < 1 || days > kMaxDays) {
        res = ctx.Error(400, "Bad request", common::Cat("days must be 1 to ", kMaxDays));
        return;
      }
    } else if (k == "indicator") {
      indicator = v;
    } else {
      res = ctx.Error(400, "Bad request", common::Cat("unknown parameter '", k, "'"));
      return;
    }
  }
  if (!ExitOpen(deps.gate, ctx, res, policy::Exit::kUiSightings)) return;
  absl::StatusOr<Names> names = LoadNames(*deps.store);
  if (!names.ok()) return Failed(ctx, res, "read", names.status());
  const common::Micros today = common::NowMicros() / kSightingsDay * kSightingsDay;
  const common::Micros first = today - (days - 1) * kSightingsDay;
  const size_t n = static_cast<size_t>(days);
  Totals t;
  if (!Count(deps, ctx, res, *names, indicator, first, n, &t)) return;
  auto top = Ranked(t.indicators, kTopIndicators);
  std::vector<std::string> ids;
  ids.reserve(top.size());
  for (const auto& [id, s] : top) ids.push_back(id);
  std::map<std::string, std::string> shown = IndicatorNames(deps, ctx, ids, &t.entry);
  absl::StatusOr<uint64_t> seq = deps.audit->Append(std::move(t.entry));
  if (!seq.ok()) return Failed(ctx, res, "audit", seq.status());

  nlohmann::json body;
  nlohmann::json day_list = nlohmann::json::array();
  for (size_t k = 0; k < n; ++k) {
    day_list.push_back(
        common::FormatTimestamp(first + static_cast<common::Micros>(k) * kSightingsDay)
            .substr(0, 10));
  }
  body["days"] = std::move(day_list);
  body["total"] = SeriesJson(t.all, n);
  body["sightings"] = t.sightings;
  body["truncated"] = t.truncated;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [id, s] : top) {
    nlohmann::json j = SeriesJson(*s, n);
    j["id"] = id;
    j["name"] = shown.count(id) ? shown[id] : "";
    list.push_back(std::move(j));
  }
  body["indicators"] = std::move(list);
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& [id, s] : Ranked(t.sources, 0)) {
    nlohmann::json j = SeriesJson(*s, n);
    j["id"] = id;
    auto it = names->identity.find(id);
    j["name"] = it == names->identity.end() ? "" : it->second;
    sources.push_back(std::move(j));
  }
  body["sources"] = std::move(sources);
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& [peer, s] : Ranked(t.peers, 0)) {
    nlohmann::json j = SeriesJson(*s, n);
    j["peer"] = peer;
    peers.push_back(std::move(j));
  }
  body["peers"] = std::move(peers);
  JsonAnswer(res, 200, body.dump());
}

}  // namespace

void MountSightingsApi(http::Router& router, const ReadApiDeps& deps) {
  router.Add("GET", "/api/ui/v1/sightings",
             [deps](http::RequestContext& ctx, http::Response& res) { Answer(deps, ctx, res); });
}

}  // namespace accord::web
