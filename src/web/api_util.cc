#include "web/api_util.h"

#include <simdjson.h>
#include <string>

#include "accord/common/strings.h"
#include "accord/http/auth.h"

namespace accord::web {

bool Person(http::RequestContext& ctx, http::Response& res) {
  const http::Principal& who = ctx.principal;
  if (who.anonymous()) {
    res = ctx.Error(401, "Unauthorized", "sign in first");
    return false;
  }
  if (who.role == http::Role::kPeer) {
    res = ctx.Error(403, "Forbidden", "the UI's API is for people; a peer reads over TAXII");
    return false;
  }
  return true;
}

bool MayReadCollection(const http::Principal& who, const store::CollectionInfo& c) {
  return c.is_public || who.CanRead(c.id);
}

std::string NameOf(const std::string& json) {
  thread_local simdjson::dom::parser parser;
  std::string_view name;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return {};
  if (doc["name"].get_string().get(name) == simdjson::SUCCESS) return std::string(name);
  return {};
}

policy::Audience AudienceOf(const http::Principal& who) {
  return policy::Audience::User(who.user, std::string(http::RoleName(who.role)));
}

bool ExitOpen(policy::Gate* gate, http::RequestContext& ctx, http::Response& res,
              policy::Exit exit) {
  absl::Status open = gate->CheckExit(AudienceOf(ctx.principal), exit);
  if (open.ok()) return true;
  res = ctx.Error(403, "Forbidden", std::string(open.message()));
  return false;
}

void Failed(http::RequestContext& ctx, http::Response& res, std::string_view what,
            const absl::Status& st) {
  http::LogRequestError(ctx.request_id, common::Cat(what, ": ", st.ToString()));
  res = ctx.Error(500, "Internal error",
                  common::Cat("the ", what, " failed; request id ", ctx.request_id));
}

void ReadFailed(http::RequestContext& ctx, http::Response& res, const absl::Status& st) {
  if (absl::IsPermissionDenied(st)) {
    res = ctx.Error(403, "Forbidden", std::string(st.message()));
  } else {
    Failed(ctx, res, "read", st);
  }
}

void MergeTotals(const policy::GatedPage& page, policy::GatedPage* all) {
  all->withheld += page.withheld;
  all->replaced += page.replaced;
  all->denied_refs.insert(all->denied_refs.end(), page.denied_refs.begin(), page.denied_refs.end());
  all->replaced_refs.insert(all->replaced_refs.end(), page.replaced_refs.begin(),
                            page.replaced_refs.end());
}

bool Audited(audit::Log* log, http::RequestContext& ctx, http::Response& res, policy::Exit exit,
             const std::vector<store::StoredObject>& delivered, const policy::GatedPage& all) {
  absl::StatusOr<uint64_t> seq =
      log->Append(policy::EgressEntry(AudienceOf(ctx.principal), exit, "", delivered, all));
  if (seq.ok()) return true;
  Failed(ctx, res, "audit", seq.status());
  return false;
}

}  // namespace accord::web
