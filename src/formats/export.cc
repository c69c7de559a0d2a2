#include "accord/formats/export.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "accord/common/encoding.h"
#include "accord/common/ip.h"
#include "accord/common/strings.h"
#include "accord/pattern/pattern.h"

namespace accord::formats {
namespace {

using pattern::ComparisonKind;
using pattern::ComparisonNode;
using pattern::LiteralKind;
using pattern::NodeIndex;
using pattern::ObjectPath;
using pattern::ObservationKind;
using pattern::ObservationNode;
using pattern::Operator;
using pattern::PathStep;
using pattern::StepKind;

constexpr std::array<std::string_view, 5> kExportFormatNames = {"zeek-intel", "suricata-datasets",
                                                                "suricata-iprep", "list", "csv"};

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

using common::AsciiLower;
using common::AsciiToLower;

// ---------------------------------------------------------------------------------------------
// Values: what each sensor path accepts, normalised as formats.h's Value promises.

std::string IpText(const common::IpPrefix& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.family == 4 ? AF_INET : AF_INET6, ip.addr, buf, sizeof buf);
  return buf;
}

// family: 4, 6, or 0 for either (network-traffic references).
bool NormalizeAddress(std::string_view text, int family, Value* out, std::string* why) {
  common::IpPrefix ip;
  if (!common::ParseIpPrefix(text, &ip) || (family != 0 && ip.family != family)) {
    *why = family == 4   ? "is not an IPv4 address or CIDR"
           : family == 6 ? "is not an IPv6 address or CIDR"
                         : "is not an IP address or CIDR";
    return false;
  }
  int width = ip.family == 4 ? 32 : 128;
  // Host bits beyond the prefix are cleared: 10.1.2.3/8 and 10.0.0.0/8 match the same
  // addresses (STIX21-patterning.md §8.6 compares prefixes), and sensors want the network.
  for (int bit = ip.prefix; bit < width; ++bit) {
    ip.addr[bit / 8] = static_cast<uint8_t>(ip.addr[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  out->value = IpText(ip);
  if (ip.prefix == width) {
    out->kind = ip.family == 4 ? ValueKind::kIpv4 : ValueKind::kIpv6;
  } else {
    out->kind = ip.family == 4 ? ValueKind::kIpv4Cidr : ValueKind::kIpv6Cidr;
    common::Append(&out->value, '/', ip.prefix);
  }
  return true;
}

// A host name sensors compare exactly: dot-separated labels of 1..63 bytes of ASCII letters,
// digits, '-', '_' or non-ASCII (UTF-8 of an internationalised name, kept as written), at most
// 253 bytes. No wildcards, no spaces, no control bytes.
bool NormalizeDomain(std::string_view text, Value* out, std::string* why) {
  std::string d = AsciiToLower(text);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.size() > 253) {
    *why = "is not a domain name (empty or longer than 253 bytes)";
    return false;
  }
  size_t label = 0;
  for (char ch : d) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (label == 0) {
        *why = "is not a domain name (empty label)";
        return false;
      }
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
    if (!ok) {
      *why = "is not a domain name (a character outside letters, digits, '-', '_' and '.')";
      return false;
    }
    if (++label > 63) {
      *why = "is not a domain name (a label longer than 63 bytes)";
      return false;
    }
  }
  if (label == 0) {
    *why = "is not a domain name (empty label)";
    return false;
  }
  out->kind = ValueKind::kDomain;
  out->value = std::move(d);
  return true;
}

bool NormalizeHash(std::string_view text, ValueKind kind, size_t hex_digits, Value* out,
                   std::string* why) {
  if (text.size() != hex_digits || !common::IsHex(text)) {
    *why = common::Cat("is not ", hex_digits, " hex digits");
    return false;
  }
  out->kind = kind;
  out->value = AsciiToLower(text);
  return true;
}

enum class PathClass {
  kNone,
  kIpv4,
  kIpv6,
  kIpAny,
  kDomain,
  kUrl,
  kEmail,
  kMd5,
  kSha1,
  kSha256,
  kSha512
};

// "MD5", "SHA-1", "sha256", ... -> the hash class; the STIX hash-algorithm-ov names with the
// common spellings without the dash.
PathClass HashClass(std::string_view key) {
  std::string k;
  for (char c : key) {
    if (c != '-') k.push_back(AsciiLower(c));
  }
  if (k == "md5") return PathClass::kMd5;
  if (k == "sha1") return PathClass::kSha1;
  if (k == "sha256") return PathClass::kSha256;
  if (k == "sha512") return PathClass::kSha512;
  return PathClass::kNone;
}

bool IsKey(const PathStep& s, std::string_view key) {
  return s.kind == StepKind::kKey && s.key == key;
}

PathClass Classify(const pattern::Pattern& p, const ObjectPath& path) {
  std::span<const PathStep> st = p.Steps(path);
  const std::string& t = path.type;
  if (st.size() == 1 && IsKey(st[0], "value")) {
    if (t == "ipv4-addr") return PathClass::kIpv4;
    if (t == "ipv6-addr") return PathClass::kIpv6;
    if (t == "domain-name") return PathClass::kDomain;
    if (t == "url") return PathClass::kUrl;
    if (t == "email-addr") return PathClass::kEmail;
    return PathClass::kNone;
  }
  if (t == "network-traffic" && st.size() == 2 && IsKey(st[1], "value") &&
      (IsKey(st[0], "src_ref") || IsKey(st[0], "dst_ref"))) {
    return PathClass::kIpAny;
  }
  if (t == "email-message" && st.size() == 2 && IsKey(st[1], "value") &&
      (IsKey(st[0], "from_ref") || IsKey(st[0], "sender_ref"))) {
    return PathClass::kEmail;
  }
  if (t == "email-message" && st.size() == 3 && st[1].kind == StepKind::kAnyIndex &&
      IsKey(st[2], "value") &&
      (IsKey(st[0], "to_refs") || IsKey(st[0], "cc_refs") || IsKey(st[0], "bcc_refs"))) {
    return PathClass::kEmail;
  }
  if (t == "file" && st.size() == 2 && IsKey(st[0], "hashes") && st[1].kind == StepKind::kKey) {
    return HashClass(st[1].key);
  }
  return PathClass::kNone;
}

// The path as written in canonical form, for messages: "file:hashes.'SHA-256'".
std::string PathText(const pattern::Pattern& p, const ObjectPath& path) {
  std::string out = common::Cat(path.type, ":");
  bool first = true;
  for (const PathStep& s : p.Steps(path)) {
    switch (s.kind) {
      case StepKind::kKey: {
        if (!first) out += '.';
        bool plain = !s.key.empty() && std::all_of(s.key.begin(), s.key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_';
        });
        if (plain) {
          out += s.key;
        } else {
          common::Append(&out, '\'', s.key, '\'');
        }
        break;
      }
      case StepKind::kIndex: common::Append(&out, '[', s.index, ']'); break;
      case StepKind::kAnyIndex: out += "[*]"; break;
    }
    first = false;
  }
  return out;
}

std::string Quoted(std::string_view s) {
  constexpr size_t kMax = 80;  // messages quote at most this much of a hostile literal
  size_t cut = std::min(s.size(), kMax);
  // Never cut inside a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut < s.size() && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  std::string out = "'";
  for (char c : s.substr(0, cut)) {
    if (IsControl(static_cast<unsigned char>(c))) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += cut < s.size() ? "...'" : "'";
  return out;
}

const char* QualifierName(ObservationKind k) {
  switch (k) {
    case ObservationKind::kWithin: return "WITHIN";
    case ObservationKind::kRepeats: return "REPEATS";
    case ObservationKind::kStartStop: return "START/STOP";
    default: return "?";
  }
}

// Walks the tree; the first refusal stops the walk and is kept in `why`. Only OR nodes are
// descended (every other interior node is refused before its children are visited), and Parse
// flattens nested ORs, so the recursion is a few frames deep; at worst it is bounded by
// ParseOptions::max_depth, like the parser's own.
class Collector {
 public:
  explicit Collector(const pattern::Pattern& p) : p_(p) {}

  bool Observation(NodeIndex i) {
    const ObservationNode& n = p_.observations[i];
    switch (n.kind) {
      case ObservationKind::kSimple: return Comparison(n.comparison);
      case ObservationKind::kOr:
        for (NodeIndex c : p_.Children(n)) {
          if (!Observation(c)) return false;
        }
        return true;
      case ObservationKind::kAnd:
        return Refuse(n.offset, "AND of observations needs more than one value to match");
      case ObservationKind::kFollowedBy:
        return Refuse(n.offset, "FOLLOWEDBY needs a sequence of observations to match");
      case ObservationKind::kWithin:
      case ObservationKind::kRepeats:
      case ObservationKind::kStartStop:
        return Refuse(n.offset, common::Cat("the ", QualifierName(n.kind),
                                            " qualifier has no equivalent in a flat list"));
    }
    return Refuse(n.offset, "unknown observation expression");
  }

  bool Comparison(NodeIndex i) {
    const ComparisonNode& n = p_.comparisons[i];
    if (n.kind == ComparisonKind::kOr) {
      for (NodeIndex c : p_.Children(n)) {
        if (!Comparison(c)) return false;
      }
      return true;
    }
    if (n.kind == ComparisonKind::kAnd) {
      return Refuse(n.offset, "AND of comparisons needs more than one property to match");
    }
    if (n.negated) return Refuse(n.offset, "a negated comparison (NOT) matches everything else");
    if (n.op != Operator::kEqual && n.op != Operator::kIn) {
      return Refuse(n.offset, common::Cat("operator ", pattern::OperatorName(n.op),
                                          " is not an equality (only = and IN are exported)"));
    }
    const ObjectPath& path = p_.PathOf(n);
    PathClass cls = Classify(p_, path);
    if (cls == PathClass::kNone) {
      return Refuse(n.offset, common::Cat("path ", PathText(p_, path),
                                          " is not one sensors look up (addresses, domains, "
                                          "URLs, e-mail addresses, file hashes)"));
    }
    for (const pattern::Literal& lit : p_.Values(n)) {
      if (lit.kind != LiteralKind::kString) {
        return Refuse(lit.offset,
                      common::Cat("the value of ", PathText(p_, path), " is not a string"));
      }
      Value v;
      std::string bad;
      if (!Normalize(cls, lit.text, &v, &bad)) {
        return Refuse(lit.offset,
                      common::Cat(Quoted(lit.text), " (", PathText(p_, path), ") ", bad));
      }
      if (seen_.insert({v.kind, v.value}).second) values_.push_back(std::move(v));
    }
    return true;
  }

  std::vector<Value> TakeValues() { return std::move(values_); }
  const std::string& why() const { return why_; }

 private:
  static bool Normalize(PathClass cls, std::string_view text, Value* v, std::string* bad) {
    switch (cls) {
      case PathClass::kIpv4: return NormalizeAddress(text, 4, v, bad);
      case PathClass::kIpv6: return NormalizeAddress(text, 6, v, bad);
      case PathClass::kIpAny: return NormalizeAddress(text, 0, v, bad);
      case PathClass::kDomain: return NormalizeDomain(text, v, bad);
      case PathClass::kUrl:
        if (text.empty()) {
          *bad = "is empty";
          return false;
        }
        *v = Value{ValueKind::kUrl, std::string(text)};
        return true;
      case PathClass::kEmail: {
        size_t at = text.rfind('@');
        if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) {
          *bad = "is not an e-mail address (local@domain)";
          return false;
        }
        *v = Value{ValueKind::kEmail, std::string(text)};
        return true;
      }
      case PathClass::kMd5: return NormalizeHash(text, ValueKind::kMd5, 32, v, bad);
      case PathClass::kSha1: return NormalizeHash(text, ValueKind::kSha1, 40, v, bad);
      case PathClass::kSha256: return NormalizeHash(text, ValueKind::kSha256, 64, v, bad);
      case PathClass::kSha512: return NormalizeHash(text, ValueKind::kSha512, 128, v, bad);
      case PathClass::kNone: break;
    }
    *bad = "has no sensor equivalent";
    return false;
  }

  bool Refuse(uint32_t offset, std::string_view what) {
    why_ = common::Cat("column ", p_.ColumnOf(offset), ": ", what);
    return false;
  }

  const pattern::Pattern& p_;
  std::vector<Value> values_;
  std::set<std::pair<ValueKind, std::string>> seen_;
  std::string why_;
};

// ---------------------------------------------------------------------------------------------
// Formats

struct Row {
  Value value;
  const ExportIndicator* indicator;
};

// A field whose text is exactly Zeek's unset ("-") or empty ("(empty)") marker.
bool IsZeekMarker(std::string_view s) { return s == "-" || s == "(empty)"; }

// Zeek's ASCII input reader (Input::READER_ASCII) splits a line on '\t', skips lines that start
// with '#', compares the raw field with the unset marker "-", and only then unescapes \xNN in a
// string field (zeek:src/threading/formatters/Ascii.cc, ParseValue; src/util.cc,
// get_unescaped_string). So tab, newline and every other control byte, the backslash itself and
// a leading '#' are written as \xNN, and so is the first byte of a field that is exactly "-" or
// "(empty)", which then reads back as that text instead of as a marker.
std::string ZeekEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  bool marker = IsZeekMarker(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (IsControl(c) || c == '\\' || (i == 0 && (c == '#' || marker))) {
      common::Append(&out, "\\x", kHex[c >> 4], kHex[c & 15]);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Zeek's Intel::URL is "a complete URL without the prefix http://" (what HTTP::build_url
// makes of a request: Host header followed by the request target), so the scheme and the
// fragment are dropped and a bare host gets the "/" a request would send.
std::string ZeekUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep != std::string_view::npos && sep > 0) {
    bool scheme = std::all_of(url.begin(), url.begin() + static_cast<ptrdiff_t>(sep), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '+' || c == '-' || c == '.';
    });
    if (scheme) url.remove_prefix(sep + 3);
  }
  size_t hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  std::string out(url);
  if (out.find('/') == std::string::npos) {
    size_t q = out.find('?');
    out.insert(q == std::string::npos ? out.size() : q, "/");
  }
  return out;
}

