#include "accord/formats/text.h"

#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <unordered_set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "accord/common/encoding.h"
#include "accord/common/ip.h"
#include "accord/common/strings.h"

namespace accord::formats {
namespace {

using common::AsciiLower;
using common::AsciiToLower;
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsLabelChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '-'; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != prefix[i]) return false;
  }
  return true;
}

const psl_ctx_t* Psl() {
  // psl_latest picks the newer of libpsl's built-in list and Debian's publicsuffix files.
  static const psl_ctx_t* const psl = [] {
    const psl_ctx_t* p = psl_latest(nullptr);
    if (p == nullptr) p = psl_load_file("/usr/share/publicsuffix/public_suffix_list.dat");
    if (p == nullptr) p = psl_builtin();
    return p;
  }();
  return psl;
}

// Bracketed defangs: the text between the brackets, and what it stands for.
struct Defang {
  std::string_view inner;
  std::string_view plain;
};
constexpr std::array<Defang, 9> kBracketed = {{
    {".", "."},
    {"dot", "."},
    {"@", "@"},
    {"at", "@"},
    {":", ":"},
    {"://", "://"},
    {":/", "://"},  // "[:/]/" is rare; "hxxp[:/]/x" reads as a scheme
    {"/", "/"},
    {"d", "."},  // [d]: seen in some vendors' reports
}};

// Byte classes, one per byte. Tokens end at kDelimiter bytes: space and control bytes, quotes,
// <>, ',', ';', '|', backquote, braces, backslash and '^'. PERF: one table lookup a byte, as the
// tokeniser tests every byte of the text and ClassifyInto every byte of a token.
enum : uint8_t {
  kDelimiter = 1,
  kHexDigit = 2,
  kDot = 4,
  kColon = 8,
  kAt = 16,
  kBracket = 32,  // ( ) [ ]
  kOther = 64,
};
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  t.fill(kOther);
  for (int c = 0; c <= ' '; ++c) t[static_cast<size_t>(c)] = kDelimiter;
  t[0x7f] = kDelimiter;
  for (char c : std::string_view("\"'<>,;|`{}\\^")) t[static_cast<unsigned char>(c)] = kDelimiter;
  for (char c : std::string_view("0123456789abcdefABCDEF"))
    t[static_cast<unsigned char>(c)] = kHexDigit;
  t['.'] = kDot;
  t[':'] = kColon;
  t['@'] = kAt;
  for (char c : std::string_view("()[]")) t[static_cast<unsigned char>(c)] = kBracket;
  return t;
}();
inline uint8_t ClassOf(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

bool IsEdgePunct(char c) {
  switch (c) {
    case '(':
    case ')':
    case '[':
    case ']':
    case '.':
    case ':':
    case '!':
    case '?':
    case '*':
    case '=': return true;
    default: return false;
  }
}

std::string_view Trim(std::string_view t) {
  while (!t.empty() && IsEdgePunct(t.front())) t.remove_prefix(1);
  while (!t.empty() && IsEdgePunct(t.back())) {
    // A URL may end in '/' or ')' of a balanced pair; a closing ')' without '(' is prose.
    if (t.back() == ')' && t.find('(') != std::string_view::npos) break;
    t.remove_suffix(1);
  }
  return t;
}

// A syntactically valid host name: labels of letters, digits and '-', not at a label's ends,
// 1..63 bytes, 253 in all, at least two labels, the last one not all digits.
bool IsHostName(std::string_view s) {
  if (s.size() < 3 || s.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    size_t end = dot == std::string_view::npos ? s.size() : dot;
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsLabelChar(c)) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) {
      bool all_digits = std::all_of(label.begin(), label.end(), IsDigit);
      if (all_digits) return false;
      break;
    }
    start = dot + 1;
  }
  return labels >= 2;
}

// File extensions that are also top-level domains: a two-label name ending in one of these
// in prose is a file name ("invoice.zip", "setup.py", "README.md").
const std::unordered_set<std::string_view>& FileExtensionTlds() {
  static const auto* const s = new std::unordered_set<std::string_view>{
      "zip", "mov",  "py",   "md",  "sh",   "rs",  "pl",  "ps",   "so",  "pm",   "tf",  "am",
      "ac",  "app",  "cab",  "exe", "dll",  "bat", "bin", "dat",  "doc", "docx", "xls", "xlsx",
      "ppt", "pdf",  "js",   "vbs", "jar",  "lnk", "hta", "iso",  "img", "msi",  "scr", "txt",
      "log", "json", "xml",  "yml", "yaml", "cfg", "ini", "tmp",  "rar", "7z",   "gz",  "tar",
      "png", "jpg",  "gif",  "htm", "html", "php", "asp", "aspx", "jsp", "css",  "c",   "h",
      "cpp", "hpp",  "java", "rb",  "go",   "mp3", "mp4", "csv"};
  return *s;
}

