// accord peer add | list | remove, accord agreement set | show: the node's peers and the
// sharing agreement with each (issue 12, points 2 and 3; docs/FEDERATION.md).
#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "accord/common/encoding.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/federation/agreement.h"
#include "accord/federation/peers.h"
#include "accord/federation/sync.h"
#include "accord/policy/redaction.h"
#include "accord/store/store.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

struct PeerFlags {
  std::string name, url, identity, public_key, key, cacert, file;
  bool json = false, history = false, once = false;
  int version = 0;
};

int PeerAdd(const Globals& g, const PeerFlags& f) {
  auto store = OpenDataStore(g, true);
  if (!store.ok()) return Fail(store.status());
  federation::Peer p;
  p.name = f.name;
  p.url = f.url;
  p.identity = f.identity;
  std::optional<std::string> key = common::Base64Decode(f.public_key);
  p.public_key = key.value_or("");
  if (!f.cacert.empty()) {
    auto pem = common::ReadFile(f.cacert, 1 << 20);
    if (!pem.ok()) return Fail(pem.status());
    p.cacert = *pem;
  }
  if (absl::Status st = federation::AddPeer(**store, g.data_dir, p, f.key); !st.ok()) {
    return Fail(st);
  }
  std::cout << "peer '" << p.name << "' added; set its agreement with `accord agreement set "
            << p.name << " FILE` (until then nothing is shared with it or taken from it)\n";
  absl::Status st =
      AuditChange(g, "peer.add", common::Cat("url ", p.url, " identity ", p.identity), p.name);
  return st.ok() ? 0 : Fail(st);
}

int PeerList(const Globals& g, const PeerFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto peers = federation::ListPeers(**store);
  if (!peers.ok()) return Fail(peers.status());
  nlohmann::json out = nlohmann::json::array();
  for (const federation::Peer& p : *peers) {
    auto history = federation::AgreementHistory(**store, p.name);
    if (!history.ok()) return Fail(history.status());
    const int agreement = history->empty() ? 0 : history->back().version;
    if (f.json) {
      // The API key is never printed.
      out.push_back({{"name", p.name},
                     {"url", p.url},
                     {"identity", p.identity},
                     {"public_key", common::Base64Encode(p.public_key)},
                     {"cacert", !p.cacert.empty()},
                     {"agreement_version", agreement}});
    } else {
      std::cout << p.name << "  " << p.url << "  " << p.identity << "  agreement "
                << (agreement ? "v" + std::to_string(agreement) : std::string("none")) << "\n";
    }
  }
  if (f.json) std::cout << out.dump() << "\n";
  return 0;
}

int PeerRemove(const Globals& g, const PeerFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  if (absl::Status st = federation::RemovePeer(**store, g.data_dir, f.name); !st.ok()) {
    return Fail(st);
  }
  std::cout << "peer '" << f.name << "' removed (its agreement history is kept)\n";
  absl::Status st = AuditChange(g, "peer.remove", "", f.name);
  return st.ok() ? 0 : Fail(st);
}

int AgreementSet(const Globals& g, const PeerFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto text = common::ReadFile(f.file, 1 << 20);
  if (!text.ok()) return Fail(text.status());
  // A redaction profile the node does not define would close every exit to the peer (the
  // gate fails closed): refuse it here, with the names that exist.
  if (auto parsed = federation::ParseAgreement(*text, f.file, f.name);
      parsed.ok() && !parsed->share.redaction.empty()) {
    auto config = policy::LoadRedactionConfig(g.data_dir);
    if (!config.ok()) return Fail(config.status());
    if (!config->profiles.count(parsed->share.redaction)) {
      return Fail(
          absl::InvalidArgumentError(common::Cat(f.file, ": [share] redaction names profile '",
                                                 parsed->share.redaction, "', which ", g.data_dir,
                                                 "/accord.toml does not define under "
                                                 "[redaction.profiles]")));
    }
  }
  auto v =
      federation::SetAgreement(**store, f.name, *text, f.file, OperatorName(), common::NowMicros());
  if (!v.ok()) return Fail(v.status());
  std::cout << "agreement with '" << f.name << "' is now version " << v->version << "\n";
  absl::Status st = AuditChange(g, "agreement.set",
                                common::Cat("version ", v->version, " from ", f.file), f.name);
  return st.ok() ? 0 : Fail(st);
}