const char* ZeekType(ValueKind k) {
  switch (k) {
    case ValueKind::kIpv4:
    case ValueKind::kIpv6: return "Intel::ADDR";
    case ValueKind::kIpv4Cidr:
    case ValueKind::kIpv6Cidr: return "Intel::SUBNET";
    case ValueKind::kDomain: return "Intel::DOMAIN";
    case ValueKind::kUrl: return "Intel::URL";
    case ValueKind::kEmail: return "Intel::EMAIL";
    case ValueKind::kMd5:
    case ValueKind::kSha1:
    case ValueKind::kSha256:
    case ValueKind::kSha512: return "Intel::FILE_HASH";
    case ValueKind::kCve: break;
  }
  return nullptr;
}

// Suricata 7 URL matching: http.host (lower case, no port) and http.uri.raw (the request target
// as sent: path and query, never the fragment). Only http and https URLs (or a URL written
// without a scheme, "host[:port]/path") reach those buffers; nullopt for the rest and for a URL
// without a host.
struct UrlParts {
  std::string host, target;
};
std::optional<UrlParts> SplitUrl(std::string_view url) {
  size_t sep = url.find("://");
  bool has_scheme = sep != std::string_view::npos;
  if (has_scheme) {
    std::string scheme = AsciiToLower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https") return std::nullopt;
    url.remove_prefix(sep + 3);
  }
  size_t end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view() : url.substr(end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!has_scheme) return std::nullopt;  // "mailto:a@b" and the like are no HTTP URLs
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 1);
    if (!port.empty() && port[0] != ':') return std::nullopt;
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon);
    }
  }
  if (!port.empty()) port.remove_prefix(1);
  if (host.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  UrlParts parts{AsciiToLower(host), std::string(rest)};
  if (parts.target.empty() || parts.target[0] != '/') parts.target.insert(0, "/");
  return parts;
}

