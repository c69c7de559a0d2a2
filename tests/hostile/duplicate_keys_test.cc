// Issue 10, item 3: I-JSON (RFC 7493) at every entry point. An object with two `id` keys, or two
// `pattern` keys, was accepted and stored verbatim: Accord indexed the first of each pair while
// Python, JavaScript and Go read the last, so two parties saw two different indicators. Each
// test reproduces the attack on real processes: `accord import`, a TAXII POST to `accord
// serve`, `accord taxii pull` from a hostile peer (a one-page fake server in this process),
// and `accord match` over Suricata EVE telemetry.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

// An indicator whose members are written out by hand; `extra` is spliced in after "pattern"
// (e.g. a second "id" or "pattern" member).
std::string Indicator(const std::string& uuid, const std::string& pattern,
                      const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--)" + uuid +
         R"(","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z",)"
         R"("pattern":")" +
         pattern + "\"" + extra + R"(,"pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"})";
}

constexpr const char* kUuidA = "0a7c5f2e-3d4b-4c1a-9e8f-7b6a5d4c3b2a";
constexpr const char* kUuidB = "1b8d6a3f-4e5c-4d2b-8f9a-8c7b6e5d4c3b";
constexpr const char* kUuidC = "2c9e7b4a-5f6d-4e3c-9a0b-9d8c7f6e5d4c";

std::string RunAccord(const std::string& args, const TempDir& dir, RunResult* out = nullptr) {
  RunResult r = RunCmd(Accord() + " " + args, dir.path());
  if (out) *out = r;
  return r.out;
}

// The number of object versions a node holds, from `accord stats` ("objects: N (M versions)").
int StoredVersions(const std::string& data, const TempDir& dir) {
  RunResult r = RunCmd(Accord() + " --data " + ShellQuote(data) + " stats", dir.path());
  size_t p = r.out.find("objects: ");
  if (p == std::string::npos) return 0;  // an empty store prints no count
  size_t open = r.out.find('(', p);
  return std::stoi(r.out.substr(open + 1));
}

