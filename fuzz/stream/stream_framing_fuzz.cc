// Fuzz target: LogFramer (src/stream/framing.cc) on arbitrary bytes, gzip included, drained to
// its end or its first error. Properties: never crashes, hangs or leaks; every message is
// non-empty, at most kMaxMessageBytes and one line (no '\n'); each message advances line();
// no more messages than lines (so the loop ends); every skip goes through the sink with a
// "fuzz:" location and is counted.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accord/stream/framing.h"

using namespace accord;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Tighter gzip bounds than the defaults, so a small input may still inflate past
  // kMaxMessageBytes (the skip path) but not to gigabytes.
  common::InputLimits limits;
  limits.max_decompressed_bytes = 8u << 20;
  uint64_t sink_calls = 0;
  stream::LogFramer framer(common::InputStream::FromBuffer(input, limits, "fuzz"), "fuzz",
                           [&](std::string_view location, std::string_view reason) {
                             if (location.substr(0, 5) != "fuzz:" || reason.empty()) std::abort();
                             ++sink_calls;
                           });
  std::string msg;
  uint64_t messages = 0, last_line = 0;
  for (;;) {
    auto more = framer.Next(&msg);
    if (!more.ok()) {
      if (more.status().message().find("fuzz") == std::string_view::npos) std::abort();
      break;
    }
    if (!*more) break;
    ++messages;
    if (msg.empty() || msg.size() > stream::kMaxMessageBytes) std::abort();
    if (msg.find('\n') != std::string::npos) std::abort();
    if (framer.line() <= last_line) std::abort();
    last_line = framer.line();
    const stream::FramerStats& s = framer.stats();
    if (s.messages != messages || s.messages + s.skipped > s.lines) std::abort();
  }
  const stream::FramerStats& s = framer.stats();
  if (s.messages != messages || s.skipped != sink_calls) std::abort();
  return 0;
}
