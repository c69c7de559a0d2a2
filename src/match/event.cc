#include "accord/match/event.h"

namespace accord::match {

void Observation::Clear() {
  nodes_.clear();
  scos_.clear();
  text_.clear();
  pending_.clear();
  marks_.clear();
  first_observed = last_observed = 0;
  number_observed = 1;
}

const Node* Observation::Member(const Node& obj, std::string_view key) const {
  if (obj.kind != Node::Kind::kObject) return nullptr;
  for (uint32_t i = obj.first; i < obj.first + obj.count; ++i) {
    if (Key(nodes_[i]) == key) return &nodes_[i];
  }
  return nullptr;
}

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

Node Observation::Make(std::string_view key, Node::Kind kind) {
  Node n;
  n.kind = kind;
  if (!key.empty()) {
    n.key_off = Intern(key);
    n.key_len = static_cast<uint32_t>(key.size());
  }
  return n;
}

void Observation::AddNull(std::string_view key) { pending_.push_back(Make(key, Node::Kind::kNull)); }
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
void Observation::AddNode(std::string_view key, Node n) {
  if (!key.empty()) {
    n.key_off = Intern(key);
    n.key_len = static_cast<uint32_t>(key.size());
  } else {
    n.key_off = n.key_len = 0;
  }
  pending_.push_back(n);
}

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
