// Beast/Asio implementation of accord::http::Server. `threads` I/O threads, each running its
// own single-threaded io_context; connections are dealt out to them in turn. Every read and
// write has a deadline (tcp_stream's expires_after), so a slow client costs a socket and a
// little memory, never a thread. A complete request is handed to the handler pool
// (handler_pool.h); the handler's response is posted back to the connection's io_context,
// which writes it. A deferred response (Response::deferred) holds no thread while it waits.
// The connection holds a work guard on its io_context from hand-over to answer, so the I/O
// thread does not run out of work (and return) while a handler is still busy.
#include "accord/http/server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <sodium.h>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/http/message.h"
#include "accord/http/router.h"
#include "http/handler_pool.h"
#include "http/text.h"

namespace accord::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

std::string_view Request::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

bool Request::HasHeader(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return true;
  }
  return false;
}

bool IsLoopback(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto addr = net::ip::make_address(std::string(host), ec);
  return !ec && addr.is_loopback();
}

namespace {

std::string_view SV(boost::beast::string_view s) { return std::string_view(s.data(), s.size()); }

class ServerImpl;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Called (from any thread) when the server stops: close if idle.
  virtual void OnStop() = 0;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& o, Handler h)
      : opts_(o),
        handler_(std::move(h)),
        pool_(o.handler_threads > 0
                  ? o.handler_threads
                  : std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency())),
              o.handler_queue),
        id_prefix_(randombytes_random()),
        iocs_(MakeContexts(
            o.threads > 0 ? o.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency())))),
        ioc_(*iocs_[0]),
        acceptor_(ioc_),
        signals_(ioc_),
        drain_timer_(ioc_) {
    for (size_t i = 1; i < iocs_.size(); ++i) idle_guards_.emplace_back(iocs_[i]->get_executor());
  }

  absl::Status Init() {
    boost::system::error_code ec;
    auto addr = net::ip::make_address(opts_.host == "localhost" ? "127.0.0.1" : opts_.host, ec);
    if (ec) return absl::InvalidArgumentError(common::Cat("bad listen address '", opts_.host, "'"));
    bool want_tls = !opts_.tls_cert_file.empty() || !opts_.tls_key_file.empty();
    if (want_tls) {
      if (opts_.tls_cert_file.empty() || opts_.tls_key_file.empty()) {
        return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
      }
      ssl_ctx_.emplace(ssl::context::tls_server);
      ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      // TAXII 2.1 §8.5: TLS 1.2+, no RFC 7540 blacklisted suites (only AEAD with ECDHE here).
      SSL_CTX_set_cipher_list(ssl_ctx_->native_handle(),
                              "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL");
      SSL_CTX_set_max_early_data(ssl_ctx_->native_handle(), 0);  // no 0-RTT
      ssl_ctx_->use_certificate_chain_file(opts_.tls_cert_file, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            common::Cat(opts_.tls_cert_file, ": cannot load certificate: ", ec.message()));
      }
      ssl_ctx_->use_private_key_file(opts_.tls_key_file, ssl::context::pem, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            common::Cat(opts_.tls_key_file, ": cannot load private key: ", ec.message()));
      }
    } else if (!addr.is_loopback() && !opts_.allow_plain_http) {
      return absl::FailedPreconditionError(common::Cat(
          "refusing plain HTTP on non-loopback address ", opts_.host,
          ": configure tls.cert and tls.key, or set allow_plain_http (--insecure-plain-http)"));
    }
    tcp::endpoint ep(addr, opts_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          common::Cat("cannot listen on ", opts_.host, ":", opts_.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    if (opts_.stop_on_signals) {
      // Installed here, before the caller announces the port, so that a SIGTERM sent right
      // after start-up is queued rather than fatal.
      signals_.add(SIGTERM, ec);
      signals_.add(SIGINT, ec);
    }
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }
  bool tls() const override { return ssl_ctx_.has_value(); }

  absl::Status Run() override {
    if (opts_.stop_on_signals) {
      signals_.async_wait([this](const boost::system::error_code& ec, int) {
        if (!ec) Stop();
      });
    }
    DoAccept();
    std::vector<std::thread> pool;
    for (size_t i = 1; i < iocs_.size(); ++i) {
      pool.emplace_back([this, i] { RunContext(*iocs_[i]); });
    }
    RunContext(ioc_);
    for (auto& t : pool) t.join();
    // Every connection is done (or the drain timeout stopped the contexts): no task is left
    // that could answer. Queued ones are dropped; running ones are waited for.
    pool_.Shutdown();
    return absl::OkStatus();
  }

  // Runs `ioc` until it is out of work. The thread's top: an exception thrown by a completion
  // handler is logged and the context resumed (Asio allows run() again after one), so one bad
  // connection does not silence every other connection of its thread.
  static void RunContext(net::io_context& ioc) {
    while (true) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "accord: I/O thread: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "accord: I/O thread: unknown exception\n");
      }
    }
  }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
    });
    net::post(ioc_, [this] {
      boost::system::error_code ec;
      signals_.cancel(ec);
      drain_timer_.expires_after(opts_.drain_timeout);
      drain_timer_.async_wait([this](const boost::system::error_code& e) {
        if (e) return;
        for (auto& c : iocs_) c->stop();  // in-flight requests did not finish in time
      });
      idle_guards_.clear();  // the other contexts end when their connections have
      std::vector<std::shared_ptr<SessionBase>> live;
      {
        std::lock_guard<std::mutex> l(mu_);
        for (auto& [p, w] : sessions_) {
          if (auto s = w.lock()) live.push_back(std::move(s));
        }
        if (sessions_.empty()) drain_timer_.cancel();
      }
      for (auto& s : live) s->OnStop();
    });
  }

  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  const ServerOptions& opts() const { return opts_; }
  const Handler& handler() const { return handler_; }
  detail::HandlerPool& pool() { return pool_; }

  // Unique per request: a random per-server prefix and a counter.
  std::string NextRequestId() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%08x%08llx", id_prefix_,
                  static_cast<unsigned long long>(next_id_.fetch_add(1) & 0xffffffffull));
    return buf;
  }

  // The body limit for `method` `path`: the route's (when the application sets one), capped
  // by max_body_bytes.
  uint64_t BodyLimit(std::string_view method, std::string_view path) const {
    uint64_t limit = opts_.body_limit ? opts_.body_limit(method, path) : 0;
    return limit == 0 ? opts_.max_body_bytes : std::min(limit, opts_.max_body_bytes);
  }

  void Register(SessionBase* p, std::weak_ptr<SessionBase> w) {
    std::lock_guard<std::mutex> l(mu_);
    sessions_.emplace(p, std::move(w));
  }
  void Unregister(SessionBase* p) {
    std::lock_guard<std::mutex> l(mu_);
    sessions_.erase(p);
    if (sessions_.empty() && stopping()) {
      net::post(ioc_, [this] { drain_timer_.cancel(); });
    }
  }

  Response MakeError(int status, std::string_view title, std::string_view description) const {
    if (opts_.error_factory) return opts_.error_factory(status, title, description);
    Response r;
    r.status = status;
    r.SetHeader("Content-Type", "text/plain");
    r.body = common::Cat(title, ": ", description, "\n");
    return r;
  }

 private:
  void DoAccept();

  // PERF: one single-threaded io_context per worker thread, connections dealt out in turn:
  // a connection's handlers always run on one thread, with no strand and no hand-over
  // between threads. Cached TAXII pages, 100k-object store, 7 alternating 5 s wrk rounds
  // against one shared context with a strand per connection: median 34.7k -> 46.9k req/s.
  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<net::io_context>> v;
    v.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<net::io_context>(1));
    return v;
  }
  net::any_io_executor NextContext() {
    return iocs_[next_ioc_.fetch_add(1, std::memory_order_relaxed) % iocs_.size()]->get_executor();
  }

  ServerOptions opts_;
  Handler handler_;
  // Declared before the io_contexts so that sessions destroyed with a context (answers still
  // queued when the drain timeout stopped it) can unregister.
  std::mutex mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  detail::HandlerPool pool_;
  const uint32_t id_prefix_;
  std::atomic<uint64_t> next_id_{0};
  std::vector<std::unique_ptr<net::io_context>> iocs_;  // one per I/O thread
  net::io_context& ioc_;  // iocs_[0]: also runs the acceptor, signals and the drain timer
  std::vector<net::executor_work_guard<net::io_context::executor_type>> idle_guards_;
  std::atomic<size_t> next_ioc_{0};
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
  std::optional<ssl::context> ssl_ctx_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
};

