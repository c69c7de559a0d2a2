// The value index (issue 15, docs/FORMATS.md "Correlation"): which values each object version
// holds, as terms the store keeps one row each for (term, version): no per-pair table, so
// space grows with the values, not with the square of their repeats.
//
//   indicators      the values their pattern names (flat disjunctions exactly; in other
//                   patterns every string literal that is a value)
//   SCOs            their value (domain-name, ipv4/ipv6-addr, url, email-addr) or hashes (file)
//   observed-data   the SCOs it embeds
//   sightings       "ref:<the indicator sighted>"
//   reports, notes, groupings, opinions  "ref:<each object referred to>", and the values in
//                   their text; every other SDO: the values in its name and description
//
// Composite values are also indexed by their parts: a URL by its host, an e-mail address by
// its domain; an IPv4 address also as "ipv4n:<8 hex digits>" so that a CIDR query is one range
// scan. A CIDR is found from an address at query time (QueryTerms).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "accord/formats/formats.h"
#include "accord/stix/object.h"

namespace simdjson::dom {
class object;
}  // namespace simdjson::dom

namespace accord::correlate {

/// The terms of one object version (a store::TermDeriver), sorted, each once.
void DeriveTerms(const stix::ObjectRecord& record, std::vector<std::string>* terms);
/// The same terms in no order, possibly repeated: the deriver the process installs for the
/// store, which keeps each key once (store::TermKeysOf). PERF: a MISP event's report refers to
/// its 150,000 objects; sorting their "ref:" terms as strings (long shared prefixes) cost more
/// than sorting their 64-bit keys.
void DeriveTermsUnsorted(const stix::ObjectRecord& record, std::vector<std::string>* terms);
/// The same from `object`, the parsed object `record.json` holds (a store::DomTermDeriver):
/// the ingest path's reader has parsed it already. PERF: a MISP event's report (7 MB) was parsed
/// a second time here, 17-27 ms on the ingest thread while the store's writer waited for it.
void DeriveTermsFromDom(const stix::ObjectRecord& record, const simdjson::dom::object& object,
                        std::vector<std::string>* terms);

/// "<kind>:<normalised value>" ("domain:evil.example", "ipv4-cidr:10.0.0.0/8").
std::string TermOf(const formats::Value& v);

/// What to look up for a value: its own term, its parts (a URL's host, an e-mail address's
/// domain), and for an address the CIDRs that would hold it.
std::vector<std::string> QueryTerms(const formats::Value& v);

/// For a CIDR value: the [lo, hi] range of "ipv4n:" terms of the addresses in it; false for
/// other values (IPv6 ranges are not indexed this way).
bool AddressRange(const formats::Value& v, std::string* lo, std::string* hi);

/// The term's value for people: "domain:evil.example" -> ("domain", "evil.example").
std::pair<std::string, std::string> SplitTerm(const std::string& term);

}  // namespace accord::correlate
