// Issue 10, hostile peers: the TAXII client had no size cap (a hostile server's 1.5 GB answer
// took the client to 2.1 GB). A tiny hostile HTTP server in this process (plain sockets, one
// thread) answers `accord taxii pull` with a 1 GiB body, a body that never ends, a 10 GB
// Content-Length, or nothing at all; the client stops at --max-response-bytes (256 MiB by
// default) or --timeout, fails naming the URL, and its peak RSS stays bounded.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <cstdlib>

#include <atomic>
#include <string>
#include <thread>

#include "common/test_util.h"
#include "hostile/input_child.h"

namespace accord::testing {
namespace {

enum class Answer { kHugeBody, kEndlessChunked, kHugeContentLength, kSilence, kBigPage };

// The big valid page (kBigPage): kBigPageObjects indicators with descriptions of kPad bytes.
constexpr int kBigPageObjects = 10000;
constexpr size_t kPad = 10000;
std::string BigPageIndicator(int i, const std::string& desc) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--7d3e5a1c-4b2f-4e8d-9a6b-%012d", i);
  return std::string(R"({"type":"indicator","spec_version":"2.1","id":")") + id +
         R"(","created":"2025-03-01T00:00:00.000Z","modified":"2025-03-01T00:00:00.000Z",)" +
         R"("description":")" + desc + R"(","pattern":"[domain-name:value = 'page)" +
         std::to_string(i) + R"(.example']","pattern_type":"stix",)" +
         R"("valid_from":"2025-03-01T00:00:00Z"})";
}

// Listens on 127.0.0.1 (a free port) and answers every connection with `answer`, until the
// client closes the connection. Runs on its own thread; the destructor stops it.
class HostileServer {
 public:
  explicit HostileServer(Answer answer) : answer_(answer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~HostileServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      Serve(c);
      ::close(c);
    }
  }
  // Sends all of `s`; false once the client went away.
  static bool Send(int c, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  void Serve(int c) {
    // Read the request head (the client sends no body on GET).
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    const std::string type = "Content-Type: application/taxii+json;version=2.1\r\n";
    std::string block(1 << 20, ' ');
    switch (answer_) {
      case Answer::kHugeBody: {  // 1 GiB of a never-closed envelope, then the connection ends
        if (!Send(c, "HTTP/1.1 200 OK\r\n" + type + "Connection: close\r\n\r\n{\"objects\":["))
          return;
        for (int i = 0; i < 1024 && !stop_; ++i) {
          if (!Send(c, block)) return;
        }
        return;
      }
      case Answer::kEndlessChunked: {  // chunks until the client hangs up
        if (!Send(c, "HTTP/1.1 200 OK\r\n" + type + "Transfer-Encoding: chunked\r\n\r\n")) return;
        char head[32];
        std::snprintf(head, sizeof head, "%zx\r\n", block.size());
        while (!stop_ && Send(c, head + block + "\r\n")) {
        }
        return;
      }
      case Answer::kHugeContentLength:
        Send(c, "HTTP/1.1 200 OK\r\n" + type + "Content-Length: 10737418240\r\n\r\n{");
        // Hold the connection until the client hangs up.
        while (!stop_ && ::recv(c, buf, sizeof buf, 0) > 0) {
        }
        return;
      case Answer::kBigPage: {  // one valid page of ~100 MB, sent object by object
        std::string desc;
        while (desc.size() < kPad) desc += "text with \\\"quotes\\\", [brackets] and {braces} ";
        uint64_t length = std::string(R"({"more":false,"objects":[)").size() + 2;
        for (int i = 0; i < kBigPageObjects; ++i) {
          length += BigPageIndicator(i, desc).size() + (i > 0 ? 1 : 0);
        }
        if (!Send(c, "HTTP/1.1 200 OK\r\n" + type + "Connection: close\r\nContent-Length: " +
                         std::to_string(length) + "\r\n\r\n{\"more\":false,\"objects\":[")) {
          return;
        }
        for (int i = 0; i < kBigPageObjects && !stop_; ++i) {
          if (!Send(c, (i > 0 ? "," : "") + BigPageIndicator(i, desc))) return;
        }
        Send(c, "]}");
        return;
      }
      case Answer::kSilence:  // headers never come: only the total timeout ends it
        while (!stop_ && ::recv(c, buf, sizeof buf, 0) > 0) {
        }
        return;
    }
  }

  Answer answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

ChildResult Pull(const TempDir& dir, int port, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--data",
                                   (dir.path() / "data").string(),
                                   "taxii",
                                   "pull",
                                   "http://127.0.0.1:" + std::to_string(port) + "/api/",
                                   "feed",
                                   "--retries",
                                   "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunAccord(args, dir.path());
}

// Under ASan, freed buffers wait in a quarantine of up to 256 MB, which made the peak swing by
// hundreds of MB between runs; a small quarantine measures what the client holds.
ChildResult PullWithSmallQuarantine(const TempDir& dir, int port) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  std::string saved = asan ? asan : "";
  setenv("ASAN_OPTIONS", (saved + (saved.empty() ? "" : ":") + "quarantine_size_mb=16").c_str(), 1);
  ChildResult r = Pull(dir, port);
  if (asan) {
    setenv("ASAN_OPTIONS", saved.c_str(), 1);
  } else {
    unsetenv("ASAN_OPTIONS");
  }
  return r;
}

