#include "accord/taxii/service.h"

#include <sodium.h>

#include <simdjson.h>
#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <variant>
#include <vector>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/common/uuid.h"
#include "accord/http/message.h"
#include "accord/http/router.h"
#include "accord/ingest/ingest.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/stix/ijson.h"
#include "accord/stix/reader.h"
#include "accord/store/generation_poll.h"
#include "accord/store/group_commit.h"
#include "http/text.h"
#include "taxii/filters.h"
#include "taxii/json_util.h"
#include "taxii/page_cache.h"

namespace accord::taxii {
namespace text = http::text;
namespace {

using detail::TryGet;

using common::Micros;
using http::AppendJsonEscaped;

constexpr std::string_view kWwwAuthenticate = R"(Basic realm="accord", Bearer realm="accord")";

// A handler's early exit: an HTTP status with the error resource's title and description.
// `detail` is for the server's log only (set for server-side failures, whose description the
// client does not get; see ToResponse).
struct Error {
  Error(int s, std::string t, std::string d, std::string internal_detail = "")
      : status(s),
        title(std::move(t)),
        description(std::move(d)),
        detail(std::move(internal_detail)) {}
  int status;
  std::string title;
  std::string description;
  std::string detail;
};

// Whether `s` is the store's "disk full" (ENOSPC or EDQUOT in the object log, SQLITE_FULL):
// ResourceExhausted whose message begins "disk full" (store/object_log.cc, sqlite_util.cc),
// unlike the ResourceExhausted of an input over a size limit.
bool IsDiskFull(const absl::Status& s) {
  return absl::IsResourceExhausted(s) && s.message().substr(0, 9) == "disk full";
}

// Seconds a client is asked to wait after a 507 (an admin must free space first).
constexpr int kDiskFullRetryAfterS = 60;

// A Status as an early exit. Client errors (4xx) keep their message: it explains what was
// wrong with the request. Server-side failures (5xx: Internal, DataLoss, Unknown, Unavailable,
// ...) may carry SQL, file paths or library text, so their message goes to the log only.
Error FromStatus(const absl::Status& s, std::string_view title) {
  // A full disk (or quota) is the server's condition, not the request's: 507 Insufficient
  // Storage with Retry-After, its detail logged (issue 10: it was answered 413).
  if (IsDiskFull(s)) return Error{507, "Insufficient storage", "", s.ToString()};
  int status = HttpStatusFor(s.code());
  if (status >= 500) return Error{status, std::string(title), "", s.ToString()};
  return Error{status, std::string(title), std::string(s.message()), ""};
}

using common::NewUuid4;

// The error resource for `e`. A server-side failure is logged with its detail under the
// request id, and the client gets only a generic description naming that id.
http::Response ToResponse(const Error& e, std::string_view request_id) {
  if (e.detail.empty() && e.status < 500) return ErrorResponse(e.status, e.title, e.description);
  std::string id = request_id.empty() ? NewUuid4() : std::string(request_id);
  http::LogRequestError(id,
                        common::Cat(e.title, ": ", e.detail.empty() ? e.description : e.detail));
  if (e.status == 507) {
    http::Response r = ErrorResponse(
        507, e.title,
        common::Cat("the server's storage is full; retry later (request id ", id, ")"));
    r.SetHeader("Retry-After", std::to_string(kDiskFullRetryAfterS));
    return r;
  }
  return ErrorResponse(e.status, e.title,
                       common::Cat(e.status == 503 ? "the server is unavailable; retry later"
                                                   : "the server failed to complete the request",
                                   " (request id ", id, ")"));
}

// A gated read that failed: a closed exit (the egress gate's PermissionDenied: lockdown, and
// later roles and agreements) is a 403 whose description says why; anything else as usual.
Error FromReadStatus(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kPermissionDenied) {
    return Error{403, "Forbidden", std::string(s.message())};
  }
  return FromStatus(s, "Query failed");
}

// Who receives a page, as the egress gate sees it.
policy::Audience AudienceOf(const http::Principal& who) {
  if (who.anonymous()) return policy::Audience::Anonymous();
  if (who.role == http::Role::kPeer) return policy::Audience::Peer(who.user);
  return policy::Audience::User(who.user, std::string(http::RoleName(who.role)));
}

// The version string of a stored version (TAXII §3.4.1: `modified`, else `created`, else a
// server-consistent value: the date_added, as medallion does).
std::string VersionString(const store::StoredObject& o) {
  if (!o.has_modified) return common::FormatTimestamp(o.date_added);
  return o.modified % 1000 == 0 ? common::FormatTimestampMillis(o.modified)
                                : common::FormatTimestamp(o.modified);
}

void AppendString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonEscaped(out, s);
  out->push_back('"');
}

// A status resource (TAXII 2.1 §4.3.1) as JSON. `successes` is left out (optional): the store
// keeps only the counts and the failures.
std::string StatusJson(const store::RequestStatus& st) {
  std::string body = "{\"id\":";
  AppendString(&body, st.id);
  common::Append(&body, ",\"status\":\"", st.complete ? "complete" : "pending",
                 "\",\"request_timestamp\":\"", common::FormatTimestamp(st.request_timestamp),
                 "\",\"total_count\":", st.total_count, ",\"success_count\":", st.success_count,
                 ",\"failure_count\":", st.failure_count);
  if (!st.failures.empty()) {
    body += ",\"failures\":[";
    for (size_t i = 0; i < st.failures.size(); ++i) {
      const store::StatusDetail& d = st.failures[i];
      if (i) body += ',';
      body += "{\"id\":";
      AppendString(&body, d.id);
      body += ",\"version\":";
      AppendString(&body, d.version);
      body += ",\"message\":";
      AppendString(&body, d.message);
      body += '}';
    }
    body += ']';
  }
  common::Append(&body, ",\"pending_count\":", st.pending_count, "}");
  return body;
}

