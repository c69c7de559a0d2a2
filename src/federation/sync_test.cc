// Sync against a peer that misbehaves (issue 12, "Bad input and faults"): a fake peer (an
// in-process HTTP server) answers 5xx, a body that is not JSON, a page over the size limit,
// more objects than asked for, a page that cannot be resumed, an endless `next`, and a cursor
// that does not advance. Each time the round fails (or stops at its limit), `peer status`
// records it, nothing is half-stored, and no cursor moves past what was committed; a good
// answer afterwards is taken, and the next round resumes from its cursor.
#include "accord/federation/sync.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/federation/node.h"
#include "accord/federation/peers.h"
#include "accord/federation/signature.h"
#include "accord/http/router.h"
#include "accord/http/server.h"

namespace accord::federation {
namespace {

constexpr const char* kPeerIdentity = "identity--5e0d6a3b-8c1f-4d2e-9a7b-3c4d5e6f7a8b";
constexpr const char* kGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

// What the fake peer answers to GET .../collections/outbox/objects/.
struct Answer {
  int status = 200;
  std::string body;
  std::string date_added_last;  // X-TAXII-Date-Added-Last; none when empty
};

class SyncFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           common::Cat("accord-sync-test-", getpid(), "-",
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store::Options o;
    o.dir = dir_.string();
    auto s = store::Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    ASSERT_TRUE(InitNode(*store_, dir_.string(), "local", common::NowMicros()).ok());
    std::ofstream(dir_ / "accord.toml")
        << "[federation]\npage_size = 2\nmax_page_bytes = 4096\nmax_pages_per_round = 5\n"
           "request_timeout = 5\n";

    router_.Add("GET", "/api/collections/outbox/objects/",
                [this](http::RequestContext& ctx, http::Response& res) {
                  Answer a;
                  {
                    std::lock_guard<std::mutex> l(mu_);
                    queries_.push_back(ctx.request.query);
                    a = answer_(static_cast<int>(queries_.size()));
                  }
                  res.status = a.status;
                  res.body = a.body;
                  res.SetHeader("Content-Type", "application/taxii+json;version=2.1");
                  if (!a.date_added_last.empty()) {
                    res.SetHeader("X-TAXII-Date-Added-Last", a.date_added_last);
                  }
                });
    http::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.threads = 1;
    auto server = http::Server::Create(so, router_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { (void)server_->Run(); });

    keys_ = NewKeyPair();
    Peer p;
    p.name = "p";
    p.url = common::Cat("http://127.0.0.1:", server_->port(), "/api/");
    p.identity = kPeerIdentity;
    p.public_key = keys_.public_key;
    ASSERT_TRUE(AddPeer(*store_, dir_.string(), p, "key-the-peer-gave-us").ok());
    ASSERT_TRUE(SetAgreement(*store_, "p", "[accept]\nfrom = [\"outbox\"]\n", "test", "test",
                             common::NowMicros())
                    .ok());
  }
  void TearDown() override {
    server_->Stop();
    thread_.join();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // An indicator, unsigned.
  static std::string Unsigned(int n) {
    return common::Cat(
        R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-00000000000)",
        n,
        R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","object_marking_refs":[")",
        kGreen, R"("]})");
  }
  // The same, signed by the peer.
  std::string Signed(int n) {
    auto s = Sign(Unsigned(n), kPeerIdentity, keys_.secret_key);
    EXPECT_TRUE(s.ok()) << s.status();
    return *s;
  }
  static std::string Envelope(const std::vector<std::string>& objects, bool more,
                              const std::string& next = "") {
    std::string s = common::Cat("{\"more\":", more ? "true" : "false");
    if (!next.empty()) common::Append(&s, ",\"next\":\"", next, "\"");
    s += ",\"objects\":[";
    for (size_t i = 0; i < objects.size(); ++i) common::Append(&s, i ? "," : "", objects[i]);
    return s + "]}";
  }
  void Answering(std::function<Answer(int request)> f) {
    std::lock_guard<std::mutex> l(mu_);
    answer_ = std::move(f);
    queries_.clear();
  }
  std::vector<std::string> Queries() {
    std::lock_guard<std::mutex> l(mu_);
    return queries_;
  }
  uint64_t Stored() {
    store::Query q;
    q.collection = "from-p";
    q.versions = store::VersionSelect::kAll;
    auto page = store_->List(q);
    return page.ok() ? page->objects.size() : 0;
  }
  std::optional<std::string> Cursor() { return *store_->GetSetting("federation.cursor.p.outbox"); }
  CollectionStatus Status() {
    auto st = SyncStatus(*store_);
    EXPECT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->size(), 1u);
    EXPECT_EQ((*st)[0].collections.size(), 1u);
    return (*st)[0].collections[0];
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  KeyPair keys_;
  std::mutex mu_;
  std::function<Answer(int)> answer_;
  std::vector<std::string> queries_;
};