// A reason when format `f` cannot carry `v`, or empty.
std::string CannotCarry(ExportFormat f, const Value& v) {
  bool has_line_break = v.value.find_first_of("\r\n") != std::string::npos;
  switch (f) {
    case ExportFormat::kZeekIntel: return {};
    case ExportFormat::kSuricataDatasets:
      switch (v.kind) {
        case ValueKind::kIpv4Cidr:
        case ValueKind::kIpv6Cidr:
          return "datasets hold exact addresses, not CIDRs (suricata-iprep takes CIDRs)";
        case ValueKind::kEmail: return "Suricata has no dataset rule for e-mail addresses";
        case ValueKind::kSha512: return "Suricata has no SHA-512 file hash keyword";
        case ValueKind::kUrl:
          return SplitUrl(v.value) ? std::string()
                                   : std::string(
                                         "Suricata's HTTP buffers see only http(s) "
                                         "URLs with a host");
        default: return {};
      }
    case ExportFormat::kSuricataIprep:
      switch (v.kind) {
        case ValueKind::kIpv4:
        case ValueKind::kIpv6:
        case ValueKind::kIpv4Cidr:
        case ValueKind::kIpv6Cidr: return {};
        default: return "IP reputation holds addresses and CIDRs only";
      }
    case ExportFormat::kList:
      return has_line_break ? "a one-value-a-line list cannot hold a line break" : "";
    case ExportFormat::kCsv: return {};
  }
  return "unknown format";
}

