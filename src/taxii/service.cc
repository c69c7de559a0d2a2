#include "accord/taxii/service.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <simdjson.h>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "http/text.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/http/message.h"
#include "accord/stix/reader.h"
#include "taxii/json_util.h"

namespace accord::taxii {
namespace text = http::text;
namespace {

using detail::TryGet;

using common::Micros;
using http::AppendJsonEscaped;

constexpr std::string_view kWwwAuthenticate = R"(Basic realm="accord", Bearer realm="accord")";

// A handler's early exit: an HTTP status with the error resource's title and description.
struct Error {
  int status;
  std::string title;
  std::string description;
};

Error FromStatus(const absl::Status& s, std::string_view title) {
  return Error{HttpStatusFor(s.code()), std::string(title), std::string(s.message())};
}

std::string NewUuid4() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
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

// Parsed filter parameters of one request (TAXII §3.4).
struct Filters {
  std::optional<Micros> added_after;
  std::optional<uint64_t> limit;
  std::optional<std::string> next;
  std::vector<std::string> ids, types, spec_versions;
  bool has_version = false;
  bool want_first = false, want_last = false, want_all = false;
  std::vector<Micros> version_times;

  // Whether version selection needs more than one Query mode (first+last, or keyword plus
  // timestamps): then versions are fetched with kAll and filtered per object.
  bool Mixed() const {
    int kinds = int(want_first) + int(want_last) + int(!version_times.empty());
    return !want_all && kinds > 1;
  }
};

enum ParamSet : unsigned {
  kAddedAfter = 1, kLimit = 2, kNext = 4, kMatchId = 8, kMatchType = 16, kMatchVersion = 32,
  kMatchSpecVersion = 64,
};

absl::StatusOr<std::vector<std::string>> SplitList(std::string_view name, std::string_view v) {
  std::vector<std::string> out;
  std::set<std::string_view> seen;
  for (std::string_view item : text::Split(v, ',')) {
    if (item.empty()) {
      return absl::InvalidArgumentError(common::Cat(name, ": empty value in '", v, "'"));
    }
    if (!seen.insert(item).second) {
      return absl::InvalidArgumentError(common::Cat(name, ": '", item, "' given twice"));
    }
    out.emplace_back(item);
  }
  return out;
}

absl::StatusOr<Filters> ParseFilters(std::string_view query, unsigned allowed,
                                     const ServiceOptions& opts) {
  Filters f;
  ACCORD_ASSIGN_OR_RETURN(auto params, http::ParseQuery(query));
  unsigned seen = 0;
  auto once = [&](unsigned bit, const std::string& name) -> absl::Status {
    if (!(allowed & bit)) {
      return absl::InvalidArgumentError(
          common::Cat("parameter '", name, "' is not valid on this endpoint"));
    }
    if (seen & bit) {
      return absl::InvalidArgumentError(common::Cat("parameter '", name, "' given twice"));
    }
    seen |= bit;
    return absl::OkStatus();
  };
  for (auto& [k, v] : params) {
    if (k == "added_after") {
      ACCORD_RETURN_IF_ERROR(once(kAddedAfter, k));
      auto t = common::ParseTimestamp(v);
      if (!t.ok()) {
        return absl::InvalidArgumentError(
            common::Cat("added_after: '", v, "' is not a timestamp: ", t.status().message()));
      }
      f.added_after = t->micros;
    } else if (k == "limit") {
      ACCORD_RETURN_IF_ERROR(once(kLimit, k));
      int64_t n = 0;
      if (!text::ParseInt(v, &n) || n <= 0) {
        return absl::InvalidArgumentError(
            common::Cat("limit: '", v, "' is not a positive integer"));
      }
      f.limit = std::min<uint64_t>(static_cast<uint64_t>(n), opts.max_page_size);
    } else if (k == "next") {
      ACCORD_RETURN_IF_ERROR(once(kNext, k));
      if (v.empty() || v.size() > 4096) return absl::InvalidArgumentError("next: invalid token");
      f.next = v;
    } else if (k == "match[id]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchId, k));
      ACCORD_ASSIGN_OR_RETURN(f.ids, SplitList(k, v));
    } else if (k == "match[type]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchType, k));
      ACCORD_ASSIGN_OR_RETURN(f.types, SplitList(k, v));
    } else if (k == "match[spec_version]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchSpecVersion, k));
      ACCORD_ASSIGN_OR_RETURN(f.spec_versions, SplitList(k, v));
      for (auto& sv : f.spec_versions) {
        if (sv != "2.0" && sv != "2.1") {
          return absl::InvalidArgumentError(
              common::Cat("match[spec_version]: '", sv, "' is not 2.0 or 2.1"));
        }
      }
    } else if (k == "match[version]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchVersion, k));
      ACCORD_ASSIGN_OR_RETURN(auto items, SplitList(k, v));
      f.has_version = true;
      for (auto& item : items) {
        if (item == "all") {
          f.want_all = true;
        } else if (item == "first") {
          f.want_first = true;
        } else if (item == "last") {
          f.want_last = true;
        } else {
          auto t = common::ParseTimestamp(item);
          if (!t.ok()) {
            return absl::InvalidArgumentError(common::Cat(
                "match[version]: '", item, "' is not first, last, all or a timestamp"));
          }
          f.version_times.push_back(t->micros);
        }
      }
      if (f.want_all && items.size() > 1) {
        return absl::InvalidArgumentError("match[version]: 'all' cannot be combined");
      }
    } else if (k.rfind("match[", 0) == 0) {
      // TAXII §3.4: unknown match fields MAY be ignored.
    }
  }
  if (!f.has_version) f.want_last = true;
  return f;
}

store::Query MakeQuery(const Filters& f, const std::string& collection,
                       const ServiceOptions& opts) {
  store::Query q;
  q.collection = collection;
  q.ids = f.ids;
  q.types = f.types;
  q.spec_versions = f.spec_versions;
  q.added_after = f.added_after;
  q.include_revoked = true;  // TAXII serves revoked versions too; consumers decide
  q.limit = f.limit.value_or(opts.default_page_size);
  if (f.next) q.cursor = *f.next;
  if (f.want_all || f.Mixed()) {
    q.versions = store::VersionSelect::kAll;
  } else if (!f.version_times.empty()) {
    q.versions = store::VersionSelect::kAll;
    q.version_times = f.version_times;
  } else {
    q.versions = f.want_first ? store::VersionSelect::kFirst : store::VersionSelect::kLast;
  }
  return q;
}

struct Route {
  enum Kind {
    kDiscovery, kApiRoot, kStatus, kCollections, kCollection, kManifest, kObjects, kObject,
    kVersions, kNone
  } kind = kNone;
  std::string root, status_id, collection, object_id;
};

Route Parse(std::string_view path) {
  Route r;
  if (path.empty() || path.back() != '/') return r;
  std::vector<std::string> seg;
  for (std::string_view s : text::Split(path.substr(1, path.size() - 2), '/')) {
    auto d = http::PercentDecode(s, false);
    if (!d.ok()) return r;
    seg.push_back(std::move(*d));
  }
  if (seg.size() == 1 && seg[0] == "taxii2") {
    r.kind = Route::kDiscovery;
    return r;
  }
  if (seg.empty() || seg[0].empty()) return r;
  r.root = seg[0];
  if (seg.size() == 1) {
    r.kind = Route::kApiRoot;
  } else if (seg.size() == 3 && seg[1] == "status") {
    r.kind = Route::kStatus;
    r.status_id = seg[2];
  } else if (seg[1] == "collections") {
    if (seg.size() == 2) {
      r.kind = Route::kCollections;
    } else {
      r.collection = seg[2];
      if (seg.size() == 3) {
        r.kind = Route::kCollection;
      } else if (seg.size() == 4 && seg[3] == "manifest") {
        r.kind = Route::kManifest;
      } else if (seg.size() == 4 && seg[3] == "objects") {
        r.kind = Route::kObjects;
      } else if (seg.size() == 5 && seg[3] == "objects") {
        r.kind = Route::kObject;
        r.object_id = seg[4];
      } else if (seg.size() == 6 && seg[3] == "objects" && seg[5] == "versions") {
        r.kind = Route::kVersions;
        r.object_id = seg[4];
      }
    }
  }
  return r;
}

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

// An LRU of serialized GET responses, bounded by bytes. A hit must match the change stamp
// taken when the entry was filled (see ServiceOptions::response_cache_bytes).
class PageCache {
 public:
  struct Page {
    std::string body;
    std::string added_first, added_last;  // X-TAXII-Date-Added-First/Last, empty when none
    uint64_t stamp_local = 0, stamp_external = 0;
    Micros filled = 0;
  };

