// http::Router: one http::Server handler that routes requests by method and path pattern to
// the handlers mounted on it (TAXII at /taxii2/ and /<api root>/, static files at /ui/, a JSON
// API under its own prefix), with a middleware chain in front of them.
//
// Order of one request through Router::Handle():
//   1. Route lookup. No pattern matches the path: 404. A pattern matches but has no handler
//      for the method: 405 with an Allow header (HEAD is allowed wherever GET is).
//   2. The middleware, in the order of Use(). Each sees the RequestContext (route, path
//      parameters, principal so far) and either continues or answers; an answer ends the
//      chain and the handler never runs. Typical order: authentication, then limits.
//      Then the route's RouteOptions::check_head, when it has one.
//   3. The route's handler. It may answer at once or defer (Response::deferred).
//   4. The response gets the caller's principal (Response::user, for the access log) and the
//      request id (X-Request-Id). An exception from a middleware or handler becomes a generic
//      500 naming only the request id; its text goes to standard error.
// Served by an http::Server, a request with a body goes through steps 1-2 on its head alone
// (CheckHead, before the body is read), and Handle() then runs only step 3 onwards, with the
// principal CheckHead found (Request::principal). So middleware sees no body under a Server:
// the Server enforces the route's body limit while reading.
// Errors the router itself produces (404, 405, 413, 500) are rendered by the ErrorFactory
// given to the constructor, so that they look like the mounted application's own.
//
// Patterns: '/'-separated segments; `{name}` matches one non-empty segment (percent-decoded
// into RequestContext::params); a final `*` matches the rest of the path, also empty (a prefix
// mount). A trailing '/' is significant. When several patterns match, the most specific wins:
// segment by segment, a literal beats `{name}`, which beats `*`.
//
// Thread safety: set up (Add, Use, ServeStatic) before serving; Handle() may then be called
// concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/status.h"
#include "accord/http/auth.h"
#include "accord/http/server.h"

namespace accord::http {

struct RequestContext;

/// What a middleware did: passed the request on, or answered it (then `res` is the answer).
enum class Next { kContinue, kAnswered };
using Middleware = std::function<Next(RequestContext& ctx, Response& res)>;

/// Per-route limits, checked by LimitsMiddleware (and, for the body, by the Server before it
/// reads the body, through Router::BodyLimit).
struct RouteOptions {
  /// Largest request body accepted on this route (413 above); 0: the server's limit only.
  uint64_t max_body_bytes = 0;
  /// Decides the request on its head, after the middleware and before the body is read (the
  /// request's body is empty here when the Server calls it): e.g. a POST's write permission,
  /// so that a caller without it is answered 401/403 without its body being read. kAnswered
  /// refuses. Optional.
  Middleware check_head;
};

/// What the middleware and the handler know about one request.
struct RequestContext {
  explicit RequestContext(const Request& r) : request(r) {}

  const Request& request;
  /// Names this request in responses (X-Request-Id) and in the server's log.
  std::string request_id;
  /// Decoded `{name}` parameters of the matched pattern, in pattern order.
  std::vector<std::pair<std::string, std::string>> params;
  /// For a pattern ending in `*`: the rest of the path (not decoded).
  std::string rest;
  /// Who is asking: anonymous until an authentication middleware sets it.
  Principal principal;
  const RouteOptions* route_options = nullptr;
  const ErrorFactory* errors = nullptr;

  /// The value of parameter `name`, empty when absent.
  std::string_view Param(std::string_view name) const;
  /// An error response rendered by the router's ErrorFactory.
  Response Error(int status, std::string_view title, std::string_view description) const;
};

using RouteHandler = std::function<void(RequestContext& ctx, Response& res)>;

/// Decides who sent a request. Implementations are thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  /// The principal for the request's credentials: anonymous when none were sent;
  /// Unauthenticated (with a message fit for the client) when they are malformed or wrong;
  /// ResourceExhausted (with RetryAfterSeconds) when too many checks failed.
  virtual absl::StatusOr<Principal> Authenticate(const Request& request) = 0;
};

/// Writes "accord: request <id>: <detail>" to standard error (one write, thread-safe): the
/// server-side record of an error whose detail the client must not see.
void LogRequestError(std::string_view request_id, std::string_view detail);

/// Bearer keys and Basic user:key checked against an AuthDb (which must outlive it).
std::unique_ptr<Authenticator> NewAuthDbAuthenticator(AuthDb* db);

/// Sets RequestContext::principal; answers 401 (with WWW-Authenticate) for bad credentials,
/// 429 with Retry-After when the authenticator says too many checks failed.
/// Anonymous requests continue: handlers decide what anonymous callers may see.
Middleware AuthenticationMiddleware(Authenticator* auth);

/// Answers 413 when the body exceeds the route's max_body_bytes (a no-op under a Server, which
/// has refused such a body while reading it).
Middleware LimitsMiddleware();

class Router {
 public:
  /// `errors` renders the router's own error answers (a plain-text body when empty).
  explicit Router(ErrorFactory errors = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Routes `method` ("GET", "POST", ...) at `pattern` to `handler`. A GET route answers
  /// HEAD too (the server sends the GET body's length and no body).
  void Add(std::string_view method, std::string_view pattern, RouteHandler handler,
           RouteOptions options = {});

  /// Appends a middleware; they run in the order added, after route lookup.
  void Use(Middleware middleware);

  /// How ServeStatic answers (a single-page web app's needs).
  struct StaticOptions {
    /// Headers on every file answered (a web UI's Content-Security-Policy).
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set, a path below the prefix whose last segment has no '.' and names no file is
    /// answered with this file of `dir` (a single-page app's deep links: /ui/objects/ID).
    std::string fallback;
    /// Files below this sub-path of `dir` (e.g. "assets/") have content-hashed names: they
    /// are cached for a year ("immutable"); every other file is revalidated ("no-cache").
    std::string immutable_under;
  };
  /// Serves the files under `dir` at `prefix` (which must start and end with '/'), GET and
  /// HEAD only. `prefix` alone serves `dir`/index.html. Refused with 404: '..' or '.'
  /// segments, hidden names (leading '.'), NUL or backslash, anything that resolves (through
  /// symlinks) outside `dir`, and anything but a regular file. Content-Type by extension. A
  /// file with a "NAME.gz" beside it is answered with that copy (Content-Encoding: gzip) when
  /// the request accepts gzip.
  void ServeStatic(std::string prefix, const std::string& dir, StaticOptions options = {});

  /// Routes one request (synchronously; a deferred answer stays deferred). When
  /// `request.principal` is set (CheckHead passed), the middleware and check_head are not run
  /// again.
  void Handle(const Request& request, Response& response) const;

  /// Decides a request on its head, before its body is read: route lookup (404, 405), the
  /// middleware and the route's check_head. True: go on and read the body, and `head.principal`
  /// is set for Handle(). False: `response` is the answer (401, 403, 404, ...).
  bool CheckHead(Request& head, Response& response) const;

  /// The body limit of the route `method` `path` would reach; 0 when it sets none (or no route
  /// matches). The Server calls it after the request head, before reading the body.
  uint64_t BodyLimit(std::string_view method, std::string_view path) const;

  /// A Server handler that calls Handle() (the router must outlive the server).
  Handler AsHandler() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::http