std::string JoinLines(const std::set<std::string>& lines, std::string_view eol = "\n") {
  std::string out;
  for (const std::string& l : lines) common::Append(&out, l, eol);
  return out;
}

std::string Desc(const ExportIndicator& ind) {
  if (ind.name.empty()) return ind.id;
  if (ind.id.empty()) return ind.name;
  return common::Cat(ind.name, " (", ind.id, ")");
}

std::vector<ExportedFile> WriteZeek(const std::vector<Row>& rows, const ExportOptions& o) {
  std::set<std::string> lines;
  for (const Row& r : rows) {
    const ExportIndicator& ind = *r.indicator;
    std::string indicator =
        r.value.kind == ValueKind::kUrl ? ZeekUrl(r.value.value) : r.value.value;
    // meta.source is the one MetaData field without &optional: never unset.
    std::string_view source = ind.source;
    if (source.empty()) source = o.default_source;
    if (source.empty()) source = "accord";
    std::string desc = Desc(ind);
    std::string url = o.zeek_url_prefix.empty() ? "-" : ZeekEscape(o.zeek_url_prefix + ind.id);
    lines.insert(common::Cat(ZeekEscape(indicator), '\t', ZeekType(r.value.kind), '\t',
                             ZeekEscape(source), '\t', desc.empty() ? "-" : ZeekEscape(desc), '\t',
                             url));
  }
  return {{"accord.intel",
           common::Cat("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n",
                       JoinLines(lines))}};
}

