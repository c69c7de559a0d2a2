// The request channel (include/accord/requests/channel.h; docs/REQUESTS.md "Delivery").
#include "accord/requests/channel.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/federation/agreement.h"
#include "accord/federation/config.h"
#include "accord/federation/node.h"
#include "accord/federation/peers.h"
#include "accord/federation/signature.h"
#include "accord/ingest/ingest.h"
#include "accord/policy/tlp.h"
#include "accord/taxii/client.h"

namespace accord::requests {

namespace {

using Json = nlohmann::json;
constexpr common::Micros kMilli = 1000;

// A request and the steps held for it.
struct Thread {
  std::optional<Request> request;
  std::string request_json;
  std::vector<Step> steps;
  std::map<std::string, std::string> step_json;  // by step id
};

std::string CreatorOf(const Json& o) {
  auto it = o.find("created_by_ref");
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The requests and steps among `objects`, by request id. Objects that do not read back are
// left out (the ingest path stored only what validated; this is a second line).
std::map<std::string, Thread> Group(const std::vector<store::StoredObject>& objects) {
  std::map<std::string, Thread> out;
  for (const store::StoredObject& o : objects) {
    if (o.type == kRequestType) {
      absl::StatusOr<Request> r = RequestFromStix(o.json);
      if (!r.ok()) continue;
      Thread& t = out[r->id];
      t.request_json = o.json;
      t.request = *std::move(r);
    } else if (o.type == kStepType) {
      absl::StatusOr<Step> s = StepFromStix(o.json);
      if (!s.ok()) continue;
      Thread& t = out[s->request];
      t.step_json[s->id] = o.json;
      t.steps.push_back(*std::move(s));
    }
  }
  return out;
}

// Delivery records: one setting per object this node made.
std::string DeliveryKey(const std::string& id) { return "request.delivery." + id; }
// When a step the peer took arrived here (this node's clock, microseconds).
std::string ArrivalKey(const std::string& id) { return "request.arrived." + id; }
// How far ahead of this node's clock a peer's step may be dated.
constexpr common::Micros kMaxSkew = 15LL * 60 * 1000000;

Delivery ParseDelivery(const std::optional<std::string>& text) {
  Delivery d;
  if (!text) return d;
  Json j = Json::parse(*text, nullptr, false);
  if (!j.is_object()) return d;
  auto number = [&j](const char* key) -> int64_t {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  d.delivered_at = number("delivered_at");
  d.attempts = static_cast<int>(std::clamp<int64_t>(number("attempts"), 0, 1 << 20));
  d.next_attempt = number("next_attempt");
  auto error = j.find("last_error");
  if (error != j.end() && error->is_string()) d.last_error = error->get<std::string>();
  return d;
}

std::string FormatDelivery(const Delivery& d) {
  return Json{{"delivered_at", d.delivered_at},
              {"attempts", d.attempts},
              {"next_attempt", d.next_attempt},
              {"last_error", d.last_error}}
      .dump();
}

// The counterpart an object this node made goes to.
std::string AddresseeOf(const Json& o, std::string_view type) {
  auto it = o.find(type == kRequestType ? "addressee_ref" : "to_ref");
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int HttpStatusOf(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    default: return 500;
  }
}

// The error resource TAXII uses, so that a client shows the reason.
std::string ErrorBody(int status, const absl::Status& st) {
  return Json{{"title", status == 500 ? "Internal Server Error" : "Request refused"},
              {"http_status", std::to_string(status)},
              {"description", std::string(st.message())}}
      .dump();
}

// Runs `command` by /bin/sh -c with `input` on its standard input (a file in `dir`, removed
// once the child has it open) and ACCORD_EVENT=`event` in its environment; killed after
// `timeout_s`. Returns why it failed, if it did.
absl::Status RunCommand(const std::string& command, const std::string& event,
                        const std::string& input, const std::string& dir, int timeout_s) {
  const std::string path =
      (std::filesystem::path(dir) / common::Cat(".notify-", ::getpid(), "-", common::NewUuid4()))
          .string();
  {
    std::ofstream f(path, std::ios::binary);
    f << input << "\n";
    if (!f) return absl::InternalError(common::Cat("cannot write ", path));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, path.c_str(), O_RDONLY, 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("ACCORD_EVENT=", 0) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back("ACCORD_EVENT=" + event);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // the child has it open (posix_spawn returned)
  if (rc != 0) return absl::InternalError(common::Cat("cannot run /bin/sh: ", std::strerror(rc)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(common::Cat("killed after ", timeout_s, " s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::UnknownError(common::Cat("exited with status ", WEXITSTATUS(status)));
  }
  return absl::OkStatus();
}

Json DeliveryContactJson(const Contact& c) {
  return Json{{"name", c.name}, {"email", c.email}, {"phone", c.phone}};
}

}  // namespace

struct Channel::Impl {
  store::Store* store = nullptr;
  Options o;
  federation::NodeInfo node;
  std::string secret;
  std::mutex round_mu;   // one round (delivery, deadlines, pings) at a time
  std::mutex write_mu;   // a received request and its "received" step are checked and stored once
  std::mutex notify_mu;  // one notification at a time
  std::mutex events_mu;  // guards `events`
  std::deque<std::pair<std::string, Json>> events;  // (event, details) waiting for Notify()

  void Event(const std::string& name, Json details) {
    details["event"] = name;
    std::lock_guard<std::mutex> l(events_mu);
    if (events.size() < 10000) events.emplace_back(name, std::move(details));
  }

  common::Micros Now() const { return o.clock->Now(); }

  // Every request and step held here (internal: what leaves is gated by the callers).
  absl::StatusOr<std::vector<store::StoredObject>> Held() {
    std::vector<store::StoredObject> out;
    store::Query q;
    q.collection = std::string(policy::kRequestsCollection);
    q.types = {std::string(kRequestType), std::string(kStepType)};
    q.versions = store::VersionSelect::kAll;
    q.limit = 1000;
    while (true) {
      absl::StatusOr<store::Page> page = store->List(q);
      if (!page.ok() && page.status().code() == absl::StatusCode::kNotFound) return out;
      if (!page.ok()) return page.status();
      for (store::StoredObject& so : page->objects) out.push_back(std::move(so));
      if (!page->more) return out;
      q.cursor = page->next;
    }
  }

  // Every contact known here (the node's own, and those peers shared), in any collection.
  absl::StatusOr<std::vector<Contact>> Contacts() {
    std::vector<Contact> out;
    store::Query q;
    q.types = {"identity"};
    q.limit = 1000;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(store::Page page, store->List(q));
      for (const store::StoredObject& so : page.objects) {
        absl::StatusOr<Contact> c = ContactFromStix(so.json);
        if (c.ok()) out.push_back(*std::move(c));
      }
      if (!page.more) return out;
      q.cursor = page.next;
    }
  }

  absl::Status Audit(audit::Entry e) {
    if (o.audit == nullptr) return absl::OkStatus();
    e.collection = std::string(policy::kRequestsCollection);
    return o.audit->Append(std::move(e)).status();
  }

  absl::Status Refused(const std::string& peer, std::string_view id, const absl::Status& why) {
    std::cerr << "accord: request channel: refused " << (id.empty() ? "an object" : id)
              << " from peer " << peer << ": " << why.message() << "\n";
    audit::Entry e;
    e.actor = "peer:" + peer;
    e.action = "request.refused";
    e.peer = peer;
    e.detail = common::Cat(id.empty() ? std::string_view("an object") : id, ": ", why.message());
    return Audit(std::move(e));
  }

  // Stores signed objects in one transaction through the ingest path.
  absl::Status Store(const std::vector<std::string>& jsons, const std::string& entry_point,
                     const std::string& principal) {
    ingest::Options opts;
    opts.collection = std::string(policy::kRequestsCollection);
    opts.origin.entry_point = entry_point;
    opts.origin.principal = principal;
    opts.strict = true;
    opts.audit = o.audit;
    ingest::Import run(store, opts);
    std::string text;
    for (const std::string& j : jsons) common::Append(&text, j, "\n");
    auto src = ingest::BufferSource("request channel", text);  // reads `text` in place
    ACCORD_RETURN_IF_ERROR(run.Add(*src));
    ACCORD_ASSIGN_OR_RETURN(ingest::Result r, run.Finish());
    if (!r.committed || r.checked.rejected > 0) {
      std::string why = r.not_committed_why;
      for (const auto& p : r.checked.problems) common::Append(&why, "; ", p.ToString());
      return absl::InvalidArgumentError(common::Cat("not stored: ", why));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Sign(const std::string& json) {
    return federation::Sign(json, node.identity, secret);
  }

  // The peer whose identity is `identity`; NotFound when it is none.
  absl::StatusOr<federation::Peer> PeerByIdentity(const std::string& identity) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(*store));
    for (federation::Peer& p : peers) {
      if (p.identity == identity) return std::move(p);
    }
    return absl::NotFoundError(common::Cat("no peer has the identity ", identity));
  }

  // OK when `json` is signed by `peer` with the key it was added with.
  static absl::Status SignedBy(std::string_view json, const federation::Peer& peer) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<federation::Signature> sig,
                            federation::FindSignature(json));
    if (!sig) return absl::PermissionDeniedError("it is not signed");
    if (sig->signer != peer.identity) {
      return absl::PermissionDeniedError(
          common::Cat("it is signed by ", sig->signer, ", not by the peer ", peer.identity));
    }
    absl::Status v = federation::Verify(json, peer.public_key);
    if (!v.ok()) {
      return absl::PermissionDeniedError(
          common::Cat("its signature does not verify with the peer's key: ", v.message()));
    }
    return absl::OkStatus();
  }

  // A step `peer` made and delivered (to the inbox, or in the answer to a delivery): checked
  // and stored, or refused (and logged) with the reason.
  absl::Status AcceptStep(const federation::Peer& peer, std::string_view json) {
    absl::Status signed_ok = SignedBy(json, peer);
    absl::StatusOr<Step> s = StepFromStix(json);
    const std::string id = s.ok() ? s->id : std::string();
    absl::Status st = !signed_ok.ok() ? signed_ok : s.status();
    if (st.ok() && s->by != peer.identity) {
      st = absl::PermissionDeniedError(
          common::Cat("it is made by ", s->by, ", not by the peer ", peer.identity));
    }
    if (st.ok() && s->at > Now() + kMaxSkew) {
      st = absl::InvalidArgumentError(
          common::Cat("it is dated ", common::FormatTimestampMillis(s->at), ", more than ",
                      kMaxSkew / 60000000, " minutes after this node's clock"));
    }
    if (st.ok() && s->to != node.identity) {
      st = absl::PermissionDeniedError(
          common::Cat("it is addressed to ", s->to, ", not to this node ", node.identity));
    }
    if (!st.ok()) {
      ACCORD_RETURN_IF_ERROR(Refused(peer.name, id, st));
      return st;
    }
    std::lock_guard<std::mutex> l(write_mu);
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> held, Held());
    std::map<std::string, Thread> threads = Group(held);
    auto t = threads.find(s->request);
    if (t == threads.end() || !t->second.request) {
      // Not refused: the request may still be on its way (it is delivered first).
      return absl::NotFoundError(common::Cat(id, ": no request ", s->request, " is held here"));
    }
    if (t->second.step_json.count(id)) return absl::OkStatus();  // delivered again
    if (t->second.steps.size() >= kMaxStepsPerRequest) {
      return absl::ResourceExhaustedError(common::Cat(
          id, ": request ", s->request, " already holds ", t->second.steps.size(), " steps"));
    }
    History h = Replay(*t->second.request, t->second.steps);
    st = CheckStep(*t->second.request, h.state, *s);
    if (!st.ok()) {
      ACCORD_RETURN_IF_ERROR(Refused(peer.name, id, st));
      return st;
    }
    ACCORD_RETURN_IF_ERROR(Store({std::string(json)}, "request-channel", peer.name));
    // When it arrived, by this node's clock: responsiveness counts from that, not from the
    // time the peer wrote in the step (which a peer could backdate).
    ACCORD_RETURN_IF_ERROR(store->PutSetting(ArrivalKey(id), std::to_string(Now())));
    audit::Entry e;
    e.actor = "peer:" + peer.name;
    e.action = "request.step";
    e.peer = peer.name;
    e.objects.push_back(s->id, s->at);
    e.detail = common::Cat(s->request, " ", Name(s->state), " by ", peer.name);
    ACCORD_RETURN_IF_ERROR(Audit(std::move(e)));
    if (s->state != State::kReceived) {
      Event("request.step", Json{{"request", s->request},
                                 {"peer", peer.name},
                                 {"step", Name(s->state)},
                                 {"text", s->text},
                                 {"subject", t->second.request->subject}});
    }
    return absl::OkStatus();
  }

  // POSTs one object this node made to `peer`'s inbox, through the egress gate. Returns the
  // answer's body.
  absl::StatusOr<std::string> Post(const federation::Peer& peer, const store::StoredObject& obj,
                                   const federation::FederationConfig& config) {
    const policy::Audience to = policy::Audience::Peer(peer.name);
    ACCORD_RETURN_IF_ERROR(o.gate->CheckExit(to, policy::Exit::kRequestChannel));
    policy::Decision d = o.gate->Admit(obj, to, policy::Exit::kRequestChannel);
    if (d.verdict != policy::Decision::Verdict::kAllow) {
      return absl::PermissionDeniedError(
          common::Cat("withheld by the egress gate (", d.reason, ")"));
    }
    taxii::ClientOptions co;
    absl::StatusOr<std::string> key = federation::PeerApiKey(o.data_dir, peer.name);
    if (key.ok()) co.key = *key;
    ACCORD_ASSIGN_OR_RETURN(co.ca_file, federation::PeerCaFile(o.data_dir, peer));
    co.timeout_s = config.request_timeout_s;
    co.connect_timeout_s = std::min<int64_t>(config.request_timeout_s, 10);
    co.max_response_bytes = 4 * kMaxInboxBytes;
    co.retries = 0;
    co.cancel = o.cancel;
    taxii::Client client(co);
    std::string url = peer.url;
    if (url.empty() || url.back() != '/') url += '/';
    url += kInboxPath;
    ACCORD_ASSIGN_OR_RETURN(taxii::HttpResult r, client.Request("POST", url, obj.json));
    if (r.status != 200) {
      Json j = Json::parse(r.body, nullptr, false);
      std::string why = j.is_object() && j.contains("description") && j["description"].is_string()
                            ? j["description"].get<std::string>()
                            : r.body.substr(0, 200);
      return absl::UnavailableError(common::Cat(url, " answered ", r.status, ": ", why));
    }
    audit::Entry e;
    e.actor = "node";
    e.action = "egress";
    e.exit = std::string(policy::ExitName(policy::Exit::kRequestChannel));
    e.peer = peer.name;
    e.objects.push_back(obj.id, obj.modified);
    ACCORD_RETURN_IF_ERROR(Audit(std::move(e)));
    return std::move(r.body);
  }

  // Delivers what this node made and the other party does not have yet, oldest first, each
  // peer's in order (a step never overtakes its request). `all`: also what waits out its
  // back-off; `only`: one peer's identity.
  absl::Status Deliver(bool all, const std::string& only, Round* round) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> held, Held());
    std::vector<std::pair<std::string, const store::StoredObject*>> mine;  // (to, object)
    for (const store::StoredObject& so : held) {
      Json j = Json::parse(so.json, nullptr, false);
      if (!j.is_object() || CreatorOf(j) != node.identity) continue;
      std::string to = AddresseeOf(j, so.type);
      if (to.empty() || (!only.empty() && to != only)) continue;
      mine.emplace_back(std::move(to), &so);
    }
    std::stable_sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
      return a.second->modified != b.second->modified ? a.second->modified < b.second->modified
                                                      : a.second->id < b.second->id;
    });
    if (mine.empty()) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(federation::FederationConfig config,
                            federation::LoadFederationConfig(o.data_dir));
    ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peer_list, federation::ListPeers(*store));
    std::map<std::string, const federation::Peer*> peers;  // by identity
    for (const federation::Peer& p : peer_list) peers[p.identity] = &p;
    std::set<std::string> stopped;  // peers that failed this round
    const common::Micros now_sys = common::NowMicros();
    for (const auto& [to, obj] : mine) {
      ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> rec,
                              store->GetSetting(DeliveryKey(obj->id)));
      Delivery d = ParseDelivery(rec);
      if (d.delivered_at != 0) continue;
      if (stopped.count(to) || (!all && d.next_attempt > now_sys)) {
        stopped.insert(to);
        ++round->pending;
        continue;
      }
      auto found = peers.find(to);
      const federation::Peer* peer = found != peers.end() ? found->second : nullptr;
      absl::StatusOr<std::string> answer =
          peer ? Post(*peer, *obj, config)
               : absl::NotFoundError(common::Cat("no peer has the identity ", to));
      if (answer.ok()) {
        d.delivered_at = Now();
        d.last_error.clear();
        ACCORD_RETURN_IF_ERROR(store->PutSetting(DeliveryKey(obj->id), FormatDelivery(d)));
        ++round->delivered;
        // A new request is answered with the addressee's "received" step.
        Json a = Json::parse(*answer, nullptr, false);
        if (a.is_object() && a.contains("received") && a["received"].is_string()) {
          absl::Status st = AcceptStep(*peer, a["received"].get<std::string>());
          if (!st.ok()) {
            std::cerr << "accord: request channel: the receipt of " << obj->id << " from "
                      << peer->name << " was not kept: " << st.message() << "\n";
          }
        }
        continue;
      }
      ++d.attempts;
      d.last_error = std::string(answer.status().message());
      // Back-off: 1 s doubling to 5 minutes.
      const int64_t wait_s = std::min<int64_t>(int64_t{1} << std::min(d.attempts - 1, 9), 300);
      d.next_attempt = now_sys + wait_s * 1000000;
      ACCORD_RETURN_IF_ERROR(store->PutSetting(DeliveryKey(obj->id), FormatDelivery(d)));
      round->errors.push_back(common::Cat(peer ? peer->name : to, ": ", d.last_error));
      stopped.insert(to);
      ++round->pending;
    }
    return absl::OkStatus();
  }

  // The addressee's contacts in escalation order as at the request's creation.
  static std::vector<Contact> ContactsFor(const std::vector<Contact>& all, const Request& r) {
    return EscalationOrder(all, r.addressee, r.created);
  }

  // Flags what became overdue or escalated since the last round, once each.
  absl::Status CheckDeadlines(Round* round) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> held, Held());
    std::map<std::string, Thread> threads = Group(held);
    ACCORD_ASSIGN_OR_RETURN(std::vector<Contact> contacts, Contacts());
    const common::Micros now = Now();
    for (auto& [id, t] : threads) {
      if (!t.request) continue;
      History h = Replay(*t.request, t.steps);
      std::vector<Contact> cs = ContactsFor(contacts, h.request);
      Overdue od = CheckOverdue(h, now, std::max<size_t>(1, cs.size()));
      const std::string key = "request.overdue." + id;
      const std::string value = common::Cat(od.ack, ",", od.response, ",", od.escalation);
      ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> was, store->GetSetting(key));
      if (was.value_or("false,false,0") == value) continue;
      ACCORD_RETURN_IF_ERROR(store->PutSetting(key, value));
      if (!od.ack && !od.response) continue;
      std::string detail = common::Cat(
          id, " (", Name(h.request.kind), ", ", Name(h.request.urgency), ", \"", h.request.subject,
          "\"): ", od.ack ? "acknowledgement" : "answer", " overdue since ",
          common::FormatTimestampMillis(od.ack ? h.request.ack_by : h.request.respond_by));
      if (od.ack && od.escalation < cs.size()) {
        const Contact& c = cs[od.escalation];
        common::Append(&detail, "; now with ", c.name, " <", c.email, ">",
                       c.phone.empty() ? std::string() : " " + c.phone, " (contact ",
                       od.escalation + 1, " of ", cs.size(), ")");
      }
      std::cerr << "accord: request channel: " << detail << "\n";
      Json ev{{"request", id},
              {"kind", Name(h.request.kind)},
              {"urgency", Name(h.request.urgency)},
              {"subject", h.request.subject},
              {"outgoing", h.request.sender == node.identity},
              {"ack_overdue", od.ack},
              {"answer_overdue", od.response},
              {"escalation", od.escalation},
              {"detail", detail}};
      ev["contact"] =
          od.ack && od.escalation < cs.size() ? DeliveryContactJson(cs[od.escalation]) : Json();
      Event(od.escalation > 0 ? "request.escalate" : "request.overdue", std::move(ev));
      audit::Entry e;
      e.actor = "node";
      e.action = od.escalation > 0 ? "request.escalate" : "request.overdue";
      e.objects.push_back(id, h.request.created);
      e.detail = std::move(detail);
      ACCORD_RETURN_IF_ERROR(Audit(std::move(e)));
      ++round->flagged;
    }
    return absl::OkStatus();
  }
};

