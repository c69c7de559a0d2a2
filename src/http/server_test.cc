// http::Server + Router in-process: handlers run on the handler pool, off the I/O threads, so
// a blocked handler does not stall another connection of the same I/O thread; a full pool
// answers 503 with Retry-After; deferred answers still arrive; per-route body limits apply;
// the access log names the principal; a request with a body is decided on its head (refused
// without its body being read, authenticated once); running out of memory in a handler is a
// 503. No timing: every wait is on a promise the other side fulfils.
#include "accord/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "accord/http/router.h"

namespace accord::http {
namespace {

// A blocking HTTP/1.1 client connection to 127.0.0.1:port.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  void Send(const std::string& method, const std::string& path, const std::string& extra = "",
            const std::string& body = "") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                      extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = write(fd_, req.data() + off, req.size() - off);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  // Reads the whole answer (the server closes after it: Connection: close).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    while (true) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int StatusOf(const std::string& response) {
  // "HTTP/1.1 200 OK"
  if (response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

std::string BodyOf(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

// Runs a Server over `router` on a thread; stops it on destruction.
class Running {
 public:
  Running(const Router& router, ServerOptions o) {
    auto s = Server::Create(o, router);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return;
    server_ = std::move(*s);
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  ~Running() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

ServerOptions OneIoThread(int pool) {
  ServerOptions o;
  o.threads = 1;  // every connection shares this one I/O thread
  o.handler_threads = pool;
  o.drain_timeout = std::chrono::milliseconds(60000);
  return o;
}

TEST(ServerPool, SlowHandlerDoesNotStallOtherConnectionsOfItsIoThread) {
  std::promise<void> slow_started, release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.Add("GET", "/slow/", [&](RequestContext&, Response& res) {
    slow_started.set_value();
    released.wait();  // blocks a pool worker until the fast answer has arrived
    res.body = "slow";
  });
  router.Add("GET", "/fast/", [](RequestContext&, Response& res) { res.body = "fast"; });
  Running server(router, OneIoThread(2));

  Client slow(server.port());
  ASSERT_TRUE(slow.connected());
  slow.Send("GET", "/slow/");
  slow_started.get_future().wait();  // the slow handler is now running and blocked

  // A second connection on the same (only) I/O thread is served meanwhile. On a server that
  // runs handlers on its I/O thread this read never returns.
  Client fast(server.port());
  ASSERT_TRUE(fast.connected());
  fast.Send("GET", "/fast/");
  std::string f = fast.ReadAll();
  EXPECT_EQ(StatusOf(f), 200);
  EXPECT_EQ(BodyOf(f), "fast");

  release.set_value();
  std::string s = slow.ReadAll();
  EXPECT_EQ(StatusOf(s), 200);
  EXPECT_EQ(BodyOf(s), "slow");
}

TEST(ServerPool, FullPoolAnswers503WithRetryAfter) {
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.Add("GET", "/block/", [&](RequestContext&, Response& res) {
    started.set_value();
    released.wait();
    res.body = "done";
  });
  ServerOptions o = OneIoThread(1);
  o.handler_queue = 0;  // no waiting room: one request at a time
  Running server(router, o);

  Client first(server.port());
  first.Send("GET", "/block/");
  started.get_future().wait();  // the only worker is busy

  Client second(server.port());
  second.Send("GET", "/block/");
  std::string busy = second.ReadAll();
  EXPECT_EQ(StatusOf(busy), 503);
  EXPECT_NE(busy.find("Retry-After: 1"), std::string::npos) << busy;

  release.set_value();
  EXPECT_EQ(BodyOf(first.ReadAll()), "done");
}

TEST(ServerPool, DeferredAnswerArrivesFromAnotherThread) {
  std::promise<Response::Send> handed;
  Router router;
  router.Add("POST", "/later/", [&](RequestContext&, Response& res) {
    res.deferred = [&](Response::Send send) { handed.set_value(std::move(send)); };
  });
  Running server(router, OneIoThread(2));
  Client c(server.port());
  c.Send("POST", "/later/", "", "x");
  Response::Send send = handed.get_future().get();
  std::thread other([send] {
    Response r;
    r.status = 202;
    r.body = "committed";
    send(std::move(r));
  });
  std::string got = c.ReadAll();
  other.join();
  EXPECT_EQ(StatusOf(got), 202);
  EXPECT_EQ(BodyOf(got), "committed");
  EXPECT_NE(got.find("X-Request-Id: "), std::string::npos);
}

TEST(ServerPool, RouteBodyLimitRefusesBeforeTheHandler) {
  bool ran = false;
  Router router;
  RouteOptions small;
  small.max_body_bytes = 10;
  router.Add(
      "POST", "/small/", [&](RequestContext&, Response&) { ran = true; }, small);
  Running server(router, OneIoThread(2));
  Client c(server.port());
  c.Send("POST", "/small/", "", std::string(11, 'x'));
  std::string got = c.ReadAll();
  EXPECT_EQ(StatusOf(got), 413);
  EXPECT_FALSE(ran);
}

class NamedAuth final : public Authenticator {
 public:
  absl::StatusOr<Principal> Authenticate(const Request& r) override {
    Principal p;
    if (r.Header("authorization") == "Bearer k") p.user = "carol";
    return p;
  }
};

TEST(ServerPool, AccessLogNamesThePrincipalAndRequestId) {
  NamedAuth auth;
  Router router;
  router.Use(AuthenticationMiddleware(&auth));
  router.Add("GET", "/x/", [](RequestContext&, Response& res) { res.body = "x"; });
  std::mutex mu;
  std::vector<AccessLogEntry> log;
  std::promise<void> logged;
  ServerOptions o = OneIoThread(2);
  o.access_log = [&](const AccessLogEntry& e) {
    std::lock_guard<std::mutex> l(mu);
    log.push_back(e);
    logged.set_value();
  };
  Running server(router, o);
  Client c(server.port());
  c.Send("GET", "/x/", "Authorization: Bearer k\r\n");
  std::string got = c.ReadAll();
  logged.get_future().wait();
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].user, "carol");
  EXPECT_EQ(log[0].status, 200);
  EXPECT_FALSE(log[0].request_id.empty());
  EXPECT_NE(got.find("X-Request-Id: " + log[0].request_id), std::string::npos) << got;
}

TEST(ServerPool, HandlerExceptionIsGeneric500) {
  Router router;
  router.Add("GET", "/boom/", [](RequestContext&, Response&) {
    throw std::runtime_error("/etc/accord/secret.key unreadable");
  });
  Running server(router, OneIoThread(2));
  Client c(server.port());
  c.Send("GET", "/boom/");
  std::string got = c.ReadAll();
  EXPECT_EQ(StatusOf(got), 500);
  EXPECT_EQ(got.find("secret.key"), std::string::npos) << got;
}

TEST(ServerHead, RouteRefusalOnTheHeadAnswersWithoutReadingTheBody) {
  std::atomic<bool> ran{false};
  Router router;
  RouteOptions guarded;
  guarded.check_head = [](RequestContext& ctx, Response& res) {
    res = ctx.Error(403, "Forbidden", "no writing here");
    return Next::kAnswered;
  };
  router.Add(
      "POST", "/guarded/", [&](RequestContext&, Response&) { ran = true; }, guarded);
  ServerOptions o = OneIoThread(2);
  // A server that waited for the body would answer 408 after this, not 403.
  o.body_timeout = std::chrono::milliseconds(3000);
  Running server(router, o);
  Client c(server.port());
  // Ten megabytes announced, none sent: the answer comes from the head alone, and the server
  // then closes (ReadAll returns).
  std::string head = "POST /guarded/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";
  ASSERT_EQ(write(c.fd(), head.data(), head.size()), static_cast<ssize_t>(head.size()));
  std::string got = c.ReadAll();
  EXPECT_EQ(StatusOf(got), 403) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_FALSE(ran);
}

class CountingAuth final : public Authenticator {
 public:
  absl::StatusOr<Principal> Authenticate(const Request& r) override {
    ++calls;
    if (r.Header("authorization") != "Bearer k") return absl::UnauthenticatedError("bad key");
    Principal p;
    p.user = "dave";
    return p;
  }
  std::atomic<int> calls{0};
};

TEST(ServerHead, BodyRequestsAreAuthenticatedOnceOnTheHead) {
  CountingAuth auth;
  Router router;
  router.Use(AuthenticationMiddleware(&auth));
  router.Add("POST", "/echo/", [](RequestContext& ctx, Response& res) {
    res.body = ctx.principal.user + ":" + ctx.request.body;
  });
  Running server(router, OneIoThread(2));
  {
    Client c(server.port());
    c.Send("POST", "/echo/", "Authorization: Bearer k\r\n", "hello");
    std::string got = c.ReadAll();
    EXPECT_EQ(StatusOf(got), 200) << got;
    EXPECT_EQ(BodyOf(got), "dave:hello");
  }
  EXPECT_EQ(auth.calls.load(), 1);
  {
    Client c(server.port());
    c.Send("POST", "/echo/", "Authorization: Bearer wrong\r\n", "hello");
    EXPECT_EQ(StatusOf(c.ReadAll()), 401);
  }
  EXPECT_EQ(auth.calls.load(), 2);
}

TEST(ServerHead, BodyArrivingInPiecesIsReadWhole) {
  Router router;
  router.Add("POST", "/size/", [](RequestContext& ctx, Response& res) {
    res.body = std::to_string(ctx.request.body.size()) + ":" + ctx.request.body.substr(0, 3) +
               ctx.request.body.substr(ctx.request.body.size() - 3);
  });
  Running server(router, OneIoThread(2));
  Client c(server.port());
  // 300 KiB: several of the server's 64 KiB read pieces.
  std::string body(300 << 10, 'x');
  body.replace(0, 3, "abc");
  body.replace(body.size() - 3, 3, "xyz");
  c.Send("POST", "/size/", "", body);
  std::string got = c.ReadAll();
  EXPECT_EQ(BodyOf(got), std::to_string(300 << 10) + ":abcxyz") << got.substr(0, 200);
}

TEST(ServerPool, OutOfMemoryInAHandlerIs503AndTheServerGoesOn) {
  Router router;
  router.Add("GET", "/hungry/", [](RequestContext&, Response&) { throw std::bad_alloc(); });
  router.Add("GET", "/fine/", [](RequestContext&, Response& res) { res.body = "fine"; });
  Running server(router, OneIoThread(2));
  {
    Client c(server.port());
    c.Send("GET", "/hungry/");
    std::string got = c.ReadAll();
    EXPECT_EQ(StatusOf(got), 503) << got;
    EXPECT_NE(got.find("Retry-After: 1"), std::string::npos) << got;
  }
  // A Server with a bare Handler (no Router) answers the same.
  ServerOptions o = OneIoThread(2);
  auto bare = Server::Create(o, [](const Request&, Response&) { throw std::bad_alloc(); });
  ASSERT_TRUE(bare.ok());
  std::thread t([s = bare->get()] { (void)s->Run(); });
  {
    Client c((*bare)->port());
    c.Send("GET", "/");
    std::string got = c.ReadAll();
    EXPECT_EQ(StatusOf(got), 503) << got;
    EXPECT_NE(got.find("Retry-After: 1"), std::string::npos) << got;
  }
  (*bare)->Stop();
  t.join();
  Client c(server.port());
  c.Send("GET", "/fine/");
  EXPECT_EQ(BodyOf(c.ReadAll()), "fine");
}

}  // namespace
}  // namespace accord::http
