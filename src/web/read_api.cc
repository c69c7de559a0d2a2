#include "accord/web/read_api.h"

#include <simdjson.h>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/correlate/terms.h"
#include "accord/formats/formats.h"
#include "accord/formats/text.h"
#include "accord/http/message.h"
#include "accord/policy/egress_reader.h"
#include "accord/web/session.h"

namespace accord::web {
namespace {

constexpr uint64_t kDefaultLimit = 50, kMaxLimit = 500;
constexpr uint64_t kScan = 10000;  // index rows read per term (as `accord related`)

void Quoted(std::string* out, std::string_view s) {
  out->push_back('"');
  common::AppendJsonEscaped(out, s);
  out->push_back('"');
}

void Json(http::Response& res, std::string body) {
  res.status = 200;
  res.SetHeader("Content-Type", "application/json");
  res.SetHeader("Cache-Control", "no-store");
  for (auto& [name, value] : SecurityHeaders()) res.SetHeader(name, value);
  res.body = std::move(body);
}

std::string NameOf(const std::string& json) {
  thread_local simdjson::dom::parser parser;
  std::string_view name;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return {};
  if (doc["name"].get_string().get(name) == simdjson::SUCCESS) return std::string(name);
  return {};
}

struct Found {
  store::StoredObject object;
  std::vector<std::string> collections;
};

void Search(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  const http::Principal& who = ctx.principal;
  if (who.anonymous()) {
    res = ctx.Error(401, "Unauthorized", "sign in first");
    return;
  }
  if (who.role == http::Role::kPeer) {
    res = ctx.Error(403, "Forbidden", "the UI's API is for people; a peer reads over TAXII");
    return;
  }
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad request", std::string(params.status().message()));
    return;
  }
  std::string value;
  uint64_t limit = kDefaultLimit;
  for (const auto& [k, v] : *params) {
    if (k == "value") {
      value = v;
    } else if (k == "limit") {
      if (!absl::SimpleAtoi(v, &limit) || limit == 0 || limit > kMaxLimit) {
        res = ctx.Error(400, "Bad request",
                        common::Cat("limit must be a number from 1 to ", kMaxLimit));
        return;
      }
    } else {
      res = ctx.Error(400, "Bad request", common::Cat("unknown parameter '", k, "'"));
      return;
    }
  }
  std::optional<formats::Value> v = formats::ClassifyToken(formats::Refang(value));
  if (!v) {
    res = ctx.Error(400, "Bad request",
                    common::Cat("'", value,
                                "' is no IPv4/IPv6 address, CIDR, domain, URL, e-mail address, "
                                "hash or CVE id"));
    return;
  }
  const policy::Audience audience =
      policy::Audience::User(who.user, std::string(http::RoleName(who.role)));
  policy::EgressReader reader(deps.store, deps.gate);
  // A closed exit (lockdown, an auditor) is refused before anything is looked up.
  if (absl::Status open = deps.gate->CheckExit(audience, policy::Exit::kUiSearch); !open.ok()) {
    res = ctx.Error(403, "Forbidden", std::string(open.message()));
    return;
  }
  auto hits = deps.store->FindTerms(correlate::QueryTerms(*v), kScan);
  std::string lo, hi;
  if (hits.ok() && correlate::AddressRange(*v, &lo, &hi)) {
    auto range = deps.store->FindTermRange(lo, hi, kScan);
    if (!range.ok()) {
      hits = range.status();
    } else {
      hits->insert(hits->end(), range->begin(), range->end());
    }
  }
  auto collections = deps.store->ListCollections();
  if (!hits.ok() || !collections.ok()) {
    absl::Status st = hits.ok() ? collections.status() : hits.status();
    http::LogRequestError(ctx.request_id, common::Cat("ui search: ", st.ToString()));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the search failed; request id ", ctx.request_id));
    return;
  }
  std::set<std::string> ids;
  for (const auto& h : *hits) ids.insert(h.id);
  // The latest admitted version of each object, from every collection the caller may read.
  std::map<std::string, Found> found;
  policy::GatedPage all;
  if (!ids.empty()) {
    for (const store::CollectionInfo& c : *collections) {
      if (!c.is_public && !who.CanRead(c.id)) continue;
      store::Query q;
      q.collection = c.id;
      q.ids.assign(ids.begin(), ids.end());
      q.versions = store::VersionSelect::kLast;
      q.include_revoked = true;
      auto page = reader.List(q, audience, policy::Exit::kUiSearch);
      if (!page.ok()) {
        if (absl::IsPermissionDenied(page.status())) {
          res = ctx.Error(403, "Forbidden", std::string(page.status().message()));
        } else {
          http::LogRequestError(ctx.request_id,
                                common::Cat("ui search: ", page.status().ToString()));
          res = ctx.Error(500, "Internal error",
                          common::Cat("the search failed; request id ", ctx.request_id));
        }
        return;
      }
      all.withheld += page->withheld;
      all.replaced += page->replaced;
      all.denied_refs.insert(all.denied_refs.end(), page->denied_refs.begin(),
                             page->denied_refs.end());
      all.replaced_refs.insert(all.replaced_refs.end(), page->replaced_refs.begin(),
                               page->replaced_refs.end());
      for (store::StoredObject& o : page->objects) {
        Found& f = found[o.id];
        f.collections.push_back(c.alias.empty() ? c.id : c.alias);
        if (f.object.id.empty() || o.modified > f.object.modified) f.object = std::move(o);
      }
    }
  }
  std::vector<const Found*> order;
  order.reserve(found.size());
  for (const auto& [id, f] : found) order.push_back(&f);
  std::sort(order.begin(), order.end(), [](const Found* a, const Found* b) {
    return a->object.modified != b->object.modified ? a->object.modified > b->object.modified
                                                    : a->object.id < b->object.id;
  });
  const bool more = order.size() > limit;
  if (more) order.resize(limit);
  std::vector<store::StoredObject> delivered;
  delivered.reserve(order.size());
  for (const Found* f : order) delivered.push_back(f->object);
  // What leaves is recorded first; a delivery that cannot be audited is not made.
  if (absl::StatusOr<uint64_t> seq = deps.audit->Append(
          policy::EgressEntry(audience, policy::Exit::kUiSearch, "", delivered, all));
      !seq.ok()) {
    http::LogRequestError(ctx.request_id,
                          common::Cat("ui search: audit: ", seq.status().ToString()));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the search could not be audited; request id ", ctx.request_id));
    return;
  }
  std::string out = "{\"query\":{\"kind\":";
  Quoted(&out, formats::ValueKindName(v->kind));
  out += ",\"value\":";
  Quoted(&out, v->value);
  out += "},\"results\":[";
  for (size_t i = 0; i < order.size(); ++i) {
    const Found& f = *order[i];
    if (i) out += ',';
    out += "{\"id\":";
    Quoted(&out, f.object.id);
    out += ",\"type\":";
    Quoted(&out, f.object.type);
    out += ",\"name\":";
    Quoted(&out, NameOf(f.object.json));
    out += ",\"modified\":";
    Quoted(&out, common::FormatTimestamp(f.object.modified));
    out += f.object.revoked ? ",\"revoked\":true" : ",\"revoked\":false";
    out += ",\"collections\":[";
    for (size_t k = 0; k < f.collections.size(); ++k) {
      if (k) out += ',';
      Quoted(&out, f.collections[k]);
    }
    out += "]}";
  }
  out += more ? "],\"more\":true}" : "],\"more\":false}";
  Json(res, std::move(out));
}

}  // namespace

void MountReadApi(http::Router& router, ReadApiDeps deps) {
  router.Add("GET", "/api/ui/v1/search",
             [deps](http::RequestContext& ctx, http::Response& res) { Search(deps, ctx, res); });
}

}  // namespace accord::web
