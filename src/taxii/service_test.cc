// taxii::Service error edges: a store failure or an exception inside a handler must not put
// exception text, SQL or file paths into the HTTP answer (issue 9, "Errors"). The store is a
// real SQLite store wrapped by FailingStore, which fails chosen calls with a message shaped
// like a real SQLite error (SQL text and a file path) or throws one.
#include <stdlib.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "accord/audit/log.h"
#include "accord/http/auth.h"
#include "accord/http/message.h"
#include "accord/http/server.h"
#include "accord/store/store.h"
#include "accord/taxii/service.h"
#include "store/forwarding_store.h"

namespace accord::taxii {
namespace {

constexpr char kSecretPath[] = "/srv/accord-secret-dir/objects.db";
constexpr char kSql[] = "SELECT json FROM versions WHERE collection_id = ?1";

// Delegates to a real store; List/BeginImport fail (or throw) when told to.
class FailingStore final : public store::ForwardingStore {
 public:
  // kDiskFull: BeginImport fails as the object log does on ENOSPC.
  enum class Mode { kOk, kFail, kThrow, kDiskFull };
  explicit FailingStore(store::Store* real) : ForwardingStore(real) {}
  Mode mode = Mode::kOk;

  absl::StatusOr<std::unique_ptr<store::ImportTxn>> BeginImport(const std::string& c) override {
    if (mode == Mode::kFail) return Failure();
    if (mode == Mode::kDiskFull) {
      return absl::ResourceExhaustedError(std::string("disk full: ") + kSecretPath +
                                          ": write: No space left on device");
    }
    if (mode == Mode::kThrow) throw std::runtime_error(Message());
    return ForwardingStore::BeginImport(c);
  }
  absl::StatusOr<store::Page> List(const store::Query& q) override {
    if (mode == Mode::kFail) return Failure();
    if (mode == Mode::kThrow) throw std::runtime_error(Message());
    return ForwardingStore::List(q);
  }

 private:
  static std::string Message() {
    return std::string("sqlite3_step failed: disk I/O error in '") + kSql + "' on " + kSecretPath;
  }
  static absl::Status Failure() { return absl::InternalError(Message()); }
};

class ServiceErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/accord-service-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store::Options so;
    so.dir = dir_ + "/data";
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status();
    real_ = std::move(*st);
    http::AuthDb::Options ao;
    ao.opslimit = 1;
    ao.memlimit = 8192;
    auto au = http::AuthDb::Open(real_.get(), ao);
    ASSERT_TRUE(au.ok()) << au.status();
    auth_ = std::move(*au);
    ASSERT_TRUE(auth_->AddUser("admin", http::Role::kAdmin).ok());
    auto k = auth_->CreateKey("admin");
    ASSERT_TRUE(k.ok());
    key_ = *k;
    store::CollectionInfo ci;
    ci.alias = "c";
    ci.title = "C";
    auto c = real_->CreateCollection(ci);
    ASSERT_TRUE(c.ok()) << c.status();
    collection_ = c->id;
    failing_ = std::make_unique<FailingStore>(real_.get());
    ServiceOptions opts;
    opts.response_cache_bytes = 0;  // every GET reaches the store
    service_ = std::make_unique<Service>(failing_.get(), auth_.get(), opts);
  }
  void TearDown() override {
    service_.reset();
    failing_.reset();
    auth_.reset();
    real_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    http::Request rq;
    rq.method = method;
    rq.target = path;
    size_t q = path.find('?');
    rq.path = path.substr(0, q);
    if (q != std::string::npos) rq.query = path.substr(q + 1);
    rq.headers = {{"authorization", "Bearer " + key_},
                  {"accept", std::string(http::kTaxiiMediaType)},
                  {"content-type", std::string(http::kTaxiiMediaType)}};
    rq.body = body;
    http::Response rs;
    service_->Handle(rq, rs);
    http::AwaitDeferred(rs);
    return rs;
  }

  static void ExpectNoLeak(const http::Response& r) {
    std::string body(r.Body());
    EXPECT_EQ(body.find("SELECT"), std::string::npos) << body;
    EXPECT_EQ(body.find("accord-secret-dir"), std::string::npos) << body;
    EXPECT_EQ(body.find("sqlite"), std::string::npos) << body;
    EXPECT_NE(body.find("\"http_status\":\"500\""), std::string::npos) << body;
  }

  std::string dir_, key_, collection_;
  std::unique_ptr<store::Store> real_;
  std::unique_ptr<http::AuthDb> auth_;
  std::unique_ptr<FailingStore> failing_;
  std::unique_ptr<Service> service_;
};

constexpr char kEnvelope[] =
    R"({"objects":[{"type":"indicator","spec_version":"2.1",)"
    R"("id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2025-01-01T00:00:00.000Z",)"
    R"("modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.1']",)"
    R"("pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]})";

