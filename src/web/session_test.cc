// Browser sessions (issue 16, item 2), through a real Router with the serve command's
// middleware order: authentication (key or cookie), then CSRF. Expected answers follow the
// issue's rules (HttpOnly, Secure under TLS, SameSite=Strict; cross-site writes refused;
// sessions expire; signing out ends the session on the server) and the table in
// docs/UI_API.md; time is a test clock, never a sleep. Sessions live in the store (issue 17):
// every test runs on SQLite and on PostgreSQL (ACCORD_TEST_PG; skipped without it), and a
// second Sessions on another handle of the store plays a second frontend.
#include "accord/web/session.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <nlohmann/json.hpp>
#include <string>

#include "accord/store/store.h"
#include "store/store_test_fixture.h"

namespace accord::web {
namespace {

using namespace std::chrono_literals;

class SessionTest : public ::testing::TestWithParam<std::string> {
 protected:
  // One frontend: a handle on the store, its AuthDb, Sessions and router (the serve command's
  // middleware order, the session API, and /probe, which answers whose the request is).
  struct Frontend {
    std::unique_ptr<store::Store> store;
    std::unique_ptr<http::AuthDb> auth;
    std::unique_ptr<Sessions> sessions;
    std::unique_ptr<http::Authenticator> keys, authn;
    std::unique_ptr<http::Router> router;
  };

  void SetUp() override {
    if (where_.server_missing()) {
      GTEST_SKIP() << "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";
    }
    absl::Status made = where_.Make();
    ASSERT_TRUE(made.ok()) << made;
    Open(SessionOptions());
    ASSERT_TRUE(a_.auth->AddUser("alice", http::Role::kReader).ok());
    key_ = *a_.auth->CreateKey("alice");
  }
  // (Re)makes frontend A's sessions with `o`: the sessions in the store stay.
  void Open(SessionOptions o) { Build(a_, std::move(o)); }
  // Makes frontend B, on a handle of its own on the same store, with `o`.
  void OpenSecond(SessionOptions o) { Build(b_, std::move(o)); }
  void Build(Frontend& f, SessionOptions o) {
    f.router.reset();
    if (!f.store) {
      auto st = store::Store::Open(where_.options());
      ASSERT_TRUE(st.ok()) << st.status();
      f.store = std::move(*st);
      http::AuthDb::Options ao;
      ao.opslimit = 1;  // cheap argon2id
      ao.memlimit = 8192;
      auto a = http::AuthDb::Open(f.store.get(), ao);
      ASSERT_TRUE(a.ok()) << a.status();
      f.auth = std::move(*a);
    }
    o.clock = [this] { return Now(); };
    f.sessions = std::make_unique<Sessions>(f.auth.get(), f.store->sessions(), o);
    f.keys = http::NewAuthDbAuthenticator(f.auth.get());
    f.authn = NewSessionAuthenticator(f.keys.get(), f.sessions.get());
    f.router = std::make_unique<http::Router>();
    f.router->Use(http::AuthenticationMiddleware(f.authn.get()));
    f.router->Use(CsrfMiddleware(f.sessions.get()));
    MountSessionApi(*f.router, f.sessions.get());
    for (const char* m : {"GET", "POST"}) {
      f.router->Add(m, "/probe", [](http::RequestContext& ctx, http::Response& res) {
        res.status = 200;
        res.body = ctx.principal.anonymous() ? "anonymous" : ctx.principal.user;
      });
    }
  }
  common::Micros Now() const {
    return t0_ + std::chrono::duration_cast<std::chrono::microseconds>(now_).count();
  }

