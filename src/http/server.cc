// Beast/Asio implementation of accord::http::Server. `threads` I/O threads, each running its
// own single-threaded io_context; connections are dealt out to them in turn. Every read and
// write has a deadline (tcp_stream's expires_after), so a slow client costs a socket and a
// little memory, never a thread. A complete request is handed to the handler pool
// (handler_pool.h); the handler's response is posted back to the connection's io_context,
// which writes it. A deferred response (Response::deferred) holds no thread while it waits.
// The connection holds a work guard on its io_context from hand-over to answer, so the I/O
// thread does not run out of work (and return) while a handler is still busy.
#include "accord/http/server.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstdio>
#include <future>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <unordered_map>

#include <sodium.h>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/http/auth.h"
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
        drain_timer_(ioc_),
        accept_timer_(ioc_) {
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
    // Non-blocking at the descriptor level too, so that ShedPending's direct accept4() returns
    // at once on an empty backlog (Asio's own operations are unaffected).
    acceptor_.native_non_blocking(true, ec);
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    shed_response_ = RenderShedResponse();
    if (opts_.max_connections > 0) {
      rlimit nofile{};
      if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
          opts_.max_connections + 64 > nofile.rlim_cur) {
        std::fprintf(stderr,
                     "accord: warning: max_connections %zu is near the open-file limit %llu "
                     "(ulimit -n): clients beyond it are turned away with 503\n",
                     opts_.max_connections, static_cast<unsigned long long>(nofile.rlim_cur));
      }
    }
    if (opts_.stop_on_signals) {
      // Installed here, before the caller announces the port, so that a SIGTERM sent right
      // after start-up is queued rather than fatal.
      signals_.add(SIGTERM, ec);
      signals_.add(SIGINT, ec);
    }
    return absl::OkStatus();
  }

  ~ServerImpl() override {
    if (spare_fd_ >= 0) ::close(spare_fd_);
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
      accept_timer_.cancel();
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

  // A limit's answer: `status` (503 or 429) with Retry-After, so that clients back off.
  Response RetryLater(int status, std::string_view description) const {
    Response r =
        MakeError(status, status == 429 ? "Too many requests" : "Service unavailable", description);
    r.SetHeader("Retry-After", "1");
    return r;
  }

  // --- connection admission -------------------------------------------------------------

  enum class Admission { kAdmitted, kTooManyFromAddress, kTooMany };

  // Counts a new connection from `address` against the limits (0: unbounded). The per-address
  // limit is checked first: a client at its own limit is told so (429) even when the server
  // is full too.
  Admission Admit(const std::string& address) {
    std::lock_guard<std::mutex> l(admit_mu_);
    size_t& mine = per_address_[address];
    if (opts_.max_connections_per_address > 0 && mine >= opts_.max_connections_per_address) {
      return Admission::kTooManyFromAddress;
    }
    if (opts_.max_connections > 0 && open_ >= opts_.max_connections) {
      if (mine == 0) per_address_.erase(address);
      return Admission::kTooMany;
    }
    ++mine;
    ++open_;
    return Admission::kAdmitted;
  }
  void Leave(const std::string& address) {
    std::lock_guard<std::mutex> l(admit_mu_);
    --open_;
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  }
  // Connections being turned away (answer, then a short lingering close) are bounded too:
  // beyond kMaxRefusing the socket is closed without an answer.
  static constexpr int kMaxRefusing = 256;
  std::atomic<int>& refusing() { return refusing_; }

  // --- request bytes in flight ------------------------------------------------------------

  uint64_t InFlightLimit() const {
    if (opts_.max_bytes_in_flight == 0) return 0;
    return std::max(opts_.max_bytes_in_flight, opts_.max_body_bytes);
  }
  // Whether `n` more bytes would fit now (a hint on the head; Charge decides).
  bool BodyFits(uint64_t n) const {
    uint64_t limit = InFlightLimit();
    return limit == 0 || in_flight_.load(std::memory_order_relaxed) + n <= limit;
  }
  bool Charge(uint64_t n) {
    uint64_t limit = InFlightLimit();
    uint64_t now = in_flight_.fetch_add(n) + n;
    if (limit != 0 && now > limit) {
      in_flight_.fetch_sub(n);
      return false;
    }
    return true;
  }
  void Uncharge(uint64_t n) { in_flight_.fetch_sub(n); }

 private:
  void DoAccept();
  void OnAcceptError(const boost::system::error_code& ec);
  void ShedPending();
  std::string RenderShedResponse() const {
    Response r = RetryLater(503, "the server is out of connections; retry later");
    std::string out = "HTTP/1.1 503 Service Unavailable\r\nServer: accord\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) common::Append(&out, k, ": ", v, "\r\n");
    common::Append(&out, "Content-Length: ", r.body.size(), "\r\n\r\n", r.body);
    return out;
  }

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
  // Accept's back-off while the process is out of file descriptors (on ioc_).
  net::steady_timer accept_timer_;
  std::chrono::milliseconds accept_backoff_{0};
  // A descriptor kept open to be given up when accept fails with EMFILE, so that a waiting
  // client can be accepted and told 503 instead of hanging (libev's and nginx's trick).
  int spare_fd_ = -1;
  std::string shed_response_;  // that 503, rendered once
  std::mutex admit_mu_;
  size_t open_ = 0;
  std::unordered_map<std::string, size_t> per_address_;
  std::atomic<int> refusing_{0};
  std::atomic<uint64_t> in_flight_{0};
  std::optional<ssl::context> ssl_ctx_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
};

