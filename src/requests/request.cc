// Points-of-contact requests: the objects and the rule (include/accord/requests/request.h).
#include "accord/requests/request.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "requests/objects.h"

namespace accord::requests {

namespace {

using detail::IsIdOf;
using detail::Stamp;
using OrderedJson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 5> kKinds = {
    "notification", "request-for-assistance", "request-for-information", "consultation", "ping"};
constexpr std::array<std::string_view, 3> kUrgencies = {"routine", "high", "critical"};
constexpr std::array<std::string_view, 6> kStates = {"sent",     "received", "acknowledged",
                                                     "answered", "declined", "closed"};

template <typename E, size_t N>
absl::StatusOr<E> ParseName(const std::array<std::string_view, N>& names, std::string_view s,
                            std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  std::string all;
  for (std::string_view n : names) all += common::Cat(all.empty() ? "" : ", ", n);
  return absl::InvalidArgumentError(common::Cat("unknown ", what, " '", s, "' (", all, ")"));
}

OrderedJson Common(std::string_view type, const std::string& id, const std::string& by,
                   common::Micros at, const std::string& marking) {
  OrderedJson o;
  o["type"] = type;
  o["spec_version"] = "2.1";
  o["id"] = id;
  o["created"] = Stamp(at);
  o["modified"] = Stamp(at);
  o["created_by_ref"] = by;
  if (!marking.empty()) o["object_marking_refs"] = OrderedJson::array({marking});
  return o;
}

void Marker(OrderedJson& o) {
  o["extensions"][std::string(kRequestExtension)] = {{"extension_type", "new-sdo"}};
}

// Reading: every error names the object and the property.
class Reader {
 public:
  Reader(const OrderedJson& o, std::string_view type) : o_(o), type_(type) {}

