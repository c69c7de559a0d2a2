// The request channel (issue 14, points 2 to 6; docs/REQUESTS.md "Delivery"): a node's
// requests and steps, stored, signed, delivered to the other party only, received from it,
// checked against their deadlines, and the record of how each peer answers.
//
// - Every request and step is a signed object in the local collection "requests"
//   (policy::kRequestsCollection), which the egress gate never opens to a peer; the gate lets a
//   request or step reach a peer only at policy::Exit::kRequestChannel, when this node made it
//   and it is addressed to that peer.
// - Delivery: each object this node made is POSTed, alone, to the other party's inbox
//   (`POST {its TAXII API root}x-accord/requests/`, authenticated with the API key this node
//   holds for that peer) at once, and again on every round until the peer says it has it. Which
//   objects are delivered is kept in the store, so a restart of either node loses nothing and a
//   redelivery stores nothing twice.
// - Receiving (Receive): a peer may deliver only what it signed with the key it was added
//   with, made by itself, addressed to this node, and (for steps) what the rule (CheckStep)
//   lets that party do next. Anything else is refused with the reason and written to the audit
//   log as "request.refused"; nothing of it is stored. A new request is answered with the
//   "received" step, signed by this node.
// - Deadlines (Check): an overdue request is flagged on both sides, and escalated through the
//   addressee's contacts (deadlines.h); each change is written to the audit log.
// - Notification: what a person must hear of at once (a request received, a step the peer
//   took, a request overdue or escalated) is handed to [federation] notify_command, a pager or
//   mail gateway of the operator's choosing.
//
// Thread safety: a Channel may be used from several threads (the server's inbox and the
// serve loop's rounds); rounds are serialised.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/policy/gate.h"
#include "accord/requests/contact.h"
#include "accord/requests/deadlines.h"
#include "accord/requests/request.h"
#include "accord/store/store.h"

namespace accord::requests {

/// The inbox, relative to a node's TAXII API root URL (which ends in '/').
inline constexpr std::string_view kInboxPath = "x-accord/requests/";
/// The largest object the inbox takes.
inline constexpr uint64_t kMaxInboxBytes = 256 * 1024;
/// Requests from one peer that may be open (not closed) here at once; more are refused.
inline constexpr size_t kMaxOpenPerPeer = 1000;
/// Steps one request may hold (follow-up answers included); more are refused.
inline constexpr size_t kMaxStepsPerRequest = 1000;

struct SendOptions {
  std::string peer;  ///< the addressee, by peer name
  Kind kind = Kind::kNotification;
  Urgency urgency = Urgency::kRoutine;
  std::string subject;
  std::string description;
  std::string action;
  std::vector<std::string> about;  ///< object_refs
  std::string tlp = "amber";       ///< clear, green, amber, amber+strict, red
  std::optional<common::Micros> ack_by, respond_by;
};

/// The delivery of one object this node made.
struct Delivery {
  common::Micros delivered_at = 0;  ///< 0: not yet
  int attempts = 0;                 ///< failed attempts so far
  common::Micros next_attempt = 0;  ///< the serve loop's next try (system time)
  std::string last_error;
};

/// One request as a person sees it.
struct View {
  History history;
  bool outgoing = false;  ///< this node sent it
  std::string peer;       ///< the other party: its peer name, else its identity id
  Overdue overdue;
  /// The addressee's contacts in escalation order (as at the request's creation), and the one
  /// now responsible (overdue.escalation indexes them); empty when none are known here.
  std::vector<Contact> contacts;
  /// The delivery of each object this node made for it, by object id.
  std::map<std::string, Delivery> delivery;
};

/// What one round did.
struct Round {
  int delivered = 0;
  int pending = 0;  ///< objects still to deliver
  int flagged = 0;  ///< overdue or escalation changes written to the audit log
  int pings = 0;
  std::vector<std::string> errors;  ///< one per peer that could not be reached
};

class Channel {
 public:
  struct Options {
    std::string data_dir;
    const Clock* clock = nullptr;  ///< default NodeClock()
    audit::Log* audit = nullptr;   ///< required: every step is recorded
    policy::Gate* gate = nullptr;  ///< required: deliveries pass through it
    std::string actor;             ///< the audit actor of local steps ("operator:NAME")
    const std::atomic<bool>* cancel = nullptr;  ///< stops a delivery in flight
  };
  /// FailedPrecondition before `accord node init`.
  static absl::StatusOr<std::unique_ptr<Channel>> Open(store::Store* store, Options options);
  ~Channel();

  /// Makes, signs and stores a request to `o.peer` and tries to deliver it at once (a failed
  /// delivery is retried by later rounds, not an error). Deadlines: `o`'s, else the agreement's
  /// [deadlines], else the defaults. Returns the request's id.
  absl::StatusOr<std::string> Send(const SendOptions& o);
  /// Takes a step on request `id` (acknowledged, answered, declined by the addressee; closed by
  /// the sender), signed, stored, delivered at once. FailedPrecondition or PermissionDenied
  /// when the rule does not allow it; NotFound for an unknown request. `actor` names who took
  /// it in the audit log (default: Options::actor).
  absl::StatusOr<Step> Take(const std::string& id, State state, const std::string& text,
                            const std::string& actor = "");

  /// The requests among `objects` (requests and steps, as an exit read them), with their
  /// histories, deadlines, contacts and deliveries; newest first.
  absl::StatusOr<std::vector<View>> Views(const std::vector<store::StoredObject>& objects);

  /// Delivers what is pending (`all`: also what waits for its back-off), checks deadlines and
  /// sends the pings that are due.
  absl::StatusOr<Round> RunRound(bool all);

  /// The inbox: `peer` is the authenticated peer (user) name, `body` one object. Returns the
  /// HTTP status and a JSON body.
  struct Answer {
    int status = 200;
    std::string body;
  };
  Answer Receive(const std::string& peer, std::string_view body);

  /// Runs [federation] notify_command for each event waiting (a request received, a step the
  /// peer took, a request overdue or escalated), oldest first, one at a time; RunRound does
  /// it too. `accord serve` calls it every half second.
  void Notify();

  /// The delivery record of an object this node made.
  absl::StatusOr<Delivery> DeliveryOf(const std::string& object_id);

  /// Per peer name, how the requests this node sent to it were answered.
  absl::StatusOr<std::map<std::string, Responsiveness>> PeerResponsiveness();

 private:
  struct Impl;
  explicit Channel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::requests
