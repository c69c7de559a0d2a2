#include "accord/match/sightings.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "stix/sco_id.h"

namespace accord::match {

namespace {

// Sorts one indicator version into `out`: compiled (indicators), inactive, not STIX, withheld.
// `name` gets the indicator's `name` ("" when it has none or is revoked), compiled or not.
void Examine(const store::StoredObject& o, common::Micros now, const IndicatorFilter& filter,
             ActiveIndicators* out, std::string* name) {
  name->clear();
  if (o.revoked) {
    ++out->inactive;
    return;
  }
  nlohmann::json j = nlohmann::json::parse(o.json, nullptr, false);
  // Unparseable JSON is skipped silently: the store only holds what the STIX reader accepted.
  if (j.is_discarded() || !j.is_object()) return;
  // A `name` that is not a string is left out (the STIX reader already refuses one).
  if (auto n = j.find("name"); n != j.end() && n->is_string()) *name = n->get<std::string>();
  // STIX21-objects.md §10.7: pattern_type "stix" is the only language we compile; an indicator
  // without pattern_type cannot pass validation, so the default only guards odd stored data.
  if (j.value("pattern_type", std::string("stix")) != "stix") {
    ++out->not_stix;
    return;
  }
  auto time_of = [&](const char* key, common::Micros* t) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    auto p = common::ParseTimestamp(it->get<std::string>());
    if (!p.ok()) return false;
    *t = p->micros;
    return true;
  };
  common::Micros from = 0, until = 0;
  bool has_from = time_of("valid_from", &from);
  bool has_until = time_of("valid_until", &until);
  // Active means valid_from <= now < valid_until (STIX21-objects.md §10.7: valid_until is the
  // first instant the indicator is no longer valid). A malformed time counts as absent.
  if ((has_from && from > now) || (has_until && now >= until)) {
    if (has_from && from > now) out->next_change = std::min(out->next_change, from);
    ++out->inactive;
    return;
  }
  if (has_until) out->next_change = std::min(out->next_change, until);
  auto pat = j.find("pattern");
  if (pat == j.end() || !pat->is_string()) return;
  // The filter runs last, so withheld counts only indicators that would otherwise be compiled.
  if (filter && !filter(o)) {
    ++out->withheld;
    return;
  }
  IndicatorSpec& spec =
      out->indicators.emplace_back(o.id, pat->get<std::string>(), std::to_string(o.modified));
  spec.name = *name;
}

}  // namespace