  absl::Status Check() const {
    if (!o_.is_object()) return absl::InvalidArgumentError(common::Cat(type_, ": not an object"));
    auto t = o_.find("type");
    if (t == o_.end() || !t->is_string() || *t != type_) {
      return absl::InvalidArgumentError(common::Cat("not an ", type_, " object"));
    }
    auto ext = o_.find("extensions");
    if (ext == o_.end() || !ext->is_object() || !ext->contains(std::string(kRequestExtension))) {
      return Error("extensions",
                   "must carry the new-sdo marker of " + std::string(kRequestExtension));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> String(const char* key, bool required = true) const {
    auto it = o_.find(key);
    if (it == o_.end()) {
      if (required) return Error(key, "is required");
      return std::string();
    }
    if (!it->is_string()) return Error(key, "must be a string");
    return it->get<std::string>();
  }
  absl::StatusOr<std::string> Id(const char* key, std::string_view type, bool required) const {
    ACCORD_ASSIGN_OR_RETURN(std::string v, String(key, required));
    if (!v.empty() && !IsIdOf(v, type)) return Error(key, common::Cat("must be a ", type, " id"));
    return v;
  }
  template <typename E>
  absl::StatusOr<E> Enum(const char* key, absl::StatusOr<E> (*parse)(std::string_view)) const {
    ACCORD_ASSIGN_OR_RETURN(std::string v, String(key));
    absl::StatusOr<E> e = parse(v);
    if (!e.ok()) return Error(key, common::View(e.status().message()));
    return *e;
  }
  absl::StatusOr<common::Micros> Time(const char* key) const {
    ACCORD_ASSIGN_OR_RETURN(std::string v, String(key));
    absl::StatusOr<common::ParsedTimestamp> t = common::ParseTimestamp(v);
    if (!t.ok()) return Error(key, common::Cat("'", v, "' is not a timestamp"));
    return t->micros;
  }
  absl::StatusOr<std::string> Marking() const {
    auto it = o_.find("object_marking_refs");
    if (it == o_.end()) return std::string();
    if (!it->is_array() || it->size() > 1 || (it->size() == 1 && !(*it)[0].is_string())) {
      return Error("object_marking_refs", "must hold one marking-definition id");
    }
    return it->empty() ? std::string() : (*it)[0].get<std::string>();
  }
  absl::Status Error(std::string_view key, std::string_view rule) const {
    std::string id = o_.is_object() && o_.contains("id") && o_["id"].is_string()
                         ? o_["id"].get<std::string>()
                         : std::string(type_);
    return absl::InvalidArgumentError(common::Cat(id, ": '", key, "' ", rule));
  }
  const OrderedJson& json() const { return o_; }

 private:
  const OrderedJson& o_;
  std::string_view type_;
};

}  // namespace

std::string_view Name(Kind kind) { return kKinds[static_cast<size_t>(kind)]; }
std::string_view Name(Urgency urgency) { return kUrgencies[static_cast<size_t>(urgency)]; }
std::string_view Name(State state) { return kStates[static_cast<size_t>(state)]; }
absl::StatusOr<Kind> ParseKind(std::string_view s) { return ParseName<Kind>(kKinds, s, "kind"); }
absl::StatusOr<Urgency> ParseUrgency(std::string_view s) {
  return ParseName<Urgency>(kUrgencies, s, "urgency");
}
absl::StatusOr<State> ParseState(std::string_view s) {
  return ParseName<State>(kStates, s, "state");
}

std::string ToStix(const Request& r) {
  OrderedJson o = Common(kRequestType, r.id, r.sender, r.created, r.marking_ref);
  o["kind"] = Name(r.kind);
  o["urgency"] = Name(r.urgency);
  o["subject"] = r.subject;
  if (!r.description.empty()) o["description"] = r.description;
  if (!r.action.empty()) o["action_requested"] = r.action;
  if (!r.object_refs.empty()) o["object_refs"] = r.object_refs;
  o["sender_ref"] = r.sender;
  o["addressee_ref"] = r.addressee;
  if (!r.sender_contact.empty()) o["sender_contact_ref"] = r.sender_contact;
  if (!r.addressee_contact.empty()) o["addressee_contact_ref"] = r.addressee_contact;
  o["ack_by"] = Stamp(r.ack_by);
  o["respond_by"] = Stamp(r.respond_by);
  Marker(o);
  return o.dump();
}

std::string ToStix(const Step& s) {
  OrderedJson o = Common(kStepType, s.id, s.by, s.at, s.marking_ref);
  o["request_ref"] = s.request;
  o["step"] = Name(s.state);
  o["to_ref"] = s.to;
  if (!s.contact.empty()) o["contact_ref"] = s.contact;
  if (!s.text.empty()) o["text"] = s.text;
  Marker(o);
  return o.dump();
}

absl::StatusOr<Request> RequestFromStix(std::string_view json) {
  OrderedJson o = OrderedJson::parse(json, nullptr, false);
  if (o.is_discarded()) return absl::InvalidArgumentError("x-accord-request: not JSON");
  Reader in(o, kRequestType);
  ACCORD_RETURN_IF_ERROR(in.Check());
  Request r;
  ACCORD_ASSIGN_OR_RETURN(r.id, in.Id("id", kRequestType, true));
  ACCORD_ASSIGN_OR_RETURN(r.kind, in.Enum<Kind>("kind", ParseKind));
  ACCORD_ASSIGN_OR_RETURN(r.urgency, in.Enum<Urgency>("urgency", ParseUrgency));
  ACCORD_ASSIGN_OR_RETURN(r.subject, in.String("subject"));
  if (r.subject.empty()) return in.Error("subject", "must not be empty");
  ACCORD_ASSIGN_OR_RETURN(r.description, in.String("description", false));
  ACCORD_ASSIGN_OR_RETURN(r.action, in.String("action_requested", false));
  if (auto it = o.find("object_refs"); it != o.end()) {
    if (!it->is_array()) return in.Error("object_refs", "must be a list of ids");
    for (const OrderedJson& e : *it) {
      if (!e.is_string() || e.get<std::string>().find("--") == std::string::npos) {
        return in.Error("object_refs", "must be a list of ids");
      }
      r.object_refs.push_back(e.get<std::string>());
    }
  }
  ACCORD_ASSIGN_OR_RETURN(r.marking_ref, in.Marking());
  ACCORD_ASSIGN_OR_RETURN(r.sender, in.Id("sender_ref", "identity", true));
  ACCORD_ASSIGN_OR_RETURN(std::string creator, in.Id("created_by_ref", "identity", true));
  if (creator != r.sender) return in.Error("created_by_ref", "must be the sender_ref");
  ACCORD_ASSIGN_OR_RETURN(r.addressee, in.Id("addressee_ref", "identity", true));
  if (r.addressee == r.sender) return in.Error("addressee_ref", "must not be the sender");
  ACCORD_ASSIGN_OR_RETURN(r.sender_contact, in.Id("sender_contact_ref", "identity", false));
  ACCORD_ASSIGN_OR_RETURN(r.addressee_contact, in.Id("addressee_contact_ref", "identity", false));
  ACCORD_ASSIGN_OR_RETURN(r.created, in.Time("created"));
  ACCORD_ASSIGN_OR_RETURN(r.ack_by, in.Time("ack_by"));
  ACCORD_ASSIGN_OR_RETURN(r.respond_by, in.Time("respond_by"));
  if (r.ack_by < r.created) return in.Error("ack_by", "is before the request was sent");
  if (r.respond_by < r.ack_by) return in.Error("respond_by", "is before ack_by");
  return r;
}

absl::StatusOr<Step> StepFromStix(std::string_view json) {
  OrderedJson o = OrderedJson::parse(json, nullptr, false);
  if (o.is_discarded()) return absl::InvalidArgumentError("x-accord-request-step: not JSON");
  Reader in(o, kStepType);
  ACCORD_RETURN_IF_ERROR(in.Check());
  Step s;
  ACCORD_ASSIGN_OR_RETURN(s.id, in.Id("id", kStepType, true));
  ACCORD_ASSIGN_OR_RETURN(s.request, in.Id("request_ref", kRequestType, true));
  ACCORD_ASSIGN_OR_RETURN(s.state, in.Enum<State>("step", ParseState));
  if (s.state == State::kSent) return in.Error("step", "cannot be 'sent' (the request itself is)");
  ACCORD_ASSIGN_OR_RETURN(s.by, in.Id("created_by_ref", "identity", true));
  ACCORD_ASSIGN_OR_RETURN(s.to, in.Id("to_ref", "identity", true));
  ACCORD_ASSIGN_OR_RETURN(s.contact, in.Id("contact_ref", "identity", false));
  ACCORD_ASSIGN_OR_RETURN(s.text, in.String("text", false));
  ACCORD_ASSIGN_OR_RETURN(s.marking_ref, in.Marking());
  ACCORD_ASSIGN_OR_RETURN(s.at, in.Time("created"));
  return s;
}

absl::Status CheckStep(const Request& request, State state, const Step& step) {
  if (step.request != request.id) {
    return absl::InvalidArgumentError(
        common::Cat(step.id, ": is a step of ", step.request, ", not of ", request.id));
  }
  const bool by_sender = step.by == request.sender;
  const bool by_addressee = step.by == request.addressee;
  if (!by_sender && !by_addressee) {
    return absl::PermissionDeniedError(common::Cat(step.id, ": '", Name(step.state), "' by ",
                                                   step.by,
                                                   ", neither the sender nor the addressee"));
  }
  const std::string& other = by_sender ? request.addressee : request.sender;
  if (step.to != other) {
    return absl::PermissionDeniedError(common::Cat(step.id, ": '", Name(step.state), "' by ",
                                                   step.by, " is addressed to ", step.to,
                                                   ", not to the other party ", other));
  }
  const bool addressee_step = step.state != State::kClosed;
  if (addressee_step != by_addressee) {
    return absl::PermissionDeniedError(common::Cat(
        step.id, ": only the ", addressee_step ? "addressee" : "sender", " ",
        addressee_step ? request.addressee : request.sender, " may make it '", Name(step.state),
        "'; this step is by the ", by_sender ? "sender" : "addressee"));
  }
  bool allowed = false;
  switch (step.state) {
    case State::kSent: break;
    case State::kReceived: allowed = state == State::kSent; break;
    case State::kAcknowledged: allowed = state == State::kSent || state == State::kReceived; break;
    case State::kAnswered:
      allowed = state == State::kSent || state == State::kReceived ||
                state == State::kAcknowledged || state == State::kAnswered;
      break;
    case State::kDeclined:
      allowed = state == State::kSent || state == State::kReceived || state == State::kAcknowledged;
      break;
    case State::kClosed: allowed = state != State::kClosed; break;
  }
  if (!allowed) {
    return absl::FailedPreconditionError(
        common::Cat(step.id, ": '", Name(step.state), "' cannot follow '", Name(state), "'"));
  }
  return absl::OkStatus();
}

History Replay(const Request& request, std::vector<Step> steps) {
  std::sort(steps.begin(), steps.end(),
            [](const Step& a, const Step& b) { return a.at != b.at ? a.at < b.at : a.id < b.id; });
  History h;
  h.request = request;
  for (Step& s : steps) {
    absl::Status ok = CheckStep(request, h.state, s);
    if (!ok.ok()) {
      h.refused.push_back({std::move(s), std::string(ok.message())});
      continue;
    }
    if (s.state == State::kAcknowledged || s.state == State::kAnswered ||
        s.state == State::kDeclined) {
      if (!h.acknowledged_at) h.acknowledged_at = s.at;
    }
    if ((s.state == State::kAnswered || s.state == State::kDeclined) && !h.answered_at) {
      h.answered_at = s.at;
    }
    h.state = s.state;
    h.steps.push_back(std::move(s));
  }
  return h;
}

}  // namespace accord::requests
