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
#include "accord/federation/peers.h"
#include "accord/http/message.h"
#include "accord/http/router.h"
#include "cli/cli.h"
#include "http/text.h"

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

// The audit chain checked against the node's signed checkpoints and the head file.
struct AuditCheck {
  audit::VerifyReport report;
  size_t checkpoints = 0;
  bool head_present = false;
  std::string bad_checkpoint;  // a checkpoint not signed by this node: itself a finding

  bool ok() const { return report.ok && bad_checkpoint.empty(); }
  nlohmann::json Json() const {
    nlohmann::json j{{"ok", ok()},
                     {"entries", report.entries},
                     {"first_seq", report.first_seq},
                     {"last_seq", report.last_seq},
                     {"checkpoints", checkpoints},
                     {"checkpoints_verified", bad_checkpoint.empty() ? report.checkpoints : 0},
                     {"head", head_present}};
    if (!report.ok) {
      j["first_bad_seq"] = report.first_bad;
      j["line"] = report.line;
      j["problem"] = report.problem;
    } else if (!bad_checkpoint.empty()) {
      j["problem"] = bad_checkpoint;
    }
    return j;
  }
};

absl::StatusOr<AuditCheck> CheckAuditChain(store::Store& store, audit::Log& log) {
  ACCORD_ASSIGN_OR_RETURN(std::string key, NodeKeyHex(store));
  ACCORD_ASSIGN_OR_RETURN(auto cps, audit::LoadCheckpoints(store));
  AuditCheck c;
  c.checkpoints = cps.size();
  // Every checkpoint must carry this node's signature: one that does not is itself a
  // finding (a forged or replaced checkpoint), reported before the log is read.
  std::vector<audit::Anchor> anchors;
  for (size_t i = 0; i < cps.size(); ++i) {
    const audit::Checkpoint& cp = cps[i];
    if (key.empty() || !audit::SignatureValid(cp, key)) {
      c.bad_checkpoint =
          common::Cat("checkpoint ", i + 1, " (seq ", cp.seq, ") is not signed by this node's key");
      break;
    }
    anchors.push_back({cp.seq, cp.hash, common::Cat("checkpoint ", i + 1)});
  }
  // A log in the store has no head file: its last row is the head, and the checkpoints are
  // what vouch for its tail (docs/SCALE_OUT.md).
  if (!log.in_store()) {
    ACCORD_ASSIGN_OR_RETURN(auto head, audit::ReadHeadFile(log.head_path(), &c.head_present));
    if (c.head_present) anchors.push_back({head.seq, head.hash, "audit.head"});
  }
  ACCORD_ASSIGN_OR_RETURN(c.report, log.Verify(anchors));
  return c;
}

int AuditVerify(const Globals& g, const AuditFlags& f) {
  auto store = OpenDataStore(g, false);
  if (!store.ok()) return Fail(store.status());
  auto log = audit::Log::Open(g.data_dir, store->get());
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<AuditCheck> c = CheckAuditChain(**store, **log);
  if (!c.ok()) return Fail(c.status());
  const audit::VerifyReport& r = c->report;
  if (f.json) {
    std::cout << c->Json().dump() << "\n";
  } else if (c->ok()) {
    std::cout << "audit log: " << r.entries << " entries";
    if (r.entries) std::cout << " (seq " << r.first_seq << "-" << r.last_seq << ")";
    std::cout << ", chain intact; " << c->checkpoints << " signed checkpoint(s)";
    if ((*log)->in_store()) {
      std::cout << " agree with it (kept in " << (*log)->where() << ")\n";
    } else {
      std::cout << " and " << (c->head_present ? "the head" : "no head file") << " agree with it\n";
    }
  }
  if (!r.ok) {
    std::cerr << "accord: " << (*log)->where() << ":" << r.line << ": seq " << r.first_bad << ": "
              << r.problem << "\n";
    return 1;
  }
  if (!c->bad_checkpoint.empty()) {
    std::cerr << "accord: " << c->bad_checkpoint << "\n";
    return 1;
  }
  return 0;
}

