// The event model's builder and accessors (event.h). Nodes refer to text by offset into
// text_, never by pointer, because text_ reallocates while an observation is being built.
#include "accord/match/event.h"

namespace accord::match {

// clear() keeps the capacity of every vector and of text_: a reused Observation allocates
// nothing in steady state (PERF note in event.h).
void Observation::Clear() {
  nodes_.clear();
  scos_.clear();
  text_.clear();
  pending_.clear();
  marks_.clear();
  first_observed = last_observed = 0;
  number_observed = 1;
}

// Linear in the object's members: event objects are small (a Zeek conn event is ~12 nodes in
// all, event.h) and no per-event index is built. The first of repeated keys wins.
const Node* Observation::Member(const Node& obj, std::string_view key) const {
  if (obj.kind != Node::Kind::kObject) return nullptr;
  for (uint32_t i = obj.first; i < obj.first + obj.count; ++i) {
    if (Key(nodes_[i]) == key) return &nodes_[i];
  }
  return nullptr;
}

// Linear in the observation's SCOs, which are few; the first of repeated ids wins. Only SCOs of
// this observation are found, so references never leave it (§9.7.4).
const Node* Observation::FindSco(std::string_view id) const {
  for (const Sco& s : scos_) {
    if (Id(s) == id) return &nodes_[s.root];
  }
  return nullptr;
}

uint32_t Observation::Intern(std::string_view s) {
  uint32_t off = static_cast<uint32_t>(text_.size());
  text_.append(s);
  return off;
}

// A node with its member name interned; list elements have no key (key_len 0).
Node Observation::Make(std::string_view key, Node::Kind kind) {
  Node n;
  n.kind = kind;
  if (!key.empty()) {
    n.key_off = Intern(key);
    n.key_len = static_cast<uint32_t>(key.size());
  }
  return n;
}

void Observation::AddNull(std::string_view key) {
  pending_.push_back(Make(key, Node::Kind::kNull));
}
void Observation::AddBool(std::string_view key, bool v) {
  Node n = Make(key, Node::Kind::kBool);
  n.b = v;
  pending_.push_back(n);
}
void Observation::AddInt(std::string_view key, int64_t v) {
  Node n = Make(key, Node::Kind::kInt);
  n.i = v;
  pending_.push_back(n);
}
void Observation::AddFloat(std::string_view key, double v) {
  Node n = Make(key, Node::Kind::kFloat);
  n.f = v;
  pending_.push_back(n);
}
void Observation::AddString(std::string_view key, std::string_view v) {
  Node n = Make(key, Node::Kind::kString);
  n.str_off = Intern(v);
  n.str_len = static_cast<uint32_t>(v.size());
  pending_.push_back(n);
}
// Adds a container returned by Close() as a member or element of the open container. Its key
// is set here, as Close() cannot know it; a stale key from the caller is cleared.
void Observation::AddNode(std::string_view key, Node n) {
  if (!key.empty()) {
    n.key_off = Intern(key);
    n.key_len = static_cast<uint32_t>(key.size());
  } else {
    n.key_off = n.key_len = 0;
  }
  pending_.push_back(n);
}

// Children of all open containers pile up in pending_, marks_ holding where each container's
// children begin. Closing moves the innermost container's children to nodes_ as one
// contiguous run: that is what makes a container's children nodes[first, first + count),
// even though its nested containers were closed, and their own children placed, earlier.
// REQUIRES: a matching Open().
Node Observation::Close(Node::Kind kind) {
  uint32_t mark = marks_.back();
  marks_.pop_back();
  Node n;
  n.kind = kind;
  n.first = static_cast<uint32_t>(nodes_.size());
  n.count = static_cast<uint32_t>(pending_.size() - mark);
  nodes_.insert(nodes_.end(), pending_.begin() + mark, pending_.end());
  pending_.resize(mark);
  return n;
}

// The root node goes after its children (placed by Close()); Sco::root indexes it.
void Observation::AddSco(const Node& obj, std::string_view type, std::string_view id) {
  Sco s;
  s.root = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(obj);
  s.type_off = Intern(type);
  s.type_len = static_cast<uint32_t>(type.size());
  s.id_off = Intern(id);
  s.id_len = static_cast<uint32_t>(id.size());
  scos_.push_back(s);
}

}  // namespace accord::match