Channel::Channel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Channel::~Channel() = default;

absl::StatusOr<std::unique_ptr<Channel>> Channel::Open(store::Store* store, Options options) {
  if (options.gate == nullptr) return absl::InvalidArgumentError("the channel needs the gate");
  auto impl = std::make_unique<Impl>();
  impl->store = store;
  if (options.clock == nullptr) options.clock = &NodeClock();
  impl->o = std::move(options);
  ACCORD_ASSIGN_OR_RETURN(std::optional<federation::NodeInfo> node, federation::LoadNode(*store));
  if (!node) {
    return absl::FailedPreconditionError(
        "requests are made and signed by this node: run `accord node init --name NAME` first");
  }
  impl->node = *std::move(node);
  ACCORD_ASSIGN_OR_RETURN(impl->secret, federation::LoadSecretKeyFor(impl->node, impl->o.data_dir));
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

absl::StatusOr<std::string> Channel::Send(const SendOptions& o) {
  Impl& m = *impl_;
  ACCORD_ASSIGN_OR_RETURN(federation::Peer peer, federation::GetPeer(*m.store, o.peer));
  std::optional<policy::Tlp> tlp = policy::ParseTlpName(o.tlp);
  if (!tlp) {
    return absl::InvalidArgumentError(
        common::Cat("--tlp '", o.tlp, "': expected clear, green, amber, amber+strict or red"));
  }
  Request r;
  r.id = common::Cat(kRequestType, "--", common::NewUuid4());
  r.kind = o.kind;
  r.urgency = o.urgency;
  r.subject = o.subject;
  r.description = o.description;
  r.action = o.action;
  r.object_refs = o.about;
  r.marking_ref = std::string(policy::TlpMarkingId(*tlp));
  r.sender = m.node.identity;
  r.addressee = peer.identity;
  r.created = m.Now() / kMilli * kMilli;
  // Deadlines: the agreement's [deadlines] for this kind and urgency, else the defaults.
  WindowOverrides overrides;
  ACCORD_ASSIGN_OR_RETURN(std::optional<federation::Agreement> agreement,
                          federation::CurrentAgreement(*m.store, peer.name));
  if (agreement) {
    auto it = agreement->deadlines.find(common::Cat(Name(o.kind), ".", Name(o.urgency)));
    if (it != agreement->deadlines.end()) {
      overrides[{o.kind, o.urgency}] =
          Windows{it->second.ack_s * 1000000, it->second.respond_s * 1000000};
    }
  }
  const Windows w = WindowsFor(o.kind, o.urgency, overrides);
  r.ack_by = o.ack_by.value_or(r.created + w.ack);
  r.respond_by = o.respond_by.value_or(std::max(r.created + w.respond, r.ack_by));
  if (r.ack_by <= r.created) {
    return absl::InvalidArgumentError(
        common::Cat("--ack-by ", common::FormatTimestampMillis(r.ack_by), " is not in the future"));
  }
  if (r.respond_by < r.ack_by) {
    return absl::InvalidArgumentError("--respond-by must not be before --ack-by");
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<Contact> contacts, m.Contacts());
  std::vector<Contact> theirs = EscalationOrder(contacts, r.addressee, r.created);
  if (!theirs.empty()) r.addressee_contact = theirs.front().id;
  std::vector<Contact> ours = EscalationOrder(contacts, r.sender, r.created);
  if (!ours.empty()) r.sender_contact = ours.front().id;
  const std::string json = ToStix(r);
  ACCORD_RETURN_IF_ERROR(RequestFromStix(json).status());  // a subject, ids that read back
  ACCORD_ASSIGN_OR_RETURN(std::string signed_json, m.Sign(json));
  ACCORD_RETURN_IF_ERROR(m.Store({signed_json}, "request-send", m.o.actor));
  audit::Entry e;
  e.actor = m.o.actor;
  e.action = "request.send";
  e.peer = peer.name;
  e.objects.push_back(r.id, r.created);
  e.detail = common::Cat(Name(r.kind), ", ", Name(r.urgency), ", \"", r.subject, "\", ack by ",
                         common::FormatTimestampMillis(r.ack_by), ", respond by ",
                         common::FormatTimestampMillis(r.respond_by));
  ACCORD_RETURN_IF_ERROR(m.Audit(std::move(e)));
  std::lock_guard<std::mutex> l(m.round_mu);
  Round round;
  ACCORD_RETURN_IF_ERROR(m.Deliver(true, peer.identity, &round));
  return r.id;
}

absl::StatusOr<Step> Channel::Take(const std::string& id, State state, const std::string& text,
                                   const std::string& actor) {
  const std::string& who = actor.empty() ? impl_->o.actor : actor;
  Impl& m = *impl_;
  std::string peer_identity;
  Step s;
  {
    std::lock_guard<std::mutex> l(m.write_mu);
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> held, m.Held());
    std::map<std::string, Thread> threads = Group(held);
    auto t = threads.find(id);
    if (t == threads.end() || !t->second.request) {
      return absl::NotFoundError(common::Cat("no request ", id, " is held here"));
    }
    const Request& r = *t->second.request;
    History h = Replay(r, t->second.steps);
    s.id = common::Cat(kStepType, "--", common::NewUuid4());
    s.request = r.id;
    s.state = state;
    s.by = m.node.identity;
    s.to = r.sender == m.node.identity ? r.addressee : r.sender;
    s.text = text;
    s.marking_ref = r.marking_ref;
    // After everything before it, so that replay keeps the order it was taken in.
    common::Micros at = std::max(m.Now() / kMilli * kMilli, r.created + kMilli);
    for (const Step& prev : h.steps) at = std::max(at, prev.at + kMilli);
    s.at = at;
    ACCORD_RETURN_IF_ERROR(CheckStep(r, h.state, s));
    ACCORD_ASSIGN_OR_RETURN(std::string signed_json, m.Sign(ToStix(s)));
    ACCORD_RETURN_IF_ERROR(m.Store({signed_json}, "request-step", who));
    peer_identity = s.to;
    absl::StatusOr<federation::Peer> peer = m.PeerByIdentity(s.to);
    audit::Entry e;
    e.actor = who;
    e.action = common::Cat("request.", Name(state));
    if (peer.ok()) e.peer = peer->name;
    e.objects.push_back(s.id, s.at);
    e.detail = common::Cat(r.id, " ", Name(state), text.empty() ? "" : ": ", text);
    ACCORD_RETURN_IF_ERROR(m.Audit(std::move(e)));
  }
  std::lock_guard<std::mutex> l(m.round_mu);
  Round round;
  ACCORD_RETURN_IF_ERROR(m.Deliver(true, peer_identity, &round));
  return s;
}

