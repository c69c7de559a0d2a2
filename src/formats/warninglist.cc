// MISP warninglists: parsing (simdjson) and the compiled match tables. The matching rules follow
// MISP's app/Model/Warninglist.php (checkValue and its __eval* helpers); docs/FORMATS.md,
// "Warninglists", lists them with the places where Accord differs on purpose.
#include "accord/formats/warninglist.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "accord/common/io.h"
#include "accord/common/ip.h"
#include "accord/common/strings.h"
#include "simdjson.h"

namespace accord::formats {

namespace {

using U128 = unsigned __int128;
constexpr U128 kMaxU128 = ~U128{0};

// PERF/safety: /^(a+)+$/ on 40 'a's and a 'b' has 2^40 paths to try; PCRE2's default limit
// (10,000,000 match calls) would stop it after ~150 ms, per value. 100,000 calls leave room for
// linear backtracking over values of tens of kilobytes (the real lists' patterns are of the
// `^...@.*\..*$` kind), and bound that hostile match to 1.5 ms (measured, g++ -O2).
constexpr uint32_t kRegexMatchLimit = 100'000;
constexpr uint32_t kRegexDepthLimit = 1'000;
constexpr uint32_t kRegexHeapLimitKiB = 4'096;

bool IsKnownType(std::string_view t) {
  return t == "string" || t == "substring" || t == "hostname" || t == "cidr" || t == "regex";
}

using common::AsciiLower;
using common::TrimSpace;

void LowerInto(std::string_view s, std::string* out) {
  out->resize(s.size());
  for (size_t i = 0; i < s.size(); ++i) (*out)[i] = AsciiLower(s[i]);
}

std::string_view StripTrailingDots(std::string_view s) {
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// A hostname entry as MISP keys it (strtolower(trim($v, '.'))), and "*." wildcards, which MISP
// leaves as they are, read as "this domain and below" like a leading dot.
std::string_view HostnameKey(std::string_view lowered) {
  std::string_view s = TrimSpace(lowered);
  if (s.size() >= 2 && s[0] == '*' && s[1] == '.') s.remove_prefix(2);
  while (!s.empty() && s.front() == '.') s.remove_prefix(1);
  return StripTrailingDots(s);
}

// The host that a domain, URL or e-mail value names (the caller lower-cases the value).
// URL: scheme://[userinfo@]host[:port][/?#...] (a value without "//" is read from the start);
// e-mail: the part after the last '@'.
std::string_view HostOf(ValueKind kind, std::string_view v) {
  if (kind == ValueKind::kEmail) {
    size_t at = v.rfind('@');
    return at == std::string_view::npos ? v : v.substr(at + 1);
  }
  if (kind != ValueKind::kUrl) return v;
  size_t ss = v.find("//");
  size_t start = 0;
  if (ss != std::string_view::npos) {
    size_t colon = v.find(':');
    // "//" opens the authority when it starts the value or follows "scheme:".
    if (ss == 0 || (colon != std::string_view::npos && colon + 1 == ss)) start = ss + 2;
  }
  std::string_view rest = v.substr(start);
  size_t end = rest.find_first_of("/?#\\");
  std::string_view auth = rest.substr(0, end);
  size_t at = auth.rfind('@');
  if (at != std::string_view::npos) auth.remove_prefix(at + 1);
  if (!auth.empty() && auth[0] == '[') {
    size_t close = auth.find(']');
    return close == std::string_view::npos ? auth.substr(1) : auth.substr(1, close - 1);
  }
  size_t colon = auth.find(':');
  return auth.substr(0, colon);
}

U128 AddrValue(const common::IpPrefix& p) {
  U128 v = 0;
  const int bytes = p.family == 4 ? 4 : 16;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p.addr[i];
  return v;
}

// [lo, hi] of a prefix; host bits beyond the prefix are ignored.
std::pair<U128, U128> RangeOf(const common::IpPrefix& p) {
  const int width = p.family == 4 ? 32 : 128;
  const int host_bits = width - p.prefix;
  const U128 width_mask = width == 128 ? kMaxU128 : ((U128{1} << 32) - 1);
  const U128 host_mask =
      host_bits == 0 ? 0 : (host_bits == 128 ? kMaxU128 : (U128{1} << host_bits) - 1);
  const U128 lo = AddrValue(p) & ~host_mask & width_mask;
  return {lo, lo | host_mask};
}

// ::ffff:a.b.c.d -> a.b.c.d as an IPv4 prefix (prefix - 96), for IPv4-mapped values.
bool MappedV4(const common::IpPrefix& p, common::IpPrefix* v4) {
  if (p.family != 6 || p.prefix < 96) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(p.addr, kMapped, 12) != 0) return false;
  *v4 = common::IpPrefix();
  v4->family = 4;
  std::memcpy(v4->addr, p.addr + 12, 4);
  v4->prefix = p.prefix - 96;
  return true;
}

// Interned sorted sets of list indices: every table maps a key to one set id, so a key shared
// by many lists costs one id, and set ids are shared between keys.
class ListSets {
 public:
  ListSets() {
    sets_.emplace_back();
    ids_.emplace(std::vector<uint32_t>(), 0);
  }