absl::StatusOr<ActiveIndicators> LoadActiveIndicators(store::Store& store, common::Micros now,
                                                      const IndicatorFilter& filter,
                                                      const std::vector<std::string>& collections) {
  // Issue 10: versions belong to their collection. The latest version of each indicator is
  // taken per collection (Query::collection with the default VersionSelect::kLast, as STIX
  // versioning makes the newest `modified` current, STIX21-objects.md §6), so a newer version
  // written into one collection (a revocation, say) changes nothing another one holds; an
  // indicator is active when it is active in any collection read.
  std::vector<store::CollectionInfo> from;
  if (collections.empty()) {
    ACCORD_ASSIGN_OR_RETURN(from, store.ListCollections());
  } else {
    for (const auto& c : collections) {
      absl::StatusOr<store::CollectionInfo> info = store.GetCollection(c);
      if (!info.ok()) {
        return absl::Status(info.status().code(),
                            common::Cat("[match] collections: ", info.status().message()));
      }
      from.push_back(std::move(*info));
    }
  }
  ActiveIndicators out;
  // The versions already examined, when more than one collection is read: the same version
  // in two collections is compiled (or counted) once. Not needed for one collection (its
  // kLast listing has one version per id), which keeps the common case as cheap as before.
  absl::flat_hash_set<std::pair<std::string, common::Micros>> seen;
  const bool dedupe = from.size() > 1;
  // Where each indicator comes from (IndicatorSpec::origin, for the match line): among the
  // collections read, in order, each one's latest version counts; the first collection whose
  // version is the newest is named first, then the others holding that same version. `name`
  // is the newest version's. With one collection that is the collection itself.
  struct Held {
    common::Micros modified = 0;
    std::vector<uint32_t> in;  // indexes into `from`
    std::string name;
  };
  absl::flat_hash_map<std::string, Held> held;
  std::string name;
  for (uint32_t ci = 0; ci < from.size(); ++ci) {
    // Pages of 10,000, following the store's cursor. Memory: only the kept (id, pattern) pairs
    // (and, over several collections, the examined (id, modified) and each id's origin)
    // outlive a page. Revoked indicators are skipped without parsing their JSON.
    store::Query q;
    q.collection = from[ci].id;
    q.types = {"indicator"};
    q.limit = 10000;
    for (;;) {
      ACCORD_ASSIGN_OR_RETURN(store::Page page, store.List(q));
      for (const store::StoredObject& o : page.objects) {
        if (dedupe) {
          Held& h = held[o.id];
          if (h.in.empty() || o.modified > h.modified) {
            h.modified = o.modified;
            h.in.assign(1, ci);
            h.name.clear();
          } else if (o.modified == h.modified) {
            h.in.push_back(ci);
          }
          if (!seen.emplace(o.id, o.modified).second) continue;
          Examine(o, now, filter, &out, &name);
          if (h.modified == o.modified && h.in.front() == ci) h.name = name;
        } else {
          const size_t before = out.indicators.size();
          Examine(o, now, filter, &out, &name);
          if (out.indicators.size() > before) out.indicators.back().origin = from[ci].id;
        }
      }
      if (!page.more) break;
      q.cursor = page.next;
    }
  }
  if (dedupe) {
    // Two versions of one id with the same pattern (in two collections) match the same events:
    // compiled once. Two passes, as moving a string would move what a view points at.
    absl::flat_hash_set<std::pair<std::string_view, std::string_view>> kept;
    std::vector<bool> keep(out.indicators.size());
    for (size_t i = 0; i < out.indicators.size(); ++i) {
      keep[i] = kept.emplace(out.indicators[i].id, out.indicators[i].pattern).second;
    }
    kept.clear();
    size_t n = 0;
    for (size_t i = 0; i < out.indicators.size(); ++i) {
      if (!keep[i]) continue;
      if (n != i) out.indicators[n] = std::move(out.indicators[i]);
      ++n;
    }
    out.indicators.resize(n);
    // Each kept indicator's name and origin, from what every collection read holds.
    for (IndicatorSpec& spec : out.indicators) {
      auto it = held.find(spec.id);
      if (it == held.end()) continue;  // cannot happen: every compiled id was listed
      const Held& h = it->second;
      spec.name = h.name;
      spec.origin.clear();
      for (uint32_t ci : h.in) {
        if (!spec.origin.empty()) spec.origin.push_back('\n');
        spec.origin.append(from[ci].id);
      }
    }
  }
  return out;
}

common::Micros BucketStart(common::Micros t, common::Micros len) {
  // Division rounds toward negative infinity, so pre-1970 times land in their own bucket.
  return t >= 0 ? t / len * len : -((-t + len - 1) / len) * len;
}

void SightingAggregator::Add(const std::string& id, common::Micros t) {
  // Invariant: a bucket key is (indicator id, bucket start); first/last are event times in it.
  common::Micros b = BucketStart(t, bucket_);
  Agg& a = buckets_[{id, b}];
  if (a.count == 0) {
    a.first = a.last = t;
  } else {
    a.first = std::min(a.first, t);
    a.last = std::max(a.last, t);
  }
  // NOTE: count is not capped; STIX caps sighting.count at 999,999,999 (STIX21-objects.md
  // §11.2), so a bucket beyond that would be refused by the reader in WriteTo.
  ++a.count;
}