// Receivers that start dotted identifiers in code ("self.name", "os.run"): a two-label name
// whose first label is one of these is code, not a domain.
const std::unordered_set<std::string_view>& CodeReceivers() {
  static const auto* const s = new std::unordered_set<std::string_view>{
      "self", "this",   "os",      "sys",      "window", "document", "console",
      "math", "json",   "obj",     "std",      "np",     "pd",       "re",
      "req",  "res",    "request", "response", "args",   "kwargs",   "ctx",
      "app",  "module", "exports", "process",  "event",  "err",      "e",
      "x",    "cls",    "super",   "system",   "string", "object",   "array",
      "list", "dict",   "config",  "settings", "logger", "log"};
  return *s;
}

// True when `domain` (lower case, 2+ labels, NUL-terminated) is itself an ICANN public suffix
// ("co.uk"); private ones that are also real hosts ("blogspot.com") stay names.
bool IsIcannSuffix(const char* domain) {
  return psl_is_public_suffix2(Psl(), domain, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

// Whether a last label (lower case, NUL-terminated) is a public suffix, the list's implicit "*"
// rule aside.
bool IsSuffixTld(const char* tld) {
  return psl_is_public_suffix2(Psl(), tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

// Values in order of first appearance, each (kind, value) once. PERF: the set holds 64-bit
// entries, a value's index and 32 bits of its hash, so a value is stored once (a set of strings
// kept a second copy of each), hashed once (growing the set rehashes the entries alone), and an
// entry whose hash bits differ is passed over without reading its value (a read of a value is
// a cache miss: the Unit 42 lists give 140,684 distinct values).
class ValueSet {
 public:
  ValueSet() = default;
  ValueSet(const ValueSet&) = delete;
  ValueSet& operator=(const ValueSet&) = delete;

  // Appends `*v` unless an equal value is in. `*v` is taken when appended and left as it was
  // otherwise (its buffer reused by the caller).
  void Insert(Value* v) {
    // A value takes 4 bytes of text at least, so a text of less than 16 GiB stays below.
    ACCORD_CHECK(values_.size() < kIndexMask);
    uint64_t entry = HashBits(v->value) | values_.size();
    values_.push_back(std::move(*v));
    if (index_.insert(entry).second) return;
    *v = std::move(values_.back());
    values_.pop_back();
  }
  bool Contains(ValueKind kind, std::string_view value) const {
    return index_.contains(Probe{HashBits(value), kind, value});
  }
  std::vector<Value> Take() { return std::move(values_); }

 private:
  static constexpr uint64_t kIndexMask = 0xffffffff;
  static uint64_t HashBits(std::string_view value) {
    uint64_t h = absl::Hash<std::string_view>{}(value);
    return (h ^ (h >> 32)) << 32;
  }
  // A value looked up without an index.
  struct Probe {
    uint64_t hash_bits;
    ValueKind kind;
    std::string_view value;
  };
  struct Hash {
    using is_transparent = void;
    // The hash bits spread over 64 (the table takes the 7 low bits and the rest apart).
    static size_t Spread(uint64_t bits) { return (bits >> 32) * 0x9E3779B97F4A7C15u; }
    size_t operator()(uint64_t entry) const { return Spread(entry); }
    size_t operator()(const Probe& p) const { return Spread(p.hash_bits); }
  };
  struct Eq {
    using is_transparent = void;
    const ValueSet* set;
    bool operator()(uint64_t a, uint64_t b) const {
      if (a == b) return true;
      const Value& y = set->values_[b & kIndexMask];
      return (*this)(a, Probe{b, y.kind, y.value});
    }
    bool operator()(uint64_t a, const Probe& p) const {
      if ((a ^ p.hash_bits) >> 32 != 0) return false;
      const Value& x = set->values_[a & kIndexMask];
      return x.kind == p.kind && x.value == p.value;
    }
    bool operator()(const Probe& p, uint64_t a) const { return (*this)(a, p); }
  };
  std::vector<Value> values_;
  absl::flat_hash_set<uint64_t, Hash, Eq> index_{0, Hash{}, Eq{this}};
};

// Memos of ClassifyInto's pure checks, for one run over a text. Not thread-safe.
class ClassifyMemo {
 public:
  // `found`: the values found so far, or null.
  explicit ClassifyMemo(const ValueSet* found) : found_(found) {}

  // IsSuffixTld(tld), `size` bytes. PERF: the answer depends on the label only, and a text has
  // few distinct last labels (the Unit 42 lists: 16.6 MB, 140,684 values, 1,140 labels), so
  // libpsl is asked once per label instead of twice per domain. Bounded, as junk may have many.
  bool IsSuffixTld(const char* tld, size_t size) {
    // absl::string_view: the map's heterogeneous lookup (Debian's abseil has its own type).
    absl::string_view key(tld, size);
    if (auto it = tld_verdicts_.find(key); it != tld_verdicts_.end()) return it->second;
    bool suffix = formats::IsSuffixTld(tld);
    if (tld_verdicts_.size() < kMaxLabels) tld_verdicts_.emplace(key, suffix);
    return suffix;
  }

  // True when `domain` was found before as a domain, so it is no ICANN suffix: IsIcannSuffix
  // depends on the name only. PERF: about a third of the names that reach that test in the
  // Unit 42 lists are repeats; skipping libpsl for them saves about 10% of the corpus's time.
  bool KnownDomain(std::string_view domain) const {
    return found_ != nullptr && found_->Contains(ValueKind::kDomain, domain);
  }

 private:
  static constexpr size_t kMaxLabels = 4096;
  const ValueSet* found_;
  absl::flat_hash_map<std::string, bool> tld_verdicts_;
};

// The domain `t` is, lower-cased into `*d`; false when it is none (then `*d` is unspecified).
// `memo`: may be null (libpsl is asked each time).
bool ClassifyDomainInto(std::string_view t, bool prose, ClassifyMemo* memo, std::string* d) {
  if (!IsHostName(t) || Psl() == nullptr) return false;
  // PERF: the last label must be a TLD; checked on a stack copy before any allocation.
  // IsHostName bounds a label to 63 bytes.
  size_t last = t.rfind('.') + 1;
  std::string_view tld = t.substr(last);
  char buf[64];
  for (size_t k = 0; k < tld.size(); ++k) buf[k] = AsciiLower(tld[k]);
  buf[tld.size()] = '\0';
  if (!(memo != nullptr ? memo->IsSuffixTld(buf, tld.size()) : IsSuffixTld(buf))) return false;
  if (prose) {
    // camelCase inside a label ("getElementById") is code.
    for (size_t i = 1; i < t.size(); ++i) {
      if (t[i - 1] >= 'a' && t[i - 1] <= 'z' && t[i] >= 'A' && t[i] <= 'Z') return false;
    }
  }
  d->resize(t.size());
  for (size_t k = 0; k < t.size(); ++k) (*d)[k] = AsciiLower(t[k]);
  if (prose) {
    size_t dot = d->find('.');
    if (dot + 1 == last) {  // two labels
      std::string_view first(d->data(), dot);
      std::string_view tld_l(d->data() + last, d->size() - last);
      if (FileExtensionTlds().count(tld_l) || CodeReceivers().count(first)) return false;
    }
  }
  // HasPublicSuffix, whose last-label test was made above.
  return (memo != nullptr && memo->KnownDomain(*d)) || !IsIcannSuffix(d->c_str());
}

std::optional<Value> ClassifyIp(std::string_view t) {
  common::IpPrefix p;
  if (!common::ParseIpPrefix(t, &p)) return std::nullopt;
  bool has_slash = t.find('/') != std::string_view::npos;
  std::string v(t);
  if (p.family == 4) {
    if (!has_slash || p.prefix == 32) {
      if (has_slash) v.resize(v.find('/'));
      return Value{ValueKind::kIpv4, std::move(v)};
    }
    return Value{ValueKind::kIpv4Cidr, std::move(v)};
  }
  v = AsciiToLower(v);
  if (!has_slash || p.prefix == 128) {
    if (has_slash) v.resize(v.find('/'));
    return Value{ValueKind::kIpv6, std::move(v)};
  }
  return Value{ValueKind::kIpv6Cidr, std::move(v)};
}

std::optional<Value> ClassifyUrl(std::string_view t, ClassifyMemo* memo) {
  size_t scheme_end = t.find("://");
  std::string_view scheme = t.substr(0, scheme_end);
  std::string scheme_l = AsciiToLower(scheme);
  if (scheme_l != "http" && scheme_l != "https" && scheme_l != "ftp") return std::nullopt;
  std::string_view rest = t.substr(scheme_end + 3);
  size_t host_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, host_end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = host.substr(1, close - 1);
    if (!ClassifyIp(host)) return std::nullopt;
  } else {
    if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      std::string_view port = host.substr(colon + 1);
      if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
        return std::nullopt;
      }
      host = host.substr(0, colon);
    }
    if (host.empty()) return std::nullopt;
    bool ip = !host.empty() && IsDigit(host.back()) && ClassifyIp(host).has_value();
    std::string domain;
    if (!ip && !ClassifyDomainInto(host, false, memo, &domain)) return std::nullopt;
  }
  // Lower-case the scheme and the host; the path keeps its case.
  std::string v = scheme_l + "://";
  size_t host_start = scheme_end + 3;
  size_t host_stop = host_end == std::string_view::npos ? t.size() : host_start + host_end;
  v += AsciiToLower(t.substr(host_start, host_stop - host_start));
  v.append(t.substr(host_stop));
  return Value{ValueKind::kUrl, std::move(v)};
}

std::optional<Value> ClassifyEmail(std::string_view t, ClassifyMemo* memo) {
  size_t at = t.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= t.size()) return std::nullopt;
  std::string_view local = t.substr(0, at);
  if (local.size() > 64) return std::nullopt;
  for (char c : local) {
    if (!(IsAlpha(c) || IsDigit(c) || std::strchr(".!#$%&*+/=?_~-", c) != nullptr)) {
      return std::nullopt;
    }
  }
  if (local.front() == '.' || local.back() == '.') return std::nullopt;
  std::string domain;
  if (!ClassifyDomainInto(t.substr(at + 1), false, memo, &domain)) return std::nullopt;
  return Value{ValueKind::kEmail, common::Cat(local, "@", domain)};
}