  // s ∪ {list}. REQUIRES: list >= every member of s (lists are added in index order).
  uint32_t With(uint32_t s, uint32_t list) {
    const std::vector<uint32_t>& cur = sets_[s];
    if (!cur.empty() && cur.back() == list) return s;
    const uint64_t key = (uint64_t{s} << 32) | list;
    auto it = with_cache_.find(key);
    if (it != with_cache_.end()) return it->second;
    std::vector<uint32_t> next = cur;
    next.push_back(list);
    uint32_t id = Intern(std::move(next));
    with_cache_.emplace(key, id);
    return id;
  }

  uint32_t Union(uint32_t a, uint32_t b) {
    if (a == b || b == 0) return a;
    if (a == 0) return b;
    std::vector<uint32_t> u;
    std::set_union(sets_[a].begin(), sets_[a].end(), sets_[b].begin(), sets_[b].end(),
                   std::back_inserter(u));
    return Intern(std::move(u));
  }

  const std::vector<uint32_t>& Get(uint32_t id) const { return sets_[id]; }

 private:
  uint32_t Intern(std::vector<uint32_t> v) {
    auto it = ids_.find(v);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(sets_.size());
    ids_.emplace(v, id);
    sets_.push_back(std::move(v));
    return id;
  }

  std::vector<std::vector<uint32_t>> sets_;
  absl::flat_hash_map<std::vector<uint32_t>, uint32_t> ids_;
  absl::flat_hash_map<uint64_t, uint32_t> with_cache_;
};

// Stable storage for the keys of the hash tables (string_views point into it).
class Arena {
 public:
  absl::string_view Copy(std::string_view s) {
    if (s.size() > kBlock / 4) {
      big_.emplace_back(s);
      return absl::string_view(big_.back().data(), s.size());
    }
    if (blocks_.empty() || used_ + s.size() > kBlock) {
      blocks_.push_back(std::make_unique<char[]>(kBlock));
      used_ = 0;
    }
    char* p = blocks_.back().get() + used_;
    std::memcpy(p, s.data(), s.size());
    used_ += s.size();
    return absl::string_view(p, s.size());
  }

 private:
  static constexpr size_t kBlock = 1 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::deque<std::string> big_;
  size_t used_ = 0;
};

// Key -> set of lists holding it, for string and hostname entries.
struct KeyTable {
  absl::flat_hash_map<absl::string_view, uint32_t> map;

  void Add(std::string_view key, uint32_t list, ListSets* sets, Arena* arena) {
    auto it = map.find(absl::string_view(key.data(), key.size()));
    if (it != map.end()) {
      it->second = sets->With(it->second, list);
      return;
    }
    map.emplace(arena->Copy(key), sets->With(0, list));
  }
  uint32_t Find(std::string_view key) const {
    auto it = map.find(absl::string_view(key.data(), key.size()));
    return it == map.end() ? 0 : it->second;
  }
};

// The CIDR entries of one address family. `starts`/`sets` partition the address space into
// segments (segment i is [starts[i], starts[i+1]) and is covered by the lists in sets[i]), so a
// point lookup is one binary search. `merged[list]` is that list's entries as sorted, disjoint,
// non-adjacent intervals, used to check that a whole CIDR value lies within the list.
struct CidrTable {
  std::vector<U128> starts{U128{0}};
  std::vector<uint32_t> sets{0};
  absl::flat_hash_map<uint32_t, std::vector<std::pair<U128, U128>>> merged;