// A request body's share of ServerOptions::max_bytes_in_flight, given back when the body is
// dropped (its handler has finished, or the connection failed while reading it).
class BodyCharge {
 public:
  explicit BodyCharge(ServerImpl* srv) : srv_(srv) {}
  ~BodyCharge() {
    if (n_ > 0) srv_->Uncharge(n_);
  }
  BodyCharge(const BodyCharge&) = delete;
  BodyCharge& operator=(const BodyCharge&) = delete;
  bool Add(uint64_t n) {
    if (!srv_->Charge(n)) return false;
    n_ += n;
    return true;
  }

 private:
  ServerImpl* srv_;
  uint64_t n_ = 0;
};

// The HTTP exchange loop shared by plain and TLS connections (CRTP: Derived supplies
// stream(), lowest() and DoClose()).
//
// One request: the head is read (DoRead, OnHeader) and checked on the I/O thread (header
// counts, Transfer-Encoding, body limit, bytes in flight). A request with a body is then
// decided on its head on the pool (CheckHead: route, authentication, grant); only if it passes
// is the body read, in kBodyPiece pieces appended to a string that grows as data arrives
// (ReadBodyPart), each piece charged to the bytes in flight. The complete request goes to the
// pool (Dispatch, RunHandler) and the answer is written back (Send, OnWrite).
template <class Derived>
class Session : public SessionBase {
 public:
  // `refuse` is 0 for an admitted connection, else the status (429, 503) it is answered with
  // at once.
  Session(ServerImpl* srv, std::string remote, std::string address, int refuse)
      : srv_(srv), remote_(std::move(remote)), address_(std::move(address)), refuse_(refuse) {}
  ~Session() override {
    if (refuse_ == 0) {
      srv_->Leave(address_);
    } else {
      srv_->refusing().fetch_sub(1);
    }
    srv_->Unregister(this);
  }

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
  // Read is 64 KiB at a time: large enough for throughput, small enough that a body costs
  // what has arrived, not what Content-Length announced.
  static constexpr size_t kBodyPiece = 64u << 10;

  Derived& derived() { return static_cast<Derived&>(*this); }

  // The first thing a connection does (after a TLS handshake).
  void Begin() {
    if (refuse_ == 0) {
      DoRead();
      return;
    }
    // Over a connection limit: answered without reading the request, then closed.
    method_ = "-";
    target_ = "-";
    start_ = common::NowMicros();
    Send(srv_->RetryLater(refuse_, refuse_ == 429
                                       ? "too many connections from your address; retry later"
                                       : "the server has too many connections; retry later"),
         false, 11);
  }