std::optional<Value> ClassifyCve(std::string_view t) {
  if (t.size() < 13 || !StartsWithNoCase(t, "cve-")) return std::nullopt;
  std::string_view y = t.substr(4, 4);
  if (!std::all_of(y.begin(), y.end(), IsDigit) || t[8] != '-') return std::nullopt;
  std::string_view n = t.substr(9);
  if (n.size() < 4 || n.size() > 19 || !std::all_of(n.begin(), n.end(), IsDigit)) {
    return std::nullopt;
  }
  return Value{ValueKind::kCve, common::Cat("CVE-", y, "-", n)};
}

// The value a trimmed token is, into `*out` (PERF: its buffer is reused, so the common
// kinds, hashes, cost no allocation). `prose`: the token comes from free text (code
// heuristics). `memo`: may be null. False when the token is no value (then `*out` is
// unspecified).
bool ClassifyInto(std::string_view t, bool prose, ClassifyMemo* memo, Value* out) {
  if (t.size() < 3) return false;
  auto take = [out](std::optional<Value> v) {
    if (!v) return false;
    *out = std::move(*v);
    return true;
  };
  if (t.find("://") != std::string_view::npos) return take(ClassifyUrl(t, memo));
  // The classes of the token's bytes. PERF: the loop exits early, which keeps g++ 12 from
  // vectorising it into a slower loop (byte loads packed through the stack: 5% of the lists
  // corpus's time went to one stalled load).
  uint8_t any = 0;
  for (char c : t) {
    any |= ClassOf(c);
    if (any == 0xff) break;  // never: no byte has two classes
  }
  const bool all_hex = any == kHexDigit, has_dot = (any & kDot) != 0;
  const bool has_colon = (any & kColon) != 0;
  if (all_hex && (t.size() == 32 || t.size() == 40 || t.size() == 64 || t.size() == 128)) {
    out->kind = t.size() == 32   ? ValueKind::kMd5
                : t.size() == 40 ? ValueKind::kSha1
                : t.size() == 64 ? ValueKind::kSha256
                                 : ValueKind::kSha512;
    out->value.assign(t);
    for (char& c : out->value) c = AsciiLower(c);
    return true;
  }
  if ((any & kAt) != 0) return take(ClassifyEmail(t, memo));
  if (t[0] == 'c' || t[0] == 'C') {
    if (auto cve = ClassifyCve(t)) return take(std::move(cve));
  }
  if (has_colon) {
    if (auto ip = ClassifyIp(t)) return take(std::move(ip));
    // a.b.c.d:port (C2 addresses in reports and trails): the address.
    size_t colon = t.rfind(':');
    std::string_view port = t.substr(colon + 1);
    if (has_dot && !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), IsDigit)) {
      auto ip = ClassifyIp(t.substr(0, colon));
      if (ip && ip->kind == ValueKind::kIpv4) return take(std::move(ip));
    }
    return false;
  }
  if (!has_dot) return false;
  if (IsDigit(t.back()) || t.find('/') != std::string_view::npos) return take(ClassifyIp(t));
  if (!ClassifyDomainInto(t, prose, memo, &out->value)) return false;
  out->kind = ValueKind::kDomain;
  return true;
}