  // Adds one list's intervals. PERF: a linear merge with the existing segments, so loading the
  // 80 CIDR lists of MISP (143,000 entries) never sorts the whole table again.
  void AddList(uint32_t list, std::vector<std::pair<U128, U128>> iv, ListSets* ls) {
    if (iv.empty()) return;
    std::sort(iv.begin(), iv.end());
    std::vector<std::pair<U128, U128>> m;
    for (const auto& r : iv) {
      if (!m.empty() && (m.back().second == kMaxU128 || r.first <= m.back().second + 1)) {
        m.back().second = std::max(m.back().second, r.second);
      } else {
        m.push_back(r);
      }
    }
    // Boundaries the list brings, strictly increasing: lo, hi+1, lo, hi+1 ...
    std::vector<U128> points;
    points.reserve(m.size() * 2);
    for (const auto& r : m) {
      points.push_back(r.first);
      if (r.second != kMaxU128) points.push_back(r.second + 1);
    }
    std::vector<U128> new_starts;
    std::vector<uint32_t> new_sets;
    new_starts.reserve(starts.size() + points.size());
    new_sets.reserve(starts.size() + points.size());
    size_t i = 0, j = 0;  // next old start, next new point
    size_t seg = 0;       // old segment holding the current point
    size_t inside = 0;    // points passed; odd: inside one of the list's intervals
    while (i < starts.size() || j < points.size()) {
      U128 p;
      if (j >= points.size() || (i < starts.size() && starts[i] < points[j])) {
        p = starts[i];
        seg = i++;
      } else if (i < starts.size() && starts[i] == points[j]) {
        p = starts[i];
        seg = i++;
        ++j;
        ++inside;
      } else {
        p = points[j++];
        ++inside;
      }
      const bool in = (inside % 2) == 1;
      const uint32_t s = in ? ls->With(sets[seg], list) : sets[seg];
      if (!new_sets.empty() && new_sets.back() == s) continue;  // coalesce equal neighbours
      new_starts.push_back(p);
      new_sets.push_back(s);
    }
    starts = std::move(new_starts);
    sets = std::move(new_sets);
    auto& dst = merged[list];
    dst = std::move(m);
  }

  uint32_t SetAt(U128 x) const {
    auto it = std::upper_bound(starts.begin(), starts.end(), x);
    return sets[static_cast<size_t>(it - starts.begin()) - 1];
  }

  // Whether [lo, hi] lies within the union of `list`'s entries.
  bool Covers(uint32_t list, U128 lo, U128 hi) const {
    auto it = merged.find(list);
    if (it == merged.end()) return false;
    const auto& v = it->second;
    auto pos = std::upper_bound(v.begin(), v.end(), std::pair<U128, U128>(lo, kMaxU128));
    if (pos == v.begin()) return false;
    --pos;
    return pos->first <= lo && hi <= pos->second;
  }
};

// All substring entries, lower case, in one Aho-Corasick automaton.
struct SubstringAutomaton {
  struct Node {
    uint32_t fail = 0;
    uint32_t own = 0;  // set id: lists with an entry ending here
    uint32_t all = 0;  // own ∪ all of fail: lists with an entry ending at this point of the text
    std::vector<std::pair<unsigned char, uint32_t>> next;  // sorted by byte
  };
  std::vector<Node> nodes{Node()};
  // PERF: the root is where a scan falls back after each mismatch; a direct table spares it the
  // scan over its many children (up to 256).
  std::array<uint32_t, 256> root{};

  uint32_t Child(uint32_t n, unsigned char c) const {
    if (n == 0) return root[c];
    const auto& nx = nodes[n].next;
    // PERF: most nodes have one or two children; a linear scan beats a hash here.
    for (const auto& [b, to] : nx) {
      if (b == c) return to;
      if (b > c) break;
    }
    return 0;
  }

  void Insert(std::string_view lowered, uint32_t list, ListSets* ls) {
    uint32_t n = 0;
    for (char ch : lowered) {
      const auto c = static_cast<unsigned char>(ch);
      uint32_t to = Child(n, c);
      if (to == 0) {
        to = static_cast<uint32_t>(nodes.size());
        nodes.emplace_back();
        auto& nx = nodes[n].next;
        auto pos = std::lower_bound(nx.begin(), nx.end(), std::make_pair(c, uint32_t{0}));
        nx.insert(pos, {c, to});
        if (n == 0) root[c] = to;
      }
      n = to;
    }
    nodes[n].own = ls->With(nodes[n].own, list);
  }