absl::StatusOr<std::vector<View>> Channel::Views(const std::vector<store::StoredObject>& objects) {
  Impl& m = *impl_;
  std::map<std::string, Thread> threads = Group(objects);
  ACCORD_ASSIGN_OR_RETURN(std::vector<Contact> contacts, m.Contacts());
  ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(*m.store));
  const common::Micros now = m.Now();
  std::vector<View> out;
  for (auto& [id, t] : threads) {
    if (!t.request) continue;
    View v;
    v.history = Replay(*t.request, t.steps);
    const Request& r = v.history.request;
    v.outgoing = r.sender == m.node.identity;
    const std::string& other = v.outgoing ? r.addressee : r.sender;
    v.peer = other;
    for (const federation::Peer& p : peers) {
      if (p.identity == other) v.peer = p.name;
    }
    v.contacts = Impl::ContactsFor(contacts, r);
    v.overdue = CheckOverdue(v.history, now, std::max<size_t>(1, v.contacts.size()));
    std::vector<std::string> mine;
    if (v.outgoing) mine.push_back(r.id);
    for (const Step& s : v.history.steps) {
      if (s.by == m.node.identity) mine.push_back(s.id);
    }
    for (const std::string& oid : mine) {
      ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> rec,
                              m.store->GetSetting(DeliveryKey(oid)));
      v.delivery[oid] = ParseDelivery(rec);
    }
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const View& a, const View& b) {
    return a.history.request.created != b.history.request.created
               ? a.history.request.created > b.history.request.created
               : a.history.request.id < b.history.request.id;
  });
  return out;
}