// The TAXII resources, one per route pattern (see Service::Mount), with what the path names.
struct Route {
  enum Kind {
    kDiscovery,
    kApiRoot,
    kStatus,
    kCollections,
    kCollection,
    kManifest,
    kObjects,
    kObject,
    kVersions
  } kind = kDiscovery;
  std::string status_id, collection, object_id;
};

}  // namespace

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kResourceExhausted: return 413;
    case absl::StatusCode::kFailedPrecondition: return 422;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

http::Response ErrorResponse(int status, std::string_view title, std::string_view description) {
  http::Response r;
  r.status = status;
  r.SetHeader("Content-Type", std::string(http::kTaxiiMediaType));
  if (status == 401) r.SetHeader("WWW-Authenticate", std::string(kWwwAuthenticate));
  r.body = "{\"title\":";
  AppendString(&r.body, title);
  if (!description.empty()) {
    r.body += ",\"description\":";
    AppendString(&r.body, description);
  }
  common::Append(&r.body, ",\"http_status\":\"", status, "\"}");
  return r;
}

namespace {

class StoreChangeSource final : public ChangeSource {
 public:
  StoreChangeSource(store::Store* store, int64_t min_interval_us) : poll_(store, min_interval_us) {}
  uint64_t Counter() override { return poll_.Get(); }

 private:
  store::GenerationPoll poll_;
};

}  // namespace

std::unique_ptr<ChangeSource> NewStoreChangeSource(store::Store* store, int64_t min_interval_us) {
  return std::make_unique<StoreChangeSource>(store, min_interval_us);
}

struct Service::Impl {
  store::Store* store;
  http::AuthDb* auth;
  const ServiceOptions& opts;
  ChangeSource* changes;
  // Every page leaves through the egress gate (docs/EGRESS.md): `gate` is the caller's, or
  // the node's gate over `store` (own_gate) when none was given.
  std::unique_ptr<policy::Gate> own_gate;
  policy::Gate* gate;
  policy::EgressReader reader;
  PageCache pages;
  // Bumped after every write this service commits (POST, DELETE); part of a cache entry's stamp.
  std::atomic<uint64_t> local_changes{0};

  // Service::Handle's own router (authentication over `auth`, then the TAXII routes).
  std::once_flag own_router_once;
  std::unique_ptr<http::Authenticator> own_authenticator;
  std::unique_ptr<http::Router> own_router;
  // Last: destroyed first, so that commits still queued can report to the members above.
  store::GroupCommitter committer;

  Impl(store::Store* s, http::AuthDb* a, const ServiceOptions& o, ChangeSource* ch, policy::Gate* g)
      : store(s),
        auth(a),
        opts(o),
        changes(ch),
        own_gate(g ? nullptr : policy::NewNodeGate(s)),
        gate(g ? g : own_gate.get()),
        reader(s, gate),
        pages(o.response_cache_bytes),
        committer(s) {}

  // Serves a cacheable GET (`kind` names the resource) from the page cache, or runs `fill`
  // and caches its 200 answer. Entries are keyed by resource, collection, object, the raw
  // query and the audience as the gate distinguishes it (Gate::CacheKey): every query that
  // parses to a 200 is a distinct, deterministic page for a given store state, gate
  // generation and audience. The gate's generation is part of the stamp, so a policy change
  // (lockdown) makes every cached page stale.
  // The page a handler thread is serving sets this (SendPage), so that Cached() can write
  // its audit entry, and keep it with the cached page for every later delivery.
  static inline thread_local audit::Entry* tl_delivery = nullptr;

  // Answers `res` (a page for `audience`) once the audit entry of its delivery is written
  // (issue 13): nothing leaves unrecorded, and a failure to record fails the response (a full
  // disk is a 507, with Retry-After, for reads too). The answer is deferred and the entry
  // appended from there (audit::Log::AppendAsync), so that a worker never waits for another
  // worker's append: when the log is busy, the thread writing it writes this entry with its
  // own batch, and sends this answer.
  void SendAudited(char kind, const std::string& collection, const policy::Audience& audience,
                   audit::Entry e, const std::string& request_id, http::Response& res) {
    if (!opts.audit) return;
    if (e.action.empty()) return;  // no page was sent (an error answer)
    if (e.objects.empty() && e.denied.empty() && e.detail.empty()) return;
    const policy::Exit exit = kind == 'm'   ? policy::Exit::kTaxiiManifest
                              : kind == 'O' ? policy::Exit::kTaxiiObject
                              : kind == 'v' ? policy::Exit::kTaxiiVersions
                                            : policy::Exit::kTaxiiObjects;
    e.actor = policy::ActorOf(audience);
    e.exit = std::string(policy::ExitName(exit));
    e.collection = collection;
    e.peer = audience.kind == policy::Audience::Kind::kPeer ? audience.name : std::string();
    http::Response ready = std::move(res);
    res = http::Response();
    res.deferred = [this, e = std::move(e), ready = std::move(ready),
                    request_id](http::Response::Send send) mutable {
      opts.audit->AppendAsync(
          std::move(e), [ready = std::move(ready), send = std::move(send),
                         request_id](const absl::StatusOr<uint64_t>& r) mutable {
            send(r.ok() ? std::move(ready)
                        : ToResponse(FromStatus(r.status(), "Audit log unavailable"), request_id));
          });
    };
  }