  // Recomputes failure links and outputs after inserts (breadth first).
  void Build(ListSets* ls) {
    std::vector<uint32_t> queue;
    queue.reserve(nodes.size());
    nodes[0].fail = 0;
    nodes[0].all = nodes[0].own;
    for (const auto& [c, to] : nodes[0].next) {
      nodes[to].fail = 0;
      queue.push_back(to);
    }
    for (size_t qi = 0; qi < queue.size(); ++qi) {
      const uint32_t u = queue[qi];
      nodes[u].all = ls->Union(nodes[u].own, nodes[nodes[u].fail].all);
      for (const auto& [c, v] : nodes[u].next) {
        uint32_t f = nodes[u].fail;
        uint32_t to = Child(f, c);
        while (f != 0 && to == 0) {
          f = nodes[f].fail;
          to = Child(f, c);
        }
        nodes[v].fail = to;
        queue.push_back(v);
      }
    }
  }
};

struct Regex {
  uint32_t list;
  pcre2_code* code;
};

struct MatchDataDeleter {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};

// Translates the PHP preg delimiters and modifiers MISP's entries use ("/.../i") into a PCRE2
// pattern and options. PHP: leading whitespace is skipped; the delimiter is any character but an
// alphanumeric, a backslash or NUL; (, [, { and < close with their partner; the pattern ends at
// the first unescaped closing delimiter.
bool SplitPhpRegex(std::string_view e, std::string_view* pattern, uint32_t* options,
                   std::string* why) {
  e = TrimSpace(e);
  if (e.empty()) {
    *why = "is empty";
    return false;
  }
  const char open = e[0];
  if ((open >= '0' && open <= '9') || (open >= 'a' && open <= 'z') ||
      (open >= 'A' && open <= 'Z') || open == '\\' || open == '\0') {
    *why = "does not start with a delimiter (PHP preg syntax: /pattern/flags)";
    return false;
  }
  char close = open;
  if (open == '(') close = ')';
  if (open == '[') close = ']';
  if (open == '{') close = '}';
  if (open == '<') close = '>';
  size_t end = std::string_view::npos;
  int depth = 1;
  for (size_t i = 1; i < e.size(); ++i) {
    if (e[i] == '\\' && i + 1 < e.size()) {
      ++i;
      continue;
    }
    if (close != open && e[i] == open) {
      ++depth;
    } else if (e[i] == close && --depth == 0) {
      end = i;
      break;
    }
  }
  if (end == std::string_view::npos) {
    *why = common::Cat("has no closing delimiter '", close, "'");
    return false;
  }
  *pattern = e.substr(1, end - 1);
  uint32_t o = 0;
  for (char m : e.substr(end + 1)) {
    switch (m) {
      case 'i': o |= PCRE2_CASELESS; break;
      case 'm': o |= PCRE2_MULTILINE; break;
      case 's': o |= PCRE2_DOTALL; break;
      case 'x': o |= PCRE2_EXTENDED; break;
      case 'u': o |= PCRE2_UTF | PCRE2_UCP; break;
      case 'U': o |= PCRE2_UNGREEDY; break;
      case 'D': o |= PCRE2_DOLLAR_ENDONLY; break;
      case 'A': o |= PCRE2_ANCHORED; break;
      case 'n': o |= PCRE2_NO_AUTO_CAPTURE; break;
      case 'J': o |= PCRE2_DUPNAMES; break;
      // S (study) and X (strict escapes, always on since PHP 7.3) change nothing here; g is not
      // a PHP modifier (PHP refuses it) but 33 entries of lists/phone_numbers carry it, and a
      // "global" flag means nothing to a yes/no match.
      case 'S':
      case 'X':
      case 'g':
      case ' ':
      case '\n':
      case '\r': break;
      default: *why = common::Cat("has an unknown modifier '", m, "'"); return false;
    }
  }
  *options = o;
  return true;
}

}  // namespace

uint32_t KindsForMispType(std::string_view t) {
  auto bit = [](ValueKind k) { return uint32_t{1} << static_cast<int>(k); };
  const uint32_t ip = bit(ValueKind::kIpv4) | bit(ValueKind::kIpv6) | bit(ValueKind::kIpv4Cidr) |
                      bit(ValueKind::kIpv6Cidr);
  if (t == "ALL") return (uint32_t{1} << kValueKindCount) - 1;
  if (t == "ip-src" || t == "ip-dst" || t == "ip-src|port" || t == "ip-dst|port") return ip;
  if (t == "domain|ip") return ip | bit(ValueKind::kDomain);
  if (t == "domain" || t == "hostname" || t == "hostname|port") return bit(ValueKind::kDomain);
  if (t == "url" || t == "uri" || t == "link") return bit(ValueKind::kUrl);
  if (t == "email" || t == "email-src" || t == "email-dst" || t == "target-email" ||
      t == "email-reply-to" || t == "whois-registrant-email" || t == "dns-soa-email") {
    return bit(ValueKind::kEmail);
  }
  if (t == "md5" || t == "filename|md5") return bit(ValueKind::kMd5);
  if (t == "sha1" || t == "filename|sha1") return bit(ValueKind::kSha1);
  if (t == "sha256" || t == "filename|sha256") return bit(ValueKind::kSha256);
  if (t == "sha512" || t == "filename|sha512") return bit(ValueKind::kSha512);
  if (t == "vulnerability") return bit(ValueKind::kCve);
  return 0;
}

absl::StatusOr<Warninglist> ParseWarninglist(std::string_view json, std::string_view source_name) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(common::Cat(source_name, ": ", why));
  };
  if (json.size() > kMaxWarninglistBytes) {
    return fail(common::Cat("is ", json.size(), " bytes; a warninglist may have at most ",
                            kMaxWarninglistBytes));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root); err != simdjson::SUCCESS) {
    return fail(common::Cat("not valid JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return fail("a warninglist is a JSON object {\"name\", \"type\", \"list\", ...}");
  }
  Warninglist w;
  w.source = std::string(source_name);
  auto get_string = [&](const char* key, bool required, std::string* out) -> absl::Status {
    simdjson::dom::element e;
    if (obj[key].get(e) != simdjson::SUCCESS) {
      return required ? fail(common::Cat("missing member \"", key, "\"")) : absl::OkStatus();
    }
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
      return fail(common::Cat("member \"", key, "\" is not a string"));
    }
    out->assign(s);
    return absl::OkStatus();
  };
  ACCORD_RETURN_IF_ERROR(get_string("name", true, &w.name));
  if (w.name.empty()) return fail("member \"name\" is empty");
  ACCORD_RETURN_IF_ERROR(get_string("description", true, &w.description));
  ACCORD_RETURN_IF_ERROR(get_string("type", true, &w.type));
  if (!IsKnownType(w.type)) {
    return fail(common::Cat("unknown type \"", w.type,
                            "\": expected string, substring, hostname, cidr or regex"));
  }
  std::string category;
  ACCORD_RETURN_IF_ERROR(get_string("category", false, &category));
  if (category == "false-positive" || category == "false_positive") {
    w.category = "false_positive";
  } else if (category == "known") {
    w.category = "known";
  } else if (!category.empty()) {
    return fail(
        common::Cat("unknown category \"", category, "\": expected false_positive or known"));
  }
  simdjson::dom::element version;
  if (obj["version"].get(version) != simdjson::SUCCESS) {
    return fail("missing member \"version\"");
  }
  if (version.get_int64().get(w.version) != simdjson::SUCCESS) {
    return fail("member \"version\" is not an integer");
  }
  simdjson::dom::element attrs;
  if (obj["matching_attributes"].get(attrs) == simdjson::SUCCESS) {
    simdjson::dom::array arr;
    if (attrs.get_array().get(arr) != simdjson::SUCCESS) {
      return fail("member \"matching_attributes\" is not an array");
    }
    size_t i = 0;
    for (simdjson::dom::element a : arr) {
      std::string_view s;
      if (a.get_string().get(s) != simdjson::SUCCESS) {
        return fail(common::Cat("matching_attributes[", i, "] is not a string"));
      }
      w.matching_attributes.emplace_back(s);
      ++i;
    }
  }
  simdjson::dom::element list;
  if (obj["list"].get(list) != simdjson::SUCCESS) return fail("missing member \"list\"");
  auto add_entry = [&](std::string_view s, size_t i) -> absl::Status {
    if (w.entries.size() >= kMaxWarninglistEntries) {
      return fail(common::Cat("more than ", kMaxWarninglistEntries, " entries"));
    }
    if (s.size() > kMaxWarninglistEntryBytes) {
      return fail(common::Cat("list[", i, "] is ", s.size(), " bytes; at most ",
                              kMaxWarninglistEntryBytes, " allowed"));
    }
    w.entries.emplace_back(s);
    return absl::OkStatus();
  };
  simdjson::dom::array arr;
  simdjson::dom::object with_comments;
  if (list.get_array().get(arr) == simdjson::SUCCESS) {
    w.entries.reserve(arr.size());
    size_t i = 0;
    for (simdjson::dom::element e : arr) {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) {
        return fail(common::Cat("list[", i, "] is not a string"));
      }
      ACCORD_RETURN_IF_ERROR(add_entry(s, i));
      ++i;
    }
  } else if (list.get_object().get(with_comments) == simdjson::SUCCESS) {
    size_t i = 0;
    for (auto field : with_comments) {
      ACCORD_RETURN_IF_ERROR(add_entry(field.key, i));
      ++i;
    }
  } else {
    return fail("member \"list\" is neither an array of strings nor an object");
  }
  return w;
}

