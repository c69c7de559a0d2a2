// Redaction profiles (include/accord/policy/redaction.h, docs/PRIVACY.md "Redaction").
#include "accord/policy/redaction.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <pcre2.h>

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>
#include <toml++/toml.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/stix/object.h"
#include "policy/text_scan.h"

namespace accord::policy {

namespace {

using Json = nlohmann::ordered_json;
using detail::Positions;
using detail::TextScan;

// PCRE2's budget per match of a text pattern over a partner's text: a pattern that needs more
// fails the object closed (dropped), never hangs the exit.
constexpr uint32_t kMatchLimit = 1000000;
constexpr uint32_t kDepthLimit = 10000;
constexpr std::string_view kRedacted = "[redacted]";

// Members whose strings are structure, not text: ids, types, timestamps, vocabulary.
bool StructuralKey(std::string_view key) {
  static const std::set<std::string_view> keys = {"id",
                                                  "type",
                                                  "spec_version",
                                                  "created",
                                                  "modified",
                                                  "valid_from",
                                                  "valid_until",
                                                  "first_seen",
                                                  "last_seen",
                                                  "first_observed",
                                                  "last_observed",
                                                  "published",
                                                  "start_time",
                                                  "stop_time",
                                                  "pattern_type",
                                                  "pattern_version",
                                                  "extension_type",
                                                  "identity_class",
                                                  "lang",
                                                  "encoding",
                                                  "alg",
                                                  "signer",
                                                  "signature",
                                                  "hash",
                                                  "definition_type"};
  return keys.count(key) != 0;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool IsRefKey(std::string_view key) { return EndsWith(key, "_ref"); }
bool IsRefsKey(std::string_view key) { return EndsWith(key, "_refs"); }

std::string_view TypeOfId(std::string_view id) {
  size_t p = id.find("--");
  return p == std::string_view::npos ? std::string_view() : id.substr(0, p);
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The end of the URL whose "://" is at `sep` in `s`: the first space, quote, '<', '>' or ']'
// after it. `*query` is where its query (or fragment) begins, its first '?' or '#' (npos when
// it has none). PERF: looked for on the way to the URL's end, not from the URL to the end of
// the text.
size_t UrlEnd(std::string_view s, size_t sep, size_t* query) {
  *query = std::string_view::npos;
  size_t end = sep + 3;
  while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end])) && s[end] != '\'' &&
         s[end] != '"' && s[end] != '<' && s[end] != '>' && s[end] != ']') {
    if (*query == std::string_view::npos && (s[end] == '?' || s[end] == '#')) *query = end;
    ++end;
  }
  return end;
}

bool InRange(const common::IpPrefix& ip, const common::IpPrefix& range) {
  if (ip.family != range.family || ip.prefix < range.prefix) return false;
  int bits = range.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.addr[i] & mask) != (range.addr[i] & mask)) return false;
  }
  return true;
}

std::string FormatPrefix(common::IpPrefix p, int len) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(len - 8 * i, 0, 8);
    p.addr[i] &= keep == 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - keep));
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.family == 4 ? AF_INET : AF_INET6, p.addr, buf, sizeof buf);
  return common::Cat(buf, "/", len);
}

// `o[key]` when it is a string, else "" (never throws, whatever a partner sent).
std::string StringMember(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Objects that are nothing without what they refer to: dropped when it is gone.
bool RequiredRefsGone(const Json& o, const std::string& type) {
  auto missing = [&](const char* key) { return !o.contains(key); };
  auto empty = [&](const char* key) {
    return !o.contains(key) || !o[key].is_array() || o[key].empty();
  };
  if (type == "relationship") return missing("source_ref") || missing("target_ref");
  if (type == "sighting") return missing("sighting_of_ref");
  if (type == "observed-data") return empty("object_refs") && !o.contains("objects");
  if (type == "report" || type == "grouping" || type == "note" || type == "opinion") {
    return empty("object_refs");
  }
  return false;
}

// Byte classes for the address scan: kAddr for hex digits, '.', ':' and '/'; kAlpha for ASCII
// letters; kAlnum for letters and digits.
enum : uint8_t { kAddr = 1, kAlpha = 2, kAlnum = 4 };
constexpr std::array<uint8_t, 256> kAddrClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    t[static_cast<size_t>(c)] =
        static_cast<uint8_t>((hex || c == '.' || c == ':' || c == '/' ? kAddr : 0) |
                             (alpha ? kAlpha : 0) | (alpha || digit ? kAlnum : 0));
  }
  return t;
}();
uint8_t ClassOf(char c) { return kAddrClass[static_cast<unsigned char>(c)]; }

// Calls f(begin, end) for each maximal run of address characters (hex digits, '.', ':' and '/')
// in `s` that could be an address: one that starts a word, trimmed of trailing '.', ':' and
// '/', and not followed by a letter ("10.0.0.1abc" is no address).
template <typename F>
void AddressCandidates(std::string_view s, F f) {
  size_t i = 0;
  while (i < s.size()) {
    if (!(ClassOf(s[i]) & kAddr) || (i > 0 && (ClassOf(s[i - 1]) & kAlnum))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && (ClassOf(s[j]) & kAddr)) ++j;
    size_t end = j;
    while (end > i && (s[end - 1] == '.' || s[end - 1] == ':' || s[end - 1] == '/')) --end;
    if (!(j < s.size() && (ClassOf(s[j]) & kAlpha) && end == j)) f(i, end);
    i = j;
  }
}

// Whether a text pattern finds a match in a JSON string (without escapes) exactly when it finds
// one at the same place in the raw JSON text around it: it has no anchor (^ $ \A \Z \z \G),
// no \K, and no group construct "(?" or verb "(*" (lookarounds, inline options). Everything
// else consumes the characters it matches, and \b and \B see a string's quotes as they see
// its start and end (both non-word). Conservative: a false only costs the full walk.
bool RawSafePattern(std::string_view re) {
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      if (i + 1 < re.size() && !in_class &&
          std::string_view("AZzGKQ").find(re[i + 1]) != std::string_view::npos) {
        return false;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      if (i + 1 < re.size() && re[i + 1] == '^') ++i;
      if (i + 1 < re.size() && re[i + 1] == ']') ++i;  // a leading ']' is a literal
      continue;
    }
    if (c == '^' || c == '$') return false;
    if (c == '(' && i + 1 < re.size() && (re[i + 1] == '?' || re[i + 1] == '*')) return false;
  }
  return !in_class;
}

