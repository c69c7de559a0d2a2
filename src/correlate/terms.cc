#include "accord/correlate/terms.h"

#include <arpa/inet.h>

#include <simdjson.h>
#include <algorithm>
#include <cstdio>
#include <optional>

#include "accord/common/ip.h"
#include "accord/common/strings.h"
#include "accord/formats/text.h"
#include "accord/stix/dom.h"

namespace accord::correlate {
namespace {

using formats::Value;
using formats::ValueKind;

// The network of a CIDR, canonical ("10.1.2.3/8" -> "10.0.0.0/8"); empty when it does not parse.
std::string CanonicalCidr(std::string_view cidr) {
  common::IpPrefix p;
  if (!common::ParseIpPrefix(cidr, &p)) return {};
  const int bytes = p.family == 4 ? 4 : 16;
  for (int i = 0; i < bytes; ++i) {
    int keep = std::clamp(p.prefix - i * 8, 0, 8);
    p.addr[i] = static_cast<uint8_t>(p.addr[i] & (keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff));
  }
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(p.family == 4 ? AF_INET : AF_INET6, p.addr, buf, sizeof buf) == nullptr) return {};
  return common::Cat(buf, "/", p.prefix);
}

std::string CanonicalIpv6(std::string_view a) {
  common::IpPrefix p;
  if (!common::ParseIpPrefix(a, &p) || p.family != 6) return std::string(a);
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, p.addr, buf, sizeof buf) == nullptr) return std::string(a);
  return buf;
}

std::string Ipv4Numeric(std::string_view a) {
  common::IpPrefix p;
  if (!common::ParseIpPrefix(a, &p) || p.family != 4) return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x", p.addr[0], p.addr[1], p.addr[2], p.addr[3]);
  return common::Cat("ipv4n:", buf);
}

// The host of a URL, as a value (domain or address); nullopt when it has none.
std::optional<Value> UrlHost(std::string_view url) {
  size_t s = url.find("://");
  if (s == std::string_view::npos) return std::nullopt;
  std::string_view rest = url.substr(s + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    rest = rest.substr(1, rest.find(']') - 1);
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return std::nullopt;
  return formats::ClassifyToken(rest);
}

// Terms are collected as they come and made unique once, at the end (Unique): a report of
// 150,000 object_refs must not cost a search per ref.
void Add(std::vector<std::string>* out, std::string term) {
  if (!term.empty()) out->push_back(std::move(term));
}

void Unique(std::vector<std::string>* out, size_t from) {
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(from), out->end());
  out->erase(std::unique(out->begin() + static_cast<std::ptrdiff_t>(from), out->end()), out->end());
}

// A value's term and its parts' terms.
void AddValue(const Value& v, std::vector<std::string>* out) {
  Add(out, TermOf(v));
  if (v.kind == ValueKind::kIpv4) Add(out, Ipv4Numeric(v.value));
  if (v.kind == ValueKind::kUrl) {
    if (auto host = UrlHost(v.value)) {
      Add(out, TermOf(*host));
      if (host->kind == ValueKind::kIpv4) Add(out, Ipv4Numeric(host->value));
    }
  }
  if (v.kind == ValueKind::kEmail) {
    size_t at = v.value.rfind('@');
    if (at != std::string::npos) Add(out, common::Cat("domain:", v.value.substr(at + 1)));
  }
}

// Every single-quoted literal of a pattern (escapes \' and \\ undone).
std::vector<std::string> Literals(std::string_view pattern) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '\'') {
      ++i;
      continue;
    }
    std::string lit;
    ++i;
    while (i < pattern.size() && pattern[i] != '\'') {
      if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
      lit.push_back(pattern[i++]);
    }
    ++i;
    out.push_back(std::move(lit));
  }
  return out;
}

