#include "accord/web/read_api.h"

#include <simdjson.h>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/correlate/related.h"
#include "accord/correlate/terms.h"
#include "accord/federation/node.h"
#include "accord/federation/peers.h"
#include "accord/formats/formats.h"
#include "accord/formats/text.h"
#include "accord/http/message.h"
#include "accord/policy/egress_reader.h"
#include "accord/web/session.h"
#include "http/text.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

constexpr uint64_t kDefaultLimit = 50, kMaxLimit = 500;
constexpr uint64_t kScan = 10000;  // index rows read per term (as `accord related`)

void AppendCollections(std::string* out, const std::vector<std::string>& collections) {
  out->push_back('[');
  for (size_t k = 0; k < collections.size(); ++k) {
    if (k) out->push_back(',');
    formats::AppendJsonString(out, collections[k]);
  }
  out->push_back(']');
}

struct Found {
  store::StoredObject object;
  std::vector<std::string> collections;
};

// "modified", "revoked" and "collections" of a found version.
void AppendVersion(std::string* out, const Found& f) {
  *out += "\"modified\":";
  formats::AppendJsonString(out, common::FormatTimestamp(f.object.modified));
  *out += f.object.revoked ? ",\"revoked\":true" : ",\"revoked\":false";
  *out += ",\"collections\":";
  AppendCollections(out, f.collections);
}

// Versions of `ids` (`versions` of each) in every collection the caller may read, through the
// gate at `exit`: by (id, modified), with the collections each was found in. `all` gathers
// what the audit entry needs (ExitOpen has run). False when it answered (403, 500).
// Narrows a read: only these STIX types, only this collection (id or alias); empty: all.
struct Narrow {
  std::vector<std::string> types;
  std::string collection;
};

bool GatedRead(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res,
               const std::set<std::string>& ids, store::VersionSelect versions, policy::Exit exit,
               const Narrow& narrow, std::map<std::pair<std::string, common::Micros>, Found>* found,
               policy::GatedPage* all) {
  const http::Principal& who = ctx.principal;
  auto collections = deps.store->ListCollections();
  if (!collections.ok()) {
    Failed(ctx, res, "read", collections.status());
    return false;
  }
  policy::EgressReader reader(deps.store, deps.gate);
  if (ids.empty()) return true;
  for (const store::CollectionInfo& c : *collections) {
    if (!MayReadCollection(who, c)) continue;
    if (!narrow.collection.empty() && narrow.collection != c.id && narrow.collection != c.alias) {
      continue;
    }
    store::Query q;
    q.collection = c.id;
    q.ids.assign(ids.begin(), ids.end());
    q.types = narrow.types;
    q.versions = versions;
    q.include_revoked = true;
    auto page = reader.List(q, AudienceOf(who), exit);
    if (!page.ok()) {
      ReadFailed(ctx, res, page.status());
      return false;
    }
    MergeTotals(*page, all);
    for (store::StoredObject& o : page->objects) {
      Found& f = (*found)[{o.id, o.modified}];
      f.collections.push_back(c.alias.empty() ? c.id : c.alias);
      if (f.object.id.empty()) f.object = std::move(o);
    }
  }
  return true;
}

void Search(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return;
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad request", std::string(params.status().message()));
    return;
  }
  std::string value;
  uint64_t limit = kDefaultLimit;
  Narrow narrow;
  for (const auto& [k, v] : *params) {
    if (k == "value") {
      value = v;
    } else if (k == "type") {
      // Repeatable, or comma-separated: any of them.
      for (std::string_view t : http::text::Split(v, ',')) {
        if (!t.empty()) narrow.types.emplace_back(t);
      }
    } else if (k == "collection") {
      narrow.collection = v;
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
  if (!ExitOpen(deps.gate, ctx, res, policy::Exit::kUiSearch)) return;
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
  if (!hits.ok()) return Failed(ctx, res, "search", hits.status());
  std::set<std::string> ids;
  for (const auto& h : *hits) ids.insert(h.id);
  // The latest admitted version of each object, from every collection the caller may read.
  std::map<std::pair<std::string, common::Micros>, Found> versions;
  policy::GatedPage all;
  if (!GatedRead(deps, ctx, res, ids, store::VersionSelect::kLast, policy::Exit::kUiSearch, narrow,
                 &versions, &all)) {
    return;
  }
  std::map<std::string, const Found*> latest;
  for (const auto& [key, f] : versions) {
    const Found*& l = latest[key.first];
    if (!l || f.object.modified > l->object.modified) l = &f;
  }
  std::vector<const Found*> order;
  order.reserve(latest.size());
  for (const auto& [id, f] : latest) order.push_back(f);
  std::sort(order.begin(), order.end(), [](const Found* a, const Found* b) {
    return a->object.modified != b->object.modified ? a->object.modified > b->object.modified
                                                    : a->object.id < b->object.id;
  });
  const bool more = order.size() > limit;
  if (more) order.resize(limit);
  std::vector<store::StoredObject> delivered;
  delivered.reserve(order.size());
  for (const Found* f : order) delivered.push_back(f->object);
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiSearch, delivered, all)) return;
  std::string out = "{\"query\":{\"kind\":";
  formats::AppendJsonString(&out, formats::ValueKindName(v->kind));
  out += ",\"value\":";
  formats::AppendJsonString(&out, v->value);
  out += "},\"results\":[";
  for (size_t i = 0; i < order.size(); ++i) {
    const Found& f = *order[i];
    if (i) out += ',';
    out += "{\"id\":";
    formats::AppendJsonString(&out, f.object.id);
    out += ",\"type\":";
    formats::AppendJsonString(&out, f.object.type);
    out += ",\"name\":";
    formats::AppendJsonString(&out, NameOf(f.object.json));
    out += ',';
    AppendVersion(&out, f);
    out += '}';
  }
  out += more ? "],\"more\":true}" : "],\"more\":false}";
  JsonAnswer(res, 200, std::move(out));
}