  template <typename Fill>
  std::optional<Error> Cached(char kind, const std::string& collection, std::string_view object,
                              const policy::Audience& audience, const http::Request& req,
                              http::Response& res, Fill&& fill) {
    audit::Entry delivery;
    tl_delivery = &delivery;
    struct Reset {
      ~Reset() { tl_delivery = nullptr; }
    } reset;
    if (opts.response_cache_bytes == 0) {
      std::optional<Error> e = fill();
      if (e || res.status != 200) return e;
      SendAudited(kind, collection, audience, std::move(delivery), req.id, res);
      return std::nullopt;
    }
    std::string audience_key = gate->CacheKey(audience);
    std::string key;
    key.reserve(collection.size() + object.size() + req.query.size() + audience_key.size() + 5);
    key += kind;
    key += collection;
    key += '\0';
    key += object;
    key += '\0';
    key += audience_key;
    key += '\0';
    key += req.query;
    // Stamps are read before the store is, so a change during `fill` makes the entry stale.
    uint64_t local = local_changes.load(std::memory_order_acquire);
    uint64_t external = changes ? changes->Counter() : 0;
    uint64_t policy_generation = gate->generation();
    Micros now = common::NowMicros();
    if (auto p = pages.Get(key, local, external, policy_generation,
                           now - opts.response_cache_max_age_us)) {
      res.status = 200;
      res.SetHeader("Content-Type", std::string(http::kTaxiiMediaType));
      if (!p->added_first.empty()) {
        res.SetHeader("X-TAXII-Date-Added-First", p->added_first);
        res.SetHeader("X-TAXII-Date-Added-Last", p->added_last);
      }
      res.shared_body = std::shared_ptr<const std::string>(p, &p->body);
      SendAudited(kind, collection, audience, p->delivery, req.id, res);
      return std::nullopt;
    }
    std::optional<Error> e = fill();
    if (e || res.status != 200) return e;
    // Cached before its delivery is recorded: a delivery whose entry fails is not answered,
    // and every later one from the cache writes its own entry.
    auto page = std::make_shared<PageCache::Page>();
    for (const auto& [k, v] : res.headers) {
      if (k == "X-TAXII-Date-Added-First") page->added_first = v;
      if (k == "X-TAXII-Date-Added-Last") page->added_last = v;
    }
    page->stamp_local = local;
    page->stamp_external = external;
    page->stamp_policy = policy_generation;
    page->filled = now;
    page->delivery = delivery;
    page->body = std::move(res.body);
    res.body.clear();
    res.shared_body = std::shared_ptr<const std::string>(page, &page->body);
    pages.Put(key, std::move(page));
    SendAudited(kind, collection, audience, std::move(delivery), req.id, res);
    return std::nullopt;
  }

  // Statuses of add-objects requests live in the store (Store::statuses()), so they survive
  // a restart, for status_retention_us; storing one purges the expired. Every status is
  // `complete` when stored, so nothing is pending.
  absl::Status PutStatus(store::RequestStatus st) {
    st.created = common::NowMicros();
    return store->statuses()->PutStatus(st, st.created - opts.status_retention_us);
  }

  // The status body, or nullopt when it is unknown, expired, or not `who`'s (TAXII §4.3: 404).
  absl::StatusOr<std::optional<std::string>> GetStatus(const std::string& id,
                                                       const http::Principal& who) {
    ACCORD_ASSIGN_OR_RETURN(
        std::optional<store::RequestStatus> st,
        store->statuses()->GetStatus(id, common::NowMicros() - opts.status_retention_us));
    if (!st || (st->owner != who.user && who.role != http::Role::kAdmin)) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(StatusJson(*st));
  }

  // PERF: Store::ListCollections counts each collection's members (O(objects): 130 ms at
  // 100,000), so the list (for the collections resource and AnyPublic) is cached for
  // kCollectionsTtl. Single collections come from FindCollection.
  static constexpr Micros kCollectionsTtl = 1000000;
  std::mutex cols_mu;
  std::shared_ptr<const std::vector<store::CollectionInfo>> cols;
  Micros cols_at = 0;

  absl::StatusOr<std::shared_ptr<const std::vector<store::CollectionInfo>>> Collections(
      Micros max_age) {
    Micros now = common::NowMicros();
    {
      std::lock_guard<std::mutex> l(cols_mu);
      if (cols && now - cols_at < max_age) return cols;
    }
    ACCORD_ASSIGN_OR_RETURN(auto list, store->ListCollections());
    auto fresh = std::make_shared<const std::vector<store::CollectionInfo>>(std::move(list));
    std::lock_guard<std::mutex> l(cols_mu);
    cols = fresh;
    cols_at = now;
    return fresh;
  }

  // One collection by id or alias: Store::GetCollection (an indexed read), remembered while
  // the store is unchanged (or, without a ChangeSource, for kCollectionsTtl). Misses are not
  // remembered, so a collection created by the CLI is visible at once.
  std::mutex coll_mu;
  std::unordered_map<std::string, std::pair<uint64_t, store::CollectionInfo>> coll_cache;

  uint64_t Stamp() {
    uint64_t ext =
        changes ? changes->Counter() : static_cast<uint64_t>(common::NowMicros() / kCollectionsTtl);
    return ext * 1000003u + local_changes.load(std::memory_order_acquire);
  }

  absl::StatusOr<store::CollectionInfo> FindCollection(const std::string& id) {
    uint64_t stamp = Stamp();
    {
      std::lock_guard<std::mutex> l(coll_mu);
      auto it = coll_cache.find(id);
      if (it != coll_cache.end() && it->second.first == stamp) return it->second.second;
    }
    ACCORD_ASSIGN_OR_RETURN(store::CollectionInfo c, store->GetCollection(id));
    std::lock_guard<std::mutex> l(coll_mu);
    if (coll_cache.size() > 1000) coll_cache.clear();
    coll_cache[id] = {stamp, c};
    return c;
  }

  bool AnyPublic() {
    auto list = Collections(kCollectionsTtl);
    if (!list.ok()) return false;
    for (auto& c : **list) {
      if (c.is_public) return true;
    }
    return false;
  }

  // A peer sees exactly the collections its agreement shares (public ones included only if
  // shared); everyone else by the collection's grants and publicity.
  bool Visible(const http::Principal& who, const store::CollectionInfo& c) {
    if (who.role == http::Role::kPeer && !who.anonymous()) {
      return reader.gate().CollectionOpen(AudienceOf(who), c);
    }
    // An auditor checks agreements, which name collections: it sees every collection's
    // description, and reads none (CanRead is false, and the gate closes every object exit).
    if (who.role == http::Role::kAuditor && !who.anonymous()) return true;
    return c.is_public || who.CanRead(c.id) || who.CanWrite(c.id);
  }
  bool CanRead(const http::Principal& who, const store::CollectionInfo& c) {
    if (who.role == http::Role::kPeer && !who.anonymous()) return Visible(who, c);
    return c.is_public || who.CanRead(c.id);
  }

