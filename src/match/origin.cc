#include "accord/match/origin.h"

#include <string_view>

#include "accord/match/match_line.h"

namespace accord::match {

absl::StatusOr<const IndicatorOrigin*> IndicatorOrigins::Find(const Program& program,
                                                              uint32_t index) {
  if (&program != program_) {
    // A new program comes from a reload: the store changed, collections may have too.
    program_ = &program;
    found_.clear();
    collections_.reset();
  }
  std::string_view text = program.Origin(index);
  if (text.empty()) return nullptr;
  // PERF: one small-table probe per match line; origins are interned, so the address is the key.
  auto [it, fresh] = found_.try_emplace(text.data());
  if (!fresh) return it->second.get();
  if (!collections_) {
    absl::StatusOr<std::vector<store::CollectionInfo>> cs = store_->ListCollections();
    if (!cs.ok()) {
      found_.erase(it);
      return cs.status();
    }
    collections_.emplace();
    for (store::CollectionInfo& c : *cs) {
      std::string id = c.id;
      collections_->emplace(std::move(id), std::move(c));
    }
  }
  auto o = std::make_unique<IndicatorOrigin>();
  bool first = true;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string id(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    auto c = collections_->find(id);
    if (c == collections_->end()) continue;  // deleted since the program was compiled
    if (first) {
      o->collection = c->second;
      first = false;
    } else {
      o->also_in.push_back(c->second);
    }
  }
  if (first) return nullptr;  // it->second stays null: none
  PrepareMatchLine(o.get());
  it->second = std::move(o);
  return it->second.get();
}

}  // namespace accord::match