// Who signed the versions of one view, and whether it holds (federation::SignatureChecker, as
// `accord verify`), with the signer's peer name.
class Signatures {
 public:
  explicit Signatures(const ReadApiDeps& deps) {
    if (auto node = federation::LoadNode(*deps.store); node.ok() && node->has_value()) {
      node_ = (*node)->identity;
    }
    if (auto peers = federation::ListPeers(*deps.store); peers.ok()) {
      for (const federation::Peer& p : *peers) peer_of_[p.identity] = p.name;
    }
    absl::StatusOr<federation::KeyTrust> trust =
        federation::LoadKeyTrust(*deps.store, deps.data_dir);
    if (trust.ok()) {
      checker_.emplace(*deps.store, std::move(*trust));
    } else {
      trust_error_ = std::string(trust.status().message());
    }
  }

  // "signature": {"status", "signer", "signer_name", "peer", "detail"} of `object_json`:
  // verified (a key this node believes verifies it), invalid (malformed, or the key does not
  // verify it: changed after signing), unverified (no believed key for the signer), unsigned.
  void Append(std::string* out, std::string_view object_json) {
    using Verdict = federation::SignatureCheck::Verdict;
    absl::StatusOr<federation::SignatureCheck> c =
        checker_ ? checker_->Check(object_json) : absl::UnavailableError(trust_error_);
    std::string_view status = "unverified";
    std::string detail, signer;
    if (!c.ok()) {
      detail = std::string(c.status().message());
    } else {
      signer = c->signer;
      detail = c->detail;
      switch (c->verdict) {
        case Verdict::kValid:
          status = "verified";
          detail = "the signer's key verifies the object as delivered";
          break;
        case Verdict::kInvalid:
        case Verdict::kMalformed: status = "invalid"; break;
        case Verdict::kUnsigned:
          status = "unsigned";
          detail = "the object carries no signature";
          break;
        case Verdict::kNoKey: break;
      }
    }
    *out += "\"signature\":{\"status\":";
    formats::AppendJsonString(out, status);
    auto string_or_null = [out](const std::string& s) {
      if (s.empty()) {
        *out += "null";
      } else {
        formats::AppendJsonString(out, s);
      }
    };
    *out += ",\"signer\":";
    string_or_null(signer);
    auto peer = peer_of_.find(signer);
    const std::string peer_name = peer != peer_of_.end() ? peer->second : std::string();
    *out += ",\"signer_name\":";
    string_or_null(!signer.empty() && signer == node_ ? std::string("this node") : peer_name);
    *out += ",\"peer\":";
    string_or_null(peer_name);
    *out += ",\"detail\":";
    formats::AppendJsonString(out, detail);
    *out += '}';
  }

 private:
  std::string node_;
  std::map<std::string, std::string> peer_of_;  // identity id -> peer name
  std::optional<federation::SignatureChecker> checker_;
  std::string trust_error_;
};

// A person's request for an object's resource, with no parameters, at an open kUiObject exit;
// false when it answered (401, 403, 400).
bool ObjectRequest(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return false;
  if (!ctx.request.query.empty()) {
    res = ctx.Error(400, "Bad request", "this resource takes no parameters");
    return false;
  }
  return ExitOpen(deps.gate, ctx, res, policy::Exit::kUiObject);
}

