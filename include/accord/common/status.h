// Error handling: every fallible function returns absl::Status or absl::StatusOr<T>
// (../shared/STYLE.md §4). These macros propagate them; no exception crosses a layer.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ACCORD_CONCAT_INNER_(a, b) a##b
#define ACCORD_CONCAT_(a, b) ACCORD_CONCAT_INNER_(a, b)

/// Returns from the current function if `expr` (an absl::Status) is not OK.
#define ACCORD_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status accord_status_ = (expr);          \
    if (!accord_status_.ok()) return accord_status_; \
  } while (0)

#define ACCORD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

/// `lhs = value of expr` (an absl::StatusOr), or returns its error.
#define ACCORD_ASSIGN_OR_RETURN(lhs, expr) \
  ACCORD_ASSIGN_OR_RETURN_IMPL_(ACCORD_CONCAT_(accord_statusor_, __LINE__), lhs, expr)

/// Invariant checks for our own code, never for untrusted input.
#define ACCORD_CHECK(cond)                                                         \
  do {                                                                             \
    if (!(cond)) ::accord::common::detail::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)
#ifndef NDEBUG
#define ACCORD_DCHECK(cond) ACCORD_CHECK(cond)
#else
#define ACCORD_DCHECK(cond) \
  do {                      \
  } while (0)
#endif

namespace accord::common::detail {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}  // namespace accord::common::detail