std::optional<Value> Classify(std::string_view t, bool prose) {
  Value v{ValueKind::kIpv4, {}};
  if (!ClassifyInto(t, prose, nullptr, &v)) return std::nullopt;
  return v;
}

std::string VulnerabilityFor(const Value& v, const ConvertOptions& o) {
  std::string ts = common::FormatTimestampMillis(o.now);
  std::string out = R"({"type":"vulnerability","spec_version":"2.1","id":")";
  out += DerivedId("vulnerability", v.value);
  out += R"(","created":")" + ts + R"(","modified":")" + ts + R"(","name":)";
  AppendJsonString(&out, v.value);
  out += R"(,"external_references":[{"source_name":"cve","external_id":)";
  AppendJsonString(&out, v.value);
  out += "}]}";
  return out;
}

std::string ObjectFor(const Value& v, const ConvertOptions& o, std::string_view extra = {}) {
  return v.kind == ValueKind::kCve ? VulnerabilityFor(v, o) : IndicatorFor(v, o, extra);
}

std::string_view IdOf(std::string_view json) {
  size_t p = json.find(R"("id":")");
  if (p == std::string_view::npos) return {};
  p += 6;
  return json.substr(p, json.find('"', p) - p);
}

// Hands out units of at most kListUnitValues objects.
class Batcher {
 public:
  Batcher(const ConvertOptions& o, const UnitSink& sink) : o_(o), sink_(sink) {}
  absl::Status Add(std::string object) {
    unit_.objects.push_back(std::move(object));
    if (unit_.objects.size() >= kListUnitValues) return Flush();
    return absl::OkStatus();
  }
  absl::Status Flush() {
    if (unit_.objects.empty()) return absl::OkStatus();
    unit_.name =
        common::Cat(o_.source_name, ": values ", first_ + 1, "-", first_ + unit_.objects.size());
    first_ += unit_.objects.size();
    absl::Status st = sink_(std::move(unit_));
    unit_ = Unit{};
    return st;
  }

