// Deterministic generator of realistic STIX 2.1 indicators (diverse patterns, labels,
// TLP 2.0 markings, external references, kill-chain phases), for the ingest benchmark and the
// crash test. Header-only; seeded, so every run produces the same objects.
#pragma once

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace accord::testing {

class IndicatorGenerator {
 public:
  explicit IndicatorGenerator(uint64_t seed) : rng_(seed) {}

  /// The i-th indicator as one line of JSON (no trailing newline).
  std::string Next(uint64_t i) {
    std::string pattern = Pattern();
    const char* marking = kMarkings[Pick(4)];
    const char* label = kTypes[Pick(5)];
    char buf[4096];
    int day = static_cast<int>(1 + i % 28), month = static_cast<int>(1 + (i / 28) % 12);
    int n = std::snprintf(
        buf, sizeof(buf),
        R"({"type":"indicator","spec_version":"2.1","id":"indicator--%s",)"
        R"("created_by_ref":"identity--8c6af861-7b20-41ef-9b59-6344fd872a8f",)"
        R"("created":"2025-%02d-%02dT10:%02d:%02d.%03dZ","modified":"2025-%02d-%02dT10:%02d:%02d.%03dZ",)"
        R"("name":"%s %llu","description":"Generated %s indicator for ingest benchmarking",)"
        R"("indicator_types":["%s"],"pattern":"%s","pattern_type":"stix",)"
        R"("valid_from":"2025-%02d-%02dT10:00:00Z","confidence":%d,)"
        R"("labels":["%s","benchmark"],)"
        R"("kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"%s"}],)"
        R"("external_references":[{"source_name":"example-feed","url":"https://feeds.example.test/item/%llu","external_id":"EF-%llu"}],)"
        R"("object_marking_refs":["%s"]})",
        Uuid().c_str(), month, day, static_cast<int>(i % 60), static_cast<int>(i / 60 % 60),
        static_cast<int>(i % 1000), month, day, static_cast<int>(i % 60),
        static_cast<int>(i / 60 % 60), static_cast<int>(i % 1000), label,
        static_cast<unsigned long long>(i), label, label, pattern.c_str(), month, day,
        static_cast<int>(Pick(101)), kFamilies[Pick(6)], kPhases[Pick(5)],
        static_cast<unsigned long long>(i), static_cast<unsigned long long>(i), marking);
    return std::string(buf, static_cast<size_t>(n));
  }

 private:
  static constexpr const char* kMarkings[] = {
      "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",   // TLP:CLEAR
      "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",   // TLP:GREEN
      "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",   // TLP:AMBER
      "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"};  // TLP:AMBER+STRICT
  static constexpr const char* kTypes[] = {"malicious-activity", "anomalous-activity",
                                           "compromised", "attribution", "anonymization"};
  static constexpr const char* kFamilies[] = {"emotet",        "trickbot", "qakbot",
                                              "cobalt-strike", "lockbit",  "phishing"};
  static constexpr const char* kPhases[] = {"initial-access", "execution", "command-and-control",
                                            "exfiltration", "persistence"};

  uint64_t Pick(uint64_t n) { return rng_() % n; }

  std::string Hex(int len) {
    static const char* d = "0123456789abcdef";
    std::string s(static_cast<size_t>(len), '0');
    for (auto& c : s) c = d[Pick(16)];
    return s;
  }

  std::string Uuid() {
    std::string h = Hex(32);
    h[12] = '4';
    h[16] = "89ab"[Pick(4)];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20);
  }

  std::string Ip() {
    return std::to_string(1 + Pick(223)) + "." + std::to_string(Pick(256)) + "." +
           std::to_string(Pick(256)) + "." + std::to_string(1 + Pick(254));
  }

  std::string Domain() {
    static const char* tld[] = {"com", "net", "org", "ru", "info", "xyz", "top"};
    std::string s;
    int len = static_cast<int>(6 + Pick(10));
    for (int k = 0; k < len; ++k) s += static_cast<char>('a' + Pick(26));
    return s + "." + tld[Pick(7)];
  }

  std::string Pattern() {
    switch (Pick(8)) {
      case 0: return "[ipv4-addr:value = '" + Ip() + "']";
      case 1:
        return "[ipv4-addr:value ISSUBSET '" + Ip() + "/" + std::to_string(16 + Pick(17)) + "']";
      case 2: return "[domain-name:value = '" + Domain() + "']";
      case 3: return "[url:value = 'http://" + Domain() + "/" + Hex(8) + "/gate.php']";
      case 4: return "[file:hashes.'SHA-256' = '" + Hex(64) + "']";
      case 5:
        return "[file:hashes.MD5 = '" + Hex(32) + "'] OR [file:hashes.'SHA-1' = '" + Hex(40) + "']";
      case 6:
        return "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '" +
               Ip() + "' AND network-traffic:dst_port = " + std::to_string(1 + Pick(65535)) + "]";
      default:
        return "[domain-name:value = '" + Domain() + "'] FOLLOWEDBY [url:value LIKE '%" + Hex(6) +
               "%'] WITHIN 600 SECONDS";
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace accord::testing