// confidence 0..100 -> Suricata IP reputation score 1..127; absent -> 127.
int IprepScore(int confidence) {
  if (confidence < 0) return 127;
  int c = std::min(confidence, 100);
  return std::max(1, (c * 127 + 50) / 100);
}

// confidence 0..100 -> datarep reputation 0..100; absent -> 100.
int Reputation(int confidence) { return confidence < 0 ? 100 : std::min(confidence, 100); }

std::string Rule(uint32_t sid, std::string_view proto, std::string_view msg,
                 std::string_view body) {
  return common::Cat("alert ", proto, " any any -> any any (msg:\"Accord: ", msg, "\"; ", body,
                     " sid:", sid, "; rev:1;)\n");
}

std::string DatasetCheck(std::string_view name, std::string_view type) {
  return common::Cat("dataset:isset,", name, ",type ", type, ",load ", name, ".lst;");
}

std::vector<ExportedFile> WriteDatasets(const std::vector<Row>& rows, const ExportOptions& o) {
  std::set<std::string> domains, url_hosts, url_paths, md5, sha1, sha256, ipv4, ipv6;
  std::map<std::string, int> domain_rep;
  for (const Row& r : rows) {
    const std::string& v = r.value.value;
    switch (r.value.kind) {
      case ValueKind::kDomain: {
        std::string b64 = common::Base64Encode(v);
        domains.insert(b64);
        int rep = Reputation(r.indicator->confidence);
        auto [it, inserted] = domain_rep.emplace(b64, rep);
        if (!inserted) it->second = std::max(it->second, rep);
        break;
      }
      case ValueKind::kUrl: {
        std::optional<UrlParts> parts = SplitUrl(v);
        url_hosts.insert(common::Base64Encode(parts->host));
        url_paths.insert(common::Base64Encode(parts->target));
        break;
      }
      case ValueKind::kMd5: md5.insert(v); break;
      case ValueKind::kSha1: sha1.insert(v); break;
      case ValueKind::kSha256: sha256.insert(v); break;
      case ValueKind::kIpv4: ipv4.insert(v); break;
      case ValueKind::kIpv6: ipv6.insert(v); break;
      default: break;  // CannotCarry refused the others
    }
  }
  std::vector<ExportedFile> files;
  std::string rules =
      "# Accord sensor export for Suricata 7: datasets and hash lists in this directory.\n";
  auto sid = [&](uint32_t n) { return o.sid_base + n; };
  if (!domains.empty()) {
    std::string check = DatasetCheck("accord-domains", "string");
    rules +=
        Rule(sid(1), "dns", "DNS query for a listed domain", common::Cat("dns.query; ", check));
    rules +=
        Rule(sid(2), "http", "HTTP Host of a listed domain", common::Cat("http.host; ", check));
    rules += Rule(sid(3), "tls", "TLS SNI of a listed domain", common::Cat("tls.sni; ", check));
    files.push_back({"accord-domains.lst", JoinLines(domains)});
    std::string rep;
    for (const auto& [b64, score] : domain_rep) common::Append(&rep, b64, ',', score, '\n');
    files.push_back({"accord-domains.rep", std::move(rep)});
  }
  if (!url_hosts.empty()) {
    rules += Rule(sid(4), "http", "HTTP request for a listed URL (host and path listed)",
                  common::Cat("http.host; ", DatasetCheck("accord-url-hosts", "string"),
                              " http.uri.raw; ", DatasetCheck("accord-url-paths", "string")));
    files.push_back({"accord-url-hosts.lst", JoinLines(url_hosts)});
    files.push_back({"accord-url-paths.lst", JoinLines(url_paths)});
  }
  if (!md5.empty()) {
    rules += Rule(sid(5), "http", "HTTP file with a listed MD5", "filemd5:accord-md5.lst;");
    files.push_back({"accord-md5.lst", JoinLines(md5)});
  }
  if (!sha1.empty()) {
    rules += Rule(sid(6), "http", "HTTP file with a listed SHA-1", "filesha1:accord-sha1.lst;");
    files.push_back({"accord-sha1.lst", JoinLines(sha1)});
  }
  if (!sha256.empty()) {
    rules +=
        Rule(sid(7), "http", "HTTP file with a listed SHA-256", "filesha256:accord-sha256.lst;");
    files.push_back({"accord-sha256.lst", JoinLines(sha256)});
  }
  if (!ipv4.empty()) {
    std::string check = DatasetCheck("accord-ipv4", "ipv4");
    rules += Rule(sid(8), "ip", "traffic to a listed IPv4 address", common::Cat("ip.dst; ", check));
    rules +=
        Rule(sid(9), "ip", "traffic from a listed IPv4 address", common::Cat("ip.src; ", check));
    files.push_back({"accord-ipv4.lst", JoinLines(ipv4)});
  }
  if (!ipv6.empty()) {
    std::string check = DatasetCheck("accord-ipv6", "ip");
    rules +=
        Rule(sid(10), "ip", "traffic to a listed IPv6 address", common::Cat("ip.dst; ", check));
    rules +=
        Rule(sid(11), "ip", "traffic from a listed IPv6 address", common::Cat("ip.src; ", check));
    files.push_back({"accord-ipv6.lst", JoinLines(ipv6)});
  }
  files.push_back({"accord.rules", std::move(rules)});
  return files;
}

