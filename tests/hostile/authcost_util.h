// Helpers for the hostile tests on authentication cost, page and status bounds and a full disk:
// the HTTP client of common/http_client.h, and the resident set size of a process.
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

#include "common/http_client.h"

namespace accord::testing {

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