// The ASCII bytes that every match of the text pattern `re` (PCRE2, UTF mode, no option set:
// profiles with "(?" constructs are never prechecked) contains: its literal characters at the
// top level that no quantifier makes optional ("@" and "." of the issue's e-mail pattern).
// Empty when there are none, or on any doubt: an alternation at the top level, an escape
// other than a class (\w \d \s ...) or a quoted punctuation character, a POSIX class or
// quoting inside a class, a byte beyond ASCII, a quantifier in an odd place.
std::string RequiredBytes(std::string_view re) {
  constexpr size_t kDoubt = std::string_view::npos;
  const size_t n = re.size();
  auto skip_class = [&](size_t k) {  // re[k] == '[': the index after its ']'
    ++k;
    if (k < n && re[k] == '^') ++k;
    if (k < n && re[k] == ']') ++k;  // a leading ']' is a literal
    while (k < n) {
      if (re[k] == '\\') {
        if (k + 1 < n && (re[k + 1] == 'Q' || re[k + 1] == 'E')) return kDoubt;
        k += 2;
      } else if (re[k] == '[') {
        return kDoubt;  // [:alpha:] and the like
      } else if (re[k] == ']') {
        return k + 1;
      } else {
        ++k;
      }
    }
    return kDoubt;
  };
  auto skip_group = [&](size_t k) {  // re[k] == '(': the index after its ')'
    int depth = 0;
    while (k < n) {
      if (re[k] == '\\') {
        if (k + 1 < n && (re[k + 1] == 'Q' || re[k + 1] == 'E')) return kDoubt;
        k += 2;
        continue;
      }
      if (re[k] == '[') {
        k = skip_class(k);
        if (k == kDoubt) return kDoubt;
        continue;
      }
      if (re[k] == '(') ++depth;
      if (re[k] == ')' && --depth == 0) return k + 1;
      ++k;
    }
    return kDoubt;
  };
  std::string out;
  size_t i = 0;
  while (i < n) {
    const char c = re[i];
    char literal = 0;  // the byte this item matches, when it is a literal
    if (static_cast<unsigned char>(c) >= 0x80) return {};
    if (c == '\\') {
      if (i + 1 >= n) return {};
      const char e = re[i + 1];
      if (std::string_view("wWdDsSbBhHvVR").find(e) != std::string_view::npos) {
        // a class or an assertion
      } else if (static_cast<unsigned char>(e) < 0x80 &&
                 std::ispunct(static_cast<unsigned char>(e))) {
        literal = e;
      } else {
        return {};
      }
      i += 2;
    } else if (c == '[') {
      i = skip_class(i);
      if (i == kDoubt) return {};
    } else if (c == '(') {
      if (i + 1 < n && (re[i + 1] == '?' || re[i + 1] == '*')) return {};
      i = skip_group(i);
      if (i == kDoubt) return {};
    } else if (c == '.' || c == '^' || c == '$') {
      ++i;
    } else if (std::string_view("|)?*+{").find(c) != std::string_view::npos) {
      return {};
    } else {
      literal = c;
      ++i;
    }
    // Its quantifier, if any: '+' keeps it required, '?', '*' and "{m,n}" (even m > 0, to stay
    // simple) make it optional.
    bool quantified = false, optional = false;
    if (i < n && (re[i] == '?' || re[i] == '*' || re[i] == '+')) {
      quantified = true;
      optional = re[i] != '+';
      ++i;
    } else if (i < n && re[i] == '{') {
      const size_t close = re.find('}', i);
      if (close == std::string_view::npos) return {};
      quantified = optional = true;
      i = close + 1;
    }
    if (quantified && i < n && (re[i] == '?' || re[i] == '+')) ++i;  // lazy or possessive
    if (literal != 0 && !optional && out.find(literal) == std::string::npos) out += literal;
  }
  return out;
}

// Whether the string of `raw` whose closing quote is at `close` is a member name: the next
// byte but whitespace is a ':'.
bool IsMemberName(std::string_view raw, size_t close) {
  size_t k = close + 1;
  while (k < raw.size() && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\n' || raw[k] == '\r')) {
    ++k;
  }
  return k < raw.size() && raw[k] == ':';
}

// Calls f(raw bytes) for each string in the JSON text `raw` that is a value, not a member
// name, until f returns false. False when f did, or a string does not end.
template <typename F>
bool StringValues(std::string_view raw, F f) {
  const char* const base = raw.data();
  const size_t n = raw.size();
  // The next '"' at or after `from`, or n. PERF: a plain loop; most quotes are a few bytes
  // apart, where a memchr call costs more than the bytes.
  auto quote = [&](size_t from) {
    while (from < n && base[from] != '"') ++from;
    return from;
  };
  for (size_t i = quote(0); i < n; i = quote(i + 1)) {
    const size_t b = i + 1;
    // The closing quote: the first one after an even run of backslashes.
    size_t e = quote(b);
    while (e < n) {
      size_t slashes = 0;
      while (e - slashes > b && base[e - slashes - 1] == '\\') ++slashes;
      if (slashes % 2 == 0) break;
      e = quote(e + 1);
    }
    if (e >= n) return false;
    i = e;
    if (IsMemberName(raw, e)) continue;
    if (!f(raw.substr(b, e - b))) return false;
  }
  return true;
}