struct WarninglistSet::Impl {
  std::vector<WarninglistInfo> infos;
  absl::flat_hash_map<std::string, uint32_t> by_name;
  ListSets sets;
  Arena arena;
  KeyTable strings, hosts;
  CidrTable v4, v6;
  SubstringAutomaton substrings;
  std::vector<Regex> regexes;
  pcre2_match_context* mctx = nullptr;
  // Union of the kinds of the lists of each type, to skip whole tables at once.
  uint32_t string_kinds = 0, host_kinds = 0, cidr_kinds = 0, substring_kinds = 0, regex_kinds = 0;
  mutable std::atomic<uint64_t> regex_limit_hits{0};

  Impl() {
    mctx = pcre2_match_context_create(nullptr);
    ACCORD_CHECK(mctx != nullptr);
    pcre2_set_match_limit(mctx, kRegexMatchLimit);
    pcre2_set_depth_limit(mctx, kRegexDepthLimit);
    pcre2_set_heap_limit(mctx, kRegexHeapLimitKiB);
  }
  ~Impl() {
    for (auto& r : regexes) pcre2_code_free(r.code);
    pcre2_match_context_free(mctx);
  }

  bool Applies(uint32_t list, uint32_t kind_bit) const {
    return (infos[list].kinds & kind_bit) != 0;
  }

