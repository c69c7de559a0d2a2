// The node gate's peer rules (issue 12, points 3 and 4): what each object may do on its way to
// a peer, decided from the agreement's terms and the object's markings and signer. Every
// expectation below is worked out by hand from the TLP 2.0 rules in the issue:
//   RED never leaves; AMBER+STRICT only to the same organisation, directly; AMBER only
//   directly and within max_tlp; GREEN and CLEAR forwarded only where `forward`; a peer never
//   gets what it originated or gave us; what this node originated leaves signed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "accord/common/strings.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/stix/reader.h"
#include "store/forwarding_store.h"

namespace accord::policy {
namespace {

constexpr const char* kOwn = "identity--0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a";
constexpr const char* kB = "identity--0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b";
constexpr const char* kX = "identity--0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e";
constexpr const char* kSigExt = "extension-definition--2f1d7e0a-5c9b-4c53-9f7e-6a3d1b8c4e21";
// TLP 2.0 marking-definition ids (STIX21-objects.md §7.2).
constexpr const char* kRed = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
constexpr const char* kAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
constexpr const char* kAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
constexpr const char* kGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

class FakeDirectory final : public PeerDirectory {
 public:
  absl::StatusOr<FederationRules> Load() override {
    if (broken) return absl::DataLossError("agreement unreadable");
    return rules;
  }
  absl::StatusOr<std::string> Sign(std::string_view json) override {
    ++signed_count;
    return common::Cat("{\"signed\":", json, "}");
  }
  FederationRules rules;
  bool broken = false;
  int signed_count = 0;
};

// An indicator with `marking` (none when empty) and a signature entry by `signer` (none when
// empty). The signature bytes do not matter to egress: it was verified when it came in.
std::string Indicator(int n, const std::string& marking, const std::string& signer,
                      const std::string& type = "indicator") {
  std::string id = common::Cat(type, "--00000000-0000-4000-8000-00000000000", n);
  std::string s = common::Cat(
      R"({"type":")", type, R"(","spec_version":"2.1","id":")", id,
      R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z")");
  if (type == "indicator") {
    s +=
        R"(,"pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z")";
  } else {
    s += R"(,"name":"m","is_family":false)";
  }
  if (!marking.empty()) common::Append(&s, R"(,"object_marking_refs":[")", marking, "\"]");
  if (!signer.empty()) {
    common::Append(&s, R"(,"extensions":{")", kSigExt,
                   R"(":{"extension_type":"property-extension","signer":")", signer,
                   R"(","alg":"Ed25519","signature":"AAAA"}})");
  }
  return s + "}";
}

class PeerGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           common::Cat("accord-peer-gate-test-", getpid(), "-",
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store::Options o;
    o.dir = dir_.string();
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    dir_peers_ = std::make_shared<FakeDirectory>();
    FederationRules& r = dir_peers_->rules;
    r.own_identity = kOwn;
    r.default_tlp = Tlp::kAmber;
    r.signature_extension = kSigExt;
    r.fingerprint = "v1";
    PeerRules b;  // another organisation, direct AMBER, forwards GREEN, indicators only
    b.identity = kB;
    b.terms = {false, Tlp::kAmber, true};
    b.collections = {"out"};
    b.types = {"indicator"};
    b.given_into = "from-b";
    r.peers["b"] = b;
    PeerRules c;  // the same organisation, up to AMBER+STRICT, forwards nothing, every type
    c.identity = "identity--0c0c0c0c-0c0c-4c0c-8c0c-0c0c0c0c0c0c";
    c.terms = {true, Tlp::kAmberStrict, false};
    c.collections = {"out"};
    r.peers["c"] = c;
    NodeGateOptions go;
    go.refresh_interval_us = 0;
    go.peers = dir_peers_;
    gate_ = NewNodeGate(store_.get(), go);
  }
  void TearDown() override {
    gate_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // [redaction.roles]: readers get the profile "readers", which strips URL queries.
  void GiveReadersAProfile() {
    RedactionProfile profile;
    profile.name = "readers";
    profile.strip_url_query = true;
    auto redactor = Redactor::Create(profile);
    ASSERT_TRUE(redactor.ok());
    dir_peers_->rules.role_redactors["reader"] = *redactor;
    dir_peers_->rules.fingerprint = "v2";
  }
  // A note with a URL query in its content.
  static store::StoredObject NoteWithQuery() {
    store::StoredObject o;
    o.id = "note--00000000-0000-4000-8000-000000000009";
    o.type = "note";
    o.json =
        R"({"type":"note","id":"note--00000000-0000-4000-8000-000000000009","content":"see https://x.example/a?token=s3cret","object_refs":["indicator--00000000-0000-4000-8000-000000000001"]})";
    return o;
  }
  void Import(const std::string& collection, const std::string& json) {
    auto txn = store_->BeginImport(collection);
    ASSERT_TRUE(txn.ok()) << txn.status();
    auto r = stix::ReadBuffer(
        json, stix::ReaderOptions{}, [&](stix::ObjectRecord&& rec) { return (*txn)->Add(rec); },
        [&](stix::Problem&& p) {
          if (!p.warning) ADD_FAILURE() << p.ToString();
        });
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  // The verdict for `json` at a TAXII page for peer `peer`: 'A'llow, 'D'eny or 'R'eplace.
  char Verdict(const std::string& peer, const std::string& json) {
    store::StoredObject o;
    o.json = json;
    auto start = json.find("\"id\":\"") + 6;
    o.id = json.substr(start, json.find('"', start) - start);
    o.type = o.id.substr(0, o.id.find("--"));
    o.modified = 1704067200000000;  // 2024-01-01T00:00:00Z
    o.has_modified = true;
    EXPECT_TRUE(gate_->CheckExit(Audience::Peer(peer), Exit::kTaxiiObjects).ok());
    Decision d = gate_->Admit(o, Audience::Peer(peer), Exit::kTaxiiObjects);
    if (d.verdict == Decision::Verdict::kReplace) {
      EXPECT_EQ(d.json, common::Cat("{\"signed\":", json, "}"));
      return 'R';
    }
    return d.verdict == Decision::Verdict::kAllow ? 'A' : 'D';
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<FakeDirectory> dir_peers_;
  std::unique_ptr<Gate> gate_;
};

TEST_F(PeerGateTest, TlpAndTypesDecideWhatEachPeerGets) {
  struct Case {
    std::string what, json;
    char to_b, to_c;
  };
  const Case cases[] = {
      // Originated here (unsigned): leaves signed where TLP allows.
      {"own green", Indicator(1, kGreen, ""), 'R', 'R'},
      {"own red", Indicator(2, kRed, ""), 'D', 'D'},
      {"own amber", Indicator(3, kAmber, ""), 'R', 'R'},
      {"own amber+strict", Indicator(4, kAmberStrict, ""), 'D', 'R'},
      {"own, unmarked: the default, amber", Indicator(5, "", ""), 'R', 'R'},
      {"own malware: not a type b takes", Indicator(6, kGreen, "", "malware"), 'D', 'R'},
      // Already signed by this node: leaves as it is.
      {"own green, signed", Indicator(7, kGreen, kOwn), 'A', 'A'},
      // Originated elsewhere (forwarded): only GREEN/CLEAR, only where forward = true.
      {"x green", Indicator(8, kGreen, kX), 'A', 'D'},
      {"x amber", Indicator(9, kAmber, kX), 'D', 'D'},
      {"x amber+strict", Indicator(10, kAmberStrict, kX), 'D', 'D'},
      // Originated at b: never back to b.
      {"b green", Indicator(11, kGreen, kB), 'D', 'D'},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Verdict("b", c.json), c.to_b) << c.what;
    EXPECT_EQ(Verdict("c", c.json), c.to_c) << c.what;
    // The node's own users and operator are not peers: TLP does not restrict them here.
    store::StoredObject o;
    o.json = c.json;
    EXPECT_TRUE(gate_->Admit(o, Audience::LocalOperator(), Exit::kExport).allowed()) << c.what;
  }
}

TEST_F(PeerGateTest, WhatAPeerGaveUsNeverGoesBackToIt) {
  // x's green indicator came to us from b (it is in b's landing collection) and from c.
  const std::string json = Indicator(8, kGreen, kX);
  Import("from-b", json);
  EXPECT_EQ(Verdict("b", json), 'D');
  // A peer that did not give it (and takes forwarded GREEN) would get it: add one.
  FederationRules r = dir_peers_->rules;
  PeerRules d = r.peers["b"];
  d.identity = "identity--0d0d0d0d-0d0d-4d0d-8d0d-0d0d0d0d0d0d";
  d.given_into = "from-d";
  r.peers["d"] = d;
  r.fingerprint = "v2";
  dir_peers_->rules = r;
  EXPECT_EQ(Verdict("d", json), 'A');
}

TEST_F(PeerGateTest, PeersSeeOnlyTheirCollectionsAndNeedAnAgreement) {
  store::CollectionInfo out, secret;
  out.id = "11111111-1111-4111-8111-111111111111";
  out.alias = "out";
  secret.id = "22222222-2222-4222-8222-222222222222";
  secret.alias = "secret";
  secret.is_public = true;  // public to clients, still not shared with peers
  EXPECT_TRUE(gate_->CollectionOpen(Audience::Peer("b"), out));
  EXPECT_FALSE(gate_->CollectionOpen(Audience::Peer("b"), secret));
  EXPECT_FALSE(gate_->CollectionOpen(Audience::Peer("nobody"), out));
  EXPECT_TRUE(gate_->CollectionOpen(Audience::User("alice", "reader"), secret));
  // A peer without an agreement may use no server exit; an operator's push to a plain TAXII
  // server (named by its URL) is the operator's to make.
  EXPECT_EQ(gate_->CheckExit(Audience::Peer("nobody"), Exit::kTaxiiObjects).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(gate_->CheckExit(Audience::Peer("nobody"), Exit::kTaxiiManifest).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(gate_->CheckExit(Audience::Peer("https://x.example/api/"), Exit::kTaxiiPush).ok());
  store::StoredObject o;
  o.json = Indicator(1, kGreen, "");
  EXPECT_FALSE(gate_->Admit(o, Audience::Peer("nobody"), Exit::kTaxiiObjects).allowed());
}

TEST_F(PeerGateTest, ANodeWithoutIdentitySendsPeersNothing) {
  dir_peers_->rules.own_identity.clear();
  dir_peers_->rules.fingerprint = "v2";
  EXPECT_EQ(Verdict("b", Indicator(1, kGreen, "")), 'D');
}

TEST_F(PeerGateTest, AChangedAgreementMovesTheGenerationAndAnUnreadableOneClosesAll) {
  uint64_t g1 = gate_->generation();
  EXPECT_EQ(gate_->generation(), g1);  // nothing changed
  dir_peers_->rules.peers["b"].terms.max_tlp = Tlp::kGreen;
  dir_peers_->rules.fingerprint = "v2";
  uint64_t g2 = gate_->generation();
  EXPECT_NE(g2, g1);
  EXPECT_EQ(Verdict("b", Indicator(3, kAmber, "")), 'D');  // now over b's max_tlp
  dir_peers_->broken = true;
  EXPECT_NE(gate_->generation(), g2);
  EXPECT_FALSE(gate_->CheckExit(Audience::Peer("b"), Exit::kTaxiiObjects).ok());
  EXPECT_FALSE(gate_->CheckExit(Audience::LocalOperator(), Exit::kExport).ok());
}

TEST_F(PeerGateTest, PagesForAPeerCountWhatTheyWithhold) {
  Import("out", Indicator(1, kGreen, "") + "\n" + Indicator(2, kRed, "") + "\n" +
                    Indicator(8, kGreen, kX) + "\n");
  EgressReader reader(store_.get(), gate_.get());
  store::Query q;
  q.collection = "out";
  q.limit = 2;  // the first page: 1 (signed for c) and 2 (RED: withheld)
  auto page = reader.List(q, Audience::Peer("c"), Exit::kTaxiiObjects);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->replaced, 1u);
  EXPECT_EQ(page->withheld, 1u);
  ASSERT_TRUE(page->more);
  q.cursor = page->next;  // the second page: 8 (forwarded; c takes no forwards)
  auto second = reader.List(q, Audience::Peer("c"), Exit::kTaxiiObjects);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->objects.empty());
  EXPECT_EQ(second->withheld, 1u);
}

// Issue 13, points 4 and 5, for a peer "d" whose agreement names a redaction profile, keeps
// observed data, shares sightings from a count of 3 in one-hour buckets. Expected values by
// hand from the rules in the issue.
TEST_F(PeerGateTest, RedactionObservedDataAndSightingsFollowTheAgreement) {
  RedactionProfile profile;
  profile.name = "partners";
  profile.drop_types = {"email-addr"};
  common::IpPrefix victims;
  ASSERT_TRUE(common::ParseIpPrefix("10.0.0.0/8", &victims));
  profile.victim_ranges = {victims};
  auto redactor = Redactor::Create(profile);
  ASSERT_TRUE(redactor.ok());
  PeerRules d;
  d.identity = "identity--0d0d0d0d-0d0d-4d0d-8d0d-0d0d0d0d0d0d";
  d.terms = {false, Tlp::kAmber, true};
  d.collections = {"out"};
  d.redactor = *redactor;
  d.sighting_min_count = 3;
  d.sighting_bucket_s = 3600;
  dir_peers_->rules.peers["d"] = d;
  dir_peers_->rules.fingerprint = "v2";
  auto admit = [&](const std::string& peer, const std::string& json) {
    store::StoredObject o;
    o.json = json;
    auto start = json.find("\"id\":\"") + 6;
    o.id = json.substr(start, json.find('"', start) - start);
    o.type = o.id.substr(0, o.id.find("--"));
    EXPECT_TRUE(gate_->CheckExit(Audience::Peer(peer), Exit::kTaxiiObjects).ok());
    return gate_->Admit(o, Audience::Peer(peer), Exit::kTaxiiObjects);
  };
  // The profile drops e-mail addresses, naming itself.
  Decision mail = admit(
      "d",
      R"({"type":"email-addr","spec_version":"2.1","id":"email-addr--00000000-0000-4000-8000-000000000001","value":"a@b.example"})");
  EXPECT_EQ(mail.verdict, Decision::Verdict::kDeny);
  EXPECT_EQ(mail.profile, "partners");
  // A forwarded GREEN indicator naming a victim address: a redacted copy, signed by this node
  // (the fake directory wraps what it signs), never left under the originator's signature.
  const std::string forwarded = Indicator(1, kGreen, kX);
  std::string with_victim = forwarded;
  with_victim.replace(with_victim.find("10.0.0.1"), 8, "10.2.3.4");
  Decision red = admit("d", with_victim);
  ASSERT_EQ(red.verdict, Decision::Verdict::kReplace) << red.reason;
  EXPECT_EQ(red.profile, "partners");
  EXPECT_EQ(red.json.rfind("{\"signed\":", 0), 0u) << red.json;
  EXPECT_NE(red.json.find("10.2.3.0/24"), std::string::npos) << red.json;
  EXPECT_EQ(red.json.find("10.2.3.4"), std::string::npos) << red.json;
  // The same object to b (no profile): as before, forwarded untouched.
  EXPECT_EQ(admit("b", with_victim).verdict, Decision::Verdict::kAllow);

  // Raw observed data: d did not say share_observed_data; c neither.
  const std::string od =
      R"({"type":"observed-data","spec_version":"2.1","id":"observed-data--00000000-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":["domain-name--00000000-0000-4000-8000-000000000003"]})";
  Decision od_d = admit("d", od);
  EXPECT_EQ(od_d.verdict, Decision::Verdict::kDeny);
  EXPECT_NE(od_d.reason.find("share_observed_data"), std::string::npos) << od_d.reason;
  dir_peers_->rules.peers["d"].share_observed_data = true;
  dir_peers_->rules.fingerprint = "v3";
  EXPECT_TRUE(admit("d", od).allowed());

  // Sightings: under the k-threshold withheld; at it, times coarsened to the hour (first_seen
  // down, last_seen up) and observed-data references kept now that d takes observed data.
  auto sighting = [](int count) {
    return common::Cat(
        R"({"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-00000000000)",
        count,
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001","count":)",
        count,
        R"(,"first_seen":"2024-01-01T10:17:00Z","last_seen":"2024-01-01T12:00:00Z","observed_data_refs":["observed-data--00000000-0000-4000-8000-000000000002"]})");
  };
  Decision two = admit("d", sighting(2));
  EXPECT_EQ(two.verdict, Decision::Verdict::kDeny);
  EXPECT_NE(two.reason.find("sighting_min_count 3"), std::string::npos) << two.reason;
  Decision three = admit("d", sighting(3));
  ASSERT_EQ(three.verdict, Decision::Verdict::kReplace) << three.reason;
  EXPECT_NE(three.json.find(R"("first_seen":"2024-01-01T10:00:00.000000Z")"), std::string::npos)
      << three.json;
  EXPECT_NE(three.json.find(R"("last_seen":"2024-01-01T12:00:00Z")"), std::string::npos)
      << three.json;  // already on a boundary: unchanged
  EXPECT_NE(three.json.find("observed_data_refs"), std::string::npos);
  // c does not take observed data: the references go, the count stays.
  Decision to_c = admit("c", sighting(3));
  ASSERT_EQ(to_c.verdict, Decision::Verdict::kReplace) << to_c.reason;
  EXPECT_EQ(to_c.json.find("observed_data_refs"), std::string::npos) << to_c.json;
  EXPECT_NE(to_c.json.find(R"("count":3)"), std::string::npos);
}