absl::StatusOr<Round> Channel::RunRound(bool all) {
  Impl& m = *impl_;
  Round round;
  {
    std::lock_guard<std::mutex> l(m.round_mu);
    ACCORD_RETURN_IF_ERROR(m.Deliver(all, "", &round));
    ACCORD_RETURN_IF_ERROR(m.CheckDeadlines(&round));
  }
  // Pings on the schedule ([federation] ping_interval), each its own request.
  ACCORD_ASSIGN_OR_RETURN(federation::FederationConfig config,
                          federation::LoadFederationConfig(m.o.data_dir));
  if (config.ping_interval_s > 0) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(*m.store));
    for (const federation::Peer& p : peers) {
      const std::string key = "request.ping." + p.name;
      ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> last, m.store->GetSetting(key));
      const common::Micros now = m.Now();
      if (last && now - std::stoll(*last) < config.ping_interval_s * 1000000) continue;
      SendOptions ping;
      ping.peer = p.name;
      ping.kind = Kind::kPing;
      ping.urgency = Urgency::kRoutine;
      ping.subject = "Communication check";
      ping.tlp = "green";
      ACCORD_RETURN_IF_ERROR(m.store->PutSetting(key, std::to_string(now)));
      ACCORD_RETURN_IF_ERROR(Send(ping).status());
      ++round.pings;
    }
  }
  Notify();
  return round;
}