// GET /api/ui/v1/objects/{id}: every version the caller may read, oldest first, each with the
// collections it is in and the object as delivered (a redacted copy where the gate replaced
// it). 404 when there is none, whether it does not exist or may not be read.
void Object(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!ObjectRequest(deps, ctx, res)) return;
  const std::string id(ctx.Param("id"));
  std::map<std::pair<std::string, common::Micros>, Found> versions;
  policy::GatedPage all;
  if (!GatedRead(deps, ctx, res, {id}, store::VersionSelect::kAll, policy::Exit::kUiObject, {},
                 &versions, &all)) {
    return;
  }
  std::vector<store::StoredObject> delivered;
  delivered.reserve(versions.size());
  for (const auto& [key, f] : versions) delivered.push_back(f.object);
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiObject, delivered, all)) return;
  if (versions.empty()) {
    res = ctx.Error(404, "Not found", common::Cat("no object '", id, "' that you may read"));
    return;
  }
  std::string out = "{\"id\":";
  formats::AppendJsonString(&out, id);
  out += ",\"type\":";
  formats::AppendJsonString(&out, versions.begin()->second.object.type);
  out += ",\"versions\":[";
  Signatures signatures(deps);
  bool first = true;
  for (const auto& [key, f] : versions) {  // (id, modified) order: oldest first
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendVersion(&out, f);
    out += ',';
    signatures.Append(&out, f.object.json);
    out += ",\"object\":";
    out += f.object.json;  // stored minified JSON, or the gate's replacement
    out += '}';
  }
  out += "]}";
  JsonAnswer(res, 200, std::move(out));
}

// GET /api/ui/v1/objects/{id}/related: what shares a value with the object's latest version the
// caller may read, or refers to it, through the value index (correlate::FindRelated, as
// `accord related ID`), each object admitted by the gate at kUiObject; one audit entry.
void Related(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!ObjectRequest(deps, ctx, res)) return;
  const std::string id(ctx.Param("id"));
  std::map<std::pair<std::string, common::Micros>, Found> self, related;
  policy::GatedPage all;
  if (!GatedRead(deps, ctx, res, {id}, store::VersionSelect::kLast, policy::Exit::kUiObject, {},
                 &self, &all)) {
    return;
  }
  if (self.empty()) {
    if (!Audited(deps.audit, ctx, res, policy::Exit::kUiObject, {}, all)) return;
    res = ctx.Error(404, "Not found", common::Cat("no object '", id, "' that you may read"));
    return;
  }
  const Found& latest = self.rbegin()->second;  // (id, modified) order: the newest last
  bool answered = false;
  auto admit = [&](const std::set<std::string>& ids) -> absl::StatusOr<std::set<std::string>> {
    if (!GatedRead(deps, ctx, res, ids, store::VersionSelect::kLast, policy::Exit::kUiObject, {},
                   &related, &all)) {
      answered = true;
      return absl::AbortedError("answered");
    }
    std::set<std::string> out;
    for (const auto& [key, f] : related) out.insert(key.first);
    return out;
  };
  auto groups = correlate::FindRelated(*deps.store, correlate::ObjectQuery(id, latest.object.json),
                                       kScan, kMaxLimit, admit);
  if (answered) return;
  if (!groups.ok()) return Failed(ctx, res, "related", groups.status());
  std::vector<store::StoredObject> delivered = {latest.object};
  std::map<std::string, const Found*> by_id;
  for (const auto& [key, f] : related) {
    const Found*& l = by_id[key.first];
    if (!l || f.object.modified > l->object.modified) l = &f;
  }
  for (const auto& [rid, f] : by_id) delivered.push_back(f->object);
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiObject, delivered, all)) return;
  nlohmann::json values = nlohmann::json::array();
  for (const correlate::RelatedGroup& g : *groups) {
    nlohmann::json objects = nlohmann::json::array();
    for (const store::TermHit& h : g.listed) {
      auto it = by_id.find(h.id);
      if (it == by_id.end()) continue;
      const store::StoredObject& o = it->second->object;
      objects.push_back({{"id", o.id},
                         {"type", o.type},
                         {"name", NameOf(o.json)},
                         {"modified", common::FormatTimestamp(o.modified)},
                         {"revoked", o.revoked}});
    }
    values.push_back({{"kind", g.kind},
                      {"value", g.value},
                      {"counts", g.counts},
                      {"objects", std::move(objects)}});
  }
  JsonAnswer(res, 200, nlohmann::json{{"id", id}, {"values", std::move(values)}}.dump());
}

}  // namespace

void MountReadApi(http::Router& router, const ReadApiDeps& deps) {
  router.Add("GET", "/api/ui/v1/search",
             [deps](http::RequestContext& ctx, http::Response& res) { Search(deps, ctx, res); });
  router.Add("GET", "/api/ui/v1/objects/{id}",
             [deps](http::RequestContext& ctx, http::Response& res) { Object(deps, ctx, res); });
  router.Add("GET", "/api/ui/v1/objects/{id}/related",
             [deps](http::RequestContext& ctx, http::Response& res) { Related(deps, ctx, res); });
}

}  // namespace accord::web