  http::Response Send(std::string method, std::string path,
                      std::vector<std::pair<std::string, std::string>> headers = {},
                      std::string body = "", bool tls = false) {
    return SendTo(a_, std::move(method), std::move(path), std::move(headers), std::move(body), tls);
  }
  http::Response SendTo(Frontend& f, std::string method, std::string path,
                        std::vector<std::pair<std::string, std::string>> headers = {},
                        std::string body = "", bool tls = false) {
    http::Request r;
    r.method = std::move(method);
    r.path = path;
    r.target = path;
    r.headers = std::move(headers);
    r.headers.emplace_back("host", "node.example:8443");
    r.body = std::move(body);
    r.remote = "192.0.2.10:40000";
    r.tls = tls;
    http::Response res;
    f.router->Handle(r, res);
    return res;
  }
  static std::string HeaderOf(const http::Response& res, std::string_view name) {
    for (const auto& [n, v] : res.headers) {
      if (n == name) return v;
    }
    return {};
  }
  // Signs in; the cookie's value and the CSRF token.
  std::pair<std::string, std::string> SignIn(bool tls = false) {
    http::Response res =
        Send("POST", "/api/ui/v1/session", {}, nlohmann::json{{"key", key_}}.dump(), tls);
    EXPECT_EQ(res.status, 201) << res.body;
    std::string cookie = HeaderOf(res, "Set-Cookie");
    std::string prefix = "accord_session=";
    EXPECT_EQ(cookie.rfind(prefix, 0), 0u) << cookie;
    std::string value = cookie.substr(prefix.size(), cookie.find(';') - prefix.size());
    return {value, nlohmann::json::parse(res.body)["csrf_token"].get<std::string>()};
  }
  static std::pair<std::string, std::string> Cookie(const std::string& v) {
    return {"cookie", "theme=dark; accord_session=" + v};
  }

