// Points-of-contact requests (issue 14): the objects, the rule of who may take which step, and
// deadlines and escalation under a clock driven by hand. Expected values are written out from
// docs/REQUESTS.md (the state table and the deadline table), not taken from the code.
#include "accord/requests/request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accord/requests/contact.h"
#include "accord/requests/deadlines.h"
#include "accord/stix/reader.h"

namespace accord::requests {
namespace {

using Json = nlohmann::json;

constexpr common::Micros kMinute = 60LL * 1000000;
constexpr common::Micros kHour = 60 * kMinute;
// 2026-12-04T02:13:00Z, a night-time notification.
constexpr common::Micros kT0 = 1796350380LL * 1000000;

constexpr const char* kNodeA = "identity--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
constexpr const char* kNodeB = "identity--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
constexpr const char* kNodeC = "identity--cccccccc-cccc-4ccc-8ccc-cccccccccccc";
constexpr const char* kAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

Request Critical() {
  Request r;
  r.id = "x-accord-request--11111111-1111-4111-8111-111111111111";
  r.kind = Kind::kNotification;
  r.urgency = Urgency::kCritical;
  r.subject = "Wiper on the power grid's SCADA hosts";
  r.description = "Seen at 01:40 UTC on two substations; indicators attached.";
  r.action = "Check your operators for the attached indicators";
  r.object_refs = {"indicator--22222222-2222-4222-8222-222222222222"};
  r.marking_ref = kAmber;
  r.sender = kNodeA;
  r.addressee = kNodeB;
  r.created = kT0;
  r.ack_by = kT0 + kHour;
  r.respond_by = kT0 + 24 * kHour;
  return r;
}

Step MakeStep(const Request& r, State state, const char* by, common::Micros at, int n) {
  Step s;
  s.id = "x-accord-request-step--00000000-0000-4000-8000-00000000000" + std::to_string(n);
  s.request = r.id;
  s.state = state;
  s.by = by;
  // Addressed to the other party (a third node's step is addressed to the sender).
  s.to = std::string(by) == r.addressee ? r.sender : r.addressee;
  s.at = at;
  return s;
}

// What the store's STIX validator says of one object: "" when it takes it without a remark.
std::string StixProblems(const std::string& json) {
  size_t objects = 0;
  std::string problems;
  auto st = stix::ReadBuffer(
      json, stix::ReaderOptions(),
      [&](stix::ObjectRecord&&) {
        ++objects;
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) { problems += p.ToString() + "\n"; });
  if (!st.ok()) return std::string(st.status().message());
  if (objects != 1) problems += "not read as one object\n";
  return problems;
}

TEST(RequestTest, ObjectsAreValidStixAndReadBack) {
  const Request r = Critical();
  const std::string json = ToStix(r);
  // Valid STIX 2.1 for the store's own validator, as a custom new-sdo type.
  EXPECT_EQ(StixProblems(json), "");
  Json o = Json::parse(json);
  EXPECT_EQ(o["type"], "x-accord-request");
  EXPECT_EQ(o["created_by_ref"], kNodeA);
  EXPECT_EQ(o["extensions"]["extension-definition--3c7a9e14-6b2d-4f08-9a5e-1d4c8b7f2e63"]
             ["extension_type"],
            "new-sdo");
  EXPECT_EQ(o["ack_by"], "2026-12-04T03:13:00.000Z");
  EXPECT_EQ(o["respond_by"], "2026-12-05T02:13:00.000Z");
  EXPECT_EQ(o["kind"], "notification");
  EXPECT_EQ(o["urgency"], "critical");

  absl::StatusOr<Request> back = RequestFromStix(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->urgency, r.urgency);
  EXPECT_EQ(back->subject, r.subject);
  EXPECT_EQ(back->description, r.description);
  EXPECT_EQ(back->action, r.action);
  EXPECT_EQ(back->object_refs, r.object_refs);
  EXPECT_EQ(back->marking_ref, r.marking_ref);
  EXPECT_EQ(back->sender, r.sender);
  EXPECT_EQ(back->addressee, r.addressee);
  EXPECT_EQ(back->created, r.created);
  EXPECT_EQ(back->ack_by, r.ack_by);
  EXPECT_EQ(back->respond_by, r.respond_by);

  Step s = MakeStep(r, State::kAnswered, kNodeB, kT0 + 3 * kHour, 1);
  s.text = "No trace at our operators; we keep watching.";
  s.marking_ref = kAmber;
  absl::StatusOr<Step> sb = StepFromStix(ToStix(s));
  ASSERT_TRUE(sb.ok()) << sb.status();
  EXPECT_EQ(sb->state, State::kAnswered);
  EXPECT_EQ(sb->by, kNodeB);
  EXPECT_EQ(sb->text, s.text);
  EXPECT_EQ(sb->at, s.at);
  EXPECT_EQ(sb->request, r.id);
}

TEST(RequestTest, MalformedObjectsNameTheObjectAndTheProperty) {
  const Request r = Critical();
  auto error_of = [](const Json& o) {
    absl::StatusOr<Request> got = RequestFromStix(o.dump());
    EXPECT_FALSE(got.ok()) << o.dump();
    return got.ok() ? std::string() : std::string(got.status().message());
  };
  Json o = Json::parse(ToStix(r));
  Json bad = o;
  bad.erase("subject");
  EXPECT_EQ(error_of(bad), r.id + ": 'subject' is required");
  bad = o;
  bad["kind"] = "gossip";
  EXPECT_NE(error_of(bad).find("'kind' unknown kind 'gossip'"), std::string::npos) << error_of(bad);
  bad = o;
  bad["ack_by"] = "2026-12-04T01:00:00.000Z";
  EXPECT_EQ(error_of(bad), r.id + ": 'ack_by' is before the request was sent");
  bad = o;
  bad["created_by_ref"] = kNodeC;  // made by a node that is not its sender
  EXPECT_EQ(error_of(bad), r.id + ": 'created_by_ref' must be the sender_ref");
  bad = o;
  bad["addressee_ref"] = kNodeA;
  EXPECT_EQ(error_of(bad), r.id + ": 'addressee_ref' must not be the sender");
  bad = o;
  bad["extensions"] = Json::object();
  EXPECT_NE(error_of(bad).find("'extensions'"), std::string::npos);
  EXPECT_FALSE(RequestFromStix("{not json").ok());
  // A step cannot claim to be the sending.
  Json step = Json::parse(ToStix(MakeStep(r, State::kReceived, kNodeB, kT0, 1)));
  step["step"] = "sent";
  EXPECT_FALSE(StepFromStix(step.dump()).ok());
}

TEST(RequestTest, EveryKindGoesThroughItsStates) {
  for (Kind k : {Kind::kNotification, Kind::kAssistance, Kind::kInformation, Kind::kConsultation,
                 Kind::kPing}) {
    Request r = Critical();
    r.kind = k;
    History h = Replay(r, {MakeStep(r, State::kReceived, kNodeB, kT0 + kMinute, 1),
                           MakeStep(r, State::kAcknowledged, kNodeB, kT0 + 20 * kMinute, 2),
                           MakeStep(r, State::kAnswered, kNodeB, kT0 + 3 * kHour, 3),
                           MakeStep(r, State::kClosed, kNodeA, kT0 + 4 * kHour, 4)});
    EXPECT_EQ(h.state, State::kClosed) << Name(k);
    EXPECT_EQ(h.steps.size(), 4u);
    EXPECT_TRUE(h.refused.empty()) << h.refused[0].reason;
    EXPECT_EQ(h.acknowledged_at, kT0 + 20 * kMinute);
    EXPECT_EQ(h.answered_at, kT0 + 3 * kHour);
  }
  // Steps arrive in any order; time decides. A decline is an answer, and acknowledges.
  Request r = Critical();
  History h = Replay(r, {MakeStep(r, State::kDeclined, kNodeB, kT0 + 2 * kHour, 2),
                         MakeStep(r, State::kReceived, kNodeB, kT0 + kMinute, 1)});
  EXPECT_EQ(h.state, State::kDeclined);
  EXPECT_EQ(h.acknowledged_at, kT0 + 2 * kHour);
  EXPECT_EQ(h.answered_at, kT0 + 2 * kHour);
}

TEST(RequestTest, ForgedAndOutOfTurnStepsAreRefusedAndNeverApplied) {
  const Request r = Critical();
  // An acknowledgement signed by the sender.
  absl::Status st = CheckStep(r, State::kReceived, MakeStep(r, State::kAcknowledged, kNodeA, 0, 1));
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("only the addressee"), std::string::npos) << st;
  // A reply from a third node.
  st = CheckStep(r, State::kAcknowledged, MakeStep(r, State::kAnswered, kNodeC, 0, 2));
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("neither the sender nor the addressee"), std::string::npos) << st;
  // The addressee cannot close; nothing follows closed; a decline cannot follow an answer.
  EXPECT_EQ(CheckStep(r, State::kAnswered, MakeStep(r, State::kClosed, kNodeB, 0, 3)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckStep(r, State::kClosed, MakeStep(r, State::kAnswered, kNodeB, 0, 4)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckStep(r, State::kAnswered, MakeStep(r, State::kDeclined, kNodeB, 0, 5)).code(),
            absl::StatusCode::kFailedPrecondition);
  // A step of another request.
  // A step by the right node addressed to a third: refused, whatever its state.
  Step astray = MakeStep(r, State::kAcknowledged, kNodeB, 0, 7);
  astray.to = kNodeC;
  st = CheckStep(r, State::kReceived, astray);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("not to the other party"), std::string::npos) << st;
  Step other = MakeStep(r, State::kReceived, kNodeB, 0, 6);
  other.request = "x-accord-request--99999999-9999-4999-8999-999999999999";
  EXPECT_FALSE(CheckStep(r, State::kSent, other).ok());

  // Replayed: the forged ones are recorded and skipped; the state is the honest one.
  History h = Replay(r, {MakeStep(r, State::kReceived, kNodeB, kT0 + 1 * kMinute, 1),
                         MakeStep(r, State::kAcknowledged, kNodeA, kT0 + 2 * kMinute, 2),
                         MakeStep(r, State::kAnswered, kNodeC, kT0 + 3 * kMinute, 3)});
  EXPECT_EQ(h.state, State::kReceived);
  EXPECT_EQ(h.steps.size(), 1u);
  ASSERT_EQ(h.refused.size(), 2u);
  EXPECT_EQ(h.refused[0].step.by, kNodeA);
  EXPECT_EQ(h.refused[1].step.by, kNodeC);
  EXPECT_FALSE(h.acknowledged_at.has_value());
}

TEST(DeadlinesTest, DefaultsFollowTheTableAndAgreementsOverrideThem) {
  // docs/REQUESTS.md, "Deadlines" (hours to acknowledge / to answer).
  struct Row {
    Kind kind;
    Urgency urgency;
    int ack_h, respond_h;
  };
  const Row table[] = {
      {Kind::kNotification, Urgency::kCritical, 1, 24},
      {Kind::kNotification, Urgency::kHigh, 4, 72},
      {Kind::kNotification, Urgency::kRoutine, 24, 168},
      {Kind::kAssistance, Urgency::kCritical, 1, 12},
      {Kind::kInformation, Urgency::kHigh, 8, 72},
      {Kind::kConsultation, Urgency::kRoutine, 72, 720},
      {Kind::kPing, Urgency::kRoutine, 24, 24},
  };
  for (const Row& row : table) {
    Windows w = DefaultWindows(row.kind, row.urgency);
    EXPECT_EQ(w.ack, row.ack_h * kHour) << Name(row.kind) << " " << Name(row.urgency);
    EXPECT_EQ(w.respond, row.respond_h * kHour) << Name(row.kind) << " " << Name(row.urgency);
  }
  WindowOverrides o;
  o[{Kind::kNotification, Urgency::kCritical}] = Windows{30 * kMinute, 12 * kHour};
  EXPECT_EQ(WindowsFor(Kind::kNotification, Urgency::kCritical, o).ack, 30 * kMinute);
  EXPECT_EQ(WindowsFor(Kind::kNotification, Urgency::kHigh, o).ack, 4 * kHour);
}

TEST(DeadlinesTest, OverdueRequestsEscalateAtTheRightMoment) {
  const Request r = Critical();  // acknowledge within 1 h, answer within 24 h
  ManualClock clock(kT0);
  std::vector<Step> steps = {MakeStep(r, State::kReceived, kNodeB, kT0 + kMinute, 1)};
  auto at = [&](common::Micros t) {
    clock.Set(t);
    return CheckOverdue(Replay(r, steps), clock.Now(), 3);
  };
  Overdue o = at(kT0 + 59 * kMinute);
  EXPECT_FALSE(o.ack);
  EXPECT_EQ(o.escalation, 0u);
  o = at(kT0 + kHour);  // the deadline itself is still in time
  EXPECT_FALSE(o.ack);
  o = at(kT0 + kHour + 1);
  EXPECT_TRUE(o.ack);
  EXPECT_FALSE(o.response);
  EXPECT_EQ(o.escalation, 1u);  // the addressee's next contact
  o = at(kT0 + 2 * kHour - 1);
  EXPECT_EQ(o.escalation, 1u);
  o = at(kT0 + 2 * kHour);  // one more full window: the contact after that
  EXPECT_EQ(o.escalation, 2u);
  o = at(kT0 + 10 * kHour);
  EXPECT_EQ(o.escalation, 2u);  // three contacts: the last one stays responsible
  // With one contact there is no one to escalate to, but it is still overdue.
  EXPECT_EQ(CheckOverdue(Replay(r, steps), kT0 + 10 * kHour, 1).escalation, 0u);
  // Acknowledged late: no longer ack-overdue, but the answer is due at 24 h.
  steps.push_back(MakeStep(r, State::kAcknowledged, kNodeB, kT0 + 10 * kHour, 2));
  o = at(kT0 + 11 * kHour);
  EXPECT_FALSE(o.ack);
  EXPECT_FALSE(o.response);
  EXPECT_EQ(o.escalation, 0u);
  o = at(kT0 + 24 * kHour + 1);
  EXPECT_TRUE(o.response);
  steps.push_back(MakeStep(r, State::kAnswered, kNodeB, kT0 + 30 * kHour, 3));
  o = at(kT0 + 31 * kHour);
  EXPECT_FALSE(o.ack || o.response);
  // A closed request is never overdue.
  Request r2 = r;
  EXPECT_FALSE(CheckOverdue(Replay(r2, {MakeStep(r2, State::kClosed, kNodeA, kT0 + 1, 9)}),
                            kT0 + 100 * kHour, 3)
                   .ack);
}

TEST(DeadlinesTest, ResponsivenessIsMedianAndWorstPerPeer) {
  // Three critical notifications to B, acknowledged after 10 min, 30 min and 2 h (late), two
  // answered after 5 h and 30 h (late); one to C, never acknowledged and now overdue.
  std::vector<History> sent;
  const common::Micros ack_after[] = {10 * kMinute, 30 * kMinute, 2 * kHour};
  for (int i = 0; i < 3; ++i) {
    Request r = Critical();
    r.id = "x-accord-request--11111111-1111-4111-8111-11111111111" + std::to_string(i);
    std::vector<Step> steps = {MakeStep(r, State::kAcknowledged, kNodeB, kT0 + ack_after[i], 1)};
    if (i == 0) steps.push_back(MakeStep(r, State::kAnswered, kNodeB, kT0 + 5 * kHour, 2));
    if (i == 1) steps.push_back(MakeStep(r, State::kAnswered, kNodeB, kT0 + 30 * kHour, 2));
    sent.push_back(Replay(r, steps));
  }
  Request rc = Critical();
  rc.addressee = kNodeC;
  sent.push_back(Replay(rc, {}));
  auto by_peer = ResponsivenessOf(sent, kT0 + 48 * kHour);
  const Responsiveness& b = by_peer.at(kNodeB);
  EXPECT_EQ(b.requests, 3u);
  EXPECT_EQ(b.acknowledged, 3u);
  EXPECT_EQ(b.answered, 2u);
  EXPECT_EQ(b.ack_median, 30 * kMinute);
  EXPECT_EQ(b.ack_worst, 2 * kHour);
  EXPECT_EQ(b.answer_median, (5 * kHour + 30 * kHour) / 2);
  EXPECT_EQ(b.answer_worst, 30 * kHour);
  // Late: the 2 h acknowledgement (and its answer, never given, overdue at 48 h), the 30 h
  // answer. The first request was on time.
  EXPECT_EQ(b.late, 2u);
  const Responsiveness& c = by_peer.at(kNodeC);
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.acknowledged, 0u);
  EXPECT_EQ(c.late, 1u);
}