int AgreementShow(const Globals& g, const PeerFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  if (auto p = federation::GetPeer(**store, f.name); !p.ok()) {
    // A removed peer's history can still be read with --history.
    if (!f.history) return Fail(p.status());
  }
  auto history = federation::AgreementHistory(**store, f.name);
  if (!history.ok()) return Fail(history.status());
  if (history->empty()) {
    return Fail(absl::NotFoundError(common::Cat("no agreement with '", f.name, "' was set")));
  }
  if (f.history) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *history) {
      if (f.json) {
        out.push_back({{"version", v.version},
                       {"set_by", v.set_by},
                       {"set_at", common::FormatTimestampMillis(v.set_at)},
                       {"toml", v.toml}});
      } else {
        std::cout << "v" << v.version << "  " << common::FormatTimestampMillis(v.set_at) << "  "
                  << v.set_by << "\n";
      }
    }
    if (f.json) std::cout << out.dump() << "\n";
    return 0;
  }
  const federation::AgreementVersion* shown = &history->back();
  if (f.version > 0) {
    if (f.version > static_cast<int>(history->size())) {
      return Fail(absl::NotFoundError(
          common::Cat("agreement with '", f.name, "' has no version ", f.version)));
    }
    shown = &(*history)[static_cast<size_t>(f.version - 1)];
  }
  std::cout << shown->toml;
  if (!shown->toml.empty() && shown->toml.back() != '\n') std::cout << "\n";
  return 0;
}

nlohmann::json TimeOrNull(common::Micros us) {
  return us == 0 ? nlohmann::json(nullptr) : nlohmann::json(common::FormatTimestampMillis(us));
}

int PeerStatus(const Globals& g, const PeerFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto status = federation::SyncStatus(**store);
  if (!status.ok()) return Fail(status.status());
  const common::Micros now = common::NowMicros();
  nlohmann::json out = nlohmann::json::array();
  for (const federation::PeerStatus& p : *status) {
    nlohmann::json cols = nlohmann::json::array();
    for (const federation::CollectionStatus& c : p.collections) {
      // Lag in seconds: since the last success (0 while caught up at that moment).
      nlohmann::json lag_s = c.last_success == 0 ? nlohmann::json(nullptr)
                                                 : nlohmann::json((now - c.last_success) / 1000000);
      cols.push_back({{"collection", c.collection},
                      {"last_attempt", TimeOrNull(c.last_attempt)},
                      {"last_success", TimeOrNull(c.last_success)},
                      {"caught_up", c.caught_up},
                      {"lag_objects", c.lag_objects},
                      {"lag_seconds", lag_s},
                      {"received", c.received},
                      {"cursor", c.cursor},
                      {"errors", c.failures},
                      {"last_error", c.last_error.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(c.last_error)},
                      {"last_error_at", TimeOrNull(c.last_error_at)}});
    }
    out.push_back({{"peer", p.peer}, {"collections", cols}, {"quarantined", p.quarantined}});
  }
  if (f.json) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "PEER\tCOLLECTION\tLAST SUCCESS\tCAUGHT UP\tERRORS\tQUARANTINED\tLAST ERROR\n";
  for (const auto& p : out) {
    if (p["collections"].empty()) {
      std::cout << p["peer"].get<std::string>() << "\t-\t-\t-\t0\t" << p["quarantined"]
                << "\t(no collections to pull)\n";
    }
    for (const auto& c : p["collections"]) {
      std::cout << p["peer"].get<std::string>() << "\t" << c["collection"].get<std::string>()
                << "\t"
                << (c["last_success"].is_null() ? "never" : c["last_success"].get<std::string>())
                << "\t" << (c["caught_up"].get<bool>() ? "yes" : "no") << "\t" << c["errors"]
                << "\t" << p["quarantined"] << "\t"
                << (c["last_error"].is_null() ? "" : c["last_error"].get<std::string>()) << "\n";
    }
  }
  return 0;
}