// Every string literal of the pattern that is a value, whatever the pattern's shape (OR, AND,
// FOLLOWEDBY, qualifiers). PERF: a scan of the text, not a parse: the ingest path has checked
// the pattern already, and this runs for every indicator stored.
void PatternTerms(std::string_view pattern, std::vector<std::string>* out) {
  for (const auto& lit : Literals(pattern)) {
    if (auto v = formats::ClassifyToken(lit)) AddValue(*v, out);
  }
}

std::string_view Str(simdjson::dom::object o, const char* key) {
  std::string_view v;
  if (o[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

void ScoTerms(std::string_view type, simdjson::dom::object o, std::vector<std::string>* out) {
  if (type == "domain-name" || type == "ipv4-addr" || type == "ipv6-addr" || type == "url" ||
      type == "email-addr") {
    if (auto c = formats::ClassifyToken(Str(o, "value"))) AddValue(*c, out);
  } else if (type == "file") {
    simdjson::dom::object hashes;
    if (o["hashes"].get_object().get(hashes) != simdjson::SUCCESS) return;
    for (auto field : hashes) {
      std::string_view h;
      if (field.value.get_string().get(h) != simdjson::SUCCESS) continue;
      auto c = formats::ClassifyToken(h);
      if (c && (c->kind == ValueKind::kMd5 || c->kind == ValueKind::kSha1 ||
                c->kind == ValueKind::kSha256 || c->kind == ValueKind::kSha512)) {
        AddValue(*c, out);
      }
    }
  }
}

void TextTerms(simdjson::dom::object o, std::initializer_list<const char*> keys,
               std::vector<std::string>* out) {
  for (const char* k : keys) {
    std::string_view text = Str(o, k);
    if (text.empty()) continue;
    for (const auto& v : formats::ExtractValues(text)) AddValue(v, out);
  }
}

void RefTerms(simdjson::dom::object o, const char* key, std::vector<std::string>* out) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS) return;
  std::string_view ref;
  if (e.get_string().get(ref) == simdjson::SUCCESS) {
    Add(out, common::Cat("ref:", ref));
    return;
  }
  simdjson::dom::array refs;
  if (e.get_array().get(refs) != simdjson::SUCCESS) return;
  out->reserve(out->size() + refs.size());
  for (auto r : refs) {
    if (r.get_string().get(ref) == simdjson::SUCCESS) Add(out, common::Cat("ref:", ref));
  }
}

}  // namespace

std::string TermOf(const Value& v) {
  std::string value = v.value;
  if (v.kind == ValueKind::kIpv4Cidr || v.kind == ValueKind::kIpv6Cidr) {
    std::string c = CanonicalCidr(v.value);
    if (!c.empty()) value = std::move(c);
  } else if (v.kind == ValueKind::kIpv6) {
    value = CanonicalIpv6(v.value);
  }
  return common::Cat(formats::ValueKindName(v.kind), ":", value);
}

void DeriveTerms(const stix::ObjectRecord& r, std::vector<std::string>* out) {
  const size_t from = out->size();
  DeriveTermsUnsorted(r, out);
  Unique(out, from);
}