  // Resolves a collection the caller may know about. Anonymous callers get 401 for anything
  // not public, authenticated ones 404, so hidden collections are never revealed (§10.5).
  std::variant<store::CollectionInfo, Error> Collection(const std::string& id,
                                                        const http::Principal& who) {
    auto c = FindCollection(id);
    if (!c.ok() || !Visible(who, *c)) {
      if (!c.ok() && c.status().code() != absl::StatusCode::kNotFound) {
        return FromStatus(c.status(), "Store error");
      }
      if (who.anonymous()) return Error{401, "Unauthorized", "authentication required"};
      return Error{404, "Collection not found", common::Cat("no collection '", id, "'")};
    }
    return *c;
  }

  // --- resources ---------------------------------------------------------------------------

  std::string CollectionJson(const store::CollectionInfo& c, const http::Principal& who) {
    std::string s = "{\"id\":";
    AppendString(&s, c.id);
    s += ",\"title\":";
    AppendString(&s, c.title.empty() ? c.alias : c.title);
    if (!c.description.empty()) {
      s += ",\"description\":";
      AppendString(&s, c.description);
    }
    if (!c.alias.empty()) {
      s += ",\"alias\":";
      AppendString(&s, c.alias);
    }
    common::Append(&s, ",\"can_read\":", CanRead(who, c) ? "true" : "false",
                   ",\"can_write\":", who.CanWrite(c.id) ? "true" : "false", ",\"media_types\":[\"",
                   http::kStixMediaType, "\"]}");
    return s;
  }

  static void Ok(http::Response& res, int status, std::string body) {
    res.status = status;
    res.SetHeader("Content-Type", std::string(http::kTaxiiMediaType));
    res.body = std::move(body);
  }

  static void DateHeaders(http::Response& res, const std::vector<store::StoredObject>& objs) {
    if (objs.empty()) return;  // TAXII21.md §18.2: nothing to report on an empty result
    Micros first = objs.front().date_added, last = objs.back().date_added;
    for (const auto& o : objs) {
      first = std::min(first, o.date_added);
      last = std::max(last, o.date_added);
    }
    res.SetHeader("X-TAXII-Date-Added-First", common::FormatTimestamp(first));
    res.SetHeader("X-TAXII-Date-Added-Last", common::FormatTimestamp(last));
  }

  // Runs the query through the egress gate (for `audience` at `exit`) and, for mixed version
  // selections (e.g. first,last), keeps only the versions asked for, among those the gate
  // lets the audience see.
  absl::StatusOr<policy::GatedPage> Run(const Filters& f, const store::Query& q,
                                        const policy::Audience& audience, policy::Exit exit) {
    ACCORD_ASSIGN_OR_RETURN(policy::GatedPage page, reader.List(q, audience, exit));
    if (!f.Mixed()) return page;
    std::unordered_map<std::string, std::pair<Micros, Micros>> ends;  // id -> (first, last)
    std::vector<store::StoredObject> kept;
    for (auto& o : page.objects) {
      bool keep = false;
      for (Micros t : f.version_times) keep = keep || (o.has_modified && o.modified == t);
      if (!keep && (f.want_first || f.want_last)) {
        auto it = ends.find(o.id);
        if (it == ends.end()) {
          store::Query one;
          one.collection = q.collection;
          one.ids = {o.id};
          one.spec_versions = q.spec_versions;
          one.include_revoked = true;
          one.versions = store::VersionSelect::kFirst;
          ACCORD_ASSIGN_OR_RETURN(policy::GatedPage fp, reader.List(one, audience, exit));
          one.versions = store::VersionSelect::kLast;
          ACCORD_ASSIGN_OR_RETURN(policy::GatedPage lp, reader.List(one, audience, exit));
          std::pair<Micros, Micros> e{fp.objects.empty() ? -1 : fp.objects[0].modified,
                                      lp.objects.empty() ? -1 : lp.objects[0].modified};
          it = ends.emplace(o.id, e).first;
        }
        keep = (f.want_first && o.modified == it->second.first) ||
               (f.want_last && o.modified == it->second.second);
      }
      if (keep) kept.push_back(std::move(o));
    }
    page.objects = std::move(kept);
    return page;
  }

  // Run, for a page of at most q.limit objects whose JSON (`keep_json`: the objects page)
  // adds up to about opts.max_page_bytes: the page ends early, with more:true and the store's
  // cursor after its last object, once the JSON read passes the cap, and holds at least one
  // object (a single huge one still gets through, up to the body limit). Without
  // `keep_json` (manifest, versions: only metadata is sent) the JSON is dropped after each
  // chunk, and only the memory held at once is capped.
  // PERF/memory: the store is read in chunks sized from the largest object seen so far
  // (first chunk: one object), so that a page of small objects costs two queries and a page
  // of 10 MB notes never holds 1,000 of them (issue 10: six limit=1000 GETs took 1.7 GB).
  absl::StatusOr<policy::GatedPage> RunCapped(const Filters& f, store::Query q,
                                              const policy::Audience& audience, policy::Exit exit,
                                              bool keep_json) {
    const uint64_t cap = opts.max_page_bytes;
    if (cap == 0 || q.limit == 0) return Run(f, q, audience, exit);
    const uint64_t limit = q.limit;
    policy::GatedPage out;
    uint64_t consumed = 0;  // store rows read (admitted or not)
    uint64_t held = 0;      // JSON bytes kept in `out`
    uint64_t largest = 0;   // largest object seen
    uint64_t chunk = 1;
    while (true) {
      q.limit = std::min(chunk, limit - consumed);
      ACCORD_ASSIGN_OR_RETURN(policy::GatedPage part, Run(f, q, audience, exit));
      if (keep_json && q.limit > 1) {
        // Objects larger than any seen before can take the chunk past the cap before its
        // end; the page must end at the object that passes it, and only the store can give
        // a cursor there: the chunk is read again from the same cursor, one row at a time.
        uint64_t sum = held;
        size_t crossing = part.objects.size();
        for (size_t i = 0; i < part.objects.size() && crossing == part.objects.size(); ++i) {
          largest = std::max<uint64_t>(largest, part.objects[i].json.size());
          sum += part.objects[i].json.size();
          if (sum >= cap) crossing = i;
        }
        if (crossing + 1 < part.objects.size()) {
          chunk = 1;
          continue;
        }
      }
      consumed += q.limit;  // exact when part.more; the loop ends otherwise
      for (auto& o : part.objects) {
        largest = std::max<uint64_t>(largest, o.json.size());
        if (keep_json) {
          held += o.json.size();
        } else {
          std::string().swap(o.json);
        }
        out.objects.push_back(std::move(o));
      }
      out.withheld += part.withheld;
      out.replaced += part.replaced;
      if (out.withheld_reason.empty()) out.withheld_reason = std::move(part.withheld_reason);
      out.more = part.more;
      out.next = std::move(part.next);
      if (!part.more || consumed >= limit || held >= cap) break;
      q.cursor = out.next;  // the next chunk continues after this one's last row
      // The next chunk: as many of the largest objects seen as fit in what is left of the
      // cap (at least one: a page may end one object over it).
      const uint64_t room = cap - held;
      // Nothing admitted yet (all withheld): sizes unknown, so the chunk only doubles.
      chunk = largest == 0 ? chunk * 2 : std::max<uint64_t>(1, room / largest);
    }
    // A page that stopped at `limit` says more:true only if the store had more (Run's own
    // answer), as before: `out.more` and `out.next` are the last chunk's.
    return out;
  }

