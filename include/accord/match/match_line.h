// The match line `accord match` writes per match (docs/MATCH_INPUTS.md "Output"), written by
// hand: building a JSON document per match and dumping it cost more than matching (issue 11,
// "cut the cost of printing a match"). The bytes are those nlohmann::json's dump() gives for the
// same object (keys in sorted order, invalid UTF-8 replaced by U+FFFD), which
// src/match/match_line_test.cc checks on random input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/time.h"
#include "accord/match/origin.h"

namespace accord::match {

struct MatchLine {
  std::string_view indicator;
  const std::vector<std::string>* values = nullptr;
  const std::vector<uint64_t>* events = nullptr;
  std::string_view input;
  common::Micros time = 0;
  /// collection and also_in (docs/MATCH_INPUTS.md "Output"); null: neither.
  const IndicatorOrigin* origin = nullptr;
  /// The indicator's `name`; "": none (the line then has no `name`).
  std::string_view name;
};

/// Appends the line's JSON object and '\n' to `out`. A prepared origin's part is copied.
void AppendMatchLine(const MatchLine& line, std::string* out);

/// Renders the part of a line that depends only on the origin (its collections) into
/// `o->prepared_head` and sets `o->prepared`; leaves it unprepared when a string is not valid
/// UTF-8 (its lines then take the slow, replacing path).
void PrepareMatchLine(IndicatorOrigin* o);

}  // namespace accord::match