// The results a Redactor remembers (Redactor::Create's cache_bytes). PERF: a node serves the
// same object versions again and again (every peer's and client's poll of a collection, every
// page a web user reopens), and a profile's check of one (the precheck, or the walk for the few
// it changes) was most of what a read under a profile cost above one without (real reports:
// ~1.7 us an object, 0.70 of the throughput; docs/PERFORMANCE.md, issue 13).
// A result is a function of the object's text, the way it was asked for (Input) and the
// answers to the look-ups its redaction made, in order. An entry keeps the three as digests
// (below) and is used only when the text has the same length and digest, and every look-up,
// asked again in the same order, answers with the same digest (or is absent again).
// The digests are XXH3-128 under a secret drawn at random for each cache: an accidental match
// of two texts has a chance of 2^-128, and a partner crafting a text to match another's would
// have to know the secret, which never leaves the process. A first version kept the texts
// and compared them: reading a remembered copy back from memory cost most of a hit (the copies
// of a collection's pages do not stay in the processor's caches), and every entry held its
// object twice.
// Memory: each shard keeps its entries, oldest out first, within its part of the budget; an
// entry larger than a shard's part is not kept.
class ResultCache {
 public:
  struct Digest {
    uint64_t low = 0, high = 0;
    bool operator==(const Digest&) const = default;
  };
  // What a look-up answered: whether the object was found, and its digest when it was.
  struct Answer {
    bool found = false;
    Digest digest;
    bool operator==(const Answer&) const = default;
  };
  struct Asked {
    uint64_t id_key = 0;  // IdKey(id)
    std::string id;
    Answer answer;
  };
  struct Entry {
    size_t size = 0;  // of the text
    Digest text;
    Redactor::Input input = Redactor::Input::kAny;
    std::vector<Asked> asked;
    Redactor::Result result;
  };

  explicit ResultCache(size_t budget) : shard_budget_(budget / kShards) {
    std::random_device random;
    for (size_t i = 0; i < sizeof secret_; i += sizeof(uint32_t)) {
      const uint32_t r = random();
      std::memcpy(secret_ + i, &r, sizeof r);
    }
  }

  Digest Of(std::string_view text) const {
    const XXH128_hash_t h =
        XXH3_128bits_withSecret(text.data(), text.size(), secret_, sizeof secret_);
    return {h.low64, h.high64};
  }
  // An id's key in the answers given under a stamp (Redactor::Redact). PERF: the check of a
  // remembered result reads no id, which would take one more trip to memory; ids whose keys
  // collide (a chance of 2^-64, under the secret) can only make answers look changed, unless
  // both objects read exactly as the remembered answer did.
  uint64_t IdKey(std::string_view id) const {
    return XXH3_64bits_withSecret(id.data(), id.size(), secret_, sizeof secret_);
  }
  // Where an entry for a text of digest `d` asked as `input` is kept.
  static uint64_t Key(const Digest& d, Redactor::Input input) {
    return d.low ^ (static_cast<uint64_t>(input) * 0x9e3779b97f4a7c15u);
  }

  // The entry for a text of `size` bytes and digest `d` asked as `input`, if one is held (its
  // look-ups not checked yet).
  std::shared_ptr<const Entry> Find(uint64_t key, size_t size, const Digest& d,
                                    Redactor::Input input) {
    Shard& s = ShardOf(key);
    std::shared_ptr<const Entry> e;
    {
      std::lock_guard<std::mutex> l(s.mu);
      auto it = s.map.find(key);
      if (it == s.map.end()) return nullptr;
      e = it->second;
    }
    if (e->input != input || e->size != size || !(e->text == d)) return nullptr;
    return e;
  }

  void Count(uint64_t key, bool hit) {
    (hit ? ShardOf(key).hits : ShardOf(key).misses).fetch_add(1, std::memory_order_relaxed);
  }

  void Put(uint64_t key, std::shared_ptr<const Entry> e) {
    const size_t bytes = Measure(*e);  // what it holds, roughly
    if (bytes > shard_budget_) return;
    Shard& s = ShardOf(key);
    std::lock_guard<std::mutex> l(s.mu);
    const Entry* p = e.get();
    // A replaced entry's bytes count until its place in the order comes up.
    s.map[key] = std::move(e);
    s.order.push_back({key, p, bytes});
    s.bytes += bytes;
    while (s.bytes > shard_budget_) {
      const Placed oldest = s.order.front();
      s.order.pop_front();
      s.bytes -= oldest.bytes;
      auto it = s.map.find(oldest.key);
      if (it != s.map.end() && it->second.get() == oldest.entry) s.map.erase(it);
    }
  }

  Redactor::CacheStats Stats() const {
    Redactor::CacheStats st;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> l(s.mu);
      st.hits += s.hits.load(std::memory_order_relaxed);
      st.misses += s.misses.load(std::memory_order_relaxed);
      st.entries += s.map.size();
      st.bytes += s.bytes;
    }
    return st;
  }

 private:
  static constexpr size_t kShards = 8;
  // Where an entry stands in a shard's order (its pointer only compared, never followed).
  struct Placed {
    uint64_t key;
    const Entry* entry;
    size_t bytes;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    absl::flat_hash_map<uint64_t, std::shared_ptr<const Entry>> map;
    std::deque<Placed> order;  // oldest first
    size_t bytes = 0;
    std::atomic<uint64_t> hits{0}, misses{0};
  };

  static size_t Measure(const Entry& e) {
    constexpr size_t kString = sizeof(std::string);
    size_t n = sizeof(Entry) + sizeof(Placed) + 64 /* map slot, control block */ +
               e.result.json.size() + e.result.reason.size();
    for (const Asked& a : e.asked) n += sizeof(Asked) + a.id.size();
    for (const std::string& a : e.result.actions) n += kString + a.size();
    return n;
  }
  Shard& ShardOf(uint64_t key) { return shards_[key >> 61]; }  // kShards == 8

  const size_t shard_budget_;
  unsigned char secret_[192];  // XXH3's default size; at least XXH3_SECRET_SIZE_MIN
  std::array<Shard, kShards> shards_;
};

}  // namespace

struct Redactor::Impl {
  struct Pattern {
    std::string text;
    pcre2_code* code = nullptr;
    // PERF: RequiredBytes(text): a text without one of them holds no match, and needs no
    // PCRE2 run (the issue's e-mail pattern cost 0.8 µs an object under PCRE2's JIT, most of a
    // prechecked read; docs/PERFORMANCE.md, issue 13).
    std::string required;
  };
  std::vector<Pattern> patterns;
  pcre2_match_context* mctx = nullptr;
  // PERF: when every victim range is IPv4 and no wider than a /8, an address inside one is
  // written starting with the range's first octet and a dot (inet_pton takes no leading
  // zeros): a text where no dot follows one of these `v4_leads` (as a whole run of digits)
  // holds no victim address, and needs no scan for one (a byte-by-byte scan of every object,
  // measured as a third of the check).
  std::array<bool, 256> v4_leads{};
  bool v4_leads_decide = false;
  // PERF: the lengths (bit min(length, 63)) of the dropped types, and of the dropped types and
  // identity classes: a string of no such length is none of them, without a comparison (the
  // precheck asks it of every string value of every object).
  uint64_t type_lengths = 0, name_lengths = 0;
  static uint64_t LengthBit(size_t n) { return uint64_t{1} << std::min<size_t>(n, 63); }

