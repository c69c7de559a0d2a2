#include "accord/federation/agreement.h"

#include <toml++/toml.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>

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

// A duration of [deadlines]: a positive integer then one unit ("90s", "30m", "12h", "2d"), or
// an integer of seconds; above 0 and at most 365 days. `what` names the key ("[deadlines]
// 'notification.critical' ack").
absl::StatusOr<int64_t> Duration(const toml::node& n, std::string_view what, const Errors& err) {
  constexpr int64_t kMax = 365LL * 86400;
  int64_t secs = 0;
  std::string found;
  if (const auto* i = n.as_integer()) {
    secs = i->get();
    found = common::Cat(secs);
  } else if (const auto* s = n.as_string()) {
    const std::string& v = s->get();
    found = common::Cat("\"", v, "\"");
    int64_t unit = 0;
    switch (v.empty() ? '\0' : v.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: break;
    }
    const std::string_view digits = std::string_view(v).substr(0, v.empty() ? 0 : v.size() - 1);
    if (unit == 0 || digits.empty() || digits.find_first_not_of("0123456789") != digits.npos) {
      return err.At(n.source(),
                    common::Cat(what, ": ", found,
                                " is not a duration (a positive integer then s, m, h or d: "
                                "\"90s\", \"30m\", \"12h\", \"2d\")"));
    }
    // Saturates just above the limit, so a long run of digits cannot overflow.
    for (char c : digits) secs = std::min(secs * 10 + (c - '0'), kMax + 1);
    secs *= unit;
  } else {
    return err.At(n.source(), common::Cat(what,
                                          " must be a duration (\"90s\", \"30m\", \"12h\", "
                                          "\"2d\") or an integer of seconds"));
  }
  if (secs <= 0) {
    return err.At(n.source(), common::Cat(what, " must be above 0, found ", found));
  }
  if (secs > kMax) {
    return err.At(n.source(),
                  common::Cat(what, " must be at most 365 days (31536000 s), found ", found));
  }
  return secs;
}

// Kinds and urgencies are those of the requests layer (docs/REQUESTS.md, "Deadlines"), which
// sits above this one and so cannot be included here.
absl::Status Deadlines(const toml::table& t, std::map<std::string, Agreement::Deadline>* out,
                       const Errors& err) {
  static const std::set<std::string, std::less<>> kKinds = {
      "notification", "request-for-assistance", "request-for-information", "consultation", "ping"};
  static const std::set<std::string, std::less<>> kUrgencies = {"routine", "high", "critical"};
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    const size_t dot = key.rfind('.');
    const std::string kind = key.substr(0, dot == std::string::npos ? key.size() : dot);
    const std::string urgency = dot == std::string::npos ? "" : key.substr(dot + 1);
    if (dot == std::string::npos) {
      // An unquoted notification.critical = ... is a TOML dotted key: a table "notification".
      return err.At(k.source(), common::Cat("[deadlines] '", key,
                                            "': expected a quoted key \"KIND.URGENCY\", e.g. "
                                            "\"notification.critical\""));
    }
    if (!kKinds.count(kind)) {
      return err.At(k.source(), common::Cat("[deadlines] '", key, "': unknown kind '", kind,
                                            "' (one of notification, request-for-assistance, "
                                            "request-for-information, consultation, ping)"));
    }
    if (!kUrgencies.count(urgency)) {
      return err.At(k.source(), common::Cat("[deadlines] '", key, "': unknown urgency '", urgency,
                                            "' (one of routine, high, critical)"));
    }
    const toml::table* d = v.as_table();
    if (d == nullptr) {
      return err.At(v.source(), common::Cat("[deadlines] '", key,
                                            "' must be a table { ack = ..., respond = ... }"));
    }
    ACCORD_RETURN_IF_ERROR(
        OnlyKeys(*d, common::Cat(" in [deadlines] '", key, "'"), {"ack", "respond"}, err));
    const toml::node* ack = d->get("ack");
    const toml::node* respond = d->get("respond");
    if (ack == nullptr || respond == nullptr) {
      return err.At(v.source(), common::Cat("[deadlines] '", key, "' needs ",
                                            ack == nullptr ? "ack" : "respond"));
    }
    Agreement::Deadline dl;
    ACCORD_ASSIGN_OR_RETURN(dl.ack_s,
                            Duration(*ack, common::Cat("[deadlines] '", key, "' ack"), err));
    ACCORD_ASSIGN_OR_RETURN(
        dl.respond_s, Duration(*respond, common::Cat("[deadlines] '", key, "' respond"), err));
    if (dl.ack_s > dl.respond_s) {
      return err.At(v.source(),
                    common::Cat("[deadlines] '", key, "': ack (", dl.ack_s,
                                " s) must not be longer than respond (", dl.respond_s, " s)"));
    }
    (*out)[key] = dl;
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
  ACCORD_RETURN_IF_ERROR(
      OnlyKeys(t, "", {"same_organization", "share", "accept", "deadlines"}, err));
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
  if (const toml::node* n = t.get("deadlines")) {
    const toml::table* d = n->as_table();
    if (d == nullptr) return err.At(n->source(), "deadlines must be a table ([deadlines])");
    ACCORD_RETURN_IF_ERROR(Deadlines(*d, &a.deadlines, err));
  }
  return a;
}

}  // namespace accord::federation
