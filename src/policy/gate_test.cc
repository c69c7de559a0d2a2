// Unit tests of the egress gate: the default gate, the fail-closed wrapper, the node gate's
// lockdown switch and generation, and EgressReader over a real (temporary) store.
#include "accord/policy/gate.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>

#include "accord/policy/egress_reader.h"
#include "accord/stix/reader.h"

namespace accord::policy {
namespace {

Object Obj(std::string id, std::string json) {
  Object o;
  o.type = id.substr(0, id.find("--"));
  o.id = std::move(id);
  o.json = std::move(json);
  return o;
}

// A gate whose decisions come from a function, for the wrapper's behaviour.
class FnGate final : public Gate {
 public:
  using Fn = std::function<absl::StatusOr<Decision>(const Object&, const Audience&, Exit)>;
  explicit FnGate(Fn fn) : fn_(std::move(fn)) {}

 private:
  absl::Status DoCheckExit(const Audience&, Exit) override { return absl::OkStatus(); }
  absl::StatusOr<Decision> DoAdmit(const Object& o, const Audience& a, Exit e) override {
    return fn_(o, a, e);
  }
  uint64_t DoGeneration() override { return 7; }
  Fn fn_;
};

class TempStore {
 public:
  TempStore() {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-gate-test-" + std::to_string(getpid()) + "-" + std::to_string(n_++));
    std::filesystem::remove_all(dir_);
    store::Options o;
    o.dir = dir_.string();
    auto s = store::Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  ~TempStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  store::Store& operator*() { return *store_; }
  store::Store* get() { return store_.get(); }

 private:
  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST(ExitTest, AllExitsListsEveryValueOnceWithADistinctName) {
  // The enum's values are 0..N-1 (no explicit values); AllExits must hold each exactly once.
  std::set<int> seen;
  std::set<std::string_view> names;
  for (Exit e : AllExits()) {
    seen.insert(static_cast<int>(e));
    names.insert(ExitName(e));
  }
  EXPECT_EQ(seen.size(), AllExits().size());
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), static_cast<int>(AllExits().size()) - 1);
  EXPECT_EQ(names.size(), AllExits().size());
  EXPECT_EQ(names.count("unknown-exit"), 0u);
}

TEST(AudienceTest, KeysAreDistinctWhereNameAndRoleSplitDiffers) {
  EXPECT_NE(Audience::User("a:b", "").Key(), Audience::User("a", "b").Key());
  EXPECT_NE(Audience::User("alice", "admin").Key(), Audience::User("alice", "user").Key());
  EXPECT_NE(Audience::Anonymous().Key(), Audience::LocalOperator().Key());
  EXPECT_EQ(Audience::User("alice", "user").Key(), Audience::User("alice", "user").Key());
  EXPECT_EQ(Audience::User("alice", "admin").ToString(), "user 'alice' (admin)");
}

TEST(GateTest, DefaultGateAllowsEveryExitForEveryAudience) {
  auto gate = NewAllowAllGate();
  Object o = Obj("indicator--1", R"({"type":"indicator"})");
  for (Exit e : AllExits()) {
    for (const Audience& a :
         {Audience::LocalOperator(), Audience::Anonymous(), Audience::User("bob", "user"),
          Audience::Peer("https://x/"), Audience::Sensor("zeek")}) {
      EXPECT_TRUE(gate->CheckExit(a, e).ok());
      Decision d = gate->Admit(o, a, e);
      EXPECT_EQ(d.verdict, Decision::Verdict::kAllow) << ExitName(e) << " " << a.ToString();
    }
  }
}

TEST(GateTest, ReplaceReturnsTheCopyAndLeavesTheOriginal) {
  FnGate gate([](const Object&, const Audience&, Exit) {
    return Decision::Replace(R"({"type":"indicator","name":"[redacted]"})", "profile x");
  });
  Object o = Obj("indicator--1", R"({"type":"indicator","name":"secret"})");
  Decision d = gate.Admit(o, Audience::Peer("p"), Exit::kTaxiiPush);
  EXPECT_EQ(d.verdict, Decision::Verdict::kReplace);
  EXPECT_EQ(d.json, R"({"type":"indicator","name":"[redacted]"})");
  EXPECT_EQ(d.reason, "profile x");
  EXPECT_EQ(o.json, R"({"type":"indicator","name":"secret"})");
}

TEST(GateTest, AnErrorInTheRulesFailsClosed) {
  FnGate gate([](const Object&, const Audience&, Exit) -> absl::StatusOr<Decision> {
    return absl::InternalError("rule table corrupt");
  });
  Decision d = gate.Admit(Obj("indicator--1", "{}"), Audience::LocalOperator(), Exit::kExport);
  EXPECT_EQ(d.verdict, Decision::Verdict::kDeny);
  EXPECT_NE(d.reason.find("rule table corrupt"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("indicator--1"), std::string::npos) << d.reason;
}

TEST(GateTest, AnExceptionInTheRulesFailsClosed) {
  FnGate gate([](const Object&, const Audience&, Exit) -> absl::StatusOr<Decision> {
    throw std::runtime_error("boom");
  });
  Decision d = gate.Admit(Obj("indicator--1", "{}"), Audience::LocalOperator(), Exit::kGet);
  EXPECT_EQ(d.verdict, Decision::Verdict::kDeny);
  EXPECT_NE(d.reason.find("boom"), std::string::npos) << d.reason;
}

TEST(GateTest, AnEmptyReplacementIsADenial) {
  FnGate gate([](const Object&, const Audience&, Exit) { return Decision::Replace("", "x"); });
  EXPECT_EQ(gate.Admit(Obj("indicator--1", "{}"), Audience::LocalOperator(), Exit::kGet).verdict,
            Decision::Verdict::kDeny);
}

TEST(NodeGateTest, LockdownClosesEveryExitAndChangesTheGeneration) {
  TempStore s;
  NodeGateOptions o;
  o.refresh_interval_us = 0;  // re-read the setting on every call
  auto gate = NewNodeGate(s.get(), o);
  Object obj = Obj("indicator--1", "{}");
  uint64_t g0 = gate->generation();
  for (Exit e : AllExits()) {
    // The request channel serves peers only (peer_gate_test); its lockdown is below.
    if (e == Exit::kRequestChannel) continue;
    EXPECT_TRUE(gate->CheckExit(Audience::LocalOperator(), e).ok()) << ExitName(e);
    EXPECT_TRUE(gate->Admit(obj, Audience::LocalOperator(), e).allowed());
  }
  EXPECT_EQ(gate->generation(), g0);  // nothing changed: the same generation

  ASSERT_TRUE(SetLockdown(*s, true).ok());
  uint64_t g1 = gate->generation();
  EXPECT_NE(g1, g0);
  for (Exit e : AllExits()) {
    absl::Status st = gate->CheckExit(Audience::User("alice", "user"), e);
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << ExitName(e);
    EXPECT_NE(std::string(st.message()).find("lockdown"), std::string::npos) << st;
    EXPECT_NE(std::string(st.message()).find(std::string(ExitName(e))), std::string::npos) << st;
    Decision d = gate->Admit(obj, Audience::User("alice", "user"), e);
    EXPECT_EQ(d.verdict, Decision::Verdict::kDeny);
    EXPECT_NE(d.reason.find("lockdown"), std::string::npos);
  }
  ASSERT_TRUE(SetLockdown(*s, false).ok());
  uint64_t g2 = gate->generation();
  EXPECT_NE(g2, g1);
  EXPECT_NE(g2, g0);
  EXPECT_TRUE(gate->CheckExit(Audience::Anonymous(), Exit::kTaxiiObjects).ok());
}

TEST(NodeGateTest, AnUnreadableLockdownSettingDeniesEverything) {
  TempStore s;
  ASSERT_TRUE((*s).PutSetting(std::string(kLockdownSetting), "perhaps").ok());
  auto gate = NewNodeGate(s.get());
  absl::Status st = gate->CheckExit(Audience::LocalOperator(), Exit::kExport);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(st.message()).find("perhaps"), std::string::npos) << st;
  EXPECT_FALSE(
      gate->Admit(Obj("indicator--1", "{}"), Audience::LocalOperator(), Exit::kExport).allowed());
}

TEST(NodeGateTest, AGateThatNeverReadItsSettingsAdmitsNothing) {
  TempStore s;
  auto gate = NewNodeGate(s.get());
  // Admit() before any CheckExit()/generation(): the state was never read, so it is closed.
  EXPECT_FALSE(
      gate->Admit(Obj("indicator--1", "{}"), Audience::LocalOperator(), Exit::kGet).allowed());
}

// Issue 13, point 3, from the rules in docs/PRIVACY.md: an auditor gets no intelligence from
// any exit; a reader and an anonymous client never see TLP:RED (2.0 or 1.0, object-level or
// granular); an admin and an analyst see every level (their grants decide the collections).
TEST(NodeGateTest, RolesDecideWhatLeaves) {
  TempStore s;
  NodeGateOptions o;
  o.refresh_interval_us = 0;
  auto gate = NewNodeGate(s.get(), o);
  auto obj = [](const std::string& markings) {
    return Obj("indicator--1", R"({"type":"indicator","id":"indicator--1")" + markings + "}");
  };
  const Object red2 =
      obj(R"(,"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"])");
  const Object red1 =
      obj(R"(,"object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"])");
  const Object red_granular = obj(
      R"(,"granular_markings":[{"marking_ref":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","selectors":["description"]}])");
  const Object amber =
      obj(R"(,"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"])");
  const Object clear =
      obj(R"(,"object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"])");
  const Object unmarked = obj("");
  const Object red_part = Obj(
      "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",)"
      R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c2",)"
      R"("description":"secret victim","pattern":"[ipv4-addr:value = '198.51.100.1']",)"
      R"("pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","granular_markings":[)"
      R"({"marking_ref":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","selectors":["description"]}]})");
  const Audience admin = Audience::User("root", "admin");
  const Audience analyst = Audience::User("ana", "analyst");
  const Audience auditor = Audience::User("dpo", "auditor");
  const Audience reader = Audience::User("rita", "reader");
  for (Exit e : AllExits()) {
    if (e == Exit::kRequestChannel) continue;  // peers only: peer_gate_test
    SCOPED_TRACE(std::string(ExitName(e)));
    absl::Status closed = gate->CheckExit(auditor, e);
    EXPECT_EQ(closed.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(std::string(closed.message()).find("auditor"), std::string::npos) << closed;
    for (const Object* x : {&red2, &red1, &red_granular, &amber, &clear, &unmarked}) {
      EXPECT_TRUE(gate->Admit(*x, admin, e).allowed());
      EXPECT_TRUE(gate->Admit(*x, analyst, e).allowed());
      EXPECT_FALSE(gate->Admit(*x, auditor, e).allowed());
    }
    EXPECT_TRUE(gate->CheckExit(reader, e).ok());
    for (const Object* x : {&red2, &red1, &red_granular}) {
      Decision d = gate->Admit(*x, reader, e);
      EXPECT_EQ(d.verdict, Decision::Verdict::kDeny);
      EXPECT_NE(d.reason.find("TLP:RED"), std::string::npos) << d.reason;
      EXPECT_FALSE(gate->Admit(*x, Audience::Anonymous(), e).allowed());
    }
    for (const Object* x : {&amber, &clear, &unmarked}) {
      EXPECT_TRUE(gate->Admit(*x, reader, e).allowed());
      EXPECT_TRUE(gate->Admit(*x, Audience::Anonymous(), e).allowed());
    }
    // A RED part of a valid object: a reader gets the object without that part; an analyst
    // gets it whole.
    for (const Audience& a : {reader, Audience::Anonymous()}) {
      Decision d = gate->Admit(red_part, a, e);
      ASSERT_EQ(d.verdict, Decision::Verdict::kReplace) << d.reason;
      EXPECT_EQ(d.json.find("secret victim"), std::string::npos) << d.json;
      EXPECT_NE(d.json.find("\"name\":\"c2\""), std::string::npos) << d.json;
    }
    EXPECT_EQ(gate->Admit(red_part, analyst, e).verdict, Decision::Verdict::kAllow);
  }
  // The local operator is the node's own administrator: every level.
  EXPECT_TRUE(gate->Admit(red2, Audience::LocalOperator(), Exit::kExport).allowed());
}