  // Answers 200 with {"more":..,"next":..,"<member>":[items]} (more/next only when there are
  // items or more pages) and the X-TAXII-Date-Added headers; `body` may carry reserved space.
  template <typename AppendItem>
  static std::optional<Error> SendPage(const policy::GatedPage& page, const char* member,
                                       std::string body, http::Response& res,
                                       AppendItem&& append_item) {
    if (tl_delivery) {
      // The audit entry of this response (Cached() writes it): exactly what the page holds.
      *tl_delivery = policy::EgressEntry(policy::Audience(), policy::Exit::kTaxiiObjects, {},
                                         page.objects, page);
    }
    body += '{';
    if (!page.objects.empty()) {
      AppendMoreNext(&body, page);
      common::Append(&body, ",\"", member, "\":[");
      bool first = true;
      for (const auto& o : page.objects) {
        if (!first) body += ',';
        first = false;
        append_item(&body, o);
      }
      body += ']';
    } else if (page.more) {
      AppendMoreNext(&body, page);
    }
    body += '}';
    DateHeaders(res, page.objects);
    Ok(res, 200, std::move(body));
    return std::nullopt;
  }

  static void AppendMoreNext(std::string* body, const policy::GatedPage& page) {
    common::Append(body, "\"more\":", page.more ? "true" : "false");
    if (page.more && !page.next.empty()) {
      *body += ",\"next\":";
      AppendString(body, page.next);
    }
  }

