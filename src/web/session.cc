#include "accord/web/session.h"

#include <sodium.h>

#include <simdjson.h>
#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/formats/formats.h"
#include "accord/store/store.h"
#include "http/text.h"
#include "web/api_util.h"

namespace accord::web {

using common::Micros;

namespace {

std::string RandomToken() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return common::Base64Encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes),
                              common::Base64Variant::kUrlSafeNoPadding);
}

// BLAKE2b-256 of `text`, keyed by `key` when not empty (16 to 64 bytes).
std::string Blake2b(std::string_view text, std::string_view key = {}) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

// The store's key for a session name: its BLAKE2b-256, so that the names themselves are not
// kept (a database dump or a memory dump does not yield live cookies) and lookups do not
// compare secrets.
std::string KeyOf(std::string_view id) { return common::HexEncode(Blake2b(id)); }

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;  // constant time
}

Micros ToMicros(std::chrono::microseconds d) { return static_cast<Micros>(d.count()); }

}  // namespace

struct Sessions::Impl {
  // A session this process serves, cached between reads of the store.
  struct Entry {
    std::string user, key_id, csrf_hash;
    http::Principal who;
    Micros created = 0;
    Micros last_used = 0;  // the latest use seen, here or (as of `checked`) in the store
    Micros stored = 0;     // last_used as the store had it when last read or written here
    Micros checked = 0;    // when the store, the key and the role were last read
  };

  http::AuthDb* db;
  store::SessionStore* store;
  SessionOptions o;
  Micros idle = 0, absolute = 0, recheck = 0, touch = 0;
  mutable std::mutex mu;
  std::unordered_map<std::string, Entry> cache;  // by KeyOf

  Micros Now() const { return o.clock ? o.clock() : common::NowMicros(); }

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

  // Session `k` as the store has it; Unauthenticated when it has none (or one that expired,
  // which goes).
  absl::StatusOr<Entry> Load(const std::string& k, Micros now) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<store::SessionRow> row, store->Find(k));
    if (!row) return absl::UnauthenticatedError("no such session");
    Entry e;
    e.user = std::move(row->user);
    e.key_id = std::move(row->key_id);
    e.csrf_hash = std::move(row->csrf_hash);
    e.created = row->created;
    e.last_used = e.stored = row->last_used;
    absl::StatusOr<http::Role> role = http::ParseRole(row->role);
    if (!role.ok() || Expired(e, now)) {
      // Housekeeping: an expired row is dead to every frontend whether it goes now or at a
      // later sweep, so a failure to delete it changes nothing.
      (void)store->Delete(k);
      return absl::UnauthenticatedError(role.ok() ? "the session expired" : "unknown role");
    }
    e.who.user = e.user;
    e.who.role = *role;
    return e;
  }

  // Whether session `k`, cached as `e`, is still in the store (not signed out, swept or evicted
  // by another frontend); writes its last use when it is `touch` or more ahead of the store's.
  absl::StatusOr<bool> InStore(const std::string& k, Entry* e) {
    if (e->last_used - e->stored >= touch) {
      ACCORD_ASSIGN_OR_RETURN(bool live, store->Touch(k, e->last_used));
      e->stored = e->last_used;
      return live;
    }
    ACCORD_ASSIGN_OR_RETURN(std::optional<store::SessionRow> row, store->Find(k));
    if (!row) return false;
    e->stored = std::max(e->stored, row->last_used);  // used through another frontend
    e->last_used = std::max(e->last_used, row->last_used);
    return true;
  }

  // REQUIRES: mu held. Makes room in the cache (not the store) for one more session.
  void MakeRoom(Micros now) {
    if (cache.size() < o.max_sessions) return;
    for (auto it = cache.begin(); it != cache.end();) {
      if (Expired(it->second, now)) {
        it = cache.erase(it);
      } else {
        ++it;
      }
    }
    while (!cache.empty() && cache.size() >= o.max_sessions) {
      auto oldest = std::min_element(cache.begin(), cache.end(), [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      cache.erase(oldest);
    }
  }

  bool Expired(const Entry& e, Micros now) const {
    return now - e.last_used >= idle || now - e.created >= absolute;
  }
};

Sessions::Sessions(http::AuthDb* db, store::SessionStore* store, SessionOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->db = db;
  impl_->store = store;
  impl_->o = std::move(options);
  if (impl_->o.max_sessions == 0) impl_->o.max_sessions = 1;
  impl_->idle = ToMicros(impl_->o.idle);
  impl_->absolute = ToMicros(impl_->o.absolute);
  impl_->recheck = ToMicros(impl_->o.recheck);
  impl_->touch = ToMicros(impl_->o.touch);
}

Sessions::~Sessions() = default;

std::string Sessions::CsrfToken(std::string_view id) {
  // A key of its own, so that the token is no other hash of the name (not the store's key).
  static constexpr std::string_view kCsrfKey = "accord.web.csrf.v1";
  return common::Base64Encode(Blake2b(id, kCsrfKey), common::Base64Variant::kUrlSafeNoPadding);
}

std::string Sessions::CsrfHash(std::string_view token) { return common::HexEncode(Blake2b(token)); }

absl::StatusOr<Sessions::SignIn> Sessions::Create(std::string_view key,
                                                  std::string_view client_address) {
  ACCORD_ASSIGN_OR_RETURN(http::Principal who,
                          impl_->db->Authenticate("", std::string(key), client_address));
  if (who.anonymous()) return absl::UnauthenticatedError("invalid credentials");
  SignIn out;
  out.id = RandomToken();
  out.csrf = CsrfToken(out.id);
  out.who = who;
  const Micros now = impl_->Now();
  Impl::Entry e;
  e.user = who.user;
  e.key_id = std::string(key.substr(0, key.find('.')));
  e.csrf_hash = CsrfHash(out.csrf);
  e.who = std::move(who);
  e.created = e.last_used = e.stored = e.checked = now;
  const std::string k = KeyOf(out.id);
  store::SessionBounds bounds;
  bounds.idle_before = now - impl_->idle + 1;  // what Expired() calls expired
  bounds.created_before = now - impl_->absolute + 1;
  bounds.max_rows = impl_->o.max_sessions;
  ACCORD_RETURN_IF_ERROR(impl_->store->Put(
      store::SessionRow{k, e.csrf_hash, e.user, e.key_id, std::string(http::RoleName(e.who.role)),
                        e.created, e.last_used},
      bounds));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->MakeRoom(now);
  impl_->cache.insert_or_assign(k, std::move(e));
  return out;
}

absl::StatusOr<http::Principal> Sessions::Find(std::string_view id, std::string* csrf_hash) {
  const std::string k = KeyOf(id);
  const Micros now = impl_->Now();
  Impl::Entry e;
  bool cached = false;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto it = impl_->cache.find(k);
    // Idle here says nothing of the uses through other frontends, and an old session may be
    // gone: the store decides (Load).
    if (it != impl_->cache.end() && impl_->Expired(it->second, now)) {
      impl_->cache.erase(it);
    } else if (it != impl_->cache.end()) {
      it->second.last_used = now;
      if (now - it->second.checked < impl_->recheck) {
        if (csrf_hash) *csrf_hash = it->second.csrf_hash;
        return it->second.who;
      }
      e = it->second;
      cached = true;
    }
  }
  // Outside the lock: the store and the AuthDb are read.
  if (cached) {
    ACCORD_ASSIGN_OR_RETURN(bool live, impl_->InStore(k, &e));
    if (!live) {
      std::lock_guard<std::mutex> l(impl_->mu);
      impl_->cache.erase(k);
      return absl::UnauthenticatedError("the session ended");
    }
  } else {
    ACCORD_ASSIGN_OR_RETURN(e, impl_->Load(k, now));
    e.last_used = now;
  }
  absl::StatusOr<http::Principal> fresh = impl_->Recheck(e);
  if (!fresh.ok()) {
    {
      std::lock_guard<std::mutex> l(impl_->mu);
      impl_->cache.erase(k);
    }
    if (absl::IsUnauthenticated(fresh.status()) || absl::IsNotFound(fresh.status())) {
      (void)impl_->store->Delete(k);  // dead on every frontend: each rechecks the key too
      return absl::UnauthenticatedError(fresh.status().message());
    }
    return fresh.status();
  }
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->cache.find(k);
  if (it == impl_->cache.end()) {
    if (cached) return absl::UnauthenticatedError("no such session");  // ended meanwhile
    impl_->MakeRoom(now);
    it = impl_->cache.emplace(k, e).first;
  }
  Impl::Entry& c = it->second;
  c.who = *fresh;
  c.checked = now;
  c.last_used = std::max(c.last_used, e.last_used);
  c.stored = std::max(c.stored, e.stored);
  if (csrf_hash) *csrf_hash = c.csrf_hash;
  return *fresh;
}