  explicit PageCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  std::shared_ptr<const Page> Get(const std::string& key, uint64_t local, uint64_t external,
                                  Micros not_before) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    const auto& p = it->second->second;
    if (p->stamp_local != local || p->stamp_external != external || p->filled < not_before) {
      Erase(it);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return p;
  }

  void Put(const std::string& key, std::shared_ptr<const Page> page) {
    size_t cost = Cost(key, *page);
    if (cost > max_bytes_ / 4) return;  // one huge page must not flush everything else
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = map_.find(key); it != map_.end()) Erase(it);
    lru_.emplace_front(key, std::move(page));
    map_.emplace(key, lru_.begin());
    bytes_ += cost;
    while (bytes_ > max_bytes_ && !lru_.empty()) Erase(map_.find(lru_.back().first));
  }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const Page>>;
  using Map = std::unordered_map<std::string, std::list<Entry>::iterator>;

  static size_t Cost(const std::string& key, const Page& p) {
    return 2 * key.size() + p.body.size() + p.added_first.size() + p.added_last.size() + 160;
  }
  void Erase(Map::iterator it) {
    bytes_ -= Cost(it->first, *it->second->second);
    lru_.erase(it->second);
    map_.erase(it);
  }

  const uint64_t max_bytes_;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  Map map_;
  uint64_t bytes_ = 0;
};

// Group commit on a committer thread: POST handlers parse and validate on their workers, then
// hand their records over and return (http::Response::deferred), so no worker waits for the
// disk. The committer writes everything queued meanwhile (same collection, up to
// kMaxGroupRecords) in one store transaction and calls each request's `done` with the outcome;
// a request is answered only after the transaction holding its records committed.
// PERF: one 100-object transaction dirties ~100 random leaves of the store's id index; under
// load the groups grow and that cost is shared (bench/store/small_txn_bench: 42k objects/s in
// transactions of 100, 158k in transactions of 5,000).
class GroupCommitter {
 public:
  static constexpr size_t kMaxGroupRecords = 20000;
  static constexpr size_t kMaxQueuedRecords = 200000;  // beyond this, Submit waits (backpressure)
  using Done = std::function<void(absl::Status)>;

