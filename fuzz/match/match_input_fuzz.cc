// Fuzz target: the first byte picks a reader (Zeek, EVE, STIX, mapped JSON lines), the rest
// is the input; every event goes through a small engine with indexed, residual and temporal
// indicators. Must never crash, hang or grow without bound (issue 4, "Bad input").
#include <cstdint>
#include <cstdio>
#include <string>

#include "accord/match/engine.h"
#include "accord/match/input.h"

using namespace accord;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static match::Engine* engine = [] {
    auto e = match::Engine::Build(
        {{"indicator--1", "[ipv4-addr:value = '10.0.0.1']"},
         {"indicator--2", "[network-traffic:dst_ref.value ISSUBSET '192.168.0.0/16']"},
         {"indicator--3", "[domain-name:value LIKE '%.evil.example']"},
         {"indicator--4", "[file:hashes.MD5 MATCHES '^d41d']"},
         {"indicator--5",
          "[network-traffic:dst_port > 1024 AND NOT EXISTS network-traffic:src_port]"},
         {"indicator--6",
          "([domain-name:value = 'a.example'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.1']) WITHIN 60 "
          "SECONDS"},
         {"indicator--7", "[url:value = 'http://x/'] REPEATS 3 TIMES"}},
        match::MatchOptions());
    return e.ok() ? e->release() : nullptr;
  }();
  static const match::FieldMapping mapping = *match::FieldMapping::Parse(
      "src = ipv4-addr:value\nq.name = domain-name:value\nh.md5 = file:hashes.MD5\n@time = ts\n");
  static const match::InputFormat kFormats[] = {
      match::InputFormat::kZeek, match::InputFormat::kSuricata, match::InputFormat::kStix,
      match::InputFormat::kJsonl, match::InputFormat::kAuto};
  match::InputFormat f = kFormats[data[0] % 5];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto reader = match::EventReader::Open(f, common::InputStream::FromBuffer(body), "fuzz",
                                         f == match::InputFormat::kJsonl ? &mapping : nullptr,
                                         [](std::string_view, std::string_view) {});
  if (!reader.ok()) return 0;
  match::Observation o;
  std::vector<match::MatchResult> out;
  uint64_t pos = 0;
  for (;;) {
    auto more = (*reader)->Next(&o);
    if (!more.ok() || !*more) break;
    out.clear();
    if (engine) engine->Process(o, ++pos, &out);
  }
  return 0;
}
