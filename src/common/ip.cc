#include "accord/common/ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace accord::common {

bool ParseIpPrefix(std::string_view s, IpPrefix* out) {
  *out = IpPrefix();
  if (s.size() > 60) return false;  // longest IPv6 text with a prefix is 49 characters
  char buf[64];
  size_t slash = s.find('/');
  std::string_view addr = s.substr(0, slash);
  std::memcpy(buf, addr.data(), addr.size());
  buf[addr.size()] = 0;
  IpPrefix r;
  int max_prefix;
  if (inet_pton(AF_INET, buf, r.addr) == 1) {
    r.family = 4;
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, buf, r.addr) == 1) {
    r.family = 6;
    max_prefix = 128;
  } else {
    return false;
  }
  r.prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3) return false;
    int v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > max_prefix) return false;
    r.prefix = v;
  }
  *out = r;
  return true;
}

}  // namespace accord::common