  explicit GroupCommitter(store::Store* store) : store_(store), thread_([this] { Loop(); }) {}
  ~GroupCommitter() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // commits what is queued first
  }

  void Submit(std::string collection, std::vector<stix::ObjectRecord> records, Done done) {
    std::unique_lock<std::mutex> l(mu_);
    space_.wait(l, [&] { return queued_ < kMaxQueuedRecords || queue_.empty(); });
    queued_ += records.size();
    queue_.push_back(Job{std::move(collection), std::move(records), std::move(done)});
    cv_.notify_one();
  }

 private:
  struct Job {
    std::string collection;
    std::vector<stix::ObjectRecord> records;
    Done done;
  };

  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      std::vector<Job> group;
      size_t n = 0;
      while (!queue_.empty()) {
        const Job& j = queue_.front();
        if (!group.empty() && (j.collection != group[0].collection ||
                               n + j.records.size() > kMaxGroupRecords)) {
          break;
        }
        n += j.records.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      l.unlock();
      std::vector<absl::Status> results(group.size());
      absl::Status st = Write(group, 0, group.size());
      if (!st.ok() && group.size() > 1) {
        // One request's records must not fail another's: retry each alone.
        for (size_t i = 0; i < group.size(); ++i) results[i] = Write(group, i, i + 1);
      } else {
        for (auto& r : results) r = st;
      }
      for (size_t i = 0; i < group.size(); ++i) group[i].done(results[i]);
      l.lock();
      queued_ -= n;
      space_.notify_all();
    }
  }

  absl::Status Write(const std::vector<Job>& group, size_t begin, size_t end) {
    ACCORD_ASSIGN_OR_RETURN(auto txn, store_->BeginImport(group[begin].collection));
    for (size_t i = begin; i < end; ++i) {
      for (const auto& r : group[i].records) ACCORD_RETURN_IF_ERROR(txn->Add(r));
    }
    return txn->Commit().status();
  }

  store::Store* store_;
  std::mutex mu_;
  std::condition_variable cv_, space_;
  std::deque<Job> queue_;
  size_t queued_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: started after the members it uses
};

