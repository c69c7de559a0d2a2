// Typed syntax tree of a STIX 2.1 pattern (../shared/spec/STIX21-patterning.md §3).
//
// The tree is stored as plain value types in index-based arenas inside `Pattern`: every node
// refers to its children by 32-bit indexes into the pattern's vectors, so a whole pattern is
// a handful of contiguous allocations, copyable and comparable, and a compiler can walk it
// without pointer chasing. Node indexes are only meaningful within their own `Pattern`.
//
// Shape (canonical, produced by Parse):
//  * Observation level: `ObservationNode` of kind
//      kSimple                      `[ comparison ]`           -> `comparison`
//      kAnd / kOr                   n-ary (n >= 2), flattened  -> `children`
//      kFollowedBy                  n-ary left-assoc chain: c0 FOLLOWEDBY c1 FOLLOWEDBY c2 ...
//                                   (a FOLLOWEDBY child is always a right-nested group)
//      kWithin / kRepeats / kStartStop  postfix qualifier      -> `child` + argument
//    Redundant parentheses are dropped; precedence is implied by the tree.
//  * Comparison level (inside brackets): `ComparisonNode` of kind
//      kAnd / kOr                   n-ary (n >= 2), flattened  -> `children`
//      kTest                        `path [NOT] op literal(s)` or `[NOT] EXISTS path`
//  * An object path is an SCO type plus >= 1 steps; step 0 is always a property key.
//  * Literals are decoded: strings hold their UTF-8 text with escapes resolved, hex and
//    binary hold raw bytes, timestamps hold calendar fields with microseconds.
//
// Plain value types with no synchronisation: a Pattern that nobody modifies may be read from
// any number of threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace accord::pattern {

/// Index of a node in one of Pattern's arenas.
using NodeIndex = uint32_t;
inline constexpr NodeIndex kNoNode = 0xFFFFFFFFu;

/// A contiguous run [begin, begin + size) in one of Pattern's index/step/literal vectors.
struct Span {
  uint32_t begin = 0;
  uint32_t size = 0;
};

// ---------------------------------------------------------------------------------------------
// Literals

enum class LiteralKind : uint8_t {
  kString,     // 'text'        -> Literal::text (UTF-8, escapes resolved)
  kInt,        // 12, +12, -12  -> Literal::int_value
  kFloat,      // 1.5, .5, -0.5 -> Literal::float_value
  kHex,        // h'ff00'       -> Literal::text holds the raw bytes
  kBinary,     // b'AAE='       -> Literal::text holds the raw (decoded) bytes
  kBool,       // true, false   -> Literal::bool_value
  kTimestamp,  // t'2016-01-01T00:00:00.123456Z' -> Literal::timestamp
};

/// A UTC timestamp as written (always `Z`). Fractional seconds are kept to microseconds.
/// `second` may be 60 (leap second, allowed by the grammar).
struct Timestamp {
  int32_t year = 1970;
  uint8_t month = 1;   // 1..12
  uint8_t day = 1;     // 1..31 (calendar validity is checked by Check)
  uint8_t hour = 0;    // 0..23
  uint8_t minute = 0;  // 0..59
  uint8_t second = 0;  // 0..60
  int32_t micros = 0;  // 0..999999

  /// Microseconds since 1970-01-01T00:00:00Z (a leap second 60 counts as the next second).
  int64_t ToUnixMicros() const;
  /// True when the date exists in the proleptic Gregorian calendar.
  bool IsCalendarValid() const;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

struct Literal {
  LiteralKind kind = LiteralKind::kInt;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  Timestamp timestamp;
  std::string text;     // kString: UTF-8 text; kHex/kBinary: raw bytes
  uint32_t offset = 0;  // byte offset in the source (not part of equality)

