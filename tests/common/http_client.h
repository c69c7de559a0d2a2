// A minimal HTTP/1.1 client for the end-to-end tests: one request over a fresh loopback
// connection (no curl process per request, so that latencies and timing loops measure the
// server, not process start-up), and the status line, headers and body of the answer.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
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

/// HttpRequest with a bearer `key` ("" for none).
inline HttpReply Http(int port, const std::string& method, const std::string& path,
                      const std::string& key, const std::string& body = "") {
  return HttpRequest(port, method, path, key.empty() ? "" : "Bearer " + key, body);
}

}  // namespace accord::testing