 private:
  const ConvertOptions& o_;
  const UnitSink& sink_;
  Unit unit_;
  uint64_t first_ = 0;
};

std::string Location(const ConvertOptions& o, uint64_t line) {
  return common::Cat(o.source_name, ":", line);
}

}  // namespace

bool HasPublicSuffix(std::string_view domain) {
  if (Psl() == nullptr || domain.empty() || domain.size() > 253) return false;
  size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos) return false;
  char buf[256];
  std::memcpy(buf, domain.data(), domain.size());
  buf[domain.size()] = '\0';
  // The domain itself must not be a suffix ("co.uk"), and its last label must be one.
  return !IsIcannSuffix(buf) && IsSuffixTld(buf + dot + 1);
}

namespace {
// After "hxxp" at `k`: an optional 's', then ':' or a bracket ("hxxps://", "hxxp[:]//"). A
// label that merely starts with "hxxp" ("x.hxxpexample.com") is not a scheme.
bool SchemeEndsAt(std::string_view in, size_t k) {
  if (k < in.size() && (in[k] == 's' || in[k] == 'S')) ++k;
  return k < in.size() && (in[k] == ':' || in[k] == '[' || in[k] == '(' || in[k] == '{');
}
}  // namespace

std::string Refang(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  const size_t n = in.size();
  while (i < n) {
    char c = in[i];
    if (c == '[' || c == '(' || c == '{') {
      char close = c == '[' ? ']' : c == '(' ? ')' : '}';
      size_t limit = std::min(n, i + 6);
      size_t j = i + 1;
      while (j < limit && in[j] != close) ++j;
      if (j < limit) {
        std::string_view inner = in.substr(i + 1, j - i - 1);
        std::string inner_l = AsciiToLower(inner);
        bool done = false;
        for (const Defang& d : kBracketed) {
          if (inner_l == d.inner) {
            // "(at)" and "[d]" only between word characters ("user(at)example.com").
            if ((d.inner == "at" || d.inner == "d") &&
                (i == 0 || j + 1 >= n || !IsLabelChar(in[i - 1]) || !IsLabelChar(in[j + 1]))) {
              break;
            }
            out += d.plain;
            i = j + 1;
            done = true;
            break;
          }
        }
        if (done) continue;
      }
    } else if ((c == 'h' || c == 'H') && i + 3 < n && (in[i + 1] == 'x' || in[i + 1] == 'X') &&
               (in[i + 2] == 'x' || in[i + 2] == 'X') && (in[i + 3] == 'p' || in[i + 3] == 'P') &&
               (i == 0 || !IsAlpha(in[i - 1])) && SchemeEndsAt(in, i + 4)) {
      out += c == 'h' ? "http" : "HTTP";
      i += 4;
      continue;
    } else if ((c == 'f' || c == 'F') && i + 2 < n && (in[i + 1] == 'x' || in[i + 1] == 'X') &&
               (in[i + 2] == 'p' || in[i + 2] == 'P') && (i == 0 || !IsAlpha(in[i - 1])) &&
               i + 3 < n && (in[i + 3] == ':' || in[i + 3] == '[')) {
      out += "ftp";
      i += 3;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

std::optional<Value> ClassifyToken(std::string_view token) {
  std::string r = Refang(token);
  return Classify(Trim(r), false);
}

std::vector<Value> ExtractValues(std::string_view text) {
  ValueSet seen;
  ClassifyMemo memo(&seen);
  std::string refanged;
  Value scratch{ValueKind::kIpv4, {}};
  // PERF: tokens are cut from the text as it is (every defang form keeps a token whole), and
  // only a token that holds a bracket or starts like "hxxp"/"fxp" is refanged, into a reused
  // buffer: the text is never copied.
  const std::string_view r = text;
  const size_t n = r.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && (ClassOf(r[i]) & kDelimiter) != 0) ++i;
    size_t start = i;
    uint8_t any = 0;
    for (; i < n; ++i) {
      uint8_t c = ClassOf(r[i]);
      if ((c & kDelimiter) != 0) break;
      any |= c;
    }
    const bool bracket = (any & kBracket) != 0;
    size_t len = i - start;
    // Only a token with '.', ':' or '@' (or a bracket that may hide one) can be an address,
    // domain, URL or e-mail address; otherwise only a hash's length or a CVE id's prefix.
    if ((any & (kDot | kColon | kAt | kBracket)) == 0 && len != 32 && len != 40 && len != 64 &&
        len != 128 && !(len >= 13 && (r[start] == 'c' || r[start] == 'C'))) {
      continue;
    }
    std::string_view tok = Trim(r.substr(start, len));
    if (tok.size() < 3) continue;
    // A call ("os.path.join(") or an index ("obj.items[") is code.
    size_t after = static_cast<size_t>(tok.data() - r.data()) + tok.size();
    if (after < n && (r[after] == '(' || r[after] == '[') &&
        tok.find("://") == std::string_view::npos && tok.find("xxp") == std::string_view::npos) {
      continue;
    }
    if (bracket || StartsWithNoCase(tok, "hxxp") || StartsWithNoCase(tok, "fxp")) {
      refanged = Refang(tok);
      if (refanged.size() != tok.size() || refanged != tok) tok = Trim(refanged);
    }
    if (!ClassifyInto(tok, true, &memo, &scratch)) continue;
    seen.Insert(&scratch);
  }
  return seen.Take();
}

absl::StatusOr<TextStats> ReadText(std::string_view text, const ConvertOptions& o,
                                   const UnitSink& on_unit, const ProblemSink& on_problem) {
  TextStats stats;
  stats.bytes = text.size();
  std::vector<Value> values = ExtractValues(text);
  if (values.empty()) {
    on_problem(Problem{o.source_name, "", "no indicator found in the text", true});
    return stats;
  }
  Unit unit;
  unit.name = common::Cat(o.source_name, ": text report");
  std::string refs;
  for (const Value& v : values) {
    unit.objects.push_back(ObjectFor(v, o));
    ++stats.per_kind[static_cast<int>(v.kind)];
    if (!refs.empty()) refs += ',';
    AppendJsonString(&refs, IdOf(unit.objects.back()));
  }
  stats.values = values.size();
  std::string ts = common::FormatTimestampMillis(o.now);
  std::string report = R"({"type":"report","spec_version":"2.1","id":")";
  report += DerivedId("report", common::Cat("text:", text));
  report += R"(","created":")" + ts + R"(","modified":")" + ts + R"(","name":)";
  std::string_view base = o.source_name;
  if (size_t slash = base.find_last_of('/'); slash != std::string_view::npos) {
    base.remove_prefix(slash + 1);
  }
  AppendJsonString(&report, base.empty() ? std::string_view("text") : base);
  report += R"(,"report_types":["threat-report"],"published":")" + ts + R"(","description":)";
  std::string_view body = text.substr(0, std::min(text.size(), kMaxReportText));
  // Cut on a UTF-8 boundary.
  while (body.size() < text.size() && !body.empty() &&
         (static_cast<unsigned char>(text[body.size()]) & 0xC0) == 0x80) {
    body.remove_suffix(1);
  }
  AppendJsonString(&report, body);
  if (!o.created_by_ref.empty()) {
    report += R"(,"created_by_ref":)";
    AppendJsonString(&report, o.created_by_ref);
  }
  report += R"(,"object_refs":[)" + refs + "]}";
  unit.objects.push_back(std::move(report));
  ACCORD_RETURN_IF_ERROR(on_unit(std::move(unit)));
  return stats;
}