absl::Status Sessions::End(std::string_view id) {
  const std::string k = KeyOf(id);
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->cache.erase(k);
  }
  return impl_->store->Delete(k);
}

size_t Sessions::size() const {
  absl::StatusOr<uint64_t> n = impl_->store->Count();
  return n.ok() ? static_cast<size_t>(*n) : 0;
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
    std::string csrf_hash;
    if (!sessions->Find(id, &csrf_hash).ok()) return http::Next::kContinue;  // anonymous
    std::string why = CrossSite(r);
    // The hash of what was sent against the hash the store keeps: the token itself is kept
    // nowhere.
    if (why.empty() && !SameSecret(Sessions::CsrfHash(r.Header(kCsrfHeader)), csrf_hash)) {
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
    std::string_view id = SessionCookie(ctx.request);
    absl::StatusOr<http::Principal> who =
        id.empty() ? absl::UnauthenticatedError("") : sessions->Find(id);
    if (absl::IsUnauthenticated(who.status())) {
      res = ctx.Error(401, "Unauthorized", "not signed in");
      return;
    }
    if (!who.ok()) {
      Failed(ctx, res, "session read", who.status());
      return;
    }
    JsonAnswer(res, 200, SessionJson(*who, Sessions::CsrfToken(id)));
  });
  router.Add("DELETE", kPath, [sessions](http::RequestContext& ctx, http::Response& res) {
    // CsrfMiddleware has checked the token of a live session before this runs.
    std::string_view id = SessionCookie(ctx.request);
    if (absl::Status ended = id.empty() ? absl::OkStatus() : sessions->End(id); !ended.ok()) {
      Failed(ctx, res, "sign-out", ended);  // the session may live on: say so
      return;
    }
    JsonAnswer(res, 204, "");
    res.SetHeader("Set-Cookie", SetCookie("", ctx.request.tls, true));
  });
}

}  // namespace accord::web
