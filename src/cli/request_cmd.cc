// accord request send|list|show|ack|reply|decline|close|check, accord peer responsiveness, and
// the request channel of `accord serve` (issue 14; docs/REQUESTS.md)
#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/http/router.h"
#include "accord/requests/channel.h"
#include "accord/requests/json.h"
#include "cli/cli.h"
#include "cli/egress.h"

namespace accord::cli {
namespace {

struct RequestFlags {
  std::string to, kind = "notification", urgency = "routine", subject, description, action;
  std::vector<std::string> about;
  std::string tlp = "amber", ack_by, respond_by;
  std::string id, text, state;
  bool overdue = false, json = false;
};

// A deadline on the command line: an RFC 3339 time, or "+N" and a unit (s, m, h, d) from now.
absl::StatusOr<common::Micros> ParseWhen(std::string_view flag, const std::string& text,
                                         common::Micros now) {
  if (!text.empty() && text[0] == '+') {
    int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data() + 1, end, n);
    static const std::map<char, int64_t> units = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    if (ec == std::errc() && n > 0 && n <= 366 * 86400 && p + 1 == end && units.count(*p)) {
      return now + n * units.at(*p) * 1000000;
    }
    return absl::InvalidArgumentError(
        common::Cat(flag, " '", text, "': expected \"+N\" and s, m, h or d, e.g. \"+2h\""));
  }
  absl::StatusOr<common::Micros> t = common::ParseRfc3339(text);
  if (!t.ok()) return absl::InvalidArgumentError(common::Cat(flag, ": ", t.status().message()));
  return t;
}

using requests::Responsible;
using requests::StampOrEmpty;
using requests::ViewJson;

struct ChannelSession {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Egress> egress;
  std::unique_ptr<policy::Gate> peer_gate;  // with the peers' agreements, for deliveries
  std::unique_ptr<requests::Channel> channel;
};

absl::StatusOr<ChannelSession> OpenChannel(const Globals& g) {
  ChannelSession o;
  ACCORD_ASSIGN_OR_RETURN(o.store, OpenDataStore(g, false));
  o.egress = std::make_unique<Egress>(o.store.get(), g);
  ACCORD_RETURN_IF_ERROR(o.egress->audit_status);
  requests::Channel::Options opts;
  opts.data_dir = g.data_dir;
  opts.audit = o.egress->log.get();
  o.peer_gate = federation::NewFederatedGate(o.store.get(), g.data_dir);
  opts.gate = o.peer_gate.get();
  opts.actor = "operator:" + OperatorName();
  ACCORD_ASSIGN_OR_RETURN(o.channel, requests::Channel::Open(o.store.get(), opts));
  return o;
}

// The requests held here, read through the egress gate as the local operator reads them.
absl::StatusOr<std::vector<requests::View>> ReadViews(ChannelSession& o) {
  store::Query q;
  q.collection = std::string(policy::kRequestsCollection);
  q.types = {std::string(requests::kRequestType), std::string(requests::kStepType)};
  q.versions = store::VersionSelect::kAll;
  absl::StatusOr<policy::GatedPage> page =
      o.egress->reader.List(q, o.egress->audience, policy::Exit::kListJson);
  if (!page.ok() && page.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<requests::View>();
  }
  if (!page.ok()) return page.status();
  o.egress->Count(*page);
  return o.channel->Views(page->objects);
}

std::string Flags(const requests::View& v) {
  std::string f;
  if (v.overdue.ack) f += "ACK-OVERDUE ";
  if (v.overdue.response) f += "ANSWER-OVERDUE ";
  if (v.overdue.escalation > 0) f += common::Cat("ESCALATED(", v.overdue.escalation, ") ");
  for (const auto& [id, d] : v.delivery) {
    if (d.delivered_at == 0) {
      f += "UNDELIVERED ";
      break;
    }
  }
  if (!v.history.refused.empty()) f += "FORGED-STEPS ";
  if (!f.empty()) f.pop_back();
  return f;
}

int RequestSend(const Globals& g, const RequestFlags& f) {
  auto o = OpenChannel(g);
  if (!o.ok()) return Fail(o.status());
  requests::SendOptions s;
  s.peer = f.to;
  auto kind = requests::ParseKind(f.kind);
  if (!kind.ok()) return Fail(kind.status());
  auto urgency = requests::ParseUrgency(f.urgency);
  if (!urgency.ok()) return Fail(urgency.status());
  s.kind = *kind;
  s.urgency = *urgency;
  s.subject = f.subject;
  s.description = f.description;
  s.action = f.action;
  s.about = f.about;
  s.tlp = f.tlp;
  const common::Micros now = requests::NodeClock().Now();
  if (!f.ack_by.empty()) {
    auto t = ParseWhen("--ack-by", f.ack_by, now);
    if (!t.ok()) return Fail(t.status());
    s.ack_by = *t;
  }
  if (!f.respond_by.empty()) {
    auto t = ParseWhen("--respond-by", f.respond_by, now);
    if (!t.ok()) return Fail(t.status());
    s.respond_by = *t;
  }
  auto id = o->channel->Send(s);
  if (!id.ok()) return Fail(id.status());
  auto d = o->channel->DeliveryOf(*id);
  if (!d.ok()) return Fail(d.status());
  if (d->delivered_at != 0) {
    std::cout << "sent to " << f.to << ": delivered\n";
  } else {
    std::cout << "sent to " << f.to << ": queued (" << d->last_error
              << "); `accord serve` retries it\n";
  }
  std::cout << *id << "\n";
  return 0;
}

int RequestList(const Globals& g, const RequestFlags& f) {
  auto o = OpenChannel(g);
  if (!o.ok()) return Fail(o.status());
  std::optional<requests::State> state;
  if (!f.state.empty()) {
    auto s = requests::ParseState(f.state);
    if (!s.ok()) return Fail(s.status());
    state = *s;
  }
  auto views = ReadViews(*o);
  if (!views.ok()) return Fail(views.status());
  nlohmann::json out = nlohmann::json::array();
  for (const requests::View& v : *views) {
    if (state && v.history.state != *state) continue;
    if (f.overdue && !v.overdue.ack && !v.overdue.response) continue;
    if (f.json) {
      out.push_back(ViewJson(v));
      continue;
    }
    const requests::Request& r = v.history.request;
    std::cout << r.id << "  " << (v.outgoing ? "to   " : "from ") << v.peer << "  "
              << requests::Name(r.urgency) << " " << requests::Name(r.kind) << "  "
              << requests::Name(v.history.state) << "  ack by " << StampOrEmpty(r.ack_by) << "  \""
              << r.subject << "\"";
    const std::string flags = Flags(v);
    if (!flags.empty()) std::cout << "  " << flags;
    std::cout << "\n";
  }
  if (f.json) std::cout << out.dump() << "\n";
  return o->egress->Finish(policy::Exit::kListJson);
}

int RequestShow(const Globals& g, const RequestFlags& f) {
  auto o = OpenChannel(g);
  if (!o.ok()) return Fail(o.status());
  auto views = ReadViews(*o);
  if (!views.ok()) return Fail(views.status());
  for (const requests::View& v : *views) {
    const requests::Request& r = v.history.request;
    if (r.id != f.id) continue;
    if (f.json) {
      std::cout << ViewJson(v).dump() << "\n";
      return o->egress->Finish(policy::Exit::kListJson);
    }
    std::cout << r.id << "\n"
              << "  " << (v.outgoing ? "to:   " : "from: ") << v.peer << "\n"
              << "  kind: " << requests::Name(r.kind) << ", urgency " << requests::Name(r.urgency)
              << "\n  subject: " << r.subject << "\n";
    if (!r.description.empty()) std::cout << "  description: " << r.description << "\n";
    if (!r.action.empty()) std::cout << "  action requested: " << r.action << "\n";
    for (const std::string& ref : r.object_refs) std::cout << "  about: " << ref << "\n";
    std::cout << "  state: " << requests::Name(v.history.state) << "\n"
              << "  acknowledge by: " << StampOrEmpty(r.ack_by)
              << (v.overdue.ack ? "  OVERDUE" : "") << "\n"
              << "  answer by: " << StampOrEmpty(r.respond_by)
              << (v.overdue.response ? "  OVERDUE" : "") << "\n";
    if (const requests::Contact* c = Responsible(v)) {
      std::cout << "  responsible: " << c->name << " <" << c->email << ">"
                << (c->phone.empty() ? "" : " " + c->phone)
                << (v.overdue.escalation ? common::Cat(" (escalated ", v.overdue.escalation, " of ",
                                                       v.contacts.size() - 1, ")")
                                         : std::string())
                << "\n";
    }
    std::cout << "  history:\n    " << StampOrEmpty(r.created) << "  sent by " << r.sender;
    // How an object this node made was delivered ("" for the peer's objects).
    auto delivery = [&v](const std::string& object_id) -> std::string {
      auto d = v.delivery.find(object_id);
      if (d == v.delivery.end()) return "";
      return d->second.delivered_at ? "  (delivered " + StampOrEmpty(d->second.delivered_at) + ")"
                                    : "  (not delivered yet: " + d->second.last_error + ")";
    };
    std::cout << delivery(r.id) << "\n";
    for (const requests::Step& s : v.history.steps) {
      std::cout << "    " << StampOrEmpty(s.at) << "  " << requests::Name(s.state) << " by "
                << s.by;
      std::cout << delivery(s.id);
      if (!s.text.empty()) std::cout << "\n      " << s.text;
      std::cout << "\n";
    }
    for (const auto& x : v.history.refused) {
      std::cout << "  refused step " << x.step.id << ": " << x.reason << "\n";
    }
    return o->egress->Finish(policy::Exit::kListJson);
  }
  return Fail(absl::NotFoundError(common::Cat("no request ", f.id, " is held here")));
}

int RequestStep(const Globals& g, const RequestFlags& f, requests::State state) {
  if ((state == requests::State::kAnswered || state == requests::State::kDeclined) &&
      f.text.empty()) {
    return Fail(absl::InvalidArgumentError("--text is required: the answer or the reason"));
  }
  auto o = OpenChannel(g);
  if (!o.ok()) return Fail(o.status());
  auto step = o->channel->Take(f.id, state, f.text);
  if (!step.ok()) return Fail(step.status());
  std::cout << requests::Name(state) << ": " << f.id << " (" << step->id << ")\n";
  return 0;
}

int RequestCheck(const Globals& g) {
  auto o = OpenChannel(g);
  if (!o.ok()) return Fail(o.status());
  auto round = o->channel->RunRound(true);
  if (!round.ok()) return Fail(round.status());
  std::cout << "delivered " << round->delivered << ", pending " << round->pending << ", flagged "
            << round->flagged << ", pings " << round->pings << "\n";
  for (const std::string& e : round->errors) std::cout << "  not delivered: " << e << "\n";
  return 0;
}

int PeerResponsiveness(const Globals& g, bool json) {
  auto o = OpenChannel(g);
  if (!o.ok()) return Fail(o.status());
  auto r = o->channel->PeerResponsiveness();
  if (!r.ok()) return Fail(r.status());
  auto secs = [](common::Micros us) { return static_cast<double>(us) / 1e6; };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [peer, x] : *r) {
    if (json) {
      out.push_back({{"peer", peer},
                     {"requests", x.requests},
                     {"acknowledged", x.acknowledged},
                     {"answered", x.answered},
                     {"late", x.late},
                     {"ack_median_s", secs(x.ack_median)},
                     {"ack_worst_s", secs(x.ack_worst)},
                     {"answer_median_s", secs(x.answer_median)},
                     {"answer_worst_s", secs(x.answer_worst)}});
      continue;
    }
    std::cout << peer << "  requests " << x.requests << ", acknowledged " << x.acknowledged
              << ", answered " << x.answered << ", late " << x.late << "; ack median "
              << secs(x.ack_median) << " s, worst " << secs(x.ack_worst) << " s; answer median "
              << secs(x.answer_median) << " s, worst " << secs(x.answer_worst) << " s\n";
  }
  if (json) std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

void MountRequestChannel(http::Router& router, const std::string& api_root,
                         requests::Channel* channel) {
  http::RouteOptions options;
  options.max_body_bytes = requests::kMaxInboxBytes;
  // Only a peer delivers: anyone else is refused on the request's head, before its body.
  options.check_head = [](http::RequestContext& ctx, http::Response& res) {
    if (!ctx.principal.anonymous() && ctx.principal.role == http::Role::kPeer) {
      return http::Next::kContinue;
    }
    res = ctx.Error(ctx.principal.anonymous() ? 401 : 403, "Forbidden",
                    "only a peer of this node delivers requests");
    return http::Next::kAnswered;
  };
  router.Add(
      "POST", common::Cat("/", api_root, "/", requests::kInboxPath),
      [channel](http::RequestContext& ctx, http::Response& res) {
        if (ctx.principal.anonymous() || ctx.principal.role != http::Role::kPeer) {
          res = ctx.Error(403, "Forbidden", "only a peer of this node delivers requests");
          return;
        }
        requests::Channel::Answer a = channel->Receive(ctx.principal.user, ctx.request.body);
        res.status = a.status;
        res.body = std::move(a.body);
        res.SetHeader("Content-Type", "application/json");
      },
      options);
}

void RegisterRequestCommands(CLI::App& app, Globals* g, int* exit_code) {
  auto* req = app.add_subcommand("request",
                                 "Points-of-contact requests to and from peers (docs/REQUESTS.md)");
  req->require_subcommand(1);
  auto f = std::make_shared<RequestFlags>();
  auto* send = req->add_subcommand("send", "Send a request to a peer; prints its id last");
  AddDataOption(send, g);
  send->add_option("--to", f->to, "The peer addressed")->required();
  send->add_option("--kind", f->kind,
                   "notification, request-for-assistance, request-for-information, "
                   "consultation or ping (default notification)");
  send->add_option("--urgency", f->urgency, "routine, high or critical (default routine)");
  send->add_option("--subject", f->subject, "One line")->required();
  send->add_option("--description", f->description, "The details");
  send->add_option("--action", f->action, "What is asked of the addressee");
  send->add_option("--about", f->about, "A STIX object it concerns (repeatable)");
  send->add_option("--tlp", f->tlp, "clear, green, amber (default), amber+strict or red");
  send->add_option("--ack-by", f->ack_by, "Acknowledge by: RFC 3339, or \"+2h\" from now");
  send->add_option("--respond-by", f->respond_by, "Answer by: RFC 3339, or \"+1d\" from now");
  send->callback([g, f, exit_code] { *exit_code = RequestSend(*g, *f); });

  auto* list = req->add_subcommand("list", "Requests sent and received, newest first");
  AddDataOption(list, g);
  list->add_flag("--overdue", f->overdue, "Only those overdue");
  list->add_option("--state", f->state, "Only those in this state");
  list->add_flag("--json", f->json, "Machine-readable output");
  list->callback([g, f, exit_code] { *exit_code = RequestList(*g, *f); });

  auto* show = req->add_subcommand("show", "One request with its whole history");
  AddDataOption(show, g);
  show->add_option("id", f->id, "The request's id")->required();
  show->add_flag("--json", f->json, "Machine-readable output");
  show->callback([g, f, exit_code] { *exit_code = RequestShow(*g, *f); });

  struct StepCmd {
    const char* name;
    const char* help;
    requests::State state;
    bool text_required;
  };
  for (const StepCmd& c :
       {StepCmd{"ack", "Acknowledge a request received", requests::State::kAcknowledged, false},
        StepCmd{"reply", "Answer a request received", requests::State::kAnswered, true},
        StepCmd{"decline", "Decline a request received", requests::State::kDeclined, true},
        StepCmd{"close", "Close a request this node sent", requests::State::kClosed, false}}) {
    auto* cmd = req->add_subcommand(c.name, c.help);
    AddDataOption(cmd, g);
    cmd->add_option("id", f->id, "The request's id")->required();
    auto* text = cmd->add_option("--text", f->text, "The answer, the reason, or a remark");
    if (c.text_required) text->required();
    const requests::State state = c.state;
    cmd->callback([g, f, exit_code, state] { *exit_code = RequestStep(*g, *f, state); });
  }

  auto* check = req->add_subcommand(
      "check",
      "One round now: deliver what is pending, flag overdue requests, send pings that are due "
      "(`accord serve` runs one every [federation] request_interval)");
  AddDataOption(check, g);
  check->add_flag("--json", f->json, "Ignored (the summary is one line)");
  check->callback([g, exit_code] { *exit_code = RequestCheck(*g); });

  for (CLI::App* peer :
       app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "peer"; })) {
    auto* resp = peer->add_subcommand(
        "responsiveness",
        "Per peer: how fast its contacts acknowledge and answer this node's requests");
    AddDataOption(resp, g);
    resp->add_flag("--json", f->json, "Machine-readable output");
    resp->callback([g, f, exit_code] { *exit_code = PeerResponsiveness(*g, f->json); });
  }
}

}  // namespace accord::cli