absl::StatusOr<ListStats> ReadList(std::string_view data, std::optional<ValueKind> kind,
                                   const ConvertOptions& o, const UnitSink& on_unit,
                                   const ProblemSink& on_problem) {
  ListStats stats;
  Batcher batch(o, on_unit);
  std::unordered_set<std::string> seen;
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t eol = data.find('\n', pos);
    std::string_view line = data.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? data.size() : eol + 1;
    ++line_no;
    // A comment starts a line or follows white space ('#' inside a URL is its fragment).
    for (size_t k = 0; k < line.size(); ++k) {
      if ((line[k] == '#' || line[k] == ';') &&
          (k == 0 || line[k - 1] == ' ' || line[k - 1] == '\t')) {
        line = line.substr(0, k);
        break;
      }
    }
    size_t b = 0;
    while (b < line.size() && (line[b] == ' ' || line[b] == '\t' || line[b] == '\r')) ++b;
    size_t e = b;
    while (e < line.size() && line[e] != ' ' && line[e] != '\t' && line[e] != '\r') ++e;
    std::string_view token = line.substr(b, e - b);
    if (token.empty()) continue;
    ++stats.lines;
    auto v = ClassifyToken(token);
    bool kind_ok = v && (!kind || v->kind == *kind ||
                         (*kind == ValueKind::kIpv4 && v->kind == ValueKind::kIpv4Cidr) ||
                         (*kind == ValueKind::kIpv6 && v->kind == ValueKind::kIpv6Cidr));
    if (!kind_ok) {
      ++stats.rejected;
      std::string shown(token.substr(0, 200));
      std::string why =
          v ? common::Cat("'", shown, "' is a ", ValueKindName(v->kind), ", not a ",
                          ValueKindName(*kind))
            : common::Cat("'", shown,
                          "' is no IPv4/IPv6 address, CIDR, domain (with a public suffix), URL, "
                          "e-mail address, MD5/SHA-1/SHA-256/SHA-512 hash or CVE id");
      on_problem(Problem{Location(o, line_no), "", std::move(why), false});
      if (o.strict) {
        return absl::InvalidArgumentError(
            common::Cat(Location(o, line_no), ": --strict: a line is no value"));
      }
      continue;
    }
    if (!seen.insert(common::Cat(ValueKindName(v->kind), ":", v->value)).second) continue;
    ++stats.values;
    ++stats.per_kind[static_cast<int>(v->kind)];
    ACCORD_RETURN_IF_ERROR(batch.Add(ObjectFor(*v, o)));
  }
  ACCORD_RETURN_IF_ERROR(batch.Flush());
  return stats;
}

