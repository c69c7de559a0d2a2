#include "accord/web/indicators_api.h"

#include <simdjson.h>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/formats/formats.h"
#include "accord/http/message.h"
#include "accord/policy/egress_reader.h"
#include "accord/web/session.h"
#include "web/api_util.h"

namespace accord::web {
namespace {

constexpr uint64_t kDefaultLimit = 50, kMaxLimit = 500;
constexpr int64_t kDefaultWithinDays = 7, kMaxWithinDays = 3650;
constexpr common::Micros kDay = 86400LL * 1000000;

enum class State { kAll, kActive, kExpiring, kExpired, kRevoked };

const char* StateName(State s) {
  switch (s) {
    case State::kActive: return "active";
    case State::kExpiring: return "expiring";
    case State::kExpired: return "expired";
    case State::kRevoked: return "revoked";
    case State::kAll: break;
  }
  return "all";
}

bool ParseState(std::string_view v, State* out) {
  for (State s :
       {State::kAll, State::kActive, State::kExpiring, State::kExpired, State::kRevoked}) {
    if (v == StateName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

struct Request {
  std::string collection, text, cursor;  // text: lower case
  State state = State::kAll;
  int64_t within_days = kDefaultWithinDays;
  uint64_t limit = kDefaultLimit;
};

// The parameters, or false when it answered 400.
bool ParseRequest(http::RequestContext& ctx, http::Response& res, Request* r) {
  auto params = http::ParseQuery(ctx.request.query);
  if (!params.ok()) {
    res = ctx.Error(400, "Bad request", std::string(params.status().message()));
    return false;
  }
  for (const auto& [k, v] : *params) {
    bool ok = true;
    if (k == "collection") {
      r->collection = v;
    } else if (k == "state") {
      ok = ParseState(v, &r->state);
    } else if (k == "q") {
      r->text = absl::AsciiStrToLower(absl::string_view(v.data(), v.size()));
    } else if (k == "cursor") {
      r->cursor = v;
    } else if (k == "within") {
      ok = absl::SimpleAtoi(v, &r->within_days) && r->within_days > 0 &&
           r->within_days <= kMaxWithinDays;
    } else if (k == "limit") {
      ok = absl::SimpleAtoi(v, &r->limit) && r->limit > 0 && r->limit <= kMaxLimit;
    } else {
      res = ctx.Error(400, "Bad request", common::Cat("unknown parameter '", k, "'"));
      return false;
    }
    if (!ok) {
      res = ctx.Error(400, "Bad request",
                      common::Cat("bad ", k, " '", v,
                                  "': state is all, active, expiring, expired or revoked; "
                                  "within is 1 to ",
                                  kMaxWithinDays, " days; limit is 1 to ", kMaxLimit));
      return false;
    }
  }
  if (r->collection.empty()) {
    res = ctx.Error(400, "Bad request", "collection (an id or alias) is required");
    return false;
  }
  return true;
}

// What the view shows of one indicator, read from its JSON.
struct Row {
  store::StoredObject object;
  std::string name, description, pattern, pattern_type, valid_from, valid_until;
  std::vector<std::string> markings;
  State state = State::kActive;
};

std::string Str(simdjson::dom::element doc, const char* key) {
  std::string_view v;
  return doc[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

bool ReadRow(const store::StoredObject& o, common::Micros now, common::Micros horizon, Row* r) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(o.json).get(doc) != simdjson::SUCCESS) return false;
  r->name = Str(doc, "name");
  r->description = Str(doc, "description");
  r->pattern = Str(doc, "pattern");
  r->pattern_type = Str(doc, "pattern_type");
  r->valid_from = Str(doc, "valid_from");
  r->valid_until = Str(doc, "valid_until");
  simdjson::dom::array refs;
  if (doc["object_marking_refs"].get_array().get(refs) == simdjson::SUCCESS) {
    for (simdjson::dom::element m : refs) {
      std::string_view id;
      if (m.get_string().get(id) == simdjson::SUCCESS) r->markings.emplace_back(id);
    }
  }
  absl::StatusOr<common::Micros> until = r->valid_until.empty()
                                             ? absl::StatusOr<common::Micros>(0)
                                             : common::ParseRfc3339(r->valid_until);
  if (o.revoked) {
    r->state = State::kRevoked;
  } else if (until.ok() && *until != 0 && *until <= now) {
    r->state = State::kExpired;
  } else if (until.ok() && *until != 0 && *until <= horizon) {
    r->state = State::kExpiring;
  } else {
    r->state = State::kActive;
  }
  return true;
}

bool Wanted(const Request& q, const Row& r) {
  if (q.state != State::kAll && q.state != r.state) return false;
  if (q.text.empty()) return true;
  for (const std::string* f : {&r.name, &r.description, &r.pattern}) {
    if (absl::StrContains(absl::AsciiStrToLower(*f), q.text)) return true;
  }
  return false;
}

void AppendRow(std::string* out, const Row& r) {
  auto member = [out](const char* key, const std::string& value) {
    *out += ",\"";
    *out += key;
    *out += "\":";
    formats::AppendJsonString(out, value);
  };
  *out += "{\"id\":";
  formats::AppendJsonString(out, r.object.id);
  member("modified", common::FormatTimestamp(r.object.modified));
  member("state", StateName(r.state));
  member("name", r.name);
  member("pattern", r.pattern);
  member("pattern_type", r.pattern_type);
  member("valid_from", r.valid_from);
  member("valid_until", r.valid_until);
  *out += ",\"markings\":[";
  for (size_t k = 0; k < r.markings.size(); ++k) {
    if (k) *out += ',';
    formats::AppendJsonString(out, r.markings[k]);
  }
  *out += "]}";
}

// The collection as the caller may read it (its id and the name to show), or false when it
// answered: 404 alike for one that does not exist and one the caller may not read.
bool Readable(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res,
              const std::string& wanted, store::CollectionInfo* out) {
  auto collections = deps.store->ListCollections();
  if (!collections.ok()) {
    Failed(ctx, res, "read", collections.status());
    return false;
  }
  for (const store::CollectionInfo& c : *collections) {
    if (wanted != c.id && wanted != c.alias) continue;
    if (!MayReadCollection(ctx.principal, c)) break;
    *out = c;
    return true;
  }
  res = ctx.Error(404, "Not found", common::Cat("no collection '", wanted, "' that you may read"));
  return false;
}

void List(const ReadApiDeps& deps, http::RequestContext& ctx, http::Response& res) {
  if (!Person(ctx, res)) return;
  Request want;
  if (!ParseRequest(ctx, res, &want)) return;
  if (!ExitOpen(deps.gate, ctx, res, policy::Exit::kUiIndicators)) return;
  store::CollectionInfo collection;
  if (!Readable(deps, ctx, res, want.collection, &collection)) return;

  const common::Micros now = common::NowMicros();
  const common::Micros horizon = now + want.within_days * kDay;
  store::Query q;
  q.collection = collection.id;
  q.types = {"indicator"};
  q.versions = store::VersionSelect::kLast;
  q.include_revoked = true;
  policy::EgressReader reader(deps.store, deps.gate);
  policy::GatedPage all;
  std::vector<Row> rows;
  std::string next = want.cursor;
  bool more = true;
  uint64_t scanned = 0;
  // Each store page asks for no more rows than matches are still wanted, so that a page never
  // ends past the last one answered and the cursor resumes right after it.
  for (uint64_t batch = 0; batch < kMaxBatches && rows.size() < want.limit && more; ++batch) {
    q.limit = want.limit - rows.size();
    q.cursor = next;
    absl::StatusOr<policy::GatedPage> page =
        reader.List(q, AudienceOf(ctx.principal), policy::Exit::kUiIndicators);
    if (absl::IsInvalidArgument(page.status())) {
      res = ctx.Error(400, "Bad request", std::string(page.status().message()));
      return;
    }
    if (!page.ok()) {
      ReadFailed(ctx, res, page.status());
      return;
    }
    MergeTotals(*page, &all);
    scanned += page->objects.size() + page->withheld;
    for (store::StoredObject& o : page->objects) {
      Row r;
      if (!ReadRow(o, now, horizon, &r) || !Wanted(want, r)) continue;
      r.object = std::move(o);
      rows.push_back(std::move(r));
    }
    more = page->more;
    next = page->next;
  }
  // What leaves is what is answered: the rows read but filtered out stay here.
  std::vector<store::StoredObject> answered;
  answered.reserve(rows.size());
  for (const Row& r : rows) answered.push_back(r.object);
  if (!Audited(deps.audit, ctx, res, policy::Exit::kUiIndicators, answered, all)) return;
  std::string out = "{\"collection\":";
  formats::AppendJsonString(&out, collection.alias.empty() ? collection.id : collection.alias);
  out += ",\"indicators\":[";
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k) out += ',';
    AppendRow(&out, rows[k]);
  }
  out += common::Cat("],\"scanned\":", scanned, ",\"more\":", more ? "true" : "false");
  if (more) {
    out += ",\"next\":";
    formats::AppendJsonString(&out, next);
  }
  out += '}';
  JsonAnswer(res, 200, std::move(out));
}

}  // namespace

void MountIndicatorsApi(http::Router& router, const ReadApiDeps& deps) {
  router.Add("GET", "/api/ui/v1/indicators",
             [deps](http::RequestContext& ctx, http::Response& res) { List(deps, ctx, res); });
}

}  // namespace accord::web
