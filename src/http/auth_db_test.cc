// AuthDb's defences against bad secrets (issue 10, item 7), counted through AuthDb::stats():
// argon2id runs only within the failed-check budgets, a repeated bad secret is answered from
// the negative cache, unknown key ids and wrong Basic users still run argon2id, and a key
// verified once keeps working while its key id's budget is spent.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "accord/http/auth.h"
#include "accord/store/store.h"

namespace accord::http {
namespace {

class AuthDbLimits : public ::testing::Test {
 protected:
  void Open(AuthDb::Options o) {
    std::string tmpl = ::testing::TempDir() + "/accord-auth-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store::Options so;
    so.dir = dir_ + "/data";
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status();
    store_ = std::move(*st);
    o.opslimit = 1;  // cheap argon2id: these tests count runs, they do not time them
    o.memlimit = 8192;
    auto a = AuthDb::Open(store_.get(), o);
    ASSERT_TRUE(a.ok()) << a.status();
    auth_ = std::move(*a);
    ASSERT_TRUE(auth_->AddUser("alice", Role::kReader).ok());
    auto k = auth_->CreateKey("alice");
    ASSERT_TRUE(k.ok()) << k.status();
    key_ = *k;
    id_ = key_.substr(0, key_.find('.'));
  }
  void TearDown() override {
    auth_.reset();
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuthDb> auth_;
  std::string key_, id_;
};

TEST_F(AuthDbLimits, KeyIdBudgetStopsArgon2AndTellsWhenToRetry) {
  AuthDb::Options o;
  o.failed_per_key_burst = 3;
  o.failed_per_key_per_second = 0.5;  // one token back every 2 s
  o.failed_per_address_burst = 0;     // off: only the key id's budget here
  Open(o);
  for (int i = 0; i < 3; ++i) {
    auto r = auth_->Authenticate("", id_ + ".wrong" + std::to_string(i), "10.0.0.1:5000");
    EXPECT_TRUE(absl::IsUnauthenticated(r.status())) << r.status();
  }
  EXPECT_EQ(auth_->stats().verifications, 3u);
  auto r = auth_->Authenticate("", id_ + ".wrong-again", "10.0.0.1:5000");
  ASSERT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  // 1 token at 0.5/s: 2 s (rounded up to whole seconds; nearly nothing refilled meanwhile).
  EXPECT_EQ(RetryAfterSeconds(r.status()), 2);
  EXPECT_EQ(auth_->stats().verifications, 3u) << "argon2id ran over budget";
  EXPECT_EQ(auth_->stats().rate_limited, 1u);
  // Another key id (even an unknown one) has its own budget.
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth_->Authenticate("", "0123456789abcdef.nope", "10.0.0.1:5000").status()));
  EXPECT_EQ(auth_->stats().verifications, 4u);
}

TEST_F(AuthDbLimits, AddressBudgetSpansKeyIdsAndIgnoresThePort) {
  AuthDb::Options o;
  o.failed_per_key_burst = 0;
  o.failed_per_address_burst = 2;
  o.failed_per_address_per_second = 0.1;
  Open(o);
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth_->Authenticate("", "1111111111111111.a", "192.0.2.7:1000").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth_->Authenticate("", "2222222222222222.b", "192.0.2.7:1001").status()));
  auto r = auth_->Authenticate("", "3333333333333333.c", "192.0.2.7:1002");
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  EXPECT_EQ(RetryAfterSeconds(r.status()), 10);
  // Another address is not affected.
  EXPECT_TRUE(absl::IsUnauthenticated(
      auth_->Authenticate("", "3333333333333333.c", "[2001:db8::1]:1002").status()));
  EXPECT_EQ(auth_->stats().verifications, 3u);
}

TEST_F(AuthDbLimits, RepeatedBadSecretIsAnsweredFromTheNegativeCache) {
  AuthDb::Options o;
  o.failed_per_key_burst = 2;
  o.failed_per_key_per_second = 0.01;
  Open(o);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(absl::IsUnauthenticated(auth_->Authenticate("", id_ + ".same-bad").status()));
  }
  EXPECT_EQ(auth_->stats().verifications, 1u);
  EXPECT_EQ(auth_->stats().negative_hits, 9u);
  EXPECT_EQ(auth_->stats().rate_limited, 0u);
}

TEST_F(AuthDbLimits, UnknownKeyIdsAndWrongUsersRunArgon2Too) {
  Open(AuthDb::Options());
  EXPECT_TRUE(
      absl::IsUnauthenticated(auth_->Authenticate("", "fedcba9876543210.unknown-id").status()));
  EXPECT_EQ(auth_->stats().verifications, 1u);
  // The right key under another Basic user name: refused, after the hash check.
  EXPECT_TRUE(absl::IsUnauthenticated(auth_->Authenticate("mallory", key_).status()));
  EXPECT_EQ(auth_->stats().verifications, 2u);
  // And under the owner's name: accepted.
  auto p = auth_->Authenticate("alice", key_);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "alice");
}