  void Collect(uint32_t set, uint32_t kind_bit, absl::InlinedVector<uint32_t, 16>* hits) const {
    if (set == 0) return;
    for (uint32_t l : sets.Get(set)) {
      if (Applies(l, kind_bit)) hits->push_back(l);
    }
  }

  void MatchCidr(const common::IpPrefix& p, uint32_t kind_bit,
                 absl::InlinedVector<uint32_t, 16>* hits) const {
    const CidrTable& t = p.family == 4 ? v4 : v6;
    auto [lo, hi] = RangeOf(p);
    for (uint32_t l : sets.Get(t.SetAt(lo))) {
      if (!Applies(l, kind_bit)) continue;
      if (lo == hi || t.Covers(l, lo, hi)) hits->push_back(l);
    }
  }
};

WarninglistSet::WarninglistSet() : impl_(std::make_unique<Impl>()) {}
WarninglistSet::~WarninglistSet() = default;
WarninglistSet::WarninglistSet(WarninglistSet&&) noexcept = default;
WarninglistSet& WarninglistSet::operator=(WarninglistSet&&) noexcept = default;

size_t WarninglistSet::size() const { return impl_->infos.size(); }
const std::vector<WarninglistInfo>& WarninglistSet::lists() const { return impl_->infos; }
uint64_t WarninglistSet::regex_limit_hits() const {
  return impl_->regex_limit_hits.load(std::memory_order_relaxed);
}

