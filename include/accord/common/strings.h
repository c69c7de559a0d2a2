// String concatenation that accepts std::string_view. Debian's abseil is built with its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrCat does not take
// std::string_view; use accord::common::Cat everywhere instead.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace accord::common {
namespace detail {

inline void CatOne(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }
inline void CatOne(std::string* out, const std::string& s) { out->append(s); }
inline void CatOne(std::string* out, const char* s) { out->append(s ? s : "(null)"); }
inline void CatOne(std::string* out, char c) { out->push_back(c); }
inline void CatOne(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
inline void CatOne(std::string* out, bool b) { out->append(b ? "true" : "false"); }
template <typename T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) inline void CatOne(std::string* out, T v) {
  out->append(std::to_string(v));
}

}  // namespace detail

/// Concatenates strings (std::string, std::string_view, absl::string_view, const char*, char),
/// booleans and numbers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (detail::CatOne(&out, args), ...);
  return out;
}

/// Appends to `*out`.
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  (detail::CatOne(out, args), ...);
}

/// 'A'-'Z' to 'a'-'z'; every other byte unchanged (no locale).
inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `s` with AsciiLower applied to each byte.
inline std::string AsciiToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

/// `s` without leading and trailing spaces, tabs, CRs and LFs.
inline std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// absl::string_view (e.g. absl::Status::message()) as std::string_view.
inline std::string_view View(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace accord::common