std::optional<ValueKind> KindOfTypeName(std::string_view type, std::string_view value) {
  std::string t = AsciiToLower(type);
  if (auto k = ParseValueKind(t)) return k;
  bool v6 = value.find(':') != std::string_view::npos;
  bool cidr = value.find('/') != std::string_view::npos;
  if (t == "ip-src" || t == "ip-dst" || t == "ip" || t == "ipv4-addr" || t == "ipv6-addr") {
    if (v6) return cidr ? ValueKind::kIpv6Cidr : ValueKind::kIpv6;
    return cidr ? ValueKind::kIpv4Cidr : ValueKind::kIpv4;
  }
  if (t == "domain" || t == "hostname" || t == "domain-name" || t == "fqdn") {
    return ValueKind::kDomain;
  }
  if (t == "url" || t == "uri" || t == "link") return ValueKind::kUrl;
  if (t == "email" || t == "email-src" || t == "email-dst" || t == "email-addr") {
    return ValueKind::kEmail;
  }
  if (t == "sha-1") return ValueKind::kSha1;
  if (t == "sha-256") return ValueKind::kSha256;
  if (t == "sha-512") return ValueKind::kSha512;
  if (t == "vulnerability") return ValueKind::kCve;
  return std::nullopt;
}

namespace {

// RFC 4180 rows: fields split on `delim`, quoted fields may hold delimiters, quotes (doubled)
// and line breaks. `line` is the 1-based line the row starts on.
class CsvReader {
 public:
  CsvReader(std::string_view data, char delim) : d_(data), delim_(delim) {}
  // False at the end. A malformed row (a quote inside an unquoted field, an unclosed quote)
  // sets *error and is returned with the fields read so far.
  bool Next(std::vector<std::string>* fields, uint64_t* line, std::string* error) {
    fields->clear();
    error->clear();
    if (pos_ >= d_.size()) return false;
    *line = line_;
    std::string field;
    bool quoted = false, was_quoted = false;
    while (pos_ < d_.size()) {
      char c = d_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < d_.size() && d_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line_;
          field.push_back(c);
        }
        continue;
      }
      if (c == '"') {
        if (field.empty() && !was_quoted) {
          quoted = was_quoted = true;
        } else if (error->empty()) {
          *error =
              common::Cat("a quote inside an unquoted field (column ", fields->size() + 1, ")");
        }
      } else if (c == delim_) {
        fields->push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '\n') {
        ++line_;
        if (!field.empty() && field.back() == '\r' && !was_quoted) field.pop_back();
        fields->push_back(std::move(field));
        return true;
      } else if (c == '\r' && was_quoted) {
        // CR after a closing quote: part of the CRLF.
      } else {
        field.push_back(c);
      }
    }
    if (quoted && error->empty()) *error = "a quoted field is not closed before the end";
    fields->push_back(std::move(field));
    return true;
  }

 private:
  std::string_view d_;
  char delim_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
};

enum class Role { kIgnore, kValue, kType, kDescription, kLabel };

absl::StatusOr<Role> ParseRole(std::string_view r) {
  if (r == "-" || r.empty()) return Role::kIgnore;
  if (r == "value") return Role::kValue;
  if (r == "type") return Role::kType;
  if (r == "description") return Role::kDescription;
  if (r == "label") return Role::kLabel;
  return absl::InvalidArgumentError(common::Cat("--columns: unknown role '", r,
                                                "' (roles: value, type, description, label, '-')"));
}

std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string_view::npos ? c : c - start));
    if (c == std::string_view::npos) break;
    start = c + 1;
  }
  return out;
}

}  // namespace