// [redaction.roles]: a reader gets the role's profile; an analyst (no profile) the original.
TEST_F(PeerGateTest, ARolesProfileRedactsWhatItsUsersRead) {
  GiveReadersAProfile();
  const store::StoredObject o = NoteWithQuery();
  ASSERT_TRUE(gate_->CheckExit(Audience::User("rita", "reader"), Exit::kTaxiiObjects).ok());
  Decision r = gate_->Admit(o, Audience::User("rita", "reader"), Exit::kTaxiiObjects);
  ASSERT_EQ(r.verdict, Decision::Verdict::kReplace) << r.reason;
  EXPECT_EQ(r.profile, "readers");
  EXPECT_NE(r.json.find(R"("content":"see https://x.example/a")"), std::string::npos) << r.json;
  EXPECT_EQ(gate_->Admit(o, Audience::User("ana", "analyst"), Exit::kTaxiiObjects).verdict,
            Decision::Verdict::kAllow);
}

// A change of the rules reaches the next decision on every thread, including threads that
// decided under the rules before (each keeps the rules it last read: NodeGate::ThreadRules),
// and a second gate's rules never stand in for the first's on a thread that used both. By
// hand: b's agreement takes indicators only, so a malware leaves for b only once a new
// agreement takes every type; a reader's profile strips the query only once it exists.
TEST_F(PeerGateTest, ARulesChangeReachesEveryThreadsNextDecision) {
  const std::string malware_json = Indicator(5, kGreen, "", "malware");
  store::StoredObject malware;
  malware.id = "malware--00000000-0000-4000-8000-000000000005";
  malware.type = "malware";
  malware.json = malware_json;
  const store::StoredObject note = NoteWithQuery();
  const Audience reader = Audience::User("rita", "reader");
  auto decide = [&](const Object& o, const Audience& a) {
    EXPECT_TRUE(gate_->CheckExit(a, Exit::kTaxiiObjects).ok());
    return gate_->Admit(o, a, Exit::kTaxiiObjects).verdict;
  };
  // Before: on this thread and on another.
  EXPECT_EQ(decide(malware, Audience::Peer("b")), Decision::Verdict::kDeny);
  EXPECT_EQ(decide(note, reader), Decision::Verdict::kAllow);
  std::thread([&] {
    EXPECT_EQ(decide(malware, Audience::Peer("b")), Decision::Verdict::kDeny);
    EXPECT_EQ(decide(note, reader), Decision::Verdict::kAllow);
  }).join();
  // A second gate on this thread, with rules of its own in which b takes every type.
  auto other_dir = std::make_shared<FakeDirectory>();
  other_dir->rules = dir_peers_->rules;
  other_dir->rules.peers["b"].types.clear();
  other_dir->rules.fingerprint = "other";
  NodeGateOptions go;
  go.refresh_interval_us = 0;
  go.peers = other_dir;
  auto other = NewNodeGate(store_.get(), go);
  ASSERT_TRUE(other->CheckExit(Audience::Peer("b"), Exit::kTaxiiObjects).ok());
  EXPECT_NE(other->Admit(malware, Audience::Peer("b"), Exit::kTaxiiObjects).verdict,
            Decision::Verdict::kDeny);
  EXPECT_EQ(decide(malware, Audience::Peer("b")), Decision::Verdict::kDeny);  // still the first's
  // The change: b takes every type; readers get a profile that strips queries.
  dir_peers_->rules.peers["b"].types.clear();
  GiveReadersAProfile();
  EXPECT_NE(decide(malware, Audience::Peer("b")), Decision::Verdict::kDeny);
  EXPECT_EQ(decide(note, reader), Decision::Verdict::kReplace);
  std::thread([&] {
    EXPECT_NE(decide(malware, Audience::Peer("b")), Decision::Verdict::kDeny);
    EXPECT_EQ(decide(note, reader), Decision::Verdict::kReplace);
  }).join();
}

// The gate's look-up memo, with a profile that remembers nothing (0) and one that remembers
// its results (the bytes it may use).
class PeerGateMemoTest : public PeerGateTest, public ::testing::WithParamInterface<size_t> {
 protected:
  // A gate whose analysts read under a profile that drops individuals, with a refresh
  // interval of an hour unless given (only batches end the memo), polling the store's
  // generation at most every `change_poll_us` (0: at every batch).
  std::unique_ptr<Gate> AnalystGate(store::Store* store = nullptr, int64_t change_poll_us = 0,
                                    size_t memo_bytes = NodeGateOptions().memo_bytes,
                                    int64_t refresh_interval_us = int64_t{3600} * 1000000) {
    RedactionProfile profile;
    profile.name = "no-individuals";
    profile.drop_identity_classes = {"individual"};
    auto redactor = Redactor::Create(profile, true, GetParam());
    EXPECT_TRUE(redactor.ok()) << redactor.status();
    dir_peers_->rules.role_redactors["analyst"] = *redactor;
    NodeGateOptions go;
    go.refresh_interval_us = refresh_interval_us;
    go.change_poll_us = change_poll_us;
    go.memo_bytes = memo_bytes;
    go.peers = dir_peers_;
    return NewNodeGate(store != nullptr ? store : store_.get(), go);
  }
  // An identity of class `cls`, version `modified`.
  static std::string Identity(const char* id, const char* modified, const char* cls) {
    return common::Cat(R"({"type":"identity","spec_version":"2.1","id":")", id,
                       R"(","created":"2024-01-01T00:00:00.000Z","modified":")", modified,
                       R"(","name":"X","identity_class":")", cls, R"("})");
  }
  // Note `n`, created by `creator`, leaves an analyst's batch as it is; `change` (an identity
  // of class individual for `creator`) is imported during the batch, which still lets the
  // note go as it is; the next batch removes its created_by_ref.
  void ExpectTheChangeOnlyInTheNextBatch(char n, const char* creator, const std::string& change) {
    auto gate = AnalystGate();
    const store::StoredObject note = Note(n, creator);
    const Audience analyst = Audience::User("ana", "analyst");
    ASSERT_TRUE(gate->CheckExit(analyst, Exit::kTaxiiObjects).ok());
    EXPECT_EQ(gate->Admit(note, analyst, Exit::kTaxiiObjects).verdict, Decision::Verdict::kAllow);
    Import("out", change);
    // The same batch: the creator as it was.
    EXPECT_EQ(gate->Admit(note, analyst, Exit::kTaxiiObjects).verdict, Decision::Verdict::kAllow);
    // The next batch: the creator is an individual; the reference goes.
    ASSERT_TRUE(gate->CheckExit(analyst, Exit::kTaxiiObjects).ok());
    Decision d = gate->Admit(note, analyst, Exit::kTaxiiObjects);
    ASSERT_EQ(d.verdict, Decision::Verdict::kReplace) << d.reason;
    EXPECT_EQ(d.json.find("created_by_ref"), std::string::npos) << d.json;
  }
  // A note numbered `n` whose creator is `creator`.
  static store::StoredObject Note(char n, const char* creator) {
    store::StoredObject note;
    note.id = common::Cat("note--00000000-0000-4000-8000-00000000000", std::string(1, n));
    note.type = "note";
    note.json = common::Cat(
        R"({"type":"note","spec_version":"2.1","id":")", note.id,
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","content":")",
        // long enough to be remembered (Redactor::kRememberedMinBytes)
        std::string(Redactor::kRememberedMinBytes, 'c'),
        R"(","object_refs":["indicator--00000000-0000-4000-8000-000000000001"],"created_by_ref":")",
        creator, R"("})");
    return note;
  }
  // One batch of an analyst's exit: CheckExit, then the decision for `note`.
  static Decision Batch(Gate& gate, const store::StoredObject& note) {
    const Audience analyst = Audience::User("ana", "analyst");
    EXPECT_TRUE(gate.CheckExit(analyst, Exit::kTaxiiObjects).ok());
    return gate.Admit(note, analyst, Exit::kTaxiiObjects);
  }
  // The creator whose reads the tests below count, an organisation at first.
  static constexpr const char* kCounted = "identity--0d0d0d0d-0d0d-4d0d-8d0d-0d0d0d0d0d0d";
  static std::string Organisation() {
    return Identity(kCounted, "2024-01-01T00:00:00.000Z", "organization");
  }
};
INSTANTIATE_TEST_SUITE_P(Profiles, PeerGateMemoTest, ::testing::Values(size_t{0}, size_t{1} << 20));

