// Helpers for the hostile tests on authentication cost, page and status bounds and a full disk:
// one HTTP/1.1 request over a fresh loopback connection (no curl process per request, so that
// latencies measure the server), the status line, headers and body of the answer, and the
// resident set size of a process.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace accord::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed or closed early)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    for (const auto& h : headers) {
      if (h.first == lower_name) return h.second;
    }
    return "";
  }
};

/// `authorization` is the whole header value ("Bearer ...", "Basic ..."), or "" for none.
inline HttpReply HttpRequest(int port, const std::string& method, const std::string& path,
                             const std::string& authorization, const std::string& body = "") {
  HttpReply r;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return r;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                    "Accept: application/taxii+json;version=2.1\r\nConnection: close\r\n";
  if (!authorization.empty()) req += "Authorization: " + authorization + "\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Type: application/taxii+json;version=2.1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) in.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (in.rfind("HTTP/1.1 ", 0) != 0) return r;
  r.status = std::atoi(in.c_str() + 9);
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  // Header lines between the status line and the blank line.
  size_t pos = in.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = in.find("\r\n", pos);
    std::string line = in.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers.emplace_back(name, line.substr(v));
    }
    pos = eol + 2;
  }
  r.body = in.substr(end + 4);
  // A chunked body is joined (the server streams large pages).
  if (r.Header("transfer-encoding") == "chunked") {
    std::string joined;
    size_t p = 0;
    while (p < r.body.size()) {
      size_t eol = r.body.find("\r\n", p);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(r.body.substr(p, eol - p).c_str(), nullptr, 16);
      if (len == 0) break;
      joined.append(r.body, eol + 2, len);
      p = eol + 2 + len + 2;
    }
    r.body = std::move(joined);
  }
  return r;
}

/// VmRSS of process `pid` in bytes, or -1.
inline long long RssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

/// The pid of the `accord serve` process whose command line names `data_dir`, or -1
/// (ServerProcess does not tell its child's pid).
inline int ServePid(const std::string& data_dir) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string want = std::string("serve") + '\0' + "--data" + '\0' + data_dir + '\0';
    if (cmd.find(want) != std::string::npos) return std::atoi(name.c_str());
  }
  return -1;
}

}  // namespace accord::testing