// The HTTP exchange loop shared by plain and TLS connections (CRTP: Derived supplies
// stream(), lowest() and DoClose()).
template <class Derived>
class Session : public SessionBase {
 public:
  Session(ServerImpl* srv, std::string remote) : srv_(srv), remote_(std::move(remote)) {}
  ~Session() override { srv_->Unregister(this); }

  void OnStop() override {
    net::post(derived().lowest().get_executor(), [self = derived().shared_from_this()] {
      if (self->reading_header_ && self->buffer_.size() == 0) {
        self->lowest().cancel();
        boost::system::error_code ec;
        self->lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
      }
    });
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void DoRead() {
    if (srv_->stopping() && buffer_.size() == 0) {
      derived().DoClose();
      return;
    }
    parser_.emplace();
    parser_->header_limit(srv_->opts().max_header_bytes);
    parser_->body_limit(srv_->opts().max_body_bytes);
    derived().lowest().expires_after(requests_ == 0 ? srv_->opts().header_timeout
                                                    : srv_->opts().idle_timeout);
    reading_header_ = true;
    bhttp::async_read_header(derived().stream(), buffer_, *parser_,
                             [self = derived().shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    reading_header_ = false;
    start_ = common::NowMicros();
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == beast::error::timeout ||
        ec == net::error::connection_reset) {
      derived().DoClose();
      return;
    }
    if (ec == bhttp::error::header_limit) {
      SendError(431, "Request header fields too large",
                common::Cat("request head exceeds ", srv_->opts().max_header_bytes, " bytes"));
      return;
    }
    if (ec == bhttp::error::body_limit) {
      SendError(413, "Request too large",
                common::Cat("body exceeds max_content_length ", srv_->opts().max_body_bytes));
      return;
    }
    if (ec) {
      SendError(400, "Bad request", common::Cat("malformed HTTP request: ", ec.message()));
      return;
    }
    ++requests_;
    auto& req = parser_->get();
    // The route's own limit, known now that the head is in (Router::BodyLimit).
    std::string_view target = SV(req.target());
    uint64_t limit = srv_->BodyLimit(SV(req.method_string()), target.substr(0, target.find('?')));
    body_limit_ = limit;
    if (auto len = parser_->content_length(); len && *len > limit) {
      SendError(413, "Request too large",
                common::Cat("body of ", *len, " bytes exceeds max_content_length ", limit));
      return;
    }
    parser_->body_limit(limit);
    derived().lowest().expires_after(srv_->opts().body_timeout);
    if (text::IEquals(SV(req[bhttp::field::expect]), "100-continue")) {
      auto cont =
          std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(derived().stream(), *cont,
                         [self = derived().shared_from_this(), cont](beast::error_code e, size_t) {
                           if (e) {
                             self->derived().DoClose();
                             return;
                           }
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) {
      OnBody({});
      return;
    }
    bhttp::async_read(
        derived().stream(), buffer_, *parser_,
        [self = derived().shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      SendError(413, "Request too large",
                common::Cat("body exceeds max_content_length ", body_limit_));
      return;
    }
    if (ec == beast::error::timeout) {
      SendError(408, "Request timeout", "the request body did not arrive in time");
      return;
    }
    if (ec) {
      derived().DoClose();
      return;
    }
    bhttp::request<bhttp::string_body> req = parser_->release();
    Request r;
    r.method = std::string(SV(req.method_string()));
    r.target = std::string(SV(req.target()));
    size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    r.headers.reserve(8);
    for (const auto& f : req) {
      r.headers.emplace_back(text::Lower(SV(f.name_string())), std::string(SV(f.value())));
    }
    r.body = std::move(req.body());
    r.remote = remote_;
    r.tls = Derived::kTls;
    r.id = srv_->NextRequestId();
    user_agent_ = std::string(r.Header("user-agent"));
    request_id_ = r.id;
    request_bytes_ = r.body.size();
    method_ = r.method;
    target_ = r.target;
    bool keep_alive = req.keep_alive(), head = req.method() == bhttp::verb::head;
    unsigned version = req.version();
    // From here until the answer is posted back, the connection has no read or write
    // outstanding; the work guard keeps its io_context running meanwhile, also while stopping.
    auto guard = std::make_shared<net::executor_work_guard<net::any_io_executor>>(
        derived().lowest().get_executor());
    detail::HandlerPool::Task task = [self = derived().shared_from_this(), guard, r = std::move(r),
                                      keep_alive, head, version]() mutable {
      self->RunHandler(std::move(r), std::move(guard), keep_alive, head, version);
    };
    if (!srv_->pool().TrySubmit(task)) {
      Response busy =
          srv_->MakeError(503, "Service unavailable", "the server is busy; retry later");
      busy.SetHeader("Retry-After", "1");
      busy.SetHeader("X-Request-Id", request_id_);
      Send(std::move(busy), keep_alive && !srv_->stopping(), version, head);
    }
  }

  using Guard = std::shared_ptr<net::executor_work_guard<net::any_io_executor>>;

  // On a pool thread: runs the handler and posts its answer (now, or when a deferred answer
  // comes) to the connection's io_context. Touches no Session member but `srv_`.
  void RunHandler(Request r, const Guard& guard, bool keep_alive, bool head, unsigned version) {
    auto self = derived().shared_from_this();
    auto post = [self, guard, keep_alive, head, version](Response resp) {
      auto ex = self->derived().lowest().get_executor();
      net::post(ex, [self, guard, keep_alive, head, version, resp = std::move(resp)]() mutable {
        self->Send(std::move(resp), keep_alive && !self->srv_->stopping(), version, head);
      });
    };
    auto internal_error = [this, &r](std::string_view what) {
      // The detail stays in the server's log: exception text may name files or SQL.
      LogRequestError(r.id, common::Cat(r.method, " ", r.path, ": ", what));
      Response e = srv_->MakeError(500, "Internal error",
                                   common::Cat("the server failed to answer; request id ", r.id));
      e.SetHeader("X-Request-Id", r.id);
      return e;
    };
    Response resp;
    try {
      srv_->handler()(r, resp);
    } catch (const std::exception& e) {
      resp = internal_error(common::Cat("exception: ", e.what()));
    } catch (...) {
      resp = internal_error("unknown exception");
    }
    if (!resp.deferred) {
      post(std::move(resp));
      return;
    }
    // The application answers later, from any thread, by calling `send` once.
    auto deferred = std::move(resp.deferred);
    auto answered = std::make_shared<std::atomic<bool>>(false);
    try {
      deferred([post, answered](Response later) {
        if (!answered->exchange(true)) post(std::move(later));
      });
    } catch (const std::exception& e) {
      if (!answered->exchange(true)) post(internal_error(common::Cat("deferred: ", e.what())));
    } catch (...) {
      if (!answered->exchange(true)) post(internal_error("deferred: unknown exception"));
    }
  }

  void SendError(int status, std::string_view title, std::string_view description) {
    if (parser_ && parser_->is_header_done()) {
      method_ = std::string(SV(parser_->get().method_string()));
      target_ = std::string(SV(parser_->get().target()));
    }
    Send(srv_->MakeError(status, title, description), false, 11);
  }

  // One response: the head and the body (owned, or a shared cached page) go out in one
  // gathered write. HEAD answers carry the Content-Length of the GET body and no body.
  void Send(Response resp, bool keep_alive, unsigned version, bool head = false) {
    res_.emplace(static_cast<bhttp::status>(resp.status), version);
    res_->set(bhttp::field::server, "accord");
    for (auto& [k, v] : resp.headers) res_->set(k, v);
    shared_body_ = std::move(resp.shared_body);
    owned_body_ = std::move(resp.body);
    std::string_view body = shared_body_ ? std::string_view(*shared_body_) : owned_body_;
    res_->keep_alive(keep_alive);
    res_->content_length(body.size());
    if (!head) res_->body() = bhttp::span_body<const char>::value_type(body.data(), body.size());
    status_ = resp.status;
    user_ = std::move(resp.user);
    derived().lowest().expires_after(srv_->opts().body_timeout);
    bhttp::async_write(derived().stream(), *res_,
                       [self = derived().shared_from_this(), keep_alive](
                           beast::error_code ec, size_t n) { self->OnWrite(ec, n, keep_alive); });
  }

  void OnWrite(beast::error_code ec, size_t n, bool keep_alive) {
    if (srv_->opts().access_log) {
      AccessLogEntry e;
      e.remote = remote_;
      e.method = std::move(method_);
      e.target = std::move(target_);
      e.status = status_;
      e.request_bytes = request_bytes_;
      e.response_bytes = n;
      e.duration_us = common::NowMicros() - start_;
      e.user = std::move(user_);
      e.user_agent = std::move(user_agent_);
      e.request_id = std::move(request_id_);
      srv_->opts().access_log(e);
    }
    method_.clear();
    target_.clear();
    user_agent_.clear();
    request_id_.clear();
    request_bytes_ = 0;
    res_.reset();
    shared_body_.reset();
    owned_body_.clear();
    if (ec || !keep_alive) {
      derived().DoClose();
      return;
    }
    DoRead();
  }

  ServerImpl* srv_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::span_body<const char>>> res_;
  std::string owned_body_;
  std::shared_ptr<const std::string> shared_body_;
  bool reading_header_ = false;
  uint64_t requests_ = 0;
  // For the access log.
  int64_t start_ = 0;
  int status_ = 0;
  uint64_t request_bytes_ = 0;
  std::string method_, target_, user_, user_agent_, request_id_;
  uint64_t body_limit_ = 0;  // of the request being read, for the 413 message
};

class PlainSession final : public Session<PlainSession>,
                           public std::enable_shared_from_this<PlainSession> {
 public:
  static constexpr bool kTls = false;
  PlainSession(ServerImpl* srv, tcp::socket&& s, std::string remote)
      : Session(srv, std::move(remote)), stream_(std::move(s)) {}
  void Start() { DoRead(); }
  beast::tcp_stream& stream() { return stream_; }
  beast::tcp_stream& lowest() { return stream_; }
  void DoClose() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

 private:
  beast::tcp_stream stream_;
};

class TlsSession final : public Session<TlsSession>,
                         public std::enable_shared_from_this<TlsSession> {
 public:
  static constexpr bool kTls = true;
  TlsSession(ServerImpl* srv, tcp::socket&& s, ssl::context& ctx, std::string remote)
      : Session(srv, std::move(remote)), stream_(std::move(s), ctx) {}
  void Start() {
    beast::get_lowest_layer(stream_).expires_after(srv_->opts().header_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                boost::system::error_code e2;
                                self->lowest().socket().close(e2);
                                return;
                              }
                              self->DoRead();
                            });
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  void DoClose() {
    lowest().expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      boost::system::error_code ec;
      self->lowest().socket().close(ec);
    });
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

void ServerImpl::DoAccept() {
  acceptor_.async_accept(NextContext(), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      boost::system::error_code e2;
      auto ep = socket.remote_endpoint(e2);
      std::string remote = e2 ? "?" : common::Cat(ep.address().to_string(), ":", ep.port());
      socket.set_option(tcp::no_delay(true), e2);
      if (ssl_ctx_) {
        auto s =
            std::make_shared<TlsSession>(this, std::move(socket), *ssl_ctx_, std::move(remote));
        Register(s.get(), s);
        s->Start();
      } else {
        auto s = std::make_shared<PlainSession>(this, std::move(socket), std::move(remote));
        Register(s.get(), s);
        s->Start();
      }
    }
    if (!stopping()) DoAccept();
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                                       Handler handler) {
  auto s = std::make_unique<ServerImpl>(options, std::move(handler));
  ACCORD_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<Server>(std::move(s));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                                       const Router& router) {
  ServerOptions o = options;
  o.body_limit = [&router](std::string_view method, std::string_view path) {
    return router.BodyLimit(method, path);
  };
  return Create(o, router.AsHandler());
}

struct AccessLog::Impl {
  std::mutex mu;
  FILE* f = nullptr;
  bool owned = false;
  ~Impl() {
    if (owned && f) std::fclose(f);
  }
};

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  log->impl_ = std::make_unique<Impl>();
  if (path == "-" || path.empty()) {
    log->impl_->f = stderr;
  } else {
    log->impl_->f = std::fopen(path.c_str(), "a");
    if (!log->impl_->f) {
      return absl::UnavailableError(common::Cat(path, ": cannot open access log"));
    }
    log->impl_->owned = true;
  }
  return log;
}

AccessLog::~AccessLog() = default;

void AwaitDeferred(Response& res) {
  if (!res.deferred) return;
  std::promise<Response> answer;
  std::future<Response> got = answer.get_future();
  auto deferred = std::move(res.deferred);
  deferred([&answer](Response r) { answer.set_value(std::move(r)); });
  res = got.get();
}

void AccessLog::Write(const AccessLogEntry& e) {
  std::string line = "{\"ts\":\"";
  line += common::FormatTimestamp(common::NowMicros());
  line += "\",\"id\":\"";
  AppendJsonEscaped(&line, e.request_id);
  line += "\",\"remote\":\"";
  AppendJsonEscaped(&line, e.remote);
  line += "\",\"user\":\"";
  AppendJsonEscaped(&line, e.user);
  line += "\",\"method\":\"";
  AppendJsonEscaped(&line, e.method);
  line += "\",\"target\":\"";
  AppendJsonEscaped(&line, e.target);
  common::Append(&line, "\",\"status\":", e.status, ",\"in\":", e.request_bytes,
                 ",\"out\":", e.response_bytes, ",\"us\":", e.duration_us, ",\"ua\":\"");
  AppendJsonEscaped(&line, e.user_agent);
  line += "\"}\n";
  std::lock_guard<std::mutex> l(impl_->mu);
  std::fwrite(line.data(), 1, line.size(), impl_->f);
  std::fflush(impl_->f);
}

}  // namespace accord::http