// The body is read up to the 256 MiB default and no further. ASan's shadow and quarantine
// roughly double what the client holds, so the bound is well above 256 MB but far below the
// 1 GiB body (which the old client took whole, growing its buffer to 2 GB).
// Measured 430-730 MB under ASan with the fix (the cap's buffer, its last half while it grows,
// libcurl's, ASan's shadow); the old client held the whole 1 GiB body (over 1.1 GB).
constexpr uint64_t kMaxRssMb = 900;
// The big valid page (95 MB of body), under ASan with a 16 MB quarantine: 949 MB before the
// page was streamed (the body, a DOM of it, a copy of its objects array and a DOM of that,
// then the records), 437 MB after (the body and the records).
constexpr uint64_t kPageRssMb = 650;

TEST(TaxiiClientCap, HugeBodyStopsAtTheDefaultCapNamingTheUrl) {
  TempDir dir("taxii-cap-huge");
  HostileServer server(Answer::kHugeBody);
  // (The old client held the whole 1 GiB body: far above the bound either way.)
  ChildResult r = PullWithSmallQuarantine(dir, server.port());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("http://127.0.0.1:" + std::to_string(server.port()) +
                       "/api/collections/feed/objects/"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("response larger than the limit of 268435456 bytes"), std::string::npos)
      << r.err;
  EXPECT_LT(r.peak_rss_mb, kMaxRssMb) << r.err;
}

TEST(TaxiiClientCap, EndlessBodyStopsAtAConfiguredCap) {
  TempDir dir("taxii-cap-endless");
  HostileServer server(Answer::kEndlessChunked);
  ChildResult r = Pull(dir, server.port(), {"--max-response-bytes", "16777216"});
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("/api/collections/feed/objects/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("response larger than the limit of 16777216 bytes"), std::string::npos)
      << r.err;
  EXPECT_LT(r.peak_rss_mb, kMaxRssMb) << r.err;
}

TEST(TaxiiClientCap, DeclaredHugeLengthIsRefusedBeforeTheBody) {
  TempDir dir("taxii-cap-length");
  HostileServer server(Answer::kHugeContentLength);
  ChildResult r = Pull(dir, server.port());
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.err.find(
          "/api/collections/feed/objects/?match[version]=all&limit=1000: response larger than "
          "the limit of 268435456 bytes"),
      std::string::npos)
      << r.err;
}

TEST(TaxiiClientCap, SilentServerEndsAtTheTotalTimeout) {
  TempDir dir("taxii-cap-silent");
  HostileServer server(Answer::kSilence);
  ChildResult r = Pull(dir, server.port(), {"--timeout", "2"});
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("/api/collections/feed/objects/?match[version]=all&limit=1000: no complete "
                       "response within 2 s"),
            std::string::npos)
      << r.err;
}

// Issue 11: a page is read object by object (stix::ReadEnvelope), not as one DOM of the page
// plus a copy of its objects array parsed again. A valid 100 MB page is pulled whole, and the
// client holds about the body and the page's records; it held several times the body before.
TEST(TaxiiClientCap, BigValidPageIsPulledWithoutADomOfThePage) {
  TempDir dir("taxii-cap-page");
  HostileServer server(Answer::kBigPage);
  ChildResult r = PullWithSmallQuarantine(dir, server.port());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pulled " + std::to_string(kBigPageObjects) + " object versions in 1 pages"),
            std::string::npos)
      << r.err;
  const uint64_t body_mb = static_cast<uint64_t>(kBigPageObjects) * kPad >> 20;
  std::printf("page body ~%llu MB, client peak RSS %llu MB\n",
              static_cast<unsigned long long>(body_mb),
              static_cast<unsigned long long>(r.peak_rss_mb));
  EXPECT_LT(r.peak_rss_mb, kPageRssMb) << r.err;
}

}  // namespace
}  // namespace accord::testing