TEST(DuplicateKeys, ImportRefusesAnObjectWithTwoIdsAndNamesThePath) {
  TempDir dir("dupkeys-import");
  std::string data = (dir.path() / "data").string();
  RunResult r;
  RunAccord("--data " + ShellQuote(data) + " init", dir, &r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The second object of the bundle carries a second "id": the attack.
  std::string bundle =
      R"({"type":"bundle","id":"bundle--3d0f8c5b-6a7e-4f4d-8b1c-0e9d8a7f6e5d","objects":[)" +
      Indicator(kUuidA, "[ipv4-addr:value = '198.51.100.1']") + "," +
      Indicator(kUuidB, "[ipv4-addr:value = '198.51.100.2']",
                std::string(R"(,"id":"indicator--)") + kUuidC + "\"") +
      "]}";
  std::ofstream(dir.path() / "bundle.json") << bundle;
  RunAccord(
      "--data " + ShellQuote(data) + " import " + ShellQuote((dir.path() / "bundle.json").string()),
      dir, &r);
  EXPECT_NE(r.exit_code, 0) << r.err;
  // The path of the duplicate, from the document's root (0-based array index).
  EXPECT_NE(r.err.find("objects[1].id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("duplicate key"), std::string::npos) << r.err;
  // Neither reading of the poisoned object is stored; its clean neighbour is.
  EXPECT_NE(RunAccord("--data " + ShellQuote(data) + " get indicator--" + kUuidA, dir).find(kUuidA),
            std::string::npos);
  RunAccord("--data " + ShellQuote(data) + " get indicator--" + kUuidB, dir, &r);
  EXPECT_EQ(r.out.find(kUuidB), std::string::npos) << r.out;
  RunAccord("--data " + ShellQuote(data) + " get indicator--" + kUuidC, dir, &r);
  EXPECT_EQ(r.out.find(kUuidC), std::string::npos) << r.out;
  EXPECT_EQ(StoredVersions(data, dir), 1);
}

TEST(DuplicateKeys, JsonLinesImportNamesTheLine) {
  TempDir dir("dupkeys-jsonl");
  std::string data = (dir.path() / "data").string();
  RunResult r;
  RunAccord("--data " + ShellQuote(data) + " init", dir, &r);
  std::ofstream(dir.path() / "in.jsonl")
      << Indicator(kUuidA, "[ipv4-addr:value = '198.51.100.1']") << "\n"
      << Indicator(kUuidB, "[ipv4-addr:value = '198.51.100.2']",
                   R"(,"pattern":"[ipv4-addr:value = '203.0.113.9']")")
      << "\n";
  RunAccord(
      "--data " + ShellQuote(data) + " import " + ShellQuote((dir.path() / "in.jsonl").string()),
      dir, &r);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("in.jsonl:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("duplicate key 'pattern'"), std::string::npos) << r.err;
  EXPECT_EQ(StoredVersions(data, dir), 1);
}

// `accord serve` with one collection; POSTs with curl as the admin.
class DuplicateKeysTaxii : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    ASSERT_TRUE(server_.Start(data_));
    RunResult r;
    RunAccord("collection create shared --data " + ShellQuote(data_), dir_, &r);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    collection_ = r.out.substr(0, r.out.find('\n'));
  }

  // POSTs `body` to the collection; returns the HTTP status and fills *reply with the body.
  int Post(const std::string& body, std::string* reply) {
    std::ofstream(dir_.path() / "post.json") << body;
    std::string url = "http://127.0.0.1:" + std::to_string(server_.port()) + "/api/collections/" +
                      collection_ + "/objects/";
    RunResult r =
        RunCmd("curl -s -o " + ShellQuote((dir_.path() / "reply.json").string()) +
                   " -w '%{http_code}' -u admin:" + server_.admin_key() +
                   " -H 'Accept: application/taxii+json;version=2.1'"
                   " -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @" +
                   ShellQuote((dir_.path() / "post.json").string()) + " " + ShellQuote(url),
               dir_.path());
    *reply = Slurp(dir_.path() / "reply.json");
    return std::atoi(r.out.c_str());
  }

  TempDir dir_{"dupkeys-taxii"};
  ServerProcess server_;
  std::string data_, collection_;
};

TEST_F(DuplicateKeysTaxii, PostedObjectWithTwoPatternsIsAFailureAndNotStored) {
  std::string reply;
  int status = Post(R"({"objects":[)" +
                        Indicator(kUuidA, "[domain-name:value = 'benign.example']",
                                  R"(,"pattern":"[domain-name:value = 'evil.example']")") +
                        "]}",
                    &reply);
  EXPECT_EQ(status, 202) << reply;
  auto st = nlohmann::json::parse(reply, nullptr, false);
  ASSERT_TRUE(st.is_object()) << reply;
  EXPECT_EQ(st.value("success_count", -1), 0) << reply;
  EXPECT_EQ(st.value("failure_count", -1), 1) << reply;
  ASSERT_TRUE(st["failures"].is_array() && st["failures"].size() == 1) << reply;
  EXPECT_EQ(st["failures"][0].value("id", ""), std::string("indicator--") + kUuidA);
  EXPECT_NE(st["failures"][0].value("message", "").find("duplicate key 'pattern'"),
            std::string::npos)
      << reply;
  server_.Stop();
  EXPECT_EQ(StoredVersions(data_, dir_), 0);
}

TEST_F(DuplicateKeysTaxii, EnvelopeWithTwoObjectsMembersIs400) {
  // Which "objects" is the envelope's? A parser taking the first stores A, one taking the
  // last stores B: the request itself is malformed.
  std::string reply;
  int status =
      Post(R"({"objects":[)" + Indicator(kUuidA, "[ipv4-addr:value = '198.51.100.1']") +
               R"(],"objects":[)" + Indicator(kUuidB, "[ipv4-addr:value = '198.51.100.2']") + "]}",
           &reply);
  EXPECT_EQ(status, 400) << reply;
  EXPECT_NE(reply.find("duplicate key 'objects'"), std::string::npos) << reply;
  server_.Stop();
  EXPECT_EQ(StoredVersions(data_, dir_), 0);
}

// A hostile TAXII peer: answers every request on a loopback port with one fixed envelope.
class FakePeer {
 public:
  explicit FakePeer(std::string body) : body_(std::move(body)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakePeer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      // Reads the request head (a GET has no body), then answers and closes.
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string resp =
          "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n"
          "Connection: close\r\nContent-Length: " +
          std::to_string(body_.size()) + "\r\n\r\n" + body_;
      size_t off = 0;
      while (off < resp.size()) {
        ssize_t n = write(c, resp.data() + off, resp.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      close(c);
    }
  }

  std::string body_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Pulls the peer's one page into a fresh node; returns the run.
RunResult Pull(const FakePeer& peer, const std::string& data, const TempDir& dir) {
  RunCmd(Accord() + " --data " + ShellQuote(data) + " init", dir.path());
  std::string root = "http://127.0.0.1:" + std::to_string(peer.port()) + "/api/";
  return RunCmd(Accord() + " taxii pull " + root + " feed --into mirror --data " +
                    ShellQuote(data) + " --key k",
                dir.path());
}

TEST(DuplicateKeysPull, PulledObjectWithTwoPatternsIsRefused) {
  TempDir dir("dupkeys-pull");
  FakePeer peer(R"({"more":false,"objects":[)" +
                Indicator(kUuidA, "[ipv4-addr:value = '198.51.100.1']") + "," +
                Indicator(kUuidB, "[domain-name:value = 'benign.example']",
                          R"(,"pattern":"[domain-name:value = 'evil.example']")") +
                "]}");
  ASSERT_GT(peer.port(), 0);
  std::string data = (dir.path() / "data").string();
  RunResult r = Pull(peer, data, dir);
  EXPECT_NE(r.err.find("duplicate key 'pattern'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::string("indicator--") + kUuidB), std::string::npos) << r.err;
  // Only the clean object is stored.
  EXPECT_EQ(StoredVersions(data, dir), 1);
  RunResult g =
      RunCmd(Accord() + " --data " + ShellQuote(data) + " get indicator--" + kUuidB, dir.path());
  EXPECT_EQ(g.out.find(kUuidB), std::string::npos) << g.out;
}

TEST(DuplicateKeysPull, PageWithTwoObjectsMembersIsRefused) {
  TempDir dir("dupkeys-pull-env");
  FakePeer peer(R"({"objects":[)" + Indicator(kUuidA, "[ipv4-addr:value = '198.51.100.1']") +
                R"(],"more":false,"objects":[)" +
                Indicator(kUuidB, "[ipv4-addr:value = '198.51.100.2']") + "]}");
  ASSERT_GT(peer.port(), 0);
  std::string data = (dir.path() / "data").string();
  RunResult r = Pull(peer, data, dir);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("duplicate key 'objects'"), std::string::npos) << r.err;
  EXPECT_EQ(StoredVersions(data, dir), 0);
}

TEST(DuplicateKeysTelemetry, EveLineWithDuplicateKeyIsMalformedAndOthersMatch) {
  TempDir dir("dupkeys-eve");
  std::string data = (dir.path() / "data").string();
  RunCmd(Accord() + " --data " + ShellQuote(data) + " init", dir.path());
  std::ofstream(dir.path() / "ind.json")
      << Indicator(kUuidA, "[domain-name:value = 'evil.example']");
  RunResult r = RunCmd(Accord() + " --data " + ShellQuote(data) + " import " +
                           ShellQuote((dir.path() / "ind.json").string()),
                       dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Line 2 names two domains: a reader taking the first sees a benign one, the last an evil one.
  std::ofstream(dir.path() / "eve.json")
      << R"({"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","dns":{"rrname":"evil.example"}})"
      << "\n"
      << R"({"timestamp":"2024-01-01T00:00:01.000000+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","dns":{"rrname":"benign.example","rrname":"evil.example"}})"
      << "\n"
      << R"({"timestamp":"2024-01-01T00:00:02.000000+0000","event_type":"dns","src_ip":"10.0.0.3","dest_ip":"10.0.0.2","dns":{"rrname":"evil.example"}})"
      << "\n";
  r = RunCmd(Accord() + " --data " + ShellQuote(data) + " match --input-format suricata " +
                 ShellQuote((dir.path() / "eve.json").string()),
             dir.path());
  EXPECT_NE(r.err.find("eve.json:2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("duplicate key 'rrname' at dns.rrname"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 malformed"), std::string::npos) << r.err;
  // Lines 1 and 3 are still read and matched, and only they: the matches' times are theirs.
  std::vector<std::string> times;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto m = nlohmann::json::parse(line, nullptr, false);
    if (m.is_object()) times.push_back(m.value("time", ""));
  }
  EXPECT_EQ(times, (std::vector<std::string>{"2024-01-01T00:00:00.000000Z",
                                             "2024-01-01T00:00:02.000000Z"}))
      << r.out;
}

}  // namespace
}  // namespace accord::testing
