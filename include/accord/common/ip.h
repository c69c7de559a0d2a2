// IPv4/IPv6 addresses and CIDR prefixes, as STIX patterns and telemetry write them.
#pragma once

#include <cstdint>
#include <string_view>

namespace accord::common {

/// An address with a prefix length (32/128 for a plain address).
struct IpPrefix {
  int family = 0;  // 4 or 6; 0 invalid
  uint8_t addr[16] = {};
  int prefix = 0;
};

/// Parses "a.b.c.d", "a.b.c.d/n", an IPv6 address and IPv6/n (inet_pton rules: strict dotted
/// quads). Returns false, leaving `*out` invalid, if `s` is none of these or n is out of range.
[[nodiscard]] bool ParseIpPrefix(std::string_view s, IpPrefix* out);

}  // namespace accord::common