  // Whether some '.' in `text`, at `dots` (a TextScan's), follows a run of 1 to 3 digits whose
  // value is a v4 lead.
  bool HasV4Lead(std::string_view text, const Positions& dots) const {
    for (uint32_t dot : dots) {
      if (V4LeadBefore(text, dot)) return true;
    }
    return false;
  }
  // Whether the '.' at `dot` follows a run of 1 to 3 digits whose value is a v4 lead.
  bool V4LeadBefore(std::string_view text, size_t dot) const {
    size_t b = dot;
    while (b > 0 && dot - b < 4 && text[b - 1] >= '0' && text[b - 1] <= '9') --b;
    if (b == dot || dot - b > 3) return false;  // no digits, or more than three
    int v = 0;
    for (size_t k = b; k < dot; ++k) v = v * 10 + (text[k] - '0');
    return v < 256 && v4_leads[static_cast<size_t>(v)];
  }
  // Whether Redact may first try SurelyUnchanged: the option is on and every text pattern
  // matches the same in a string as in the raw JSON around it (RawSafePattern).
  bool precheck = false;
  std::unique_ptr<ResultCache> cache;  // when results are remembered

  ~Impl() {
    for (auto& p : patterns) pcre2_code_free(p.code);
    pcre2_match_context_free(mctx);
  }
};

// The walk over one object: counts what it did, and fails closed (`failed`) when a pattern
// runs out of budget.
struct RedactionWalk {
  RedactionWalk(const Redactor& redactor, const Redactor::Lookup& l, bool refs)
      : r(redactor), lookup(l), with_refs(refs) {}
  const Redactor& r;
  const Redactor::Lookup& lookup;
  bool with_refs = true;
  int refs_dropped = 0, refs_rewritten = 0, addresses = 0, queries = 0, matches = 0,
      nested_dropped = 0;
  std::string failed;

  const RedactionProfile& p() const { return r.profile_; }

  bool DroppedObject(const Json& o) const {
    if (!o.is_object()) return false;
    auto t = o.find("type");
    if (t == o.end() || !t->is_string()) return false;
    const std::string& type = t->get_ref<const std::string&>();
    if (Contains(p().drop_types, type)) return true;
    if (type == "identity") {
      auto c = o.find("identity_class");
      if (c != o.end() && c->is_string() &&
          Contains(p().drop_identity_classes, c->get_ref<const std::string&>())) {
        return true;
      }
    }
    return false;
  }

  // The generalised form of an address inside a victim range, or "" when it is none or is
  // already no finer than the profile's length.
  std::string Generalised(const common::IpPrefix& ip) const {
    for (const auto& range : p().victim_ranges) {
      if (!InRange(ip, range)) continue;
      const int gen = ip.family == 4 ? p().generalise_ipv4 : p().generalise_ipv6;
      // Generalised to the profile's length, never finer than the victim range itself.
      const int len = std::min(std::max(gen, 0), ip.prefix);
      return len < ip.prefix ? FormatPrefix(ip, len) : std::string();
    }
    return std::string();
  }

  // Victim addresses in `s` generalised (each AddressCandidates run is tried).
  std::string Addresses(const std::string& s) {
    if (p().victim_ranges.empty()) return s;
    std::string out;
    size_t copied = 0;
    AddressCandidates(s, [&](size_t b, size_t e) {
      common::IpPrefix ip;
      if (!common::ParseIpPrefix(std::string_view(s).substr(b, e - b), &ip)) return;
      std::string g = Generalised(ip);
      if (g.empty()) return;
      out.append(s, copied, b - copied);
      out += g;
      copied = e;
      ++addresses;
    });
    if (copied == 0) return s;
    out.append(s, copied, std::string::npos);
    return out;
  }

  // Whether `s` holds an address that Addresses would generalise (without building a copy).
  bool HasVictimAddress(std::string_view s) const {
    if (p().victim_ranges.empty()) return false;
    bool hit = false;
    AddressCandidates(s, [&](size_t b, size_t e) {
      const std::string_view run = s.substr(b, e - b);
      // inet_pton takes no IPv4 address without a dot, and no IPv6 one without a colon.
      if (hit || run.find_first_of(".:") == std::string_view::npos) return;
      common::IpPrefix ip;
      hit = common::ParseIpPrefix(run, &ip) && !Generalised(ip).empty();
    });
    return hit;
  }