nlohmann::json EntryJson(const audit::Entry& e) {
  auto refs = [](const audit::VersionList& v) {
    auto a = nlohmann::json::array();
    for (const auto& r : v.Refs()) a.push_back({r.id, r.modified});
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

// Which entries a query asks for: by peer (sent to it or from it), object (named in any
// list), actor ("alice" or "user:alice"), action, and time (at or after `since_us`).
struct AuditFilter {
  std::string peer, object, actor, action;
  common::Micros since_us = 0;

  bool Matches(const audit::Entry& e) const {
    auto names = [&](const audit::VersionList& v) {
      // The id as the list writes it, before decoding the list.
      if (v.json().find(object) == std::string::npos) return false;
      for (const auto& r : v.Refs()) {
        if (r.id == object) return true;
      }
      return false;
    };
    if (!peer.empty() && e.peer != peer && e.actor != "peer:" + peer) return false;
    if (!actor.empty() && e.actor != actor && e.actor.substr(e.actor.find(':') + 1) != actor) {
      return false;
    }
    if (!action.empty() && e.action != action) return false;
    if (!object.empty() && !names(e.objects) && !names(e.denied) && !names(e.redacted)) {
      return false;
    }
    if (since_us) {
      auto t = common::ParseTimestamp(e.time);
      if (!t.ok() || t->micros < since_us) return false;
    }
    return true;
  }
};

absl::StatusOr<common::Micros> ParseSince(std::string_view what, const std::string& since) {
  if (since.empty()) return 0;
  auto t = common::ParseTimestamp(since);
  if (!t.ok()) {
    return absl::InvalidArgumentError(common::Cat(what, ": ", t.status().message(),
                                                  " (want RFC 3339, e.g. 2026-01-01T00:00:00Z)"));
  }
  return t->micros;
}

int AuditQuery(const Globals& g, const AuditFlags& f) {
  absl::StatusOr<NodeAuditLog> node_log = OpenNodeAuditLog(g);
  if (!node_log.ok()) return Fail(node_log.status());
  std::unique_ptr<audit::Log>* log = &node_log->log;
  AuditFilter filter{f.peer, f.object, f.actor, f.action, 0};
  auto since = ParseSince("--since", f.since);
  if (!since.ok()) return Fail(since.status());
  filter.since_us = *since;
  uint64_t shown = 0;
  absl::Status st = (*log)->ForEach([&](const audit::Entry& e) {
    if (!filter.Matches(e)) return true;
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
        for (const auto& r : v->Refs()) {
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
  auto sk = federation::LoadNodeSecretKey(**store, g.data_dir);
  if (!sk.ok()) {
    return Fail(absl::FailedPreconditionError(
        common::Cat("a checkpoint is signed with the node's key: ", sk.status().message(),
                    " (run `accord node init --name NAME` first)")));
  }
  auto log = audit::Log::Open(g.data_dir, store->get());
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

// --- the auditor's HTTP API (mounted by `accord serve`) -------------------------------------

constexpr size_t kAuditPageDefault = 1000;
constexpr size_t kAuditPageMax = 10000;

// 401 for anonymous callers, 403 for roles other than admin and auditor; nullopt when allowed.
std::optional<http::Response> RefuseUnlessAuditor(const http::RequestContext& ctx) {
  const http::Principal& who = ctx.principal;
  if (who.anonymous()) {
    http::Response r = ctx.Error(401, "Unauthorized", "authentication required");
    r.SetHeader("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!http::MayAudit(who.role)) {
    return ctx.Error(403, "Forbidden",
                     common::Cat("the audit log and the agreements are read by the admin and "
                                 "auditor roles; '",
                                 who.user, "' is ", http::RoleName(who.role)));
  }
  return std::nullopt;
}

void JsonAnswer(http::Response& res, const nlohmann::json& body) {
  res.status = 200;
  res.SetHeader("Content-Type", "application/json");
  res.SetHeader("Cache-Control", "no-store");
  res.body = body.dump();
}

// Reading the audit log or the agreements over HTTP is itself recorded.
absl::Status RecordRead(audit::Log* log, const http::Principal& who, std::string action,
                        std::string detail) {
  audit::Entry e;
  e.actor = common::Cat("user:", who.user);
  e.action = std::move(action);
  e.detail = std::move(detail);
  return log->Append(std::move(e)).status();
}

// GET /accord/audit/?peer=&object=&actor=&action=&since=&after=SEQ&limit=N: the entries that
// match, oldest first, at most `limit` (default 1000, at most 10000) after seq `after`.
void ServeAuditQuery(audit::Log* log, http::RequestContext& ctx, http::Response& res) {
  if (auto refused = RefuseUnlessAuditor(ctx)) {
    res = std::move(*refused);
    return;
  }
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad Request", std::string(params.status().message()));
    return;
  }
  AuditFilter filter;
  uint64_t after = 0;
  size_t limit = kAuditPageDefault;
  for (const auto& [name, value] : *params) {
    auto number = [&v = value](uint64_t* out) { return http::text::ParseInt(v, out); };
    if (name == "peer") {
      filter.peer = value;
    } else if (name == "object") {
      filter.object = value;
    } else if (name == "actor") {
      filter.actor = value;
    } else if (name == "action") {
      filter.action = value;
    } else if (name == "since") {
      auto since = ParseSince("since", value);
      if (!since.ok()) {
        res = ctx.Error(400, "Bad Request", std::string(since.status().message()));
        return;
      }
      filter.since_us = *since;
    } else if (name == "after") {
      if (!number(&after)) {
        res = ctx.Error(400, "Bad Request", "after: want a sequence number");
        return;
      }
    } else if (name == "limit") {
      uint64_t n = 0;
      if (!number(&n) || n == 0) {
        res = ctx.Error(400, "Bad Request", "limit: want a positive number");
        return;
      }
      limit = static_cast<size_t>(std::min<uint64_t>(n, kAuditPageMax));
    } else {
      res = ctx.Error(400, "Bad Request",
                      common::Cat("unknown parameter '", name,
                                  "' (peer, object, actor, action, since, after, limit)"));
      return;
    }
  }
  nlohmann::json entries = nlohmann::json::array();
  bool more = false;
  uint64_t last = 0;
  absl::Status st = log->ForEach([&](const audit::Entry& e) {
    if (e.seq <= after || !filter.Matches(e)) return true;
    if (entries.size() == limit) {
      more = true;
      return false;
    }
    nlohmann::json j = EntryJson(e);
    j["prev"] = e.prev;
    j["hash"] = e.hash;
    entries.push_back(std::move(j));
    last = e.seq;
    return true;
  });
  if (st.ok()) {
    st = RecordRead(log, ctx.principal, "audit.read",
                    common::Cat(entries.size(), " entries (", ctx.request.query, ")"));
  }
  if (!st.ok()) {
    http::LogRequestError(ctx.request_id, common::Cat("audit query: ", st.message()));
    res =
        ctx.Error(500, "Internal Server Error",
                  common::Cat("the audit log could not be read (request id ", ctx.request_id, ")"));
    return;
  }
  nlohmann::json body{{"entries", std::move(entries)}, {"more", more}};
  if (more) body["next"] = last;
  JsonAnswer(res, body);
}

// GET /accord/agreements/: every peer with the full history of its agreement.
void ServeAgreements(store::Store* store, audit::Log* log, http::RequestContext& ctx,
                     http::Response& res) {
  if (auto refused = RefuseUnlessAuditor(ctx)) {
    res = std::move(*refused);
    return;
  }
  nlohmann::json out = nlohmann::json::array();
  absl::Status st = [&]() -> absl::Status {
    ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(*store));
    for (const federation::Peer& p : peers) {
      ACCORD_ASSIGN_OR_RETURN(auto history, federation::AgreementHistory(*store, p.name));
      nlohmann::json versions = nlohmann::json::array();
      for (const auto& v : history) {
        versions.push_back({{"version", v.version},
                            {"set_by", v.set_by},
                            {"set_at", common::FormatTimestampMillis(v.set_at)},
                            {"toml", v.toml}});
      }
      out.push_back({{"peer", p.name},
                     {"url", p.url},
                     {"identity", p.identity},
                     {"versions", std::move(versions)}});
    }
    return RecordRead(log, ctx.principal, "agreement.read", common::Cat(peers.size(), " peers"));
  }();
  if (!st.ok()) {
    http::LogRequestError(ctx.request_id, common::Cat("agreements: ", st.message()));
    res = ctx.Error(
        500, "Internal Server Error",
        common::Cat("the agreements could not be read (request id ", ctx.request_id, ")"));
    return;
  }
  JsonAnswer(res, nlohmann::json{{"agreements", std::move(out)}});
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

void MountAuditApi(http::Router& router, store::Store* store, audit::Log* log) {
  router.Add("GET", "/accord/audit/", [log](http::RequestContext& ctx, http::Response& res) {
    ServeAuditQuery(log, ctx, res);
  });
  // The chain's verification, as `accord audit verify --json` (the UI's audit view shows it).
  router.Add(
      "GET", "/accord/audit/verify", [store, log](http::RequestContext& ctx, http::Response& res) {
        if (auto refused = RefuseUnlessAuditor(ctx)) {
          res = std::move(*refused);
          return;
        }
        absl::StatusOr<AuditCheck> c = CheckAuditChain(*store, *log);
        absl::Status st = c.ok() ? RecordRead(log, ctx.principal, "audit.verify",
                                              c->ok() ? "chain intact" : "chain broken")
                                 : c.status();
        if (!st.ok()) {
          http::LogRequestError(ctx.request_id, common::Cat("audit verify: ", st.message()));
          res = ctx.Error(
              500, "Internal Server Error",
              common::Cat("the audit log could not be verified (request id ", ctx.request_id, ")"));
          return;
        }
        JsonAnswer(res, c->Json());
      });
  router.Add("GET", "/accord/agreements/",
             [store, log](http::RequestContext& ctx, http::Response& res) {
               ServeAgreements(store, log, ctx, res);
             });
}

}  // namespace accord::cli