// --- contacts -------------------------------------------------------------------------------

// kT0 is Friday 2026-12-04 02:13 UTC; these are hours of that week, by hand.
constexpr common::Micros kFriday0000 = kT0 - (2 * kHour + 13 * kMinute);
constexpr common::Micros kDay = 24 * kHour;

TEST(ContactTest, HoursCoverWhatTheySay) {
  auto covers = [](const char* text, common::Micros t) {
    absl::StatusOr<Hours> h = Hours::Parse(text);
    EXPECT_TRUE(h.ok()) << text << ": " << h.status();
    return h.ok() && h->Covers(t);
  };
  const char* office = "Mon-Fri 08-18 UTC";
  EXPECT_FALSE(covers(office, kT0));  // Friday 02:13
  EXPECT_TRUE(covers(office, kFriday0000 + 9 * kHour));
  EXPECT_TRUE(covers(office, kFriday0000 + 18 * kHour - 1));
  EXPECT_FALSE(covers(office, kFriday0000 + 18 * kHour));         // the end is not covered
  EXPECT_FALSE(covers(office, kFriday0000 + kDay + 10 * kHour));  // Saturday 10:00
  const char* nights = "Mon-Sun 18-08 UTC";                       // past midnight
  EXPECT_TRUE(covers(nights, kT0));                               // Thursday's night
  EXPECT_FALSE(covers(nights, kFriday0000 + 12 * kHour));
  EXPECT_TRUE(covers(nights, kFriday0000 + 18 * kHour));
  const char* weekend = "Sat,Sun 09:30-12 UTC";
  const common::Micros saturday = kFriday0000 + kDay;
  EXPECT_FALSE(covers(weekend, saturday + 9 * kHour + 29 * kMinute));
  EXPECT_TRUE(covers(weekend, saturday + 9 * kHour + 30 * kMinute));
  EXPECT_FALSE(covers(weekend, saturday + 12 * kHour));
  EXPECT_FALSE(covers(weekend, kFriday0000 + 10 * kHour));
  const char* long_weekend = "Sat-Mon 00-24 UTC";                       // over the week's end
  EXPECT_TRUE(covers(long_weekend, saturday + 2 * kDay + 23 * kHour));  // Monday 23:00
  EXPECT_FALSE(covers(long_weekend, saturday + 3 * kDay + kHour));      // Tuesday 01:00
  EXPECT_TRUE(covers("24/7", kT0));
  EXPECT_TRUE(covers("Fri 01-02 UTC; Fri 02-03 UTC", kT0));
  // Errors say what is wrong and what is expected.
  for (auto [text, want] : std::vector<std::pair<const char*, const char*>>{
           {"Mon-Fri 08-18 CET", "times must be given in UTC"},
           {"Mon-Fry 08-18 UTC", "'Mon-Fry' is not a day"},
           {"Mon 8-18 UTC", "'8-18' is not HH[:MM]-HH[:MM]"},
           {"Mon 08-08 UTC", "must not be empty"},
           {"weekdays", "three words wanted"}}) {
    absl::StatusOr<Hours> h = Hours::Parse(text);
    ASSERT_FALSE(h.ok()) << text;
    EXPECT_NE(h.status().message().find(want), std::string::npos) << h.status();
    EXPECT_NE(h.status().message().find("Mon-Fri 08-18 UTC"), std::string::npos) << h.status();
  }
}