// What an object refers to is looked up at most once in a batch (from one CheckExit to the
// next; the memo also outlives it while the store stands, below): every decision of a batch
// sees the store as it was when the batch first looked, and the next batch sees a change. By
// hand, from the profile: an
// analyst's profile drops identities of class "individual" with every reference to them, so a
// note created by identity X leaves as it is while X is an organisation, and without its
// created_by_ref once X is an individual.
TEST_P(PeerGateMemoTest, AReferencedObjectIsReadOncePerBatch) {
  constexpr const char* kCreator = "identity--0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f";
  Import("out", Identity(kCreator, "2024-01-01T00:00:00.000Z", "organization"));
  // A profile that remembers its results (the node's default) passes the same.
  ExpectTheChangeOnlyInTheNextBatch('a', kCreator,
                                    Identity(kCreator, "2024-02-01T00:00:00.000Z", "individual"));
}

// The same for an object the store does not hold: that it is absent is remembered for the
// batch too (real feeds refer to creators they do not carry, and each such look-up read the
// store again). An unknown creator's reference is kept (the walk keeps what it cannot look
// up); once the creator arrives as an individual, the next batch removes it.
TEST_P(PeerGateMemoTest, AnAbsentReferencedObjectIsLookedUpOncePerBatch) {
  constexpr const char* kCreator = "identity--0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e";
  ExpectTheChangeOnlyInTheNextBatch('b', kCreator,
                                    Identity(kCreator, "2024-01-01T00:00:00.000Z", "individual"));
}

