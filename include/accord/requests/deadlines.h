// Deadlines, escalation and responsiveness of points-of-contact requests (issue 14, points 3
// and 6; docs/REQUESTS.md). Time comes from a Clock, so that tests drive it by hand.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "accord/common/time.h"
#include "accord/requests/request.h"

namespace accord::requests {

/// The one source of "now" for deadlines and escalation.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual common::Micros Now() const = 0;
};
/// The system clock.
const Clock& SystemClock();
/// The node's clock for requests: the system clock, unless the environment variable
/// ACCORD_CLOCK_FILE names a file, whose first line (a STIX timestamp) is then the time, read
/// at every call. The multi-node tests (tests/requests/) move several processes' time with
/// it; an operator has no reason to set it.
const Clock& NodeClock();
/// A clock that moves only when told (tests).
class ManualClock : public Clock {
 public:
  explicit ManualClock(common::Micros now) : now_(now) {}
  common::Micros Now() const override { return now_; }
  void Set(common::Micros now) { now_ = now; }
  void Advance(common::Micros by) { now_ += by; }

 private:
  common::Micros now_;
};

/// How long the addressee has to acknowledge and to answer.
struct Windows {
  common::Micros ack = 0;
  common::Micros respond = 0;
};
/// The defaults per kind and urgency (the table in docs/REQUESTS.md). A critical notification:
/// acknowledged within 1 hour, answered within 24.
Windows DefaultWindows(Kind kind, Urgency urgency);

/// Overrides, as a peer agreement gives them: (kind, urgency) -> windows.
using WindowOverrides = std::map<std::pair<Kind, Urgency>, Windows>;
/// The windows for a new request: the agreement's override if it has one, else the default.
Windows WindowsFor(Kind kind, Urgency urgency, const WindowOverrides& overrides);

struct Overdue {
  bool ack = false;       ///< not acknowledged (or answered) by ack_by
  bool response = false;  ///< not answered or declined by respond_by
  /// Which of the addressee's contacts is now responsible: 0 is the one addressed; each full
  /// acknowledgement window that passes after ack_by without an acknowledgement moves it one
  /// further, to at most `contacts - 1`.
  size_t escalation = 0;
};
/// Where `h` stands at `now`, for an addressee with `contacts` contacts in escalation order
/// (at least 1). A closed request is never overdue; a step taken after its deadline still
/// counts as late in Responsiveness.
Overdue CheckOverdue(const History& h, common::Micros now, size_t contacts);

/// How reachable a peer is, from its requests' histories (issue 14, point 6).
struct Responsiveness {
  size_t requests = 0;
  size_t acknowledged = 0;
  size_t answered = 0;
  size_t late = 0;  ///< acknowledged or answered after the deadline, or still overdue
  common::Micros ack_median = 0, ack_worst = 0;        ///< from sending to acknowledgement
  common::Micros answer_median = 0, answer_worst = 0;  ///< from sending to answer or refusal
};
/// Per addressee node id, over the histories of requests this node sent.
std::map<std::string, Responsiveness> ResponsivenessOf(const std::vector<History>& sent,
                                                       common::Micros now);

}  // namespace accord::requests