TEST_F(ServiceErrors, HealthyStoreAnswers200) {
  // The fixture itself works: the failures below come from the injected faults.
  auto r = Call("GET", "/api/collections/" + collection_ + "/objects/");
  EXPECT_EQ(r.status, 200) << r.Body();
}

TEST_F(ServiceErrors, StoreFailureOnGetDoesNotLeakSqlOrPath) {
  failing_->mode = FailingStore::Mode::kFail;
  for (std::string suffix :
       {"objects/", "manifest/", "objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/",
        "objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/versions/"}) {
    auto r = Call("GET", "/api/collections/" + collection_ + "/" + suffix);
    EXPECT_EQ(r.status, 500) << suffix;
    ExpectNoLeak(r);
  }
}

TEST_F(ServiceErrors, StoreFailureOnPostDoesNotLeakSqlOrPath) {
  failing_->mode = FailingStore::Mode::kFail;
  auto r = Call("POST", "/api/collections/" + collection_ + "/objects/", kEnvelope);
  EXPECT_EQ(r.status, 500);
  ExpectNoLeak(r);
}

TEST_F(ServiceErrors, ExceptionInHandlerDoesNotLeakItsText) {
  failing_->mode = FailingStore::Mode::kThrow;
  auto r = Call("GET", "/api/collections/" + collection_ + "/objects/");
  EXPECT_EQ(r.status, 500);
  ExpectNoLeak(r);
}

TEST_F(ServiceErrors, ExceptionInCommitterDoesNotLeakItsText) {
  failing_->mode = FailingStore::Mode::kThrow;
  auto r = Call("POST", "/api/collections/" + collection_ + "/objects/", kEnvelope);
  EXPECT_EQ(r.status, 500);
  ExpectNoLeak(r);
  // The committer survived: once the store recovers, a POST is committed.
  failing_->mode = FailingStore::Mode::kOk;
  auto ok = Call("POST", "/api/collections/" + collection_ + "/objects/", kEnvelope);
  EXPECT_EQ(ok.status, 202) << ok.Body();
}

TEST_F(ServiceErrors, ClientErrorsKeepTheirExplanation) {
  // A bad filter is the client's mistake: its description stays specific.
  auto r = Call("GET", "/api/collections/" + collection_ + "/objects/?limit=abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(std::string(r.Body()).find("limit: 'abc' is not a positive integer"), std::string::npos)
      << r.Body();
}

TEST_F(ServiceErrors, DiskFullIsAnswered507WithRetryAfterAndNoPath) {
  failing_->mode = FailingStore::Mode::kDiskFull;
  auto r = Call("POST", "/api/collections/" + collection_ + "/objects/", kEnvelope);
  EXPECT_EQ(r.status, 507) << r.Body();
  bool retry_after = false;
  for (const auto& h : r.headers) retry_after |= h.first == "Retry-After" && h.second == "60";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(std::string(r.Body()).find("accord-secret-dir"), std::string::npos) << r.Body();
  EXPECT_NE(std::string(r.Body()).find("\"http_status\":\"507\""), std::string::npos) << r.Body();
}

// Many small objects put in the store one GET at a time: a page's objects are read in chunks,
// so the cap, the one-object allowance and the cursor between chunks are exercised.
class ServicePages : public ServiceErrors {
 protected:
  // A note of about `bytes` numbered `n` (ids sort as the insertion order does not matter:
  // pages follow date_added).
  static std::string Note(int n, size_t bytes) {
    char id[80];
    std::snprintf(id, sizeof id, "note--00000000-0000-4000-8000-%012d", n);
    return std::string(R"({"type":"note","spec_version":"2.1","id":")") + id +
           R"(","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",)" +
           R"("content":")" + std::string(bytes, 'n') +
           R"(","object_refs":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]})";
  }
  void Restart(uint64_t max_page_bytes, uint64_t max_status_failures = 1000) {
    ServiceOptions opts;
    opts.response_cache_bytes = 0;
    opts.max_page_bytes = max_page_bytes;
    opts.max_status_failures = max_status_failures;
    service_ = std::make_unique<Service>(failing_.get(), auth_.get(), opts);
  }
};