// A store that counts the reads of each id.
class CountingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::StatusOr<std::vector<store::StoredObject>> Get(const std::string& id,
                                                       store::VersionSelect v) override {
    ++gets[id];
    return ForwardingStore::Get(id, v);
  }
  std::map<std::string, int> gets;
};

// Across batches, a referenced object is read again only once the store has changed (any
// write moves its generation): pages of a feed all refer to the same identity, and each
// page's read of it was two SQLite reads (docs/PERFORMANCE.md). The counts are the rule's:
// one read, none more while nothing is written, one after each write.
TEST_P(PeerGateMemoTest, AReferencedObjectIsReadAgainOnlyAfterTheStoreChanged) {
  Import("out", Organisation());
  CountingStore counting(store_.get());
  auto gate = AnalystGate(&counting);
  const store::StoredObject note = Note('c', kCounted);
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
  EXPECT_EQ(counting.gets[kCounted], 1);
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
  EXPECT_EQ(counting.gets[kCounted], 1) << "read again while the store did not change";
  // A write of something else: the next batch reads the creator again, once.
  Import("out", Indicator(7, kGreen, ""));
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
  EXPECT_EQ(counting.gets[kCounted], 2);
  // The creator becomes an individual: the next batch sees it.
  Import("out", Identity(kCounted, "2024-02-01T00:00:00.000Z", "individual"));
  Decision d = Batch(*gate, note);
  ASSERT_EQ(d.verdict, Decision::Verdict::kReplace) << d.reason;
  EXPECT_EQ(d.json.find("created_by_ref"), std::string::npos) << d.json;
  EXPECT_EQ(counting.gets[kCounted], 3);
}

