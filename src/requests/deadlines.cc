// Deadlines, escalation and responsiveness (include/accord/requests/deadlines.h).
#include "accord/requests/deadlines.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include <absl/strings/ascii.h>

#include "accord/common/strings.h"

namespace accord::requests {

namespace {

constexpr common::Micros kHour = 3600LL * 1000000;

class SystemClockImpl : public Clock {
 public:
  common::Micros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// ACCORD_CLOCK_FILE's clock: the STIX timestamp on the file's first line, read at each call;
// the system clock while the file is missing or does not hold one.
class FileClock : public Clock {
 public:
  explicit FileClock(std::string path) : path_(std::move(path)) {}
  common::Micros Now() const override {
    std::ifstream in(path_);
    std::string line;
    if (in && std::getline(in, line)) {
      absl::StatusOr<common::ParsedTimestamp> t =
          common::ParseTimestamp(common::View(absl::StripAsciiWhitespace(line)));
      if (t.ok()) return t->micros;
    }
    return SystemClock().Now();
  }

 private:
  std::string path_;
};

// The median of `v` (the mean of the two middle values for an even count); 0 when empty.
common::Micros Median(std::vector<common::Micros> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : v[m - 1] + (v[m] - v[m - 1]) / 2;
}

}  // namespace

const Clock& SystemClock() {
  static const SystemClockImpl clock;
  return clock;
}

const Clock& NodeClock() {
  static const Clock* clock = []() -> const Clock* {
    const char* file = std::getenv("ACCORD_CLOCK_FILE");
    if (file == nullptr || *file == '\0') return &SystemClock();
    return new FileClock(file);  // NOLINT(cppcoreguidelines-owning-memory): process lifetime
  }();
  return *clock;
}

Windows DefaultWindows(Kind kind, Urgency urgency) {
  // Hours to acknowledge and to answer: rows by kind, columns routine, high, critical
  // (docs/REQUESTS.md, "Deadlines").
  static constexpr int kTable[5][3][2] = {
      {{24, 7 * 24}, {4, 72}, {1, 24}},        // notification
      {{24, 7 * 24}, {2, 48}, {1, 12}},        // request-for-assistance
      {{48, 14 * 24}, {8, 72}, {2, 24}},       // request-for-information
      {{72, 30 * 24}, {24, 7 * 24}, {4, 48}},  // consultation
      {{24, 24}, {4, 4}, {1, 1}},              // ping: the answer is the acknowledgement
  };
  const auto& w = kTable[static_cast<size_t>(kind)][static_cast<size_t>(urgency)];
  return Windows{w[0] * kHour, w[1] * kHour};
}

Windows WindowsFor(Kind kind, Urgency urgency, const WindowOverrides& overrides) {
  auto it = overrides.find({kind, urgency});
  return it != overrides.end() ? it->second : DefaultWindows(kind, urgency);
}

Overdue CheckOverdue(const History& h, common::Micros now, size_t contacts) {
  Overdue o;
  const State s = h.state;
  const Request& r = h.request;
  o.ack = (s == State::kSent || s == State::kReceived) && now > r.ack_by;
  o.response = (s == State::kSent || s == State::kReceived || s == State::kAcknowledged) &&
               now > r.respond_by;
  if (o.ack && contacts > 1) {
    // A window of at least a minute, so that a request due at once does not run through every
    // contact in its first microseconds.
    const common::Micros window = std::max<common::Micros>(r.ack_by - r.created, 60LL * 1000000);
    const common::Micros full = (now - r.ack_by) / window;
    o.escalation = static_cast<size_t>(
        std::min<common::Micros>(1 + full, static_cast<common::Micros>(contacts - 1)));
  }
  return o;
}

std::map<std::string, Responsiveness> ResponsivenessOf(const std::vector<History>& sent,
                                                       common::Micros now) {
  std::map<std::string, std::vector<common::Micros>> acks, answers;
  std::map<std::string, Responsiveness> out;
  for (const History& h : sent) {
    const Request& r = h.request;
    Responsiveness& p = out[r.addressee];
    ++p.requests;
    bool late = false;
    if (h.acknowledged_at) {
      ++p.acknowledged;
      acks[r.addressee].push_back(*h.acknowledged_at - r.created);
      late |= *h.acknowledged_at > r.ack_by;
    }
    if (h.answered_at) {
      ++p.answered;
      answers[r.addressee].push_back(*h.answered_at - r.created);
      late |= *h.answered_at > r.respond_by;
    }
    const Overdue o = CheckOverdue(h, now, 1);
    late |= o.ack || o.response;
    p.late += late;
  }
  for (auto& [peer, p] : out) {
    const auto& a = acks[peer];
    const auto& b = answers[peer];
    p.ack_median = Median(a);
    p.ack_worst = a.empty() ? 0 : *std::max_element(a.begin(), a.end());
    p.answer_median = Median(b);
    p.answer_worst = b.empty() ? 0 : *std::max_element(b.begin(), b.end());
  }
  return out;
}

}  // namespace accord::requests