namespace {

// Types whose own properties hold no value: not parsed at all (ATT&CK is half relationships).
bool HoldsNoValue(std::string_view type) {
  return type == "relationship" || type == "marking-definition" || type == "identity" ||
         type == "language-content" || type == "extension-definition";
}

// The terms of `r`, from `o`, the object its JSON holds.
void TermsOfObject(const stix::ObjectRecord& r, simdjson::dom::object o,
                   std::vector<std::string>* out) {
  if (r.type == "indicator") {
    std::string_view pattern_type = Str(o, "pattern_type");
    if (pattern_type.empty() || pattern_type == "stix") PatternTerms(Str(o, "pattern"), out);
    return;
  }
  if (stix::IsScoType(r.type)) {
    ScoTerms(r.type, o, out);
    return;
  }
  if (r.type == "observed-data") {
    simdjson::dom::object objs;
    if (o["objects"].get_object().get(objs) == simdjson::SUCCESS) {
      for (auto field : objs) {
        simdjson::dom::object sco;
        if (field.value.get_object().get(sco) != simdjson::SUCCESS) continue;
        std::string_view type;
        if (sco["type"].get_string().get(type) == simdjson::SUCCESS) ScoTerms(type, sco, out);
      }
    }
    RefTerms(o, "object_refs", out);
    return;
  }
  if (r.type == "sighting") {
    RefTerms(o, "sighting_of_ref", out);
    return;
  }
  if (r.type == "report" || r.type == "note" || r.type == "opinion" || r.type == "grouping") {
    RefTerms(o, "object_refs", out);
    TextTerms(o, {"name", "description", "content", "abstract", "explanation"}, out);
    return;
  }
  TextTerms(o, {"name", "description"}, out);
}

// An indicator whose pattern the record holds: its terms without a parse. False otherwise.
bool PatternTermsOf(const stix::ObjectRecord& r, std::vector<std::string>* out) {
  if (r.type != "indicator" || r.pattern.empty()) return false;
  if (r.pattern_type.empty() || r.pattern_type == "stix") PatternTerms(r.pattern, out);
  return true;
}

}  // namespace

void DeriveTermsUnsorted(const stix::ObjectRecord& r, std::vector<std::string>* out) {
  if (HoldsNoValue(r.type) || PatternTermsOf(r, out)) return;
  // PERF: simdjson, one parser per thread (the ingest path derives on its reading thread).
  thread_local simdjson::dom::parser parser;
  stix::ReserveForLarge(&parser, r.json.size());  // a report of 150,000 refs: 7 MB
  simdjson::dom::object o;
  if (parser.parse(r.json).get_object().get(o) != simdjson::SUCCESS) return;
  TermsOfObject(r, o, out);
}

void DeriveTermsFromDom(const stix::ObjectRecord& r, const simdjson::dom::object& o,
                        std::vector<std::string>* out) {
  if (HoldsNoValue(r.type) || PatternTermsOf(r, out)) return;
  TermsOfObject(r, o, out);
}

std::vector<std::string> QueryTerms(const Value& v) {
  std::vector<std::string> out;
  AddValue(v, &out);
  // The CIDRs that would hold an address: one term per prefix length.
  if (v.kind == ValueKind::kIpv4 || v.kind == ValueKind::kIpv6) {
    const int bits = v.kind == ValueKind::kIpv4 ? 32 : 128;
    for (int n = 0; n < bits; ++n) {
      std::string c = CanonicalCidr(common::Cat(v.value, "/", n));
      if (!c.empty()) {
        Add(&out, common::Cat(v.kind == ValueKind::kIpv4 ? "ipv4-cidr:" : "ipv6-cidr:", c));
      }
    }
  }
  Unique(&out, 0);
  return out;
}

bool AddressRange(const Value& v, std::string* lo, std::string* hi) {
  if (v.kind != ValueKind::kIpv4Cidr) return false;
  common::IpPrefix p;
  if (!common::ParseIpPrefix(v.value, &p) || p.family != 4) return false;
  uint32_t a = (uint32_t{p.addr[0]} << 24) | (uint32_t{p.addr[1]} << 16) |
               (uint32_t{p.addr[2]} << 8) | uint32_t{p.addr[3]};
  uint32_t mask = p.prefix == 0 ? 0 : ~uint32_t{0} << (32 - p.prefix);
  uint32_t first = a & mask, last = first | ~mask;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", first);
  *lo = common::Cat("ipv4n:", buf);
  std::snprintf(buf, sizeof buf, "%08x", last);
  *hi = common::Cat("ipv4n:", buf);
  return true;
}

std::pair<std::string, std::string> SplitTerm(const std::string& term) {
  size_t c = term.find(':');
  if (c == std::string::npos) return {"", term};
  return {term.substr(0, c), term.substr(c + 1)};
}

}  // namespace accord::correlate