class StoreChangeSource final : public ChangeSource {
 public:
  StoreChangeSource(store::Store* store, int64_t min_interval_us)
      : store_(store), min_interval_us_(min_interval_us) {}
  uint64_t Counter() override {
    Micros now = min_interval_us_ > 0 ? common::NowMicros() : 0;
    if (min_interval_us_ > 0 && now - polled_.load(std::memory_order_acquire) < min_interval_us_) {
      return last_.load(std::memory_order_acquire);
    }
    auto g = store_->Generation();
    uint64_t v = g.ok() ? *g : errors_.fetch_add(1) | (uint64_t{1} << 63);
    last_.store(v, std::memory_order_release);
    polled_.store(now, std::memory_order_release);
    return v;
  }

 private:
  store::Store* store_;
  const int64_t min_interval_us_;
  std::atomic<uint64_t> last_{0}, errors_{0};
  std::atomic<Micros> polled_{0};
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
  PageCache pages;
  // Bumped after every write this service commits (POST, DELETE); part of a cache entry's stamp.
  std::atomic<uint64_t> local_changes{0};

  // Statuses of add-objects requests, kept status_retention_us (in memory: they do not
  // survive a restart; every status is `complete` when returned, so nothing is pending).
  struct StatusEntry {
    std::string owner;
    std::string body;
    Micros created;
  };
  std::mutex status_mu;
  std::unordered_map<std::string, StatusEntry> statuses;
  std::deque<std::pair<Micros, std::string>> status_order;
  // Last: destroyed first, so that commits still queued can report to the members above.
  GroupCommitter committer;

  Impl(store::Store* s, http::AuthDb* a, const ServiceOptions& o, ChangeSource* ch)
      : store(s), auth(a), opts(o), changes(ch), pages(o.response_cache_bytes), committer(s) {}

  // Serves a cacheable GET (`kind` names the resource) from the page cache, or runs `fill`
  // and caches its 200 answer. Entries are keyed by resource, collection, object and the raw
  // query: every query that parses to a 200 is a distinct, deterministic page for a given
  // store state (the principal only decides whether the page may be read, checked before).
  template <typename Fill>
  std::optional<Error> Cached(char kind, const std::string& collection, std::string_view object,
                              const http::Request& req, http::Response& res, Fill&& fill) {
    if (opts.response_cache_bytes == 0) return fill();
    std::string key;
    key.reserve(collection.size() + object.size() + req.query.size() + 4);
    key += kind;
    key += collection;
    key += '\0';
    key += object;
    key += '\0';
    key += req.query;
    // Stamps are read before the store is, so a change during `fill` makes the entry stale.
    uint64_t local = local_changes.load(std::memory_order_acquire);
    uint64_t external = changes ? changes->Counter() : 0;
    Micros now = common::NowMicros();
    if (auto p = pages.Get(key, local, external, now - opts.response_cache_max_age_us)) {
      res.status = 200;
      res.SetHeader("Content-Type", std::string(http::kTaxiiMediaType));
      if (!p->added_first.empty()) {
        res.SetHeader("X-TAXII-Date-Added-First", p->added_first);
        res.SetHeader("X-TAXII-Date-Added-Last", p->added_last);
      }
      res.shared_body = std::shared_ptr<const std::string>(p, &p->body);
      return std::nullopt;
    }
    std::optional<Error> e = fill();
    if (e || res.status != 200) return e;
    auto page = std::make_shared<PageCache::Page>();
    for (const auto& [k, v] : res.headers) {
      if (k == "X-TAXII-Date-Added-First") page->added_first = v;
      if (k == "X-TAXII-Date-Added-Last") page->added_last = v;
    }
    page->stamp_local = local;
    page->stamp_external = external;
    page->filled = now;
    page->body = std::move(res.body);
    res.body.clear();
    res.shared_body = std::shared_ptr<const std::string>(page, &page->body);
    pages.Put(key, std::move(page));
    return std::nullopt;
  }

