#include "accord/stix/ijson.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "accord/common/strings.h"

namespace accord::stix {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Up to this many members, each name is compared with the ones before it (n²/2 comparisons of
// short strings, no allocation); above, the names are sorted. STIX objects have ~10-20 members.
constexpr size_t kLinearMembers = 24;

// A plain identifier is written `.name` in a path; anything else `["name"]`.
bool PlainName(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendMember(std::string* path, std::string_view k) {
  if (PlainName(k)) {
    if (!path->empty()) path->push_back('.');
    path->append(k);
    return;
  }
  path->append("[\"");
  for (char c : k) {
    if (c == '"' || c == '\\') path->push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      path->append(
          common::Cat("\\u00", "0123456789abcdef"[(c >> 4) & 0xf], "0123456789abcdef"[c & 0xf]));
      continue;
    }
    path->push_back(c);
  }
  path->append("\"]");
}

// A 64-bit filter of the names seen so far: a name whose bit is not set yet cannot equal any
// earlier one, so most names are compared with nothing (a STIX object's ~20 names set ~17 of
// 64 bits). Length and first and last bytes: cheap, and they differ between most names.
inline uint64_t NameBit(std::string_view k) {
  if (k.empty()) return 1;
  auto b = [](char c) { return static_cast<unsigned char>(c); };
  return uint64_t{1} << ((k.size() * 7 + b(k.front()) + b(k.back()) * 3) & 63);
}

// Finds a repeated name among names[base, end). Returns it, or an empty optional.
std::optional<std::string_view> RepeatedName(std::vector<std::string_view>& names, size_t base) {
  size_t n = names.size() - base;
  auto first = names.begin() + static_cast<std::ptrdiff_t>(base);
  if (n <= kLinearMembers) {
    uint64_t seen = 0;
    for (size_t i = base; i < names.size(); ++i) {
      uint64_t bit = NameBit(names[i]);
      if (seen & bit) {
        for (size_t j = base; j < i; ++j) {
          if (names[i] == names[j]) return names[i];
        }
      }
      seen |= bit;
    }
    return std::nullopt;
  }
  std::sort(first, names.end());
  auto dup = std::adjacent_find(first, names.end());
  if (dup != names.end()) return *dup;
  return std::nullopt;
}

// Walks `v`; on a duplicate, writes its path into *path (from the root of the walk) and returns
// true. `names` is a stack of member names shared by all levels: an object's names are pushed,
// checked, and popped before its values are visited, so the vector never holds more than one
// object's names plus nothing else (no allocation per object once it has grown).
bool Walk(element v, std::vector<std::string_view>& names, std::string* path) {
  switch (v.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object o = v.get_object().value_unsafe();
      size_t base = names.size();
      for (auto f : o) names.push_back(f.key);
      std::optional<std::string_view> dup;
      if (names.size() - base > 1) dup = RepeatedName(names, base);
      names.resize(base);
      if (dup) {
        AppendMember(path, *dup);
        return true;
      }
      for (auto f : o) {
        // Scalars need no visit: skip the call (most members are strings).
        element_type t = f.value.type();
        if (t != element_type::OBJECT && t != element_type::ARRAY) continue;
        size_t len = path->size();
        AppendMember(path, f.key);
        if (Walk(f.value, names, path)) return true;
        path->resize(len);
      }
      return false;
    }
    case element_type::ARRAY: {
      size_t i = 0;
      simdjson::dom::array a = v.get_array().value_unsafe();  // named: the loop must not dangle
      for (element e : a) {
        element_type t = e.type();
        if (t == element_type::OBJECT || t == element_type::ARRAY) {
          size_t len = path->size();
          common::Append(path, "[", i, "]");
          if (Walk(e, names, path)) return true;
          path->resize(len);
        }
        ++i;
      }
      return false;
    }
    default: return false;
  }
}

// Walk without the path: whether `v` holds a duplicate anywhere. The common case (none) pays
// for no path building; the path is built by a second Walk only when there is one.
bool HasDuplicate(element v, std::vector<std::string_view>& names) {
  element_type t = v.type();
  if (t == element_type::OBJECT) {
    simdjson::dom::object o = v.get_object().value_unsafe();
    size_t base = names.size();
    bool nested = false;
    for (auto f : o) {
      names.push_back(f.key);
      element_type ft = f.value.type();
      nested |= ft == element_type::OBJECT || ft == element_type::ARRAY;
    }
    bool dup = names.size() - base > 1 && RepeatedName(names, base).has_value();
    names.resize(base);
    if (dup) return true;
    if (!nested) return false;
    for (auto f : o) {
      element_type ft = f.value.type();
      if ((ft == element_type::OBJECT || ft == element_type::ARRAY) &&
          HasDuplicate(f.value, names)) {
        return true;
      }
    }
    return false;
  }
  if (t == element_type::ARRAY) {
    simdjson::dom::array a = v.get_array().value_unsafe();
    for (element e : a) {
      element_type et = e.type();
      if ((et == element_type::OBJECT || et == element_type::ARRAY) && HasDuplicate(e, names)) {
        return true;
      }
    }
  }
  return false;
}

std::vector<std::string_view>& Scratch() {
  thread_local std::vector<std::string_view> names;
  names.clear();
  return names;
}

}  // namespace

std::optional<std::string> FindDuplicateKey(element value, std::string_view prefix) {
  element_type t = value.type();
  if (t != element_type::OBJECT && t != element_type::ARRAY) return std::nullopt;
  std::vector<std::string_view>& names = Scratch();
  if (!HasDuplicate(value, names)) return std::nullopt;
  std::string path(prefix);
  names.clear();
  Walk(value, names, &path);
  return path;
}

std::optional<std::string> FindDuplicateOwnKey(simdjson::dom::object object,
                                               std::string_view prefix) {
  std::vector<std::string_view>& names = Scratch();
  for (auto f : object) names.push_back(f.key);
  std::optional<std::string_view> dup = RepeatedName(names, 0);
  if (!dup) return std::nullopt;
  std::string path(prefix);
  AppendMember(&path, *dup);
  return path;
}

std::string DuplicateKeyMessage(std::string_view path) {
  // The name is the path's last step.
  std::string_view name = path;
  if (!name.empty() && name.back() == ']') {
    size_t open = name.rfind("[\"");
    if (open != std::string_view::npos) name = name.substr(open + 2, name.size() - open - 4);
  } else if (size_t dot = name.rfind('.'); dot != std::string_view::npos) {
    name = name.substr(dot + 1);
  }
  return common::Cat("duplicate key '", name, "' at ", path,
                     " (RFC 7493 I-JSON: member names must be unique)");
}

absl::Status CheckNoDuplicateKeys(element value, std::string_view prefix) {
  if (auto dup = FindDuplicateKey(value, prefix)) {
    return absl::InvalidArgumentError(DuplicateKeyMessage(*dup));
  }
  return absl::OkStatus();
}

}  // namespace accord::stix
