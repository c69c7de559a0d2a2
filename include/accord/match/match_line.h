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
  /// name, collection and also_in (docs/MATCH_INPUTS.md "Output"); null: none of them.
  const IndicatorOrigin* origin = nullptr;
};

/// Appends the line's JSON object and '\n' to `out`.
void AppendMatchLine(const MatchLine& line, std::string* out);

}  // namespace accord::match
