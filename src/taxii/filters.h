// TAXII filter parameters (../shared/spec/TAXII21.md §3.4): parsing a request's query string
// into Filters and turning them into a store::Query. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/store/store.h"
#include "accord/taxii/service.h"

namespace accord::taxii {

// Parsed filter parameters of one request (TAXII §3.4).
struct Filters {
  std::optional<common::Micros> added_after;
  std::optional<uint64_t> limit;
  std::optional<std::string> next;
  std::vector<std::string> ids, types, spec_versions;
  bool has_version = false;
  bool want_first = false, want_last = false, want_all = false;
  std::vector<common::Micros> version_times;

  // Whether version selection needs more than one Query mode (first+last, or keyword plus
  // timestamps): then versions are fetched with kAll and filtered per object.
  bool Mixed() const {
    int kinds = int(want_first) + int(want_last) + int(!version_times.empty());
    return !want_all && kinds > 1;
  }
};

// The parameters an endpoint accepts (a bit set for ParseFilters' `allowed`).
enum ParamSet : unsigned {
  kAddedAfter = 1,
  kLimit = 2,
  kNext = 4,
  kMatchId = 8,
  kMatchType = 16,
  kMatchVersion = 32,
  kMatchSpecVersion = 64,
};

// Parses `query`; a parameter outside `allowed`, given twice or malformed is InvalidArgument.
// Without match[version], the last version is selected.
absl::StatusOr<Filters> ParseFilters(std::string_view query, unsigned allowed,
                                     const ServiceOptions& opts);

// The store query for `f` on `collection` (page size from `opts` unless `limit` was given).
store::Query MakeQuery(const Filters& f, const std::string& collection, const ServiceOptions& opts);

}  // namespace accord::taxii
