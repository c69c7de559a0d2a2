// Small helpers for reading optional members of simdjson results in the TAXII layer.
#pragma once

#include <utility>

namespace accord::taxii::detail {

/// Reads an optional JSON field: `out` keeps its value when the field is absent or mistyped.
template <typename R, typename T>
void TryGet(R&& r, T& out) {
  auto err = std::forward<R>(r).get(out);
  (void)err;
}

}  // namespace accord::taxii::detail
