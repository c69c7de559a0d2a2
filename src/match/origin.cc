#include "accord/match/origin.h"

#include <nlohmann/json.hpp>

namespace accord::match {

absl::StatusOr<const IndicatorOrigin*> IndicatorOrigins::Find(const std::string& id) {
  if (auto it = found_.find(id); it != found_.end()) return it->second ? &*it->second : nullptr;
  if (!collections_) {
    std::vector<store::CollectionInfo> cs;
    if (scope_.empty()) {
      ACCORD_ASSIGN_OR_RETURN(cs, store_->ListCollections());
    } else {
      for (const std::string& c : scope_) {
        ACCORD_ASSIGN_OR_RETURN(store::CollectionInfo info, store_->GetCollection(c));
        cs.push_back(std::move(info));
      }
    }
    collections_ = std::move(cs);
  }
  // The latest version of `id` in each collection (kLast, revoked ones left out).
  std::vector<std::pair<const store::CollectionInfo*, store::StoredObject>> held;
  for (const store::CollectionInfo& c : *collections_) {
    store::Query q;
    q.collection = c.id;
    q.ids = {id};
    q.types = {"indicator"};
    q.limit = 1;
    ACCORD_ASSIGN_OR_RETURN(store::Page page, store_->List(q));
    if (!page.objects.empty()) held.emplace_back(&c, std::move(page.objects.front()));
  }
  std::optional<IndicatorOrigin>& slot = found_[id];
  if (held.empty()) return nullptr;
  size_t newest = 0;
  for (size_t i = 1; i < held.size(); ++i) {
    if (held[i].second.modified > held[newest].second.modified) newest = i;
  }
  IndicatorOrigin& o = slot.emplace();
  o.collection = *held[newest].first;
  for (size_t i = 0; i < held.size(); ++i) {
    if (i != newest && held[i].second.modified == held[newest].second.modified)
      o.also_in.push_back(*held[i].first);
  }
  // The stored JSON was validated on import; a `name` that is not a string is left out.
  nlohmann::json j = nlohmann::json::parse(held[newest].second.json, nullptr, false);
  if (j.is_object()) {
    auto n = j.find("name");
    if (n != j.end() && n->is_string()) o.name = n->get<std::string>();
  }
  return &o;
}

}  // namespace accord::match
