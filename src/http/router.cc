// http::Router: pattern matching, the middleware chain, the handler edge (exceptions become
// a generic 500) and static files. See include/accord/http/router.h for the contract.
#include "accord/http/router.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>

#include "accord/common/strings.h"
#include "accord/http/message.h"
#include "http/text.h"

namespace accord::http {
namespace {

namespace fs = std::filesystem;

// One segment of a pattern. The enum order is the specificity order (lower wins).
struct Segment {
  enum Kind { kLiteral = 0, kParam = 1, kRest = 2 } kind = kLiteral;
  std::string text;  // the literal, or the parameter's name
};

// The path split at '/', after the leading '/'. "/a/b/" gives {"a", "b", ""}, "/" gives {""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string NewRequestId() {
  // 64 random bits per process start plus a counter: unique, and not guessable across runs.
  static const uint32_t prefix = randombytes_random();
  static std::atomic<uint64_t> counter{0};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08x%08llx", prefix,
                static_cast<unsigned long long>(counter.fetch_add(1) & 0xffffffffull));
  return buf;
}

Response PlainError(int status, std::string_view title, std::string_view description) {
  Response r;
  r.status = status;
  r.SetHeader("Content-Type", "text/plain");
  r.body = common::Cat(title, ": ", description, "\n");
  return r;
}

std::string_view ContentTypeFor(std::string_view name) {
  size_t dot = name.rfind('.');
  std::string ext = dot == std::string_view::npos ? "" : text::Lower(name.substr(dot + 1));
  static const std::pair<const char*, const char*> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"ico", "image/x-icon"},
      {"webp", "image/webp"},
      {"wasm", "application/wasm"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
  };
  for (const auto& [e, t] : kTypes) {
    if (ext == e) return t;
  }
  return "application/octet-stream";
}

// `rel` below `root` (canonical) when it is a regular file that stays below the root through
// every symlink.
std::optional<fs::path> FileBelow(const fs::path& root, const std::string& rel) {
  std::error_code ec;
  fs::path full = fs::canonical(root / rel, ec);  // resolves every symlink
  if (ec) return std::nullopt;
  // The resolved file must still be below the root: a symlink may not lead out of it.
  auto [r_end, f_it] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (r_end != root.end() || f_it == full.end()) return std::nullopt;
  if (!fs::is_regular_file(full, ec) || ec) return std::nullopt;
  return full;
}

// Serves `rest` (the raw path below the mount) from `root` (canonical). Every refusal is a
// 404 that names only the request path, never a file system path.
void ServeFile(const fs::path& root, const Router::StaticOptions& options, RequestContext& ctx,
               Response& res) {
  auto not_found = [&] {
    res = ctx.Error(404, "Not found", common::Cat("no file at '", ctx.request.path, "'"));
  };
  auto decoded = PercentDecode(ctx.rest, false);
  if (!decoded.ok() || root.empty()) return not_found();
  std::string rel = std::move(*decoded);
  // A deep link of a single-page app: a directory, or a last segment without '.' (no file
  // extension).
  std::string_view last = rel;
  if (size_t slash = last.rfind('/'); slash != std::string_view::npos) {
    last = last.substr(slash + 1);
  }
  const bool deep_link = last.find('.') == std::string_view::npos;
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) {
    return not_found();
  }
  // Reject '.', '..', empty (a '//') and hidden segments before touching the file system.
  for (std::string_view seg : text::Split(rel, '/')) {
    if (seg.empty() || seg[0] == '.') return not_found();
  }
  std::optional<fs::path> full = FileBelow(root, rel);
  if (!full && deep_link && !options.fallback.empty()) {
    rel = options.fallback;
    full = FileBelow(root, rel);
  }
  if (!full) return not_found();
  fs::path send = *full;
  bool gzipped = false;
  if (AcceptsCoding(ctx.request.Header("accept-encoding"), "gzip")) {
    if (std::optional<fs::path> gz = FileBelow(root, rel + ".gz")) {
      send = *gz;
      gzipped = true;
    }
  }
  std::ifstream in(send, std::ios::binary);
  if (!in) return not_found();
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) {
    LogRequestError(ctx.request_id, common::Cat("static file ", send.string(), ": read failed"));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the file could not be read; request id ", ctx.request_id));
    return;
  }
  res.status = 200;
  res.SetHeader("Content-Type", std::string(ContentTypeFor(full->filename().string())));
  res.SetHeader("X-Content-Type-Options", "nosniff");
  if (gzipped) res.SetHeader("Content-Encoding", "gzip");
  res.SetHeader("Vary", "Accept-Encoding");
  if (!options.immutable_under.empty()) {
    bool immutable = rel.compare(0, options.immutable_under.size(), options.immutable_under) == 0;
    res.SetHeader("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  }
  res.body = std::move(data).str();
}

// A page's script (the web UI: its fetches carry X-Requested-With, and its API lives under
// /api/ui/) must not get a Basic challenge: a browser answers one with its own password
// dialog, which a headless browser waits on for ever. It gets the Bearer challenge alone.
bool FromScript(const Request& rq) {
  return text::IEquals(rq.Header("x-requested-with"), "XMLHttpRequest") ||
         rq.path.rfind("/api/ui/", 0) == 0;
}
void ChallengeFor(bool script, Response& res) {
  if (!script || res.status != 401) return;
  std::erase_if(res.headers,
                [](const auto& h) { return text::IEquals(h.first, "WWW-Authenticate"); });
  res.SetHeader("WWW-Authenticate", R"(Bearer realm="accord")");
}

}  // namespace

