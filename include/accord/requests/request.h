// Points-of-contact requests (issue 14; docs/REQUESTS.md): the request, the steps each side
// takes on it, and the rule that decides which step may follow which and who may take it.
//
// A request is a STIX object of a new type, `x-accord-request`, defined by Accord's
// extension-definition kRequestExtension (new-sdo). It is made and signed by the sending node
// and never changed: every later step, by either side, is a linked object of the type
// `x-accord-request-step`, made and signed by the node that took it. A request's state is what
// its steps, replayed in order, make of it (Replay); a step that the rule refuses (taken by the
// wrong node, or out of turn) changes nothing and is reported, so that forged state changes are
// seen and logged, never applied.
//
// Pure functions over values: no store, no network, no clock (deadlines.h has the clock).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"

namespace accord::requests {

/// The extension-definition of both new object types (new-sdo).
inline constexpr std::string_view kRequestExtension =
    "extension-definition--3c7a9e14-6b2d-4f08-9a5e-1d4c8b7f2e63";
inline constexpr std::string_view kRequestType = "x-accord-request";
inline constexpr std::string_view kStepType = "x-accord-request-step";

enum class Kind { kNotification, kAssistance, kInformation, kConsultation, kPing };
enum class Urgency { kRoutine, kHigh, kCritical };
enum class State { kSent, kReceived, kAcknowledged, kAnswered, kDeclined, kClosed };

/// Names as they are written in objects and on the command line: "notification",
/// "request-for-assistance", "request-for-information", "consultation", "ping"; "routine",
/// "high", "critical"; "sent", "received", "acknowledged", "answered", "declined", "closed".
std::string_view Name(Kind kind);
std::string_view Name(Urgency urgency);
std::string_view Name(State state);
/// InvalidArgument naming the accepted values.
absl::StatusOr<Kind> ParseKind(std::string_view s);
absl::StatusOr<Urgency> ParseUrgency(std::string_view s);
absl::StatusOr<State> ParseState(std::string_view s);

struct Request {
  std::string id;  ///< x-accord-request--<uuid>
  Kind kind = Kind::kNotification;
  Urgency urgency = Urgency::kRoutine;
  std::string subject;
  std::string description;
  std::string action;                    ///< what the sender asks for (may be empty)
  std::vector<std::string> object_refs;  ///< the STIX objects it concerns
  std::string marking_ref;               ///< its TLP marking-definition id
  std::string sender;                    ///< the sending node's identity id
  std::string addressee;                 ///< the addressed node's identity id
  std::string sender_contact;            ///< identity ids of contacts; may be empty
  std::string addressee_contact;
  common::Micros created = 0;
  common::Micros ack_by = 0;
  common::Micros respond_by = 0;
};

struct Step {
  std::string id;  ///< x-accord-request-step--<uuid>
  std::string request;
  State state = State::kReceived;
  std::string by;       ///< the node that took the step (its identity id)
  std::string to;       ///< the other party's node, the one it is delivered to
  std::string contact;  ///< the contact who took it (identity id); may be empty
  std::string text;     ///< the answer, the reason for declining, or a remark
  std::string marking_ref;
  common::Micros at = 0;
};

/// The STIX objects (unsigned; the federation layer signs them as the node that made them).
std::string ToStix(const Request& r);
std::string ToStix(const Step& s);
/// Reads them back. InvalidArgument naming the object and the property for a missing or
/// malformed one, an unknown kind, urgency or state, or deadlines before the request.
absl::StatusOr<Request> RequestFromStix(std::string_view json);
absl::StatusOr<Step> StepFromStix(std::string_view json);

/// A request with every step taken on it, replayed.
struct History {
  Request request;
  State state = State::kSent;
  std::vector<Step> steps;  ///< the steps that the rule let through, in order
  struct Refused {
    Step step;
    std::string reason;
  };
  std::vector<Refused> refused;                   ///< forged or out-of-turn steps: never applied
  std::optional<common::Micros> acknowledged_at;  ///< first acknowledgement (or answer)
  std::optional<common::Micros> answered_at;      ///< first answer or refusal
};

/// Whether `step` may follow `state` on `request`: the addressee's node takes received,
/// acknowledged, answered and declined; the sender's node closes. Acknowledging implies
/// receipt, and answering or declining implies acknowledgement; an answered request may be
/// answered again (a follow-up); nothing follows closed. A step is addressed `to` the other
/// party. OkStatus, or PermissionDenied (the
/// wrong node) or FailedPrecondition (out of turn) saying why.
absl::Status CheckStep(const Request& request, State state, const Step& step);

/// Replays `steps` (any order; they are sorted by time, then id) on `request`. Steps for other
/// requests are refused.
History Replay(const Request& request, std::vector<Step> steps);

}  // namespace accord::requests
