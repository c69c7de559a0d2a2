#include "accord/web/requests_api.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/http/auth.h"
#include "accord/policy/egress_reader.h"
#include "accord/requests/json.h"
#include "accord/requests/request.h"
#include "accord/web/session.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

constexpr uint64_t kMaxStepBody = 64 * 1024;

bool HasChannel(const RequestsApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (deps.channel != nullptr) return true;
  res = ctx.Error(503, "Service unavailable",
                  "this node has no request channel yet ('accord node init' gives it one)");
  return false;
}

// The requests held here as the caller may read them (the gate at kUiRequests), audited.
// False when it answered (403, 500).
bool ReadViews(const RequestsApiDeps& deps, http::RequestContext& ctx, http::Response& res,
               std::vector<requests::View>* views) {
  if (!ExitOpen(deps.gate, ctx, res, policy::Exit::kUiRequests)) return false;
  store::Query q;
  q.collection = std::string(policy::kRequestsCollection);
  q.types = {std::string(requests::kRequestType), std::string(requests::kStepType)};
  q.versions = store::VersionSelect::kAll;
  policy::EgressReader reader(deps.store, deps.gate);
  absl::StatusOr<policy::GatedPage> page =
      reader.List(q, AudienceOf(ctx.principal), policy::Exit::kUiRequests);
  if (!page.ok() && absl::IsNotFound(page.status())) page = policy::GatedPage();  // none yet
  if (!page.ok()) {
    ReadFailed(ctx, res, page.status());
    return false;
  }
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiRequests, page->objects, *page)) {
    return false;
  }
  absl::StatusOr<std::vector<requests::View>> v = deps.channel->Views(page->objects);
  if (!v.ok()) {
    Failed(ctx, res, "read", v.status());
    return false;
  }
  *views = std::move(*v);
  return true;
}

// Whether the caller's role takes steps (people who act on intelligence: admins, analysts).
bool MayAct(const http::Principal& who) {
  return who.role == http::Role::kAdmin || who.role == http::Role::kAnalyst;
}

nlohmann::json ViewForCaller(const requests::View& v, const http::Principal& who) {
  nlohmann::json j = requests::ViewJson(v);
  nlohmann::json actions = nlohmann::json::array();
  if (MayAct(who)) {
    for (requests::State s : requests::NextSteps(v)) actions.push_back(requests::Name(s));
  }
  j["actions"] = std::move(actions);
  return j;
}

void List(const RequestsApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res) || !HasChannel(deps, ctx, res)) return;
  if (!ctx.request.query.empty()) {
    res = ctx.Error(400, "Bad request", "this resource takes no parameters");
    return;
  }
  std::vector<requests::View> views;
  if (!ReadViews(deps, ctx, res, &views)) return;
  nlohmann::json list = nlohmann::json::array();
  for (const requests::View& v : views) list.push_back(ViewForCaller(v, ctx.principal));
  JsonAnswer(res, 200, nlohmann::json{{"requests", std::move(list)}}.dump());
}

void TakeStep(const RequestsApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res) || !HasChannel(deps, ctx, res)) return;
  const http::Principal& who = ctx.principal;
  if (!MayAct(who)) {
    res = ctx.Error(403, "Forbidden",
                    common::Cat("a ", http::RoleName(who.role),
                                " does not take steps on requests (admins and analysts do)"));
    return;
  }
  nlohmann::json body = nlohmann::json::parse(ctx.request.body, nullptr, false);
  if (!body.is_object() || !body.contains("step") || !body["step"].is_string() ||
      (body.contains("text") && !body["text"].is_string())) {
    res = ctx.Error(400, "Bad request",
                    "want a JSON object {\"step\": \"acknowledged|answered|declined|closed\", "
                    "\"text\": \"...\"}");
    return;
  }
  absl::StatusOr<requests::State> state = requests::ParseState(body["step"].get<std::string>());
  if (!state.ok() || *state == requests::State::kSent || *state == requests::State::kReceived) {
    res = ctx.Error(400, "Bad request", "step: want acknowledged, answered, declined or closed");
    return;
  }
  const std::string id(ctx.Param("id"));
  // The caller must be able to read the request before acting on it: a request the gate
  // withholds from them is answered as one that does not exist.
  std::vector<requests::View> views;
  if (!ReadViews(deps, ctx, res, &views)) return;
  auto readable = std::find_if(views.begin(), views.end(), [&id](const requests::View& v) {
    return v.history.request.id == id;
  });
  if (readable == views.end()) {
    res = ctx.Error(404, "Not found", common::Cat("no request '", id, "' that you may read"));
    return;
  }
  absl::StatusOr<requests::Step> step = deps.channel->Take(
      id, *state, body.value("text", std::string()), common::Cat("user:", who.user));
  if (!step.ok()) {
    const absl::Status& st = step.status();
    if (absl::IsFailedPrecondition(st) || absl::IsPermissionDenied(st)) {
      res = ctx.Error(409, "Conflict", std::string(st.message()));
    } else if (absl::IsNotFound(st)) {
      res = ctx.Error(404, "Not found", std::string(st.message()));
    } else if (absl::IsInvalidArgument(st)) {
      res = ctx.Error(400, "Bad request", std::string(st.message()));
    } else {
      Failed(ctx, res, "step", st);
    }
    return;
  }
  if (!ReadViews(deps, ctx, res, &views)) return;
  for (const requests::View& v : views) {
    if (v.history.request.id == id) {
      JsonAnswer(res, 201, ViewForCaller(v, who).dump());
      return;
    }
  }
  JsonAnswer(res, 201, "{}");
}

}  // namespace

void MountRequestsApi(http::Router& router, RequestsApiDeps deps) {
  router.Add("GET", "/api/ui/v1/requests",
             [deps](http::RequestContext& ctx, http::Response& res) { List(deps, ctx, res); });
  http::RouteOptions options;
  options.max_body_bytes = kMaxStepBody;
  router.Add(
      "POST", "/api/ui/v1/requests/{id}/steps",
      [deps](http::RequestContext& ctx, http::Response& res) { TakeStep(deps, ctx, res); },
      options);
}

}  // namespace accord::web