absl::Status WarninglistSet::Add(Warninglist list, const ProblemSink& on_problem) {
  Impl& m = *impl_;
  const std::string where =
      list.source.empty() ? common::Cat("warninglist '", list.name, "'") : list.source;
  if (list.name.empty()) return absl::InvalidArgumentError(common::Cat(where, ": empty name"));
  if (!IsKnownType(list.type)) {
    return absl::InvalidArgumentError(common::Cat(where, ": unknown type \"", list.type, "\""));
  }
  if (m.by_name.contains(list.name)) {
    return absl::AlreadyExistsError(
        common::Cat(where, ": a warninglist named '", list.name, "' is already loaded"));
  }
  if (m.infos.size() >= UINT32_MAX - 1) {
    return absl::ResourceExhaustedError(common::Cat(where, ": too many warninglists"));
  }
  const auto idx = static_cast<uint32_t>(m.infos.size());
  WarninglistInfo info;
  info.source = list.source;
  info.name = list.name;
  info.description = list.description;
  info.type = list.type;
  info.category = list.category;
  info.version = list.version;
  info.matching_attributes = list.matching_attributes;
  info.entries = list.entries.size();
  if (list.matching_attributes.empty()) {
    info.kinds = KindsForMispType("ALL");
  } else {
    for (const auto& a : list.matching_attributes) info.kinds |= KindsForMispType(a);
  }
  auto problem = [&](size_t i, std::string_view entry, std::string_view why) {
    ++info.skipped;
    if (!on_problem) return;
    Problem p;
    p.location = common::Cat(where, ": list[", i, "]");
    p.message = common::Cat("warninglist '", list.name, "': entry '", entry.substr(0, 200),
                            entry.size() > 200 ? "...' " : "' ", why, "; skipped");
    on_problem(std::move(p));
  };
  if (info.kinds == 0 && on_problem) {
    Problem p;
    p.location = where;
    p.warning = true;
    std::string types;
    for (const auto& a : list.matching_attributes)
      common::Append(&types, types.empty() ? "" : ", ", a);
    p.message =
        common::Cat("warninglist '", list.name,
                    "' applies to no kind of value Accord has (matching_attributes: ", types,
                    "); it never matches");
    on_problem(std::move(p));
  }

  std::string lowered;
  const std::string& type = list.type;
  // Every error was returned above, so the set is unchanged by a failed Add; from here on an
  // entry that cannot be used is a problem, never an error.
  // Entries past the parser's limit can only come from a list built by hand.
  auto usable = [&](size_t i) {
    if (list.entries[i].size() <= kMaxWarninglistEntryBytes) return true;
    problem(i, list.entries[i],
            common::Cat("is longer than ", kMaxWarninglistEntryBytes, " bytes"));
    return false;
  };
  if (type == "string") {
    for (size_t i = 0; i < list.entries.size(); ++i) {
      const std::string& e = list.entries[i];
      if (e.empty() || !usable(i)) continue;  // MISP drops empty entries on import
      LowerInto(e, &lowered);
      m.strings.Add(lowered, idx, &m.sets, &m.arena);
    }
    m.string_kinds |= info.kinds;
  } else if (type == "hostname") {
    for (size_t i = 0; i < list.entries.size(); ++i) {
      if (!usable(i)) continue;
      LowerInto(list.entries[i], &lowered);
      std::string_view key = HostnameKey(lowered);
      if (key.empty()) continue;
      m.hosts.Add(key, idx, &m.sets, &m.arena);
    }
    m.host_kinds |= info.kinds;
  } else if (type == "substring") {
    bool any = false;
    for (size_t i = 0; i < list.entries.size(); ++i) {
      const std::string& e = list.entries[i];
      if (e.empty() || !usable(i)) continue;  // "" would match every value; MISP drops it
      LowerInto(e, &lowered);
      m.substrings.Insert(lowered, idx, &m.sets);
      any = true;
    }
    if (any) m.substrings.Build(&m.sets);
    m.substring_kinds |= info.kinds;
  } else if (type == "cidr") {
    std::vector<std::pair<U128, U128>> iv4, iv6;
    for (size_t i = 0; i < list.entries.size(); ++i) {
      std::string_view e = TrimSpace(list.entries[i]);
      if (e.empty()) continue;
      common::IpPrefix p;
      // inet_pton stops at a NUL, so "10.0.0.0\0junk" must be refused here.
      if (e.find('\0') != std::string_view::npos || !common::ParseIpPrefix(e, &p)) {
        problem(i, list.entries[i], "is not an IPv4/IPv6 address or CIDR");
        continue;
      }
      (p.family == 4 ? iv4 : iv6).push_back(RangeOf(p));
    }
    m.v4.AddList(idx, std::move(iv4), &m.sets);
    m.v6.AddList(idx, std::move(iv6), &m.sets);
    m.cidr_kinds |= info.kinds;
  } else {  // regex
    for (size_t i = 0; i < list.entries.size(); ++i) {
      if (!usable(i)) continue;
      const std::string& e = list.entries[i];
      std::string_view pattern;
      uint32_t options = 0;
      std::string why;
      if (!SplitPhpRegex(e, &pattern, &options, &why)) {
        problem(i, e, why);
        continue;
      }
      int err = 0;
      PCRE2_SIZE off = 0;
      pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                       options, &err, &off, nullptr);
      if (code == nullptr) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        problem(i, e,
                common::Cat("does not compile: ", reinterpret_cast<const char*>(msg), " at offset ",
                            static_cast<uint64_t>(off)));
        continue;
      }
      m.regexes.push_back({idx, code});
    }
    m.regex_kinds |= info.kinds;
  }
  m.by_name.emplace(info.name, idx);
  m.infos.push_back(std::move(info));
  return absl::OkStatus();
}

