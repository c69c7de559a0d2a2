// Helpers shared by the `accord match` integration tests in tests/match/.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace accord::testing {

/// A valid STIX 2.1 indicator, one JSON line, with id number `n` and `pattern`.
inline std::string Indicator(int n, const std::string& pattern) {
  char id[64];
  snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
  nlohmann::json j = {{"type", "indicator"},
                      {"spec_version", "2.1"},
                      {"id", id},
                      {"created", "2024-01-01T00:00:00.000Z"},
                      {"modified", "2024-01-01T00:00:00.000Z"},
                      {"pattern", pattern},
                      {"pattern_type", "stix"},
                      {"valid_from", "2024-01-01T00:00:00Z"}};
  return j.dump() + "\n";
}

}  // namespace accord::testing
