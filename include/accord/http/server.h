// A small HTTP/1.1 server (Boost.Beast/Asio underneath, kept out of this header): keep-alive,
// I/O threads, a bounded handler pool, optional TLS, request-size limits, header/body/idle
// timeouts, graceful stop and a structured access log. The application supplies one Handler
// that turns a Request into a Response, usually an http::Router (router.h), which routes,
// authenticates and limits.
//
// Threads: `threads` I/O threads read requests and write responses; the Handler runs on a
// pool of `handler_threads` workers with a queue of `handler_queue` requests, and its
// response is posted back to the connection's I/O thread. So a slow handler (an argon2id key
// check, a large POST) holds a pool worker, never an I/O thread and the other connections on
// it. When the pool is full the server answers 503 with Retry-After.
//
// Hostile clients: a request with a body is first decided on its head (`check_head`, the
// Router's route lookup and authentication, on the pool), and only a request that passes has
// its body read, in pieces, never reserved from Content-Length. Connections in all and per
// client address, request bytes in flight, and the idle time of unauthenticated keep-alive
// connections are bounded (answers 503 or 429 with Retry-After); when accept runs out of file
// descriptors it backs off and turns waiting clients away with a 503 through a spare one.
//
// Thread safety: Handler is called concurrently from the pool threads. Stop() may be called
// from any thread (and from a signal, through `stop_on_signals`).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/status.h"

namespace accord::http {

class Router;
struct Principal;

/// One parsed request. Header names are lower-case.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // target before '?', not percent-decoded
  std::string query;   // target after '?', empty when absent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // peer address "ip:port"
  bool tls = false;
  std::string id;  // request id (X-Request-Id, logs), set by the Server
  /// Set when the request's head was already decided (ServerOptions::check_head, i.e.
  /// Router::CheckHead) before its body was read: the caller it found. The Router then does
  /// not authenticate the request again.
  std::shared_ptr<const Principal> principal;

  /// First value of header `lower_name`, or an empty view.
  std::string_view Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// When set, sent instead of `body` without a copy (a cached page shared between requests).
  std::shared_ptr<const std::string> shared_body;
  std::string user;  // authenticated principal, for the access log only

  /// A response given later: a handler that waits on something else (a store commit) sets
  /// this and returns, freeing its worker. The server then calls it with `send`, which the
  /// application calls exactly once, from any thread, with the real response. The other
  /// fields of this Response are ignored.
  using Send = std::function<void(Response)>;
  std::function<void(Send send)> deferred;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string_view Body() const { return shared_body ? *shared_body : body; }
};

using Handler = std::function<void(const Request&, Response&)>;

/// For callers that invoke a Handler directly (tools, tests, fuzzers): when the handler
/// deferred its answer, waits for it and puts it in `res`.
void AwaitDeferred(Response& res);

/// Builds the body of a response the server itself generates (400 for a malformed request,
/// 413, 431, 503 when stopping), so errors look like the application's own.
using ErrorFactory =
    std::function<Response(int status, std::string_view title, std::string_view description)>;

/// One line of the access log.
struct AccessLogEntry {
  std::string remote;
  std::string method;
  std::string target;
  int status = 0;
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  int64_t duration_us = 0;
  std::string user;
  std::string user_agent;
  std::string request_id;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see Server::port())
  int threads = 0;    // I/O threads; 0: one per core
  /// Handler pool workers; 0: twice the cores, at least 4 (handlers block on disk and argon2).
  int handler_threads = 0;
  /// Requests waiting for a pool worker beyond the running ones; more get 503 + Retry-After.
  size_t handler_queue = 1024;
  /// The body limit for a request, asked after its head (0: max_body_bytes applies). Set by
  /// Create(options, router) to Router::BodyLimit.
  std::function<uint64_t(std::string_view method, std::string_view path)> body_limit;
  /// Decides a request that has a body on its head alone, before the body is read (set by
  /// Create(options, router) to Router::CheckHead): true reads the body and calls the Handler;
  /// false answers `res` and closes the connection without reading the body. Runs on the
  /// handler pool; may fill `head.principal`. Unset: every body is read.
  std::function<bool(Request& head, Response& res)> check_head;
  uint64_t max_body_bytes = 100ull << 20;
  /// Request body bytes held by the server at once, over all connections (bodies being read
  /// or waiting for their handler); a request that does not fit is answered 503 with
  /// Retry-After. At least max_body_bytes; 0: unbounded.
  uint64_t max_bytes_in_flight = 512ull << 20;
  /// Open connections; more are answered 503 with Retry-After and closed. 0: unbounded.
  size_t max_connections = 1024;
  /// Open connections from one client address; more are answered 429 with Retry-After and
  /// closed. 0: unbounded.
  size_t max_connections_per_address = 64;
  uint32_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds header_timeout{10000};  // whole request head
  std::chrono::milliseconds body_timeout{60000};    // whole body; also each response write
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  /// Keep-alive wait after an answer to a caller without credentials (Response::user empty).
  std::chrono::milliseconds idle_timeout_unauthenticated{5000};
  std::chrono::milliseconds drain_timeout{30000};  // graceful stop: in-flight requests finish
  /// TLS when both are set (PEM files); plain HTTP otherwise.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Plain HTTP on a non-loopback address is refused unless this is set.
  bool allow_plain_http = false;
  /// SIGTERM and SIGINT start a graceful stop.
  bool stop_on_signals = false;
  /// Called once per finished request (from I/O threads; must be thread-safe).
  std::function<void(const AccessLogEntry&)> access_log;
  ErrorFactory error_factory;  // optional; a plain-text body otherwise
};

class Server {
 public:
  virtual ~Server() = default;

  /// Binds and listens (so port() is known), but serves nothing until Run().
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                        Handler handler);
  /// Serves `router` (which must outlive the server); per-route body limits apply before the
  /// body is read.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                        const Router& router);

  /// The bound port.
  virtual uint16_t port() const = 0;
  virtual bool tls() const = 0;

  /// Serves on the I/O threads and the handler pool until Stop() (or a signal); returns after
  /// in-flight requests have finished or `drain_timeout` expired.
  virtual absl::Status Run() = 0;

  /// Stops accepting, lets in-flight requests finish, closes idle connections.
  virtual void Stop() = 0;
};

/// Writes AccessLogEntry values as JSON lines to a file ("-": standard error).
class AccessLog {
 public:
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();
  void Write(const AccessLogEntry& e);

 private:
  AccessLog() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(std::string_view host);

}  // namespace accord::http
