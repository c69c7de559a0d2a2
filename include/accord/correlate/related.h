// What shares a value with an object, or holds a value, through the store's value index
// (issue 15): `accord related` and the web UI's object view ask the same question here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "accord/formats/text.h"
#include "accord/store/store.h"

namespace accord::correlate {

/// The index terms to look up, and for a CIDR the range of address terms it covers.
struct RelatedQuery {
  std::vector<std::string> terms;
  std::string lo, hi;      // empty: no range
  std::string exclude_id;  // the object asked about is not its own relative
};

/// For a value (an address, CIDR, domain, URL, e-mail address, hash, CVE id).
RelatedQuery ValueQuery(const formats::Value& v);
/// For object `id`, whose version is `json`: its values, what refers to it (reports,
/// sightings, relationships), and for its addresses the CIDRs that hold them.
RelatedQuery ObjectQuery(const std::string& id, const std::string& json);

/// One value and the objects that hold it: how many of each category (indicators, observables,
/// sightings, reports, other), and the first `limit` of them (the latest version of each).
struct RelatedGroup {
  std::string kind;  // "ipv4", "domain", ...; "refers-to" for references to the object
  std::string value;
  std::map<std::string, uint64_t> counts;
  std::vector<store::TermHit> listed;
};

/// The ids among `ids` that the caller may read (the exit's gate decides; the caller audits).
using AdmitFn = std::function<absl::StatusOr<std::set<std::string>>(const std::set<std::string>&)>;

/// Looks `q` up (at most `scan` index rows a term), keeps what `admit` lets through, and groups
/// it by value, values in term order; a value none of whose objects is admitted is left out.
absl::StatusOr<std::vector<RelatedGroup>> FindRelated(store::Store& store, const RelatedQuery& q,
                                                      uint64_t scan, size_t limit,
                                                      const AdmitFn& admit);

/// "indicators", "observables", "sightings", "reports" or "other", for a STIX type.
std::string_view CategoryOf(std::string_view type);

}  // namespace accord::correlate