std::vector<std::string_view> WarninglistSet::Match(const Value& v) const {
  const Impl& m = *impl_;
  std::vector<std::string_view> out;
  const uint32_t bit = uint32_t{1} << static_cast<int>(v.kind);
  absl::InlinedVector<uint32_t, 16> hits;
  // PERF: one lower-cased copy per thread, reused, so steady-state matching does not allocate
  // for it.
  thread_local std::string lowered;
  LowerInto(v.value, &lowered);
  std::string_view key = lowered;
  if (v.kind == ValueKind::kDomain) key = StripTrailingDots(key);

  if (m.string_kinds & bit) m.Collect(m.strings.Find(key), bit, &hits);

  if ((m.host_kinds & bit) &&
      (v.kind == ValueKind::kDomain || v.kind == ValueKind::kUrl || v.kind == ValueKind::kEmail)) {
    std::string_view host = StripTrailingDots(HostOf(v.kind, key));
    // The host itself, then each parent domain: MISP's __evalHostname, one lookup per label.
    while (!host.empty()) {
      m.Collect(m.hosts.Find(host), bit, &hits);
      size_t dot = host.find('.');
      if (dot == std::string_view::npos) break;
      host.remove_prefix(dot + 1);
    }
  }

  if ((m.substring_kinds & bit) && m.substrings.nodes.size() > 1) {
    const auto& nodes = m.substrings.nodes;
    uint32_t state = 0;
    uint32_t last_set = 0;
    for (char ch : lowered) {
      const auto c = static_cast<unsigned char>(ch);
      uint32_t to = m.substrings.Child(state, c);
      while (state != 0 && to == 0) {
        state = nodes[state].fail;
        to = m.substrings.Child(state, c);
      }
      state = to;
      const uint32_t s = nodes[state].all;
      if (s != 0 && s != last_set) {
        m.Collect(s, bit, &hits);
        last_set = s;
      }
    }
  }

  if (m.cidr_kinds & bit) {
    common::IpPrefix p;
    bool ip = false;
    switch (v.kind) {
      case ValueKind::kIpv4:
      case ValueKind::kIpv6:
      case ValueKind::kIpv4Cidr:
      case ValueKind::kIpv6Cidr: ip = common::ParseIpPrefix(TrimSpace(v.value), &p); break;
      case ValueKind::kUrl: ip = common::ParseIpPrefix(HostOf(v.kind, key), &p); break;
      default: break;
    }
    if (ip) {
      m.MatchCidr(p, bit, &hits);
      common::IpPrefix v4;
      if (MappedV4(p, &v4)) m.MatchCidr(v4, bit, &hits);
    }
  }

  if ((m.regex_kinds & bit) && !m.regexes.empty()) {
    thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
        pcre2_match_data_create(1, nullptr));
    uint32_t done_list = UINT32_MAX;
    for (const Regex& r : m.regexes) {
      if (r.list == done_list || !m.Applies(r.list, bit)) continue;
      int rc = pcre2_match(r.code, reinterpret_cast<PCRE2_SPTR>(v.value.data()), v.value.size(), 0,
                           0, md.get(), m.mctx);
      if (rc >= 0) {
        hits.push_back(r.list);
        done_list = r.list;
      } else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                 rc == PCRE2_ERROR_HEAPLIMIT) {
        m.regex_limit_hits.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  if (hits.empty()) return out;
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  out.reserve(hits.size());
  for (uint32_t l : hits) out.push_back(m.infos[l].name);
  return out;
}

absl::StatusOr<WarninglistSet> LoadWarninglistDir(const std::string& dir) {
  WarninglistSet set;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return set;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    ACCORD_ASSIGN_OR_RETURN(std::string data, common::ReadFile(file, kMaxWarninglistBytes));
    ACCORD_ASSIGN_OR_RETURN(Warninglist list, ParseWarninglist(data, file));
    auto st = set.Add(std::move(list), [](Problem&&) {});
    if (!st.ok() && !absl::IsAlreadyExists(st)) return st;
  }
  return set;
}

}  // namespace accord::formats
