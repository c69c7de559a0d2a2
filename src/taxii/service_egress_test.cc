// The TAXII pages leave through the egress gate, and the page cache never hands one
// principal's page to another: a test gate withholds every object from bob, and alice and bob
// read the same pages, in both orders, with the cache on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "accord/http/auth.h"
#include "accord/policy/gate.h"
#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "accord/taxii/service.h"

namespace accord::taxii {
namespace {

constexpr const char* kId = "indicator--c0c0c0c0-0000-4000-8000-000000000001";
constexpr const char* kIndicator =
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--c0c0c0c0-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";

// Withholds every object from the user named `denied`; counts its decisions.
class DenyOneUserGate final : public policy::Gate {
 public:
  explicit DenyOneUserGate(std::string denied) : denied_(std::move(denied)) {}
  int admits = 0;

 private:
  absl::Status DoCheckExit(const policy::Audience&, policy::Exit) override {
    return absl::OkStatus();
  }
  absl::StatusOr<policy::Decision> DoAdmit(const policy::Object&, const policy::Audience& a,
                                           policy::Exit) override {
    ++admits;
    if (a.kind == policy::Audience::Kind::kUser && a.name == denied_) {
      return policy::Decision::Deny("test: " + denied_ + " sees nothing");
    }
    return policy::Decision::Allow();
  }
  uint64_t DoGeneration() override { return 1; }
  std::string denied_;
};

class ServiceEgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("accord-service-egress-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    store::Options so;
    so.dir = dir_.string();
    auto s = store::Store::Open(so);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    store::CollectionInfo ci;
    ci.alias = "shared";
    ci.title = "shared";
    auto c = store_->CreateCollection(ci);
    ASSERT_TRUE(c.ok()) << c.status();
    cid_ = c->id;
    {
      // Scoped: an import transaction holds the store's write lock until it is destroyed.
      auto txn = store_->BeginImport(cid_);
      ASSERT_TRUE(txn.ok());
      auto r = stix::ReadBuffer(
          kIndicator, stix::ReaderOptions{},
          [&](stix::ObjectRecord&& rec) { return (*txn)->Add(rec); },
          [&](stix::Problem&& p) { ADD_FAILURE() << p.ToString(); });
      ASSERT_TRUE(r.ok());
      ASSERT_TRUE((*txn)->Commit().ok());
    }

    http::AuthDb::Options ao;
    ao.opslimit = 1;
    ao.memlimit = 8192;
    auto a = http::AuthDb::Open(store_.get(), ao);
    ASSERT_TRUE(a.ok()) << a.status();
    auth_ = std::move(*a);
    for (const char* user : {"alice", "bob"}) {
      ASSERT_TRUE(auth_->AddUser(user, http::Role::kAnalyst).ok());
      ASSERT_TRUE(auth_->SetGrant(user, cid_, true, false).ok());
      auto k = auth_->CreateKey(user);
      ASSERT_TRUE(k.ok()) << k.status();
      keys_[user] = *k;
    }
  }
  void TearDown() override {
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // GET `rel` (under the collection) as `user`: (status, body).
  std::pair<int, nlohmann::json> Get(Service& svc, const std::string& user,
                                     const std::string& rel) {
    http::Request req;
    req.method = "GET";
    req.target = "/api/collections/" + cid_ + "/" + rel;
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    req.headers = {{"accept", "application/taxii+json;version=2.1"},
                   {"authorization", "Bearer " + keys_[user]}};
    http::Response res;
    svc.Handle(req, res);
    http::AwaitDeferred(res);  // a page is answered once its audit entry is written
    return {res.status, nlohmann::json::parse(res.Body(), nullptr, false)};
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::AuthDb> auth_;
  std::string cid_;
  std::map<std::string, std::string> keys_;
};

TEST_F(ServiceEgressTest, APrincipalNeverGetsAnotherPrincipalsCachedPage) {
  DenyOneUserGate gate("bob");
  ServiceOptions opts;
  ASSERT_GT(opts.response_cache_bytes, 0u);  // the cache is on
  Service svc(store_.get(), auth_.get(), opts, nullptr, &gate);
  const std::string obj = std::string("objects/") + kId + "/";
  for (const std::string& rel :
       {std::string("objects/"), std::string("manifest/"), obj + "versions/"}) {
    // alice fills the cache first, then bob asks for the same page, then alice again.
    auto [a_status, a_body] = Get(svc, "alice", rel);
    ASSERT_EQ(a_status, 200) << rel;
    const char* member = rel.ends_with("versions/") ? "versions" : "objects";
    ASSERT_TRUE(a_body.contains(member)) << rel << ": " << a_body.dump();
    EXPECT_EQ(a_body[member].size(), 1u) << rel;
    auto [b_status, b_body] = Get(svc, "bob", rel);
    // A list page is empty for bob; the versions of an object he may not see are not found.
    EXPECT_EQ(b_status, rel.ends_with("versions/") ? 404 : 200) << rel;
    EXPECT_FALSE(b_body.contains(member)) << rel << ": bob got alice's page: " << b_body.dump();
    auto again = Get(svc, "alice", rel);
    EXPECT_EQ(again.second[member].size(), 1u) << rel;
  }
  // The other order: bob's empty page is not served to alice.
  auto [b_status, b_body] = Get(svc, "bob", "objects/?limit=5");
  EXPECT_EQ(b_status, 200);
  EXPECT_FALSE(b_body.contains("objects"));
  auto [a_status, a_body] = Get(svc, "alice", "objects/?limit=5");
  EXPECT_EQ(a_status, 200);
  EXPECT_EQ(a_body["objects"].size(), 1u);
  // A withheld object is not found, not an empty page: its existence does not leave either.
  EXPECT_EQ(Get(svc, "bob", obj).first, 404);
  EXPECT_EQ(Get(svc, "alice", obj).first, 200);
}

TEST_F(ServiceEgressTest, CachedPagesAreServedWithoutAskingTheGateAgain) {
  // The cache still works per audience: a repeated page costs no new decisions.
  DenyOneUserGate gate("nobody");
  Service svc(store_.get(), auth_.get(), ServiceOptions{}, nullptr, &gate);
  ASSERT_EQ(Get(svc, "alice", "objects/").first, 200);
  int after_first = gate.admits;
  EXPECT_GT(after_first, 0);
  ASSERT_EQ(Get(svc, "alice", "objects/").first, 200);
  EXPECT_EQ(gate.admits, after_first);
}

// Issue 12, point 4: a peer user (role peer) sees the collections its agreement shares and no
// other (a public one included), reads there what the agreement admits (a version this node
// originated, signed), and may write nothing; a peer without an agreement sees nothing.
class OnePeerDirectory final : public policy::PeerDirectory {
 public:
  absl::StatusOr<policy::FederationRules> Load() override {
    policy::FederationRules r;
    r.own_identity = "identity--0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a";
    r.signature_extension = "extension-definition--2f1d7e0a-5c9b-4c53-9f7e-6a3d1b8c4e21";
    r.fingerprint = "1";
    policy::PeerRules p;
    p.identity = "identity--0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b";
    p.terms.max_tlp = policy::Tlp::kAmber;  // the indicator has no marking: AMBER by default
    p.collections = {"shared"};
    r.peers["cert-b"] = p;
    return r;
  }
  absl::StatusOr<std::string> Sign(std::string_view json) override {
    return std::string(json.substr(0, json.size() - 1)) + R"(,"x_test_signed":true})";
  }
};

TEST_F(ServiceEgressTest, APeerSeesOnlyWhatItsAgreementShares) {
  store::CollectionInfo ci;
  ci.alias = "private";
  ci.is_public = true;
  auto priv = store_->CreateCollection(ci);
  ASSERT_TRUE(priv.ok()) << priv.status();
  for (const char* peer : {"cert-b", "cert-z"}) {
    ASSERT_TRUE(auth_->AddUser(peer, http::Role::kPeer).ok());
    keys_[peer] = *auth_->CreateKey(peer);
  }
  policy::NodeGateOptions go;
  go.peers = std::make_shared<OnePeerDirectory>();
  auto gate = policy::NewNodeGate(store_.get(), go);
  Service svc(store_.get(), auth_.get(), ServiceOptions{}, nullptr, gate.get());
  auto request = [&](const std::string& user, const std::string& method,
                     const std::string& target) {
    http::Request req;
    req.method = method;
    req.target = target;
    req.path = target;
    req.headers = {{"accept", "application/taxii+json;version=2.1"},
                   {"content-type", "application/taxii+json;version=2.1"},
                   {"authorization", "Bearer " + keys_[user]}};
    if (method == "POST") req.body = std::string(R"({"objects":[)") + kIndicator + "]}";
    http::Response res;
    svc.Handle(req, res);
    http::AwaitDeferred(res);
    return std::make_pair(res.status, nlohmann::json::parse(res.Body(), nullptr, false));
  };
  auto [st, cols] = request("cert-b", "GET", "/api/collections/");
  ASSERT_EQ(st, 200);
  ASSERT_EQ(cols["collections"].size(), 1u) << cols.dump();
  EXPECT_EQ(cols["collections"][0]["id"], cid_);
  EXPECT_EQ(cols["collections"][0]["can_read"], true);
  EXPECT_EQ(cols["collections"][0]["can_write"], false);
  auto [o_st, page] = request("cert-b", "GET", "/api/collections/" + cid_ + "/objects/");
  ASSERT_EQ(o_st, 200);
  ASSERT_EQ(page["objects"].size(), 1u);
  EXPECT_EQ(page["objects"][0]["x_test_signed"], true);  // signed by this node as it leaves
  EXPECT_EQ(request("cert-b", "GET", "/api/collections/" + priv->id + "/objects/").first, 404);
  EXPECT_EQ(request("cert-b", "POST", "/api/collections/" + cid_ + "/objects/").first, 403);
  // No agreement: nothing listed, nothing readable.
  auto [z_st, z_cols] = request("cert-z", "GET", "/api/collections/");
  EXPECT_EQ(z_st, 200);
  EXPECT_FALSE(z_cols.contains("collections")) << z_cols.dump();
  EXPECT_EQ(request("cert-z", "GET", "/api/collections/" + cid_ + "/objects/").first, 404);
  // A user keeps its grants' view: alice still reads the stored (unsigned) version.
  auto [a_st, a_page] = request("alice", "GET", "/api/collections/" + cid_ + "/objects/");
  ASSERT_EQ(a_st, 200);
  EXPECT_FALSE(a_page["objects"][0].contains("x_test_signed"));
}

// Issue 13, point 3, over TAXII with the node's gate: a reader never gets the TLP:RED object
// (in no list, by no id, in no manifest), an analyst with a grant gets both, and an auditor
// gets no intelligence from any endpoint (403 naming the rule).
TEST_F(ServiceEgressTest, RolesOverTaxii) {
  constexpr const char* kRedId = "indicator--c0c0c0c0-0000-4000-8000-0000000000ed";
  const std::string red =
      std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + kRedId +
      R"(","created":"2024-01-02T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.2']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]})";
  {
    auto txn = store_->BeginImport(cid_);
    ASSERT_TRUE(txn.ok());
    auto r = stix::ReadBuffer(
        red, stix::ReaderOptions{}, [&](stix::ObjectRecord&& rec) { return (*txn)->Add(rec); },
        [&](stix::Problem&& p) { ADD_FAILURE() << p.ToString(); });
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  for (auto [user, role] :
       {std::pair{"rita", http::Role::kReader}, std::pair{"dpo", http::Role::kAuditor}}) {
    ASSERT_TRUE(auth_->AddUser(user, role).ok());
    ASSERT_TRUE(auth_->SetGrant(user, cid_, true, true).ok());  // grants do not widen a role
    keys_[user] = *auth_->CreateKey(user);
  }
  auto gate = policy::NewNodeGate(store_.get());
  Service svc(store_.get(), auth_.get(), ServiceOptions{}, nullptr, gate.get());
  auto ids = [](const nlohmann::json& page, const char* member) {
    std::set<std::string> out;
    if (page.contains(member)) {
      for (const auto& o : page[member]) out.insert(o["id"].get<std::string>());
    }
    return out;
  };
  const std::set<std::string> both = {kId, kRedId};
  const std::set<std::string> not_red = {kId};
  for (const char* rel : {"objects/", "manifest/"}) {
    auto [a_st, a] = Get(svc, "alice", rel);
    ASSERT_EQ(a_st, 200);
    EXPECT_EQ(ids(a, "objects"), both) << rel;
    auto [r_st, r] = Get(svc, "rita", rel);
    ASSERT_EQ(r_st, 200);
    EXPECT_EQ(ids(r, "objects"), not_red) << rel << ": " << r.dump();
    auto [d_st, d] = Get(svc, "dpo", rel);
    EXPECT_EQ(d_st, 403) << rel << ": " << d.dump();
    EXPECT_NE(d.dump().find("auditor"), std::string::npos) << d.dump();
  }
  const std::string red_rel = std::string("objects/") + kRedId + "/";
  EXPECT_EQ(Get(svc, "alice", red_rel).first, 200);
  EXPECT_EQ(Get(svc, "rita", red_rel).first, 404);
  EXPECT_EQ(Get(svc, "rita", red_rel + "versions/").first, 404);
  EXPECT_EQ(Get(svc, "rita", std::string("objects/") + kId + "/").first, 200);
  EXPECT_EQ(Get(svc, "dpo", std::string("objects/") + kId + "/").first, 403);
  EXPECT_EQ(Get(svc, "dpo", std::string("objects/") + kId + "/versions/").first, 403);
}

}  // namespace
}  // namespace accord::taxii
