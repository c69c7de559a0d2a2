#include "accord/web/peers_api.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "accord/common/status.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/federation/peers.h"
#include "accord/federation/sync.h"
#include "accord/http/auth.h"
#include "accord/web/session.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

constexpr uint64_t kMaxReleaseBody = 4096;

std::string Stamp(common::Micros t) { return t == 0 ? "" : common::FormatTimestampMillis(t); }

// Admins and auditors read the peers, as they read the agreements (docs/PRIVACY.md).
bool MayRead(http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return false;
  if (http::MayAudit(ctx.principal.role)) return true;
  res = ctx.Error(403, "Forbidden",
                  common::Cat("the peers and their agreements are read by the admin and auditor "
                              "roles; '",
                              ctx.principal.user, "' is ", http::RoleName(ctx.principal.role)));
  return false;
}

bool MayManage(http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return false;
  if (ctx.principal.role == http::Role::kAdmin) return true;
  res = ctx.Error(403, "Forbidden", "only an admin releases or drops quarantined versions");
  return false;
}

// An entry to the audit log under the person's name; false (and a 500) when it cannot be.
bool Record(audit::Log* log, http::RequestContext& ctx, http::Response& res, std::string action,
            std::string detail) {
  audit::Entry e;
  e.actor = common::Cat("user:", ctx.principal.user);
  e.action = std::move(action);
  e.detail = std::move(detail);
  absl::StatusOr<uint64_t> seq = log->Append(std::move(e));
  if (seq.ok()) return true;
  Failed(ctx, res, "audit", seq.status());
  return false;
}

nlohmann::json CollectionJson(const federation::CollectionStatus& c) {
  return {{"collection", c.collection},
          {"last_attempt", Stamp(c.last_attempt)},
          {"last_success", Stamp(c.last_success)},
          {"failures", c.failures},
          {"last_error", c.last_error},
          {"last_error_at", Stamp(c.last_error_at)},
          {"caught_up", c.caught_up},
          {"lag_objects", c.lag_objects},
          {"received", c.received}};
}

// "ok": every pulled collection's last round succeeded; "failing": one failed last;
// "never": no round yet.
std::string Health(const std::vector<federation::CollectionStatus>& collections) {
  if (collections.empty()) return "never";
  for (const auto& c : collections) {
    if (c.failures > 0) return "failing";
  }
  return "ok";
}

absl::StatusOr<nlohmann::json> PeersJson(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(store));
  ACCORD_ASSIGN_OR_RETURN(std::vector<federation::PeerStatus> statuses,
                          federation::SyncStatus(store));
  std::map<std::string, const federation::PeerStatus*> status_of;
  for (const auto& s : statuses) status_of[s.peer] = &s;
  nlohmann::json out = nlohmann::json::array();
  for (const federation::Peer& p : peers) {
    ACCORD_ASSIGN_OR_RETURN(auto history, federation::AgreementHistory(store, p.name));
    nlohmann::json agreement = nullptr;
    if (!history.empty()) {
      const federation::AgreementVersion& v = history.back();
      agreement = {{"version", v.version},
                   {"set_by", v.set_by},
                   {"set_at", Stamp(v.set_at)},
                   {"toml", v.toml}};
    }
    nlohmann::json collections = nlohmann::json::array();
    std::vector<federation::CollectionStatus> none;
    auto it = status_of.find(p.name);
    const auto& cs = it == status_of.end() ? none : it->second->collections;
    for (const auto& c : cs) collections.push_back(CollectionJson(c));
    out.push_back({{"name", p.name},
                   {"url", p.url},
                   {"identity", p.identity},
                   {"agreement", std::move(agreement)},
                   {"health", Health(cs)},
                   {"collections", std::move(collections)},
                   {"quarantined", it == status_of.end() ? 0 : it->second->quarantined}});
  }
  return out;
}

void ListPeersAnswer(const PeersApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!MayRead(ctx, res)) return;
  if (!ctx.request.query.empty()) {
    res = ctx.Error(400, "Bad request", "this resource takes no parameters");
    return;
  }
  absl::StatusOr<nlohmann::json> peers = PeersJson(*deps.store);
  if (!peers.ok()) {
    Failed(ctx, res, "read", peers.status());
    return;
  }
  nlohmann::json body{{"peers", std::move(*peers)}};
  std::string detail = common::Cat(body["peers"].size(), " peers");
  store::Quarantine* q = deps.store->quarantine();
  if (ctx.principal.role == http::Role::kAdmin && q != nullptr) {
    auto entries = q->ListQuarantine(kMaxListedQuarantine + 1);
    if (!entries.ok()) {
      Failed(ctx, res, "read", entries.status());
      return;
    }
    nlohmann::json list = nlohmann::json::array();
    for (size_t k = 0; k < entries->size() && k < kMaxListedQuarantine; ++k) {
      const store::QuarantineEntry& e = (*entries)[k];
      list.push_back(
          {{"qid", e.qid},
           {"id", e.id},
           {"modified", common::FormatTimestamp(e.modified)},
           {"collection", e.collection_alias.empty() ? e.collection : e.collection_alias},
           {"writer", e.writer},
           {"received", Stamp(e.received)},
           {"kind", e.reason.empty() ? "conflict" : "held"},
           {"reason", e.reason.empty() ? std::string(store::kConflictMessage) : e.reason}});
    }
    detail += common::Cat(", ", list.size(), " quarantine entries");
    body["quarantine_more"] = entries->size() > kMaxListedQuarantine;
    body["quarantine"] = std::move(list);
  }
  if (!Record(deps.audit, ctx, res, "agreement.read", detail)) return;
  JsonAnswer(res, 200, body.dump());
}

