// simdjson DOM -> Observation value trees (shared by the STIX, EVE and generic readers).
#pragma once

#include <simdjson.h>

#include <string_view>

#include "accord/match/event.h"

namespace accord::match::detail {

/// Appends `v` under `key` to the open container of `o`. Nesting deeper than 64 is cut
/// (the value becomes null) so that hostile input cannot recurse without bound.
void AddJson(Observation* o, std::string_view key, simdjson::dom::element v, int depth = 0);

/// Parses a STIX timestamp or epoch seconds (number or numeric string); false if neither.
[[nodiscard]] bool ParseTime(simdjson::dom::element v, common::Micros* out);

}  // namespace accord::match::detail