  store::TestStoreLocation where_{GetParam(), "web_session"};
  Frontend a_, b_;  // destroyed before where_ drops the store
  std::string key_;
  const common::Micros t0_ = 1'700'000'000'000'000;  // 2023-11-14, a wall-clock instant
  std::chrono::seconds now_{0};
};

INSTANTIATE_TEST_SUITE_P(Backends, SessionTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

TEST_P(SessionTest, SignInSetsAStrictCookieAndSignOutEndsTheSessionOnTheServer) {
  http::Response res = Send("POST", "/api/ui/v1/session", {}, nlohmann::json{{"key", key_}}.dump());
  ASSERT_EQ(res.status, 201) << res.body;
  std::string cookie = HeaderOf(res, "Set-Cookie");
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "no TLS, no Secure: " << cookie;
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["user"], "alice");
  EXPECT_EQ(body["role"], "reader");
  // 32 random bytes, base64url without padding: 43 characters.
  EXPECT_EQ(body["csrf_token"].get<std::string>().size(), 43u);
  EXPECT_NE(HeaderOf(res, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(HeaderOf(res, "Cache-Control"), "no-store");

  // Under TLS the cookie is Secure.
  http::Response tls =
      Send("POST", "/api/ui/v1/session", {}, nlohmann::json{{"key", key_}}.dump(), true);
  EXPECT_NE(HeaderOf(tls, "Set-Cookie").find("; Secure"), std::string::npos);

  auto [id, csrf] = SignIn();
  EXPECT_EQ(id.size(), 43u);
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "alice");
  auto me = Send("GET", "/api/ui/v1/session", {Cookie(id)});
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(nlohmann::json::parse(me.body)["csrf_token"], csrf);

  http::Response out = Send("DELETE", "/api/ui/v1/session", {Cookie(id), {"x-csrf-token", csrf}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(HeaderOf(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  // The old cookie, replayed, is nobody: the session is gone from the server.
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "anonymous");
  EXPECT_EQ(Send("GET", "/api/ui/v1/session", {Cookie(id)}).status, 401);
  EXPECT_EQ(a_.sessions->size(), 2u);  // the two made above; this one ended
}

TEST_P(SessionTest, AWrongKeyOrAMalformedBodyGetsNoCookie) {
  std::string wrong =
      key_.substr(0, key_.find('.')) + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  http::Response res =
      Send("POST", "/api/ui/v1/session", {}, nlohmann::json{{"key", wrong}}.dump());
  EXPECT_EQ(res.status, 401);
  EXPECT_TRUE(HeaderOf(res, "Set-Cookie").empty());
  for (std::string body : {"", "{", "[]", "{\"key\":5}", "{\"key\":\"\"}"}) {
    http::Response bad = Send("POST", "/api/ui/v1/session", {}, body);
    EXPECT_EQ(bad.status, 400) << body;
    EXPECT_TRUE(HeaderOf(bad, "Set-Cookie").empty()) << body;
  }
  EXPECT_EQ(a_.sessions->size(), 0u);
}

TEST_P(SessionTest, CrossSiteWritesAreRefusedAndSameSiteOnesPass) {
  auto [id, csrf] = SignIn();
  // No token, a wrong token, another origin, a browser saying cross-site: 403, and the
  // handler never runs.
  EXPECT_EQ(Send("POST", "/probe", {Cookie(id)}).status, 403);
  EXPECT_EQ(Send("POST", "/probe", {Cookie(id), {"x-csrf-token", csrf + "x"}}).status, 403);
  EXPECT_EQ(Send("POST", "/probe",
                 {Cookie(id), {"x-csrf-token", csrf}, {"origin", "https://evil.example"}})
                .status,
            403);
  EXPECT_EQ(
      Send("POST", "/probe", {Cookie(id), {"x-csrf-token", csrf}, {"sec-fetch-site", "cross-site"}})
          .status,
      403);
  // Signing out cross-site is refused too: the session lives on.
  EXPECT_EQ(Send("DELETE", "/api/ui/v1/session", {Cookie(id)}).status, 403);
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "alice");
  // Signing in from another site is refused (login CSRF).
  EXPECT_EQ(Send("POST", "/api/ui/v1/session", {{"origin", "https://evil.example"}},
                 nlohmann::json{{"key", key_}}.dump())
                .status,
            403);
  // The UI's own request: the token, and this server as the origin.
  http::Response ok = Send("POST", "/probe",
                           {Cookie(id),
                            {"x-csrf-token", csrf},
                            {"origin", "https://node.example:8443"},
                            {"sec-fetch-site", "same-origin"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "alice");
  // A reading request needs no token.
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id), {"origin", "https://evil.example"}}).status, 200);
  // An API client with a key is not cookie-borne: no token needed.
  http::Response bearer = Send("POST", "/probe", {{"authorization", "Bearer " + key_}});
  EXPECT_EQ(bearer.status, 200);
  EXPECT_EQ(bearer.body, "alice");
}

TEST_P(SessionTest, SessionsExpireWhenIdleAndAtTheAbsoluteLimit) {
  SessionOptions o;
  o.idle = 60s;
  o.absolute = 300s;
  Open(o);
  auto [idle, c1] = SignIn();
  auto [busy, c2] = SignIn();
  // Used every 50 s: alive until 300 s after sign-in, whatever the activity.
  for (int t = 50; t < 300; t += 50) {
    now_ = std::chrono::seconds(t);
    EXPECT_EQ(Send("GET", "/probe", {Cookie(busy)}).body, "alice") << t;
  }
  now_ = 300s;
  EXPECT_EQ(Send("GET", "/probe", {Cookie(busy)}).body, "anonymous");
  // Not used since sign-in: gone after 60 s idle (it was already).
  EXPECT_EQ(Send("GET", "/probe", {Cookie(idle)}).body, "anonymous");
  now_ = 400s;
  auto [fresh, c3] = SignIn();
  now_ = 459s;
  EXPECT_EQ(Send("GET", "/probe", {Cookie(fresh)}).body, "alice");  // 59 s idle
  now_ = 518s;
  EXPECT_EQ(Send("GET", "/probe", {Cookie(fresh)}).body, "alice");  // 59 s since its last use
  now_ = 578s;
  EXPECT_EQ(Send("GET", "/probe", {Cookie(fresh)}).body, "anonymous");  // 60 s: expired
}

TEST_P(SessionTest, ARevokedKeyEndsItsSessionsAtTheNextCheck) {
  SessionOptions o;
  o.recheck = 1000ms;
  Open(o);
  auto [id, csrf] = SignIn();
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "alice");
  ASSERT_TRUE(a_.auth->RevokeKey(key_).ok());
  now_ = 1s;  // the next check reads the key again
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "anonymous");
  EXPECT_EQ(a_.sessions->size(), 0u);
  EXPECT_EQ(Send("POST", "/api/ui/v1/session", {}, nlohmann::json{{"key", key_}}.dump()).status,
            401);
}

TEST_P(SessionTest, TheTableIsCappedAndTheLeastRecentlyUsedSessionGoesFirst) {
  SessionOptions o;
  o.max_sessions = 3;
  o.touch = 0s;  // every use reaches the store at its recheck (by default, to the minute)
  Open(o);
  auto [a, ca] = SignIn();
  now_ = 1s;
  auto [b, cb] = SignIn();
  now_ = 2s;
  auto [c, cc] = SignIn();
  now_ = 3s;
  EXPECT_EQ(Send("GET", "/probe", {Cookie(a)}).body, "alice");  // a is now newer than b
  now_ = 4s;
  auto [d, cd] = SignIn();
  EXPECT_EQ(a_.sessions->size(), 3u);
  EXPECT_EQ(Send("GET", "/probe", {Cookie(b)}).body, "anonymous");
  for (const std::string& live : {a, c, d}) {
    EXPECT_EQ(Send("GET", "/probe", {Cookie(live)}).body, "alice");
  }
}

// Issue 17: a session signed in through one frontend is one on another (the same CSRF token
// too), and a sign-out through one ends it on the other at its next check: until then the
// other answers from its cache, without reading the store on every request.
TEST_P(SessionTest, ASessionIsOneOnEveryFrontendAndASignOutEndsItEverywhere) {
  OpenSecond(SessionOptions());
  auto [id, csrf] = SignIn();
  http::Response me = SendTo(b_, "GET", "/api/ui/v1/session", {Cookie(id)});
  ASSERT_EQ(me.status, 200) << me.body;
  auto body = nlohmann::json::parse(me.body);
  EXPECT_EQ(body["user"], "alice");
  EXPECT_EQ(body["role"], "reader");
  EXPECT_EQ(body["csrf_token"], csrf);
  EXPECT_EQ(SendTo(b_, "POST", "/probe", {Cookie(id)}).status, 403);
  EXPECT_EQ(SendTo(b_, "POST", "/probe", {Cookie(id), {"x-csrf-token", csrf + "x"}}).status, 403);
  http::Response ok = SendTo(b_, "POST", "/probe", {Cookie(id), {"x-csrf-token", csrf}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "alice");

  EXPECT_EQ(Send("DELETE", "/api/ui/v1/session", {Cookie(id), {"x-csrf-token", csrf}}).status, 204);
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "anonymous");    // A: at once
  EXPECT_EQ(SendTo(b_, "GET", "/probe", {Cookie(id)}).body, "alice");  // B: its cache, for now
  now_ = 1s;                                                           // B's next check
  EXPECT_EQ(SendTo(b_, "GET", "/probe", {Cookie(id)}).body, "anonymous");
  EXPECT_EQ(SendTo(b_, "GET", "/api/ui/v1/session", {Cookie(id)}).status, 401);
  EXPECT_EQ(b_.sessions->size(), 0u);
}

// A session used only through frontend A stays alive on frontend B, whose cache last saw it
// long ago: B asks the store, where A wrote the use (every `touch` at most).
TEST_P(SessionTest, UseThroughAnotherFrontendKeepsTheSessionAlive) {
  SessionOptions o;
  o.idle = 60s;
  Open(o);
  OpenSecond(o);
  auto [id, csrf] = SignIn();
  EXPECT_EQ(SendTo(b_, "GET", "/probe", {Cookie(id)}).body, "alice");  // B caches it at 0 s
  for (int t = 20; t <= 100; t += 20) {
    now_ = std::chrono::seconds(t);
    EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "alice") << t;  // A writes the use at 60 s
  }
  now_ = 110s;  // 110 s since B saw it, 50 s since the use the store has
  EXPECT_EQ(SendTo(b_, "GET", "/probe", {Cookie(id)}).body, "alice");
  now_ = 120s;
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "alice");
  // Unused since 120 s on either frontend: expired on both at 180 s.
  now_ = 180s;
  EXPECT_EQ(SendTo(b_, "GET", "/probe", {Cookie(id)}).body, "anonymous");
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "anonymous");
}

// The store keeps a hash of the cookie's value and a hash of the CSRF token (BLAKE2b-256, hex),
// never either value; its times are the wall clock's.
TEST_P(SessionTest, TheStoreKeepsNeitherTheCookieNorTheCsrfToken) {
  auto [id, csrf] = SignIn();
  auto blake2b_hex = [](const std::string& v) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(v.data()), v.size(),
                       nullptr, 0);
    static const char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : h) {
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
    return out;
  };
  store::SessionStore* s = a_.store->sessions();
  EXPECT_FALSE(s->Find(id)->has_value());
  auto row = s->Find(blake2b_hex(id));
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->csrf_hash, blake2b_hex(csrf));
  EXPECT_EQ((*row)->user, "alice");
  EXPECT_EQ((*row)->key_id, key_.substr(0, key_.find('.')));
  EXPECT_EQ((*row)->role, "reader");
  EXPECT_EQ((*row)->created, t0_);
  EXPECT_EQ((*row)->last_used, t0_);
  EXPECT_EQ(csrf.find(id), std::string::npos);
}

}  // namespace
}  // namespace accord::web
