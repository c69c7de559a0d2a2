// The TAXII 2.1 server resources (../shared/spec/TAXII21.md §3-§5) over a Store: discovery,
// one API root, status, collections, manifest, objects (GET/POST), object (GET/DELETE) and
// versions. Mount() puts them on an http::Router, which does the path matching, 404/405 and
// (through its authentication middleware) decides the caller; content negotiation, filters,
// pagination, the X-TAXII-Date-Added headers, error resources and the 401/403/404 visibility
// rules live here; the socket work is http::Server's.
//
// Errors: a client's mistake is explained in the error resource; a server-side failure
// (a store error, an exception) is answered with a generic 500/503 naming the request id, and
// its detail goes to standard error only, so SQL, file paths and library text never reach a
// client.
//
// Thread safety: the mounted handlers and Handle() may be called concurrently (the Store and
// AuthDb are thread-safe; statuses are kept in the store).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/http/auth.h"
#include "accord/http/router.h"
#include "accord/http/server.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"

namespace accord::taxii {

struct ServiceOptions {
  std::string title = "Accord TAXII 2.1 server";
  std::string description;
  std::string contact;
  std::string api_root = "api";  // served at /<api_root>/
  uint64_t max_content_length = 100ull << 20;
  uint64_t default_page_size = 100;
  uint64_t max_page_size = 1000;
  /// A page of objects (or versions, manifest) ends early, with `more: true` and a `next`
  /// that continues after its last object, once its serialized objects exceed this many
  /// bytes; it always holds at least one object. 0: no cap. ([limits] max_page_bytes)
  uint64_t max_page_bytes = 8ull << 20;
  /// A status resource lists at most this many failures in full; past that it only counts
  /// them (failure_count stays exact). ([limits] max_status_failures)
  uint64_t max_status_failures = 1000;
  /// Which collections may receive patterns with backtracking regexes ([pattern] in
  /// accord.toml; default none): applied to each POST by its target collection.
  ingest::PatternPolicy pattern_policy;
  /// Statuses are kept (in the store, across restarts) this long, then purged on a later
  /// POST. TAXII §4.3: keep statuses >= 24 h.
  int64_t status_retention_us = 24ll * 3600 * 1000000;
  /// Serialized GET pages (objects, object, manifest, versions) are cached up to this many
  /// bytes (LRU); 0 disables the cache. An entry is served only while the store has not
  /// changed (this service's own writes, and the ChangeSource when given) and for at most
  /// `response_cache_max_age_us`, which bounds staleness if a change goes unnoticed.
  uint64_t response_cache_bytes = 64ull << 20;
  int64_t response_cache_max_age_us = 1000000;
  /// The node's audit log (issue 13): every page served (from the cache too) and every POST
  /// committed gets an entry naming the principal and the versions. Null: none (tests).
  audit::Log* audit = nullptr;
};

/// Tells the service when the store may have changed behind its back (another process's
/// import): Counter() must return a different value after every committed change. Called
/// once per cacheable GET, so it must be cheap. Thread-safe.
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  virtual uint64_t Counter() = 0;
};

/// Store::Generation() (changes on every commit, from any process), polled at most once per
/// `min_interval_us` (0: on every call). An error counts as a change.
std::unique_ptr<ChangeSource> NewStoreChangeSource(store::Store* store, int64_t min_interval_us);

/// Maps a Status code to the HTTP status TAXII answers with (STYLE.md §4): InvalidArgument 400,
/// Unauthenticated 401, PermissionDenied 403, NotFound 404, AlreadyExists 409,
/// ResourceExhausted 413 (but a "disk full" one is
/// answered 507 with Retry-After), FailedPrecondition 422, Unavailable 503, anything else 500.
int HttpStatusFor(absl::StatusCode code);

/// An error resource (TAXII §3.6.1) with Content-Type application/taxii+json;version=2.1.
http::Response ErrorResponse(int status, std::string_view title, std::string_view description);

class Service {
 public:
  /// `store`, `auth`, `changes` (optional) and `gate` (optional) must outlive the Service.
  /// `auth` is used only by Handle() and may be null when the Service is only mounted on a
  /// server's Router. Every objects, object, manifest and versions page leaves through the
  /// egress gate (docs/EGRESS.md): `gate`, or when it is null the node's gate over `store`
  /// (policy::NewNodeGate), so that a Service cannot be built without one.
  Service(store::Store* store, http::AuthDb* auth, ServiceOptions options,
          ChangeSource* changes = nullptr, policy::Gate* gate = nullptr);
  ~Service();

  /// Adds the TAXII routes to `router` (which must not outlive the Service): GET /taxii2/,
  /// GET /<api_root>/, .../status/{id}/, .../collections/, .../collections/{id}/,
  /// .../manifest/, GET and POST .../objects/ (POST limited to max_content_length),
  /// GET and DELETE .../objects/{object}/, GET .../objects/{object}/versions/.
  /// The caller is RequestContext::principal: mount after http::AuthenticationMiddleware
  /// (without it every caller is anonymous). Errors are best rendered by a Router built with
  /// ErrorResponse as its ErrorFactory.
  void Mount(http::Router& router);

  /// Serves one request through a Router of its own: authentication over `auth` (when given),
  /// limits, and the routes of Mount(). For tools, tests and fuzzers that call the service
  /// without a socket; may defer (see http::AwaitDeferred).
  void Handle(const http::Request& request, http::Response& response);

  const ServiceOptions& options() const { return options_; }

 private:
  struct Impl;
  ServiceOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::taxii