std::vector<ExportedFile> WriteIprep(const std::vector<Row>& rows, const ExportOptions& o) {
  std::map<std::string, int> score;
  for (const Row& r : rows) {
    int s = IprepScore(r.indicator->confidence);
    auto [it, inserted] = score.emplace(r.value.value, s);
    if (!inserted) it->second = std::max(it->second, s);
  }
  std::string iprep;
  for (const auto& [addr, s] : score) common::Append(&iprep, addr, ",1,", s, '\n');
  return {{"accord-iprep.rules",
           Rule(o.sid_base + 20, "ip", "traffic with an address on Accord's reputation list",
                "iprep:any,AccordBadHosts,>,0;")},
          {"accord.iprep", std::move(iprep)},
          {"categories.txt", "1,AccordBadHosts,Accord indicators\n"}};
}

std::vector<ExportedFile> WriteLists(const std::vector<Row>& rows) {
  std::map<std::string, std::set<std::string>> by_kind;
  for (const Row& r : rows) {
    by_kind[common::Cat(ValueKindName(r.value.kind), ".txt")].insert(r.value.value);
  }
  std::vector<ExportedFile> files;
  files.reserve(by_kind.size());
  for (const auto& [name, values] : by_kind) files.push_back({name, JoinLines(values)});
  return files;
}

// RFC 4180 §2: a field with a comma, a double quote, CR or LF is enclosed in double quotes and
// its double quotes are doubled.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::vector<ExportedFile> WriteCsv(const std::vector<Row>& rows) {
  // Sorted on the fields, not on their encoding, so that quoting does not decide the order.
  std::set<std::array<std::string, 5>> records;
  for (const Row& r : rows) {
    records.insert({r.value.value, std::string(ValueKindName(r.value.kind)), r.indicator->id,
                    r.indicator->name, r.indicator->source});
  }
  std::string out = "value,type,indicator_id,name,source\r\n";
  for (const auto& rec : records) {
    for (size_t i = 0; i < rec.size(); ++i) {
      if (i) out += ',';
      out += CsvField(rec[i]);
    }
    out += "\r\n";
  }
  return {{"indicators.csv", std::move(out)}};
}

}  // namespace