  // URL queries and fragments cut off: "scheme://host/path?q#f" -> "scheme://host/path".
  std::string Queries(const std::string& s) {
    if (!p().strip_url_query || s.find("://") == std::string::npos) return s;
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      size_t sep = s.find("://", i);
      if (sep == std::string::npos) break;
      size_t q = std::string::npos;
      const size_t end = UrlEnd(s, sep, &q);
      if (q != std::string::npos) {
        out.append(s, i, q - i);
        ++queries;
      } else {
        out.append(s, i, end - i);
      }
      i = end;
    }
    out.append(s, i, std::string::npos);
    return out;
  }

  std::string Patterns(const std::string& s) {
    std::string cur = s;
    for (const auto& pat : r.impl_->patterns) {
      PCRE2_SIZE len = cur.size() + 64;
      std::string buf(len, '\0');
      int rc = 0;
      for (int attempt = 0; attempt < 2; ++attempt) {
        len = buf.size();
        rc = pcre2_substitute(pat.code, reinterpret_cast<PCRE2_SPTR>(cur.data()), cur.size(), 0,
                              PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, nullptr,
                              r.impl_->mctx, reinterpret_cast<PCRE2_SPTR>(kRedacted.data()),
                              kRedacted.size(), reinterpret_cast<PCRE2_UCHAR*>(buf.data()), &len);
        if (rc != PCRE2_ERROR_NOMEMORY) break;
        buf.assign(len + 1, '\0');
      }
      if (rc < 0) {
        failed = common::Cat("text pattern '", pat.text, "' failed (PCRE2 error ", rc,
                             "; over its match limit?)");
        return s;
      }
      if (rc > 0) {
        matches += rc;
        buf.resize(len);
        cur = std::move(buf);
      }
    }
    return cur;
  }

  std::string Text(const std::string& s) { return Patterns(Queries(Addresses(s))); }

  // What becomes of a reference: nullopt to remove it, else the id to keep in its place.
  std::optional<std::string> Ref(const std::string& id) {
    const std::string_view type = TypeOfId(id);
    if (Contains(p().drop_types, type)) return std::nullopt;
    if (type == "identity" && !p().drop_identity_classes.empty()) {
      std::optional<std::string> target = lookup ? lookup(id) : std::nullopt;
      if (target) {
        Json t = Json::parse(*target, nullptr, false);
        if (t.is_discarded() || DroppedObject(t)) return std::nullopt;
      }
      return id;
    }
    if (!stix::IsScoType(type)) return id;
    // An SCO: refer to its redacted copy. One that cannot be looked up is removed when the
    // profile could have changed it (its id could give its value away).
    const bool could_change =
        (!p().victim_ranges.empty() && (type == "ipv4-addr" || type == "ipv6-addr")) ||
        (p().strip_url_query && type == "url") ||
        (!r.impl_->patterns.empty() && (type == "email-addr" || type == "user-account" ||
                                        type == "email-message" || type == "url"));
    std::optional<std::string> target = lookup ? lookup(id) : std::nullopt;
    if (!target) return could_change ? std::nullopt : std::optional<std::string>(id);
    Json t = Json::parse(*target, nullptr, false);
    if (t.is_discarded() || !t.is_object() || DroppedObject(t)) return std::nullopt;
    RedactionWalk inner(r, lookup, false);
    const std::string before = t.dump();
    inner.Walk(t);
    if (!inner.failed.empty()) return std::nullopt;
    if (t.dump() == before) return id;
    std::optional<std::string> was = stix::DeterministicScoId(before);
    if (was && *was == id) {
      std::optional<std::string> now = stix::DeterministicScoId(t.dump());
      if (now) return now;
    }
    return id;
  }

  // Every member of an object (at any depth): references, nested objects, strings.
  void Walk(Json& j, std::string_view key = {}) {
    if (!failed.empty()) return;
    if (j.is_string()) {
      if (StructuralKey(key)) return;
      const std::string& s = j.get_ref<const std::string&>();
      std::string t = Text(s);
      if (t != s) j = std::move(t);
      return;
    }
    if (j.is_array()) {
      for (auto it = j.begin(); it != j.end();) {
        if (it->is_object() && DroppedObject(*it)) {
          it = j.erase(it);
          ++nested_dropped;
          continue;
        }
        Walk(*it, key);
        ++it;
      }
      return;
    }
    if (!j.is_object()) return;
    for (auto it = j.begin(); it != j.end();) {
      const std::string k = it.key();
      Json& v = it.value();
      if (with_refs && IsRefKey(k) && v.is_string()) {
        std::optional<std::string> to = Ref(v.get<std::string>());
        if (!to) {
          it = j.erase(it);
          ++refs_dropped;
          continue;
        }
        if (*to != v.get_ref<const std::string&>()) {
          v = *to;
          ++refs_rewritten;
        }
        ++it;
        continue;
      }
      if (with_refs && IsRefsKey(k) && v.is_array()) {
        Json kept = Json::array();
        for (const Json& e : v) {
          if (!e.is_string()) continue;
          std::optional<std::string> to = Ref(e.get<std::string>());
          if (!to) {
            ++refs_dropped;
            continue;
          }
          if (*to != e.get_ref<const std::string&>()) ++refs_rewritten;
          kept.push_back(*to);
        }
        v = std::move(kept);
        ++it;
        continue;
      }
      if (IsRefKey(k) || IsRefsKey(k)) {  // references are not text
        ++it;
        continue;
      }
      if (v.is_object() && DroppedObject(v)) {
        it = j.erase(it);
        ++nested_dropped;
        continue;
      }
      Walk(v, k);
      ++it;
    }
  }
};

absl::StatusOr<std::shared_ptr<const Redactor>> Redactor::Create(RedactionProfile profile,
                                                                 bool precheck,
                                                                 size_t cache_bytes) {
  auto impl = std::make_unique<Impl>();
  if (cache_bytes > 0) impl->cache = std::make_unique<ResultCache>(cache_bytes);
  impl->mctx = pcre2_match_context_create(nullptr);
  if (impl->mctx == nullptr) return absl::ResourceExhaustedError("PCRE2: out of memory");
  pcre2_set_match_limit(impl->mctx, kMatchLimit);
  pcre2_set_depth_limit(impl->mctx, kDepthLimit);
  for (const std::string& text : profile.text_patterns) {
    int err = 0;
    PCRE2_SIZE off = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return absl::InvalidArgumentError(common::Cat("redaction profile '", profile.name,
                                                    "': text pattern '", text, "' at offset ", off,
                                                    ": ", reinterpret_cast<const char*>(msg)));
    }
    // PERF: compiled to machine code where PCRE2 can (29.6 µs -> 1.5 µs for the issue's
    // e-mail pattern over a 350-byte indicator, measured); the interpreter otherwise.
    // The match limit still bounds both.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    impl->patterns.push_back({text, code, RequiredBytes(text)});
  }
  // JIT matching runs on a stack of its own: one per thread (a stack is not shared), 32 KiB
  // growing to 1 MiB. A pattern that needs more fails the object closed, as the limits do.
  pcre2_jit_stack_assign(
      impl->mctx,
      [](void*) -> pcre2_jit_stack* {
        struct Stack {
          pcre2_jit_stack* s = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
          ~Stack() { pcre2_jit_stack_free(s); }
        };
        thread_local Stack stack;
        return stack.s;
      },
      nullptr);
  // SurelyUnchanged finds names in the raw text only when no escape can stand in them.
  auto plain = [](const std::string& name) {
    return std::all_of(name.begin(), name.end(), [](char c) {
      return c > ' ' && c < 0x7f && c != '"' && c != '\\' && c != '/';
    });
  };
  impl->precheck =
      precheck &&
      std::all_of(profile.text_patterns.begin(), profile.text_patterns.end(), RawSafePattern) &&
      std::all_of(profile.drop_types.begin(), profile.drop_types.end(), plain) &&
      std::all_of(profile.drop_identity_classes.begin(), profile.drop_identity_classes.end(),
                  plain);
  for (const std::string& t : profile.drop_types) impl->type_lengths |= Impl::LengthBit(t.size());
  impl->name_lengths = impl->type_lengths;
  for (const std::string& c : profile.drop_identity_classes) {
    impl->name_lengths |= Impl::LengthBit(c.size());
  }
  impl->v4_leads_decide =
      !profile.victim_ranges.empty() &&
      std::all_of(profile.victim_ranges.begin(), profile.victim_ranges.end(),
                  [](const common::IpPrefix& r) { return r.family == 4 && r.prefix >= 8; });
  if (impl->v4_leads_decide) {
    for (const common::IpPrefix& r : profile.victim_ranges) impl->v4_leads[r.addr[0]] = true;
  }
  std::shared_ptr<Redactor> r(new Redactor(std::move(profile)));
  r->impl_ = std::move(impl);
  return std::shared_ptr<const Redactor>(std::move(r));
}