// The store's generation is polled at most once per change_poll_us, by all threads together:
// within that time a batch keeps what its thread looked up. Another thread's first look-up
// reads the store as it is.
TEST_P(PeerGateMemoTest, TheStoresGenerationIsPolledAtMostOncePerInterval) {
  Import("out", Organisation());
  CountingStore counting(store_.get());
  auto gate = AnalystGate(&counting, int64_t{3600} * 1000000);
  const store::StoredObject note = Note('c', kCounted);
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
  Import("out", Identity(kCounted, "2024-02-01T00:00:00.000Z", "individual"));
  EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);  // the poll of an hour ago
  std::thread([&] {
    // another thread: a look-up of its own
    EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kReplace);
  }).join();
  EXPECT_EQ(counting.gets[kCounted], 2);
}

// Within one long batch (an export, a push), the memo is checked against the store again once
// the refresh interval has passed: the clock is read at least every 32 decisions (the gate
// reads it at every 32nd use of its memo, and each decision uses it at least once). With an
// interval of 1 us, a creator that becomes an individual during the batch is seen within 32
// decisions, and read once more; not again while the store stands.
TEST_P(PeerGateMemoTest, WithinALongBatchTheStoreIsCheckedAgainAfterTheInterval) {
  Import("out", Organisation());
  CountingStore counting(store_.get());
  auto gate = AnalystGate(&counting, 0, NodeGateOptions().memo_bytes, 1);
  const store::StoredObject note = Note('c', kCounted);
  const Audience analyst = Audience::User("ana", "analyst");
  ASSERT_TRUE(gate->CheckExit(analyst, Exit::kTaxiiObjects).ok());
  EXPECT_EQ(gate->Admit(note, analyst, Exit::kTaxiiObjects).verdict, Decision::Verdict::kAllow);
  Import("out", Identity(kCounted, "2024-02-01T00:00:00.000Z", "individual"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the interval has passed
  int seen_at = 0;
  for (int i = 1; i <= 64; ++i) {
    const Decision d = gate->Admit(note, analyst, Exit::kTaxiiObjects);
    if (d.verdict == Decision::Verdict::kReplace && seen_at == 0) seen_at = i;
    if (seen_at != 0) {
      EXPECT_EQ(d.verdict, Decision::Verdict::kReplace) << "decision " << i;
    }
  }
  EXPECT_GE(seen_at, 1);
  EXPECT_LE(seen_at, 32);
  EXPECT_EQ(counting.gets[kCounted], 2);
}

// What a thread keeps of the objects it looked up has a budget (NodeGateOptions::memo_bytes):
// past it, the memo is forgotten and each batch reads again. With a budget of one byte, every
// batch reads the creator (three batches: three reads); with one that holds the creator, once.
TEST_P(PeerGateMemoTest, ALookUpMemoKeepsWithinItsBudget) {
  const std::string creator = Organisation();
  Import("out", creator);
  const store::StoredObject note = Note('c', kCounted);
  for (const size_t budget : {size_t{1}, creator.size() + 1000}) {
    SCOPED_TRACE(testing::Message() << "budget " << budget);
    CountingStore counting(store_.get());
    auto gate = AnalystGate(&counting, 0, budget);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(Batch(*gate, note).verdict, Decision::Verdict::kAllow);
    }
    EXPECT_EQ(counting.gets[kCounted], budget == 1 ? 3 : 1);
  }
}

// Issue 13, point 2: a sighting or relationship is at least as restricted as what it refers
// to. GREEN sightings of stored indicators: of an AMBER one, it is AMBER (b takes AMBER only
// directly: allowed, signed; with max_tlp GREEN: refused); of a RED one, RED (never leaves, and
// no reader sees it).
TEST_F(PeerGateTest, DerivedObjectsInheritRestriction) {
  Import("out", Indicator(1, kAmber, ""));
  Import("out", Indicator(2, kRed, ""));
  auto sighting = [](int of) {
    return common::Cat(
        R"({"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-00000000001)",
        of,
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-00000000000)",
        of, R"(","count":4,"object_marking_refs":[")", kGreen, R"("]})");
  };
  auto relationship = [](int to) {
    return common::Cat(
        R"({"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-00000000002)",
        to,
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--00000000-0000-4000-8000-00000000000)",
        to,
        R"(","target_ref":"malware--00000000-0000-4000-8000-000000000099","object_marking_refs":[")",
        kGreen, R"("]})");
  };
  EXPECT_EQ(Verdict("c", sighting(1)), 'R');  // AMBER, directly, same organisation
  EXPECT_EQ(Verdict("c", sighting(2)), 'D');  // RED
  EXPECT_EQ(Verdict("c", relationship(1)), 'R');
  EXPECT_EQ(Verdict("c", relationship(2)), 'D');
  dir_peers_->rules.peers["c"].terms.max_tlp = Tlp::kGreen;
  dir_peers_->rules.fingerprint = "v2";
  EXPECT_EQ(Verdict("c", sighting(1)), 'D');  // AMBER is above c's max_tlp now
  // A sighting of an indicator this node does not hold is what it says it is (GREEN).
  EXPECT_EQ(Verdict("c", sighting(7)), 'R');
  store::StoredObject o;
  o.json = sighting(2);
  o.id = "sighting--00000000-0000-4000-8000-000000000012";
  o.type = "sighting";
  Decision d = gate_->Admit(o, Audience::User("rita", "reader"), Exit::kTaxiiObjects);
  EXPECT_EQ(d.verdict, Decision::Verdict::kDeny);
  EXPECT_NE(d.reason.find("inherited from indicator--00000000-0000-4000-8000-000000000002"),
            std::string::npos)
      << d.reason;
  o.json = sighting(1);
  EXPECT_TRUE(gate_->Admit(o, Audience::User("rita", "reader"), Exit::kTaxiiObjects).allowed());
}