  void DoRead() {
    if (srv_->stopping() && buffer_.size() == 0) {
      derived().DoClose();
      return;
    }
    parser_.emplace();
    parser_->header_limit(srv_->opts().max_header_bytes);
    parser_->body_limit(srv_->opts().max_body_bytes);
    // A caller that did not authenticate gets a short keep-alive: idle sockets cost the
    // server a descriptor, and anonymous ones are the cheapest to open.
    auto idle = srv_->opts().idle_timeout;
    if (!authenticated_) idle = std::min(idle, srv_->opts().idle_timeout_unauthenticated);
    derived().lowest().expires_after(requests_ == 0 ? srv_->opts().header_timeout : idle);
    reading_header_ = true;
    bhttp::async_read_header(derived().stream(), buffer_, *parser_,
                             [self = derived().shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  // Empty, or why the request's Transfer-Encoding is refused (501): anything but exactly one
  // "chunked" coding (gzip, "gzip, chunked", identity...), which the server does not decode.
  static std::string UnsupportedTransferEncoding(const bhttp::fields& h) {
    auto [begin, end] = h.equal_range(bhttp::field::transfer_encoding);
    std::string all;
    int codings = 0;
    bool only_chunked = true;
    for (auto it = begin; it != end; ++it) {
      std::string_view v = SV(it->value());
      if (!all.empty()) all += ", ";
      all += v;
      for (std::string_view c : text::Split(v, ',')) {
        c = text::Trim(c);
        if (c.empty()) continue;
        ++codings;
        only_chunked &= text::IEquals(c, "chunked");
      }
    }
    if (begin == end || (codings == 1 && only_chunked)) return {};
    return common::Cat("Transfer-Encoding '", all, "' is not supported (only chunked)");
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
    // Two credentials are ambiguous (which one would an intermediary have checked?).
    if (req.count(bhttp::field::authorization) > 1) {
      SendError(400, "Bad request", "more than one Authorization header");
      return;
    }
    if (std::string why = UnsupportedTransferEncoding(req); !why.empty()) {
      SendError(501, "Not implemented", why);
      return;
    }
    // The route's own limit, known now that the head is in (Router::BodyLimit).
    std::string_view target = SV(req.target());
    uint64_t limit = srv_->BodyLimit(SV(req.method_string()), target.substr(0, target.find('?')));
    body_limit_ = limit;
    auto len = parser_->content_length();
    if (len && *len > limit) {
      SendError(413, "Request too large",
                common::Cat("body of ", *len, " bytes exceeds max_content_length ", limit));
      return;
    }
    const bool has_body = parser_->chunked() || (len && *len > 0);
    if (len && !srv_->BodyFits(*len)) {
      Send(srv_->RetryLater(503, "too many request bytes in flight; retry later"), false,
           req.version());
      return;
    }
    parser_->body_limit(limit);
    // The request as the handler will see it, without its body yet.
    head_ = Request();
    head_.method = std::string(SV(req.method_string()));
    head_.target = std::string(target);
    size_t q = head_.target.find('?');
    head_.path = head_.target.substr(0, q);
    if (q != std::string::npos) head_.query = head_.target.substr(q + 1);
    head_.headers.reserve(8);
    for (const auto& f : req) {
      head_.headers.emplace_back(text::Lower(SV(f.name_string())), std::string(SV(f.value())));
    }
    head_.remote = remote_;
    head_.tls = Derived::kTls;
    head_.id = srv_->NextRequestId();
    user_agent_ = std::string(head_.Header("user-agent"));
    request_id_ = head_.id;
    method_ = head_.method;
    target_ = head_.target;
    keep_alive_ = req.keep_alive();
    head_only_ = req.method() == bhttp::verb::head;
    version_ = req.version();
    expect_continue_ = text::IEquals(SV(req[bhttp::field::expect]), "100-continue");
    body_.clear();
    charge_ = has_body ? std::make_shared<BodyCharge>(srv_) : nullptr;
    if (has_body && srv_->opts().check_head) {
      CheckHead();
      return;
    }
    StartBody();
  }

  using Guard = std::shared_ptr<net::executor_work_guard<net::any_io_executor>>;
  Guard MakeGuard() {
    return std::make_shared<net::executor_work_guard<net::any_io_executor>>(
        derived().lowest().get_executor());
  }

  // On the pool: ServerOptions::check_head on the head. The session has no I/O outstanding
  // meanwhile (the work guard keeps its io_context running), so the pool thread may use head_;
  // the post back orders that before the I/O thread touches it again.
  void CheckHead() {
    detail::HandlerPool::Task task = [self = derived().shared_from_this(), guard = MakeGuard()] {
      Response res;
      bool go = false;
      try {
        go = self->srv_->opts().check_head(self->head_, res);
      } catch (const std::bad_alloc&) {
        res = self->srv_->RetryLater(503, "the server is short of memory; retry later");
      } catch (const std::exception& e) {
        LogRequestError(self->request_id_, common::Cat("head check: exception: ", e.what()));
        res = self->srv_->MakeError(500, "Internal error", "the server failed to answer");
      } catch (...) {
        LogRequestError(self->request_id_, "head check: unknown exception");
        res = self->srv_->MakeError(500, "Internal error", "the server failed to answer");
      }
      net::post(self->derived().lowest().get_executor(),
                [self, guard, go, res = std::move(res)]() mutable {
                  self->OnHeadChecked(go, std::move(res));
                });
    };
    if (!srv_->pool().TrySubmit(task)) {
      Response busy = srv_->RetryLater(503, "the server is busy; retry later");
      busy.SetHeader("X-Request-Id", request_id_);
      Send(std::move(busy), false, version_);
    }
  }

  void OnHeadChecked(bool go, Response res) {
    if (!go) {
      // Refused on the head (401, 403, 404, ...): answered, and the connection is closed
      // without the body being read.
      charge_.reset();
      Send(std::move(res), false, version_, head_only_);
      return;
    }
    StartBody();
  }

  void StartBody() {
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    derived().lowest().expires_after(srv_->opts().body_timeout);
    if (expect_continue_) {
      auto cont =
          std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(derived().stream(), *cont,
                         [self = derived().shared_from_this(), cont](beast::error_code e, size_t) {
                           if (e) {
                             self->derived().DoClose();
                             return;
                           }
                           self->ReadBodyPart();
                         });
      return;
    }
    ReadBodyPart();
  }

  // Reads the next piece of the body straight into the end of body_, which grows only by
  // what arrives (geometrically, as std::string does).
  void ReadBodyPart() {
    size_t old = body_.size();
    try {
      body_.resize(old + kBodyPiece);
    } catch (const std::bad_alloc&) {
      body_ = std::string();
      charge_.reset();
      SendRetryLater(503, "the server is short of memory; retry later");
      return;
    }
    auto& b = parser_->get().body();
    b.data = body_.data() + old;
    b.size = kBodyPiece;
    b.more = true;
    bhttp::async_read_some(derived().stream(), buffer_, *parser_,
                           [self = derived().shared_from_this()](beast::error_code ec, size_t) {
                             self->OnBodyPart(ec);
                           });
  }

  void OnBodyPart(beast::error_code ec) {
    size_t got = kBodyPiece - parser_->get().body().size;
    body_.resize(body_.size() - kBodyPiece + got);
    if (ec == bhttp::error::need_buffer) ec = {};  // the piece is full: read the next one
    if (got > 0 && charge_ && !charge_->Add(got)) {
      body_ = std::string();
      charge_.reset();
      SendRetryLater(503, "too many request bytes in flight; retry later");
      return;
    }
    if (ec == bhttp::error::body_limit) {
      body_ = std::string();
      charge_.reset();
      SendError(413, "Request too large",
                common::Cat("body exceeds max_content_length ", body_limit_));
      return;
    }
    if (ec == beast::error::timeout) {
      body_ = std::string();
      charge_.reset();
      SendError(408, "Request timeout", "the request body did not arrive in time");
      return;
    }
    if (ec) {
      body_ = std::string();
      charge_.reset();
      derived().DoClose();
      return;
    }
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    ReadBodyPart();
  }

  // Hands the complete request to the pool. Its body's charge goes with it and is given back
  // when the handler is done with it.
  void Dispatch() {
    Request r = std::move(head_);
    r.body = std::move(body_);
    body_ = std::string();
    request_bytes_ = r.body.size();
    bool keep_alive = keep_alive_, head = head_only_;
    unsigned version = version_;
    // From here until the answer is posted back, the connection has no read or write
    // outstanding; the work guard keeps its io_context running meanwhile, also while stopping.
    detail::HandlerPool::Task task = [self = derived().shared_from_this(), guard = MakeGuard(),
                                      charge = std::move(charge_), r = std::move(r), keep_alive,
                                      head, version]() mutable {
      self->RunHandler(std::move(r), guard, keep_alive, head, version);
      r = Request();
      charge.reset();  // the body is gone
    };
    if (!srv_->pool().TrySubmit(task)) {
      Response busy = srv_->RetryLater(503, "the server is busy; retry later");
      busy.SetHeader("X-Request-Id", request_id_);
      Send(std::move(busy), keep_alive && !srv_->stopping(), version, head);
    }
  }

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
    // Out of memory ends this request, not the process: 503, retry later.
    auto out_of_memory = [this, &r]() {
      LogRequestError(r.id, common::Cat(r.method, " ", r.path, ": out of memory"));
      Response e = srv_->RetryLater(
          503, common::Cat("the server is short of memory; retry later; request id ", r.id));
      e.SetHeader("X-Request-Id", r.id);
      return e;
    };
    Response resp;
    try {
      srv_->handler()(r, resp);
    } catch (const std::bad_alloc&) {
      resp = out_of_memory();
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
    } catch (const std::bad_alloc&) {
      if (!answered->exchange(true)) post(out_of_memory());
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
  void SendRetryLater(int status, std::string_view description) {
    Response r = srv_->RetryLater(status, description);
    if (!request_id_.empty()) r.SetHeader("X-Request-Id", request_id_);
    Send(std::move(r), false, 11);
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
    authenticated_ = !user_.empty();
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
  std::string address_;  // the client's IP address, for the per-address count
  int refuse_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::optional<bhttp::response<bhttp::span_body<const char>>> res_;
  std::string owned_body_;
  std::shared_ptr<const std::string> shared_body_;
  bool reading_header_ = false;
  uint64_t requests_ = 0;
  bool authenticated_ = false;  // the last answer went to a caller with credentials
  // The request being read.
  Request head_;
  std::string body_;
  std::shared_ptr<BodyCharge> charge_;
  bool keep_alive_ = false, head_only_ = false, expect_continue_ = false;
  unsigned version_ = 11;
  // For the access log.
  int64_t start_ = 0;
  int status_ = 0;
  uint64_t request_bytes_ = 0;
  std::string method_, target_, user_, user_agent_, request_id_;
  uint64_t body_limit_ = 0;  // of the request being read, for the 413 message
};

// How long a closing connection keeps reading (and dropping) what the client still sends
// after the server's last answer, as nginx's lingering_close does: closing a socket with
// unread data sends a reset, which can destroy the answer before the client has read it.
constexpr auto kLingerTime = std::chrono::seconds(2);

class PlainSession final : public Session<PlainSession>,
                           public std::enable_shared_from_this<PlainSession> {
 public:
  static constexpr bool kTls = false;
  PlainSession(ServerImpl* srv, tcp::socket&& s, std::string remote, std::string address,
               int refuse)
      : Session(srv, std::move(remote), std::move(address), refuse), stream_(std::move(s)) {}
  void Start() { Begin(); }
  beast::tcp_stream& stream() { return stream_; }
  beast::tcp_stream& lowest() { return stream_; }
  void DoClose() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      stream_.socket().close(ec);
      return;
    }
    buffer_.clear();
    stream_.expires_after(kLingerTime);
    Linger();
  }

 private:
  void Linger() {
    if (!drain_) drain_ = std::make_unique<std::array<char, 4096>>();
    stream_.async_read_some(net::buffer(*drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) {  // end of stream, reset, or kLingerTime is up
                                boost::system::error_code e2;
                                self->stream_.socket().close(e2);
                                return;
                              }
                              self->Linger();
                            });
  }

  beast::tcp_stream stream_;
  std::unique_ptr<std::array<char, 4096>> drain_;
};

class TlsSession final : public Session<TlsSession>,
                         public std::enable_shared_from_this<TlsSession> {
 public:
  static constexpr bool kTls = true;
  TlsSession(ServerImpl* srv, tcp::socket&& s, ssl::context& ctx, std::string remote,
             std::string address, int refuse)
      : Session(srv, std::move(remote), std::move(address), refuse), stream_(std::move(s), ctx) {}
  void Start() {
    beast::get_lowest_layer(stream_).expires_after(srv_->opts().header_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                boost::system::error_code e2;
                                self->lowest().socket().close(e2);
                                return;
                              }
                              self->Begin();
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

// Failures of accept(2) that concern one connection (it was reset before being accepted):
// accept goes on at once.
bool TransientAcceptError(const boost::system::error_code& ec) {
  int v = ec.value();
  return v == ECONNABORTED || v == EINTR || v == EAGAIN || v == EPROTO || v == ECONNRESET ||
         v == EPERM;
}

void ServerImpl::DoAccept() {
  acceptor_.async_accept(NextContext(), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec && !TransientAcceptError(ec)) {
      OnAcceptError(ec);
      return;
    }
    if (!ec) {
      accept_backoff_ = std::chrono::milliseconds(0);
      boost::system::error_code e2;
      auto ep = socket.remote_endpoint(e2);
      std::string address = e2 ? "?" : ep.address().to_string();
      std::string remote = e2 ? "?" : common::Cat(address, ":", ep.port());
      socket.set_option(tcp::no_delay(true), e2);
      int refuse = 0;
      switch (Admit(address)) {
        case Admission::kAdmitted: break;
        case Admission::kTooManyFromAddress: refuse = 429; break;
        case Admission::kTooMany: refuse = 503; break;
      }
      if (refuse != 0 && refusing_.fetch_add(1) >= kMaxRefusing) {
        refusing_.fetch_sub(1);
        socket.close(e2);  // too many being turned away already: no answer
      } else if (ssl_ctx_) {
        auto s = std::make_shared<TlsSession>(this, std::move(socket), *ssl_ctx_, std::move(remote),
                                              std::move(address), refuse);
        Register(s.get(), s);
        s->Start();
      } else {
        auto s = std::make_shared<PlainSession>(this, std::move(socket), std::move(remote),
                                                std::move(address), refuse);
        Register(s.get(), s);
        s->Start();
      }
    }
    if (!stopping()) DoAccept();
  });
}

// accept(2) failed for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) or
// for a reason not tied to one connection. Retrying at once would spin: the listening socket
// stays readable. So the clients already waiting are answered 503 through the spare
// descriptor, and accept sleeps 100 ms, doubling up to 1 s while the shortage lasts.
void ServerImpl::OnAcceptError(const boost::system::error_code& ec) {
  if (accept_backoff_.count() == 0) {
    std::fprintf(stderr, "accord: accept: %s; turning new connections away until it clears\n",
                 ec.message().c_str());
    accept_backoff_ = std::chrono::milliseconds(100);
  } else {
    accept_backoff_ = std::min(accept_backoff_ * 2, std::chrono::milliseconds(1000));
  }
  ShedPending();
  accept_timer_.expires_after(accept_backoff_);
  accept_timer_.async_wait([this](const boost::system::error_code& e) {
    if (e || stopping() || !acceptor_.is_open()) return;
    DoAccept();
  });
}

// Answers the connections waiting in the listen backlog with 503 + Retry-After and closes
// them, freeing the spare descriptor for each accept. Bounded per call; runs on ioc_.
void ServerImpl::ShedPending() {
  for (int i = 0; i < 256; ++i) {
    if (spare_fd_ >= 0) {
      ::close(spare_fd_);
      spare_fd_ = -1;
    }
    int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;  // the backlog is empty (or still no descriptor)
    // Reads what the client sent already, so that the close sends FIN rather than a reset
    // that could discard the answer; then answers and closes.
    char drop[4096];
    (void)::recv(fd, drop, sizeof drop, 0);
    (void)::send(fd, shed_response_.data(), shed_response_.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (spare_fd_ < 0) spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
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
  o.check_head = [&router](Request& head, Response& res) { return router.CheckHead(head, res); };
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
