#include "accord/federation/agreement.h"

#include <toml++/toml.h>

#include <algorithm>
#include <initializer_list>

#include "accord/common/strings.h"
#include "accord/stix/object.h"

namespace accord::federation {

namespace {

// Errors carry the location of the node (or table) they are about.
class Errors {
 public:
  explicit Errors(std::string_view source) : source_(source) {}
  absl::Status At(const toml::source_region& r, std::string_view why) const {
    return absl::InvalidArgumentError(
        common::Cat(source_, ":", r.begin.line, ":", r.begin.column, ": ", why));
  }

 private:
  std::string source_;
};

absl::Status OnlyKeys(const toml::table& t, std::string_view where,
                      std::initializer_list<std::string_view> known, const Errors& err) {
  for (const auto& [k, v] : t) {
    if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
      std::string list;
      for (std::string_view n : known) list += (list.empty() ? "" : ", ") + std::string(n);
      return err.At(k.source(),
                    common::Cat("unknown key '", k.str(), "'", where, " (known: ", list, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status Bool(const toml::table& t, std::string_view key, std::string_view where, bool* out,
                  const Errors& err) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return absl::OkStatus();
  if (!n->is_boolean()) {
    return err.At(n->source(), common::Cat(where, key, " must be true or false"));
  }
  *out = n->as_boolean()->get();
  return absl::OkStatus();
}

absl::Status Strings(const toml::table& t, std::string_view key, std::string_view where,
                     std::vector<std::string>* out, const Errors& err) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return absl::OkStatus();
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    return err.At(n->source(), common::Cat(where, key, " must be an array of strings"));
  }
  for (const toml::node& e : *a) {
    const toml::value<std::string>* s = e.as_string();
    if (s == nullptr || s->get().empty()) {
      return err.At(e.source(), common::Cat(where, key, " must be an array of non-empty strings"));
    }
    out->push_back(s->get());
  }
  return absl::OkStatus();
}

absl::Status Types(const toml::table& t, std::string_view where, std::vector<std::string>* out,
                   const Errors& err) {
  ACCORD_RETURN_IF_ERROR(Strings(t, "types", where, out, err));
  if (const toml::array* a = t.get_as<toml::array>("types")) {
    if (a->empty()) {
      return err.At(a->source(), common::Cat(where,
                                             "types is empty (leave it out to allow "
                                             "every type)"));
    }
    for (size_t i = 0; i < out->size(); ++i) {
      const std::string& type = (*out)[i];
      if (!stix::IsStandardType(type) && type.rfind("x-", 0) != 0) {
        return err.At((*a)[i].source(), common::Cat(where, "types: unknown STIX type '", type,
                                                    "' (custom types start with \"x-\")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Agreement> ParseAgreement(std::string_view text, std::string_view source,
                                         std::string_view peer) {
  Errors err(source);
  toml::table t;
  try {
    t = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return err.At(e.source(), e.description());
  }
  Agreement a;
  a.accept.into = common::Cat("from-", peer);
  ACCORD_RETURN_IF_ERROR(OnlyKeys(t, "", {"same_organization", "share", "accept"}, err));
  ACCORD_RETURN_IF_ERROR(Bool(t, "same_organization", "", &a.same_organization, err));
  if (const toml::node* n = t.get("share")) {
    const toml::table* s = n->as_table();
    if (s == nullptr) return err.At(n->source(), "share must be a table ([share])");
    ACCORD_RETURN_IF_ERROR(
        OnlyKeys(*s, " in [share]",
                 {"collections", "types", "max_tlp", "forward", "redaction", "share_observed_data",
                  "sighting_min_count", "sighting_bucket"},
                 err));
    ACCORD_RETURN_IF_ERROR(
        Bool(*s, "share_observed_data", "[share] ", &a.share.share_observed_data, err));
    if (const toml::node* r = s->get("redaction")) {
      const auto* v = r->as_string();
      if (v == nullptr || v->get().empty()) {
        return err.At(r->source(),
                      "[share] redaction must name a profile of accord.toml's "
                      "[redaction.profiles]");
      }
      a.share.redaction = v->get();
    }
    if (const toml::node* m = s->get("sighting_min_count")) {
      const auto* v = m->as_integer();
      if (v == nullptr || v->get() < 1 || v->get() > 1000000000) {
        return err.At(m->source(), "[share] sighting_min_count must be an integer from 1");
      }
      a.share.sighting_min_count = v->get();
    }
    if (const toml::node* b = s->get("sighting_bucket")) {
      const auto* v = b->as_integer();
      if (v == nullptr || v->get() < 0 || v->get() > 31 * 86400) {
        return err.At(b->source(),
                      "[share] sighting_bucket must be seconds from 0 (off) to 2678400 (31 days)");
      }
      a.share.sighting_bucket_s = v->get();
    }
    ACCORD_RETURN_IF_ERROR(Strings(*s, "collections", "[share] ", &a.share.collections, err));
    ACCORD_RETURN_IF_ERROR(Types(*s, "[share] ", &a.share.types, err));
    ACCORD_RETURN_IF_ERROR(Bool(*s, "forward", "[share] ", &a.share.forward, err));
    if (const toml::node* m = s->get("max_tlp")) {
      const toml::value<std::string>* v = m->as_string();
      const std::string name = v ? v->get() : "";
      if (name == "clear") {
        a.share.max_tlp = Tlp::kClear;
      } else if (name == "green") {
        a.share.max_tlp = Tlp::kGreen;
      } else if (name == "amber") {
        a.share.max_tlp = Tlp::kAmber;
      } else if (name == "amber+strict") {
        a.share.max_tlp = Tlp::kAmberStrict;
      } else if (name == "red") {
        return err.At(m->source(), "[share] max_tlp: TLP:RED never leaves its node");
      } else {
        return err.At(m->source(), common::Cat("[share] max_tlp: unknown TLP '", name,
                                               "' (one of clear, green, amber, amber+strict)"));
      }
    }
  }
  if (const toml::node* n = t.get("accept")) {
    const toml::table* s = n->as_table();
    if (s == nullptr) return err.At(n->source(), "accept must be a table ([accept])");
    ACCORD_RETURN_IF_ERROR(OnlyKeys(*s, " in [accept]", {"from", "into", "types"}, err));
    ACCORD_RETURN_IF_ERROR(Strings(*s, "from", "[accept] ", &a.accept.from, err));
    ACCORD_RETURN_IF_ERROR(Types(*s, "[accept] ", &a.accept.types, err));
    if (const toml::node* m = s->get("into")) {
      const toml::value<std::string>* v = m->as_string();
      if (v == nullptr || v->get().empty()) {
        return err.At(m->source(), "[accept] into must be a collection name");
      }
      a.accept.into = v->get();
    }
  }
  return a;
}

}  // namespace accord::federation