Redactor::Redactor(RedactionProfile profile) : profile_(std::move(profile)) {}
Redactor::~Redactor() = default;

// PERF: most objects leave a profile unchanged (an indicator of a domain has no victim address,
// query or e-mail address), and building a DOM to find that out was most of a redacted read's
// cost (docs/PERFORMANCE.md, issue 13). This asks the same questions of the text:
//  - of the raw text, what the structure decides (types, classes, references). A \u escape can
//    spell any of those another way, so an object with one takes the walk; the other escapes
//    cannot (no type, class or reference id holds a quote, backslash, slash or control
//    character: profiles whose names do are never prechecked);
//  - of the text with its escapes decoded, what the strings decide (addresses, queries,
//    patterns). There every JSON string stands between quotes exactly as it decodes, and quotes
//    end runs of address characters and URLs as a string's ends do, so a test that finds
//    nothing in the whole text finds nothing in any string the walk would look at.
// A test that finds something may be a false alarm (a member name, an id, a timestamp), which
// only costs the full walk.
bool Redactor::SurelyUnchanged(std::string_view raw, const Lookup& lookup, Input input) const {
  // The text with its escapes decoded; false when a \u escape (or a broken one) is in it.
  auto decode = [](std::string_view in, std::string* out) {
    out->clear();
    out->reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      // PERF: the run up to the next backslash in one copy (a byte at a time was a tenth of a
      // page's check for real feeds, whose URLs and descriptions hold escapes).
      const size_t next = std::min(in.find('\\', i), in.size());
      out->append(in.data() + i, next - i);
      if ((i = next) == in.size()) break;
      if (++i == in.size()) return false;
      switch (in[i]) {
        case '"':
        case '\\':
        case '/': out->push_back(in[i]); break;
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        default: return false;
      }
    }
    return true;
  };
  thread_local simdjson::dom::parser parser;
  thread_local std::string decoded;
  thread_local TextScan scan, decoded_scan;
  scan.Run(raw);
  std::string_view text = raw;      // most objects have no escape: no copy
  const TextScan* in_text = &scan;  // the dots and "://" of `text`
  if (scan.backslash) {
    if (!decode(raw, &decoded)) return false;
    text = decoded;
    decoded_scan.Run(text, /*raw=*/false);
    in_text = &decoded_scan;
  }
  const RedactionProfile& p = profile_;
  // Each string value (member names aside), with where "--" is in it: a dropped object, at the
  // top or embedded, shows as its type or class; a reference ("TYPE--...") to an SCO may be
  // re-pointed to its redacted copy, one to a dropped type is removed, and one to an identity
  // is removed when that identity is of a dropped class, which its own text says.
  auto value = [&](std::string_view v, size_t dd) {
    if ((impl_->name_lengths & Impl::LengthBit(v.size())) != 0 &&
        (Contains(p.drop_types, v) || Contains(p.drop_identity_classes, v))) {
      return false;
    }
    if (dd == std::string_view::npos) return true;
    const std::string_view type = v.substr(0, dd);
    if (stix::IsScoType(type) || ((impl_->type_lengths & Impl::LengthBit(type.size())) != 0 &&
                                  Contains(p.drop_types, type))) {
      return false;
    }
    if (type != "identity" || p.drop_identity_classes.empty()) return true;
    if (v.find('\\') != std::string_view::npos) return false;
    std::optional<std::string> target = lookup ? lookup(v) : std::nullopt;
    if (!target) return true;  // the walk keeps a reference it cannot look up
    // A \u escape could spell a class another way; simdjson rejects any other bad escape.
    return target->find("\\u") == std::string::npos &&
           StringValues(
               *target,
               [&](std::string_view c) { return !Contains(p.drop_identity_classes, c); }) &&
           parser.parse(*target).error() == simdjson::SUCCESS;
  };
  bool ok = true;
  if (scan.backslash) {
    ok = StringValues(raw, [&](std::string_view v) { return value(v, v.find("--")); });
  } else {
    // No escape: the quotes pair up, opening and closing each string in turn.
    const Positions& q = scan.quotes;
    ok = q.size() % 2 == 0;
    size_t d = 0;  // the first "--" not before the current string
    for (size_t i = 0; ok && i < q.size(); i += 2) {
      const size_t b = q[i] + 1, e = q[i + 1];
      if (IsMemberName(raw, e)) continue;
      while (d < scan.dashes.size() && scan.dashes[d] < b) ++d;
      const size_t dd = d < scan.dashes.size() && scan.dashes[d] + 1 < e ? scan.dashes[d] - b
                                                                         : std::string_view::npos;
      ok = value(raw.substr(b, e - b), dd);
    }
  }
  if (!ok) return false;
  RedactionWalk w(*this, lookup, false);
  const bool may_hold_victim = !impl_->v4_leads_decide || impl_->HasV4Lead(text, in_text->dots);
  if (may_hold_victim && w.HasVictimAddress(text)) return false;
  // Every "://" is looked at (Queries skips those inside a URL: more alarms here, none
  // missed). PERF: from the scan's positions; Queries over the whole text searched for "://"
  // with a memchr at every ':' of the JSON (a fifth of the check of real reports,
  // bench/audit/redact_bench.cc).
  if (p.strip_url_query) {
    for (const uint32_t sep : in_text->schemes) {
      size_t query = std::string_view::npos;
      UrlEnd(text, sep, &query);
      if (query != std::string_view::npos) return false;
    }
  }
  for (const auto& pat : impl_->patterns) {
    if (std::any_of(pat.required.begin(), pat.required.end(),
                    [&](char c) { return text.find(c) == text.npos; })) {
      continue;  // a byte every match holds is not there
    }
    pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
    if (md == nullptr) return false;
    const int rc = pcre2_match(pat.code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                               0, md, impl_->mctx);
    pcre2_match_data_free(md);
    if (rc != PCRE2_ERROR_NOMATCH) return false;  // a match, or out of budget: the walk decides
  }
  // Last, that it is a JSON object at all (the walk drops what is not), unless the caller
  // knows (PERF: the parse was a fifth of the precheck of a stored indicator).
  if (input == Input::kObject) return true;
  simdjson::dom::element doc;
  return parser.parse(raw.data(), raw.size()).get(doc) == simdjson::SUCCESS && doc.is_object();
}