  bool IsNumeric() const { return kind == LiteralKind::kInt || kind == LiteralKind::kFloat; }
  bool IsBytes() const { return kind == LiteralKind::kHex || kind == LiteralKind::kBinary; }
};

// ---------------------------------------------------------------------------------------------
// Object paths

enum class StepKind : uint8_t {
  kKey,       // .name or .'quoted name' (and the first component after ':')
  kIndex,     // [n]  (n may be negative; never matches then)
  kAnyIndex,  // [*]
};

struct PathStep {
  StepKind kind = StepKind::kKey;
  int64_t index = 0;  // kIndex
  std::string key;    // kKey: the property / dictionary key, unquoted
};

struct ObjectPath {
  std::string type;  // SCO type, e.g. "network-traffic"
  Span steps;        // into Pattern::steps; size >= 1, steps[begin] is a kKey
  uint32_t offset = 0;
};

// ---------------------------------------------------------------------------------------------
// Comparison expressions (inside [...])

enum class Operator : uint8_t {
  kEqual,         // = or ==
  kNotEqual,      // != or <>
  kLess,          // <
  kLessEqual,     // <=
  kGreater,       // >
  kGreaterEqual,  // >=
  kIn,            // IN (v, ...)
  kLike,          // LIKE 'sql%like'
  kMatches,       // MATCHES 'pcre'
  kIsSubset,      // ISSUBSET 'cidr'
  kIsSuperset,    // ISSUPERSET 'cidr'
  kExists,        // EXISTS path (no literal)
};

/// The operator's spelling in canonical output ("=", "!=", "IN", "EXISTS", ...).
const char* OperatorName(Operator op);

enum class ComparisonKind : uint8_t { kTest, kAnd, kOr };

struct ComparisonNode {
  ComparisonKind kind = ComparisonKind::kTest;
  // kTest:
  Operator op = Operator::kEqual;
  bool negated = false;      // `path NOT op v` / `NOT EXISTS path`
  NodeIndex path = kNoNode;  // into Pattern::paths
  Span values;  // into Pattern::literals: 1 for scalar operators, n for IN, 0 for EXISTS
  // kAnd / kOr:
  Span children;        // into Pattern::comparison_children (ComparisonNode indexes)
  uint32_t offset = 0;  // byte offset in the source (not part of equality)
};

// ---------------------------------------------------------------------------------------------
// Observation expressions

enum class ObservationKind : uint8_t {
  kSimple,      // [ comparison ]
  kAnd,         // e AND e AND ...
  kOr,          // e OR e OR ...
  kFollowedBy,  // e FOLLOWEDBY e FOLLOWEDBY ...
  kWithin,      // e WITHIN x SECONDS
  kRepeats,     // e REPEATS n TIMES
  kStartStop,   // e START t'..' STOP t'..'
};

struct ObservationNode {
  ObservationKind kind = ObservationKind::kSimple;
  /// Set on a qualifier node that was written inside parentheses and then qualified again,
  /// as in `([x] REPEATS 2 TIMES) REPEATS 2 TIMES`: the reference validator accepts the same
  /// qualifier kind again across such a group (spec digest §5 rule 2), so the printer keeps
  /// those parentheses.
  bool grouped = false;
  NodeIndex comparison = kNoNode;  // kSimple: root ComparisonNode
  Span children;                   // kAnd/kOr/kFollowedBy: into Pattern::observation_children
  NodeIndex child = kNoNode;       // qualifiers: the qualified ObservationNode
  double within_seconds = 0;       // kWithin
  int64_t repeats = 0;             // kRepeats
  Timestamp start, stop;           // kStartStop
  uint32_t offset = 0;             // byte offset in the source (not part of equality)
};

// ---------------------------------------------------------------------------------------------

/// A parsed pattern. `root` indexes `observations`.
struct Pattern {
  NodeIndex root = kNoNode;
  std::vector<ObservationNode> observations;
  std::vector<NodeIndex> observation_children;
  std::vector<ComparisonNode> comparisons;
  std::vector<NodeIndex> comparison_children;
  std::vector<ObjectPath> paths;
  std::vector<PathStep> steps;
  std::vector<Literal> literals;
  std::string source;  // the text it was parsed from (for columns in diagnostics)

  const ObservationNode& Root() const { return observations[root]; }
  std::span<const NodeIndex> Children(const ObservationNode& n) const {
    return {observation_children.data() + n.children.begin, n.children.size};
  }
  std::span<const NodeIndex> Children(const ComparisonNode& n) const {
    return {comparison_children.data() + n.children.begin, n.children.size};
  }
  std::span<const PathStep> Steps(const ObjectPath& p) const {
    return {steps.data() + p.steps.begin, p.steps.size};
  }
  std::span<const Literal> Values(const ComparisonNode& n) const {
    return {literals.data() + n.values.begin, n.values.size};
  }
  const ObjectPath& PathOf(const ComparisonNode& n) const { return paths[n.path]; }

  /// 1-based column (in code points) of a byte offset into `source`.
  uint32_t ColumnOf(uint32_t offset) const;

  /// Structural equality: same tree, same decoded literals; offsets and source are ignored.
  friend bool operator==(const Pattern& a, const Pattern& b);
};

}  // namespace accord::pattern