  void PutStatus(const std::string& id, const std::string& owner, std::string body) {
    Micros now = common::NowMicros();
    std::lock_guard<std::mutex> l(status_mu);
    while (!status_order.empty() &&
           (status_order.front().first + opts.status_retention_us < now ||
            status_order.size() > 1000000)) {
      statuses.erase(status_order.front().second);
      status_order.pop_front();
    }
    statuses[id] = StatusEntry{owner, std::move(body), now};
    status_order.emplace_back(now, id);
  }

  std::optional<std::string> GetStatus(const std::string& id, const http::Principal& who) {
    Micros now = common::NowMicros();
    std::lock_guard<std::mutex> l(status_mu);
    auto it = statuses.find(id);
    if (it == statuses.end() || it->second.created + opts.status_retention_us < now) {
      return std::nullopt;
    }
    if (it->second.owner != who.user && who.role != http::Role::kAdmin) return std::nullopt;
    return it->second.body;
  }

  // --- authentication ----------------------------------------------------------------------

  // The caller, anonymous when no credentials were sent; 401 for bad credentials.
  std::variant<http::Principal, Error> Authenticate(const http::Request& req) {
    auto creds = http::ParseAuthorization(req.Header("authorization"));
    if (!creds.ok()) return Error{401, "Unauthorized", std::string(creds.status().message())};
    if (creds->scheme == http::Credentials::Scheme::kNone) return http::Principal{};
    auto p = auth->Authenticate(creds->user, creds->secret);
    if (!p.ok()) return Error{401, "Unauthorized", "invalid credentials"};
    return *p;
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
    uint64_t ext = changes ? changes->Counter()
                           : static_cast<uint64_t>(common::NowMicros() / kCollectionsTtl);
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

  static bool Visible(const http::Principal& who, const store::CollectionInfo& c) {
    return c.is_public || who.CanRead(c.id) || who.CanWrite(c.id);
  }
  static bool CanRead(const http::Principal& who, const store::CollectionInfo& c) {
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
                    ",\"can_write\":", who.CanWrite(c.id) ? "true" : "false",
                    ",\"media_types\":[\"", http::kStixMediaType, "\"]}");
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

  // Runs the query and, for mixed version selections (e.g. first,last), keeps only the
  // versions asked for.
  absl::StatusOr<store::Page> Run(const Filters& f, const store::Query& q) {
    ACCORD_ASSIGN_OR_RETURN(store::Page page, store->List(q));
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
          ACCORD_ASSIGN_OR_RETURN(store::Page fp, store->List(one));
          one.versions = store::VersionSelect::kLast;
          ACCORD_ASSIGN_OR_RETURN(store::Page lp, store->List(one));
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

  // Answers 200 with {"more":..,"next":..,"<member>":[items]} (more/next only when there are
  // items or more pages) and the X-TAXII-Date-Added headers; `body` may carry reserved space.
  template <typename AppendItem>
  static std::optional<Error> SendPage(const store::Page& page, const char* member,
                                       std::string body, http::Response& res,
                                       AppendItem&& append_item) {
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

  static void AppendMoreNext(std::string* body, const store::Page& page) {
    common::Append(body, "\"more\":", page.more ? "true" : "false");
    if (page.more && !page.next.empty()) {
      *body += ",\"next\":";
      AppendString(body, page.next);
    }
  }

  std::optional<Error> GetObjects(const http::Request& req, const store::CollectionInfo& c,
                                  const std::string* object_id, http::Response& res) {
    unsigned allowed = kAddedAfter | kLimit | kNext | kMatchVersion | kMatchSpecVersion;
    if (!object_id) allowed |= kMatchId | kMatchType;
    auto f = ParseFilters(req.query, allowed, opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    if (object_id) f->ids = {*object_id};
    auto page = Run(*f, MakeQuery(*f, c.id, opts));
    if (!page.ok()) return FromStatus(page.status(), "Query failed");
    if (object_id && page->objects.empty() && !f->next) {
      if (auto e = RequireObject(c, *object_id)) return e;
    }
    std::string body;
    size_t total = 0;
    for (const auto& o : page->objects) total += o.json.size() + 1;
    body.reserve(total + 64);
    return SendPage(*page, "objects", std::move(body), res,
                    [](std::string* b, const store::StoredObject& o) { *b += o.json; });
  }

  // 404 unless some version of `object_id` is in `c`.
  std::optional<Error> RequireObject(const store::CollectionInfo& c, const std::string& id) {
    store::Query q;
    q.collection = c.id;
    q.ids = {id};
    q.versions = store::VersionSelect::kAll;
    q.include_revoked = true;
    q.limit = 1;
    auto any = store->List(q);
    if (!any.ok()) return FromStatus(any.status(), "Query failed");
    if (any->objects.empty()) {
      return Error{404, "Object not found",
                   common::Cat("no object '", id, "' in collection '", c.id, "'")};
    }
    return std::nullopt;
  }

  std::optional<Error> GetManifest(const http::Request& req, const store::CollectionInfo& c,
                                   http::Response& res) {
    auto f = ParseFilters(req.query,
                          kAddedAfter | kLimit | kNext | kMatchId | kMatchType | kMatchVersion |
                              kMatchSpecVersion,
                          opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    auto page = Run(*f, MakeQuery(*f, c.id, opts));
    if (!page.ok()) return FromStatus(page.status(), "Query failed");
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
                                   const std::string& object_id, http::Response& res) {
    auto f = ParseFilters(req.query, kAddedAfter | kLimit | kNext | kMatchSpecVersion, opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    f->ids = {object_id};
    f->want_all = true;
    f->want_last = false;
    auto page = Run(*f, MakeQuery(*f, c.id, opts));
    if (!page.ok()) return FromStatus(page.status(), "Query failed");
    if (page->objects.empty() && !f->next) {
      if (auto e = RequireObject(c, object_id)) return e;
    }
    return SendPage(*page, "versions", std::string(), res,
                    [](std::string* b, const store::StoredObject& o) {
                      AppendString(b, VersionString(o));
                    });
  }

  std::optional<Error> DeleteObject(const http::Request& req, const store::CollectionInfo& c,
                                    const std::string& object_id, http::Response& res) {
    auto f = ParseFilters(req.query, kMatchVersion | kMatchSpecVersion, opts);
    if (!f.ok()) return FromStatus(f.status(), "Bad filter");
    f->ids = {object_id};
    store::Query q = MakeQuery(*f, c.id, opts);
    q.limit = 0;
    auto page = Run(*f, q);
    if (!page.ok()) return FromStatus(page.status(), "Query failed");
    if (page->objects.empty()) {
      return Error{404, "Object not found",
                   common::Cat("no matching version of '", object_id, "' in this collection")};
    }
    std::vector<Micros> times;
    if (!(f->want_all && f->spec_versions.empty())) {
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
                   common::Cat("Content-Type must be ", http::kTaxiiMediaType, ", got '", ct,
                                "'")};
    }
    if (req.body.size() > opts.max_content_length) {
      return Error{413, "Request too large",
                   common::Cat("body exceeds max_content_length ", opts.max_content_length)};
    }
    Micros request_ts = common::NowMicros();
    thread_local simdjson::dom::parser parser;
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
    std::vector<simdjson::dom::element> elems(objects.begin(), objects.end());
    std::string array_json = simdjson::minify(objects);

    std::vector<stix::ObjectRecord> records;
    std::vector<stix::Problem> problems;
    stix::ReaderOptions ro;
    ro.source_name = "request";
    auto st = stix::ReadBuffer(
        array_json, ro,
        [&](stix::ObjectRecord&& r) {
          records.push_back(std::move(r));
          return absl::OkStatus();
        },
        [&](stix::Problem&& p) { problems.push_back(std::move(p)); });
    if (!st.ok()) return FromStatus(st.status(), "Unprocessable content");
    if (!elems.empty() && records.empty() && problems.size() == 1 && problems[0].object_id.empty() &&
        problems[0].location.find('#') == std::string::npos) {
      return Error{422, "Unprocessable content", problems[0].ToString()};
    }
    std::string id = NewUuid4();
    std::string body = "{\"id\":\"" + id + "\",\"status\":\"complete\",\"request_timestamp\":\"" +
                       common::FormatTimestamp(request_ts) + "\"";
    common::Append(&body, ",\"total_count\":", records.size() + problems.size(),
                    ",\"success_count\":", records.size());
    if (!records.empty()) {
      body += ",\"successes\":[";
      for (size_t i = 0; i < records.size(); ++i) {
        const auto& r = records[i];
        if (i) body += ',';
        body += "{\"id\":";
        AppendString(&body, r.id);
        store::StoredObject so;
        so.has_modified = r.has_modified;
        so.modified = r.modified;
        so.date_added = request_ts;
        body += ",\"version\":";
        AppendString(&body, VersionString(so));
        body += '}';
      }
      body += ']';
    }
    common::Append(&body, ",\"failure_count\":", problems.size());
    if (!problems.empty()) {
      body += ",\"failures\":[";
      for (size_t i = 0; i < problems.size(); ++i) {
        const auto& p = problems[i];
        if (i) body += ',';
        // The element's own modified/created, when it has one, as the failure's version.
        std::string_view version;
        size_t hash = p.location.rfind('#');
        uint64_t n = 0;
        if (hash != std::string::npos && text::ParseInt(p.location.substr(hash + 1), &n) &&
            n >= 1 && n <= elems.size() && elems[n - 1].is_object()) {
          auto o = elems[n - 1];
          if (o["modified"].get_string().get(version)) TryGet(o["created"].get_string(), version);
        }
        body += "{\"id\":";
        AppendString(&body, p.object_id);
        body += ",\"version\":";
        AppendString(&body, version);
        body += ",\"message\":";
        AppendString(&body, p.message);
        body += '}';
      }
      body += ']';
    }
    body += ",\"pending_count\":0}";
    if (records.empty()) {
      PutStatus(id, who.user, body);
      Ok(res, 202, std::move(body));
      return std::nullopt;
    }
    // Answered once the records are committed (the status above is then true).
    res.deferred = [this, collection = c.id, records = std::move(records), id, body = std::move(body),
                    user = who.user](http::Response::Send send) mutable {
      committer.Submit(std::move(collection), std::move(records),
                       [this, id = std::move(id), body = std::move(body), user = std::move(user),
                        send = std::move(send)](absl::Status done) mutable {
                         local_changes.fetch_add(1, std::memory_order_acq_rel);
                         http::Response r;
                         if (done.ok()) {
                           PutStatus(id, user, body);
                           Ok(r, 202, std::move(body));
                         } else {
                           Error e = FromStatus(done, "Store error");
                           r = ErrorResponse(e.status, e.title, e.description);
                         }
                         r.user = std::move(user);
                         send(std::move(r));
                       });
    };
    return std::nullopt;
  }

  // --- dispatch ----------------------------------------------------------------------------

  std::optional<Error> Dispatch(const http::Request& req, http::Response& res) {
    Route r = Parse(req.path);
    if (r.kind == Route::kNone) {
      std::string d = common::Cat("no TAXII resource at '", req.path, "'");
      if (!req.path.empty() && req.path.back() != '/') d += " (TAXII URLs end with '/')";
      return Error{404, "Not found", d};
    }
    const bool is_get = req.method == "GET" || req.method == "HEAD";
    const bool ok_method =
        is_get || (req.method == "POST" && r.kind == Route::kObjects) ||
        (req.method == "DELETE" && r.kind == Route::kObject);
    if (!ok_method) {
      std::string allow = r.kind == Route::kObjects  ? "GET, HEAD, POST"
                          : r.kind == Route::kObject ? "GET, HEAD, DELETE"
                                                     : "GET, HEAD";
      res.SetHeader("Allow", allow);
      return Error{405, "Method not allowed",
                   common::Cat(req.method, " is not allowed here (", allow, ")")};
    }
    auto who_or = Authenticate(req);
    if (auto* e = std::get_if<Error>(&who_or)) return *e;
    const http::Principal& who = std::get<http::Principal>(who_or);
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
    if (r.root != opts.api_root) {
      if (who.anonymous()) return Error{401, "Unauthorized", "authentication required"};
      return Error{404, "API root not found", common::Cat("no API root '", r.root, "'")};
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
        auto s = GetStatus(r.status_id, who);
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
    auto need = [&](bool ok, std::string_view what) -> std::optional<Error> {
      if (ok) return std::nullopt;
      if (who.anonymous()) return Error{401, "Unauthorized", "authentication required"};
      return Error{403, "Forbidden",
                   common::Cat("you may not ", what, " collection '", c.id, "'")};
    };
    switch (r.kind) {
      case Route::kCollection:
        Ok(res, 200, CollectionJson(c, who));
        return std::nullopt;
      case Route::kManifest:
        if (auto e = need(can_read, "read")) return e;
        return Cached('m', c.id, {}, req, res, [&] { return GetManifest(req, c, res); });
      case Route::kObjects:
        if (req.method == "POST") {
          if (auto e = need(can_write, "write to")) return e;
          return PostObjects(req, c, who, res);
        }
        if (auto e = need(can_read, "read")) return e;
        return Cached('o', c.id, {}, req, res, [&] { return GetObjects(req, c, nullptr, res); });
      case Route::kObject:
        if (req.method == "DELETE") {
          // TAXII §5.7 permission table: both false 404 (handled by visibility), else 403.
          if (auto e = need(can_read && can_write, "delete from")) return e;
          return DeleteObject(req, c, r.object_id, res);
        }
        if (auto e = need(can_read, "read")) return e;
        return Cached('O', c.id, r.object_id, req, res,
                      [&] { return GetObjects(req, c, &r.object_id, res); });
      case Route::kVersions:
        if (auto e = need(can_read, "read")) return e;
        return Cached('v', c.id, r.object_id, req, res,
                      [&] { return GetVersions(req, c, r.object_id, res); });
      default:
        return Error{404, "Not found", "no such resource"};
    }
  }
};

Service::Service(store::Store* store, http::AuthDb* auth, ServiceOptions options,
                 ChangeSource* changes)
    : options_(std::move(options)),
      impl_(std::make_unique<Impl>(store, auth, options_, changes)) {}

Service::~Service() = default;

void Service::Handle(const http::Request& req, http::Response& res) {
  std::optional<Error> err;
  try {
    err = impl_->Dispatch(req, res);
  } catch (const std::exception& e) {
    err = Error{500, "Internal error", e.what()};
  }
  if (err) {
    http::Response e = ErrorResponse(err->status, err->title, err->description);
    for (auto& h : res.headers) {
      if (h.first == "Allow") e.headers.push_back(h);
    }
    e.user = std::move(res.user);
    res = std::move(e);
  }
  // HEAD keeps the body: http::Server sends its length as Content-Length and no body.
}

}  // namespace accord::taxii
