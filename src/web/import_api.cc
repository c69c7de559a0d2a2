#include "accord/web/import_api.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/formats/formats.h"
#include "accord/formats/misp.h"
#include "accord/formats/text.h"
#include "accord/formats/warninglist.h"
#include "accord/http/auth.h"
#include "accord/http/message.h"
#include "accord/ingest/ingest.h"
#include "accord/ingest/pattern_policy.h"
#include "accord/ingest/units.h"
#include "accord/web/session.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

struct ImportQuery {
  std::string collection, kind, columns, name = "upload";
  formats::Format format = formats::Format::kStix;  // refused: STIX goes through TAXII
};

// The query, or an answer (400).
std::optional<ImportQuery> ParseImportQuery(http::RequestContext& ctx, http::Response& res) {
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad request", std::string(params.status().message()));
    return std::nullopt;
  }
  ImportQuery q;
  for (const auto& [k, v] : *params) {
    if (k == "collection") {
      q.collection = v;
    } else if (k == "format") {
      absl::StatusOr<formats::Format> f = formats::ParseFormat(v);
      if (f.ok()) q.format = *f;
    } else if (k == "type") {
      q.kind = v;
    } else if (k == "columns") {
      q.columns = v;
    } else if (k == "name") {
      q.name = v.substr(0, 200);
    } else {
      res = ctx.Error(
          400, "Bad request",
          common::Cat("unknown parameter '", k, "' (collection, format, type, columns, name)"));
      return std::nullopt;
    }
  }
  if (q.collection.empty() || q.format == formats::Format::kStix) {
    res = ctx.Error(400, "Bad request",
                    "want collection=C and format=misp, list, text or csv (a STIX bundle is "
                    "POSTed to the collection's TAXII objects endpoint)");
    return std::nullopt;
  }
  return q;
}

// The collection the caller may write, or an answer (401, 403, 404). Checked on the request's
// head, before the upload is read, and again with it.
std::optional<store::CollectionInfo> Writable(const ImportApiDeps& deps, http::RequestContext& ctx,
                                              http::Response& res, const ImportQuery& q) {
  if (!Person(ctx, res)) return std::nullopt;
  auto c = deps.store->GetCollection(q.collection);
  if (!c.ok() || !ctx.principal.CanRead(c->id)) {
    res = ctx.Error(404, "Not found", common::Cat("no collection '", q.collection, "'"));
    return std::nullopt;
  }
  if (!ctx.principal.CanWrite(c->id)) {
    res = ctx.Error(403, "Forbidden", common::Cat("you may not write to '", q.collection, "'"));
    return std::nullopt;
  }
  return *c;
}

void Import(const ImportApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  std::optional<ImportQuery> q = ParseImportQuery(ctx, res);
  if (!q) return;
  std::optional<store::CollectionInfo> c = Writable(deps, ctx, res, *q);
  if (!c) return;
  std::optional<formats::ValueKind> kind;
  if (!q->kind.empty()) {
    kind = formats::ParseValueKind(q->kind);
    if (!kind) {
      res = ctx.Error(400, "Bad request", common::Cat("type: unknown kind '", q->kind, "'"));
      return;
    }
  }
  auto policy = ingest::LoadPatternPolicy(deps.data_dir);
  auto lists = formats::LoadWarninglistDir(deps.data_dir + "/warninglists");
  if (!policy.ok() || !lists.ok()) {
    return Failed(ctx, res, "import", policy.ok() ? lists.status() : policy.status());
  }
  ingest::Options base;
  base.collection = c->id;
  base.origin.entry_point = "ui-import";
  base.origin.principal = ctx.principal.user;
  base.audit = deps.audit;
  base.audit_actor = common::Cat("user:", ctx.principal.user);
  ingest::ApplyPatternPolicy(*policy, &base, c->id, c->alias);
  formats::ConvertOptions co;
  co.now = common::NowMicros();
  co.source_name = q->name;
  if (auto ident = deps.store->GetSetting("node.identity"); ident.ok() && ident->has_value()) {
    co.created_by_ref = **ident;
  }

  // Every refused record, in input order: those the reader could not convert, and those the
  // ingest path refused.
  uint64_t refused = 0;
  std::string listed;
  auto refuse = [&](const stix::Problem& p) {
    if (refused++ >= kMaxListedRejections) return;
    if (!listed.empty()) listed += ',';
    listed += "{\"record\":";
    formats::AppendJsonString(&listed, p.location);
    listed += ",\"id\":";
    formats::AppendJsonString(&listed, p.object_id);
    listed += ",\"reason\":";
    formats::AppendJsonString(&listed, p.message);
    listed += '}';
  };
  auto on_problem = [&](formats::Problem&& p) {
    if (!p.warning) refuse(p);
  };
  ingest::UnitTotals totals;
  std::map<std::string, uint64_t> per_list;
  ingest::UnitImporter units(deps.store, base, q->format != formats::Format::kMisp, &totals);
  units.SetWarninglists(&*lists, false, &per_list);
  units.OnRejected(refuse);
  auto sink = [&units](formats::Unit&& u) { return units.Import(std::move(u)); };
  const std::string& data = ctx.request.body;
  absl::Status st;
  formats::CsvOptions csv;
  if (!q->columns.empty()) csv.columns = q->columns;
  switch (q->format) {
    case formats::Format::kMisp:
      st = formats::ReadMisp(data, co, &units, on_problem).status();
      break;
    case formats::Format::kText: st = formats::ReadText(data, co, sink, on_problem).status(); break;
    case formats::Format::kList:
      st = formats::ReadList(data, kind, co, sink, on_problem).status();
      break;
    case formats::Format::kCsv:
      st = formats::ReadCsv(data, csv, co, sink, on_problem).status();
      break;
    case formats::Format::kStix: break;  // refused by ParseImportQuery
  }
  if (!st.ok() && !absl::IsInvalidArgument(st) && !absl::IsFailedPrecondition(st)) {
    return Failed(ctx, res, "import", st);
  }
  if (!st.ok()) {
    // The input as a whole is unreadable (no MISP event in it, a CSV without a value column):
    // nothing after the units already stored was taken.
    refuse(stix::Problem{q->name, "", std::string(st.message()), false});
  }
  std::string out = "{\"format\":";
  formats::AppendJsonString(&out, formats::FormatName(q->format));
  out += ",\"collection\":";
  formats::AppendJsonString(&out, c->alias.empty() ? c->id : c->alias);
  common::Append(&out, ",\"accepted\":", totals.accepted, ",\"added\":", totals.added,
                 ",\"duplicates\":", totals.duplicates,
                 ",\"already_stored\":", totals.already_stored,
                 ",\"warninglisted\":", totals.warninglisted, ",\"rejected_count\":", refused,
                 ",\"rejected\":[", listed, "]}");
  JsonAnswer(res, 200, std::move(out));
}

}  // namespace

void MountImportApi(http::Router& router, const ImportApiDeps& deps) {
  http::RouteOptions options;
  options.max_body_bytes = kMaxImportBytes;
  // The caller's write permission is decided before the upload is read.
  options.check_head = [deps](http::RequestContext& ctx, http::Response& res) {
    std::optional<ImportQuery> q = ParseImportQuery(ctx, res);
    if (!q || !Writable(deps, ctx, res, *q)) return http::Next::kAnswered;
    return http::Next::kContinue;
  };
  router.Add(
      "POST", "/api/ui/v1/import",
      [deps](http::RequestContext& ctx, http::Response& res) { Import(deps, ctx, res); }, options);
}

}  // namespace accord::web