int SyncOnceCmd(const Globals& g, const PeerFlags& f) {
  if (!f.once) {
    return Fail(absl::InvalidArgumentError(
        "sync runs continuously inside 'accord serve'; use --once for one round here"));
  }
  auto store = OpenDataStore(g, true);
  if (!store.ok()) return Fail(store.status());
  auto report = federation::SyncOnce(**store, g.data_dir, f.name);
  if (!report.ok()) return Fail(report.status());
  for (const federation::SyncCollectionReport& r : report->collections) {
    std::cout << r.peer << " " << r.collection << " -> " << r.into << ": " << r.pages
              << " page(s), " << r.received << " received, " << r.added << " added, "
              << r.duplicates << " already here, " << r.quarantined << " quarantined, " << r.refused
              << " refused, " << r.skipped << " skipped"
              << (r.note.empty() ? "" : common::Cat(" (", r.note, ")"))
              << (r.error.empty() ? "" : common::Cat("; FAILED: ", r.error)) << "\n";
  }
  if (report->released > 0) {
    std::cout << report->released << " held version(s) passed once their signer was known\n";
  }
  if (!report->ok()) {
    return Fail(absl::UnavailableError("sync failed with at least one peer (see above)"));
  }
  return 0;
}

}  // namespace

void RegisterPeerCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto f = std::make_shared<PeerFlags>();
  auto* peer = app.add_subcommand("peer", "The nodes this node shares with");
  peer->require_subcommand(1);
  auto* add = peer->add_subcommand("add", "Add a peer (then set its agreement)");
  AddDataOption(add, g);
  add->add_option("name", f->name, "Short name: a-z, 0-9, '-', '_'")->required();
  add->add_option("--url", f->url, "The peer's TAXII 2.1 API root URL")->required();
  add->add_option("--identity", f->identity, "The peer node's identity id")->required();
  add->add_option("--public-key", f->public_key,
                  "The peer's Ed25519 public key, base64 (`accord node show` at the peer)")
      ->required();
  add->add_option("--key", f->key, "The API key the peer issued to this node")->required();
  add->add_option("--cacert", f->cacert, "PEM file of the CA that signed the peer's TLS cert");
  add->callback([g, f, exit_code] { *exit_code = PeerAdd(*g, *f); });
  auto* list = peer->add_subcommand("list", "List the peers (never their API keys)");
  AddDataOption(list, g);
  list->add_flag("--json", f->json, "Print as JSON");
  list->callback([g, f, exit_code] { *exit_code = PeerList(*g, *f); });
  auto* remove = peer->add_subcommand("remove", "Remove a peer and the API key for it");
  AddDataOption(remove, g);
  remove->add_option("name", f->name, "The peer")->required();
  remove->callback([g, f, exit_code] { *exit_code = PeerRemove(*g, *f); });
  auto* status = peer->add_subcommand(
      "status",
      "Per peer and collection: the last success, the lag, errors and the last one's text, and "
      "how many versions it sent are in quarantine");
  AddDataOption(status, g);
  status->add_flag("--json", f->json, "Print as JSON");
  status->callback([g, f, exit_code] { *exit_code = PeerStatus(*g, *f); });

  auto* sync = app.add_subcommand(
      "sync",
      "Pull from the peers what their agreements accept (docs/FEDERATION.md). 'accord serve' "
      "syncs continuously; --once runs one round and exits non-zero if any peer failed");
  AddDataOption(sync, g);
  sync->add_flag("--once", f->once, "One round, then exit")->required();
  sync->add_option("--peer", f->name, "Only this peer");
  sync->callback([g, f, exit_code] { *exit_code = SyncOnceCmd(*g, *f); });

  auto* agreement = app.add_subcommand("agreement", "The sharing agreement with each peer");
  agreement->require_subcommand(1);
  auto* set = agreement->add_subcommand(
      "set", "Validate FILE (TOML) and make it the peer's agreement (earlier versions are kept)");
  AddDataOption(set, g);
  set->add_option("peer", f->name, "The peer")->required();
  set->add_option("file", f->file, "The agreement, TOML (docs/FEDERATION.md)")->required();
  set->callback([g, f, exit_code] { *exit_code = AgreementSet(*g, *f); });
  auto* show = agreement->add_subcommand("show", "Print the peer's agreement");
  AddDataOption(show, g);
  show->add_option("peer", f->name, "The peer")->required();
  show->add_option("--version", f->version, "An earlier version (1, 2, ...)");
  show->add_flag("--history", f->history, "List every version, with who set it and when");
  show->add_flag("--json", f->json, "With --history: as JSON, with each version's text");
  show->callback([g, f, exit_code] { *exit_code = AgreementShow(*g, *f); });
}

}  // namespace accord::cli