// The entry named in the path, or nullopt when it answered (400, 404, 503).
std::optional<store::QuarantineEntry> Entry(const PeersApiDeps& deps, http::RequestContext& ctx,
                                            http::Response& res, int64_t* qid) {
  store::Quarantine* q = deps.store->quarantine();
  if (q == nullptr) {
    res = ctx.Error(503, "Service unavailable", "this store backend keeps no quarantine");
    return std::nullopt;
  }
  const std::string_view digits = ctx.Param("qid");
  if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), qid) || *qid <= 0) {
    res = ctx.Error(400, "Bad request", "the entry's number is a positive integer");
    return std::nullopt;
  }
  absl::StatusOr<store::QuarantineEntry> e = q->GetQuarantined(*qid);
  if (absl::IsNotFound(e.status())) {
    res = ctx.Error(404, "Not found", common::Cat("no quarantine entry #", *qid));
    return std::nullopt;
  }
  if (!e.ok()) {
    Failed(ctx, res, "read", e.status());
    return std::nullopt;
  }
  return std::move(*e);
}

void Drop(const PeersApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!MayManage(ctx, res)) return;
  int64_t qid = 0;
  std::optional<store::QuarantineEntry> e = Entry(deps, ctx, res, &qid);
  if (!e) return;
  if (absl::Status st = deps.store->quarantine()->DropQuarantined(qid); !st.ok()) {
    Failed(ctx, res, "drop", st);
    return;
  }
  if (!Record(deps.audit, ctx, res, "quarantine.drop",
              common::Cat("entry #", qid, ": ", e->id, " from ", e->writer))) {
    return;
  }
  JsonAnswer(res, 200, nlohmann::json{{"qid", qid}, {"dropped", true}}.dump());
}

// Body: {"keep": "stored"|"quarantined"} for a content conflict; nothing (or {}) for a version
// held back by federation's checks, which run again.
void Release(const PeersApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!MayManage(ctx, res)) return;
  nlohmann::json body = ctx.request.body.empty()
                            ? nlohmann::json::object()
                            : nlohmann::json::parse(ctx.request.body, nullptr, false);
  if (!body.is_object() || (body.contains("keep") && !body["keep"].is_string())) {
    res = ctx.Error(400, "Bad request", "want {\"keep\": \"stored|quarantined\"} or {}");
    return;
  }
  const std::string keep = body.value("keep", std::string());
  int64_t qid = 0;
  std::optional<store::QuarantineEntry> e = Entry(deps, ctx, res, &qid);
  if (!e) return;
  absl::Status st;
  std::string detail;
  if (!e->reason.empty()) {
    if (!keep.empty()) {
      res = ctx.Error(400, "Bad request",
                      common::Cat("#", qid, " was held back (", e->reason,
                                  "): it is released without 'keep', by checking it again"));
      return;
    }
    st = federation::ReleaseHeld(*deps.store, deps.data_dir, qid);
    detail = common::Cat("entry #", qid, ": ", e->id, " passed every check");
  } else {
    if (keep != "stored" && keep != "quarantined") {
      res = ctx.Error(400, "Bad request",
                      common::Cat("#", qid,
                                  " is a content conflict: say which copy to keep, "
                                  "{\"keep\": \"stored\"} or {\"keep\": \"quarantined\"}"));
      return;
    }
    st = deps.store->quarantine()->ReleaseQuarantined(
        qid, keep == "stored" ? store::Quarantine::Winner::kStored
                              : store::Quarantine::Winner::kQuarantined);
    detail = common::Cat("entry #", qid, ": ", e->id, ", kept the ", keep, " copy");
  }
  if (absl::IsFailedPrecondition(st)) {
    res = ctx.Error(409, "Conflict", std::string(st.message()));
    return;
  }
  if (!st.ok()) {
    Failed(ctx, res, "release", st);
    return;
  }
  if (!Record(deps.audit, ctx, res, "quarantine.release", detail)) return;
  JsonAnswer(res, 200, nlohmann::json{{"qid", qid}, {"released", true}}.dump());
}

}  // namespace

void MountPeersApi(http::Router& router, const PeersApiDeps& deps) {
  router.Add("GET", "/api/ui/v1/peers", [deps](http::RequestContext& ctx, http::Response& res) {
    ListPeersAnswer(deps, ctx, res);
  });
  http::RouteOptions options;
  options.max_body_bytes = kMaxReleaseBody;
  router.Add(
      "POST", "/api/ui/v1/quarantine/{qid}/release",
      [deps](http::RequestContext& ctx, http::Response& res) { Release(deps, ctx, res); }, options);
  router.Add(
      "POST", "/api/ui/v1/quarantine/{qid}/drop",
      [deps](http::RequestContext& ctx, http::Response& res) { Drop(deps, ctx, res); }, options);
}

}  // namespace accord::web