TEST_F(AuthDbLimits, VerifiedKeyKeepsWorkingWhileItsKeyIdIsOverBudget) {
  AuthDb::Options o;
  o.failed_per_key_burst = 2;
  o.failed_per_key_per_second = 0.01;
  Open(o);
  ASSERT_TRUE(auth_->Authenticate("", key_, "198.51.100.1:1").ok());
  for (int i = 0; i < 5; ++i)
    auth_->Authenticate("", id_ + ".bad" + std::to_string(i)).IgnoreError();
  EXPECT_GE(auth_->stats().rate_limited, 3u);
  // Served from the verification cache...
  ASSERT_TRUE(auth_->Authenticate("", key_, "198.51.100.1:1").ok());
  // ...and after a change empties it (a new user), verified again despite the spent budget.
  ASSERT_TRUE(auth_->AddUser("carol", Role::kReader).ok());
  const uint64_t before = auth_->stats().verifications;
  auto p = auth_->Authenticate("", key_, "198.51.100.1:1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(auth_->stats().verifications, before + 1);
  // A good check spends no budget: the key id still has none for a bad secret.
  EXPECT_TRUE(absl::IsResourceExhausted(auth_->Authenticate("", id_ + ".bad-x").status()));
}

TEST_F(AuthDbLimits, TablesStayWithinTheirCaps) {
  AuthDb::Options o;
  o.failed_per_key_burst = 1;
  o.failed_per_key_per_second = 0.001;
  o.limiter_entries = 4;
  o.negative_cache_entries = 4;
  Open(o);
  // Eight key ids: each table keeps the last four, so the first key id has a fresh budget
  // again, while its bad secret is no longer remembered either (it costs a run).
  for (int i = 0; i < 8; ++i) {
    std::string id = std::string(15, 'a') + static_cast<char>('0' + i);
    EXPECT_TRUE(absl::IsUnauthenticated(auth_->Authenticate("", id + ".x").status()));
  }
  EXPECT_EQ(auth_->stats().verifications, 8u);
  const std::string first = std::string(15, 'a') + "0.x";
  EXPECT_TRUE(absl::IsUnauthenticated(auth_->Authenticate("", first).status()));
  EXPECT_EQ(auth_->stats().verifications, 9u);
  EXPECT_EQ(auth_->stats().negative_hits, 0u);
}

// Issue 13, point 3: the roles, written from the rules in docs/PRIVACY.md.
TEST(Roles, NamesRoundTripAndTheOldUserIsAnalyst) {
  for (Role r : {Role::kAdmin, Role::kAnalyst, Role::kAuditor, Role::kReader, Role::kPeer}) {
    auto back = ParseRole(RoleName(r));
    ASSERT_TRUE(back.ok()) << RoleName(r);
    EXPECT_EQ(*back, r);
  }
  EXPECT_EQ(RoleName(Role::kAnalyst), "analyst");
  EXPECT_EQ(*ParseRole("user"), Role::kAnalyst);
  EXPECT_FALSE(ParseRole("root").ok());
  EXPECT_FALSE(ParseRole("").ok());
  EXPECT_TRUE(MayAudit(Role::kAdmin));
  EXPECT_TRUE(MayAudit(Role::kAuditor));
  EXPECT_FALSE(MayAudit(Role::kAnalyst));
  EXPECT_FALSE(MayAudit(Role::kReader));
  EXPECT_FALSE(MayAudit(Role::kPeer));
}

TEST(Roles, WhoReadsAndWritesWhichCollection) {
  const std::string a = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
  const std::string b = "6ba7b811-9dad-41d1-80b4-00c04fd430c8";
  auto who = [&](Role r) {
    Principal p;
    p.user = "u";
    p.role = r;
    p.grants = {Grant{a, true, true}};  // read and write on a, nothing on b
    return p;
  };
  // admin: everything. analyst: its grants. reader: reads all, writes by grant.
  // auditor and peer: nothing by grant, whatever the grants say.
  EXPECT_TRUE(who(Role::kAdmin).CanRead(b) && who(Role::kAdmin).CanWrite(b));
  EXPECT_TRUE(who(Role::kAnalyst).CanRead(a) && who(Role::kAnalyst).CanWrite(a));
  EXPECT_FALSE(who(Role::kAnalyst).CanRead(b) || who(Role::kAnalyst).CanWrite(b));
  EXPECT_TRUE(who(Role::kReader).CanRead(b));
  EXPECT_FALSE(who(Role::kReader).CanWrite(b));
  for (Role r : {Role::kAuditor, Role::kPeer}) {
    EXPECT_FALSE(who(r).CanRead(a) || who(r).CanWrite(a) || who(r).CanRead(b)) << RoleName(r);
  }
  Principal anon;
  EXPECT_FALSE(anon.CanRead(a) || anon.CanWrite(a));
}

// A user stored with the old role name `user` (as a store before schema 6, or a legacy
// auth.db, left it) keeps working: it authenticates as an analyst with its grants.
TEST_F(AuthDbLimits, AUserStoredAsUserAuthenticatesAsAnalyst) {
  Open(AuthDb::Options());
  ASSERT_TRUE(store_->auth()->AddUser({"olduser", "user", 1}).ok());
  const std::string c = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
  ASSERT_TRUE(auth_->SetGrant("olduser", c, true, false).ok());
  auto k = auth_->CreateKey("olduser");
  ASSERT_TRUE(k.ok()) << k.status();
  auto p = auth_->Authenticate("", *k);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->role, Role::kAnalyst);
  EXPECT_TRUE(p->CanRead(c));
  EXPECT_FALSE(p->CanWrite(c));
  EXPECT_EQ(auth_->GetUser("olduser")->role, Role::kAnalyst);
  // A role changed through the AuthDb takes effect on the next request.
  ASSERT_TRUE(auth_->SetRole("olduser", Role::kAuditor).ok());
  auto q = auth_->Authenticate("", *k);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->role, Role::kAuditor);
  EXPECT_FALSE(q->CanRead(c));
  EXPECT_EQ(auth_->SetRole("nobody", Role::kReader).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace accord::http
