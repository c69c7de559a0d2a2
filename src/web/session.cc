#include "accord/web/session.h"

#include <sodium.h>

#include <simdjson.h>
#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/formats/formats.h"
#include "http/text.h"

namespace accord::web {

using Clock = std::chrono::steady_clock;

namespace {

std::string RandomToken() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return common::Base64Encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes),
                              common::Base64Variant::kUrlSafeNoPadding);
}

// The table's key for a session name: its BLAKE2b-256, so that the names themselves are not
// kept (a memory dump does not yield live cookies) and lookups do not compare secrets.
std::string KeyOf(std::string_view id) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(id.data()), id.size(),
                     nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;  // constant time
}

}  // namespace

struct Sessions::Impl {
  struct Entry {
    std::string user, key_id, csrf;
    http::Principal who;
    Clock::time_point created, last_used, checked;
  };

  http::AuthDb* db;
  SessionOptions o;
  mutable std::mutex mu;
  std::unordered_map<std::string, Entry> table;

  Clock::time_point Now() const { return o.clock ? o.clock() : Clock::now(); }

  // The key still valid, the user still there with the same role: the principal as of now.
  absl::StatusOr<http::Principal> Recheck(const Entry& e) {
    ACCORD_ASSIGN_OR_RETURN(auto keys, db->ListKeys(e.user));
    bool live = false;
    for (const auto& k : keys) live |= k.key_id == e.key_id && !k.revoked;
    if (!live) return absl::UnauthenticatedError("the session's key was revoked");
    ACCORD_ASSIGN_OR_RETURN(http::UserInfo u, db->GetUser(e.user));
    if (u.role != e.who.role) return absl::UnauthenticatedError("the user's role changed");
    http::Principal p;
    p.user = u.name;
    p.role = u.role;
    ACCORD_ASSIGN_OR_RETURN(p.grants, db->ListGrants(e.user));
    return p;
  }

  // REQUIRES: mu held.
  void MakeRoom(Clock::time_point now) {
    if (table.size() < o.max_sessions) return;
    for (auto it = table.begin(); it != table.end();) {
      if (Expired(it->second, now)) {
        it = table.erase(it);
      } else {
        ++it;
      }
    }
    while (!table.empty() && table.size() >= o.max_sessions) {
      auto oldest = std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      table.erase(oldest);
    }
  }

  bool Expired(const Entry& e, Clock::time_point now) const {
    return now - e.last_used >= o.idle || now - e.created >= o.absolute;
  }
};

Sessions::Sessions(http::AuthDb* db, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->db = db;
  impl_->o = std::move(options);
  if (impl_->o.max_sessions == 0) impl_->o.max_sessions = 1;
}

Sessions::~Sessions() = default;

absl::StatusOr<Sessions::SignIn> Sessions::Create(std::string_view key,
                                                  std::string_view client_address) {
  ACCORD_ASSIGN_OR_RETURN(http::Principal who,
                          impl_->db->Authenticate("", std::string(key), client_address));
  if (who.anonymous()) return absl::UnauthenticatedError("invalid credentials");
  SignIn out;
  out.id = RandomToken();
  out.csrf = RandomToken();
  out.who = who;
  Impl::Entry e;
  e.user = who.user;
  e.key_id = std::string(key.substr(0, key.find('.')));
  e.csrf = out.csrf;
  e.who = std::move(who);
  e.created = e.last_used = e.checked = impl_->Now();
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->MakeRoom(e.created);
  impl_->table.emplace(KeyOf(out.id), std::move(e));
  return out;
}

