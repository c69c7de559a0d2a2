// Random indicators and events for the match layer's differential tests (engine_test.cc:
// compiled against interpreted; program_image_test.cc: built against loaded from an image).
#pragma once

#include <random>
#include <string>

#include "accord/match/event.h"

namespace accord::match::test_util {

inline const char* kIps[] = {"10.0.0.1", "10.0.0.2", "192.168.1.7", "2001:db8::1", "8.8.8.8"};
inline const char* kDomains[] = {"evil.example", "good.example", "a.evil.example", "x.org"};
inline const int kPorts[] = {53, 80, 443, 8080};

inline void MakeEvent(std::mt19937& rng, int t, Observation* o) {
  o->Clear();
  o->first_observed = o->last_observed = static_cast<common::Micros>(t) * 1000000;
  auto pick = [&](auto& arr) { return arr[rng() % (sizeof(arr) / sizeof(arr[0]))]; };
  std::string src = pick(kIps), dst = pick(kIps);
  for (auto [v, id] : {std::pair{src, "s"}, std::pair{dst, "d"}}) {
    o->Open();
    o->AddString("value", v);
    std::string type = v.find(':') != std::string::npos ? "ipv6-addr" : "ipv4-addr";
    o->AddSco(o->Close(Node::Kind::kObject), type, id);
  }
  o->Open();
  o->AddString("src_ref", "s");
  o->AddString("dst_ref", "d");
  o->AddInt("dst_port", pick(kPorts));
  o->Open();
  o->AddString({}, rng() % 2 ? "tcp" : "udp");
  o->AddNode("protocols", o->Close(Node::Kind::kList));
  o->AddSco(o->Close(Node::Kind::kObject), "network-traffic", "n");
  if (rng() % 2) {
    o->Open();
    o->AddString("value", pick(kDomains));
    o->AddSco(o->Close(Node::Kind::kObject), "domain-name", "q");
  }
}

inline std::string RandomComparison(std::mt19937& rng) {
  auto pick = [&](auto& arr) { return arr[rng() % (sizeof(arr) / sizeof(arr[0]))]; };
  switch (rng() % 12) {
    case 0: return std::string("ipv4-addr:value = '") + pick(kIps) + "'";
    case 1: return std::string("network-traffic:dst_ref.value = '") + pick(kIps) + "'";
    case 2:
      return "network-traffic:dst_ref.value ISSUBSET '10.0.0.0/" + std::to_string(rng() % 33) + "'";
    case 3: return "ipv6-addr:value ISSUBSET '2001:db8::/32'";
    case 4:
      return std::string("domain-name:value LIKE '%") + (rng() % 2 ? "evil" : "good") + ".example'";
    case 5: return "domain-name:value MATCHES '^a\\\\.'";
    case 6:
      return "network-traffic:dst_port " + std::string(rng() % 2 ? ">" : "<=") + " " +
             std::to_string(pick(kPorts));
    case 7: return "network-traffic:dst_port IN (53, 443)";
    case 8: return "network-traffic:protocols[*] = 'tcp'";
    case 9: return std::string("domain-name:value != '") + pick(kDomains) + "'";
    case 10: return "network-traffic:dst_port NOT = 80";
    default: return std::string(rng() % 2 ? "NOT " : "") + "EXISTS network-traffic:src_ref";
  }
}

inline std::string RandomPattern(std::mt19937& rng) {
  auto obs = [&] {
    std::string c = RandomComparison(rng);
    int k = static_cast<int>(rng() % 3);
    for (int i = 0; i < k; ++i) c += (rng() % 2 ? " AND " : " OR ") + RandomComparison(rng);
    return "[" + c + "]";
  };
  switch (rng() % 6) {
    case 0: return obs() + " AND " + obs();
    case 1: return obs() + " FOLLOWEDBY " + obs();
    case 2: return obs() + " REPEATS 2 TIMES";
    case 3: return "(" + obs() + " AND " + obs() + ") WITHIN 3 SECONDS";
    default: return obs();
  }
}

}  // namespace accord::match::test_util