// Imports `lines` (JSON lines) into collection "c".
void Import(store::Store& s, const std::string& lines) {
  auto txn = s.BeginImport("c");
  ASSERT_TRUE(txn.ok()) << txn.status();
  auto r = stix::ReadBuffer(
      lines, stix::ReaderOptions{}, [&](stix::ObjectRecord&& rec) { return (*txn)->Add(rec); },
      [&](stix::Problem&& p) { ADD_FAILURE() << p.ToString(); });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE((*txn)->Commit().ok());
}

constexpr const char* kTwo =
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})"
    "\n"
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--22222222-2222-4222-8222-222222222222","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.2']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})"
    "\n";

TEST(EgressReaderTest, DeliversAllowedAndReplacedObjectsAndCountsTheWithheld) {
  TempStore s;
  Import(*s, kTwo);
  FnGate gate([](const Object& o, const Audience&, Exit) -> absl::StatusOr<Decision> {
    if (o.id == "indicator--11111111-1111-4111-8111-111111111111") return Decision::Deny("no 1");
    return Decision::Replace(R"({"redacted":true})", "copy");
  });
  EgressReader reader(s.get(), &gate);
  store::Query q;
  q.collection = "c";
  auto page = reader.List(q, Audience::LocalOperator(), Exit::kExport);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].id, "indicator--22222222-2222-4222-8222-222222222222");
  EXPECT_EQ(page->objects[0].json, R"({"redacted":true})");
  EXPECT_EQ(page->withheld, 1u);
  EXPECT_EQ(page->replaced, 1u);
  EXPECT_EQ(page->withheld_reason, "no 1");
  // The stored original is unchanged.
  auto raw =
      (*s).Get("indicator--22222222-2222-4222-8222-222222222222", store::VersionSelect::kAll);
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), 1u);
  EXPECT_NE((*raw)[0].json.find("10.0.0.2"), std::string::npos);

  auto one = reader.Get("indicator--11111111-1111-4111-8111-111111111111",
                        store::VersionSelect::kAll, Audience::LocalOperator(), Exit::kGet);
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->objects.empty());
  EXPECT_EQ(one->withheld, 1u);
}

TEST(EgressReaderTest, AClosedExitReadsNothing) {
  TempStore s;
  Import(*s, kTwo);
  ASSERT_TRUE(SetLockdown(*s, true).ok());
  auto gate = NewNodeGate(s.get());
  EgressReader reader(s.get(), gate.get());
  auto page = reader.List(store::Query{}, Audience::LocalOperator(), Exit::kListJson);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kPermissionDenied);
  auto got = reader.Get("indicator--11111111-1111-4111-8111-111111111111",
                        store::VersionSelect::kLast, Audience::LocalOperator(), Exit::kGet);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace accord::policy
