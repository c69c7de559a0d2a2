// http::Router: pattern routing and parameters, 404/405 (Allow), middleware order and early
// answers, the authentication and limits middleware, the handler edge (exceptions), deferred
// answers, and static files including traversal and symlink escapes. Expected values come
// from the contract in router.h, not from running the code.
#include "accord/http/router.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace accord::http {
namespace {

namespace fs = std::filesystem;

Request Req(std::string method, std::string target, std::string body = "") {
  Request r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = std::move(body);
  return r;
}

std::string HeaderOf(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// A handler that answers 200 with `tag` and the parameters it saw, "k=v;" each.
RouteHandler Echo(std::string tag) {
  return [tag](RequestContext& ctx, Response& res) {
    res.status = 200;
    res.body = tag + ":";
    for (const auto& [k, v] : ctx.params) res.body += k + "=" + v + ";";
    if (!ctx.rest.empty()) res.body += "rest=" + ctx.rest;
  };
}

TEST(Router, RoutesByPathAndCapturesDecodedParameters) {
  Router r;
  r.Add("GET", "/api/collections/", Echo("list"));
  r.Add("GET", "/api/collections/{id}/", Echo("one"));
  r.Add("GET", "/api/collections/{id}/objects/{object}/versions/", Echo("versions"));
  Response a, b, c;
  r.Handle(Req("GET", "/api/collections/"), a);
  r.Handle(Req("GET", "/api/collections/abc%20d/"), b);
  r.Handle(Req("GET", "/api/collections/c1/objects/indicator--1/versions/?x=1"), c);
  EXPECT_EQ(a.body, "list:");
  EXPECT_EQ(b.body, "one:id=abc d;");
  EXPECT_EQ(c.body, "versions:id=c1;object=indicator--1;");
}

TEST(Router, LiteralBeatsParameterBeatsRestWhateverTheOrderAdded) {
  Router r;
  r.Add("GET", "/*", Echo("any"));
  r.Add("GET", "/{root}/", Echo("root"));
  r.Add("GET", "/taxii2/", Echo("discovery"));
  Response a, b, c;
  r.Handle(Req("GET", "/taxii2/"), a);
  r.Handle(Req("GET", "/api/"), b);
  r.Handle(Req("GET", "/api/x/y"), c);
  EXPECT_EQ(a.body, "discovery:");
  EXPECT_EQ(b.body, "root:root=api;");
  EXPECT_EQ(c.body, "any:rest=api/x/y");
}

TEST(Router, UnknownPathIs404AndTrailingSlashIsSignificant) {
  Router r;
  r.Add("GET", "/api/", Echo("root"));
  Response a, b, c;
  r.Handle(Req("GET", "/nope/"), a);
  r.Handle(Req("GET", "/api"), b);
  r.Handle(Req("GET", "/api/%zz/"), c);  // a malformed escape matches nothing
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(b.status, 404);
  EXPECT_NE(b.body.find("end with '/'"), std::string::npos) << b.body;
  EXPECT_EQ(c.status, 404);
}

TEST(Router, ParameterDoesNotMatchAnEmptySegment) {
  Router r;
  r.Add("GET", "/c/{id}/", Echo("one"));
  Response a;
  r.Handle(Req("GET", "/c//"), a);
  EXPECT_EQ(a.status, 404);
}

TEST(Router, WrongMethodIs405WithAllowIncludingHead) {
  Router r;
  r.Add("GET", "/o/", Echo("get"));
  r.Add("POST", "/o/", Echo("post"));
  r.Add("DELETE", "/d/", Echo("del"));
  Response a, b, head;
  r.Handle(Req("PUT", "/o/"), a);
  r.Handle(Req("GET", "/d/"), b);
  r.Handle(Req("HEAD", "/o/"), head);
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(HeaderOf(a, "Allow"), "GET, HEAD, POST");
  EXPECT_EQ(b.status, 405);
  EXPECT_EQ(HeaderOf(b, "Allow"), "DELETE");
  EXPECT_EQ(head.status, 200);  // HEAD runs the GET handler
  EXPECT_EQ(head.body, "get:");
}

TEST(Router, ErrorsUseTheErrorFactory) {
  Router r([](int status, std::string_view title, std::string_view) {
    Response e;
    e.status = status;
    e.body = "custom " + std::to_string(status) + " " + std::string(title);
    return e;
  });
  Response a;
  r.Handle(Req("GET", "/x/"), a);
  EXPECT_EQ(a.body, "custom 404 Not found");
}

TEST(Router, MiddlewareRunsInOrderAfterLookupAndMayAnswerEarly) {
  Router r;
  std::vector<std::string> trace;
  bool handler_ran = false;
  r.Use([&](RequestContext& ctx, Response&) {
    trace.push_back("first");
    return Next::kContinue;
  });
  r.Use([&](RequestContext& ctx, Response& res) {
    trace.push_back("second");
    if (ctx.request.Header("x-stop") == "yes") {
      res.status = 429;
      res.body = "stopped";
      return Next::kAnswered;
    }
    return Next::kContinue;
  });
  r.Use([&](RequestContext&, Response&) {
    trace.push_back("third");
    return Next::kContinue;
  });
  r.Add("GET", "/h/", [&](RequestContext&, Response& res) {
    handler_ran = true;
    res.body = "handled";
  });

  Response ok;
  r.Handle(Req("GET", "/h/"), ok);
  EXPECT_EQ(trace, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_TRUE(handler_ran);
  EXPECT_EQ(ok.body, "handled");

  trace.clear();
  handler_ran = false;
  Request stop = Req("GET", "/h/");
  stop.headers = {{"x-stop", "yes"}};
  Response early;
  r.Handle(stop, early);
  EXPECT_EQ(trace, (std::vector<std::string>{"first", "second"}));
  EXPECT_FALSE(handler_ran);
  EXPECT_EQ(early.status, 429);

  // Route lookup comes first: no middleware runs for a 404 or a 405.
  trace.clear();
  Response missing, wrong;
  r.Handle(Req("GET", "/nope/"), missing);
  r.Handle(Req("POST", "/h/"), wrong);
  EXPECT_TRUE(trace.empty());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(wrong.status, 405);
}

class FakeAuth final : public Authenticator {
 public:
  absl::StatusOr<Principal> Authenticate(const Request& request) override {
    std::string_view a = request.Header("authorization");
    if (a.empty()) return Principal{};
    if (a == "Bearer good") {
      Principal p;
      p.user = "alice";
      return p;
    }
    return absl::UnauthenticatedError("invalid credentials");
  }
};

TEST(Router, AuthenticationMiddlewareSetsThePrincipalOrAnswers401) {
  FakeAuth auth;
  Router r;
  r.Use(AuthenticationMiddleware(&auth));
  r.Add("GET", "/me/", [](RequestContext& ctx, Response& res) {
    res.body = ctx.principal.anonymous() ? "anonymous" : ctx.principal.user;
  });
  Request good = Req("GET", "/me/"), bad = Req("GET", "/me/");
  good.headers = {{"authorization", "Bearer good"}};
  bad.headers = {{"authorization", "Bearer bad"}};
  Response g, b, anon;
  r.Handle(good, g);
  r.Handle(bad, b);
  r.Handle(Req("GET", "/me/"), anon);
  EXPECT_EQ(g.body, "alice");
  EXPECT_EQ(g.user, "alice");  // for the access log
  EXPECT_EQ(b.status, 401);
  EXPECT_NE(HeaderOf(b, "WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(anon.body, "anonymous");
  EXPECT_EQ(anon.user, "");
}

// A browser answers a Basic challenge with its own password dialog (a headless one waits on it
// for ever): a page's script (X-Requested-With, or the UI's API) gets the Bearer challenge
// alone, whether the 401 comes from authentication or from a handler; a TAXII client both.
TEST(Router, ScriptsGetNoBasicChallenge) {
  FakeAuth auth;
  Router r;
  r.Use(AuthenticationMiddleware(&auth));
  auto refuse = [](RequestContext& ctx, Response& res) {
    if (ctx.principal.anonymous()) {
      res = ctx.Error(401, "Unauthorized", "sign in");
      res.SetHeader("WWW-Authenticate", R"(Basic realm="accord", Bearer realm="accord")");
    }
  };
  r.Add("GET", "/api/collections/", refuse);
  r.Add("GET", "/api/ui/v1/session", refuse);
  auto challenges = [&r](const std::string& target, const char* authorization, bool xhr) {
    Request q = Req("GET", target);
    if (authorization) q.headers.push_back({"authorization", authorization});
    if (xhr) q.headers.push_back({"x-requested-with", "XMLHttpRequest"});
    Response res;
    r.Handle(q, res);
    EXPECT_EQ(res.status, 401) << target;
    std::vector<std::string> out;
    for (const auto& [k, v] : res.headers) {
      if (k == "WWW-Authenticate") out.push_back(v);
    }
    return out;
  };
  const std::vector<std::string> both = {R"(Basic realm="accord", Bearer realm="accord")"};
  const std::vector<std::string> bearer = {R"(Bearer realm="accord")"};
  EXPECT_EQ(challenges("/api/collections/", nullptr, false), both);  // a TAXII client
  EXPECT_EQ(challenges("/api/collections/", nullptr, true), bearer);
  EXPECT_EQ(challenges("/api/ui/v1/session", nullptr, false), bearer);
  EXPECT_EQ(challenges("/api/collections/", "Bearer bad", true), bearer);  // the middleware's
  EXPECT_EQ(challenges("/api/ui/v1/session", "Bearer bad", false), bearer);
  EXPECT_EQ(challenges("/api/collections/", "Bearer bad", false).size(), 1u);
  EXPECT_NE(challenges("/api/collections/", "Bearer bad", false)[0].find("Basic"),
            std::string::npos);
}

TEST(Router, LimitsMiddlewareEnforcesThePerRouteBodyLimit) {
  Router r;
  r.Use(LimitsMiddleware());
  RouteOptions small;
  small.max_body_bytes = 4;
  r.Add("POST", "/small/", Echo("small"), small);
  r.Add("POST", "/big/", Echo("big"));
  Response a, b, c;
  r.Handle(Req("POST", "/small/", "12345"), a);
  r.Handle(Req("POST", "/small/", "1234"), b);
  r.Handle(Req("POST", "/big/", std::string(1000, 'x')), c);
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(r.BodyLimit("POST", "/small/"), 4u);
  EXPECT_EQ(r.BodyLimit("POST", "/big/"), 0u);
  EXPECT_EQ(r.BodyLimit("POST", "/nope/"), 0u);
}

TEST(Router, CheckHeadRunsMiddlewareAndRouteCheckThenHandleDoesNotRepeatThem) {
  int middleware_runs = 0;
  FakeAuth auth;
  Router r;
  r.Use(AuthenticationMiddleware(&auth));
  r.Use([&](RequestContext&, Response&) {
    ++middleware_runs;
    return Next::kContinue;
  });
  RouteOptions writers;
  writers.check_head = [](RequestContext& ctx, Response& res) {
    if (ctx.principal.user == "alice") return Next::kContinue;
    res = ctx.Error(403, "Forbidden", "alice only");
    return Next::kAnswered;
  };
  r.Add(
      "POST", "/w/",
      [](RequestContext& ctx, Response& res) {
        res.body = ctx.principal.user + ":" + ctx.request.body;
      },
      writers);

  // Alice's head passes; the principal is recorded for Handle, which then runs no middleware.
  Request head = Req("POST", "/w/");
  head.headers = {{"authorization", "Bearer good"}};
  Response refused;
  ASSERT_TRUE(r.CheckHead(head, refused));
  ASSERT_NE(head.principal, nullptr);
  EXPECT_EQ(head.principal->user, "alice");
  EXPECT_EQ(middleware_runs, 1);
  head.body = "data";
  Response done;
  r.Handle(head, done);
  EXPECT_EQ(done.body, "alice:data");
  EXPECT_EQ(middleware_runs, 1);

  // Anonymous: the route's check answers on the head; bad credentials: the middleware does.
  Request anon = Req("POST", "/w/");
  Response a;
  EXPECT_FALSE(r.CheckHead(anon, a));
  EXPECT_EQ(a.status, 403);
  EXPECT_FALSE(HeaderOf(a, "X-Request-Id").empty());
  Request bad = Req("POST", "/w/");
  bad.headers = {{"authorization", "Bearer bad"}};
  Response b;
  EXPECT_FALSE(r.CheckHead(bad, b));
  EXPECT_EQ(b.status, 401);
  // Unknown path and wrong method are decided on the head too.
  Request lost = Req("POST", "/nowhere/"), wrong = Req("PUT", "/w/");
  Response l, w;
  EXPECT_FALSE(r.CheckHead(lost, l));
  EXPECT_FALSE(r.CheckHead(wrong, w));
  EXPECT_EQ(l.status, 404);
  EXPECT_EQ(w.status, 405);

  // Without CheckHead (a direct call), Handle runs the route's check as well.
  Request direct = Req("POST", "/w/", "x");
  Response d;
  r.Handle(direct, d);
  EXPECT_EQ(d.status, 403);
}

TEST(Router, OutOfMemoryIs503WithRetryAfter) {
  Router r;
  r.Add("GET", "/big/", [](RequestContext&, Response&) { throw std::bad_alloc(); });
  Response res;
  r.Handle(Req("GET", "/big/"), res);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(HeaderOf(res, "Retry-After"), "1");
}

TEST(Router, ExceptionBecomesGeneric500WithRequestId) {
  Router r;
  r.Add("GET", "/boom/", [](RequestContext&, Response&) {
    throw std::runtime_error("open /var/lib/secret/objects.db: SELECT * FROM keys");
  });
  Request rq = Req("GET", "/boom/");
  rq.id = "req-123";
  Response res;
  r.Handle(rq, res);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("/var/lib"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("SELECT"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("req-123"), std::string::npos) << res.body;
  EXPECT_EQ(HeaderOf(res, "X-Request-Id"), "req-123");
}

TEST(Router, DeferredAnswerKeepsPrincipalAndRequestId) {
  FakeAuth auth;
  Router r;
  r.Use(AuthenticationMiddleware(&auth));
  r.Add("POST", "/later/", [](RequestContext&, Response& res) {
    res.deferred = [](Response::Send send) {
      Response later;
      later.status = 202;
      later.body = "done";
      send(std::move(later));
    };
  });
  Request rq = Req("POST", "/later/");
  rq.headers = {{"authorization", "Bearer good"}};
  rq.id = "req-7";
  Response res;
  r.Handle(rq, res);
  ASSERT_TRUE(res.deferred);
  AwaitDeferred(res);
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, "done");
  EXPECT_EQ(res.user, "alice");
  EXPECT_EQ(HeaderOf(res, "X-Request-Id"), "req-7");
}

// --- static files ------------------------------------------------------------------------

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/accord-router-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    fs::create_directories(base_ / "www/js");
    fs::create_directories(base_ / "www/sub");
    Write(base_ / "www/index.html", "<h1>home</h1>");
    Write(base_ / "www/js/app.js", "console.log(1)");
    Write(base_ / "www/style.css", "body{}");
    Write(base_ / "www/data.bin", "\x01\x02");
    Write(base_ / "www/.secret", "hidden");
    Write(base_ / "secret.txt", "outside");  // beside the root: must never be served
    fs::create_symlink(base_ / "secret.txt", base_ / "www/link-out.txt");
    fs::create_symlink(base_, base_ / "www/dir-out");
    fs::create_symlink(base_ / "www/style.css", base_ / "www/link-in.css");
    router_.ServeStatic("/ui/", (base_ / "www").string());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  static void Write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

  Response Get(const std::string& target) {
    Response r;
    router_.Handle(Req("GET", target), r);
    return r;
  }

  fs::path base_;
  Router router_;
};

TEST_F(StaticFiles, ServesFilesWithContentTypes) {
  auto index = Get("/ui/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<h1>home</h1>");
  EXPECT_EQ(HeaderOf(index, "Content-Type"), "text/html; charset=utf-8");
  auto js = Get("/ui/js/app.js");
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(HeaderOf(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get("/ui/style.css"), "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get("/ui/data.bin"), "Content-Type"), "application/octet-stream");
  EXPECT_EQ(HeaderOf(js, "X-Content-Type-Options"), "nosniff");
  // A symlink that stays inside the root is fine.
  EXPECT_EQ(Get("/ui/link-in.css").body, "body{}");
}

TEST_F(StaticFiles, TraversalAndEscapesAre404) {
  for (std::string t : {
           "/ui/../secret.txt",            // plain ..
           "/ui/%2e%2e/secret.txt",        // encoded ..
           "/ui/js/..%2f..%2fsecret.txt",  // encoded slashes
           "/ui/%2e%2e%2fsecret.txt",
           "/ui/./index.html",        // '.' segment
           "/ui/..%5csecret.txt",     // backslash
           "/ui/index.html%00.js",    // NUL
           "/ui/.secret",             // hidden file
           "/ui/link-out.txt",        // symlink leading outside
           "/ui/dir-out/secret.txt",  // symlinked directory leading outside
           "/ui/js",                  // a directory
           "/ui/missing.html",
           "/ui/js//app.js",  // empty segment
       }) {
    auto r = Get(t);
    EXPECT_EQ(r.status, 404) << t;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << t;
    EXPECT_EQ(r.body.find(base_.string()), std::string::npos) << t << ": " << r.body;
  }
}

TEST_F(StaticFiles, OnlyGetAndHead) {
  Response post, head;
  router_.Handle(Req("POST", "/ui/index.html"), post);
  router_.Handle(Req("HEAD", "/ui/index.html"), head);
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(head.status, 200);
}

TEST_F(StaticFiles, LivesBesideOtherMounts) {
  router_.Add("GET", "/taxii2/", Echo("discovery"));
  router_.Add("GET", "/{root}/collections/", Echo("collections"));
  EXPECT_EQ(Get("/taxii2/").body, "discovery:");
  EXPECT_EQ(Get("/api/collections/").body, "collections:root=api;");
  EXPECT_EQ(Get("/ui/").body, "<h1>home</h1>");
  // /ui/collections/ is a (missing) file, not the TAXII route: the literal prefix wins.
  EXPECT_EQ(Get("/ui/collections/").status, 404);
}

// A single-page app's mount: deep links answer index.html, hashed assets are cached for good,
// and a gzip copy beside a file is sent to clients that accept it.
TEST_F(StaticFiles, SinglePageAppFallbackGzipAndCaching) {
  fs::create_directories(base_ / "app/assets");
  Write(base_ / "app/index.html", "<main>app</main>");
  Write(base_ / "app/assets/app-1.js", "plain js");
  Write(base_ / "app/assets/app-1.js.gz", "gzipped js");
  Router r;
  Router::StaticOptions o;
  o.fallback = "index.html";
  o.immutable_under = "assets/";
  o.headers = {{"Content-Security-Policy", "default-src 'self'"}};
  r.ServeStatic("/app/", (base_ / "app").string(), o);
  auto get = [&r](const std::string& target, const std::string& accept_encoding) {
    Request q = Req("GET", target);
    if (!accept_encoding.empty()) q.headers.push_back({"accept-encoding", accept_encoding});
    Response res;
    r.Handle(q, res);
    return res;
  };
  for (std::string deep : {"/app/objects/indicator--1", "/app/search", "/app/requests/"}) {
    Response res = get(deep, "");
    EXPECT_EQ(res.status, 200) << deep;
    EXPECT_EQ(res.body, "<main>app</main>") << deep;
    EXPECT_EQ(HeaderOf(res, "Cache-Control"), "no-cache") << deep;
    EXPECT_EQ(HeaderOf(res, "Content-Security-Policy"), "default-src 'self'") << deep;
  }
  // A missing file with an extension is a real 404, not the app; escapes stay refused.
  EXPECT_EQ(get("/app/assets/missing.js", "").status, 404);
  EXPECT_EQ(get("/app/../secret", "").status, 404);
  EXPECT_EQ(get("/app/.hidden/x", "").status, 404);
  Response plain = get("/app/assets/app-1.js", "");
  EXPECT_EQ(plain.body, "plain js");
  EXPECT_EQ(HeaderOf(plain, "Content-Encoding"), "");
  EXPECT_EQ(HeaderOf(plain, "Cache-Control"), "public, max-age=31536000, immutable");
  for (std::string accepts : {"gzip", "br, gzip;q=0.8", "GZIP"}) {
    Response gz = get("/app/assets/app-1.js", accepts);
    EXPECT_EQ(gz.body, "gzipped js") << accepts;
    EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip") << accepts;
    EXPECT_EQ(HeaderOf(gz, "Content-Type"), "text/javascript; charset=utf-8") << accepts;
    EXPECT_EQ(HeaderOf(gz, "Vary"), "Accept-Encoding") << accepts;
  }
  for (std::string refuses : {"br", "gzip;q=0", "gzip; q=0.000", "identity"}) {
    EXPECT_EQ(get("/app/assets/app-1.js", refuses).body, "plain js") << refuses;
  }
  // The plain mount (no options) has no fallback.
  EXPECT_EQ(Get("/ui/objects/indicator--1").status, 404);
  // A directory that appears after the mount (the UI built after the server started) is
  // served from then on.
  r.ServeStatic("/late/", (base_ / "late").string(), o);
  EXPECT_EQ(get("/late/", "").status, 404);
  fs::create_directories(base_ / "late");
  Write(base_ / "late/index.html", "late app");
  EXPECT_EQ(get("/late/objects/x", "").body, "late app");
}

TEST(StaticFilesMissingDir, Is404NotACrash) {
  Router r;
  r.ServeStatic("/ui/", "/nonexistent/accord/www");
  Response res;
  r.Handle(Req("GET", "/ui/index.html"), res);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body.find("/nonexistent"), std::string::npos);
}

}  // namespace
}  // namespace accord::http
