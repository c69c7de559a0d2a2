// libFuzzer target for MISP warninglists (src/formats/warninglist.cc).
// Properties checked on every input: no crash, leak, hang or sanitizer report while parsing the
// input as a list.json, compiling an accepted list into a WarninglistSet (regexes included, under
// PCRE2's match limit) and matching values of every kind against it, among them the list's own
// first entries, which a string, hostname or cidr list must then match.
// Built with g++ (no libFuzzer) it is linked with fuzz/replay_main.cc, which replays files or
// directories given on the command line (CTest runs it over fuzz/corpus/warninglist).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "accord/formats/warninglist.h"

namespace {

using accord::formats::Value;
using accord::formats::ValueKind;

void Check(bool ok, const char* what, std::string_view entry) {
  if (ok) return;
  std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(entry.size()), entry.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = accord::formats::ParseWarninglist(text, "fuzz.json");
  if (!parsed.ok()) return 0;
  const std::string type = parsed->type;
  const bool all_kinds = parsed->matching_attributes.empty();
  std::vector<std::string> sample(
      parsed->entries.begin(),
      parsed->entries.begin() +
          static_cast<std::ptrdiff_t>(std::min<size_t>(parsed->entries.size(), 4)));
  accord::formats::WarninglistSet set;
  size_t problems = 0;
  absl::Status st = set.Add(*std::move(parsed), [&](accord::formats::Problem&&) { ++problems; });
  if (!st.ok()) return 0;
  const std::vector<Value> fixed = {
      {ValueKind::kIpv4, "8.8.8.8"},
      {ValueKind::kIpv6, "::ffff:10.1.2.3"},
      {ValueKind::kIpv4Cidr, "10.0.0.0/8"},
      {ValueKind::kIpv6Cidr, "2001:db8::/32"},
      {ValueKind::kDomain, "www.google.com."},
      {ValueKind::kUrl, "https://user@www.example.com:8443/a?b#c"},
      {ValueKind::kUrl, "http://[2001:db8::1]/x"},
      {ValueKind::kEmail, "abuse@mail.example.org"},
      {ValueKind::kMd5, "d41d8cd98f00b204e9800998ecf8427e"},
      {ValueKind::kCve, "CVE-2021-44228"},
      {ValueKind::kDomain, std::string(text.substr(0, 256))},
  };
  for (const Value& v : fixed) (void)set.Match(v);
  for (const std::string& e : sample) {
    for (int k = 0; k < accord::formats::kValueKindCount; ++k) {
      auto names = set.Match(Value{static_cast<ValueKind>(k), e});
      // An entry used as a value of a kind the list applies to matches itself: exactly for
      // string lists (when it has no upper case, which values never have after normalisation).
      bool plain = !e.empty() && e.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
      if (type == "string" && all_kinds && plain && k != static_cast<int>(ValueKind::kDomain)) {
        Check(names.size() == 1, "string entry does not match itself", e);
      }
    }
  }
  (void)problems;
  return 0;
}
