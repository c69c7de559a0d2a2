// Helpers for the connection-level attack tests (unauth_body, fd_exhaustion, limits): an
// `accord serve` child started under resource limits (setrlimit in the child before exec), its
// memory and CPU read from /proc/<pid>, and raw-socket clients that connect from a chosen
// loopback address, stream bodies without materialising them, and read one response.
//
// Not thread-safe; one test thread drives everything.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/paths.h"

namespace accord::testing {

// GCC defines __SANITIZE_ADDRESS__ under -fsanitize=address, clang has __has_feature.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

struct ChildLimits {
  uint64_t address_space = 0;  // RLIMIT_AS in bytes; 0: unchanged
  uint64_t open_files = 0;     // RLIMIT_NOFILE (soft and hard); 0: unchanged
};

/// `accord serve --listen 127.0.0.1:0` as a child under `limits`; the port comes from its
/// standard output, the admin key (first start) from <data>/admin.key.
class LimitedServer {
 public:
  bool Start(const std::string& data_dir, const std::string& config, ChildLimits limits = {}) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      if (limits.address_space > 0) {
        rlimit r{limits.address_space, limits.address_space};
        setrlimit(RLIMIT_AS, &r);
      }
      if (limits.open_files > 0) {
        rlimit r{limits.open_files, limits.open_files};
        setrlimit(RLIMIT_NOFILE, &r);
      }
      std::vector<std::string> args = {"serve",       "--data",       data_dir, "--listen",
                                       "127.0.0.1:0", "--access-log", ""};
      if (!config.empty()) {
        args.push_back("--config");
        args.push_back(config);
      }
      ExecAccord(std::move(args));
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[4096];
    bool first_start = false;
    while (std::fgets(line, sizeof line, out_)) {
      std::string l(line);
      if (l.find("first start") != std::string::npos) first_start = true;
      size_t p = l.find("listening on ");
      if (p != std::string::npos) {
        size_t colon = l.find(':', l.find("//", p) + 2);
        port_ = std::stoi(l.substr(colon + 1));
        if (first_start) std::getline(std::ifstream(data_dir + "/admin.key"), admin_key_);
        return true;
      }
    }
    return false;
  }

  /// True while the child has not exited (it is reaped if it has).
  bool Alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exit_status_ = st;
      pid_ = -1;
      return false;
    }
    return true;
  }

  /// SIGTERM, then waits; the exit code, or -1 (killed by a signal, or not running).
  int Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
    }
    if (out_) {
      std::fclose(out_);
      out_ = nullptr;
    }
    return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
  }
  ~LimitedServer() { Stop(); }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& admin_key() const { return admin_key_; }

  /// A "VmRSS"/"VmHWM" line of /proc/<pid>/status in KiB (-1 when unreadable).
  long StatusKb(const std::string& field) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    }
    return -1;
  }

  /// User plus system CPU time of the child so far, in clock ticks (/proc/<pid>/stat fields
  /// 14 and 15, counted after the parenthesised command name).
  long CpuTicks() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t close_paren = all.rfind(')');
    if (close_paren == std::string::npos) return -1;
    std::istringstream rest(all.substr(close_paren + 2));
    std::string field;
    long utime = 0, stime = 0;
    // After ')': state is field 3; utime is field 14, stime field 15.
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stol(field);
      if (i == 15) stime = std::stol(field);
    }
    return utime + stime;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
  int exit_status_ = 0;
  std::string admin_key_;
};

/// A blocking TCP connection to 127.0.0.1:`port`, from loopback address `from` (any
/// 127.x.y.z works on Linux, so tests can play several clients). -1 on failure.
inline int ConnectFrom(int port, const char* from = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from, &local.sin_addr);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

/// One HTTP response as read from a raw socket.
struct RawResponse {
  int status = 0;  // 0: none arrived
  std::string head;
  std::string body;

  /// The value of header `name` (case-insensitive match on the name), or "".
  std::string Header(const std::string& name) const {
    std::istringstream in(head);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() > name.size() && line[name.size()] == ':' &&
          strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
        std::string v = line.substr(name.size() + 1);
        while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
        while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
        return v;
      }
    }
    return "";
  }
};

/// Parses a complete response (head and Content-Length body) at the start of `buf`; false
/// while it is incomplete.
inline bool ParseResponse(const std::string& buf, RawResponse* out) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  RawResponse r;
  r.head = buf.substr(0, end + 2);
  if (r.head.rfind("HTTP/1.1 ", 0) != 0 || r.head.size() < 12) return false;
  r.status = std::stoi(r.head.substr(9, 3));
  std::string len = r.Header("Content-Length");
  size_t n = len.empty() ? 0 : std::stoul(len);
  if (buf.size() < end + 4 + n) return false;
  r.body = buf.substr(end + 4, n);
  *out = std::move(r);
  return true;
}

/// Reads one response from `fd`, waiting at most `wait` (a guard against hanging, not a
/// performance bound). status 0 when none arrived.
inline RawResponse ReadResponse(int fd, std::chrono::milliseconds wait) {
  std::string buf;
  RawResponse r;
  auto deadline = std::chrono::steady_clock::now() + wait;
  char tmp[8192];
  while (!ParseResponse(buf, &r)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  return r;
}

/// Waits (at most `wait`) for the peer to close: true on end of stream or reset, false when
/// the connection is still open at the end. Data that arrives meanwhile is discarded.
inline bool WaitClosed(int fd, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  char tmp[8192];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int pr = poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return false;
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return true;  // ECONNRESET
  }
}

/// Runs `accord --data DIR ARGS` and returns its first line of output ("" on failure).
inline std::string AccordLine(const std::string& data_dir, const std::string& args) {
  std::string cmd =
      std::string(accord::testing::AccordBinary()) + " " + args + " --data '" + data_dir + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  char line[4096];
  std::string first;
  if (std::fgets(line, sizeof line, p)) first = line;
  while (std::fgets(line, sizeof line, p)) {
  }
  if (pclose(p) != 0) return "";
  while (!first.empty() && (first.back() == '\n' || first.back() == '\r')) first.pop_back();
  return first.empty() ? "ok" : first;
}

}  // namespace accord::testing