Redactor::Result Redactor::Redact(std::string_view object_json, const Lookup& lookup, Input input,
                                  uint64_t stamp) const {
  ResultCache* cache = impl_->cache.get();
  // PERF: a small object's check costs about what finding its remembered result does (the
  // digest, and a trip or two to memory): a 350-byte indicator's precheck is ~170 ns, a hit
  // ~180 ns in redact_bench and more in a busy server, where synthetic pages of them read
  // 10% slower with every object remembered (bench/audit/taxii_compare.sh).
  if (cache == nullptr || object_json.size() < kRememberedMinBytes) {
    return Compute(object_json, lookup, input);
  }
  // The answers given under `stamp`, as digests. PERF: a remembered result's check asked its
  // look-ups again, and each answer was copied and digested (~40% of a hit, real reports).
  struct Given {
    const ResultCache* cache = nullptr;
    uint64_t stamp = 0;
    absl::flat_hash_map<uint64_t, ResultCache::Answer> answers;  // by IdKey
  };
  constexpr size_t kGivenMax = 1024;  // ids remembered under one stamp (then: asked again)
  thread_local Given given;
  if (stamp == 0 || given.cache != cache || given.stamp != stamp ||
      given.answers.size() >= kGivenMax) {
    given.answers.clear();
    given.cache = stamp == 0 ? nullptr : cache;
    given.stamp = stamp;
  }
  auto ask = [&](std::string_view id, uint64_t id_key) {
    std::optional<std::string> answer = lookup ? lookup(id) : std::nullopt;
    const ResultCache::Answer a{answer.has_value(),
                                answer ? cache->Of(*answer) : ResultCache::Digest{}};
    if (stamp != 0) given.answers.try_emplace(id_key, a);
    return std::make_pair(std::move(answer), a);
  };
  const ResultCache::Digest digest = cache->Of(object_json);
  const uint64_t key = ResultCache::Key(digest, input);
  if (std::shared_ptr<const ResultCache::Entry> e =
          cache->Find(key, object_json.size(), digest, input)) {
    const bool same = std::all_of(e->asked.begin(), e->asked.end(), [&](const auto& a) {
      if (stamp != 0) {
        if (auto it = given.answers.find(a.id_key); it != given.answers.end()) {
          return it->second == a.answer;
        }
      }
      return ask(a.id, a.id_key).second == a.answer;
    });
    cache->Count(key, same);
    if (same) return e->result;
  } else {
    cache->Count(key, false);
  }
  auto e = std::make_shared<ResultCache::Entry>();
  const Lookup asking = [&](std::string_view id) {
    const uint64_t id_key = cache->IdKey(id);
    auto [answer, a] = ask(id, id_key);
    e->asked.push_back({id_key, std::string(id), a});
    return answer;
  };
  Result out = Compute(object_json, asking, input);
  e->size = object_json.size();
  e->text = digest;
  e->input = input;
  e->result = out;
  cache->Put(key, std::move(e));
  return out;
}

Redactor::CacheStats Redactor::cache_stats() const {
  return impl_->cache ? impl_->cache->Stats() : CacheStats{};
}

Redactor::Result Redactor::Compute(std::string_view object_json, const Lookup& lookup,
                                   Input input) const {
  Result out;
  if (impl_->precheck && SurelyUnchanged(object_json, lookup, input)) return out;
  Json o = Json::parse(object_json, nullptr, false);
  if (o.is_discarded() || !o.is_object()) {
    out.kind = Result::Kind::kDropped;
    out.reason = "not a JSON object";
    return out;
  }
  RedactionWalk w(*this, lookup, true);
  const std::string type = StringMember(o, "type");
  if (w.DroppedObject(o)) {
    out.kind = Result::Kind::kDropped;
    const bool by_class = type == "identity" && !Contains(profile_.drop_types, type);
    out.reason = common::Cat(
        type, by_class ? common::Cat(" of class '", StringMember(o, "identity_class"), "'") : "",
        " is dropped by profile '", profile_.name, "'");
    return out;
  }
  const std::string original_id = StringMember(o, "id");
  w.Walk(o);
  if (!w.failed.empty()) {
    out.kind = Result::Kind::kDropped;
    out.reason = w.failed;
    return out;
  }
  if (w.refs_dropped && RequiredRefsGone(o, type)) {
    out.kind = Result::Kind::kDropped;
    out.reason = common::Cat("it refers only to objects profile '", profile_.name, "' drops");
    return out;
  }
  std::vector<std::string>& actions = out.actions;
  if (w.nested_dropped)
    actions.push_back(common::Cat("dropped ", w.nested_dropped, " embedded objects"));
  if (w.refs_dropped) actions.push_back(common::Cat("removed ", w.refs_dropped, " references"));
  if (w.refs_rewritten) {
    actions.push_back(
        common::Cat("re-pointed ", w.refs_rewritten, " references to redacted objects"));
  }
  if (w.addresses) actions.push_back(common::Cat("generalised ", w.addresses, " victim addresses"));
  if (w.queries) actions.push_back(common::Cat("stripped ", w.queries, " URL queries"));
  if (w.matches) actions.push_back(common::Cat("replaced ", w.matches, " text pattern matches"));
  if (actions.empty()) return out;
  // An SCO whose id was derived from its value takes the id of its new value.
  if (stix::IsScoType(type)) {
    std::optional<std::string> was = stix::DeterministicScoId(object_json);
    if (was && *was == original_id) {
      std::optional<std::string> now = stix::DeterministicScoId(o.dump());
      if (now && *now != original_id) {
        o["id"] = *now;
        actions.push_back("new id from the redacted value");
      }
    }
  }
  // Members already there (`markings`, from parts withheld under granular markings: granular.h)
  // stay.
  Json& ext = o["extensions"][std::string(kRedactionExtension)];
  if (!ext.is_object()) ext = Json::object();
  ext["extension_type"] = "property-extension";
  ext["profile"] = profile_.name;
  ext["actions"] = actions;
  out.kind = Result::Kind::kRedacted;
  out.json = o.dump();
  out.reason = common::Cat("redacted by profile '", profile_.name, "'");
  return out;
}

