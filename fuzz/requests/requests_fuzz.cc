// Fuzz target: the readers of points-of-contact objects and duty hours (src/requests). The
// first byte picks the reader: 0 request, 1 step, 2 contact, 3 hours; the rest is the input.
// Properties: never crashes, hangs or leaks; an accepted request, step or contact writes back
// to an object that reads back the same; accepted hours answer Covers for any moment.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accord/requests/contact.h"
#include "accord/requests/request.h"

namespace r = accord::requests;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto req = r::RequestFromStix(input);
      if (!req.ok()) return 0;
      auto again = r::RequestFromStix(r::ToStix(*req));
      if (!again.ok() || again->id != req->id || again->subject != req->subject ||
          again->ack_by != req->ack_by || again->object_refs != req->object_refs) {
        std::abort();
      }
      break;
    }
    case 1: {
      auto step = r::StepFromStix(input);
      if (!step.ok()) return 0;
      auto again = r::StepFromStix(r::ToStix(*step));
      if (!again.ok() || again->state != step->state || again->text != step->text) std::abort();
      break;
    }
    case 2: {
      auto c = r::ContactFromStix(input);
      if (!c.ok()) return 0;
      if (!r::Validate(*c).ok()) std::abort();
      auto again = r::ContactFromStix(r::ToStix(*c));
      if (!again.ok() || again->email != c->email || again->hours != c->hours) std::abort();
      break;
    }
    default: {
      auto h = r::Hours::Parse(input);
      if (!h.ok()) return 0;
      for (int64_t t :
           {int64_t{0}, int64_t{-1}, int64_t{1796350380000000}, int64_t{253402300799000000}}) {
        (void)h->Covers(t);
      }
      break;
    }
  }
  return 0;
}
