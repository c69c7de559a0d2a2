#include "accord/requests/json.h"

#include <algorithm>

namespace accord::requests {
namespace {

nlohmann::json ContactJson(const Contact& c) {
  return nlohmann::json{{"id", c.id},           {"name", c.name},
                        {"role", Name(c.role)}, {"email", c.email},
                        {"phone", c.phone},     {"hours", c.hours.empty() ? "24/7" : c.hours}};
}

}  // namespace

std::string StampOrEmpty(common::Micros t) { return t ? common::FormatTimestampMillis(t) : ""; }

const Contact* Responsible(const View& v) {
  if (v.contacts.empty()) return nullptr;
  return &v.contacts[std::min(v.overdue.escalation, v.contacts.size() - 1)];
}

std::vector<State> NextSteps(const View& v) {
  const Request& r = v.history.request;
  Step s;
  s.request = r.id;
  s.by = v.outgoing ? r.sender : r.addressee;
  s.to = v.outgoing ? r.addressee : r.sender;
  std::vector<State> out;
  for (State st : {State::kAcknowledged, State::kAnswered, State::kDeclined, State::kClosed}) {
    s.state = st;
    if (CheckStep(r, v.history.state, s).ok()) out.push_back(st);
  }
  return out;
}

nlohmann::json ViewJson(const View& v) {
  const Request& r = v.history.request;
  nlohmann::json steps = nlohmann::json::array();
  for (const Step& s : v.history.steps) {
    nlohmann::json j{{"id", s.id}, {"step", Name(s.state)},    {"by", s.by},
                     {"to", s.to}, {"at", StampOrEmpty(s.at)}, {"text", s.text}};
    if (auto d = v.delivery.find(s.id); d != v.delivery.end()) {
      j["delivered_at"] = d->second.delivered_at
                              ? nlohmann::json(StampOrEmpty(d->second.delivered_at))
                              : nlohmann::json();
      if (!d->second.last_error.empty()) j["delivery_error"] = d->second.last_error;
    }
    steps.push_back(std::move(j));
  }
  nlohmann::json refused = nlohmann::json::array();
  for (const auto& x : v.history.refused) {
    refused.push_back(
        {{"id", x.step.id}, {"step", Name(x.step.state)}, {"by", x.step.by}, {"reason", x.reason}});
  }
  nlohmann::json out{
      {"id", r.id},
      {"direction", v.outgoing ? "out" : "in"},
      {"peer", v.peer},
      {"kind", Name(r.kind)},
      {"urgency", Name(r.urgency)},
      {"subject", r.subject},
      {"description", r.description},
      {"action", r.action},
      {"about", r.object_refs},
      {"marking", r.marking_ref},
      {"sender", r.sender},
      {"addressee", r.addressee},
      {"created", StampOrEmpty(r.created)},
      {"ack_by", StampOrEmpty(r.ack_by)},
      {"respond_by", StampOrEmpty(r.respond_by)},
      {"state", Name(v.history.state)},
      {"acknowledged_at", v.history.acknowledged_at
                              ? nlohmann::json(StampOrEmpty(*v.history.acknowledged_at))
                              : nlohmann::json()},
      {"answered_at", v.history.answered_at ? nlohmann::json(StampOrEmpty(*v.history.answered_at))
                                            : nlohmann::json()},
      {"overdue", {{"ack", v.overdue.ack}, {"response", v.overdue.response}}},
      {"escalation", v.overdue.escalation},
      {"history", std::move(steps)},
      {"refused", std::move(refused)}};
  const Contact* c = Responsible(v);
  out["responsible"] = c ? ContactJson(*c) : nlohmann::json();
  nlohmann::json contacts = nlohmann::json::array();
  for (const Contact& x : v.contacts) contacts.push_back(ContactJson(x));
  out["contacts"] = std::move(contacts);
  if (v.outgoing) {
    auto d = v.delivery.find(r.id);
    if (d != v.delivery.end()) {
      out["delivered_at"] = d->second.delivered_at
                                ? nlohmann::json(StampOrEmpty(d->second.delivered_at))
                                : nlohmann::json();
      out["delivery_attempts"] = d->second.attempts;
      if (!d->second.last_error.empty()) out["delivery_error"] = d->second.last_error;
    }
  }
  return out;
}

}  // namespace accord::requests