std::vector<Value> ExportableValues(const pattern::Pattern& p, std::string* why_not) {
  if (why_not) why_not->clear();
  if (p.root == pattern::kNoNode || p.root >= p.observations.size()) {
    if (why_not) *why_not = "empty pattern";
    return {};
  }
  Collector c(p);
  if (!c.Observation(p.root)) {
    if (why_not) *why_not = c.why();
    return {};
  }
  return c.TakeValues();
}

std::vector<Value> ExportableValues(std::string_view pattern_text, std::string* why_not) {
  absl::StatusOr<pattern::Pattern> p = pattern::Parse(pattern_text);
  if (!p.ok()) {
    if (why_not) *why_not = common::Cat("pattern does not parse: ", p.status().message());
    return {};
  }
  return ExportableValues(*p, why_not);
}

std::string_view ExportFormatName(ExportFormat f) {
  return kExportFormatNames[static_cast<size_t>(f)];
}

absl::StatusOr<ExportFormat> ParseExportFormat(std::string_view name) {
  for (size_t i = 0; i < kExportFormatNames.size(); ++i) {
    if (name == kExportFormatNames[i]) return static_cast<ExportFormat>(i);
  }
  return absl::InvalidArgumentError(
      common::Cat("unknown export format '", name,
                  "': sensor exports are zeek-intel, suricata-datasets, suricata-iprep, list "
                  "and csv"));
}

absl::StatusOr<std::vector<ExportedFile>> ExportIndicators(ExportFormat f,
                                                           const std::vector<ExportIndicator>& in,
                                                           ExportStats* stats,
                                                           const ExportOptions& options) {
  constexpr uint32_t kLastSidOffset = 20;
  if (options.sid_base > UINT32_MAX - kLastSidOffset) {
    return absl::InvalidArgumentError(common::Cat("sid base ", options.sid_base,
                                                  " leaves no room for Accord's ", kLastSidOffset,
                                                  " rule ids"));
  }
  if (static_cast<size_t>(f) >= kExportFormatNames.size()) {
    return absl::InvalidArgumentError("unknown export format");
  }
  ExportStats local;
  ExportStats& st = stats ? *stats : local;
  st = ExportStats();
  auto reason = [&](const ExportIndicator& ind, std::string_view why) {
    if (st.skipped_reasons.size() < options.max_reasons) {
      st.skipped_reasons.push_back(common::Cat(ind.id, ": ", why));
    }
  };
  std::vector<Row> rows;
  std::set<std::pair<ValueKind, std::string>> distinct;
  for (const ExportIndicator& ind : in) {
    std::string why;
    std::vector<Value> values = ExportableValues(ind.pattern, &why);
    size_t kept = 0;
    std::string first_refusal;
    for (Value& v : values) {
      std::string cannot = CannotCarry(f, v);
      if (!cannot.empty()) {
        ++st.values_skipped;
        if (first_refusal.empty()) {
          first_refusal = common::Cat(ValueKindName(v.kind), " ", Quoted(v.value), ": ", cannot);
        }
        continue;
      }
      distinct.insert({v.kind, v.value});
      rows.push_back({std::move(v), &ind});
      ++kept;
    }
    if (kept > 0) {
      ++st.indicators;
      continue;
    }
    ++st.skipped;
    reason(ind, values.empty() ? why
                               : common::Cat(ExportFormatName(f), " carries none of its values (",
                                             first_refusal, ")"));
  }
  st.values = distinct.size();
  std::vector<ExportedFile> files;
  switch (f) {
    case ExportFormat::kZeekIntel: files = WriteZeek(rows, options); break;
    case ExportFormat::kSuricataDatasets: files = WriteDatasets(rows, options); break;
    case ExportFormat::kSuricataIprep: files = WriteIprep(rows, options); break;
    case ExportFormat::kList: files = WriteLists(rows); break;
    case ExportFormat::kCsv: files = WriteCsv(rows); break;
  }
  std::sort(files.begin(), files.end(),
            [](const ExportedFile& a, const ExportedFile& b) { return a.name < b.name; });
  return files;
}

}  // namespace accord::formats