// Follow mode: a bucket is closed once event time t reaches its end; moving it out keeps the
// live map small. Merging (rather than overwriting) handles a bucket that was already moved
// and then received a late event.
void SightingAggregator::TakeClosed(common::Micros t, SightingAggregator* out) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (it->first.second + bucket_ <= t) {
      Agg& dst = out->buckets_[it->first];
      if (dst.count == 0) {
        dst = it->second;
      } else {
        dst.first = std::min(dst.first, it->second.first);
        dst.last = std::max(dst.last, it->second.last);
        dst.count += it->second.count;
      }
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::string> SightingAggregator::ToJson(const std::string& identity,
                                                    common::Micros now) const {
  std::vector<std::string> out;
  std::string ts = common::FormatTimestampMillis(now);
  // One sighting per (indicator, bucket) (STIX21-objects.md §11.2). Counts and times only,
  // never the observed values (sightings.h: telemetry is personal data). created/modified use
  // millisecond precision, the STIX minimum for them (STIX21-objects.md §4); first_seen and
  // last_seen keep microseconds. The id is a fresh UUIDv4: a sighting is an SRO, not an SCO, so
  // there is no deterministic id (STIX21-objects.md §3).
  for (const auto& [key, a] : buckets_) {
    nlohmann::json s = {
        {"type", "sighting"},
        {"spec_version", "2.1"},
        {"id", "sighting--" + common::NewUuid4()},
        {"created", ts},
        {"modified", ts},
        {"created_by_ref", identity},
        {"sighting_of_ref", key.first},
        {"count", a.count},
        {"first_seen", common::FormatTimestamp(a.first)},
        {"last_seen", common::FormatTimestamp(a.last)},
        {"where_sighted_refs", nlohmann::json::array({identity})},
    };
    out.push_back(s.dump());
  }
  return out;
}

absl::StatusOr<std::vector<common::Micros>> NewestModified(store::Store& store,
                                                           const std::vector<std::string>& ids) {
  std::vector<common::Micros> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    absl::StatusOr<std::vector<store::StoredObject>> v = store.Get(id, store::VersionSelect::kLast);
    if (!v.ok() && v.status().code() != absl::StatusCode::kNotFound) return v.status();
    out.push_back(v.ok() && !v->empty() ? v->back().modified : 0);
  }
  return out;
}

std::string TallySighting(const store::MatchTally& t, const std::string& identity) {
  // A UUIDv5 in Accord's own namespace for ledger sightings (a fixed UUIDv4): a sighting is an
  // SRO, whose ids are usually random, but here the same tally must give the same object.
  static constexpr std::string_view kNamespace = "5b0e2f4c-8d1a-4c7e-9a63-2f8b1d04c9e7";
  std::string name = common::Cat(identity, "|", t.indicator, "|", t.bucket);
  common::Micros created = std::min(t.bucket, t.recorded_first);
  nlohmann::json s = {
      {"type", "sighting"},
      {"spec_version", "2.1"},
      {"id", "sighting--" + stix::detail::UuidV5(kNamespace, name)},
      {"created", common::FormatTimestamp(created)},
      {"modified", common::FormatTimestamp(std::max(created, t.recorded_last))},
      {"created_by_ref", identity},
      {"sighting_of_ref", t.indicator},
      {"count", t.count},
      {"first_seen", common::FormatTimestamp(t.first)},
      {"last_seen", common::FormatTimestamp(t.last)},
      {"where_sighted_refs", nlohmann::json::array({identity})},
  };
  return s.dump();
}

absl::StatusOr<uint64_t> SightingAggregator::WriteTo(
    store::Store& store, const std::string& collection, const std::string& identity,
    common::Micros now, const SightingEgress& egress, uint64_t* withheld,
    store::ImportResult* result) {
  return WriteSightings(store, collection, ToJson(identity, now), egress, withheld, result);
}

absl::StatusOr<uint64_t> WriteSightings(store::Store& store, const std::string& collection,
                                        const std::vector<std::string>& objs,
                                        const SightingEgress& egress, uint64_t* withheld,
                                        store::ImportResult* result) {
  // The egress decision is per sighting, and a missing callback withholds everything.
  std::string lines;
  for (const std::string& s : objs) {
    // Fail closed: without a decision nothing is written.
    std::optional<std::string> admitted = egress ? egress(s) : std::nullopt;
    if (!admitted) {
      if (withheld) ++*withheld;
      continue;
    }
    lines += *admitted;
    lines += '\n';
  }
  if (lines.empty()) return 0;
  // Written through the normal STIX reader so our own sightings get the same validation as any
  // import; any rejection is an internal error (we built the JSON) and nothing is committed.
  ACCORD_ASSIGN_OR_RETURN(auto txn, store.BeginImport(collection));
  std::string problems;
  stix::ReaderOptions ro;
  ro.source_name = "<sightings>";
  ACCORD_ASSIGN_OR_RETURN(stix::ReadStats rs,
                          stix::ReadBuffer(
                              lines, ro, [&](stix::ObjectRecord&& rec) { return txn->Add(rec); },
                              [&](stix::Problem&& p) { problems += p.ToString() + "; "; }));
  if (!problems.empty())
    return absl::InternalError("sighting rejected by the STIX reader: " + problems);
  ACCORD_ASSIGN_OR_RETURN(store::ImportResult r, txn->Commit());
  (void)rs;
  if (result) *result = r;
  return r.added;
}

}  // namespace accord::match