Contact Desk(const char* name, int order, const char* hours, const char* node = kNodeB) {
  Contact c;
  c.id = std::string("identity--") + (order == 0   ? "d0d0d0d0-d0d0-4d0d-8d0d-d0d0d0d0d0d0"
                                      : order == 1 ? "d1d1d1d1-d1d1-4d1d-8d1d-d1d1d1d1d1d1"
                                                   : "d2d2d2d2-d2d2-4d2d-8d2d-d2d2d2d2d2d2");
  c.name = name;
  c.role = ContactRole::kTechnical;
  c.email = "duty@cert-b.example";
  c.phone = "+32 2 555 01 00";
  c.hours = hours;
  c.node = node;
  c.order = order;
  c.created = kT0;
  return c;
}

TEST(ContactTest, ContactsAreIdentityObjectsAndReadBack) {
  Contact c = Desk("CERT-B duty officer", 0, "Mon-Fri 08-18 UTC");
  const std::string json = ToStix(c);
  EXPECT_EQ(StixProblems(json), "");
  Json o = Json::parse(json);
  EXPECT_EQ(o["type"], "identity");
  EXPECT_EQ(o["identity_class"], "individual");
  EXPECT_EQ(o["roles"], Json::array({"technical"}));
  EXPECT_EQ(o["contact_information"], "duty@cert-b.example; +32 2 555 01 00; Mon-Fri 08-18 UTC");
  EXPECT_EQ(o["created_by_ref"], kNodeB);
  absl::StatusOr<Contact> back = ContactFromStix(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->name, c.name);
  EXPECT_EQ(back->role, c.role);
  EXPECT_EQ(back->email, c.email);
  EXPECT_EQ(back->phone, c.phone);
  EXPECT_EQ(back->hours, c.hours);
  EXPECT_EQ(back->node, c.node);
  EXPECT_EQ(back->order, 0);
  // Another node's identity cannot claim the contact.
  o["created_by_ref"] = kNodeC;
  EXPECT_FALSE(ContactFromStix(o.dump()).ok());
  // Details are checked.
  for (auto [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"email", "alice"}, {"email", "a@b"}, {"phone", "call me"}, {"hours", "nights"}}) {
    Contact bad = c;
    (field == "email" ? bad.email : field == "phone" ? bad.phone : bad.hours) = value;
    absl::Status v = Validate(bad);
    EXPECT_FALSE(v.ok()) << field << "=" << value;
    EXPECT_NE(v.message().find(field), std::string::npos) << v;
  }
}

