#include "accord/web/read_api.h"

#include <simdjson.h>
#include <algorithm>
#include <functional>
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
#include "accord/policy/redaction.h"
#include "accord/policy/tlp.h"
#include "accord/stix/object.h"
#include "accord/web/session.h"
#include "http/text.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

constexpr uint64_t kReadDefaultLimit = 50, kReadMaxLimit = 500;
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

// Versions the gate replaced by a redacted copy, (id, modified as STIX timestamp text).
using Replaced = std::set<std::pair<std::string, std::string>>;

// A search's parameters (docs/UI_API.md "Search").
struct SearchParams {
  std::string value;  // value=: a value, searched in the value index
  std::string words;  // q=: a value, or words of names and descriptions
  Narrow narrow;
  std::vector<std::string> markings;  // marking=: ids (a TLP name stands for its ids)
  std::optional<common::Micros> since, until;
  uint64_t limit = kReadDefaultLimit;
  std::string cursor;
};

// False when it answered 400.
bool ParseSearch(http::RequestContext& ctx, http::Response& res, SearchParams* p) {
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad request", std::string(params.status().message()));
    return false;
  }
  for (const auto& [k, v] : *params) {
    if (k == "value") {
      p->value = v;
    } else if (k == "q") {
      p->words = v;
    } else if (k == "type") {
      // Repeatable, or comma-separated: any of them.
      for (std::string_view t : http::text::Split(v, ',')) {
        if (!t.empty()) p->narrow.types.emplace_back(t);
      }
    } else if (k == "collection") {
      p->narrow.collection = v;
    } else if (k == "marking") {
      for (std::string_view m : http::text::Split(v, ',')) {
        if (m.empty()) continue;
        absl::StatusOr<std::vector<std::string>> ids = policy::MarkingIdsNamed(m);
        if (!ids.ok()) {
          res = ctx.Error(400, "Bad request", std::string(ids.status().message()));
          return false;
        }
        p->markings.insert(p->markings.end(), ids->begin(), ids->end());
      }
    } else if (k == "since" || k == "until") {
      absl::StatusOr<common::Micros> t = common::ParseDayOrTimestamp(v);
      if (!t.ok()) {
        res = ctx.Error(
            400, "Bad request",
            common::Cat(k, " must be a date (2026-01-31) or a timestamp: ", t.status().message()));
        return false;
      }
      (k == "since" ? p->since : p->until) = *t;
    } else if (k == "limit") {
      if (!absl::SimpleAtoi(v, &p->limit) || p->limit == 0 || p->limit > kReadMaxLimit) {
        res = ctx.Error(400, "Bad request",
                        common::Cat("limit must be a number from 1 to ", kReadMaxLimit));
        return false;
      }
    } else if (k == "cursor") {
      p->cursor = v;
    } else {
      res = ctx.Error(400, "Bad request", common::Cat("unknown parameter '", k, "'"));
      return false;
    }
  }
  if (!p->value.empty() && !p->words.empty()) {
    res = ctx.Error(400, "Bad request", "give value or q, not both");
    return false;
  }
  return true;
}

// The latest admitted version of each object found by GatedRead.
std::map<std::string, const Found*> LatestOf(
    const std::map<std::pair<std::string, common::Micros>, Found>& versions) {
  std::map<std::string, const Found*> latest;
  for (const auto& [key, f] : versions) {
    const Found*& l = latest[key.first];
    if (!l || f.object.modified > l->object.modified) l = &f;
  }
  return latest;
}

// Whether a copy the gate redacted for the caller still holds what the search found the
// object by (a value's terms, the words).
using StillFound = std::function<bool(const store::StoredObject& delivered)>;

bool IsReplaced(const Replaced& replaced, const store::StoredObject& o) {
  if (replaced.empty()) return false;
  if (replaced.count({o.id, common::FormatTimestamp(o.modified)})) return true;
  return replaced.count({"*", ""}) && o.json.find(policy::kRedactionExtension) != std::string::npos;
}

// A search that looked inside an object (a value, words) names a copy the gate redacted for the
// caller only when that copy still holds what it was found by: the indexes hold the stored
// text, and a hit on what the redaction took out would tell it.
bool StillHolds(const Found& f, const Replaced& replaced, const StillFound& still) {
  return !still || !IsReplaced(replaced, f.object) || still(f.object);
}

// Whether a version found by value passes the filters the value index did not apply: marking
// and time (the store's Browse applies them to a search by words and filters).
bool Passes(const SearchParams& p, const Found& f) {
  if (p.since && f.object.modified < *p.since) return false;
  if (p.until && f.object.modified >= *p.until) return false;
  if (!p.markings.empty()) {
    stix::IndexText text = stix::IndexTextOf(f.object.json);
    bool any = false;
    for (std::string_view m : http::text::Split(text.markings, ' ')) {
      any = any || std::find(p.markings.begin(), p.markings.end(), m) != p.markings.end();
    }
    if (!any) return false;
  }
  return true;
}