// --- configuration ---------------------------------------------------------------------------

absl::StatusOr<RedactionConfig> ParseRedactionConfig(std::string_view toml_text,
                                                     std::string_view source) {
  RedactionConfig config;
  toml::table t;
  try {
    t = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(common::Cat(source, ":", e.source().begin.line, ":",
                                                  e.source().begin.column, ": ", e.description()));
  }
  const toml::table* red = t["redaction"].as_table();
  if (red == nullptr) {
    if (t.contains("redaction")) {
      return absl::InvalidArgumentError(common::Cat(source, ": [redaction] must be a table"));
    }
    return config;
  }
  auto where = [&](const toml::node& n) { return common::Cat(source, ":", n.source().begin.line); };
  for (const auto& [k, v] : *red) {
    if (k.str() == "cache_mib") {
      // Up to 1 TiB: a bound, not a guess at the machine.
      const auto* n = v.as_integer();
      if (n == nullptr || n->get() < 0 || n->get() > (int64_t{1} << 20)) {
        return absl::InvalidArgumentError(common::Cat(
            where(v), ": redaction.cache_mib must be a number of MiB from 0 to 1048576"));
      }
      config.cache_bytes = static_cast<size_t>(n->get()) << 20;
    } else if (k.str() != "profiles" && k.str() != "roles") {
      return absl::InvalidArgumentError(common::Cat(where(v), ": [redaction] has no key '", k.str(),
                                                    "' (profiles, roles, cache_mib)"));
    }
  }
  if (const toml::node* profiles = red->get("profiles")) {
    const toml::table* pt = profiles->as_table();
    if (pt == nullptr) {
      return absl::InvalidArgumentError(
          common::Cat(where(*profiles), ": redaction.profiles must be a table of profiles"));
    }
    for (const auto& [name, node] : *pt) {
      RedactionProfile p;
      p.name = std::string(name.str());
      const toml::table* body = node.as_table();
      auto bad = [&](const toml::node& n, std::string_view key, std::string_view rule) {
        return absl::InvalidArgumentError(
            common::Cat(where(n), ": redaction profile '", p.name, "', ", key, ": ", rule));
      };
      if (body == nullptr) return bad(node, "(profile)", "must be a table");
      auto strings = [&](const toml::node& n, std::string_view key,
                         std::vector<std::string>* out) -> absl::Status {
        const toml::array* a = n.as_array();
        if (a == nullptr) return bad(n, key, "must be a list of strings");
        for (const toml::node& e : *a) {
          const auto* s = e.as_string();
          if (s == nullptr) return bad(e, key, "must be a list of strings");
          out->push_back(s->get());
        }
        return absl::OkStatus();
      };
      for (const auto& [k, v] : *body) {
        const std::string_view key = k.str();
        if (key == "drop_types") {
          ACCORD_RETURN_IF_ERROR(strings(v, key, &p.drop_types));
        } else if (key == "drop_identity_classes") {
          ACCORD_RETURN_IF_ERROR(strings(v, key, &p.drop_identity_classes));
        } else if (key == "text_patterns") {
          ACCORD_RETURN_IF_ERROR(strings(v, key, &p.text_patterns));
        } else if (key == "victim_ranges") {
          std::vector<std::string> ranges;
          ACCORD_RETURN_IF_ERROR(strings(v, key, &ranges));
          for (const std::string& r : ranges) {
            common::IpPrefix ip;
            if (!common::ParseIpPrefix(r, &ip)) {
              return bad(v, key, common::Cat("'", r, "' is not an address or CIDR range"));
            }
            p.victim_ranges.push_back(ip);
          }
        } else if (key == "generalise_ipv4" || key == "generalise_ipv6") {
          const auto* n = v.as_integer();
          const int64_t max = key == "generalise_ipv4" ? 32 : 128;
          if (n == nullptr || n->get() < 0 || n->get() > max) {
            return bad(v, key, common::Cat("must be a prefix length from 0 to ", max));
          }
          (key == "generalise_ipv4" ? p.generalise_ipv4 : p.generalise_ipv6) =
              static_cast<int>(n->get());
        } else if (key == "strip_url_query") {
          const auto* b = v.as_boolean();
          if (b == nullptr) return bad(v, key, "must be true or false");
          p.strip_url_query = b->get();
        } else {
          return bad(v, key,
                     "unknown key (drop_types, drop_identity_classes, victim_ranges, "
                     "generalise_ipv4, generalise_ipv6, strip_url_query, text_patterns)");
        }
      }
      // The patterns must compile: a profile that would fail at egress fails here.
      ACCORD_RETURN_IF_ERROR(Redactor::Create(p).status());
      config.profiles.emplace(p.name, std::move(p));
    }
  }
  if (const toml::node* roles = red->get("roles")) {
    const toml::table* rt = roles->as_table();
    if (rt == nullptr) {
      return absl::InvalidArgumentError(
          common::Cat(where(*roles), ": redaction.roles must be a table of role = \"profile\""));
    }
    for (const auto& [role, node] : *rt) {
      const auto* s = node.as_string();
      if (s == nullptr || !config.profiles.count(s->get())) {
        return absl::InvalidArgumentError(common::Cat(where(node), ": redaction.roles.", role.str(),
                                                      " must name a profile defined under "
                                                      "[redaction.profiles]"));
      }
      config.roles.emplace(std::string(role.str()), s->get());
    }
  }
  return config;
}

absl::StatusOr<RedactionConfig> LoadRedactionConfig(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / "accord.toml").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return RedactionConfig();
  ACCORD_ASSIGN_OR_RETURN(std::string text, common::ReadFile(path));
  return ParseRedactionConfig(text, path);
}

}  // namespace accord::policy
