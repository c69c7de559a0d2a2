#include "accord/match/sightings.h"

#include <nlohmann/json.hpp>

#include "accord/common/uuid.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"

namespace accord::match {

absl::StatusOr<ActiveIndicators> LoadActiveIndicators(store::Store& store, common::Micros now,
                                                      const IndicatorFilter& filter) {
  ActiveIndicators out;
  store::Query q;
  q.types = {"indicator"};
  q.limit = 10000;
  for (;;) {
    ACCORD_ASSIGN_OR_RETURN(store::Page page, store.List(q));
    for (const store::StoredObject& o : page.objects) {
      if (o.revoked) {
        ++out.inactive;
        continue;
      }
      nlohmann::json j = nlohmann::json::parse(o.json, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      if (j.value("pattern_type", std::string("stix")) != "stix") {
        ++out.not_stix;
        continue;
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
      if ((has_from && from > now) || (has_until && now >= until)) {
        ++out.inactive;
        continue;
      }
      auto pat = j.find("pattern");
      if (pat == j.end() || !pat->is_string()) continue;
      if (filter && !filter(o)) {
        ++out.withheld;
        continue;
      }
      out.indicators.push_back({o.id, pat->get<std::string>()});
    }
    if (!page.more) break;
    q.cursor = page.next;
  }
  return out;
}

void SightingAggregator::Add(const std::string& id, common::Micros t) {
  common::Micros b = t >= 0 ? t / bucket_ * bucket_ : -((-t + bucket_ - 1) / bucket_) * bucket_;
  Agg& a = buckets_[{id, b}];
  if (a.count == 0) {
    a.first = a.last = t;
  } else {
    a.first = std::min(a.first, t);
    a.last = std::max(a.last, t);
  }
  ++a.count;
}

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

absl::StatusOr<uint64_t> SightingAggregator::WriteTo(
    store::Store& store, const std::string& collection, const std::string& identity,
    common::Micros now, const SightingEgress& egress, uint64_t* withheld) {
  std::vector<std::string> objs = ToJson(identity, now);
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
  return r.added;
}

}  // namespace accord::match