// Issue 14: requests and their steps reach a peer only over the request channel, only when
// this node made them, and only when they are addressed to that peer; whatever the peer's
// agreement shares, and whether or not it has one.
TEST_F(PeerGateTest, RequestsTravelOnlyOverTheChannelToTheirAddressee) {
  constexpr const char* kC = "identity--0c0c0c0c-0c0c-4c0c-8c0c-0c0c0c0c0c0c";
  constexpr const char* kD = "identity--0d0d0d0d-0d0d-4d0d-8d0d-0d0d0d0d0d0d";
  FederationRules& r = dir_peers_->rules;
  r.peer_identities = {{"b", kB}, {"c", kC}, {"d", kD}};  // d: a peer without an agreement
  r.peers["b"].types.clear();                             // b takes every type
  r.peers["b"].collections = {"out", "requests"};         // ... and even lists "requests"
  r.fingerprint = "v3";
  auto object = [](const std::string& type, const std::string& by, const std::string& key,
                   const std::string& to) {
    store::StoredObject o;
    o.type = type;
    o.id = type + "--00000000-0000-4000-8000-000000000001";
    o.json = common::Cat(R"({"type":")", type, R"(","id":")", o.id, R"(","created_by_ref":")", by,
                         R"(",")", key, R"(":")", to, R"("})");
    return o;
  };
  auto verdict = [&](const store::StoredObject& o, const std::string& peer, Exit e) {
    return gate_->Admit(o, Audience::Peer(peer), e).verdict == Decision::Verdict::kAllow;
  };
  const auto to_b = object("x-accord-request", kOwn, "addressee_ref", kB);
  const auto step_to_d = object("x-accord-request-step", kOwn, "to_ref", kD);
  const auto from_x = object("x-accord-request", kX, "addressee_ref", kB);
  // Over the channel: to its addressee only, and only what this node made.
  EXPECT_TRUE(gate_->CheckExit(Audience::Peer("b"), Exit::kRequestChannel).ok());
  EXPECT_TRUE(verdict(to_b, "b", Exit::kRequestChannel));
  EXPECT_FALSE(verdict(to_b, "c", Exit::kRequestChannel));
  EXPECT_TRUE(verdict(step_to_d, "d", Exit::kRequestChannel));
  EXPECT_FALSE(verdict(step_to_d, "b", Exit::kRequestChannel));
  EXPECT_FALSE(verdict(from_x, "b", Exit::kRequestChannel));
  // Nothing else travels over it; no one but a configured peer is served by it.
  EXPECT_FALSE(verdict(object("indicator", kOwn, "addressee_ref", kB), "b", Exit::kRequestChannel));
  EXPECT_FALSE(gate_->CheckExit(Audience::Peer("nobody"), Exit::kRequestChannel).ok());
  EXPECT_FALSE(gate_->CheckExit(Audience::LocalOperator(), Exit::kRequestChannel).ok());
  // At every other exit a peer gets neither type, even its own addressee, even when shared.
  for (Exit e : AllExits()) {
    if (e == Exit::kRequestChannel) continue;
    EXPECT_FALSE(verdict(to_b, "b", e)) << ExitName(e);
    EXPECT_FALSE(verdict(step_to_d, "d", e)) << ExitName(e);
  }
  // The node's own people read them as any other object.
  EXPECT_TRUE(gate_->Admit(to_b, Audience::LocalOperator(), Exit::kGet).allowed());
  EXPECT_TRUE(gate_->Admit(to_b, Audience::User("ana", "analyst"), Exit::kTaxiiObjects).allowed());
  // The channel's collection is never open to a peer, whatever its agreement lists.
  store::CollectionInfo requests;
  requests.id = "33333333-3333-4333-8333-333333333333";
  requests.alias = "requests";
  EXPECT_FALSE(gate_->CollectionOpen(Audience::Peer("b"), requests));
}

}  // namespace
}  // namespace accord::policy
