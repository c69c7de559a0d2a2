// Little-endian byte encoding for the match layer's cache files (program_image.cc, and the
// compiled program's own image in engine.cc). Every read is bounds-checked: a short or corrupt
// file fails the read, never reads past its end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace accord::match::detail {

template <typename T>
void Put(std::string* out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  char b[sizeof(T)];
  memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}
inline void PutString(std::string* out, std::string_view s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}
// A u64 count, then the elements' bytes as they are in memory.
template <typename T>
void PutVector(std::string* out, const std::vector<T>& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  Put<uint64_t>(out, v.size());
  if (!v.empty()) out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  template <typename T>
  bool Get(T* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (s_.size() - pos_ < sizeof(T)) return false;
    memcpy(v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // A view into the input: valid as long as the input is.
  bool GetView(std::string_view* out) {
    uint32_t n;
    if (!Get(&n) || s_.size() - pos_ < n) return false;
    *out = s_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool GetString(std::string* out) {
    std::string_view v;
    if (!GetView(&v)) return false;
    out->assign(v);
    return true;
  }
  template <typename T>
  bool GetVector(std::vector<T>* v) {
    uint64_t n;
    if (!Get(&n) || n > (s_.size() - pos_) / sizeof(T)) return false;
    v->resize(n);
    if (n) memcpy(v->data(), s_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  // A count of items each at least `min_bytes` long: refused when the rest cannot hold them.
  bool GetCount(uint64_t* n, size_t min_bytes) {
    return Get(n) && *n <= (s_.size() - pos_) / (min_bytes ? min_bytes : 1);
  }
  // Skips `n` bytes, which `*at` then points to (a view into the input).
  bool Skip(uint64_t n, const char** at) {
    if (n > s_.size() - pos_) return false;
    *at = s_.data() + pos_;
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace accord::match::detail