absl::StatusOr<http::Principal> Sessions::Find(std::string_view id, std::string* csrf) {
  const std::string k = KeyOf(id);
  const Clock::time_point now = impl_->Now();
  Impl::Entry copy;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto it = impl_->table.find(k);
    if (it == impl_->table.end()) return absl::UnauthenticatedError("no such session");
    if (impl_->Expired(it->second, now)) {
      impl_->table.erase(it);
      return absl::UnauthenticatedError("the session expired");
    }
    it->second.last_used = now;
    if (now - it->second.checked < impl_->o.recheck) {
      if (csrf) *csrf = it->second.csrf;
      return it->second.who;
    }
    copy = it->second;
  }
  // Outside the lock: the AuthDb reads the store.
  absl::StatusOr<http::Principal> fresh = impl_->Recheck(copy);
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->table.find(k);
  if (it == impl_->table.end()) return absl::UnauthenticatedError("no such session");
  if (!fresh.ok()) {
    impl_->table.erase(it);
    if (absl::IsUnauthenticated(fresh.status()) || absl::IsNotFound(fresh.status())) {
      return absl::UnauthenticatedError(fresh.status().message());
    }
    return fresh.status();
  }
  it->second.who = *fresh;
  it->second.checked = now;
  if (csrf) *csrf = it->second.csrf;
  return *fresh;
}

void Sessions::End(std::string_view id) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->table.erase(KeyOf(id));
}

size_t Sessions::size() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->table.size();
}

std::string_view SessionCookie(const http::Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (!http::text::IEquals(name, "cookie")) continue;
    for (std::string_view part : http::text::Split(value, ';')) {
      part = http::text::Trim(part);
      size_t eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == kCookieName) {
        return part.substr(eq + 1);
      }
    }
  }
  return {};
}

namespace {

class SessionAuthenticator final : public http::Authenticator {
 public:
  SessionAuthenticator(http::Authenticator* keys, Sessions* sessions)
      : keys_(keys), sessions_(sessions) {}
  absl::StatusOr<http::Principal> Authenticate(const http::Request& request) override {
    if (request.HasHeader("authorization")) return keys_->Authenticate(request);
    std::string_view id = SessionCookie(request);
    if (id.empty()) return http::Principal{};
    absl::StatusOr<http::Principal> who = sessions_->Find(id);
    if (absl::IsUnauthenticated(who.status())) return http::Principal{};
    return who;
  }