void AppendResults(std::string* out, const std::vector<const Found*>& order) {
  *out += "\"results\":[";
  for (size_t i = 0; i < order.size(); ++i) {
    const Found& f = *order[i];
    if (i) *out += ',';
    *out += "{\"id\":";
    formats::AppendJsonString(out, f.object.id);
    *out += ",\"type\":";
    formats::AppendJsonString(out, f.object.type);
    *out += ",\"name\":";
    formats::AppendJsonString(out, NameOf(f.object.json));
    *out += ',';
    AppendVersion(out, f);
    *out += '}';
  }
  *out += ']';
}

Replaced ReplacedOf(const policy::GatedPage& all) {
  Replaced out;
  for (const audit::VersionRef& r : all.replaced_refs) out.emplace(r.id, r.modified);
  // More replaced than the audit list names (past audit::kMaxVersionsPerEntry): "*" marks it,
  // and Passes then tells a redacted copy by the redaction extension it carries.
  if (all.replaced > all.replaced_refs.size()) out.emplace("*", "");
  return out;
}

// value= (or q= holding one value): the objects that hold it, through the value index.
void SearchValue(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res,
                 const SearchParams& p, const formats::Value& v) {
  if (!p.cursor.empty()) {
    res = ctx.Error(400, "Bad request", "a search by value has one page; cursor is not taken");
    return;
  }
  if (!ExitOpen(deps.gate, ctx, res, policy::Exit::kUiSearch)) return;
  auto hits = deps.store->FindTerms(correlate::QueryTerms(v), kScan);
  std::string lo, hi;
  if (hits.ok() && correlate::AddressRange(v, &lo, &hi)) {
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
  if (!GatedRead(deps, ctx, res, ids, store::VersionSelect::kLast, policy::Exit::kUiSearch,
                 p.narrow, &versions, &all)) {
    return;
  }
  Replaced replaced = ReplacedOf(all);
  std::map<std::string, std::set<std::string>> terms_of;  // id -> the terms it was found by
  for (const auto& h : *hits) terms_of[h.id].insert(h.term);
  StillFound still = [&](const store::StoredObject& o) {
    stix::ObjectRecord rec;
    rec.type = o.type;
    rec.json = o.json;
    std::vector<std::string> terms;
    correlate::DeriveTerms(rec, &terms);
    const std::set<std::string>& by = terms_of[o.id];
    return std::any_of(terms.begin(), terms.end(),
                       [&](const std::string& t) { return by.count(t) > 0; });
  };
  std::vector<const Found*> order;
  for (const auto& [id, f] : LatestOf(versions)) {
    if (StillHolds(*f, replaced, still) && Passes(p, *f)) order.push_back(f);
  }
  std::sort(order.begin(), order.end(), [](const Found* a, const Found* b) {
    return a->object.modified != b->object.modified ? a->object.modified > b->object.modified
                                                    : a->object.id < b->object.id;
  });
  const bool more = order.size() > p.limit;
  if (more) order.resize(p.limit);
  std::vector<store::StoredObject> delivered;
  delivered.reserve(order.size());
  for (const Found* f : order) delivered.push_back(f->object);
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiSearch, delivered, all)) return;
  std::string out = "{\"query\":{\"kind\":";
  formats::AppendJsonString(&out, formats::ValueKindName(v.kind));
  out += ",\"value\":";
  formats::AppendJsonString(&out, v.value);
  out += "},";
  AppendResults(&out, order);
  out += more ? ",\"more\":true,\"next\":null}" : ",\"more\":false,\"next\":null}";
  JsonAnswer(res, 200, std::move(out));
}

