#include "taxii/filters.h"

#include <algorithm>
#include <set>

#include "accord/common/strings.h"
#include "accord/http/message.h"
#include "http/text.h"

namespace accord::taxii {
namespace text = http::text;
namespace {

// Splits a match[...] value on ',' (TAXII21.md §7: comma-separated, no spaces). Empty items
// ("a,,b", trailing ',') and repeats are 400s: §7 says no value may repeat, and rejecting them
// keeps the store query from carrying duplicate OR terms.
absl::StatusOr<std::vector<std::string>> SplitList(std::string_view name, std::string_view v) {
  std::vector<std::string> out;
  std::set<std::string_view> seen;
  for (std::string_view item : text::Split(v, ',')) {
    if (item.empty()) {
      return absl::InvalidArgumentError(common::Cat(name, ": empty value in '", v, "'"));
    }
    if (!seen.insert(item).second) {
      return absl::InvalidArgumentError(common::Cat(name, ": '", item, "' given twice"));
    }
    out.emplace_back(item);
  }
  return out;
}

}  // namespace

// Parses a TAXII query string into Filters (TAXII21.md §7, TAXII 2.1 §3.4/§3.4.1).
// `allowed` is a bit set of the parameters valid on this endpoint (§7: Get-an-Object accepts
// only version/spec_version matches, Versions only spec_version, ...); any other known parameter
// is a 400. Malformed values are 400s too (§7: "Malformed parameters => 400 Bad Request").
// Every parameter may appear at most once (§7), tracked in `seen`.
absl::StatusOr<Filters> ParseFilters(std::string_view query, unsigned allowed,
                                     const ServiceOptions& opts) {
  Filters f;
  ACCORD_ASSIGN_OR_RETURN(auto params, http::ParseQuery(query));
  unsigned seen = 0;
  auto once = [&](unsigned bit, const std::string& name) -> absl::Status {
    if (!(allowed & bit)) {
      return absl::InvalidArgumentError(
          common::Cat("parameter '", name, "' is not valid on this endpoint"));
    }
    if (seen & bit) {
      return absl::InvalidArgumentError(common::Cat("parameter '", name, "' given twice"));
    }
    seen |= bit;
    return absl::OkStatus();
  };
  for (auto& [k, v] : params) {
    if (k == "added_after") {
      ACCORD_RETURN_IF_ERROR(once(kAddedAfter, k));
      auto t = common::ParseTimestamp(v);
      if (!t.ok()) {
        return absl::InvalidArgumentError(
            common::Cat("added_after: '", v, "' is not a timestamp: ", t.status().message()));
      }
      f.added_after = t->micros;
    } else if (k == "limit") {
      ACCORD_RETURN_IF_ERROR(once(kLimit, k));
      int64_t n = 0;
      // §7: limit must be > 0. A larger limit than the server cap is not an error: the server MAY
      // return fewer (§8), so it is clamped to max_page_size, which bounds the work one request
      // does.
      if (!text::ParseInt(v, &n) || n <= 0) {
        return absl::InvalidArgumentError(
            common::Cat("limit: '", v, "' is not a positive integer"));
      }
      f.limit = std::min<uint64_t>(static_cast<uint64_t>(n), opts.max_page_size);
    } else if (k == "next") {
      ACCORD_RETURN_IF_ERROR(once(kNext, k));
      // `next` is client-supplied (§8): only its length is checked here (4096 bounds the copy).
      // The store decodes it (DecodeCursor, a monotonic key) and the full query, with the
      // caller's permissions, runs again on every use, so a forged token leaks nothing.
      if (v.empty() || v.size() > 4096) return absl::InvalidArgumentError("next: invalid token");
      f.next = v;
    } else if (k == "match[id]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchId, k));
      ACCORD_ASSIGN_OR_RETURN(f.ids, SplitList(k, v));
    } else if (k == "match[type]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchType, k));
      ACCORD_ASSIGN_OR_RETURN(f.types, SplitList(k, v));
    } else if (k == "match[spec_version]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchSpecVersion, k));
      ACCORD_ASSIGN_OR_RETURN(f.spec_versions, SplitList(k, v));
      for (auto& sv : f.spec_versions) {
        if (sv != "2.0" && sv != "2.1") {
          return absl::InvalidArgumentError(
              common::Cat("match[spec_version]: '", sv, "' is not 2.0 or 2.1"));
        }
      }
    } else if (k == "match[version]") {
      ACCORD_RETURN_IF_ERROR(once(kMatchVersion, k));
      ACCORD_ASSIGN_OR_RETURN(auto items, SplitList(k, v));
      // §7 match[version]: first, last, all or exact `modified` timestamps; any combination except
      // 'all' with anything else. Multiple times may be listed.
      f.has_version = true;
      for (auto& item : items) {
        if (item == "all") {
          f.want_all = true;
        } else if (item == "first") {
          f.want_first = true;
        } else if (item == "last") {
          f.want_last = true;
        } else {
          auto t = common::ParseTimestamp(item);
          if (!t.ok()) {
            return absl::InvalidArgumentError(
                common::Cat("match[version]: '", item, "' is not first, last, all or a timestamp"));
          }
          f.version_times.push_back(t->micros);
        }
      }
      if (f.want_all && items.size() > 1) {
        return absl::InvalidArgumentError("match[version]: 'all' cannot be combined");
      }
    } else if (k.rfind("match[", 0) == 0) {
      // TAXII §3.4: unknown match fields MAY be ignored.
    }
  }
  // §7: match[version] absent means "last".
  if (!f.has_version) f.want_last = true;
  return f;
}

// Translates parsed Filters into a store query for one collection. Version selection: a single
// first/last maps to the store's per-object selector; 'all', explicit timestamps and mixes such
// as "first,last" fetch every version (kAll), and the store then keeps the ones asked for
// (version_times, or first/last per object among the entries matching the rest of the request,
// §7). Without `limit` the page is default_page_size; with it, ParseFilters already clamped it.
store::Query MakeQuery(const Filters& f, const std::string& collection,
                       const ServiceOptions& opts) {
  store::Query q;
  q.collection = collection;
  q.ids = f.ids;
  q.types = f.types;
  q.spec_versions = f.spec_versions;
  q.added_after = f.added_after;
  q.include_revoked = true;  // TAXII serves revoked versions too; consumers decide
  q.limit = f.limit.value_or(opts.default_page_size);
  if (f.next) q.cursor = *f.next;
  if (f.want_all || f.Mixed()) {
    q.versions = store::VersionSelect::kAll;
  } else if (!f.version_times.empty()) {
    q.versions = store::VersionSelect::kAll;
    q.version_times = f.version_times;
  } else {
    q.versions = f.want_first ? store::VersionSelect::kFirst : store::VersionSelect::kLast;
  }
  return q;
}

}  // namespace accord::taxii
