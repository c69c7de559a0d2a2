// `accord taxii discover|collections|pull|push`: the TAXII 2.1 client.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "accord/audit/log.h"
#include "accord/common/strings.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/policy/gate.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "accord/taxii/client.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

struct TaxiiFlags {
  std::string url;
  std::string user;
  std::string key;
  std::string ca_file;
  bool insecure = false;
  int retries = 5;
  long timeout_s = taxii::ClientOptions{}.timeout_s;
  uint64_t max_response_bytes = taxii::ClientOptions{}.max_response_bytes;
  // pull / push
  std::string collection;
  std::string into;
  uint64_t page_size = 1000;
  bool from_start = false;
  std::vector<std::string> files;
  size_t batch = 100;
  size_t parallel = 4;
};

taxii::ClientOptions ClientOpts(const TaxiiFlags& f) {
  taxii::ClientOptions o;
  o.user = f.user;
  o.key = f.key;
  if (o.key.empty()) {
    if (const char* k = std::getenv("ACCORD_TAXII_KEY")) o.key = k;
  }
  o.verify_tls = !f.insecure;
  o.ca_file = f.ca_file;
  o.retries = f.retries;
  o.timeout_s = f.timeout_s;
  o.max_response_bytes = f.max_response_bytes;
  return o;
}

void AddCommon(CLI::App* c, TaxiiFlags* f) {
  c->add_option("--user", f->user, "User name (HTTP Basic; without it the key is a bearer token)");
  c->add_option("--key", f->key, "API key (default: $ACCORD_TAXII_KEY)");
  c->add_option("--cacert", f->ca_file, "Trust this CA/certificate (PEM) in addition");
  c->add_flag("--insecure", f->insecure, "Do not verify the server's TLS certificate");
  c->add_option("--retries", f->retries, "Retries on 5xx/429/network errors (default 5)");
  c->add_option("--timeout", f->timeout_s,
                "Seconds one request may take in all, connection to last byte (default 300)");
  c->add_option("--max-response-bytes", f->max_response_bytes,
                "Largest response body accepted; a larger one fails the command (default "
                "268435456 = 256 MiB)");
}

int Run(const absl::Status& s) { return s.ok() ? 0 : Fail(s); }

// The egress gate for a push: the node's gate when `data_dir` holds a node (its lockdown
// switch and, later, its markings and agreements apply to what it sends), the default gate
// when there is no node there at all (a plain TAXII client pushing files). A node that exists
// but cannot be opened fails the push (fail closed).
struct PushGate {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<policy::Gate> gate;
};
absl::StatusOr<PushGate> OpenPushGate(const Globals& g) {
  PushGate p;
  std::error_code ec;
  ACCORD_ASSIGN_OR_RETURN(const store::Options where, StoreOptions(g));
  if (where.url.empty() &&
      !std::filesystem::exists(std::filesystem::path(g.data_dir) / "accord.db", ec) && !ec) {
    p.gate = policy::NewAllowAllGate();
    return p;
  }
  ACCORD_ASSIGN_OR_RETURN(store::Options so, StoreOptions(g));
  so.create = false;
  ACCORD_ASSIGN_OR_RETURN(p.store, store::Store::Open(so));
  p.gate = policy::NewNodeGate(p.store.get());
  return p;
}

}  // namespace

void RegisterTaxiiClientCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* t = app.add_subcommand("taxii", "TAXII 2.1 client");
  t->require_subcommand(1);
  static TaxiiFlags f_storage;  // process lifetime (CLI11 binds by address)
  auto* f = &f_storage;

  auto* disc = t->add_subcommand("discover", "Print a server's discovery resource");
  disc->add_option("URL", f->url, "Discovery URL (https://host/taxii2/)")->required();
  AddCommon(disc, f);
  disc->callback([f, exit_code] {
    taxii::Client c(ClientOpts(*f));
    auto r = c.Get(f->url);
    if (r.ok()) std::cout << r->body << "\n";
    *exit_code = Run(r.status());
  });

  auto* cols = t->add_subcommand("collections", "List the collections of an API root");
  cols->add_option("URL", f->url, "API root URL (https://host/api/)")->required();
  AddCommon(cols, f);
  cols->callback([f, exit_code] {
    taxii::Client c(ClientOpts(*f));
    auto r = c.Get(taxii::JoinUrl(f->url, "collections/"));
    if (r.ok()) std::cout << r->body << "\n";
    *exit_code = Run(r.status());
  });

  auto* pull = t->add_subcommand(
      "pull", "Pull a remote collection into the local store (resumes from the saved cursor)");
  pull->add_option("URL", f->url, "API root URL")->required();
  pull->add_option("COLLECTION", f->collection, "Remote collection id or alias")->required();
  pull->add_option("--into", f->into, "Local collection (default: the remote id)");
  pull->add_option("--page-size", f->page_size, "Objects per request (default 1000)");
  pull->add_flag("--from-start", f->from_start, "Ignore the saved cursor");
  AddCommon(pull, f);
  AddDataOption(pull, g);
  pull->callback([f, g, exit_code] {
    absl::StatusOr<store::Options> so = StoreOptions(*g);
    auto st = so.ok() ? store::Store::Open(*so) : so.status();
    if (!st.ok()) {
      *exit_code = Fail(st.status());
      return;
    }
    taxii::Client c(ClientOpts(*f));
    taxii::Client::PullOptions po;
    po.collection = f->collection;
    po.into = f->into;
    po.page_size = f->page_size;
    po.from_start = f->from_start;
    auto policy = ingest::LoadPatternPolicy(g->data_dir);
    if (!policy.ok()) {
      *exit_code = Fail(policy.status());
      return;
    }
    po.pattern_policy = std::move(*policy);
    auto log = audit::Log::Open(g->data_dir, st->get());
    if (!log.ok()) {
      *exit_code = Fail(log.status());
      return;
    }
    po.audit = log->get();
    std::string root = f->url;
    if (root.empty() || root.back() != '/') root += '/';
    auto r = c.Pull(root, po, st->get());
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    for (const auto& p : r->problems) std::cerr << "rejected: " << p.ToString() << "\n";
    std::cerr << "accord: pulled " << r->objects << " object versions in " << r->pages << " pages ("
              << r->added << " new, " << r->rejected << " rejected); cursor "
              << (r->cursor.empty() ? "(none)" : r->cursor) << "\n";
    *exit_code = r->rejected ? 1 : 0;
  });

  auto* push = t->add_subcommand("push", "Add objects from STIX files to a remote collection");
  push->add_option("URL", f->url, "API root URL")->required();
  push->add_option("COLLECTION", f->collection, "Remote collection id or alias")->required();
  push->add_option("FILES", f->files, "STIX files (bundle, JSON lines, gzip; '-' stdin)")
      ->required();
  push->add_option("--batch", f->batch, "Objects per request (default 100)");
  push->add_option("--parallel", f->parallel,
                   "Requests in flight at once, one connection each (default 4)");
  AddCommon(push, f);
  AddDataOption(push, g);
  push->callback([f, g, exit_code] {
    auto gate = OpenPushGate(*g);
    if (!gate.ok()) {
      *exit_code = Fail(gate.status());
      return;
    }
    std::vector<policy::Object> objects;
    uint64_t rejected = 0;
    for (const auto& path : f->files) {
      stix::ReaderOptions ro;
      ro.source_name = path;
      auto rs = stix::ReadFile(
          path, ro,
          [&](stix::ObjectRecord&& r) {
            policy::Object o;
            o.id = std::move(r.id);
            o.type = std::move(r.type);
            o.spec_version = std::move(r.spec_version);
            o.modified = r.modified;
            o.has_modified = r.has_modified;
            o.revoked = r.revoked;
            o.json = std::move(r.json);
            objects.push_back(std::move(o));
            return absl::OkStatus();
          },
          [&](stix::Problem&& p) { std::cerr << "accord: " << p.ToString() << "\n"; });
      if (!rs.ok()) {
        *exit_code = Fail(rs.status());
        return;
      }
      rejected += rs->rejected;
    }
    taxii::Client c(ClientOpts(*f));
    std::string root = f->url;
    if (root.empty() || root.back() != '/') root += '/';
    // A node's push is recorded in its audit log; a plain client (no node here) has none.
    std::unique_ptr<audit::Log> log;
    if (gate->store) {
      auto opened = audit::Log::Open(g->data_dir, gate->store.get());
      if (!opened.ok()) {
        *exit_code = Fail(opened.status());
        return;
      }
      log = std::move(*opened);
    }
    auto r = c.Push(root, f->collection, objects, f->batch, f->parallel, *gate->gate, log.get(),
                    common::Cat("operator:", OperatorName()));
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    for (const auto& m : r->failures) std::cerr << "accord: refused: " << m << "\n";
    std::cerr << "accord: pushed " << r->objects << " objects in " << r->requests
              << " requests: " << r->succeeded << " accepted, " << r->failed << " refused";
    if (rejected) std::cerr << ", " << rejected << " invalid locally (not sent)";
    std::cerr << "\n";
    if (r->withheld) {
      *exit_code = Fail(absl::PermissionDeniedError(
          common::Cat(r->withheld, " object(s) withheld by the egress gate, not sent (",
                      r->withheld_reason, ")")));
      return;
    }
    *exit_code = (r->failed || rejected) ? 1 : 0;
  });
}

}  // namespace accord::cli
