// The event model: one observation = a time interval, a multiplicity and a set of SCOs, each
// SCO a tree of typed JSON-like values (STIX 2.1 §9.1, ../shared/spec/STIX21-patterning.md §6).
// Readers (src/match/input/) fill an Observation in place; the engine only reads it.
//
// PERF: all nodes of one observation live in one vector and all strings in one buffer, and
// Clear() keeps both capacities, so a reader that reuses its Observation allocates nothing
// per event in steady state (Zeek conn events: ~12 nodes, ~150 bytes of text).
//
// Not thread-safe; one Observation per reader thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/time.h"

namespace accord::match {

/// One value in an SCO tree. Children of a list or object are nodes[first, first+count).
struct Node {
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kList, kObject };
  Kind kind = Kind::kNull;
  bool b = false;
  uint32_t key_off = 0, key_len = 0;  // member name when the node is an object member
  uint32_t str_off = 0, str_len = 0;  // kString
  uint32_t first = 0, count = 0;      // kList, kObject
  int64_t i = 0;
  double f = 0;
};

/// A root SCO of an observation.
struct Sco {
  uint32_t root = 0;  // index of its kObject node
  uint32_t type_off = 0, type_len = 0;
  uint32_t id_off = 0, id_len = 0;
};

class Observation {
 public:
  /// Forgets the content, keeps the buffers.
  void Clear();

  // --- Reading -----------------------------------------------------------------------------
  std::string_view Str(const Node& n) const { return {text_.data() + n.str_off, n.str_len}; }
  std::string_view Key(const Node& n) const { return {text_.data() + n.key_off, n.key_len}; }
  std::string_view Type(const Sco& s) const { return {text_.data() + s.type_off, s.type_len}; }
  std::string_view Id(const Sco& s) const { return {text_.data() + s.id_off, s.id_len}; }
  const Node& node(uint32_t i) const { return nodes_[i]; }
  const std::vector<Sco>& scos() const { return scos_; }
  /// Member `key` of object node `obj`, or nullptr.
  const Node* Member(const Node& obj, std::string_view key) const;
  /// Root node of the SCO with this id, or nullptr (references resolve only inside the
  /// observation, STIX 2.1 §9.7.4).
  const Node* FindSco(std::string_view id) const;

  common::Micros first_observed = 0;
  common::Micros last_observed = 0;
  int64_t number_observed = 1;

  // --- Building (bottom-up) ------------------------------------------------------------------
  // Open() starts a container; Add*() append members (key) or elements (key empty); Close()
  // finishes the innermost container and returns it as a value node that the caller adds to
  // its parent with AddNode() or makes an SCO with AddSco().
  void Open() { marks_.push_back(static_cast<uint32_t>(pending_.size())); }
  void AddNull(std::string_view key);
  void AddBool(std::string_view key, bool v);
  void AddInt(std::string_view key, int64_t v);
  void AddFloat(std::string_view key, double v);
  void AddString(std::string_view key, std::string_view v);
  void AddNode(std::string_view key, Node n);
  Node Close(Node::Kind kind);
  /// Adds a root SCO from a closed kObject node; `type` and `id` are copied.
  void AddSco(const Node& obj, std::string_view type, std::string_view id);
  /// Appends text; returns its offset (for callers that build strings piecewise).
  uint32_t Intern(std::string_view s);

  size_t node_count() const { return nodes_.size(); }

 private:
  Node Make(std::string_view key, Node::Kind kind);

  std::vector<Node> nodes_;
  std::vector<Sco> scos_;
  std::string text_;
  std::vector<Node> pending_;
  std::vector<uint32_t> marks_;
};

}  // namespace accord::match