// Words and filters: the store's Browse over the collections the caller may read, newest
// stored first, in pages of bounded work, then the gate.
void SearchFilters(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res,
                   const SearchParams& p) {
  if (!ExitOpen(deps.gate, ctx, res, policy::Exit::kUiSearch)) return;
  auto collections = deps.store->ListCollections();
  if (!collections.ok()) return Failed(ctx, res, "search", collections.status());
  store::BrowseQuery q;
  for (const store::CollectionInfo& c : *collections) {
    if (!MayReadCollection(ctx.principal, c)) continue;
    if (!p.narrow.collection.empty() && p.narrow.collection != c.id &&
        p.narrow.collection != c.alias) {
      continue;
    }
    q.collections.push_back(c.id);
  }
  if (!p.narrow.collection.empty() && q.collections.empty()) {
    // The same answer whether it does not exist or the caller may not read it.
    res = ctx.Error(404, "Not found",
                    common::Cat("no collection '", p.narrow.collection, "' that you may read"));
    return;
  }
  store::BrowsePage page;
  if (!q.collections.empty()) {
    q.types = p.narrow.types;
    q.text = p.words;
    q.markings = p.markings;
    q.modified_from = p.since;
    q.modified_until = p.until;
    q.limit = p.limit;
    q.cursor = p.cursor;
    absl::StatusOr<store::BrowsePage> found = deps.store->Browse(q);
    if (!found.ok() && found.status().code() == absl::StatusCode::kInvalidArgument) {
      res = ctx.Error(400, "Bad request", std::string(found.status().message()));
      return;
    }
    if (!found.ok()) return Failed(ctx, res, "search", found.status());
    page = std::move(*found);
  }
  std::set<std::string> ids;
  for (const store::BrowseHit& h : page.hits) ids.insert(h.id);
  std::map<std::pair<std::string, common::Micros>, Found> versions;
  policy::GatedPage all;
  if (!GatedRead(deps, ctx, res, ids, store::VersionSelect::kLast, policy::Exit::kUiSearch,
                 p.narrow, &versions, &all)) {
    return;
  }
  // Markings and times were the store's to filter; words looked inside. A redacted copy is
  // named only if each word (without a trailing '*') is still in its name or description, as
  // lower-case text (stricter than the index: accents count here).
  Replaced replaced = ReplacedOf(all);
  std::vector<std::string> words;
  for (std::string_view w : http::text::Split(p.words, ' ')) {
    while (!w.empty() && w.back() == '*') w.remove_suffix(1);
    if (!w.empty()) words.push_back(http::text::Lower(w));
  }
  StillFound still;
  if (!p.words.empty()) {
    still = [&](const store::StoredObject& o) {
      stix::IndexText t = stix::IndexTextOf(o.json);
      std::string text = http::text::Lower(common::Cat(t.name, " ", t.description));
      return std::all_of(words.begin(), words.end(),
                         [&](const std::string& w) { return text.find(w) != std::string::npos; });
    };
  }
  std::map<std::string, const Found*> latest = LatestOf(versions);
  std::vector<const Found*> order;
  for (const store::BrowseHit& h : page.hits) {
    auto it = latest.find(h.id);
    if (it != latest.end() && StillHolds(*it->second, replaced, still)) {
      order.push_back(it->second);
    }
  }
  std::vector<store::StoredObject> delivered;
  delivered.reserve(order.size());
  for (const Found* f : order) delivered.push_back(f->object);
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiSearch, delivered, all)) return;
  std::string out = "{\"query\":{\"kind\":";
  out += p.words.empty() ? "\"filters\"" : "\"words\"";
  out += ",\"words\":";
  formats::AppendJsonString(&out, p.words);
  out += "},";
  AppendResults(&out, order);
  if (page.more) {
    out += ",\"more\":true,\"next\":";
    formats::AppendJsonString(&out, page.next);
    out += ",\"reached\":";
    formats::AppendJsonString(&out, common::FormatTimestamp(page.reached));
    out += '}';
  } else {
    out += ",\"more\":false,\"next\":null,\"reached\":null}";
  }
  JsonAnswer(res, 200, std::move(out));
}

void Search(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return;
  SearchParams p;
  if (!ParseSearch(ctx, res, &p)) return;
  if (!p.value.empty()) {
    std::optional<formats::Value> v = formats::ClassifyToken(formats::Refang(p.value));
    if (!v) {
      res = ctx.Error(400, "Bad request",
                      common::Cat("'", p.value,
                                  "' is no IPv4/IPv6 address, CIDR, domain, URL, e-mail address, "
                                  "hash or CVE id"));
      return;
    }
    return SearchValue(deps, ctx, res, p, *v);
  }
  // q= holding one token that is a value searches by that value, as value= does.
  std::string_view words = http::text::Trim(p.words);
  if (!words.empty() && words.find_first_of(" \t\r\n") == std::string_view::npos) {
    if (std::optional<formats::Value> v = formats::ClassifyToken(formats::Refang(words))) {
      return SearchValue(deps, ctx, res, p, *v);
    }
  }
  SearchFilters(deps, ctx, res, p);
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
                                       kScan, kReadMaxLimit, admit);
  if (answered) return;
  if (!groups.ok()) return Failed(ctx, res, "related", groups.status());
  std::vector<store::StoredObject> delivered = {latest.object};
  std::map<std::string, const Found*> by_id = LatestOf(related);
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
