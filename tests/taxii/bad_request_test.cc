// Malformed and hostile requests against `accord serve` over raw sockets: bad request lines,
// huge headers, binary garbage, slow clients, bad JSON and wrong media types. Each gets a clear
// error (or a closed connection) and the server keeps serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "common/test_util.h"
#include "taxii/server_process.h"

namespace accord::testing {
namespace {

class BadRequest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("taxii-bad");
    auto cfg = dir_->path() / "accord.toml";
    std::ofstream(cfg) << "[server]\nheader_timeout_ms = 500\nidle_timeout_ms = 500\n"
                          "max_header_bytes = 8192\n[taxii]\ntitle = \"bad-request test\"\n";
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start((dir_->path() / "d").string(), {"--config", cfg.string()}));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  // Sends `raw`, then reads until the server closes or `wait` passes.
  static std::string Exchange(const std::string& raw,
                              std::chrono::milliseconds wait = std::chrono::milliseconds(3000)) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(server_->port()));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return "connect failed";
    }
    timeval tv{static_cast<time_t>(wait.count() / 1000),
               static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < raw.size()) {
      ssize_t n = send(fd, raw.data() + off, raw.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return out;
  }

  static int StatusOf(const std::string& resp) {
    if (resp.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(resp.substr(9, 3));
  }

  static void ExpectAlive() {
    auto r = Exchange("GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      server_->admin_key() + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(StatusOf(r), 200) << r;
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* BadRequest::dir_ = nullptr;
ServerProcess* BadRequest::server_ = nullptr;

TEST_F(BadRequest, GarbageRequestLineIs400) {
  auto r = Exchange("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 400) << r;
  EXPECT_NE(r.find("application/taxii+json;version=2.1"), std::string::npos);
  ExpectAlive();
}

TEST_F(BadRequest, BinaryGarbageIsRefused) {
  std::string junk;
  for (int i = 0; i < 2000; ++i) junk.push_back(static_cast<char>((i * 131) & 0xFF));
  auto r = Exchange(junk);
  EXPECT_TRUE(r.empty() || StatusOf(r) == 400) << r.substr(0, 100);
  ExpectAlive();
}

TEST_F(BadRequest, HugeHeaderIs431) {
  auto r = Exchange("GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                    "\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 431) << r.substr(0, 200);
  ExpectAlive();
}

TEST_F(BadRequest, BadContentLengthIs400) {
  auto r = Exchange(
      "POST /api/collections/default/objects/ HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: -5\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 400) << r;
  ExpectAlive();
}

TEST_F(BadRequest, SlowClientIsDisconnected) {
  auto start = std::chrono::steady_clock::now();
  auto r = Exchange("GET /taxii2/ HTTP/1.1\r\nHost: x\r\n", std::chrono::milliseconds(5000));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(StatusOf(r), 0);
  EXPECT_LT(waited, std::chrono::milliseconds(4000));  // closed by the 500 ms header timeout
  ExpectAlive();
}

TEST_F(BadRequest, TruncatedBodyDoesNotHang) {
  auto r = Exchange(
      "POST /api/collections/default/objects/ HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/taxii+json;version=2.1\r\n"
      "Authorization: Bearer " +
          server_->admin_key() + "\r\nContent-Length: 100\r\n\r\n{\"objects\":[",
      std::chrono::milliseconds(5000));
  (void)r;
  ExpectAlive();
}

TEST_F(BadRequest, BadJsonBodiesAndMediaTypes) {
  const std::string auth = "Authorization: Bearer " + server_->admin_key() + "\r\n";
  struct Case {
    std::string type, body;
    int want;
  } cases[] = {
      {"application/taxii+json;version=2.1", "{", 400},
      {"application/taxii+json;version=2.1", "\xff\xfe", 400},
      {"application/taxii+json;version=2.1", "{\"objects\":{}}", 422},
      {"application/taxii+json;version=2.1", "{\"objects\":[1,\"x\",null]}", 202},
      {"application/taxii+json;version=2.1", std::string(100, '['), 400},
      {"text/plain", "{\"objects\":[]}", 415},
      {"", "{\"objects\":[]}", 415},
      {"application/taxii+json;version=2.0", "{\"objects\":[]}", 415},
  };
  for (const auto& c : cases) {
    std::string req = "POST /api/collections/default/objects/ HTTP/1.1\r\nHost: x\r\n" + auth +
                      (c.type.empty() ? "" : "Content-Type: " + c.type + "\r\n") +
                      "Connection: close\r\nContent-Length: " + std::to_string(c.body.size()) +
                      "\r\n\r\n" + c.body;
    auto r = Exchange(req);
    EXPECT_EQ(StatusOf(r), c.want) << c.type << " " << c.body.substr(0, 40) << "\n" << r;
  }
  ExpectAlive();
}

}  // namespace
}  // namespace accord::testing
