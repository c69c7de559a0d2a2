// `accord serve`, `accord user`, `accord key`, `accord collection` (and, through
// RegisterTaxiiClientCommands, `accord taxii`).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "accord/audit/checkpoint.h"
#include "accord/audit/log.h"
#include "accord/common/strings.h"
#include "accord/federation/config.h"
#include "accord/federation/directory.h"
#include "accord/federation/node.h"
#include "accord/federation/sync.h"
#include "accord/http/auth.h"
#include "accord/http/router.h"
#include "accord/http/server.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/policy/gate.h"
#include "accord/requests/channel.h"
#include "accord/store/store.h"
#include "accord/taxii/config.h"
#include "accord/taxii/service.h"
#include "accord/web/import_api.h"
#include "accord/web/indicators_api.h"
#include "accord/web/peers_api.h"
#include "accord/web/read_api.h"
#include "accord/web/requests_api.h"
#include "accord/web/session.h"
#include "accord/web/sightings_api.h"
#include "accord/web/ui_files.h"
#include "cli/cli.h"

namespace accord::cli {

void RegisterTaxiiClientCommands(CLI::App& app, Globals* g, int* exit_code);  // taxii_cmd.cc

namespace {

absl::StatusOr<std::unique_ptr<store::Store>> OpenStore(const Globals& g) {
  ACCORD_ASSIGN_OR_RETURN(store::Options o, StoreOptions(g));
  return store::Store::Open(o);
}

// Users, keys and grants live in the store (accord.db); the AuthDb needs it open.
struct AuthHandle {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<http::AuthDb> auth;
  http::AuthDb* operator->() const { return auth.get(); }
};

absl::StatusOr<AuthHandle> OpenAuth(const Globals& g) {
  AuthHandle h;
  ACCORD_ASSIGN_OR_RETURN(h.store, OpenStore(g));
  ACCORD_ASSIGN_OR_RETURN(h.auth, http::AuthDb::Open(h.store.get()));
  return h;
}

// Writes the first-start admin key to `path`, readable and writable by the owner only.
absl::Status WriteKeyFile(const std::string& path, const std::string& key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        common::Cat(path, ": cannot write the admin key: ", std::strerror(errno)));
  }
  // An existing file keeps its mode through O_CREAT: set it.
  std::string line = key + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    return absl::FailedPreconditionError(
        common::Cat(path, ": cannot write the admin key: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

struct ServeFlags {
  std::string config;
  std::string listen;
  std::string tls_cert, tls_key;
  bool plain_http = false;
  int threads = -1;
  std::string access_log = "\x01";
  uint64_t max_body = 0;
  std::string api_root;
  std::string ui_dir;
  double checkpoint_interval_s = 3600;
  double purge_interval_s = 86400;
};

// The web UI's built files (ui/dist, `npm run build` in ui/): `flag`, else $ACCORD_UI_DIR,
// else <prefix>/share/accord/ui beside an installed binary, else the checkout's ui/dist above a
// binary in its build tree. Empty when none holds index.html (the UI then answers 404).
std::string FindUiDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("ACCORD_UI_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  std::filesystem::path dir = exe.parent_path();
  if (std::filesystem::exists(dir / "../share/accord/ui/index.html", ec)) {
    return (dir / "../share/accord/ui").lexically_normal().string();
  }
  for (int up = 0; up < 4 && dir.has_parent_path(); ++up, dir = dir.parent_path()) {
    if (std::filesystem::exists(dir / "ui/dist/index.html", ec)) return (dir / "ui/dist").string();
  }
  return {};
}

// Runs `fn` on its own thread every `interval_s` while the server runs (the first time one
// interval after Start), and once more when it stops if `at_stop`.
class Periodic {
 public:
  Periodic(double interval_s, bool at_stop, std::function<void()> fn)
      : interval_s_(interval_s), at_stop_(at_stop), fn_(std::move(fn)) {}
  ~Periodic() { Stop(); }
  void Start() {
    if (interval_s_ > 0) thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    const auto interval = std::chrono::microseconds(static_cast<int64_t>(interval_s_ * 1e6));
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      const bool stopping = cv_.wait_for(l, interval, [this] { return stop_; });
      if (stopping && !at_stop_) return;
      l.unlock();
      fn_();
      l.lock();
      if (stopping) return;
    }
  }

  const double interval_s_;
  const bool at_stop_;
  const std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Applies [retention] as `accord purge` does (issue 13, point 6), and says what it purged;
// quiet when nothing is configured or nothing went.
void RetentionOnce(const Globals& g) {
  absl::StatusOr<RetentionResult> r = ApplyRetention(g, false, false, nullptr);
  if (!r.ok()) {
    std::cerr << "accord: retention: " << r.status().message() << "\n";
  } else if (r->removed) {
    std::cerr << "accord: retention: " << r->summary << "\n";
  }
}

// Signs the audit log's head whenever entries were added since the last checkpoint (issue 13,
// point 7): every interval while the server runs, and when it stops.
class Checkpointer {
 public:
  Checkpointer(audit::Log* log, store::Store* store, std::string secret_key)
      : log_(log), store_(store), secret_key_(std::move(secret_key)) {}
  void Once() {
    auto head = log_->ReadHead();
    if (!head.ok()) {
      std::cerr << "accord: audit: checkpoint: " << head.status().message() << "\n";
      return;
    }
    if (head->seq == 0 || head->seq == last_seq_) return;
    auto cp = audit::MakeCheckpoint(*log_, *store_, secret_key_);
    if (!cp.ok()) {
      std::cerr << "accord: audit: checkpoint: " << cp.status().message() << "\n";
      return;
    }
    last_seq_ = cp->seq;
  }

 private:
  audit::Log* const log_;
  store::Store* const store_;
  const std::string secret_key_;
  uint64_t last_seq_ = 0;
};

absl::Status Serve(const Globals& g, const ServeFlags& f) {
  taxii::ServeConfig cfg;
  cfg.server.host = "127.0.0.1";
  cfg.server.port = 9443;
  std::string config = f.config;
  if (config.empty()) {
    auto def = std::filesystem::path(g.data_dir) / "accord.toml";
    if (std::filesystem::exists(def)) config = def.string();
  }
  if (!config.empty()) ACCORD_RETURN_IF_ERROR(taxii::LoadServeConfig(config, &cfg));
  if (!f.listen.empty()) {
    ACCORD_RETURN_IF_ERROR(taxii::ParseListen(f.listen, &cfg.server.host, &cfg.server.port));
  }
  if (!f.tls_cert.empty()) cfg.server.tls_cert_file = f.tls_cert;
  if (!f.tls_key.empty()) cfg.server.tls_key_file = f.tls_key;
  if (f.plain_http) cfg.server.allow_plain_http = true;
  if (f.threads >= 0) cfg.server.threads = f.threads;
  if (f.access_log != "\x01") cfg.access_log = f.access_log;
  if (f.max_body > 0) {
    cfg.server.max_body_bytes = f.max_body;
    cfg.service.max_content_length = f.max_body;
  }
  if (!f.api_root.empty()) cfg.service.api_root = f.api_root;

  ACCORD_ASSIGN_OR_RETURN(auto st, OpenStore(g));
  // A store written before the value index or the full-text index existed is indexed once,
  // before anything is served: the web UI's searches and related objects read them.
  ACCORD_ASSIGN_OR_RETURN(bool indexed, st->ValueIndexCurrent());
  if (!indexed) {
    std::cerr << "accord: indexing the versions stored before the search indexes existed (once)\n";
    ACCORD_ASSIGN_OR_RETURN(uint64_t n, st->Reindex());
    std::cerr << "accord: indexed " << n << " versions\n";
  }
  ACCORD_ASSIGN_OR_RETURN(auto auth, http::AuthDb::Open(st.get(), cfg.auth));
  ACCORD_ASSIGN_OR_RETURN(bool has_users, auth->HasUsers());
  std::string first_key_id;
  if (!has_users) {
    // First start: an admin and a default collection, so that the node is usable at once.
    ACCORD_RETURN_IF_ERROR(auth->AddUser("admin", http::Role::kAdmin));
    ACCORD_ASSIGN_OR_RETURN(std::string key, auth->CreateKey("admin", "first start"));
    first_key_id = key.substr(0, key.find('.'));
    ACCORD_ASSIGN_OR_RETURN(auto cols, st->ListCollections());
    if (cols.empty()) {
      store::CollectionInfo ci;
      ci.alias = "default";
      ci.title = "Default collection";
      ACCORD_RETURN_IF_ERROR(st->CreateCollection(ci).status());
    }
    // The key goes to a 0600 file, and to the terminal only when there is one: a service
    // manager or a pipe would otherwise keep it in a log.
    std::string key_file = (std::filesystem::path(g.data_dir) / "admin.key").string();
    ACCORD_RETURN_IF_ERROR(WriteKeyFile(key_file, key));
    std::cout << "accord: first start: created user 'admin'; its API key is in " << key_file
              << " (readable by this user only)\n";
    if (::isatty(STDOUT_FILENO)) std::cout << "accord: admin API key: " << key << "\n";
  }
  std::unique_ptr<http::AccessLog> log;
  if (!cfg.access_log.empty()) {
    ACCORD_ASSIGN_OR_RETURN(log, http::AccessLog::Open(cfg.access_log));
    cfg.server.access_log = [l = log.get()](const http::AccessLogEntry& e) { l->Write(e); };
  }
  cfg.server.max_body_bytes = std::max(cfg.server.max_body_bytes, cfg.service.max_content_length);
  cfg.server.error_factory = taxii::ErrorResponse;
  cfg.server.stop_on_signals = true;
  // Imports by other processes (`accord import` on the same data directory) invalidate the
  // page cache through Store::Generation(), polled at most every 2 ms; this server's own
  // writes invalidate it at once.
  auto changes = taxii::NewStoreChangeSource(st.get(), 2000);
  ACCORD_ASSIGN_OR_RETURN(cfg.service.pattern_policy, ingest::LoadPatternPolicy(g.data_dir));
  // The node's egress gate with its peers' agreements: a peer user reads what they share.
  std::unique_ptr<policy::Gate> gate = federation::NewFederatedGate(st.get(), g.data_dir);
  // Every page served and every POST committed is written to the audit log (issue 13).
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<audit::Log> audit_log,
                          audit::Log::Open(g.data_dir, st.get()));
  cfg.service.audit = audit_log.get();
  if (!first_key_id.empty()) {
    // The first start made the admin and its key: recorded as `accord user add` and `accord
    // key create` would record them.
    ACCORD_RETURN_IF_ERROR(AuditChange(g, "user.add", "user 'admin' role admin (first start)"));
    ACCORD_RETURN_IF_ERROR(AuditChange(
        g, "key.create", common::Cat("key ", first_key_id, " for user 'admin' (first start)")));
  }
  taxii::Service service(st.get(), auth.get(), cfg.service, changes.get(), gate.get());
  // The router: authentication, then limits, then the TAXII routes (/taxii2/, /<api root>/).
  // Further mounts (a JSON API, static /ui/ files via ServeStatic) go beside them here.
  // Browser sessions (issue 16, docs/UI_API.md): a request without an Authorization header
  // may be authenticated by its session cookie; cookie-borne writes need the CSRF token.
  auto keys = http::NewAuthDbAuthenticator(auth.get());
  // They live in the store, so that every frontend of a PostgreSQL store knows every session.
  web::Sessions sessions(auth.get(), st->sessions(), web::SessionOptions());
  auto authenticator = web::NewSessionAuthenticator(keys.get(), &sessions);
  http::Router router(taxii::ErrorResponse);
  router.Use(http::AuthenticationMiddleware(authenticator.get()));
  router.Use(web::CsrfMiddleware(&sessions));
  router.Use(http::LimitsMiddleware());
  service.Mount(router);
  web::MountSessionApi(router, &sessions);
  web::MountReadApi(router, {st.get(), gate.get(), audit_log.get(), g.data_dir});
  web::MountIndicatorsApi(router, {st.get(), gate.get(), audit_log.get(), g.data_dir});
  web::MountSightingsApi(router, {st.get(), gate.get(), audit_log.get(), g.data_dir});
  MountAuditApi(router, st.get(), audit_log.get());
  web::MountImportApi(router, {st.get(), audit_log.get(), g.data_dir});
  web::MountPeersApi(router, {st.get(), audit_log.get(), g.data_dir});
  // The web UI's files at /ui/ (docs/UI_API.md); without them the UI's API still answers.
  if (std::string ui_dir = FindUiDir(f.ui_dir); !ui_dir.empty()) {
    web::MountUiFiles(router, ui_dir);
  } else {
    std::cerr << "accord: no web UI files found (build them with scripts/ui.sh, or pass --ui "
                 "DIR); /ui/ answers 404\n";
  }
  // The request channel (issue 14): the inbox for peers, and a round every request_interval
  // (deliveries retried, deadlines flagged, pings sent). Without a node identity there is none.
  std::unique_ptr<requests::Channel> channel;
  {
    requests::Channel::Options co;
    co.data_dir = g.data_dir;
    co.audit = audit_log.get();
    co.gate = gate.get();
    co.actor = "node";
    absl::StatusOr<std::unique_ptr<requests::Channel>> ch =
        requests::Channel::Open(st.get(), std::move(co));
    if (ch.ok()) {
      channel = std::move(*ch);
      MountRequestChannel(router, cfg.service.api_root, channel.get());
      web::MountRequestsApi(router, {st.get(), gate.get(), audit_log.get(), channel.get()});
    } else {
      std::cerr << "accord: no request channel: " << ch.status().message() << "\n";
    }
  }
  ACCORD_ASSIGN_OR_RETURN(auto server, http::Server::Create(cfg.server, router));
  std::string host = cfg.server.host.find(':') != std::string::npos ? "[" + cfg.server.host + "]"
                                                                    : cfg.server.host;
  std::cout << "accord: TAXII 2.1 listening on " << (server->tls() ? "https" : "http") << "://"
            << host << ":" << server->port() << "/taxii2/ (API root /" << cfg.service.api_root
            << "/)" << std::endl;
  // Federation: pull from the peers at [federation] sync_interval (docs/FEDERATION.md).
  federation::SyncLoop sync(st.get(), g.data_dir);
  sync.Start();
  // Without a node key (`accord node init`) there are no checkpoints: said once.
  std::optional<Checkpointer> checkpointer;
  if (f.checkpoint_interval_s > 0) {
    absl::StatusOr<std::string> sk = federation::LoadNodeSecretKey(*st, g.data_dir);
    if (sk.ok()) {
      checkpointer.emplace(audit_log.get(), st.get(), *sk);
    } else {
      std::cerr << "accord: audit: no periodic checkpoints: " << sk.status().message() << "\n";
    }
  }
  Periodic checkpoints(checkpointer ? f.checkpoint_interval_s : 0, true,
                       [&checkpointer] { checkpointer->Once(); });
  checkpoints.Start();
  Periodic retention(f.purge_interval_s, false, [&g] { RetentionOnce(g); });
  retention.Start();
  absl::StatusOr<federation::FederationConfig> fed = federation::LoadFederationConfig(g.data_dir);
  Periodic request_rounds(
      channel && fed.ok() ? fed->request_interval_ms / 1000.0 : 0, false, [&channel] {
        absl::StatusOr<requests::Round> r = channel->RunRound(false);
        if (!r.ok()) {
          std::cerr << "accord: request channel: " << r.status().message() << "\n";
        }
      });
  request_rounds.Start();
  // What a person must hear of at once goes to [federation] notify_command within half a
  // second, whatever request_interval says.
  Periodic notifications(channel ? 0.5 : 0, false, [&channel] { channel->Notify(); });
  notifications.Start();
  absl::Status ran = server->Run();
  sync.Stop();
  request_rounds.Stop();
  notifications.Stop();
  retention.Stop();
  checkpoints.Stop();
  ACCORD_RETURN_IF_ERROR(ran);
  std::cout << "accord: stopped" << std::endl;
  return absl::OkStatus();
}

std::string FormatTime(int64_t us) { return common::FormatTimestamp(us); }

}  // namespace

void RegisterServeCommands(CLI::App& app, Globals* g, int* exit_code) {
  // --- serve ---
  static ServeFlags f_storage;  // process lifetime (CLI11 binds by address)
  auto* f = &f_storage;
  auto* serve = app.add_subcommand(
      "serve",
      "Run the TAXII 2.1 server (discovery at /taxii2/). Plain HTTP only on loopback unless "
      "--insecure-plain-http; TLS with --tls-cert/--tls-key. Reads <data>/accord.toml or "
      "--config (sections [server], [tls], [taxii]; see docs/TAXII.md). SIGTERM stops "
      "gracefully. On first start creates user 'admin' and writes its key to <data>/admin.key "
      "(0600; also shown when standard output is a terminal).");
  AddDataOption(serve, g);
  serve->add_option("--config", f->config, "TOML config file (default: <data>/accord.toml)");
  serve->add_option("--listen", f->listen,
                    "HOST:PORT to bind (default 127.0.0.1:9443; port 0: any)");
  serve->add_option("--tls-cert", f->tls_cert, "PEM certificate chain (enables TLS)");
  serve->add_option("--tls-key", f->tls_key, "PEM private key");
  serve->add_flag("--insecure-plain-http", f->plain_http,
                  "Allow plain HTTP on a non-loopback address");
  serve->add_option("--threads", f->threads, "Worker threads (default: one per core)");
  serve->add_option("--access-log", f->access_log,
                    "Access log file, JSON lines ('-' standard error, '' off)");
  serve->add_option("--max-body", f->max_body, "Largest request body in bytes (413 above)");
  serve->add_option("--api-root", f->api_root, "API root name (default 'api')");
  serve->add_option("--ui", f->ui_dir,
                    "The web UI's built files, served at /ui/ (default: $ACCORD_UI_DIR, else "
                    "<prefix>/share/accord/ui, else the checkout's ui/dist)");
  serve
      ->add_option("--audit-checkpoint-interval", f->checkpoint_interval_s,
                   "Sign the audit log's head every N seconds, and when stopping (default "
                   "3600; 0: off). Needs the node key ('accord node init')")
      ->check(CLI::Range(0.0, 31.0 * 86400));
  serve
      ->add_option("--purge-interval", f->purge_interval_s,
                   "Apply accord.toml [retention] (as 'accord purge') every N seconds (default "
                   "86400; 0: off)")
      ->check(CLI::Range(0.0, 366.0 * 86400));
  serve->callback([g, f, exit_code] {
    auto s = Serve(*g, *f);
    *exit_code = s.ok() ? 0 : Fail(s);
  });

  // --- user ---
  auto* user = app.add_subcommand(
      "user", "Manage users (roles: admin, analyst, auditor, reader, peer; docs/PRIVACY.md)");
  user->require_subcommand(1);
  AddDataOption(user, g);
  {
    auto* add = user->add_subcommand("add", "Add a user");
    AddDataOption(add, g);
    static std::string name_storage;  // process lifetime (CLI11 binds by address)
    auto* name = &name_storage;
    static std::string role_storage("analyst");  // process lifetime (CLI11 binds by address)
    auto* role = &role_storage;
    add->add_option("NAME", *name, "User name")->required();
    add->add_option("--role", *role,
                    "admin (everything), analyst (what grants give; `user` is the old name), "
                    "auditor (the audit log and agreements, no intelligence), reader (every "
                    "collection but TLP:RED), peer (another node: what its agreement shares)");
    add->callback([g, name, role, exit_code] {
      auto r = http::ParseRole(*role);
      if (!r.ok()) {
        *exit_code = Fail(r.status());
        return;
      }
      auto a = OpenAuth(*g);
      absl::Status s = a.ok() ? (*a)->AddUser(*name, *r) : a.status();
      if (!s.ok()) {
        *exit_code = Fail(s);
        return;
      }
      const std::string_view canonical = http::RoleName(*r);
      std::cerr << "accord: added user '" << *name << "' (" << canonical << ")\n";
      s = AuditChange(*g, "user.add", common::Cat("user '", *name, "' role ", canonical));
      *exit_code = s.ok() ? 0 : Fail(s);
    });
    auto* set_role =
        user->add_subcommand("set-role", "Change a user's role (keys and grants stay)");
    AddDataOption(set_role, g);
    static std::string sr_name_storage, sr_role_storage;  // process lifetime (CLI11)
    auto* sr_name = &sr_name_storage;
    auto* sr_role = &sr_role_storage;
    set_role->add_option("NAME", *sr_name, "User name")->required();
    set_role->add_option("ROLE", *sr_role, "admin, analyst, auditor, reader or peer")->required();
    set_role->callback([g, sr_name, sr_role, exit_code] {
      auto r = http::ParseRole(*sr_role);
      if (!r.ok()) {
        *exit_code = Fail(r.status());
        return;
      }
      auto a = OpenAuth(*g);
      if (!a.ok()) {
        *exit_code = Fail(a.status());
        return;
      }
      auto before = (*a)->GetUser(*sr_name);
      absl::Status s = before.ok() ? (*a)->SetRole(*sr_name, *r) : before.status();
      if (!s.ok()) {
        *exit_code = Fail(s);
        return;
      }
      const std::string_view from = http::RoleName(before->role), to = http::RoleName(*r);
      std::cerr << "accord: user '" << *sr_name << "' is now " << to << " (was " << from << ")\n";
      s = AuditChange(*g, "role.set", common::Cat("user '", *sr_name, "' role ", from, " -> ", to));
      *exit_code = s.ok() ? 0 : Fail(s);
    });
    auto* list = user->add_subcommand("list", "List users");
    AddDataOption(list, g);
    static bool user_json_storage = false;  // process lifetime (CLI11 binds by address)
    auto* user_json = &user_json_storage;
    list->add_flag("--json", *user_json,
                   "One JSON object per user and line: name, role, created, grants");
    list->callback([g, user_json, exit_code] {
      auto a = OpenAuth(*g);
      if (!a.ok()) {
        *exit_code = Fail(a.status());
        return;
      }
      auto users = (*a)->ListUsers();
      if (!users.ok()) {
        *exit_code = Fail(users.status());
        return;
      }
      for (const auto& u : *users) {
        // Who may read what: the grants, with each user (a data-protection officer's question).
        auto grants = (*a)->ListGrants(u.name);
        if (!grants.ok()) {
          *exit_code = Fail(grants.status());
          return;
        }
        if (*user_json) {
          nlohmann::ordered_json j;
          j["name"] = u.name;
          j["role"] = std::string(http::RoleName(u.role));
          j["created"] = FormatTime(u.created_us);
          j["grants"] = nlohmann::ordered_json::array();
          for (const auto& gr : *grants) {
            j["grants"].push_back(
                {{"collection", gr.collection}, {"read", gr.read}, {"write", gr.write}});
          }
          std::cout << j.dump() << "\n";
          continue;
        }
        std::cout << u.name << "\t" << http::RoleName(u.role) << "\t" << FormatTime(u.created_us);
        for (const auto& gr : *grants) {
          std::cout << "\t" << gr.collection << ":" << (gr.read ? "r" : "")
                    << (gr.write ? "w" : "");
        }
        std::cout << "\n";
      }
      *exit_code = 0;
    });
  }

  // --- key ---
  auto* key = app.add_subcommand("key", "Manage API keys (argon2id-hashed; shown once)");
  key->require_subcommand(1);
  AddDataOption(key, g);
  {
    auto* create = key->add_subcommand("create", "Create an API key for a user; prints it once");
    AddDataOption(create, g);
    static std::string name_storage;  // process lifetime (CLI11 binds by address)
    auto* name = &name_storage;
    static std::string label_storage;  // process lifetime (CLI11 binds by address)
    auto* label = &label_storage;
    create->add_option("NAME", *name, "User name")->required();
    create->add_option("--label", *label, "A note kept with the key");
    create->callback([g, name, label, exit_code] {
      auto a = OpenAuth(*g);
      if (!a.ok()) {
        *exit_code = Fail(a.status());
        return;
      }
      auto k = (*a)->CreateKey(*name, *label);
      if (!k.ok()) {
        *exit_code = Fail(k.status());
        return;
      }
      std::cout << *k << "\n";
      // The key id (before the '.') only: the secret never enters the log.
      absl::Status s = AuditChange(*g, "key.create",
                                   common::Cat("key ", k->substr(0, k->find('.')), " for user '",
                                               *name, "' (", *label, ")"));
      *exit_code = s.ok() ? 0 : Fail(s);
    });
    auto* revoke = key->add_subcommand("revoke", "Revoke a key (by key id or the full key)");
    AddDataOption(revoke, g);
    static std::string kid_storage;  // process lifetime (CLI11 binds by address)
    auto* kid = &kid_storage;
    revoke->add_option("KEY", *kid, "Key id (the part before '.') or full key")->required();
    revoke->callback([g, kid, exit_code] {
      auto a = OpenAuth(*g);
      absl::Status s = a.ok() ? (*a)->RevokeKey(*kid) : a.status();
      if (s.ok()) std::cerr << "accord: revoked\n";
      if (s.ok())
        s = AuditChange(*g, "key.revoke", common::Cat("key ", kid->substr(0, kid->find('.'))));
      *exit_code = s.ok() ? 0 : Fail(s);
    });
    auto* list = key->add_subcommand("list", "List keys (ids only)");
    AddDataOption(list, g);
    static std::string who_storage;  // process lifetime (CLI11 binds by address)
    auto* who = &who_storage;
    list->add_option("NAME", *who, "Only this user's keys");
    static bool key_json_storage = false;  // process lifetime (CLI11 binds by address)
    auto* key_json = &key_json_storage;
    list->add_flag("--json", *key_json,
                   "One JSON object per key and line: key_id, user, created, revoked, label");
    list->callback([g, who, key_json, exit_code] {
      auto a = OpenAuth(*g);
      if (!a.ok()) {
        *exit_code = Fail(a.status());
        return;
      }
      auto keys = (*a)->ListKeys(*who);
      if (!keys.ok()) {
        *exit_code = Fail(keys.status());
        return;
      }
      for (const auto& k : *keys) {
        if (*key_json) {
          nlohmann::ordered_json j;
          j["key_id"] = k.key_id;
          j["user"] = k.user;
          j["created"] = FormatTime(k.created_us);
          j["revoked"] = k.revoked;
          j["label"] = k.label;
          std::cout << j.dump() << "\n";
          continue;
        }
        std::cout << k.key_id << "\t" << k.user << "\t" << FormatTime(k.created_us) << "\t"
                  << (k.revoked ? "revoked" : "active") << "\t" << k.label << "\n";
      }
      *exit_code = 0;
    });
  }

  // --- collection ---
  auto* col = app.add_subcommand("collection", "Manage collections and who may use them");
  col->require_subcommand(1);
  AddDataOption(col, g);
  {
    auto* create = col->add_subcommand("create", "Create a collection");
    AddDataOption(create, g);
    struct CreateFlags {
      std::string alias, title, description;
      bool is_public = false;
    };
    static CreateFlags cf_storage;  // process lifetime (CLI11 binds by address)
    auto* cf = &cf_storage;
    create->add_option("ALIAS", cf->alias, "Short name (usable in URLs)")->required();
    create->add_option("--title", cf->title, "Title (default: the alias)");
    create->add_option("--description", cf->description, "Description");
    create->add_flag("--public", cf->is_public, "Readable without credentials");
    create->callback([g, cf, exit_code] {
      auto st = OpenStore(*g);
      if (!st.ok()) {
        *exit_code = Fail(st.status());
        return;
      }
      store::CollectionInfo ci;
      ci.alias = cf->alias;
      ci.title = cf->title.empty() ? cf->alias : cf->title;
      ci.description = cf->description;
      ci.is_public = cf->is_public;
      auto c = (*st)->CreateCollection(ci);
      if (!c.ok()) {
        *exit_code = Fail(c.status());
        return;
      }
      std::cout << c->id << "\n";
      *exit_code = 0;
    });
    auto* list = col->add_subcommand("list", "List collections");
    AddDataOption(list, g);
    static bool col_json_storage = false;  // process lifetime (CLI11 binds by address)
    auto* col_json = &col_json_storage;
    list->add_flag("--json", *col_json,
                   "One JSON object per collection and line: id, alias, title, description, "
                   "public, objects");
    list->callback([g, col_json, exit_code] {
      auto st = OpenStore(*g);
      if (!st.ok()) {
        *exit_code = Fail(st.status());
        return;
      }
      auto cols = (*st)->ListCollections();
      if (!cols.ok()) {
        *exit_code = Fail(cols.status());
        return;
      }
      for (const auto& c : *cols) {
        absl::StatusOr<uint64_t> count = (*st)->CountMembers(c.id);
        if (!count.ok()) {
          *exit_code = Fail(count.status());
          return;
        }
        if (*col_json) {
          nlohmann::ordered_json j;
          j["id"] = c.id;
          j["alias"] = c.alias;
          j["title"] = c.title;
          j["description"] = c.description;
          j["public"] = c.is_public;
          j["objects"] = *count;
          std::cout << j.dump() << "\n";
          continue;
        }
        std::cout << c.id << "\t" << c.alias << "\t" << (c.is_public ? "public" : "private") << "\t"
                  << *count << "\t" << c.title << "\n";
      }
      *exit_code = 0;
    });
    auto* grant = col->add_subcommand(
        "grant", "Set a user's permissions on a collection (neither --read nor --write: remove)");
    AddDataOption(grant, g);
    struct GrantFlags {
      std::string collection, user;
      bool read = false, write = false;
    };
    static GrantFlags gf_storage;  // process lifetime (CLI11 binds by address)
    auto* gf = &gf_storage;
    grant->add_option("COLLECTION", gf->collection, "Collection id or alias")->required();
    grant->add_option("USER", gf->user, "User name")->required();
    grant->add_flag("--read", gf->read, "May read objects");
    grant->add_flag("--write", gf->write, "May add (and, with --read, delete) objects");
    grant->callback([g, gf, exit_code] {
      auto st = OpenStore(*g);
      if (!st.ok()) {
        *exit_code = Fail(st.status());
        return;
      }
      auto c = (*st)->GetCollection(gf->collection);
      if (!c.ok()) {
        *exit_code = Fail(c.status());
        return;
      }
      auto a = http::AuthDb::Open(st->get());
      absl::Status s = a.ok() ? (*a)->SetGrant(gf->user, c->id, gf->read, gf->write) : a.status();
      if (s.ok()) {
        s = AuditChange(*g, "grant.set",
                        common::Cat("user '", gf->user, "' collection ", c->id, " read ",
                                    gf->read ? "yes" : "no", " write ", gf->write ? "yes" : "no"));
      }
      *exit_code = s.ok() ? 0 : Fail(s);
    });
  }

  RegisterTaxiiClientCommands(app, g, exit_code);
}

}  // namespace accord::cli