void Channel::Notify() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> one(m.notify_mu);
  std::optional<absl::StatusOr<federation::FederationConfig>> config;  // read once, if needed
  while (true) {
    std::pair<std::string, Json> ev;
    {
      std::lock_guard<std::mutex> l(m.events_mu);
      if (m.events.empty()) return;
      ev = std::move(m.events.front());
      m.events.pop_front();
    }
    if (!config) config = federation::LoadFederationConfig(m.o.data_dir);
    if (!config->ok() || (*config)->notify_command.empty()) continue;
    absl::Status st =
        RunCommand((*config)->notify_command, ev.first, ev.second.dump(), m.o.data_dir,
                   /*timeout_s=*/10);
    if (!st.ok()) {
      std::cerr << "accord: request channel: notify_command for " << ev.first << " "
                << ev.second.value("request", "") << ": " << st.message() << "\n";
    }
  }
}

Channel::Answer Channel::Receive(const std::string& peer_name, std::string_view body) {
  Impl& m = *impl_;
  auto fail = [](const absl::Status& st) {
    const int status = HttpStatusOf(st);
    return Answer{status, ErrorBody(status, st)};
  };
  absl::StatusOr<federation::Peer> peer = federation::GetPeer(*m.store, peer_name);
  if (!peer.ok()) {
    return fail(absl::PermissionDeniedError(
        common::Cat("'", peer_name, "' is not a peer of this node: only peers deliver requests")));
  }
  if (body.size() > kMaxInboxBytes) {
    return fail(absl::InvalidArgumentError(
        common::Cat("an object of ", body.size(), " bytes; the inbox takes ", kMaxInboxBytes)));
  }
  Json j = Json::parse(body, nullptr, false);
  const std::string type = j.is_object() && j.contains("type") && j["type"].is_string()
                               ? j["type"].get<std::string>()
                               : std::string();
  if (type == kStepType) {
    absl::Status st = m.AcceptStep(*peer, body);
    if (!st.ok()) return fail(st);
    return Answer{200, Json{{"stored", j.value("id", "")}}.dump()};
  }
  if (type != kRequestType) {
    absl::Status st = absl::InvalidArgumentError(
        "the inbox takes one x-accord-request or x-accord-request-step object");
    (void)m.Refused(peer->name, "", st);
    return fail(st);
  }
  absl::StatusOr<Request> r = RequestFromStix(body);
  absl::Status st = Impl::SignedBy(body, *peer);
  if (st.ok()) st = r.status();
  if (st.ok() && r->sender != peer->identity) {
    st = absl::PermissionDeniedError(
        common::Cat("it is sent by ", r->sender, ", not by the peer ", peer->identity));
  }
  if (st.ok() && r->addressee != m.node.identity) {
    st = absl::PermissionDeniedError(
        common::Cat("it is addressed to ", r->addressee, ", not to this node ", m.node.identity));
  }
  if (!st.ok()) {
    absl::Status logged = m.Refused(peer->name, r.ok() ? r->id : std::string(), st);
    return fail(logged.ok() ? st : logged);
  }
  absl::StatusOr<std::string> receipt = [&]() -> absl::StatusOr<std::string> {
    std::lock_guard<std::mutex> l(m.write_mu);
    ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> held, m.Held());
    std::map<std::string, Thread> threads = Group(held);
    auto t = threads.find(r->id);
    const bool known = t != threads.end() && t->second.request.has_value();
    if (known) {
      // Delivered again (the sender did not hear the answer): the same receipt.
      for (const Step& s : t->second.steps) {
        if (s.state == State::kReceived && s.by == m.node.identity) {
          return t->second.step_json.at(s.id);
        }
      }
    } else {
      size_t open = 0;
      for (const auto& [id, other] : threads) {
        if (!other.request || other.request->sender != peer->identity) continue;
        if (Replay(*other.request, other.steps).state != State::kClosed) ++open;
      }
      if (open >= kMaxOpenPerPeer) {
        return absl::ResourceExhaustedError(common::Cat(
            "this peer has ", open, " requests open here; close some before sending more"));
      }
    }
    Step s;
    s.id = common::Cat(kStepType, "--", common::NewUuid4());
    s.request = r->id;
    s.state = State::kReceived;
    s.by = m.node.identity;
    s.to = peer->identity;
    s.marking_ref = r->marking_ref;
    s.at = std::max(m.Now() / kMilli * kMilli, r->created + kMilli);
    ACCORD_ASSIGN_OR_RETURN(std::string step_json, m.Sign(ToStix(s)));
    std::vector<std::string> both;
    if (!known) both.emplace_back(body);
    both.push_back(step_json);
    ACCORD_RETURN_IF_ERROR(m.Store(both, "request-channel", peer->name));
    audit::Entry e;
    e.actor = "peer:" + peer->name;
    e.action = "request.receive";
    e.peer = peer->name;
    e.objects.push_back(r->id, r->created);
    e.objects.push_back(s.id, s.at);
    e.detail = common::Cat(Name(r->kind), ", ", Name(r->urgency), ", \"", r->subject, "\", ack by ",
                           common::FormatTimestampMillis(r->ack_by));
    ACCORD_RETURN_IF_ERROR(m.Audit(std::move(e)));
    if (!known) {
      absl::StatusOr<std::vector<Contact>> contacts = m.Contacts();
      std::vector<Contact> ours = contacts.ok()
                                      ? EscalationOrder(*contacts, m.node.identity, m.Now())
                                      : std::vector<Contact>();
      m.Event("request.received",
              Json{{"request", r->id},
                   {"peer", peer->name},
                   {"kind", Name(r->kind)},
                   {"urgency", Name(r->urgency)},
                   {"subject", r->subject},
                   {"description", r->description},
                   {"action", r->action},
                   {"ack_by", common::FormatTimestampMillis(r->ack_by)},
                   {"respond_by", common::FormatTimestampMillis(r->respond_by)},
                   {"contact", ours.empty() ? Json() : DeliveryContactJson(ours.front())}});
    }
    std::cerr << "accord: request channel: " << Name(r->urgency) << " " << Name(r->kind) << " from "
              << peer->name << ": \"" << r->subject << "\" (" << r->id << "), acknowledge by "
              << common::FormatTimestampMillis(r->ack_by) << "\n";
    return step_json;
  }();
  if (!receipt.ok()) return fail(receipt.status());
  return Answer{200, Json{{"stored", r->id}, {"received", *receipt}}.dump()};
}