TEST(ContactTest, EscalationTriesWhoeverIsOnDutyFirst) {
  std::vector<Contact> all = {Desk("Day desk", 0, "Mon-Fri 08-18 UTC"),
                              Desk("Night desk", 1, "Mon-Sun 18-08 UTC"),
                              Desk("Policy contact", 2, ""),  // 24/7
                              Desk("C's desk", 0, "", kNodeC)};
  auto names = [](const std::vector<Contact>& v) {
    std::vector<std::string> n;
    for (const Contact& c : v) n.push_back(c.name);
    return n;
  };
  // Friday 02:13: the night desk and the policy contact are on duty, the day desk is not.
  EXPECT_EQ(names(EscalationOrder(all, kNodeB, kT0)),
            (std::vector<std::string>{"Night desk", "Policy contact", "Day desk"}));
  // Friday 10:00: the day desk first.
  EXPECT_EQ(names(EscalationOrder(all, kNodeB, kFriday0000 + 10 * kHour)),
            (std::vector<std::string>{"Day desk", "Policy contact", "Night desk"}));
  // The escalation index of an overdue request walks this order: 1 h after a critical
  // notification's deadline (escalation 1 at 03:13 + 1 µs) it is the policy contact.
  const Request r = Critical();
  Overdue o = CheckOverdue(Replay(r, {}), r.ack_by + 1, 3);
  EXPECT_EQ(names(EscalationOrder(all, kNodeB, r.ack_by + 1))[o.escalation], "Policy contact");
}

}  // namespace
}  // namespace accord::requests
