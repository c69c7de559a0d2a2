#include "accord/common/ip.h"

#include <arpa/inet.h>

#include <cstring>

namespace accord::common {

// Parses "addr" or "addr/len" (IPv4 or IPv6) for ipv4-addr/ipv6-addr values and the ISSUBSET /
// ISSUPERSET operators (STIX21-patterning.md §8.6). Text is delegated to inet_pton, which is
// strict: no leading zeros quirks of inet_aton, no zone ids ("%eth0"). Without a prefix the
// prefix is the full width (/32 or /128). Host bits beyond the prefix are kept as written; the
// comparison code masks them. On failure *out is a default IpPrefix, never a partial result.
bool ParseIpPrefix(std::string_view s, IpPrefix* out) {
  *out = IpPrefix();
  // Bound on untrusted input: the length check is what makes the fixed 64-byte stack buffer safe.
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
    // At most 3 digits, so v cannot overflow before the range check.
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
