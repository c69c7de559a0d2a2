// `accord audit verify|query|checkpoint|checkpoints` (issue 13, point 7): the node's
// tamper-evident audit log, `<data>/audit.log` (include/accord/audit/log.h, docs/PRIVACY.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "accord/audit/checkpoint.h"
#include "accord/audit/log.h"
#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/federation/node.h"
#include "cli/cli.h"

namespace accord::cli {
namespace {

struct AuditFlags {
  bool json = false;
  std::string peer, object, actor, action, since;
};

// The node's public key (hex), or "" before `accord node init`.
absl::StatusOr<std::string> NodeKeyHex(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(auto node, federation::LoadNode(store));
  return node ? common::HexEncode(node->public_key) : std::string();
}

int AuditVerify(const Globals& g, const AuditFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto log = audit::Log::Open(g.data_dir);
  if (!log.ok()) return Fail(log.status());
  auto key = NodeKeyHex(**store);
  if (!key.ok()) return Fail(key.status());
  auto cps = audit::LoadCheckpoints(**store);
  if (!cps.ok()) return Fail(cps.status());
  // Every checkpoint must carry this node's signature: one that does not is itself a
  // finding (a forged or replaced checkpoint), reported before the log is read.
  std::vector<audit::Anchor> anchors;
  std::string bad_checkpoint;
  for (size_t i = 0; i < cps->size(); ++i) {
    const audit::Checkpoint& c = (*cps)[i];
    if (key->empty() || !audit::SignatureValid(c, *key)) {
      bad_checkpoint =
          common::Cat("checkpoint ", i + 1, " (seq ", c.seq, ") is not signed by this node's key");
      break;
    }
    anchors.push_back({c.seq, c.hash, common::Cat("checkpoint ", i + 1)});
  }
  bool head_present = false;
  auto head = audit::ReadHeadFile((*log)->head_path(), &head_present);
  if (!head.ok()) return Fail(head.status());
  if (head_present) anchors.push_back({head->seq, head->hash, "audit.head"});
  auto r = audit::Verify((*log)->path(), anchors);
  if (!r.ok()) return Fail(r.status());
  const bool ok = r->ok && bad_checkpoint.empty();
  if (f.json) {
    nlohmann::json j{{"ok", ok},
                     {"entries", r->entries},
                     {"first_seq", r->first_seq},
                     {"last_seq", r->last_seq},
                     {"checkpoints", cps->size()},
                     {"checkpoints_verified", bad_checkpoint.empty() ? r->checkpoints : 0}};
    if (!r->ok) {
      j["first_bad_seq"] = r->first_bad;
      j["line"] = r->line;
      j["problem"] = r->problem;
    } else if (!bad_checkpoint.empty()) {
      j["problem"] = bad_checkpoint;
    }
    std::cout << j.dump() << "\n";
  } else if (ok) {
    std::cout << "audit log: " << r->entries << " entries";
    if (r->entries) std::cout << " (seq " << r->first_seq << "-" << r->last_seq << ")";
    std::cout << ", chain intact; " << cps->size() << " signed checkpoint(s) and "
              << (head_present ? "the head" : "no head file") << " agree with it\n";
  }
  if (!r->ok) {
    std::cerr << "accord: " << (*log)->path() << ":" << r->line << ": seq " << r->first_bad << ": "
              << r->problem << "\n";
    return 1;
  }
  if (!bad_checkpoint.empty()) {
    std::cerr << "accord: " << bad_checkpoint << "\n";
    return 1;
  }
  return 0;
}

nlohmann::json EntryJson(const audit::Entry& e) {
  auto refs = [](const std::vector<audit::VersionRef>& v) {
    auto a = nlohmann::json::array();
    for (const auto& r : v) a.push_back({r.id, r.modified});
    return a;
  };
  nlohmann::json j{{"seq", e.seq},
                   {"time", e.time},
                   {"actor", e.actor},
                   {"action", e.action},
                   {"objects", refs(e.objects)}};
  if (!e.exit.empty()) j["exit"] = e.exit;
  if (!e.denied.empty()) j["denied"] = refs(e.denied);
  if (!e.redacted.empty()) j["redacted"] = refs(e.redacted);
  if (!e.peer.empty()) j["peer"] = e.peer;
  if (!e.profile.empty()) j["profile"] = e.profile;
  if (!e.collection.empty()) j["collection"] = e.collection;
  if (!e.detail.empty()) j["detail"] = e.detail;
  return j;
}

int AuditQuery(const Globals& g, const AuditFlags& f) {
  auto log = audit::Log::Open(g.data_dir);
  if (!log.ok()) return Fail(log.status());
  common::Micros since = 0;
  if (!f.since.empty()) {
    auto t = common::ParseTimestamp(f.since);
    if (!t.ok()) {
      return Fail(absl::InvalidArgumentError(common::Cat(
          "--since: ", t.status().message(), " (want RFC 3339, e.g. ", "2026-01-01T00:00:00Z)")));
    }
    since = t->micros;
  }
  auto names = [&](const std::vector<audit::VersionRef>& v) {
    for (const auto& r : v) {
      if (r.id == f.object) return true;
    }
    return false;
  };
  uint64_t shown = 0;
  absl::Status st = audit::ForEach((*log)->path(), [&](const audit::Entry& e) {
    if (!f.peer.empty() && e.peer != f.peer && e.actor != "peer:" + f.peer) return true;
    if (!f.actor.empty() && e.actor != f.actor && e.actor.substr(e.actor.find(':') + 1) != f.actor)
      return true;
    if (!f.action.empty() && e.action != f.action) return true;
    if (!f.object.empty() && !names(e.objects) && !names(e.denied) && !names(e.redacted))
      return true;
    if (since) {
      auto t = common::ParseTimestamp(e.time);
      if (!t.ok() || t->micros < since) return true;
    }
    ++shown;
    if (f.json) {
      std::cout << EntryJson(e).dump() << "\n";
      return true;
    }
    std::cout << e.seq << "  " << e.time << "  " << e.actor << "  " << e.action;
    if (!e.exit.empty()) std::cout << " (" << e.exit << ")";
    if (!e.peer.empty()) std::cout << "  peer " << e.peer;
    if (!e.profile.empty()) std::cout << "  profile " << e.profile;
    if (!e.collection.empty()) std::cout << "  collection " << e.collection;
    std::cout << "  " << e.objects.size() << " version(s)";
    if (!e.redacted.empty()) std::cout << ", " << e.redacted.size() << " redacted";
    if (!e.denied.empty()) std::cout << ", " << e.denied.size() << " denied";
    if (!e.detail.empty()) std::cout << "  " << e.detail;
    std::cout << "\n";
    if (!f.object.empty()) {
      for (auto [what, v] : {std::pair{"", &e.objects}, std::pair{" (redacted)", &e.redacted},
                             std::pair{" (denied)", &e.denied}}) {
        for (const auto& r : *v) {
          if (r.id == f.object) std::cout << "    " << r.id << " " << r.modified << what << "\n";
        }
      }
    }
    return true;
  });
  if (!st.ok()) return Fail(st);
  if (!f.json && shown == 0) std::cerr << "accord: no audit entry matches\n";
  return 0;
}

int AuditCheckpoint(const Globals& g, const AuditFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto sk = federation::LoadSecretKey(g.data_dir);
  if (!sk.ok()) {
    return Fail(absl::FailedPreconditionError(
        common::Cat("a checkpoint is signed with the node's key: ", sk.status().message(),
                    " (run `accord node init --name NAME` first)")));
  }
  auto log = audit::Log::Open(g.data_dir);
  if (!log.ok()) return Fail(log.status());
  auto cp = audit::MakeCheckpoint(**log, **store, *sk);
  if (!cp.ok()) return Fail(cp.status());
  if (f.json) {
    std::cout << audit::ToJson(*cp) << "\n";
  } else {
    std::cout << "checkpoint: seq " << cp->seq << ", hash " << cp->hash << ", signed " << cp->time
              << "\n";
  }
  return 0;
}

int AuditCheckpoints(const Globals& g, const AuditFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto cps = audit::LoadCheckpoints(**store);
  if (!cps.ok()) return Fail(cps.status());
  if (f.json) {
    std::cout << "[";
    for (size_t i = 0; i < cps->size(); ++i) {
      std::cout << (i ? "," : "") << audit::ToJson((*cps)[i]);
    }
    std::cout << "]\n";
    return 0;
  }
  for (const auto& c : *cps) {
    std::cout << "seq " << c.seq << "  " << c.time << "  " << c.hash << "\n";
  }
  return 0;
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* a = app.add_subcommand("audit", "The node's tamper-evident audit log (docs/PRIVACY.md)");
  a->require_subcommand(1);
  auto f = std::make_shared<AuditFlags>();
  auto* verify =
      a->add_subcommand("verify",
                        "Check every entry, the chain, the head and the signed checkpoints; exit 1 "
                        "naming the first bad seq");
  auto* query = a->add_subcommand(
      "query", "Entries by peer, object, actor, action or time: what was sent to whom, when");
  auto* cp = a->add_subcommand("checkpoint", "Sign the log's head with the node's key");
  auto* cps = a->add_subcommand("checkpoints", "List the signed checkpoints (for witnesses)");
  for (auto* c : {verify, query, cp, cps}) {
    AddDataOption(c, g);
    c->add_flag("--json", f->json, "Print as JSON");
  }
  query->add_option("--peer", f->peer, "Entries about this peer (sent to it, or from it)");
  query->add_option("--object", f->object, "Entries that name this object id");
  query->add_option("--actor", f->actor, "Entries by this actor (\"alice\" or \"user:alice\")");
  query->add_option("--action", f->action, "Entries of this action (import, egress, ...)");
  query->add_option("--since", f->since, "Entries at or after this time (RFC 3339)");
  verify->callback([g, f, exit_code] { *exit_code = AuditVerify(*g, *f); });
  query->callback([g, f, exit_code] { *exit_code = AuditQuery(*g, *f); });
  cp->callback([g, f, exit_code] { *exit_code = AuditCheckpoint(*g, *f); });
  cps->callback([g, f, exit_code] { *exit_code = AuditCheckpoints(*g, *f); });
}

}  // namespace accord::cli