  std::optional<Error> GetObjects(const http::Request& req, const store::CollectionInfo& c,
                                  const std::string* object_id, const policy::Audience& audience,
                                  http::Response& res) {
    const policy::Exit exit = object_id ? policy::Exit::kTaxiiObject : policy::Exit::kTaxiiObjects;
    unsigned allowed = kAddedAfter | kLimit | kNext | kMatchVersion | kMatchSpecVersion;
    if (!object_id) allowed |= kMatchId | kMatchType;
    auto f = ParseFilters(req.query, allowed, opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    if (object_id) f->ids = {*object_id};
    auto page = RunCapped(*f, MakeQuery(*f, c.id, opts), audience, exit, /*keep_json=*/true);
    if (!page.ok()) return FromReadStatus(page.status());
    if (object_id && page->objects.empty() && !f->next) {
      if (auto e = RequireObject(c, *object_id, audience, exit)) return e;
    }
    std::string body;
    size_t total = 0;
    for (const auto& o : page->objects) total += o.json.size() + 1;
    body.reserve(total + 64);
    return SendPage(*page, "objects", std::move(body), res,
                    [](std::string* b, const store::StoredObject& o) { *b += o.json; });
  }

  // 404 unless some version of `object_id` that the gate lets `audience` see is in `c` (a
  // withheld object is not found: its existence does not leave either).
  std::optional<Error> RequireObject(const store::CollectionInfo& c, const std::string& id,
                                     const policy::Audience& audience, policy::Exit exit) {
    store::Query q;
    q.collection = c.id;
    q.ids = {id};
    q.versions = store::VersionSelect::kAll;
    q.include_revoked = true;
    q.limit = 0;  // all versions: the first ones may be withheld
    auto any = reader.List(q, audience, exit);
    if (!any.ok()) return FromReadStatus(any.status());
    if (any->objects.empty()) {
      return Error{404, "Object not found",
                   common::Cat("no object '", id, "' in collection '", c.id, "'")};
    }
    return std::nullopt;
  }

  std::optional<Error> GetManifest(const http::Request& req, const store::CollectionInfo& c,
                                   const policy::Audience& audience, http::Response& res) {
    auto f = ParseFilters(
        req.query,
        kAddedAfter | kLimit | kNext | kMatchId | kMatchType | kMatchVersion | kMatchSpecVersion,
        opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    auto page = RunCapped(*f, MakeQuery(*f, c.id, opts), audience, policy::Exit::kTaxiiManifest,
                          /*keep_json=*/false);
    if (!page.ok()) return FromReadStatus(page.status());
    return SendPage(*page, "objects", std::string(), res,
                    [](std::string* b, const store::StoredObject& o) {
                      *b += "{\"id\":";
                      AppendString(b, o.id);
                      common::Append(b, ",\"date_added\":\"", common::FormatTimestamp(o.date_added),
                                     "\",\"version\":\"", VersionString(o),
                                     "\",\"media_type\":\"application/stix+json;version=",
                                     o.spec_version.empty() ? "2.1" : o.spec_version, "\"}");
                    });
  }

  std::optional<Error> GetVersions(const http::Request& req, const store::CollectionInfo& c,
                                   const std::string& object_id, const policy::Audience& audience,
                                   http::Response& res) {
    auto f = ParseFilters(req.query, kAddedAfter | kLimit | kNext | kMatchSpecVersion, opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    f->ids = {object_id};
    f->want_all = true;
    f->want_last = false;
    auto page = RunCapped(*f, MakeQuery(*f, c.id, opts), audience, policy::Exit::kTaxiiVersions,
                          /*keep_json=*/false);
    if (!page.ok()) return FromReadStatus(page.status());
    if (page->objects.empty() && !f->next) {
      if (auto e = RequireObject(c, object_id, audience, policy::Exit::kTaxiiVersions)) return e;
    }
    return SendPage(
        *page, "versions", std::string(), res,
        [](std::string* b, const store::StoredObject& o) { AppendString(b, VersionString(o)); });
  }

  // The versions to delete are found through the same gated read as GET object (a principal
  // deletes only versions it may see, and learns nothing of the others; in lockdown DELETE is
  // refused too, as its answer would tell whether the object exists).
  std::optional<Error> DeleteObject(const http::Request& req, const store::CollectionInfo& c,
                                    const std::string& object_id, const policy::Audience& audience,
                                    http::Response& res) {
    auto f = ParseFilters(req.query, kMatchVersion | kMatchSpecVersion, opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    f->ids = {object_id};
    store::Query q = MakeQuery(*f, c.id, opts);
    q.limit = 0;
    auto page = Run(*f, q, audience, policy::Exit::kTaxiiObject);
    if (!page.ok()) return FromReadStatus(page.status());
    if (page->objects.empty()) {
      return Error{404, "Object not found",
                   common::Cat("no matching version of '", object_id, "' in this collection")};
    }
    std::vector<Micros> times;
    if (!(f->want_all && f->spec_versions.empty()) || page->withheld) {
      for (const auto& o : page->objects) times.push_back(o.modified);
    }
    auto n = store->Delete(c.id, object_id, times);
    local_changes.fetch_add(1, std::memory_order_acq_rel);
    if (!n.ok()) return FromStatus(n.status(), "Delete failed");
    Ok(res, 200, "");
    return std::nullopt;
  }

  std::optional<Error> PostObjects(const http::Request& req, const store::CollectionInfo& c,
                                   const http::Principal& who, http::Response& res) {
    std::string_view ct = req.Header("content-type");
    if (!http::IsTaxii21ContentType(ct)) {
      return Error{415, "Unsupported media type",
                   common::Cat("Content-Type must be ", http::kTaxiiMediaType, ", got '", ct, "'")};
    }
    if (req.body.size() > opts.max_content_length) {
      return Error{413, "Request too large",
                   common::Cat("body exceeds max_content_length ", opts.max_content_length)};
    }
    Micros request_ts = common::NowMicros();
    thread_local simdjson::dom::parser parser;
    // The parser keeps its buffers (about ten times the body) for the thread's next POST;
    // those a large body grew are released when this request is done, or every handler thread
    // would keep ~1 GB after one 100 MB POST (issue 10: statuses "never freed").
    struct ReleaseLarge {
      simdjson::dom::parser& p;
      ~ReleaseLarge() {
        if (p.capacity() > (1u << 20)) p = simdjson::dom::parser();
      }
    } release_large{parser};
    simdjson::dom::element root;
    if (auto err = parser.parse(req.body).get(root); err) {
      return Error{400, "Malformed JSON",
                   common::Cat("the body is not JSON: ", simdjson::error_message(err))};
    }
    simdjson::dom::array objects;
    if (root.type() != simdjson::dom::element_type::OBJECT ||
        root["objects"].get_array().get(objects)) {
      return Error{422, "Not an envelope",
                   "the body must be a TAXII envelope: {\"objects\": [ ... ]}"};
    }
    // I-JSON (RFC 7493): the envelope's own members; each object is checked by the reader.
    if (auto dup = stix::FindDuplicateOwnKey(root.get_object().value_unsafe())) {
      return Error{400, "Malformed JSON", stix::DuplicateKeyMessage(*dup)};
    }
    std::vector<simdjson::dom::element> elems(objects.begin(), objects.end());
    std::string array_json = simdjson::minify(objects);

    // The one ingest path (src/ingest/): validation, pattern check and the later stages, the
    // same as `accord import` and `accord taxii pull`; the committer below is its store step.
    ingest::Options io;
    io.collection = c.id;
    io.origin = {"taxii-post", who.user};
    ingest::ApplyPatternPolicy(opts.pattern_policy, &io, c.id, c.alias);
    auto src = ingest::BufferSource("request", array_json);
    auto st = ingest::CheckSource(*src, io);
    if (!st.ok()) return FromStatus(st.status(), "Unprocessable content");
    std::vector<stix::ObjectRecord> records = std::move(st->records);
    std::vector<stix::Problem> problems = std::move(st->problems);
    if (!elems.empty() && records.empty() && problems.size() == 1 &&
        problems[0].object_id.empty() && problems[0].location.find('#') == std::string::npos) {
      return Error{422, "Unprocessable content", problems[0].ToString()};
    }
    // The status keeps counts and failures, not the id of every success (`successes` is
    // optional, TAXII 2.1 §4.3.1): a 100,000-object POST stays a small row.
    store::RequestStatus status;
    status.id = NewUuid4();
    status.owner = who.user;
    status.request_timestamp = request_ts;
    status.total_count = records.size() + problems.size();
    status.success_count = records.size();
    status.failure_count = problems.size();
    // Statuses are bounded in bytes: the first max_status_failures failures are listed in
    // full, the rest only counted (failure_count stays exact). Before, 400k failures were
    // each kept, stored as a row and listed.
    const size_t listed = std::min<uint64_t>(problems.size(), opts.max_status_failures);
    status.failures.reserve(listed);
    for (size_t i = 0; i < listed; ++i) {
      const auto& p = problems[i];
      // The element's own modified/created, when it has one, as the failure's version.
      std::string_view version;
      size_t hash = p.location.rfind('#');
      uint64_t n = 0;
      if (hash != std::string::npos && text::ParseInt(p.location.substr(hash + 1), &n) && n >= 1 &&
          n <= elems.size() && elems[n - 1].is_object()) {
        auto o = elems[n - 1];
        if (o["modified"].get_string().get(version)) TryGet(o["created"].get_string(), version);
      }
      status.failures.push_back(store::StatusDetail{p.object_id, std::string(version), p.message});
    }
    if (records.empty()) {
      if (absl::Status put = PutStatus(status); !put.ok()) return FromStatus(put, "Store error");
      Ok(res, 202, StatusJson(status));
      return std::nullopt;
    }
    // Answered once the records are committed (the status above is then true).
    res.deferred = [this, collection = c.id, records = std::move(records),
                    status = std::move(status), user = who.user,
                    request_id = req.id](http::Response::Send send) mutable {
      std::string writer = user;         // recorded with copies refused as content conflicts
      std::string audited = collection;  // for the audit entry (`collection` is moved below)
      committer.Submit(
          std::move(collection), std::move(records),
          [this, status = std::move(status), user = std::move(user),
           collection = std::move(audited), request_id = std::move(request_id),
           send = std::move(send)](const auto& done) mutable {
            local_changes.fetch_add(1, std::memory_order_acq_rel);
            http::Response r;
            // The objects are committed; a status that cannot be stored makes the
            // request fail, and a retry reports them as (duplicate) successes.
            absl::Status result = done.status();
            // Versions refused as content conflicts (issue 10) are failures of this request.
            if (result.ok()) {
              for (const store::ContentConflict& cc : done->conflicting) {
                status.failures.push_back(
                    store::StatusDetail{cc.id, common::FormatTimestamp(cc.modified),
                                        ingest::ConflictMessage(cc.modified)});
              }
              status.success_count -= std::min(status.success_count, done->conflicts);
              status.failure_count += done->conflicts;
            }
            if (result.ok() && opts.audit && done->memberships > 0) {
              // Committed: recorded before it is acknowledged (a failure fails the request,
              // and a retry reports the objects as duplicate successes).
              result =
                  opts.audit->Append(ingest::WriteEntry({"taxii-post", user}, collection, *done))
                      .status();
            }
            if (result.ok()) result = PutStatus(status);
            if (result.ok()) {
              Ok(r, 202, StatusJson(status));
            } else {
              r = ToResponse(FromStatus(result, "Store error"), request_id);
            }
            r.user = std::move(user);
            send(std::move(r));
          },
          std::move(writer));
    };
    return std::nullopt;
  }

  // --- dispatch ----------------------------------------------------------------------------

  // Serves resource `r` once the router matched its route and method and the authentication
  // middleware set the principal: the TAXII visibility rules (401 for anonymous callers where
  // nothing is public, 404 for hidden collections), Accept (406), then the resource.
  std::optional<Error> Serve(const Route& r, const http::RequestContext& ctx, http::Response& res) {
    const http::Request& req = ctx.request;
    const http::Principal& who = ctx.principal;
    res.user = who.user;
    if (who.anonymous() && r.kind != Route::kCollection && r.kind != Route::kManifest &&
        r.kind != Route::kObjects && r.kind != Route::kObject && r.kind != Route::kVersions) {
      // Anonymous callers see the server only when some collection is public.
      if (r.kind == Route::kStatus || !AnyPublic()) {
        return Error{401, "Unauthorized", "authentication required"};
      }
    }
    if (!http::AcceptsTaxii21(req.Header("accept"))) {
      return Error{406, "Not acceptable",
                   common::Cat("Accept must include ", http::kTaxiiMediaType, ", got '",
                               req.Header("accept"), "'")};
    }
    if (r.kind == Route::kDiscovery) {
      std::string root = common::Cat("/", opts.api_root, "/");
      std::string body = "{\"title\":";
      AppendString(&body, opts.title);
      if (!opts.description.empty()) {
        body += ",\"description\":";
        AppendString(&body, opts.description);
      }
      if (!opts.contact.empty()) {
        body += ",\"contact\":";
        AppendString(&body, opts.contact);
      }
      body += ",\"default\":";
      AppendString(&body, root);
      body += ",\"api_roots\":[";
      AppendString(&body, root);
      body += "]}";
      Ok(res, 200, std::move(body));
      return std::nullopt;
    }
    switch (r.kind) {
      case Route::kApiRoot: {
        std::string body = "{\"title\":";
        AppendString(&body, opts.title);
        if (!opts.description.empty()) {
          body += ",\"description\":";
          AppendString(&body, opts.description);
        }
        common::Append(&body, ",\"versions\":[\"", http::kTaxiiMediaType,
                       "\"],\"max_content_length\":", opts.max_content_length, "}");
        Ok(res, 200, std::move(body));
        return std::nullopt;
      }
      case Route::kStatus: {
        auto got = GetStatus(r.status_id, who);
        if (!got.ok()) return FromStatus(got.status(), "Store error");
        std::optional<std::string>& s = *got;
        if (!s) {
          return Error{404, "Status not found", common::Cat("no status '", r.status_id, "'")};
        }
        Ok(res, 200, std::move(*s));
        return std::nullopt;
      }
      case Route::kCollections: {
        auto f = ParseFilters(req.query, kLimit | kNext, opts);  // accepted, not needed
        if (!f.ok()) return FromStatus(f.status(), "Bad request");
        auto cols_or = Collections(kCollectionsTtl);
        if (!cols_or.ok()) return FromStatus(cols_or.status(), "Store error");
        std::vector<store::CollectionInfo> sorted(**cols_or);
        std::sort(sorted.begin(), sorted.end(),
                  [](const auto& a, const auto& b) { return a.id < b.id; });
        std::string body = "{";
        bool first = true;
        for (const auto& c : sorted) {
          if (!Visible(who, c)) continue;
          body += first ? "\"collections\":[" : ",";
          first = false;
          body += CollectionJson(c, who);
        }
        if (!first) body += ']';
        body += '}';
        Ok(res, 200, std::move(body));
        return std::nullopt;
      }
      default: break;
    }
    auto c_or = Collection(r.collection, who);
    if (auto* e = std::get_if<Error>(&c_or)) return *e;
    const store::CollectionInfo& c = std::get<store::CollectionInfo>(c_or);
    const bool can_read = CanRead(who, c), can_write = who.CanWrite(c.id);
    const policy::Audience audience = AudienceOf(who);
    auto need = [&](bool ok, std::string_view what) -> std::optional<Error> {
      if (ok) return std::nullopt;
      if (who.anonymous()) return Error{401, "Unauthorized", "authentication required"};
      return Error{403, "Forbidden",
                   common::Cat("you may not ", what, " collection '", c.id, "'",
                               who.role == http::Role::kAuditor
                                   ? " (an auditor reads the audit log and the agreements, never "
                                     "intelligence)"
                                   : "")};
    };
    switch (r.kind) {
      case Route::kCollection: Ok(res, 200, CollectionJson(c, who)); return std::nullopt;
      case Route::kManifest:
        if (auto e = need(can_read, "read")) return e;
        return Cached('m', c.id, {}, audience, req, res,
                      [&] { return GetManifest(req, c, audience, res); });
      case Route::kObjects:
        if (req.method == "POST") {
          if (auto e = need(can_write, "write to")) return e;
          return PostObjects(req, c, who, res);
        }
        if (auto e = need(can_read, "read")) return e;
        return Cached('o', c.id, {}, audience, req, res,
                      [&] { return GetObjects(req, c, nullptr, audience, res); });
      case Route::kObject:
        if (req.method == "DELETE") {
          // TAXII §5.7 permission table: both false 404 (handled by visibility), else 403.
          if (auto e = need(can_read && can_write, "delete from")) return e;
          return DeleteObject(req, c, r.object_id, audience, res);
        }
        if (auto e = need(can_read, "read")) return e;
        return Cached('O', c.id, r.object_id, audience, req, res,
                      [&] { return GetObjects(req, c, &r.object_id, audience, res); });
      case Route::kVersions:
        if (auto e = need(can_read, "read")) return e;
        return Cached('v', c.id, r.object_id, audience, req, res,
                      [&] { return GetVersions(req, c, r.object_id, audience, res); });
      default: return Error{404, "Not found", "no such resource"};
    }
  }
};

Service::Service(store::Store* store, http::AuthDb* auth, ServiceOptions options,
                 ChangeSource* changes, policy::Gate* gate)
    : options_(std::move(options)),
      impl_(std::make_unique<Impl>(store, auth, options_, changes, gate)) {}

Service::~Service() = default;

void Service::Mount(http::Router& router) {
  const std::string root = common::Cat("/", options_.api_root, "/");
  const std::string col = root + "collections/{collection}/";
  auto add = [&](std::string_view method, const std::string& pattern, Route::Kind kind,
                 http::RouteOptions o = {}) {
    router.Add(
        method, pattern,
        [impl = impl_.get(), kind](http::RequestContext& ctx, http::Response& res) {
          Route r;
          r.kind = kind;
          r.status_id = std::string(ctx.Param("status"));
          r.collection = std::string(ctx.Param("collection"));
          r.object_id = std::string(ctx.Param("object"));
          std::optional<Error> err = impl->Serve(r, ctx, res);
          if (err) {
            http::Response e = ToResponse(*err, ctx.request_id);
            e.user = std::move(res.user);
            res = std::move(e);
          }
          // HEAD keeps the body: http::Server sends its length as Content-Length and no
          // body.
        },
        std::move(o));
  };
  http::RouteOptions post;
  post.max_body_bytes = options_.max_content_length;
  // Decided on the request head, before the body is read (issue 10): a caller who may not
  // write to the collection gets the same 401/403/404 as Serve() would give, without sending
  // the body.
  post.check_head = [impl = impl_.get()](http::RequestContext& ctx, http::Response& res) {
    const http::Principal& who = ctx.principal;
    auto c = impl->Collection(std::string(ctx.Param("collection")), who);
    std::optional<Error> err;
    if (auto* e = std::get_if<Error>(&c)) {
      err = *e;
    } else if (const auto& info = std::get<store::CollectionInfo>(c); !who.CanWrite(info.id)) {
      err = who.anonymous() ? Error{401, "Unauthorized", "authentication required"}
                            : Error{403, "Forbidden",
                                    common::Cat("you may not write to collection '", info.id, "'")};
    }
    if (!err) return http::Next::kContinue;
    res = ToResponse(*err, ctx.request_id);
    res.user = who.user;
    return http::Next::kAnswered;
  };
  add("GET", "/taxii2/", Route::kDiscovery);
  add("GET", root, Route::kApiRoot);
  add("GET", root + "status/{status}/", Route::kStatus);
  add("GET", root + "collections/", Route::kCollections);
  add("GET", col, Route::kCollection);
  add("GET", col + "manifest/", Route::kManifest);
  add("GET", col + "objects/", Route::kObjects);
  add("POST", col + "objects/", Route::kObjects, post);
  add("GET", col + "objects/{object}/", Route::kObject);
  add("DELETE", col + "objects/{object}/", Route::kObject);
  add("GET", col + "objects/{object}/versions/", Route::kVersions);
}

void Service::Handle(const http::Request& req, http::Response& res) {
  std::call_once(impl_->own_router_once, [this] {
    impl_->own_router = std::make_unique<http::Router>(ErrorResponse);
    if (impl_->auth) {
      impl_->own_authenticator = http::NewAuthDbAuthenticator(impl_->auth);
      impl_->own_router->Use(http::AuthenticationMiddleware(impl_->own_authenticator.get()));
    }
    impl_->own_router->Use(http::LimitsMiddleware());
    Mount(*impl_->own_router);
  });
  if (!req.id.empty()) {
    impl_->own_router->Handle(req, res);
    return;
  }
  // Called without a server (tools, tests, fuzzers): give the request an id so that the log
  // lines and the answers (also a deferred one) name the same one.
  http::Request named = req;
  named.id = NewUuid4();
  impl_->own_router->Handle(named, res);
}

}  // namespace accord::taxii
