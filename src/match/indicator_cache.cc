#include "accord/match/indicator_cache.h"

#include <cstring>
#include <optional>

#include "accord/common/io.h"
#include "accord/common/strings.h"

namespace accord::match {

namespace {

constexpr char kMagic[8] = {'A', 'C', 'C', 'I', 'D', 'X', '0', '2'};

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}
void PutString(std::string* out, std::string_view s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads from a byte range; every read is bounds-checked, so a short or corrupt file fails.
class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  template <typename T>
  bool Get(T* v) {
    if (s_.size() - pos_ < sizeof(T)) return false;
    memcpy(v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* out) {
    uint32_t n;
    if (!Get(&n) || s_.size() - pos_ < n) return false;
    out->assign(s_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<ActiveIndicators> ReadIndicatorCache(const std::string& path,
                                                   const IndicatorCacheKey& key, common::Micros now,
                                                   uint64_t max_bytes) {
  absl::StatusOr<std::string> data = common::ReadFile(path, max_bytes);
  if (!data.ok() || data->size() < sizeof kMagic + 8 ||
      memcmp(data->data(), kMagic, sizeof kMagic) != 0) {
    return std::nullopt;
  }
  std::string_view body(data->data(), data->size() - 8);
  uint64_t sum;
  memcpy(&sum, data->data() + body.size(), 8);
  if (sum != Fnv1a(body)) return std::nullopt;
  In in(body.substr(sizeof kMagic));
  uint64_t generation, count;
  int64_t from, expires;
  std::string scope;
  ActiveIndicators a;
  if (!in.Get(&generation) || !in.GetString(&scope) || !in.Get(&from) || !in.Get(&expires) ||
      !in.Get(&a.inactive) || !in.Get(&a.not_stix) || !in.Get(&a.withheld) || !in.Get(&count)) {
    return std::nullopt;
  }
  // Valid for [loaded at, first change): before it (a clock set back) is a miss too.
  if (generation != key.generation || scope != key.scope || now < from || now >= expires) {
    return std::nullopt;
  }
  if (count > body.size() / 12) return std::nullopt;  // each indicator takes 12 bytes or more
  a.indicators.resize(count);
  for (IndicatorSpec& s : a.indicators) {
    if (!in.GetString(&s.id) || !in.GetString(&s.pattern) || !in.GetString(&s.version)) {
      return std::nullopt;
    }
  }
  if (!in.done()) return std::nullopt;
  a.next_change = expires;
  return a;
}

absl::Status WriteIndicatorCache(const std::string& path, const IndicatorCacheKey& key,
                                 common::Micros now, const ActiveIndicators& active) {
  std::string out(kMagic, sizeof kMagic);
  size_t bytes = 0;
  for (const IndicatorSpec& s : active.indicators) {
    bytes += 12 + s.id.size() + s.pattern.size() + s.version.size();
  }
  out.reserve(128 + key.scope.size() + bytes);
  Put<uint64_t>(&out, key.generation);
  PutString(&out, key.scope);
  Put<int64_t>(&out, now);
  Put<int64_t>(&out, active.next_change);
  Put<uint64_t>(&out, active.inactive);
  Put<uint64_t>(&out, active.not_stix);
  Put<uint64_t>(&out, active.withheld);
  Put<uint64_t>(&out, active.indicators.size());
  for (const IndicatorSpec& s : active.indicators) {
    PutString(&out, s.id);
    PutString(&out, s.pattern);
    PutString(&out, s.version);
  }
  Put<uint64_t>(&out, Fnv1a(out));
  return common::WriteFileAtomic(path, out);
}

}  // namespace accord::match
