// The compiled engine (../shared/DESIGN.md, "The matcher is a compiler").
//
// Every kSimple leaf of every indicator gets an *anchor*: a set of index entries such that
// whenever the leaf is true on an SCO, at least one entry is hit by a value of that SCO.
//   * `path = v` and `path IN (...)` (string/int literals): one key (path id, value) each in a
//     single hash table; a leaf that is exactly one such comparison needs no confirmation.
//   * `path ISSUBSET 'cidr'`: a key (path id, family, prefix length, masked address); a value
//     probes each prefix length in use for its path (at most 33 or 129 probes).
//   * `path LIKE/MATCHES`: one Vectorscan database per path (prefilter mode), confirmed by
//     PCRE2 through the exact evaluator.
//   * AND anchors on any anchored conjunct; OR needs every disjunct anchored.
// Leaves without an anchor (ordered comparisons, !=, NOT, EXISTS, floats, bytes) sit on a
// residual list per SCO type that every SCO of that type visits.
// Candidates are confirmed with the reference evaluator (eval.h), so the engine cannot be
// more permissive than the interpreter; the differential test checks it is not stricter.
//
// Ownership: the engine owns everything it points to, for its whole lifetime. Key records live
// in the key tables (or in the image they were loaded from, which image_ keeps); ids that are
// not indicator--UUID live in arena_ (or the image); comps_ points into ObsExpr trees that
// complex_ holds by unique_ptr, so those pointers survive complex_ growing.
#include <dlfcn.h>
#include <hs/hs.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "accord/common/strings.h"
#include "accord/match/engine.h"
#include "match/bytes.h"
#include "match/eval.h"
#include "match/key_table.h"

namespace accord::match {

namespace {

using detail::Cand;
using detail::PutVarint;
using detail::RecordKey;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The flags of every regular expression in a path's Vectorscan database: a prefilter (PCRE2
// confirms), one report per scan.
constexpr unsigned kRegexFlags = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY |
                                 HS_FLAG_DOTALL | HS_FLAG_UTF8 | HS_FLAG_UCP;

// The scan function of the Vectorscan in use, and the platform its databases are compiled for
// (null: the machine's own).
using ScanFn = hs_error_t (*)(const hs_database_t*, const char*, unsigned, unsigned, hs_scratch_t*,
                              match_event_handler, void*);
struct VectorscanMode {
  bool usable = false;  // false: no database is scanned; PCRE2 checks every regex leaf
  ScanFn scan = nullptr;
  const hs_platform_info_t* platform = nullptr;
};

// Whether `scan` over databases compiled for `platform` finds every match of known cases.
bool FindsEverything(ScanFn scan, const hs_platform_info_t* platform) {
  struct Case {
    const char* re;
    const char* tail;
  };
  // Cheap to compile (under 6 ms together; Unicode classes such as \w take 40-130 ms each),
  // and both missed at most offsets behind 'a's on the development machine.
  for (const Case& c :
       {Case{R"([a-z-]+\.(top|xyz|ru))", "-bad-domain.top"}, Case{"x[^a]*y", "-x-----y"}}) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile(c.re, kRegexFlags, HS_MODE_BLOCK, platform, &db, &err) != HS_SUCCESS) {
      hs_free_compile_error(err);
      return false;
    }
    hs_scratch_t* scratch = nullptr;
    bool all = hs_alloc_scratch(db, &scratch) == HS_SUCCESS;
    for (size_t pad = 0; all && pad < 200; ++pad) {
      const std::string text = std::string(pad, 'a') + c.tail;
      bool hit = false;
      const hs_error_t rc = scan(
          db, text.data(), static_cast<unsigned>(text.size()), 0, scratch,
          [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) -> int {
            *static_cast<bool*>(ctx) = true;
            return 1;
          },
          &hit);
      all = hit && (rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED);
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
    if (!all) return false;
  }
  return true;
}

// Which Vectorscan to use. Debian 12's (5.4.9) misses matches of some expressions at some
// offsets on CPUs with AVX-512 (its AVX-512 accelerators' tail handling, fixed upstream in
// 5.4.12/13): "[\w-]+\.(top|xyz|ru)" in 131 of 200 values "a...a-bad-domain.top" here. A
// prefilter that misses is a missed sighting. So, once per process (a few milliseconds, and only
// for programs with LIKE/MATCHES): the library as it dispatches itself, if it finds every match
// of the known cases; else its AVX2 build (Debian's libhs is a "fat runtime" that exports each
// build's entry points, avx2_hs_scan among them), with databases compiled for AVX2, if that
// does; else none, and PCRE2 checks every regex leaf of a value's path, as for text that is
// not UTF-8.
const VectorscanMode& Vectorscan() {
  static const VectorscanMode mode = [] {
    VectorscanMode m;
    if (FindsEverything(&hs_scan, nullptr)) {
      m.usable = true;
      m.scan = &hs_scan;
      return m;
    }
    static const hs_platform_info_t avx2{HS_TUNE_FAMILY_GENERIC, HS_CPU_FEATURES_AVX2, 0, 0};
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): dlsym's result
    auto avx2_scan = reinterpret_cast<ScanFn>(dlsym(RTLD_DEFAULT, "avx2_hs_scan"));
    if (avx2_scan != nullptr && __builtin_cpu_supports("avx2") &&
        FindsEverything(avx2_scan, &avx2)) {
      m.usable = true;
      m.scan = avx2_scan;
      m.platform = &avx2;
    }
    return m;
  }();
  return mode;
}