 private:
  http::Authenticator* keys_;
  Sessions* sessions_;
};

bool ChangesState(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// The host[:port] of an origin "scheme://host[:port]"; empty when it has no "://".
std::string_view OriginHost(std::string_view origin) {
  size_t p = origin.find("://");
  return p == std::string_view::npos ? std::string_view() : origin.substr(p + 3);
}

// Why the request looks cross-site; empty when it does not.
std::string CrossSite(const http::Request& r) {
  if (http::text::IEquals(r.Header("sec-fetch-site"), "cross-site")) {
    return "the browser says the request is cross-site";
  }
  if (r.HasHeader("origin")) {
    std::string_view origin = r.Header("origin");
    if (!http::text::IEquals(OriginHost(origin), r.Header("host"))) {
      return common::Cat("Origin '", origin, "' is not this server");
    }
  }
  return {};
}

std::string SetCookie(std::string_view value, bool tls, bool clear) {
  return common::Cat(kCookieName, "=", value, "; Path=/; HttpOnly; SameSite=Strict",
                     tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

std::string SessionJson(const http::Principal& who, std::string_view csrf) {
  std::string out = "{\"user\":";
  formats::AppendJsonString(&out, who.user);
  out += ",\"role\":";
  formats::AppendJsonString(&out, http::RoleName(who.role));
  out += ",\"csrf_token\":";
  formats::AppendJsonString(&out, csrf);
  out += '}';
  return out;
}

}  // namespace

std::unique_ptr<http::Authenticator> NewSessionAuthenticator(http::Authenticator* keys,
                                                             Sessions* sessions) {
  return std::make_unique<SessionAuthenticator>(keys, sessions);
}

http::Middleware CsrfMiddleware(Sessions* sessions) {
  return [sessions](http::RequestContext& ctx, http::Response& res) {
    const http::Request& r = ctx.request;
    if (!ChangesState(r.method) || r.HasHeader("authorization")) return http::Next::kContinue;
    std::string_view id = SessionCookie(r);
    if (id.empty()) return http::Next::kContinue;
    std::string csrf;
    if (!sessions->Find(id, &csrf).ok()) return http::Next::kContinue;  // anonymous
    std::string why = CrossSite(r);
    if (why.empty() && !SameSecret(r.Header(kCsrfHeader), csrf)) {
      why = "the X-CSRF-Token header is missing or wrong";
    }
    if (why.empty()) return http::Next::kContinue;
    res = ctx.Error(403, "Forbidden", common::Cat("refused as a cross-site request: ", why));
    return http::Next::kAnswered;
  };
}

void JsonAnswer(http::Response& res, int status, std::string body) {
  res.status = status;
  res.SetHeader("Content-Type", "application/json");
  res.SetHeader("Cache-Control", "no-store");
  for (auto& [name, value] : SecurityHeaders()) res.SetHeader(name, value);
  res.body = std::move(body);
}

std::vector<std::pair<std::string, std::string>> SecurityHeaders() {
  return {{"Content-Security-Policy",
           "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'"},
          {"X-Frame-Options", "DENY"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"}};
}

void MountSessionApi(http::Router& router, Sessions* sessions) {
  constexpr const char* kPath = "/api/ui/v1/session";
  http::RouteOptions sign_in;
  sign_in.max_body_bytes = 4096;
  router.Add(
      "POST", kPath,
      [sessions](http::RequestContext& ctx, http::Response& res) {
        // Signing in from another site (login CSRF) is refused like any cross-site write.
        if (std::string why = CrossSite(ctx.request); !why.empty()) {
          res = ctx.Error(403, "Forbidden", common::Cat("refused as a cross-site request: ", why));
          return;
        }
        simdjson::dom::parser parser;
        std::string_view key;
        simdjson::dom::element doc;
        if (parser.parse(ctx.request.body).get(doc) != simdjson::SUCCESS ||
            doc["key"].get_string().get(key) != simdjson::SUCCESS || key.empty()) {
          res = ctx.Error(400, "Bad request",
                          "expected a JSON object with the API key: {\"key\": \"...\"}");
          return;
        }
        absl::StatusOr<Sessions::SignIn> s = sessions->Create(key, ctx.request.remote);
        if (absl::IsResourceExhausted(s.status())) {
          res = ctx.Error(429, "Too Many Requests", std::string(s.status().message()));
          res.SetHeader("Retry-After",
                        std::to_string(std::max(1, http::RetryAfterSeconds(s.status()))));
          return;
        }
        if (!s.ok()) {
          if (!absl::IsUnauthenticated(s.status())) {
            http::LogRequestError(ctx.request_id, common::Cat("sign-in: ", s.status().ToString()));
          }
          res = ctx.Error(401, "Unauthorized", "invalid credentials");
          return;
        }
        ctx.principal = s->who;
        JsonAnswer(res, 201, SessionJson(s->who, s->csrf));
        res.SetHeader("Set-Cookie", SetCookie(s->id, ctx.request.tls, false));
      },
      sign_in);
  router.Add("GET", kPath, [sessions](http::RequestContext& ctx, http::Response& res) {
    std::string csrf;
    std::string_view id = SessionCookie(ctx.request);
    absl::StatusOr<http::Principal> who =
        id.empty() ? absl::UnauthenticatedError("") : sessions->Find(id, &csrf);
    if (!who.ok()) {
      res = ctx.Error(401, "Unauthorized", "not signed in");
      return;
    }
    JsonAnswer(res, 200, SessionJson(*who, csrf));
  });
  router.Add("DELETE", kPath, [sessions](http::RequestContext& ctx, http::Response& res) {
    // CsrfMiddleware has checked the token of a live session before this runs.
    std::string_view id = SessionCookie(ctx.request);
    if (!id.empty()) sessions->End(id);
    JsonAnswer(res, 204, "");
    res.SetHeader("Set-Cookie", SetCookie("", ctx.request.tls, true));
  });
}

}  // namespace accord::web