void LogRequestError(std::string_view request_id, std::string_view detail) {
  std::string line = common::Cat("accord: request ", request_id, ": ", detail, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string_view RequestContext::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

Response RequestContext::Error(int status, std::string_view title,
                               std::string_view description) const {
  if (errors && *errors) return (*errors)(status, title, description);
  return PlainError(status, title, description);
}

// --- authentication and limits -------------------------------------------------------------

namespace {

class AuthDbAuthenticator final : public Authenticator {
 public:
  explicit AuthDbAuthenticator(AuthDb* db) : db_(db) {}
  absl::StatusOr<Principal> Authenticate(const Request& request) override {
    auto creds = ParseAuthorization(request.Header("authorization"));
    if (!creds.ok()) return absl::UnauthenticatedError(creds.status().message());
    if (creds->scheme == Credentials::Scheme::kNone) return Principal{};
    auto p = db_->Authenticate(creds->user, creds->secret, request.remote);
    // Over the failed-check budget: passed on, for a 429 with Retry-After.
    if (absl::IsResourceExhausted(p.status())) return p.status();
    // The AuthDb's reason (unknown, revoked, wrong user) is not told to the client.
    if (!p.ok()) return absl::UnauthenticatedError("invalid credentials");
    return p;
  }

 private:
  AuthDb* db_;
};

}  // namespace

std::unique_ptr<Authenticator> NewAuthDbAuthenticator(AuthDb* db) {
  return std::make_unique<AuthDbAuthenticator>(db);
}

Middleware AuthenticationMiddleware(Authenticator* auth) {
  return [auth](RequestContext& ctx, Response& res) {
    auto who = auth->Authenticate(ctx.request);
    if (absl::IsResourceExhausted(who.status())) {
      // Too many failed checks for this key id or address: refused before argon2id runs.
      res = ctx.Error(429, "Too Many Requests", std::string(who.status().message()));
      res.SetHeader("Retry-After", std::to_string(std::max(1, RetryAfterSeconds(who.status()))));
      return Next::kAnswered;
    }
    if (!who.ok()) {
      std::string why = who.status().code() == absl::StatusCode::kUnauthenticated
                            ? std::string(who.status().message())
                            : std::string("credentials could not be checked");
      if (who.status().code() != absl::StatusCode::kUnauthenticated) {
        LogRequestError(ctx.request_id, common::Cat("authentication: ", who.status().ToString()));
      }
      res = ctx.Error(401, "Unauthorized", why);
      bool has_challenge = false;
      for (const auto& h : res.headers) has_challenge |= text::IEquals(h.first, "WWW-Authenticate");
      if (!has_challenge) {
        res.SetHeader("WWW-Authenticate", R"(Basic realm="accord", Bearer realm="accord")");
      }
      return Next::kAnswered;
    }
    ctx.principal = std::move(*who);
    return Next::kContinue;
  };
}

Middleware LimitsMiddleware() {
  return [](RequestContext& ctx, Response& res) {
    uint64_t limit = ctx.route_options ? ctx.route_options->max_body_bytes : 0;
    if (limit > 0 && ctx.request.body.size() > limit) {
      res = ctx.Error(413, "Request too large",
                      common::Cat("body exceeds max_content_length ", limit));
      return Next::kAnswered;
    }
    return Next::kContinue;
  };
}

// --- the router ------------------------------------------------------------------------------

struct Router::Impl {
  struct Method {
    std::string method;
    RouteHandler handler;
    RouteOptions options;
  };
  // All methods routed at one pattern.
  struct Entry {
    std::string pattern;
    std::vector<Segment> segments;
    std::vector<Method> methods;
  };
  ErrorFactory errors;
  std::vector<Entry> entries;
  std::vector<Middleware> middleware;

  // A matched pattern with its captures.
  struct Match {
    const Entry* entry = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::string rest;
  };

  static std::vector<Segment> ParsePattern(std::string_view pattern) {
    std::vector<Segment> out;
    for (std::string_view s : SplitPath(pattern)) {
      Segment seg;
      if (s == "*") {
        seg.kind = Segment::kRest;
      } else if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
        seg.kind = Segment::kParam;
        seg.text = std::string(s.substr(1, s.size() - 2));
      } else {
        seg.text = std::string(s);
      }
      out.push_back(std::move(seg));
    }
    return out;
  }

  // Whether `e` matches the (raw and decoded) path segments; fills `m` when it does.
  static bool Matches(const Entry& e, const std::vector<std::string_view>& raw,
                      const std::vector<std::string>& decoded, std::string_view path, Match* m) {
    m->params.clear();
    m->rest.clear();
    for (size_t i = 0; i < e.segments.size(); ++i) {
      const Segment& s = e.segments[i];
      if (s.kind == Segment::kRest) {
        if (i > raw.size()) return false;
        // The rest is everything after the i-th '/' of the path, raw.
        size_t pos = 0;
        for (size_t k = 0; k <= i; ++k) pos = path.find('/', pos) + 1;
        m->rest = std::string(path.substr(pos));
        m->entry = &e;
        return i < raw.size();
      }
      if (i >= raw.size()) return false;
      if (s.kind == Segment::kParam) {
        if (decoded[i].empty()) return false;
        m->params.emplace_back(s.text, decoded[i]);
      } else if (decoded[i] != s.text) {
        return false;
      }
    }
    if (e.segments.size() != raw.size()) return false;
    m->entry = &e;
    return true;
  }

  // The most specific entry matching `path`, or nullopt.
  std::optional<Match> Find(std::string_view path) const {
    std::vector<std::string_view> raw = SplitPath(path);
    if (raw.empty()) return std::nullopt;
    std::vector<std::string> decoded;
    decoded.reserve(raw.size());
    for (std::string_view s : raw) {
      auto d = PercentDecode(s, false);
      if (!d.ok()) return std::nullopt;  // a malformed escape matches nothing: 404
      decoded.push_back(std::move(*d));
    }
    std::optional<Match> best;
    Match m;
    for (const Entry& e : entries) {
      if (!Matches(e, raw, decoded, path, &m)) continue;
      if (!best || MoreSpecific(e, *best->entry)) best = m;
    }
    return best;
  }

  static bool MoreSpecific(const Entry& a, const Entry& b) {
    size_t n = std::min(a.segments.size(), b.segments.size());
    for (size_t i = 0; i < n; ++i) {
      if (a.segments[i].kind != b.segments[i].kind) {
        return a.segments[i].kind < b.segments[i].kind;
      }
    }
    return false;  // equally specific: the first added wins
  }

  static const Method* FindMethod(const Entry& e, std::string_view method) {
    for (const auto& m : e.methods) {
      if (m.method == method) return &m;
    }
    if (method == "HEAD") return FindMethod(e, "GET");
    return nullptr;
  }

  static std::string Allow(const Entry& e) {
    std::string allow;
    bool has_head = false;
    for (const auto& m : e.methods) has_head |= m.method == "HEAD";
    for (const auto& m : e.methods) {
      if (!allow.empty()) allow += ", ";
      allow += m.method;
      if (m.method == "GET" && !has_head) allow += ", HEAD";
    }
    return allow;
  }

  // Steps 1 and 2 of a request (router.h): lookup, then the middleware and the route's
  // check_head unless `request.principal` shows they already ran on the head. The method to
  // run, or nullptr when `res` is the answer.
  const Method* Decide(RequestContext& ctx, Response& res) const {
    const Request& request = ctx.request;
    auto m = Find(request.path);
    if (!m) {
      std::string d = common::Cat("no resource at '", request.path, "'");
      if (!request.path.empty() && request.path.back() != '/' &&
          HasRouteEndingWithSlash(request.path)) {
        d += " (these URLs end with '/')";
      }
      res = ctx.Error(404, "Not found", d);
      return nullptr;
    }
    const Method* h = FindMethod(*m->entry, request.method);
    if (!h) {
      std::string allow = Allow(*m->entry);
      res = ctx.Error(405, "Method not allowed",
                      common::Cat(request.method, " is not allowed here (", allow, ")"));
      res.SetHeader("Allow", allow);
      return nullptr;
    }
    ctx.params = std::move(m->params);
    ctx.rest = std::move(m->rest);
    ctx.route_options = &h->options;
    if (request.principal) {
      ctx.principal = *request.principal;  // decided on the head (CheckHead)
      return h;
    }
    for (const auto& mw : middleware) {
      if (mw(ctx, res) == Next::kAnswered) return nullptr;
    }
    if (h->options.check_head && h->options.check_head(ctx, res) == Next::kAnswered) {
      return nullptr;
    }
    return h;
  }

  // The answer to a request that ran out of memory: 503, retry later (the process goes on).
  static Response OutOfMemory(const RequestContext& ctx) {
    LogRequestError(ctx.request_id, common::Cat(ctx.request.method, " ", ctx.request.path,
                                                ": out of memory (std::bad_alloc)"));
    Response r = ctx.Error(
        503, "Service unavailable",
        common::Cat("the server is short of memory; retry later; request id ", ctx.request_id));
    r.SetHeader("Retry-After", "1");
    return r;
  }

  bool HasRouteEndingWithSlash(std::string_view path) const {
    std::string with_slash = common::Cat(path, "/");
    return Find(with_slash).has_value();
  }
};

Router::Router(ErrorFactory errors) : impl_(std::make_unique<Impl>()) {
  impl_->errors = std::move(errors);
}

Router::~Router() = default;

void Router::Add(std::string_view method, std::string_view pattern, RouteHandler handler,
                 RouteOptions options) {
  for (auto& e : impl_->entries) {
    if (e.pattern == pattern) {
      e.methods.push_back({std::string(method), std::move(handler), std::move(options)});
      return;
    }
  }
  Impl::Entry e;
  e.pattern = std::string(pattern);
  e.segments = Impl::ParsePattern(pattern);
  e.methods.push_back({std::string(method), std::move(handler), std::move(options)});
  impl_->entries.push_back(std::move(e));
}

void Router::Use(Middleware middleware) { impl_->middleware.push_back(std::move(middleware)); }

void Router::ServeStatic(std::string prefix, const std::string& dir, StaticOptions options) {
  std::error_code ec;
  fs::path root = fs::canonical(dir, ec);
  if (ec) {
    // Mounted anyway, answering 404, so that a missing directory is visible in the log once
    // rather than as a start-up failure of the whole server.
    LogRequestError("-", common::Cat("static mount ", prefix, ": ", dir, ": ", ec.message()));
    root.clear();
  }
  if (prefix.empty() || prefix.back() != '/') prefix += '/';
  Add("GET", prefix + "*",
      [root, dir, options = std::move(options)](RequestContext& ctx, Response& res) {
        // A directory made after the server started (the UI built later) is served as soon
        // as it exists.
        std::error_code later;
        ServeFile(root.empty() ? fs::canonical(dir, later) : root, options, ctx, res);
        if (res.status == 200) {
          for (const auto& [name, value] : options.headers) res.SetHeader(name, value);
        }
      });
}

uint64_t Router::BodyLimit(std::string_view method, std::string_view path) const {
  auto m = impl_->Find(path);
  if (!m) return 0;
  const Impl::Method* h = Impl::FindMethod(*m->entry, method);
  return h ? h->options.max_body_bytes : 0;
}

void Router::Handle(const Request& request, Response& res) const {
  RequestContext ctx(request);
  ctx.request_id = request.id.empty() ? NewRequestId() : request.id;
  ctx.errors = &impl_->errors;
  try {
    if (const Impl::Method* h = impl_->Decide(ctx, res)) h->handler(ctx, res);
  } catch (const std::bad_alloc&) {
    res = Impl::OutOfMemory(ctx);
  } catch (const std::exception& e) {
    LogRequestError(ctx.request_id,
                    common::Cat(request.method, " ", request.path, ": exception: ", e.what()));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the server failed to answer; request id ", ctx.request_id));
  } catch (...) {
    LogRequestError(ctx.request_id,
                    common::Cat(request.method, " ", request.path, ": unknown exception"));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the server failed to answer; request id ", ctx.request_id));
  }
  if (res.user.empty()) res.user = ctx.principal.user;
  res.SetHeader("X-Request-Id", ctx.request_id);
  const bool script = FromScript(request);
  ChallengeFor(script, res);
  if (res.deferred) {
    // The later answer gets the same principal and request id; a deferred function that
    // throws before answering is answered with a generic 500.
    auto inner = std::move(res.deferred);
    res.deferred = [inner = std::move(inner), user = res.user, id = ctx.request_id,
                    errors = impl_->errors, script](const Response::Send& send) {
      auto sent = std::make_shared<std::atomic<bool>>(false);
      auto wrapped = [send, sent, user, id, script](Response later) {
        if (sent->exchange(true)) return;
        if (later.user.empty()) later.user = user;
        later.SetHeader("X-Request-Id", id);
        ChallengeFor(script, later);
        send(std::move(later));
      };
      try {
        inner(wrapped);
      } catch (const std::bad_alloc&) {
        LogRequestError(id, "deferred answer: out of memory (std::bad_alloc)");
        Response r = errors ? errors(503, "Service unavailable",
                                     common::Cat("the server is short of memory; retry later; "
                                                 "request id ",
                                                 id))
                            : PlainError(503, "Service unavailable", "short of memory");
        r.SetHeader("Retry-After", "1");
        wrapped(std::move(r));
      } catch (const std::exception& e) {
        LogRequestError(id, common::Cat("deferred answer: exception: ", e.what()));
        wrapped(errors ? errors(500, "Internal error",
                                common::Cat("the server failed to answer; request id ", id))
                       : PlainError(500, "Internal error", "the server failed to answer"));
      }
    };
  }
}

bool Router::CheckHead(Request& head, Response& res) const {
  head.principal.reset();  // decided here, never taken from the caller
  RequestContext ctx(head);
  ctx.request_id = head.id.empty() ? NewRequestId() : head.id;
  ctx.errors = &impl_->errors;
  bool go = false;
  try {
    go = impl_->Decide(ctx, res) != nullptr;
  } catch (const std::bad_alloc&) {
    res = Impl::OutOfMemory(ctx);
  } catch (const std::exception& e) {
    LogRequestError(ctx.request_id, common::Cat(head.method, " ", head.path,
                                                ": head check: exception: ", e.what()));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the server failed to answer; request id ", ctx.request_id));
  } catch (...) {
    LogRequestError(ctx.request_id,
                    common::Cat(head.method, " ", head.path, ": head check: unknown exception"));
    res = ctx.Error(500, "Internal error",
                    common::Cat("the server failed to answer; request id ", ctx.request_id));
  }
  if (go) {
    head.principal = std::make_shared<const Principal>(std::move(ctx.principal));
    return true;
  }
  if (res.user.empty()) res.user = ctx.principal.user;
  res.SetHeader("X-Request-Id", ctx.request_id);
  ChallengeFor(FromScript(head), res);
  res.deferred = nullptr;  // a refusal on the head is immediate
  return false;
}

Handler Router::AsHandler() const {
  return [this](const Request& rq, Response& rs) { Handle(rq, rs); };
}

}  // namespace accord::http