// Append-only byte arena whose pieces never move (views of ids, versions and patterns).
class Arena {
 public:
  std::string_view Copy(std::string_view s) {
    char* p = Alloc(s.size());
    if (!s.empty()) memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  char* Alloc(size_t n) {
    // Big pieces get their own block, so a filled chunk wastes at most a quarter chunk.
    if (n > kChunk / 4) {
      big_.emplace_back(new char[n]);
      bytes_ += n;
      return big_.back().get();
    }
    if (chunks_.empty() || used_ + n > kChunk) {
      chunks_.emplace_back(new char[kChunk]);
      used_ = 0;
      bytes_ += kChunk;
    }
    char* p = chunks_.back().get() + used_;
    used_ += n;
    return p;
  }
  size_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kChunk = 1 << 20;
  std::vector<std::unique_ptr<char[]>> chunks_, big_;
  size_t used_ = 0, bytes_ = 0;
};

// Key records live in a KeyTable (key_table.h): [u32 posting][varint length][key bytes] in one
// blob, and an 8-byte slot, so a key costs its bytes plus ~5 bytes of header plus two slots
// (the table is at most half full). A posting with the top bit clear is the single leaf that
// owns the key; with it set, an index into the overflow lists (a value shared by several
// indicators).
//
// The key bytes are [varint path id][tag][value], the tag saying how the value is spelled:
//   's' string as is        'h' lowercase hex string packed to bytes (AppendHexKey)
//   'i' integer in decimal  'c' CIDR: family, prefix length, address masked to the prefix
// Values of different types thus never share a key: the integer 5 and the string '5' are
// unequal for `=` (spec digest §7).
constexpr uint32_t kOverflow = 0x80000000u;

void AppendVarint(std::string* s, size_t v) {
  char b[10];
  s->append(b, PutVarint(b, v));
}
// Lowercase only, unlike eval.cc's HexVal: string equality is case-sensitive (§8.1), so
// "AB.." and "ab.." must remain different keys, and only the lowercase spelling is packed.
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
// PERF: lowercase even-length hex of at least 16 digits (hashes) is keyed as binary: a
// bijection on key strings (applied the same way to literals and to event values), so equality
// is unchanged and a SHA-256 key takes 32 bytes instead of 64.
bool AppendHexKey(std::string_view v, std::string* out) {
  if (v.size() < 16 || v.size() % 2 != 0 || v.size() > 256) return false;
  size_t start = out->size();
  for (size_t i = 0; i < v.size(); i += 2) {
    int hi = HexVal(v[i]), lo = HexVal(v[i + 1]);
    if (hi < 0 || lo < 0) {
      out->resize(start);
      return false;
    }
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}
// Appends the tagged key of a string value. Literals (AddKey) and event values (ProbeValue)
// both come through here, which is what keeps the hex packing a bijection on keys.
void AppendStringKey(std::string_view v, std::string* out) {
  size_t tag = out->size();
  out->push_back('h');
  if (!AppendHexKey(v, out)) {
    (*out)[tag] = 's';
    out->append(v);
  }
}

// "indicator--" + canonical lowercase UUID -> 16 bytes; false for any other id.
constexpr std::string_view kIndicatorPrefix = "indicator--";
bool PackId(std::string_view id, std::array<uint8_t, 16>* out) {
  if (id.size() != kIndicatorPrefix.size() + 36 ||
      id.substr(0, kIndicatorPrefix.size()) != kIndicatorPrefix) {
    return false;
  }
  std::string_view u = id.substr(kIndicatorPrefix.size());
  size_t k = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (u[i] != '-') return false;
      ++i;
      continue;
    }
    int hi = HexVal(u[i]), lo = HexVal(u[i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[k++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return true;
}
void UnpackId(const std::array<uint8_t, 16>& b, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  // PERF: written in place (once per match line), not appended a byte at a time.
  out->resize(kIndicatorPrefix.size() + 36);
  char* p = out->data();
  memcpy(p, kIndicatorPrefix.data(), kIndicatorPrefix.size());
  p += kIndicatorPrefix.size();
  for (size_t k = 0; k < 16; ++k) {
    if (k == 4 || k == 6 || k == 8 || k == 10) *p++ = '-';
    *p++ = kHex[b[k] >> 4];
    *p++ = kHex[b[k] & 15];
  }
}

// A path ending in _hex/_bin resolves to decoded bytes (§6.2), and bytes compare with string
// and binary literals alike (§8.8), so such values have no single key spelling: leaves on
// these paths are never indexed.
bool PathIsBytes(const ObjectPath& p) {
  const PathStep& last = p.steps.back();
  return last.kind == PathStep::Kind::kKey &&
         (EndsWith(last.key, "_hex") || EndsWith(last.key, "_bin"));
}

// The SCO types a comparison tree mentions. A residual leaf is listed under each of them, as
// an OR across types can be true on an SCO of any of them.
void CollectTypes(const CompExpr& e, std::vector<std::string>* out) {
  if (e.kind == CompExpr::Kind::kCmp) {
    if (std::find(out->begin(), out->end(), e.cmp.path.type) == out->end())
      out->push_back(e.cmp.path.type);
    return;
  }
  for (const CompExpr& c : e.children) CollectTypes(c, out);
}

bool HasRegex(const CompExpr& e) {
  if (e.kind == CompExpr::Kind::kCmp)
    return e.cmp.op == CmpOp::kLike || e.cmp.op == CmpOp::kMatches;
  for (const CompExpr& c : e.children) {
    if (HasRegex(c)) return true;
  }
  return false;
}

struct Deleter {
  void operator()(hs_database_t* d) const { hs_free_database(d); }
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};

// The compiled program (engine.h): immutable once Build() returns, so any number of matchers
// on any threads read it at once. Everything a match writes lives in MatcherImpl.
class ProgramImpl final : public Program {
 public:
  explicit ProgramImpl(const MatchOptions& o) : opts_(o) {
    eopts_.strict_within = o.strict_within;
    eopts_.max_bindings = o.max_bindings;
  }

  absl::Status Build(const std::vector<IndicatorSpec>& specs,
                     std::vector<std::pair<uint32_t, std::string>>* rejected);
  absl::StatusOr<std::string> Image() const override;
  absl::Status Load(std::string_view image, std::shared_ptr<const void> owner);
  size_t size() const override { return inds_.size(); }
  std::string IndicatorId(uint32_t i) const override {
    std::string id;
    IndicatorIdInto(i, &id);
    return id;
  }
  void IndicatorIdInto(uint32_t i, std::string* out) const {
    if (!other_ids_.empty()) {
      if (auto it = other_ids_.find(i); it != other_ids_.end()) {
        out->assign(it->second.data(), it->second.size());
        return;
      }
    }
    UnpackId(ids_[i], out);
  }
  EngineStats Stats() const override { return stats_; }
  std::string Pattern(uint32_t i) const override {
    if (i >= inds_.size() || inds_[i].complex == UINT32_MAX) return {};
    return std::string(complex_[inds_[i].complex].pattern);
  }
  std::vector<std::string> Types() const override {
    if (!residual_all_.empty()) return {"*"};
    std::vector<std::string> out(mentioned_.begin(), mentioned_.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  // The indicator of this program with the same id and version as another program's, for the
  // state a reload carries over; UINT32_MAX when there is none. Only temporal indicators and
  // those with regex leaves are listed: nothing else has state.
  uint32_t FindStateful(std::string_view id, std::string_view version) const {
    std::string k(id);
    k.push_back('\0');
    k.append(version);
    auto it = stateful_.find(k);
    return it == stateful_.end() ? UINT32_MAX : it->second;
  }
  std::string_view Name(uint32_t i) const override {
    // Offsets are checked here, not at load (a corrupt image gives "", never a bad read).
    if (i >= name_end_.size()) return {};
    const uint32_t from = i == 0 ? 0 : name_end_[i - 1], to = name_end_[i];
    if (from > to || to > names_.size()) return {};
    return names_.substr(from, to - from);
  }
  std::string_view Origin(uint32_t i) const override {
    return i < origin_of_.size() && origin_of_[i] < origins_.size() ? origins_[origin_of_[i]]
                                                                    : std::string_view();
  }
  std::string_view Version(uint32_t i) const {
    return inds_[i].complex == UINT32_MAX ? std::string_view() : complex_[inds_[i].complex].version;
  }

 private:
  friend class MatcherImpl;
  // Temporal state of one indicator: in stream order, the observations on which at least one
  // of its leaves was true (no other observation can be part of a binding). `sat` is indexed
  // like the indicator's leaves; `values` are the values that satisfied them, for the report.
  struct Window {
    struct Rec {
      uint64_t position;
      detail::ObsFacts facts;
      std::vector<uint8_t> sat;
      std::vector<std::string> values;
    };
    std::deque<Rec> recs;
  };
  // PERF: 12 bytes per indicator plus a 16-byte binary id (ids_); only indicators with a
  // tree (anything but one equality) have a Complex entry.
  // The leaves of an indicator are leaves_[first_leaf, first_leaf + n_leaves), in
  // CollectLeaves order, which is also the order FindBinding numbers them (sat[k]). A pattern
  // that failed to compile keeps n_leaves = 0 and never matches.
  struct Indicator {
    uint32_t first_leaf = 0;
    uint32_t n_leaves = 1;
    uint32_t complex = UINT32_MAX;  // index into complex_, or none
  };
  struct Complex {
    std::unique_ptr<ObsExpr> expr;
    bool temporal = false;
    bool regex = false;        // has a LIKE/MATCHES leaf: may be disabled (regex limits)
    uint32_t indicator = 0;    // its index
    std::string_view version;  // in arena_: IndicatorSpec::version, for carried-over state
    std::string_view pattern;  // in arena_: its text, for Image() (the tree is rebuilt from it)
  };
  struct Leaf {
    uint32_t indicator = 0;
    uint32_t comp = UINT32_MAX;  // index into comps_; none: a hit is the answer
  };
  // The LIKE/MATCHES leaves of one path. exprs, flags and leaf are parallel; the Vectorscan
  // expression id is the index into them.
  struct RegexDb {
    std::vector<std::string> exprs;
    std::vector<unsigned> flags;
    std::vector<uint32_t> leaf;
    std::unique_ptr<hs_database_t, Deleter> db;
  };
  // An indexed object path. cidr4/cidr6 mark the prefix lengths some ISSUBSET on this path
  // uses, so a value is probed at those lengths only.
  struct PathInfo {
    ObjectPath path;
    bool cidr4[33] = {};
    bool cidr6[129] = {};
    bool has_cidr = false;
    int regex = -1;  // index into regex_
  };

  uint32_t PathId(const ObjectPath& p);
  void AddKey(uint32_t pid, char tag, std::string_view value, uint32_t leaf);
  bool Anchor(const CompExpr& e, uint32_t leaf, bool dry);
  bool ExactEligible(const CompExpr& e);
  using KeySet = detail::KeyTable;

  MatchOptions opts_;
  detail::EvalOptions eopts_;
  std::vector<Indicator> inds_;
  std::vector<std::array<uint8_t, 16>> ids_;
  absl::flat_hash_map<uint32_t, std::string_view> other_ids_;  // ids that are not indicator--UUID
  std::vector<Complex> complex_;
  std::vector<Leaf> leaves_;
  std::vector<const CompExpr*> comps_;
  std::vector<PathInfo> paths_;
  absl::flat_hash_map<std::string, uint32_t> path_ids_;
  // Per SCO type: the indexed paths to resolve and the residual leaves to visit (one probe
  // per SCO).
  struct TypeInfo {
    std::vector<uint32_t> paths, residual;
  };
  absl::flat_hash_map<std::string, TypeInfo> types_;
  // Every SCO type a comparison mentions (Types()): anchored or not, in any conjunct.
  absl::flat_hash_set<std::string> mentioned_;
  std::vector<uint32_t> residual_all_;  // interpret mode
  Arena arena_;
  KeySet keys_;       // equality and IN
  KeySet cidr_keys_;  // PERF: CIDR keys apart, a small table that stays in cache
  std::vector<std::vector<uint32_t>> overflow_;  // postings of shared keys
  std::vector<RegexDb> regex_;
  // A scratch that fits every database; each matcher clones it (hs_clone_scratch).
  std::unique_ptr<hs_scratch_t, Deleter> scratch_;
  absl::flat_hash_map<std::string, uint32_t> stateful_;  // id '\0' version -> indicator
  // IndicatorSpec::name of indicator i: names_[name_end_[i - 1], name_end_[i]) (from 0 for
  // i = 0). names_ views names_buf_ (Build) or the image (Load).
  std::string names_buf_;
  std::string_view names_;
  // PERF: both u32 arrays are views (into the image when loaded: no copy at start-up).
  // Unaligned in the image, so elements are read with memcpy.
  struct U32View {
    const char* data = nullptr;
    size_t n = 0;
    size_t size() const { return n; }
    uint32_t operator[](size_t i) const {
      uint32_t v;
      memcpy(&v, data + i * 4, 4);
      return v;
    }
  };
  std::vector<uint32_t> name_end_buf_, origin_of_buf_;  // Build(): what the views show
  U32View name_end_;
  // IndicatorSpec::origin, interned: origins_[origin_of_[i]] (views into arena_ or the image).
  std::vector<std::string_view> origins_;
  U32View origin_of_;
  EngineStats stats_;
  std::string key_buf_;                // Build() only
  std::shared_ptr<const void> image_;  // Load(): owns the bytes the key tables and ids view
};

// One thread's matcher over a shared program (engine.h): scratch space, temporal windows, the
// evaluator's counters and the regex-limit state. Not thread-safe: Process() writes all of
// them, and even the const IndicatorId() writes id_buf_.
class MatcherImpl final : public Engine {
 public:
  explicit MatcherImpl(std::shared_ptr<const ProgramImpl> p)
      : p_(std::move(p)), pp_(p_.get()), windows_(pp_->complex_.size()) {
    ev_.SetRegexLimits(pp_->opts_.regex_match_limit, pp_->opts_.regex_depth_limit);
    leaf_state_.assign(pp_->leaves_.size(), 0);
    ind_epoch_.assign(pp_->inds_.size(), 0);
    if (pp_->scratch_) {
      hs_scratch_t* s = nullptr;
      if (hs_clone_scratch(pp_->scratch_.get(), &s) != HS_SUCCESS) throw std::bad_alloc();
      scratch_.reset(s);
    }
  }

  void Process(const Observation& o, uint64_t position, std::vector<MatchResult>* out) override;
  // The returned reference is id_buf_: valid until the next call.
  const std::string& IndicatorId(uint32_t i) const override {
    pp_->IndicatorIdInto(i, &id_buf_);
    return id_buf_;
  }
  EngineStats Stats() const override {
    EngineStats s = pp_->stats_;
    s.observations = observations_;
    s.candidates = candidates_;
    s.evicted = evicted_;
    s.type_errors = ev_.counters.type_errors;
    s.regex_errors = ev_.counters.regex_errors;
    s.regex_limit_hits = ev_.counters.regex_limit_hits;
    s.disabled = disabled_.size();
    s.truncated_bindings = ev_.counters.truncated_bindings;
    s.memory_bytes += leaf_state_.capacity() * 8 + ind_epoch_.capacity() * 4;
    return s;
  }
  std::vector<uint32_t> Disabled() const override { return disabled_; }
  const std::shared_ptr<const Program>& program() const override { return program_; }
  uint64_t TakeStateFrom(Engine& old) override;
  void set_program_handle(std::shared_ptr<const Program> p) { program_ = std::move(p); }

 private:
  using Window = ProgramImpl::Window;
  using Leaf = ProgramImpl::Leaf;
  using RegexDb = ProgramImpl::RegexDb;
  using KeySet = ProgramImpl::KeySet;
  void Hit(uint32_t leaf, std::string_view value);
  void Lookup(const KeySet& set, std::string_view key, std::string_view value);
  bool Lookup(const KeySet& set, std::string_view key, uint64_t hash, std::string_view value);
  // One value of one path, staged for probing: its exact key is built and hashed once, in
  // Stage(), and probed in Probe() (once per distinct key in the observation).
  struct Staged {
    uint32_t pid;
    Cand::Kind kind;
    uint32_t key_off, key_len;  // in staged_keys_
    uint32_t num_off, num_len;  // an integer's text, in staged_keys_
    uint64_t hash;
    std::string_view s;  // a string value (the observation's bytes)
  };
  void Stage(uint32_t pid, const Cand& c);
  void Probe(size_t i);
  void Emit(uint32_t ind, const Observation& o, uint64_t position, std::vector<MatchResult>* out);
  static int OnRegex(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx);

  std::shared_ptr<const ProgramImpl> p_;
  const ProgramImpl* pp_;                   // p_.get(): the hot path's one indirection
  std::shared_ptr<const Program> program_;  // the same object, as the public type
  detail::Evaluator ev_;
  std::vector<uint32_t> disabled_;  // indicators disabled for regex limit hits, in order
  // Per indicator, sparse: values on which its regexes hit the PCRE2 limits, and whether it
  // reached regex_disable_after (never confirmed again).
  absl::flat_hash_map<uint32_t, uint32_t> limit_hits_;
  absl::flat_hash_set<uint32_t> disabled_set_;
  std::vector<std::unique_ptr<Window>> windows_;  // by complex index; made on first use
  mutable std::string id_buf_;
  // Asked only of programs with a Vectorscan database (the check compiles a few expressions).
  const VectorscanMode vectorscan_ = pp_->scratch_ ? Vectorscan() : VectorscanMode();
  std::unique_ptr<hs_scratch_t, Deleter> scratch_;
  uint64_t observations_ = 0, candidates_ = 0, evicted_ = 0;

  // Per-observation scratch (kept across calls). leaf_state_ packs (epoch << 32 | slot in
  // cand_leaves_): 8 bytes per leaf; ind_epoch_ 4 bytes per indicator.
  uint32_t epoch_ = 0;
  std::vector<uint64_t> leaf_state_;
  std::vector<uint32_t> ind_epoch_;
  std::vector<uint32_t> cand_leaves_, hit_inds_;
  std::vector<std::string> cand_value_;  // exact hit value per candidate
  std::vector<uint8_t> cand_true_;
  std::vector<std::vector<std::string>> cand_values_;  // values per candidate
  // cand_* are indexed by candidate slot and only grow: reused from one observation to the next.
  std::vector<Cand> cands_;
  std::vector<Staged> staged_;
  std::string staged_keys_;
  // Where each SCO's residual leaves (ProgramImpl::TypeInfo) come in the staged order.
  std::vector<std::pair<size_t, const std::vector<uint32_t>*>> residual_at_;
  std::string key_buf_, nfc_buf_, tmp_;
  // The path whose database hs_scan is scanning: OnRegex's only context is `this`.
  uint32_t regex_path_ = 0;
  uint64_t window_total_ = 0;

  // REQUIRES: after the confirmation loop of Process(). True if the leaf was a candidate in
  // this observation (its stamp carries the current epoch) and was confirmed.
  bool LeafOn(uint32_t leaf) const {
    uint64_t st = leaf_state_[leaf];
    return (st >> 32) == epoch_ && cand_true_[static_cast<uint32_t>(st)];
  }
  const std::vector<std::string>& LeafValues(uint32_t leaf) const {
    return cand_values_[static_cast<uint32_t>(leaf_state_[leaf])];
  }
};

// Interns a path by its canonical text. A new path is also listed under its SCO type, which
// is how Process() knows to resolve it on every SCO of that type.
uint32_t ProgramImpl::PathId(const ObjectPath& p) {
  std::string k = p.ToString();
  auto it = path_ids_.find(k);
  if (it != path_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(paths_.size());
  paths_.emplace_back();
  paths_.back().path = p;
  path_ids_.emplace(std::move(k), id);
  types_[p.type].paths.push_back(id);
  return id;
}

// Adds the key (pid, tag, value) for `leaf`. The first leaf of a key is stored in the record
// itself; when a second leaf arrives, both move to a new overflow list and the record's
// posting becomes kOverflow | list index.
void ProgramImpl::AddKey(uint32_t pid, char tag, std::string_view value, uint32_t leaf) {
  key_buf_.clear();
  AppendVarint(&key_buf_, pid);
  if (tag == 's') {
    AppendStringKey(value, &key_buf_);
  } else {
    key_buf_.push_back(tag);
    key_buf_.append(value);
  }
  KeySet& set = tag == 'c' ? cidr_keys_ : keys_;
  bool inserted;
  const uint64_t rec = set.FindOrInsert(key_buf_, leaf, &inserted);
  if (inserted) {
    ++stats_.exact_keys;
    return;
  }
  uint32_t post = set.Posting(rec);
  if (post & kOverflow) {
    overflow_[post & ~kOverflow].push_back(leaf);
  } else {
    set.SetPosting(rec, kOverflow | static_cast<uint32_t>(overflow_.size()));
    overflow_.push_back({post, leaf});
  }
}

// A comparison whose truth is exactly a key lookup (§8.1: exact bytes, no normalisation), so
// an indicator that is just one such comparison needs no confirmation.
bool ProgramImpl::ExactEligible(const CompExpr& e) {
  if (e.kind != CompExpr::Kind::kCmp) return false;
  const Comparison& c = e.cmp;
  if (c.negated || (c.op != CmpOp::kEq && c.op != CmpOp::kIn) || PathIsBytes(c.path)) return false;
  for (const Literal& l : c.values) {
    if (l.kind != Literal::Kind::kString && l.kind != Literal::Kind::kInt) return false;
  }
  return true;
}

// Registers the anchor entries of `e` for `leaf` (or only checks, when `dry`).
// Invariant (what makes the engine miss nothing): if `e` is true on an SCO, probing that SCO's
// values hits at least one entry registered here. Negated comparisons get no anchor, as
// `NOT =` is true for almost any value.
bool ProgramImpl::Anchor(const CompExpr& e, uint32_t leaf, bool dry) {
  switch (e.kind) {
    case CompExpr::Kind::kCmp: {
      const Comparison& c = e.cmp;
      if (ExactEligible(e)) {
        if (!dry) {
          uint32_t pid = PathId(c.path);
          for (const Literal& l : c.values) {
            if (l.kind == Literal::Kind::kString)
              AddKey(pid, 's', l.s, leaf);
            else
              AddKey(pid, 'i', std::to_string(l.i), leaf);
          }
        }
        return true;
      }
      if (c.negated || PathIsBytes(c.path)) return false;
      // v ISSUBSET r (§8.6) iff v's prefix length >= r's and v masked to r's length equals
      // r masked: the key is (family, r.prefix, masked r), and ProbeValue builds the same key
      // from a value for each prefix length in use. ISSUPERSET has no anchor.
      if (c.op == CmpOp::kIsSubset) {
        common::IpPrefix r;
        if (!common::ParseIpPrefix(c.values[0].s, &r)) return false;
        if (!dry) {
          uint32_t pid = PathId(c.path);
          PathInfo& pi = paths_[pid];
          pi.has_cidr = true;
          (r.family == 4 ? pi.cidr4 : pi.cidr6)[r.prefix] = true;
          char buf[18];
          buf[0] = static_cast<char>(r.family);
          buf[1] = static_cast<char>(r.prefix);
          common::IpPrefix masked = r;
          int nbytes = r.family == 4 ? 4 : 16;
          for (int i = 0; i < nbytes; ++i) {
            int bits = std::clamp(r.prefix - 8 * i, 0, 8);
            masked.addr[i] = static_cast<uint8_t>(r.addr[i] & (0xff00 >> bits));
          }
          memcpy(buf + 2, masked.addr, static_cast<size_t>(nbytes));
          AddKey(pid, 'c', std::string_view(buf, static_cast<size_t>(2 + nbytes)), leaf);
          ++stats_.cidr_entries;
        }
        return true;
      }
      // Prefilter mode reports a superset of the regex's matches, so a hit is a candidate that
      // PCRE2 confirms. The constant is NFC-normalised as the evaluator does (§8.4, §8.5), and
      // the flags follow its PCRE2 flags (DOTALL, UTF, UCP). SINGLEMATCH: one report per
      // expression is enough; ALLOWEMPTY: LIKE '%' matches the empty string.
      if (c.op == CmpOp::kLike || c.op == CmpOp::kMatches) {
        if (!dry) {
          uint32_t pid = PathId(c.path);
          PathInfo& pi = paths_[pid];
          if (pi.regex < 0) {
            pi.regex = static_cast<int>(regex_.size());
            regex_.emplace_back();
          }
          RegexDb& db = regex_[static_cast<size_t>(pi.regex)];
          std::string nfc_buf;
          std::string_view pat = detail::Nfc(c.values[0].s, &nfc_buf);
          db.exprs.push_back(c.op == CmpOp::kLike ? detail::LikeToRegex(pat, false)
                                                  : std::string(pat));
          db.flags.push_back(kRegexFlags);
          db.leaf.push_back(leaf);
          ++stats_.regex_entries;
        }
        return true;
      }
      return false;
    }
    case CompExpr::Kind::kAnd:
      // Prefer an equality conjunct (cheapest, most selective), else any anchored one.
      for (const CompExpr& c : e.children) {
        if (ExactEligible(c)) return Anchor(c, leaf, dry);
      }
      for (const CompExpr& c : e.children) {
        if (Anchor(c, leaf, true)) return Anchor(c, leaf, dry);
      }
      return false;
    case CompExpr::Kind::kOr:
      // A disjunct without an anchor could be the one that is true, so all must have one; the
      // dry pass checks that before anything is registered.
      for (const CompExpr& c : e.children) {
        if (!Anchor(c, leaf, true)) return false;
      }
      if (!dry) {
        for (const CompExpr& c : e.children) Anchor(c, leaf, false);
      }
      return true;
  }
  return false;
}

absl::Status ProgramImpl::Build(const std::vector<IndicatorSpec>& specs,
                                std::vector<std::pair<uint32_t, std::string>>* rejected) {
  inds_.reserve(specs.size());
  ids_.reserve(specs.size());
  leaves_.reserve(specs.size());
  std::vector<uint32_t> unanchored;
  // Names and origins, kept for the caller. Names past 4 GiB in all are dropped (offsets are
  // 32-bit); origins are few (one per set of collections) and interned.
  name_end_buf_.reserve(specs.size());
  origin_of_buf_.reserve(specs.size());
  absl::flat_hash_map<std::string_view, uint32_t> origin_ids;
  for (const IndicatorSpec& s : specs) {
    if (names_buf_.size() + s.name.size() <= UINT32_MAX) names_buf_.append(s.name);
    name_end_buf_.push_back(static_cast<uint32_t>(names_buf_.size()));
    auto [it, fresh] = origin_ids.emplace(s.origin, static_cast<uint32_t>(origins_.size()));
    if (fresh) origins_.push_back(arena_.Copy(s.origin));
    origin_of_buf_.push_back(it->second);
  }
  names_ = names_buf_;
  name_end_ = {reinterpret_cast<const char*>(name_end_buf_.data()), name_end_buf_.size()};
  origin_of_ = {reinterpret_cast<const char*>(origin_of_buf_.data()), origin_of_buf_.size()};
  // Indicator i keeps index i even when its pattern is rejected: MatchResult::indicator and
  // IndicatorId() use the caller's numbering.
  for (uint32_t i = 0; i < specs.size(); ++i) {
    Indicator& ind = inds_.emplace_back();
    std::array<uint8_t, 16>& packed = ids_.emplace_back();
    if (!PackId(specs[i].id, &packed)) {
      packed = {};
      other_ids_.emplace(i, arena_.Copy(specs[i].id));
    }
    ind.first_leaf = static_cast<uint32_t>(leaves_.size());
    auto expr = CompilePattern(specs[i].pattern);
    if (!expr.ok()) {
      ++stats_.rejected;
      if (rejected) rejected->emplace_back(i, std::string(expr.status().message()));
      ind.n_leaves = 0;
      continue;
    }
    ++stats_.indicators;
    if (!opts_.interpret && expr->kind == ObsExpr::Kind::kSimple && ExactEligible(expr->comp)) {
      // PERF: the common case (one IOC value per indicator) keeps no tree at all: the hash
      // hit is the match. This is what keeps 10M indicators near 100 bytes each.
      uint32_t leaf = static_cast<uint32_t>(leaves_.size());
      leaves_.push_back({i, UINT32_MAX});
      Anchor(expr->comp, leaf, false);
      mentioned_.insert(expr->comp.cmp.path.type);
      continue;
    }
    ind.complex = static_cast<uint32_t>(complex_.size());
    Complex& cx = complex_.emplace_back();
    cx.expr = std::make_unique<ObsExpr>(std::move(*expr));
    std::vector<const ObsExpr*> leaves;
    detail::CollectLeaves(*cx.expr, &leaves);
    cx.version = arena_.Copy(specs[i].version);
    cx.pattern = arena_.Copy(specs[i].pattern);
    cx.indicator = i;
    ind.n_leaves = static_cast<uint32_t>(leaves.size());
    // Any observation operator or qualifier makes the indicator temporal (a window and the
    // binding search), even `[a] OR [b]`, whose bindings hold one observation.
    cx.temporal = cx.expr->kind != ObsExpr::Kind::kSimple;
    if (cx.temporal) ++stats_.temporal;
    for (const ObsExpr* l : leaves) {
      if (HasRegex(l->comp)) cx.regex = true;
      std::vector<std::string> types;
      CollectTypes(l->comp, &types);
      mentioned_.insert(types.begin(), types.end());
      uint32_t leaf = static_cast<uint32_t>(leaves_.size());
      leaves_.push_back({i, static_cast<uint32_t>(comps_.size())});
      comps_.push_back(&l->comp);
      if (opts_.interpret) {
        residual_all_.push_back(leaf);
      } else if (!Anchor(l->comp, leaf, false)) {
        unanchored.push_back(leaf);
      }
    }
  }
  // Vectorscan: one database per path. An expression it refuses even in prefilter mode
  // makes its leaf residual (PCRE2 alone then decides).
  // hs_compile_multi names the first expression it refuses: drop it and compile the rest again.
  for (RegexDb& db : regex_) {
    while (!db.exprs.empty()) {
      std::vector<const char*> ptrs;
      std::vector<unsigned> ids;
      for (size_t k = 0; k < db.exprs.size(); ++k) {
        ptrs.push_back(db.exprs[k].c_str());
        ids.push_back(static_cast<unsigned>(k));
      }
      hs_database_t* d = nullptr;
      hs_compile_error_t* err = nullptr;
      hs_error_t rc = hs_compile_multi(ptrs.data(), db.flags.data(), ids.data(),
                                       static_cast<unsigned>(ptrs.size()), HS_MODE_BLOCK,
                                       Vectorscan().platform, &d, &err);
      if (rc == HS_SUCCESS) {
        db.db.reset(d);
        // One scratch serves every database: given an existing scratch, hs_alloc_scratch
        // returns one that also fits the new database.
        hs_scratch_t* s = scratch_.release();
        if (hs_alloc_scratch(d, &s) != HS_SUCCESS)
          return absl::InternalError("hs_alloc_scratch failed");
        scratch_.reset(s);
        break;
      }
      int bad = err ? err->expression : -1;
      if (err) hs_free_compile_error(err);
      if (bad < 0) {
        // Whole-database failure: everything on this path goes residual.
        for (uint32_t l : db.leaf) unanchored.push_back(l);
        db.exprs.clear();
        db.leaf.clear();
        db.flags.clear();
        break;
      }
      unanchored.push_back(db.leaf[static_cast<size_t>(bad)]);
      db.exprs.erase(db.exprs.begin() + bad);
      db.flags.erase(db.flags.begin() + bad);
      db.leaf.erase(db.leaf.begin() + bad);
      --stats_.regex_entries;
    }
  }
  std::sort(unanchored.begin(), unanchored.end());
  unanchored.erase(std::unique(unanchored.begin(), unanchored.end()), unanchored.end());
  for (uint32_t leaf : unanchored) {
    std::vector<std::string> types;
    CollectTypes(*comps_[leaves_[leaf].comp], &types);
    for (const std::string& t : types) types_[t].residual.push_back(leaf);
    ++stats_.residual_leaves;
  }
  // A leaf that was partly anchored and then made residual may be visited twice; the epoch
  // check in Hit() makes that harmless.
  leaves_.shrink_to_fit();
  // The indicators that can carry state into a later program (TakeStateFrom).
  for (uint32_t i = 0; i < inds_.size(); ++i) {
    if (inds_[i].complex == UINT32_MAX) continue;
    const Complex& cx = complex_[inds_[i].complex];
    if (!cx.temporal && !cx.regex) continue;
    std::string k = specs[i].id;
    k.push_back('\0');
    k.append(specs[i].version);
    stateful_.emplace(std::move(k), i);
  }
  size_t other = 0;
  for (const auto& [k, v] : other_ids_) other += v.size();
  stats_.memory_bytes = arena_.bytes() + other + keys_.bytes() + cidr_keys_.bytes() +
                        overflow_.capacity() * sizeof(decltype(overflow_)::value_type) +
                        leaves_.capacity() * sizeof(Leaf) + inds_.capacity() * sizeof(Indicator) +
                        ids_.capacity() * 16 + other_ids_.capacity() * 25 + comps_.capacity() * 8 +
                        names_buf_.capacity() + name_end_buf_.capacity() * 4 +
                        origin_of_buf_.capacity() * 4 + origins_.capacity() * 16;
  for (const auto& o : overflow_) stats_.memory_bytes += o.capacity() * 4;
  return absl::OkStatus();
}

// Makes `leaf` a candidate of this observation, once (the epoch stamp), however many values hit
// it. `value` is kept only for a leaf without comparison: its hit is the match.
void MatcherImpl::Hit(uint32_t leaf, std::string_view value) {
  uint64_t st = leaf_state_[leaf];
  if ((st >> 32) == epoch_) return;
  uint32_t slot = static_cast<uint32_t>(cand_leaves_.size());
  leaf_state_[leaf] = static_cast<uint64_t>(epoch_) << 32 | slot;
  cand_leaves_.push_back(leaf);
  if (cand_value_.size() <= slot) {
    cand_value_.resize(slot + 1);
    cand_true_.resize(slot + 1);
    cand_values_.resize(slot + 1);
  }
  if (pp_->leaves_[leaf].comp == UINT32_MAX) cand_value_[slot].assign(value);
}

void MatcherImpl::Lookup(const KeySet& set, std::string_view key, std::string_view value) {
  uint32_t post;
  if (!set.Find(key, &post)) return;
  if (!(post & kOverflow)) {
    Hit(post, value);
    return;
  }
  for (uint32_t leaf : pp_->overflow_[post & ~kOverflow]) Hit(leaf, value);
}

int MatcherImpl::OnRegex(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* self = static_cast<MatcherImpl*>(ctx);
  const RegexDb& db =
      self->pp_->regex_[static_cast<size_t>(self->pp_->paths_[self->regex_path_].regex)];
  self->Hit(db.leaf[id], {});
  return 0;
}

bool MatcherImpl::Lookup(const KeySet& set, std::string_view key, uint64_t hash,
                         std::string_view value) {
  uint32_t post;
  if (!set.Find(key, hash, &post)) return false;
  if (!(post & kOverflow)) {
    Hit(post, value);
    return true;
  }
  for (uint32_t leaf : pp_->overflow_[post & ~kOverflow]) Hit(leaf, value);
  return true;
}

// Builds and hashes the exact key of one value of path `pid` (strings and integers, and
// integral floats: `size = 25536` holds for 25536.0, §7), and asks the CPU for its slot.
// PERF: every value of an observation is staged before any is probed, so the slots' cache
// misses overlap instead of following one another; the profile had KeyTable::Find at 23% of
// the matching thread on the 100k-IP conn.log grid cell (docs/PERFORMANCE.md).
void MatcherImpl::Stage(uint32_t pid, const Cand& c) {
  Staged st{pid, c.kind, 0, 0, 0, 0, 0, {}};
  int64_t iv = 0;
  if (c.kind == Cand::Kind::kString) {
    st.s = c.s;
  } else if (c.kind == Cand::Kind::kInt) {
    iv = c.i;
  } else if (c.kind == Cand::Kind::kFloat && std::isfinite(c.f) && c.f == std::floor(c.f) &&
             std::fabs(c.f) < 9e18) {
    iv = static_cast<int64_t>(c.f);
    st.kind = Cand::Kind::kInt;
  } else {
    return;
  }
  st.key_off = static_cast<uint32_t>(staged_keys_.size());
  AppendVarint(&staged_keys_, pid);
  if (st.kind == Cand::Kind::kString) {
    AppendStringKey(c.s, &staged_keys_);
  } else {
    char num[24];
    auto r = std::to_chars(num, num + sizeof num, iv);
    staged_keys_.push_back('i');
    st.num_off = static_cast<uint32_t>(staged_keys_.size());
    st.num_len = static_cast<uint32_t>(r.ptr - num);
    staged_keys_.append(num, st.num_len);
  }
  st.key_len = static_cast<uint32_t>(staged_keys_.size() - st.key_off);
  st.hash = KeySet::Hash(std::string_view(staged_keys_).substr(st.key_off, st.key_len));
  pp_->keys_.Prefetch(st.hash);
  staged_.push_back(st);
}

// Probes the indexes of staged value `i`: strings the equality keys, CIDR keys and the
// Vectorscan database; integers the integer keys. A key that an earlier value of this
// observation already probed is not probed again (its hits are stamped already), which keeps
// the order of hits, and so of matches, what it would be with every key probed.
void MatcherImpl::Probe(size_t i) {
  const Staged& st = staged_[i];
  const std::string_view keys = staged_keys_;
  const std::string_view key = keys.substr(st.key_off, st.key_len);
  bool seen = false;
  // Bounded: an observation with thousands of values compares with the 16 before it only.
  for (size_t j = i > 16 ? i - 16 : 0; j < i && !seen; ++j) {
    seen = staged_[j].hash == st.hash && keys.substr(staged_[j].key_off, staged_[j].key_len) == key;
  }
  if (st.kind != Cand::Kind::kString) {
    if (!seen) Lookup(pp_->keys_, key, st.hash, keys.substr(st.num_off, st.num_len));
    return;
  }
  if (!seen) Lookup(pp_->keys_, key, st.hash, st.s);
  const ProgramImpl::PathInfo& pi = pp_->paths_[st.pid];
  if (pi.has_cidr) {
    common::IpPrefix r;
    if (common::ParseIpPrefix(st.s, &r)) {
      const bool* used = r.family == 4 ? pi.cidr4 : pi.cidr6;
      int nbytes = r.family == 4 ? 4 : 16;
      // Room for a 5-byte path id, the tag, family, length and 16 address bytes.
      char buf[32];
      const size_t pid_len = detail::PutVarint(buf, st.pid);
      char* q = buf + pid_len;
      q[0] = 'c';
      q[1] = static_cast<char>(r.family);
      for (int len = 0; len <= r.prefix; ++len) {
        if (!used[len]) continue;
        q[2] = static_cast<char>(len);
        for (int k = 0; k < nbytes; ++k) {
          int bits = std::clamp(len - 8 * k, 0, 8);
          q[3 + k] = static_cast<char>(r.addr[k] & (0xff00 >> bits));
        }
        Lookup(pp_->cidr_keys_, std::string_view(buf, pid_len + 3 + static_cast<size_t>(nbytes)),
               st.s);
      }
    }
  }
  if (pi.regex >= 0) {
    const RegexDb& db = pp_->regex_[static_cast<size_t>(pi.regex)];
    if (db.db) {
      // HS_FLAG_UTF8 leaves results on invalid UTF-8 undefined, hence the check; event text
      // is untrusted.
      std::string_view subject = detail::Nfc(st.s, &nfc_buf_);
      bool scanned = false;
      if (vectorscan_.usable && simdjson::validate_utf8(subject.data(), subject.size())) {
        regex_path_ = st.pid;
        const hs_error_t rc =
            vectorscan_.scan(db.db.get(), subject.data(), static_cast<unsigned>(subject.size()), 0,
                             scratch_.get(), &MatcherImpl::OnRegex, this);
        // A database this scan cannot run (one cached by a build that compiled for another
        // platform, say) is no reason to miss a match.
        scanned = rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED;
      }
      if (!scanned) {
        // Vectorscan needs valid UTF-8, and must find everything (Vectorscan()): otherwise
        // PCRE2 decides every leaf.
        for (uint32_t l : db.leaf) Hit(l, {});
      }
    }
  }
}

void MatcherImpl::Process(const Observation& o, uint64_t position, std::vector<MatchResult>* out) {
  ++observations_;
  if (++epoch_ == UINT32_MAX) {  // wrap: forget every stamp
    std::fill(leaf_state_.begin(), leaf_state_.end(), 0);
    std::fill(ind_epoch_.begin(), ind_epoch_.end(), 0);
    epoch_ = 1;
  }
  cand_leaves_.clear();
  staged_.clear();
  staged_keys_.clear();
  // Every value staged first (keys built, hashed, slots prefetched), then probed in the same
  // order, each SCO's residual leaves after its values as before.
  residual_at_.clear();
  for (const Sco& s : o.scos()) {
    std::string_view type = o.Type(s);
    const Node& root = o.node(s.root);
    auto it = pp_->types_.find(absl::string_view(type.data(), type.size()));
    if (it == pp_->types_.end()) continue;
    for (uint32_t pid : it->second.paths) {
      ev_.Resolve(o, root, pp_->paths_[pid].path, &cands_);
      for (const Cand& c : cands_) Stage(pid, c);
    }
    if (!it->second.residual.empty())
      residual_at_.emplace_back(staged_.size(), &it->second.residual);
  }
  size_t next_residual = 0;
  for (size_t i = 0; i <= staged_.size(); ++i) {
    while (next_residual < residual_at_.size() && residual_at_[next_residual].first == i) {
      for (uint32_t leaf : *residual_at_[next_residual].second) Hit(leaf, {});
      ++next_residual;
    }
    if (i < staged_.size()) Probe(i);
  }
  for (uint32_t leaf : pp_->residual_all_) Hit(leaf, {});
  if (cand_leaves_.empty()) return;
  candidates_ += cand_leaves_.size();
  // Confirm: a leaf without comparison is true by its hit; others are evaluated on the whole
  // observation (any root SCO may satisfy them, §6.3).
  hit_inds_.clear();
  for (uint32_t slot = 0; slot < cand_leaves_.size(); ++slot) {
    const Leaf& l = pp_->leaves_[cand_leaves_[slot]];
    bool ok;
    std::vector<std::string>& values = cand_values_[slot];
    values.clear();
    if (!disabled_set_.empty() && disabled_set_.contains(l.indicator)) {
      ok = false;
    } else if (l.comp == UINT32_MAX) {
      ok = true;
      values.push_back(cand_value_[slot]);
    } else {
      // Regex limit hits are charged to the indicator whose leaf ran into them, so that one
      // hostile indicator is switched off without touching the others.
      const uint64_t hits_before = ev_.counters.regex_limit_hits;
      ok = ev_.EvalComp(*pp_->comps_[l.comp], o, &values);
      if (ev_.counters.regex_limit_hits != hits_before) {
        uint32_t& hits = limit_hits_[l.indicator];
        hits += static_cast<uint32_t>(ev_.counters.regex_limit_hits - hits_before);
        if (pp_->opts_.regex_disable_after && hits >= pp_->opts_.regex_disable_after) {
          disabled_set_.insert(l.indicator);
          disabled_.push_back(l.indicator);
          ok = false;
        }
      }
    }
    cand_true_[slot] = ok;
    if (ok && ind_epoch_[l.indicator] != epoch_) {
      ind_epoch_[l.indicator] = epoch_;
      hit_inds_.push_back(l.indicator);
    }
  }
  for (uint32_t ind : hit_inds_) Emit(ind, o, position, out);
}

// Reports indicator `ind_index`, which has at least one true leaf in this observation. A
// non-temporal indicator matches here and now, with the values of all its true leaves.
void MatcherImpl::Emit(uint32_t ind_index, const Observation& o, uint64_t position,
                       std::vector<MatchResult>* out) {
  const ProgramImpl::Indicator& ind = pp_->inds_[ind_index];
  auto leaf_on = [&](uint32_t k) { return LeafOn(ind.first_leaf + k); };
  const ProgramImpl::Complex* cx =
      ind.complex == UINT32_MAX ? nullptr : &pp_->complex_[ind.complex];
  if (!cx || !cx->temporal) {
    MatchResult& m = out->emplace_back();
    m.indicator = ind_index;
    m.events.push_back(position);
    for (uint32_t k = 0; k < ind.n_leaves; ++k) {
      if (leaf_on(k)) {
        for (auto& v : LeafValues(ind.first_leaf + k)) m.values.push_back(v);
      }
    }
    return;
  }
  // Temporal: remember this observation's leaf results, bounded, then search for a binding
  // over the window. A found binding is reported once and its observations are consumed.
  // PERF: the search below reruns over the whole window on every observation that makes one
  // of the indicator's leaves true; max_window_per_indicator (64 by default) bounds that.
  std::unique_ptr<Window>& wp = windows_[ind.complex];
  if (!wp) wp = std::make_unique<Window>();
  Window& w = *wp;
  if (w.recs.size() >= pp_->opts_.max_window_per_indicator ||
      window_total_ >= pp_->opts_.max_window_total) {
    if (!w.recs.empty()) {
      w.recs.pop_front();
      --window_total_;
      ++evicted_;
    }
  }
  Window::Rec& r = w.recs.emplace_back();
  ++window_total_;
  r.position = position;
  r.facts = {o.first_observed, o.last_observed, o.number_observed};
  r.sat.resize(ind.n_leaves);
  for (uint32_t k = 0; k < ind.n_leaves; ++k) {
    r.sat[k] = leaf_on(k);
    if (r.sat[k]) {
      for (auto& v : LeafValues(ind.first_leaf + k)) r.values.push_back(v);
    }
  }
  std::vector<detail::ObsFacts> facts;
  std::vector<std::vector<uint8_t>> sat;
  facts.reserve(w.recs.size());
  for (const auto& rec : w.recs) {
    facts.push_back(rec.facts);
    sat.push_back(rec.sat);
  }
  std::vector<uint32_t> binding;
  if (!detail::FindBinding(*cx->expr, facts, sat, pp_->eopts_, &ev_.counters, &binding)) return;
  MatchResult& m = out->emplace_back();
  m.indicator = ind_index;
  // The binding's observations are consumed, so the same binding is not reported again; the
  // rest stay for later bindings.
  std::vector<uint8_t> used(w.recs.size(), 0);
  for (uint32_t b : binding) {
    used[b] = 1;
    m.events.push_back(w.recs[b].position);
    for (auto& v : w.recs[b].values) m.values.push_back(v);
  }
  std::deque<Window::Rec> keep;
  for (size_t i = 0; i < w.recs.size(); ++i) {
    if (!used[i]) keep.push_back(std::move(w.recs[i]));
  }
  window_total_ -= w.recs.size() - keep.size();
  w.recs = std::move(keep);
}

// Windows move whole: their positions and times stay as they were, since the caller goes on
// numbering the same stream. The total bound (max_window_total) is this matcher's, so a
// window that would exceed it loses its oldest records, counted as evicted.
uint64_t MatcherImpl::TakeStateFrom(Engine& old_engine) {
  auto& old = static_cast<MatcherImpl&>(old_engine);
  const ProgramImpl& from = *old.pp_;
  uint64_t dropped = 0;
  std::string id;
  auto target = [&](uint32_t old_ind) {
    from.IndicatorIdInto(old_ind, &id);
    return pp_->FindStateful(id, from.Version(old_ind));
  };
  for (uint32_t ci = 0; ci < old.windows_.size(); ++ci) {
    std::unique_ptr<Window>& w = old.windows_[ci];
    if (!w || w->recs.empty()) continue;
    uint32_t ni = target(from.complex_[ci].indicator);
    if (ni == UINT32_MAX || pp_->inds_[ni].complex == UINT32_MAX ||
        !pp_->complex_[pp_->inds_[ni].complex].temporal) {
      dropped += w->recs.size();
      continue;
    }
    while (!w->recs.empty() && window_total_ + w->recs.size() > pp_->opts_.max_window_total) {
      w->recs.pop_front();
      ++evicted_;
    }
    window_total_ += w->recs.size();
    windows_[pp_->inds_[ni].complex] = std::move(w);
  }
  old.window_total_ = 0;
  for (uint32_t i : old.disabled_) {
    uint32_t ni = target(i);
    if (ni != UINT32_MAX && disabled_set_.insert(ni).second) disabled_.push_back(ni);
  }
  for (const auto& [i, hits] : old.limit_hits_) {
    uint32_t ni = target(i);
    if (ni != UINT32_MAX) limit_hits_[ni] += hits;
  }
  return dropped;
}

}  // namespace

bool VectorscanUsable() { return Vectorscan().usable; }

// ---------------------------------------------------------------------------------------------
// The program image (start-up cache, issue 11). Layout, after a u32 format version: the
// indicator table, packed ids, other ids, leaves, overflow postings, both key tables as they are
// in memory (KeyTable::AppendTo; a start probes them in place), paths, types, mentioned types,
// the complex
// indicators (pattern text, version, index, flags), the regex databases (expressions, flags,
// leaves, hs_serialize_database bytes), the names and origins, and the compiled stats.

constexpr uint32_t kImageFormat = 3;

void PutPath(std::string* out, const ObjectPath& p) {
  detail::PutString(out, p.type);
  detail::Put<uint32_t>(out, static_cast<uint32_t>(p.steps.size()));
  for (const PathStep& st : p.steps) {
    detail::Put<uint8_t>(out, static_cast<uint8_t>(st.kind));
    detail::PutString(out, st.key);
    detail::Put<int64_t>(out, st.index);
  }
}
bool GetPath(detail::In& in, ObjectPath* p) {
  uint32_t n;
  if (!in.GetString(&p->type) || !in.Get(&n) || n == 0 || n > 4096) return false;
  p->steps.resize(n);
  for (PathStep& st : p->steps) {
    uint8_t kind;
    if (!in.Get(&kind) || kind > static_cast<uint8_t>(PathStep::Kind::kAny) ||
        !in.GetString(&st.key) || !in.Get(&st.index)) {
      return false;
    }
    st.kind = static_cast<PathStep::Kind>(kind);
  }
  return true;
}
void PutU32s(std::string* out, const std::vector<uint32_t>& v) { detail::PutVector(out, v); }

absl::StatusOr<std::string> ProgramImpl::Image() const {
  if (opts_.interpret) {
    return absl::FailedPreconditionError("an interpreting program has no compiled image");
  }
  using detail::Put;
  using detail::PutString;
  std::string out;
  Put<uint32_t>(&out, kImageFormat);
  detail::PutVector(&out, inds_);
  detail::PutVector(&out, ids_);
  Put<uint64_t>(&out, other_ids_.size());
  for (const auto& [i, id] : other_ids_) {
    Put<uint32_t>(&out, i);
    PutString(&out, id);
  }
  detail::PutVector(&out, leaves_);
  Put<uint64_t>(&out, overflow_.size());
  for (const auto& o : overflow_) PutU32s(&out, o);
  // The key tables as they are in memory: a start probes them in place.
  keys_.AppendTo(&out);
  cidr_keys_.AppendTo(&out);
  Put<uint64_t>(&out, paths_.size());
  for (const PathInfo& pi : paths_) {
    PutPath(&out, pi.path);
    out.append(reinterpret_cast<const char*>(pi.cidr4), sizeof pi.cidr4);
    out.append(reinterpret_cast<const char*>(pi.cidr6), sizeof pi.cidr6);
    Put<uint8_t>(&out, pi.has_cidr);
    Put<int32_t>(&out, pi.regex);
  }
  Put<uint64_t>(&out, types_.size());
  for (const auto& [type, ti] : types_) {
    PutString(&out, type);
    PutU32s(&out, ti.paths);
    PutU32s(&out, ti.residual);
  }
  Put<uint64_t>(&out, mentioned_.size());
  for (const std::string& t : mentioned_) PutString(&out, t);
  Put<uint64_t>(&out, complex_.size());
  for (const Complex& cx : complex_) {
    PutString(&out, cx.pattern);
    PutString(&out, cx.version);
    Put<uint32_t>(&out, cx.indicator);
    Put<uint8_t>(&out, cx.temporal);
    Put<uint8_t>(&out, cx.regex);
  }
  Put<uint64_t>(&out, regex_.size());
  for (const RegexDb& db : regex_) {
    Put<uint64_t>(&out, db.exprs.size());
    for (const std::string& e : db.exprs) PutString(&out, e);
    detail::PutVector(&out, db.flags);
    PutU32s(&out, db.leaf);
    char* bytes = nullptr;
    size_t length = 0;
    if (db.db && hs_serialize_database(db.db.get(), &bytes, &length) != HS_SUCCESS) {
      return absl::InternalError("hs_serialize_database failed");
    }
    Put<uint64_t>(&out, length);
    if (bytes) {
      out.append(bytes, length);
      free(bytes);  // allocated by Vectorscan's default allocator (malloc)
    }
  }
  PutU32s(&out, name_end_buf_);
  PutString(&out, names_);
  Put<uint64_t>(&out, origins_.size());
  for (std::string_view o : origins_) PutString(&out, o);
  PutU32s(&out, origin_of_buf_);
  Put<EngineStats>(&out, stats_);
  return out;
}

absl::Status ProgramImpl::Load(std::string_view image, std::shared_ptr<const void> owner) {
  image_ = std::move(owner);
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(common::Cat("corrupt program image: ", what));
  };
  detail::In in(image);
  uint32_t format;
  if (!in.Get(&format) || format != kImageFormat) return bad("format version");
  if (!in.GetVector(&inds_) || !in.GetVector(&ids_) || ids_.size() != inds_.size()) {
    return bad("indicator table");
  }
  uint64_t n;
  if (!in.GetCount(&n, 8)) return bad("other ids");
  for (uint64_t k = 0; k < n; ++k) {
    uint32_t i;
    std::string_view id;
    if (!in.Get(&i) || i >= inds_.size() || !in.GetView(&id)) return bad("other ids");
    other_ids_.emplace(i, id);  // a view into image_
  }
  if (!in.GetVector(&leaves_)) return bad("leaves");
  detail::In& after = in;
  if (!after.GetCount(&n, 8)) return bad("overflow");
  overflow_.resize(n);
  for (auto& o : overflow_) {
    if (!after.GetVector(&o)) return bad("overflow");
  }
  // The key tables stay in the image, which this program owns (image_), and are probed there.
  auto posting_ok = [this](uint32_t post) {
    return post & kOverflow ? (post & ~kOverflow) < overflow_.size() : post < leaves_.size();
  };
  if (!keys_.ViewFrom(after, posting_ok) || !cidr_keys_.ViewFrom(after, posting_ok)) {
    return bad("key tables");
  }
  if (!after.GetCount(&n, 8)) return bad("paths");
  paths_.resize(n);
  for (PathInfo& pi : paths_) {
    // (Bytes, not bools: a corrupt byte must not become a bool that is neither.)
    uint8_t c4[33], c6[129], has_cidr;
    if (!GetPath(after, &pi.path) || !after.Get(&c4) || !after.Get(&c6) || !after.Get(&has_cidr) ||
        !after.Get(&pi.regex)) {
      return bad("paths");
    }
    for (size_t b = 0; b < 33; ++b) pi.cidr4[b] = c4[b] != 0;
    for (size_t b = 0; b < 129; ++b) pi.cidr6[b] = c6[b] != 0;
    pi.has_cidr = has_cidr != 0;
  }
  if (!after.GetCount(&n, 20)) return bad("types");
  for (uint64_t k = 0; k < n; ++k) {
    std::string type;
    TypeInfo ti;
    if (!after.GetString(&type) || !after.GetVector(&ti.paths) || !after.GetVector(&ti.residual)) {
      return bad("types");
    }
    types_.emplace(std::move(type), std::move(ti));
  }
  if (!after.GetCount(&n, 4)) return bad("mentioned types");
  for (uint64_t k = 0; k < n; ++k) {
    std::string t;
    if (!after.GetString(&t)) return bad("mentioned types");
    mentioned_.insert(std::move(t));
  }
  if (!after.GetCount(&n, 14)) return bad("complex indicators");
  complex_.resize(n);
  for (Complex& cx : complex_) {
    uint8_t temporal, regex;
    if (!after.GetView(&cx.pattern) || !after.GetView(&cx.version) || !after.Get(&cx.indicator) ||
        !after.Get(&temporal) || !after.Get(&regex) || cx.indicator >= inds_.size()) {
      return bad("complex indicators");
    }
    cx.temporal = temporal != 0;
    cx.regex = regex != 0;
    // The tree again, and its leaves numbered as Build() numbered them (CollectLeaves order).
    auto expr = CompilePattern(cx.pattern);
    if (!expr.ok()) return bad("a complex indicator's pattern no longer compiles");
    cx.expr = std::make_unique<ObsExpr>(std::move(*expr));
    std::vector<const ObsExpr*> leaves;
    detail::CollectLeaves(*cx.expr, &leaves);
    const Indicator& ind = inds_[cx.indicator];
    if (leaves.size() != ind.n_leaves || ind.first_leaf > leaves_.size() ||
        leaves_.size() - ind.first_leaf < leaves.size()) {
      return bad("complex indicator leaves");
    }
    for (size_t j = 0; j < leaves.size(); ++j) {
      if (leaves_[ind.first_leaf + j].comp != comps_.size()) return bad("leaf comparisons");
      comps_.push_back(&leaves[j]->comp);
    }
  }
  if (!after.GetCount(&n, 24)) return bad("regex databases");
  regex_.resize(n);
  for (RegexDb& db : regex_) {
    uint64_t m, length;
    if (!after.GetCount(&m, 4)) return bad("regex databases");
    db.exprs.resize(m);
    for (std::string& e : db.exprs) {
      if (!after.GetString(&e)) return bad("regex databases");
    }
    if (!after.GetVector(&db.flags) || !after.GetVector(&db.leaf) || !after.Get(&length) ||
        db.flags.size() != m || db.leaf.size() != m) {
      return bad("regex databases");
    }
    const char* bytes_at;
    if (!after.Skip(length, &bytes_at)) return bad("regex database bytes");
    if (length > 0) {
      hs_database_t* d = nullptr;
      if (hs_deserialize_database(bytes_at, length, &d) != HS_SUCCESS) {
        return bad("regex database bytes");
      }
      db.db.reset(d);
      hs_scratch_t* sc = scratch_.release();
      if (hs_alloc_scratch(d, &sc) != HS_SUCCESS) return absl::InternalError("hs_alloc_scratch");
      scratch_.reset(sc);
    }
  }
  // Names and origins stay in the image too, viewed where they lie; their offsets and
  // indexes are checked where they are read (Name, Origin), so a start does not walk them.
  uint64_t count;
  const char* at;
  if (!after.GetCount(&count, 4) || count != inds_.size() || !after.Skip(count * 4, &at) ||
      !after.GetView(&names_)) {
    return bad("names");
  }
  name_end_ = {at, count};
  if (!after.GetCount(&n, 4)) return bad("origins");
  origins_.resize(n);
  for (std::string_view& o : origins_) {
    if (!after.GetView(&o)) return bad("origins");
  }
  if (!after.GetCount(&count, 4) || count != inds_.size() || !after.Skip(count * 4, &at)) {
    return bad("origins");
  }
  origin_of_ = {at, count};
  if (!after.Get(&stats_) || !after.done()) return bad("trailing bytes");
  // Every index the matcher follows, checked once here.
  for (const Indicator& ind : inds_) {
    if (ind.first_leaf > leaves_.size() || leaves_.size() - ind.first_leaf < ind.n_leaves ||
        (ind.complex != UINT32_MAX && ind.complex >= complex_.size())) {
      return bad("indicator table");
    }
  }
  for (const Leaf& l : leaves_) {
    if (l.indicator >= inds_.size() || (l.comp != UINT32_MAX && l.comp >= comps_.size())) {
      return bad("leaves");
    }
  }
  for (const auto& o : overflow_) {
    for (uint32_t l : o) {
      if (l >= leaves_.size()) return bad("overflow");
    }
  }
  for (const PathInfo& pi : paths_) {
    if (pi.regex < -1 || (pi.regex >= 0 && static_cast<size_t>(pi.regex) >= regex_.size())) {
      return bad("paths");
    }
  }
  for (const auto& [type, ti] : types_) {
    for (uint32_t pid : ti.paths) {
      if (pid >= paths_.size()) return bad("types");
    }
    for (uint32_t l : ti.residual) {
      if (l >= leaves_.size() || leaves_[l].comp == UINT32_MAX) return bad("types");
    }
  }
  for (const RegexDb& db : regex_) {
    for (uint32_t l : db.leaf) {
      if (l >= leaves_.size() || leaves_[l].comp == UINT32_MAX) return bad("regex leaves");
    }
  }
  // What Build() derives last: the indicators that carry state across a reload.
  for (uint32_t i = 0; i < inds_.size(); ++i) {
    if (inds_[i].complex == UINT32_MAX) continue;
    const Complex& cx = complex_[inds_[i].complex];
    if (cx.indicator != i) return bad("complex indicators");
    if (!cx.temporal && !cx.regex) continue;
    std::string k = IndicatorId(i);
    k.push_back('\0');
    k.append(cx.version);
    stateful_.emplace(std::move(k), i);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Program>> Program::FromImage(std::string_view image,
                                                                  std::shared_ptr<const void> owner,
                                                                  const MatchOptions& options) {
  if (options.interpret) {
    return absl::FailedPreconditionError("an interpreting program has no compiled image");
  }
  auto p = std::make_shared<ProgramImpl>(options);
  ACCORD_RETURN_IF_ERROR(p->Load(image, std::move(owner)));
  return std::shared_ptr<const Program>(std::move(p));
}

absl::StatusOr<std::shared_ptr<const Program>> Program::FromImage(std::string image,
                                                                  const MatchOptions& options) {
  auto owned = std::make_shared<const std::string>(std::move(image));
  std::string_view view(*owned);
  return FromImage(view, std::move(owned), options);
}

absl::StatusOr<std::shared_ptr<const Program>> Program::Build(
    const std::vector<IndicatorSpec>& indicators, const MatchOptions& options,
    std::vector<std::pair<uint32_t, std::string>>* rejected) {
  auto p = std::make_shared<ProgramImpl>(options);
  ACCORD_RETURN_IF_ERROR(p->Build(indicators, rejected));
  return std::shared_ptr<const Program>(std::move(p));
}

std::unique_ptr<Engine> Engine::Create(std::shared_ptr<const Program> program) {
  auto impl = std::static_pointer_cast<const ProgramImpl>(program);
  auto m = std::make_unique<MatcherImpl>(std::move(impl));
  m->set_program_handle(std::move(program));
  return m;
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Build(
    const std::vector<IndicatorSpec>& indicators, const MatchOptions& options,
    std::vector<std::pair<uint32_t, std::string>>* rejected) {
  ACCORD_ASSIGN_OR_RETURN(auto program, Program::Build(indicators, options, rejected));
  return Create(std::move(program));
}

}  // namespace accord::match