absl::StatusOr<ListStats> ReadCsv(std::string_view data, const CsvOptions& csv,
                                  const ConvertOptions& o, const UnitSink& on_unit,
                                  const ProblemSink& on_problem) {
  ListStats stats;
  CsvReader reader(data, csv.delimiter);
  std::vector<std::string> fields;
  uint64_t line = 0;
  std::string error;
  // Column of each role (-1: absent).
  int col[5] = {-1, -1, -1, -1, -1};
  bool by_name = csv.columns.find('=') != std::string::npos;
  bool header = csv.header || by_name;
  if (!by_name) {
    auto roles = SplitComma(csv.columns);
    for (size_t i = 0; i < roles.size(); ++i) {
      ACCORD_ASSIGN_OR_RETURN(Role r, ParseRole(roles[i]));
      if (r != Role::kIgnore) col[static_cast<int>(r)] = static_cast<int>(i);
    }
  }
  if (header) {
    if (!reader.Next(&fields, &line, &error)) return stats;  // empty input
    if (by_name) {
      for (std::string_view spec : SplitComma(csv.columns)) {
        size_t eq = spec.find('=');
        if (eq == std::string_view::npos) {
          return absl::InvalidArgumentError(common::Cat(
              "--columns: '", spec, "' is not ROLE=COLUMN (a header name or 1-based index)"));
        }
        ACCORD_ASSIGN_OR_RETURN(Role r, ParseRole(spec.substr(0, eq)));
        std::string_view name = spec.substr(eq + 1);
        int found = -1;
        for (size_t i = 0; i < fields.size(); ++i) {
          if (fields[i] == name) found = static_cast<int>(i);
        }
        if (found < 0 && !name.empty() && std::all_of(name.begin(), name.end(), IsDigit) &&
            name.size() < 6) {
          found = std::stoi(std::string(name)) - 1;
        }
        if (found < 0) {
          return absl::InvalidArgumentError(common::Cat(o.source_name,
                                                        ":1: --columns names column '", name,
                                                        "', which the header does not have"));
        }
        if (r != Role::kIgnore) col[static_cast<int>(r)] = found;
      }
    }
  }
  const int vcol = col[static_cast<int>(Role::kValue)];
  if (vcol < 0) return absl::InvalidArgumentError("--columns: no column has the role 'value'");
  Batcher batch(o, on_unit);
  std::unordered_set<std::string> seen;
  auto field = [&](Role r) -> std::string_view {
    int c = col[static_cast<int>(r)];
    return c >= 0 && static_cast<size_t>(c) < fields.size()
               ? std::string_view(fields[static_cast<size_t>(c)])
               : std::string_view();
  };
  auto reject = [&](const std::string& why) -> absl::Status {
    ++stats.rejected;
    on_problem(Problem{Location(o, line), "", why, false});
    if (o.strict) {
      return absl::InvalidArgumentError(common::Cat(Location(o, line), ": --strict: ", why));
    }
    return absl::OkStatus();
  };
  bool first_row = !header;
  while (reader.Next(&fields, &line, &error)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (first_row) {
      // Without --header, a first row whose value cell is no value is taken as the header.
      first_row = false;
      if (error.empty() && static_cast<size_t>(vcol) < fields.size() &&
          !ClassifyToken(fields[static_cast<size_t>(vcol)]).has_value()) {
        continue;
      }
    }
    if (fields[0].size() > 0 && fields[0][0] == '#') continue;
    ++stats.lines;
    if (!error.empty()) {
      ACCORD_RETURN_IF_ERROR(reject(error));
      continue;
    }
    if (static_cast<size_t>(vcol) >= fields.size()) {
      ACCORD_RETURN_IF_ERROR(reject(common::Cat("the row has ", fields.size(),
                                                " column(s); the value is in column ", vcol + 1)));
      continue;
    }
    std::string_view raw = field(Role::kValue);
    auto v = ClassifyToken(raw);
    std::string_view type = field(Role::kType);
    if (!type.empty()) {
      auto want = KindOfTypeName(type, raw);
      if (!want) {
        ACCORD_RETURN_IF_ERROR(reject(common::Cat("unknown type '", type, "'")));
        continue;
      }
      if (!v || v->kind != *want) {
        ACCORD_RETURN_IF_ERROR(reject(
            common::Cat("'", raw.substr(0, 200), "' is not a valid ", ValueKindName(*want))));
        continue;
      }
    } else if (!v) {
      ACCORD_RETURN_IF_ERROR(reject(common::Cat(
          "'", raw.substr(0, 200),
          "' is no IPv4/IPv6 address, CIDR, domain, URL, e-mail address, hash or CVE id")));
      continue;
    }
    if (!seen.insert(common::Cat(ValueKindName(v->kind), ":", v->value)).second) continue;
    std::string extra;
    if (std::string_view d = field(Role::kDescription); !d.empty()) {
      extra = R"("description":)";
      AppendJsonString(&extra, d);
    }
    ConvertOptions row = o;
    if (std::string_view l = field(Role::kLabel); !l.empty()) row.labels.emplace_back(l);
    ++stats.values;
    ++stats.per_kind[static_cast<int>(v->kind)];
    ACCORD_RETURN_IF_ERROR(batch.Add(ObjectFor(*v, row, extra)));
  }
  ACCORD_RETURN_IF_ERROR(batch.Flush());
  return stats;
}

}  // namespace accord::formats
