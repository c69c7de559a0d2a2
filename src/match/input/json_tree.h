// simdjson DOM -> Observation value trees (shared by the STIX, EVE and generic readers).
#pragma once

#include <simdjson.h>

#include <string_view>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/match/event.h"

namespace accord::match::detail {

/// Appends `v` under `key` to the open container of `o`. Nesting deeper than 64 is cut
/// (the value becomes null) so that hostile input cannot recurse without bound.
void AddJson(Observation* o, std::string_view key, simdjson::dom::element v, int depth = 0);

/// Reads an event time: a string is RFC 3339 with any UTC offset or epoch seconds
/// (common::ParseEventTime); a number is epoch seconds. The error says what is wrong.
absl::StatusOr<common::Micros> ParseTime(simdjson::dom::element v);

}  // namespace accord::match::detail