absl::StatusOr<Delivery> Channel::DeliveryOf(const std::string& object_id) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> rec,
                          impl_->store->GetSetting(DeliveryKey(object_id)));
  return ParseDelivery(rec);
}

absl::StatusOr<std::map<std::string, Responsiveness>> Channel::PeerResponsiveness() {
  Impl& m = *impl_;
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> held, m.Held());
  std::map<std::string, Thread> threads = Group(held);
  std::vector<History> sent;
  for (auto& [id, t] : threads) {
    if (!t.request || t.request->sender != m.node.identity) continue;
    // The addressee's steps count from when they arrived here, when that is later than the
    // time written in them.
    for (Step& step : t.steps) {
      if (step.by != t.request->addressee) continue;
      ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> arrived,
                              m.store->GetSetting(ArrivalKey(step.id)));
      if (arrived) {
        char* end = nullptr;
        const long long at = std::strtoll(arrived->c_str(), &end, 10);
        if (end != arrived->c_str() && at > step.at) step.at = at;
      }
    }
    sent.push_back(Replay(*t.request, t.steps));
  }
  std::map<std::string, Responsiveness> by_identity = ResponsivenessOf(sent, m.Now());
  ACCORD_ASSIGN_OR_RETURN(std::vector<federation::Peer> peers, federation::ListPeers(*m.store));
  std::map<std::string, Responsiveness> out;
  for (const federation::Peer& p : peers) {
    auto it = by_identity.find(p.identity);
    out[p.name] = it != by_identity.end() ? it->second : Responsiveness{};
  }
  return out;
}

}  // namespace accord::requests