TEST_F(SyncFaultTest, AFaultyAnswerFailsTheRoundStoresNothingAndMovesNoCursor) {
  const std::string good = Envelope({Signed(1), Signed(2)}, false);
  struct Case {
    std::string what;
    Answer answer;
    std::string says;
  };
  const Case cases[] = {
      {"5xx", {503, R"({"title":"busy"})", ""}, "503"},
      {"not JSON",
       {200, "<html>oops</html>", "2025-01-01T00:00:00.000001Z"},
       "not a TAXII envelope"},
      {"over max_page_bytes",
       {200, Envelope({Signed(1), Signed(2)}, false) + std::string(5000, ' '),
        "2025-01-01T00:00:00.000001Z"},
       "4096"},
      {"more objects than asked for",
       {200, Envelope({Signed(1), Signed(2), Signed(3)}, false), "2025-01-01T00:00:00.000001Z"},
       "for a page of at most 2"},
      {"no X-TAXII-Date-Added-Last", {200, good, ""}, "cannot be resumed"},
  };
  uint64_t failures = 0;
  for (const Case& c : cases) {
    Answering([&](int) { return c.answer; });
    auto report = SyncOnce(*store_, dir_.string(), "");
    ASSERT_TRUE(report.ok()) << c.what << ": " << report.status();
    ASSERT_EQ(report->collections.size(), 1u);
    EXPECT_FALSE(report->ok()) << c.what;
    EXPECT_NE(report->collections[0].error.find(c.says), std::string::npos)
        << c.what << ": " << report->collections[0].error;
    EXPECT_EQ(Stored(), 0u) << c.what;
    EXPECT_EQ(Cursor(), std::nullopt) << c.what;
    CollectionStatus st = Status();
    EXPECT_EQ(st.failures, ++failures) << c.what;
    EXPECT_EQ(st.last_error, report->collections[0].error) << c.what;
    EXPECT_EQ(st.last_success, 0) << c.what;
  }
  // The peer recovers: the page is taken, the cursor is its X-TAXII-Date-Added-Last.
  Answering([&](int) { return Answer{200, good, "2025-01-01T00:00:00.000002Z"}; });
  auto report = SyncOnce(*store_, dir_.string(), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->collections[0].error;
  EXPECT_EQ(report->collections[0].added, 2u);
  EXPECT_EQ(Stored(), 2u);
  EXPECT_EQ(Cursor(), std::optional<std::string>("2025-01-01T00:00:00.000002Z"));
  CollectionStatus st = Status();
  EXPECT_EQ(st.failures, 0u);
  EXPECT_GT(st.last_success, 0);
  EXPECT_TRUE(st.caught_up);
  // The next round asks only for what was added after it.
  Answering([&](int) { return Answer{200, Envelope({}, false), ""}; });
  ASSERT_TRUE(SyncOnce(*store_, dir_.string(), "")->ok());
  ASSERT_EQ(Queries().size(), 1u);
  EXPECT_NE(Queries()[0].find("added_after=2025-01-01T00%3A00%3A00.000002Z"), std::string::npos)
      << Queries()[0];
}

TEST_F(SyncFaultTest, AnEndlessNextStopsAtTheRoundsPageLimit) {
  Answering([&](int request) {
    return Answer{200, Envelope({}, true, common::Cat("token-", request)), ""};
  });
  auto report = SyncOnce(*store_, dir_.string(), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->collections[0].pages, 5u);  // max_pages_per_round
  EXPECT_FALSE(report->collections[0].caught_up);
  EXPECT_EQ(Queries().size(), 5u);
  EXPECT_EQ(Stored(), 0u);
  EXPECT_EQ(Cursor(), std::nullopt);
  // A next that repeats itself is refused at once.
  Answering([&](int) { return Answer{200, Envelope({}, true, "same"), ""}; });
  report = SyncOnce(*store_, dir_.string(), "");
  ASSERT_TRUE(report.ok());
  EXPECT_NE(report->collections[0].error.find("next token does not advance"), std::string::npos)
      << report->collections[0].error;
}

TEST_F(SyncFaultTest, ACursorThatDoesNotAdvanceFailsAfterWhatWasCommitted) {
  // Always the same two versions, "more", no next, the same date: the first page is taken
  // (and stored once), the repeat is refused.
  Answering([&](int) {
    return Answer{200, Envelope({Signed(1), Signed(2)}, true), "2025-01-01T00:00:00.000003Z"};
  });
  auto report = SyncOnce(*store_, dir_.string(), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_NE(report->collections[0].error.find("cursor does not advance"), std::string::npos)
      << report->collections[0].error;
  EXPECT_EQ(report->collections[0].added, 2u);
  EXPECT_EQ(Stored(), 2u);
  EXPECT_EQ(Cursor(), std::optional<std::string>("2025-01-01T00:00:00.000003Z"));
  EXPECT_EQ(Queries().size(), 2u);
}

TEST_F(SyncFaultTest, VersionsThatFailTheChecksAreHeldWithTheirReason) {
  std::string tampered = Signed(1);
  tampered.replace(tampered.find("10.0.0.1"), 8, "10.0.0.9");
  const std::string unsigned_one = Unsigned(2);
  Answering([&](int) {
    return Answer{200, Envelope({tampered, unsigned_one}, false), "2025-01-01T00:00:00.000004Z"};
  });
  auto report = SyncOnce(*store_, dir_.string(), "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->collections[0].error;
  EXPECT_EQ(report->collections[0].quarantined, 2u);
  EXPECT_EQ(Stored(), 0u);
  auto held = *store_->quarantine()->ListQuarantine(0);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_NE(held[0].reason.find("signature does not verify"), std::string::npos) << held[0].reason;
  EXPECT_NE(held[1].reason.find("unsigned"), std::string::npos) << held[1].reason;
  EXPECT_EQ(held[0].writer, "p");
  EXPECT_EQ(held[0].collection_alias, "from-p");
  // The page was read: the cursor moved past it (the held versions are kept in quarantine).
  EXPECT_EQ(Cursor(), std::optional<std::string>("2025-01-01T00:00:00.000004Z"));
  EXPECT_EQ(Status().failures, 0u);
  EXPECT_EQ((*SyncStatus(*store_))[0].quarantined, 2u);
}

// The originator equivocates: it signed two contents under one (id, modified). The first copy,
// from p, is stored; the second, forwarded by q, passes the signature and ownership checks and
// is refused as a content conflict, kept in quarantine with q as the sender.
TEST_F(SyncFaultTest, AnotherContentUnderTheSameVersionIsAConflictFromTheLaterSender) {
  const std::string first = Signed(1);
  std::string other_json = Unsigned(1);
  other_json.replace(other_json.find("10.0.0.1"), 8, "10.0.0.7");
  const std::string other = *Sign(other_json, kPeerIdentity, keys_.secret_key);
  Peer q;
  q.name = "q";
  q.url = common::Cat("http://127.0.0.1:", server_->port(), "/api/");
  q.identity = "identity--6f1e7b4c-9d20-4e3f-8b8c-4d5e6f7a8b9c";
  q.public_key = NewKeyPair().public_key;
  ASSERT_TRUE(AddPeer(*store_, dir_.string(), q, "key-q").ok());
  ASSERT_TRUE(SetAgreement(*store_, "q", "[accept]\nfrom = [\"outbox\"]\n", "test", "test",
                           common::NowMicros())
                  .ok());
  Answering([&](int) { return Answer{200, Envelope({first}, false), "2025-01-01T00:00:00.1Z"}; });
  ASSERT_TRUE(SyncOnce(*store_, dir_.string(), "p")->ok());
  Answering([&](int) { return Answer{200, Envelope({other}, false), "2025-01-01T00:00:00.2Z"}; });
  auto report = SyncOnce(*store_, dir_.string(), "q");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->collections[0].error;
  EXPECT_EQ(report->collections[0].quarantined, 1u);
  EXPECT_EQ(report->collections[0].added, 0u);
  auto held = *store_->quarantine()->ListQuarantine(0);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].writer, "q");
  EXPECT_EQ(held[0].reason, "");  // a content conflict
  EXPECT_EQ(
      store_->quarantine()->GetQuarantined(held[0].qid)->json.find("10.0.0.7") != std::string::npos,
      true);
  auto stored =
      store_->Get("indicator--00000000-0000-4000-8000-000000000001", store::VersionSelect::kAll);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_NE((*stored)[0].json.find("10.0.0.1"), std::string::npos);  // the first copy stays
}

// `accord serve` stopping while a peer hangs: the sync loop's request is cancelled, so Stop()
// returns long before the request timeout (600 s here). The wait below is a liveness bound.
TEST_F(SyncFaultTest, StoppingTheLoopCancelsARequestToAHangingPeer) {
  std::ofstream(dir_ / "accord.toml", std::ios::trunc)
      << "[federation]\nsync_interval = 0.05\nrequest_timeout = 600\n";
  std::promise<void> release;
  // Captured by value: the server's handler may still run after this body returns.
  std::shared_future<void> released = release.get_future().share();
  auto asked = std::make_shared<std::atomic<int>>(0);
  const std::string empty = Envelope({}, false);
  Answering([released, asked, empty](int) {
    ++*asked;
    released.wait();  // the peer hangs
    return Answer{200, empty, ""};
  });
  SyncLoop loop(store_.get(), dir_.string());
  loop.Start();
  while (asked->load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::promise<void> stopped;
  auto done = stopped.get_future();
  std::thread stopper([&] {
    loop.Stop();
    stopped.set_value();
  });
  const bool in_time = done.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  release.set_value();  // let the fake peer's handler return, whatever happened
  stopper.join();
  EXPECT_TRUE(in_time) << "Stop() waited for the hanging request";
  EXPECT_EQ(Stored(), 0u);
  EXPECT_EQ(Cursor(), std::nullopt);
}

// A peer behind TLS: a certificate this node does not trust fails the round (nothing
// stored, the error recorded); with the peer's CA given (`peer add --cacert`) it syncs.
TEST_F(SyncFaultTest, ATlsFailureFailsTheRoundAndThePeersCaFixesIt) {
  const std::string d = dir_.string();
  const std::string cmd = common::Cat(
      "cd '", d, "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ",
      "-keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.1 ",
      "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  http::ServerOptions so;
  so.threads = 1;
  so.tls_cert_file = (dir_ / "tls.crt").string();
  so.tls_key_file = (dir_ / "tls.key").string();
  auto tls = http::Server::Create(so, router_);
  ASSERT_TRUE(tls.ok()) << tls.status();
  std::thread t([&] { (void)(*tls)->Run(); });
  Answering([&](int) {
    return Answer{200, Envelope({Signed(1)}, false), "2025-01-01T00:00:00.000005Z"};
  });
  auto add = [&](const std::string& name, const std::string& cacert) {
    Peer p;
    p.name = name;
    p.url = common::Cat("https://127.0.0.1:", (*tls)->port(), "/api/");
    p.identity = kPeerIdentity;
    p.public_key = keys_.public_key;
    p.cacert = cacert;
    ASSERT_TRUE(AddPeer(*store_, d, p, "key").ok());
    ASSERT_TRUE(SetAgreement(*store_, name, "[accept]\nfrom = [\"outbox\"]\n", "test", "test",
                             common::NowMicros())
                    .ok());
  };
  add("untrusting", "");
  auto report = SyncOnce(*store_, d, "untrusting");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->ok());
  EXPECT_FALSE(report->collections[0].error.empty());
  EXPECT_EQ(*store_->GetSetting("federation.cursor.untrusting.outbox"), std::nullopt);
  std::ifstream crt(dir_ / "tls.crt");
  add("trusting", std::string(std::istreambuf_iterator<char>(crt), {}));
  report = SyncOnce(*store_, d, "trusting");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->collections[0].error;
  EXPECT_EQ(report->collections[0].added, 1u);
  (*tls)->Stop();
  t.join();
}

// A node of several machines (issue 17): each keeps a copy of node.key; a machine given
// another key refuses to sign with it, naming the file, rather than sign what peers refuse.
TEST_F(SyncFaultTest, AMachineWithAnotherNodeKeyIsRefused) {
  auto key = LoadNodeSecretKey(*store_, dir_.string());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 64u);
  const std::filesystem::path other = dir_ / "other-machine";
  std::filesystem::create_directories(other);
  // Another Ed25519 key, written as `accord node init` writes one (base64, mode 0600).
  unsigned char pk[32], sk[64];
  crypto_sign_keypair(pk, sk);
  {
    std::ofstream out(other / "node.key");
    out << common::Base64Encode(std::string(reinterpret_cast<const char*>(sk), sizeof sk)) << "\n";
  }
  std::filesystem::permissions(
      other / "node.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto refused = LoadNodeSecretKey(*store_, other.string());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find((other / "node.key").string() +
                                            ": not the key of node 'local'"),
            std::string::npos)
      << refused.status();
  // A copy of the node's own key is taken.
  std::filesystem::copy_file(dir_ / "node.key", other / "node.key",
                             std::filesystem::copy_options::overwrite_existing);
  auto copied = LoadNodeSecretKey(*store_, other.string());
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(*copied, *key);
}

}  // namespace
}  // namespace accord::federation
