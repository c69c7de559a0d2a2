// Browser sessions (issue 16, item 2), through a real Router with the serve command's
// middleware order: authentication (key or cookie), then CSRF. Expected answers follow the
// issue's rules (HttpOnly, Secure under TLS, SameSite=Strict; cross-site writes refused;
// sessions expire; signing out ends the session on the server) and the table in
// docs/UI_API.md; time is a test clock, never a sleep.
#include "accord/web/session.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "accord/store/store.h"
#include "common/test_util.h"

namespace accord::web {
namespace {

using namespace std::chrono_literals;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(SessionOptions()); }
  void Open(SessionOptions o) {
    if (!store_) {
      store::Options so;
      so.dir = (tmp_.path() / "data").string();
      auto st = store::Store::Open(so);
      ASSERT_TRUE(st.ok()) << st.status();
      store_ = std::move(*st);
      http::AuthDb::Options ao;
      ao.opslimit = 1;  // cheap argon2id
      ao.memlimit = 8192;
      auto a = http::AuthDb::Open(store_.get(), ao);
      ASSERT_TRUE(a.ok()) << a.status();
      auth_ = std::move(*a);
      ASSERT_TRUE(auth_->AddUser("alice", http::Role::kReader).ok());
      key_ = *auth_->CreateKey("alice");
    }
    o.clock = [this] { return t0_ + now_; };
    sessions_ = std::make_unique<Sessions>(auth_.get(), o);
    keys_ = http::NewAuthDbAuthenticator(auth_.get());
    authn_ = NewSessionAuthenticator(keys_.get(), sessions_.get());
    router_ = std::make_unique<http::Router>();
    router_->Use(http::AuthenticationMiddleware(authn_.get()));
    router_->Use(CsrfMiddleware(sessions_.get()));
    MountSessionApi(*router_, sessions_.get());
    for (const char* m : {"GET", "POST"}) {
      router_->Add(m, "/probe", [](http::RequestContext& ctx, http::Response& res) {
        res.status = 200;
        res.body = ctx.principal.anonymous() ? "anonymous" : ctx.principal.user;
      });
    }
  }
  void TearDown() override {
    router_.reset();
    sessions_.reset();
    auth_.reset();
    store_.reset();
  }

  http::Response Send(std::string method, std::string path,
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
    router_->Handle(r, res);
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

  testing::TempDir tmp_{"web-session"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::AuthDb> auth_;
  std::string key_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::chrono::seconds now_{0};
  std::unique_ptr<Sessions> sessions_;
  std::unique_ptr<http::Authenticator> keys_, authn_;
  std::unique_ptr<http::Router> router_;
};

TEST_F(SessionTest, SignInSetsAStrictCookieAndSignOutEndsTheSessionOnTheServer) {
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
  EXPECT_EQ(sessions_->size(), 2u);  // the two made above; this one ended
}

TEST_F(SessionTest, AWrongKeyOrAMalformedBodyGetsNoCookie) {
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
  EXPECT_EQ(sessions_->size(), 0u);
}

TEST_F(SessionTest, CrossSiteWritesAreRefusedAndSameSiteOnesPass) {
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

TEST_F(SessionTest, SessionsExpireWhenIdleAndAtTheAbsoluteLimit) {
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

TEST_F(SessionTest, ARevokedKeyEndsItsSessionsAtTheNextCheck) {
  SessionOptions o;
  o.recheck = 1000ms;
  Open(o);
  auto [id, csrf] = SignIn();
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "alice");
  ASSERT_TRUE(auth_->RevokeKey(key_).ok());
  now_ = 1s;  // the next check reads the key again
  EXPECT_EQ(Send("GET", "/probe", {Cookie(id)}).body, "anonymous");
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(Send("POST", "/api/ui/v1/session", {}, nlohmann::json{{"key", key_}}.dump()).status,
            401);
}

TEST_F(SessionTest, TheTableIsCappedAndTheLeastRecentlyUsedSessionGoesFirst) {
  SessionOptions o;
  o.max_sessions = 3;
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
  EXPECT_EQ(sessions_->size(), 3u);
  EXPECT_EQ(Send("GET", "/probe", {Cookie(b)}).body, "anonymous");
  for (const std::string& live : {a, c, d}) {
    EXPECT_EQ(Send("GET", "/probe", {Cookie(live)}).body, "alice");
  }
}

}  // namespace
}  // namespace accord::web