TEST_F(ServicePages, PagesEndAtTheByteCapAndContinueExactly) {
  Restart(10000);
  // 20 notes of ~1,200 bytes: about 8 fit under 10,000 bytes, the 9th passes the cap.
  for (int i = 0; i < 20; ++i) {
    auto r = Call("POST", "/api/collections/" + collection_ + "/objects/",
                  "{\"objects\":[" + Note(i, 1000) + "]}");
    ASSERT_EQ(r.status, 202) << r.Body();
  }
  std::vector<int> seen(20, 0);
  std::string next;
  int pages = 0;
  while (true) {
    auto r = Call("GET", "/api/collections/" + collection_ + "/objects/?limit=1000" +
                             (next.empty() ? "" : "&next=" + next));
    ASSERT_EQ(r.status, 200) << r.Body();
    std::string body(r.Body());
    ++pages;
    EXPECT_LE(body.size(), 10000u + 1300u + 200u) << "page " << pages;
    for (size_t p = body.find("note--"); p != std::string::npos; p = body.find("note--", p + 1)) {
      ++seen[std::stoi(body.substr(p + 6 + 24, 12))];
    }
    size_t at = body.find("\"next\":\"");
    if (body.find("\"more\":true") == std::string::npos) break;
    ASSERT_NE(at, std::string::npos);
    next = body.substr(at + 8, body.find('"', at + 8) - at - 8);
    ASSERT_LT(pages, 20);
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(seen[i], 1) << "note " << i;
  EXPECT_GE(pages, 2);
  EXPECT_LE(pages, 4);  // 24 KB in pages of ~10-11 KB: three
}

TEST_F(ServicePages, StatusListsFailuresUpToTheCap) {
  Restart(8u << 20, 3);
  std::string body = "{\"objects\":[";
  for (int i = 0; i < 10; ++i) {
    if (i) body += ',';
    body += R"({"type":"indicator","id":"indicator--00000000-0000-4000-8000-00000000000)" +
            std::to_string(i) + "\"}";
  }
  body += "]}";
  auto r = Call("POST", "/api/collections/" + collection_ + "/objects/", body);
  ASSERT_EQ(r.status, 202) << r.Body();
  std::string st(r.Body());
  EXPECT_NE(st.find("\"failure_count\":10"), std::string::npos) << st;
  size_t listed = 0;
  for (size_t p = st.find("\"message\""); p != std::string::npos;
       p = st.find("\"message\"", p + 1)) {
    ++listed;
  }
  EXPECT_EQ(listed, 3u) << st;
}

// Issue 13: a page leaves only once its audit entry is written. While another thread writes
// the log (here: held inside its entry's continuation), the page's answer is deferred, and
// the handler's worker is free; the thread writing the log writes the page's entry next and
// then sends the answer.
TEST_F(ServicePages, APageIsAnsweredOnlyOnceItsAuditEntryIsWritten) {
  auto log = audit::Log::Open(dir_, nullptr);
  ASSERT_TRUE(log.ok()) << log.status();
  ServiceOptions opts;
  opts.audit = log->get();
  service_ = std::make_unique<Service>(failing_.get(), auth_.get(), opts);
  ASSERT_EQ(Call("POST", "/api/collections/" + collection_ + "/objects/",
                 "{\"objects\":[" + Note(7, 10) + "]}")
                .status,
            202);
  auto egress_lines = [&] {
    std::ifstream in(dir_ + "/audit.log");
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
      if (l.find("\"action\":\"egress\"") != std::string::npos) out.push_back(l);
    }
    return out;
  };
  ASSERT_TRUE(egress_lines().empty());

  std::mutex mu;
  std::condition_variable cv;
  bool holding = false, release = false;
  std::thread holder([&] {
    audit::Entry e;
    e.actor = "user:holder";
    e.action = "test";
    (*log)->AppendAsync(std::move(e), [&](const absl::StatusOr<uint64_t>&) {
      std::unique_lock<std::mutex> l(mu);
      holding = true;
      cv.notify_all();
      cv.wait(l, [&] { return release; });
    });
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return holding; });
  }
  http::Request rq;
  rq.method = "GET";
  rq.path = "/api/collections/" + collection_ + "/objects/";
  rq.target = rq.path;
  rq.headers = {{"authorization", "Bearer " + key_},
                {"accept", std::string(http::kTaxiiMediaType)}};
  http::Response rs;
  service_->Handle(rq, rs);
  ASSERT_TRUE(static_cast<bool>(rs.deferred)) << "a page was answered at once: " << rs.status;
  std::optional<http::Response> sent;
  rs.deferred([&](http::Response r) {
    std::lock_guard<std::mutex> l(mu);
    sent = std::move(r);
  });
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_FALSE(sent.has_value()) << "the page left before its audit entry was written";
    EXPECT_TRUE(egress_lines().empty());
    release = true;
    cv.notify_all();
  }
  holder.join();
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->status, 200) << sent->Body();
  EXPECT_NE(std::string(sent->Body()).find("note--00000000-0000-4000-8000-000000000007"),
            std::string::npos)
      << sent->Body();
  std::vector<std::string> egress = egress_lines();
  ASSERT_EQ(egress.size(), 1u);
  EXPECT_NE(egress[0].find("[\"note--00000000-0000-4000-8000-000000000007\","), std::string::npos)
      << egress[0];
  auto report = (*log)->Verify({});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

}  // namespace
}  // namespace accord::taxii
