// Fuzz target: redaction profiles on partner-supplied objects (src/policy/redaction.cc). The
// input is one object's JSON text. Properties: never crashes, hangs or leaks; the precheck
// (Redactor::SurelyUnchanged, which reads the raw text) never says "unchanged" of an object
// that the full walk over the parsed object would change or drop; and a redactor with the
// precheck gives exactly what one without it gives (kind, copy, reason), whatever the text.
// Texts that are JSON objects are also checked as the gate reads stored objects
// (Redactor::Input::kObject: the precheck then skips its own parse). A redactor that remembers
// its results (a small memory, so that entries come and go) gives the same again, computed
// and remembered, with and without a stamp.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "accord/common/ip.h"
#include "accord/policy/redaction.h"

namespace {

using accord::policy::RedactionProfile;
using accord::policy::Redactor;

RedactionProfile Profile() {
  RedactionProfile p;
  p.name = "fuzz";
  p.drop_types = {"email-addr", "user-account"};
  p.drop_identity_classes = {"individual"};
  for (const char* r : {"10.0.0.0/8", "192.0.2.0/24"}) {
    accord::common::IpPrefix range;
    if (!accord::common::ParseIpPrefix(r, &range)) std::abort();
    p.victim_ranges.push_back(range);
  }
  p.strip_url_query = true;
  p.text_patterns = {R"([\w.+-]+@[\w-]+\.[\w.]+)"};
  return p;
}

// Identities the objects may refer to: those whose id holds a '1' are individuals (dropped
// with every reference to them), the others organisations; other ids are unknown.
std::optional<std::string> Lookup(std::string_view id) {
  if (id.rfind("identity--", 0) != 0) return std::nullopt;
  const bool individual = id.find('1') != std::string_view::npos;
  return std::string(R"({"type":"identity","spec_version":"2.1","id":")") + std::string(id) +
         R"(","name":"x","identity_class":")" + (individual ? "individual" : "organization") +
         R"("})";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const Redactor> with = *Redactor::Create(Profile());
  static const std::shared_ptr<const Redactor> without =
      *Redactor::Create(Profile(), /*precheck=*/false);
  static const Redactor::Lookup lookup = Lookup;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const Redactor::Result walked = without->Redact(json, lookup);
  if (with->SurelyUnchanged(json, lookup) && walked.kind != Redactor::Result::Kind::kUnchanged) {
    std::abort();
  }
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const bool object =
      parser.parse(json.data(), json.size()).get(doc) == simdjson::SUCCESS && doc.is_object();
  if (object && with->SurelyUnchanged(json, lookup, Redactor::Input::kObject) &&
      walked.kind != Redactor::Result::Kind::kUnchanged) {
    std::abort();
  }
  const Redactor::Result checked = with->Redact(json, lookup);
  if (checked.kind != walked.kind || checked.json != walked.json ||
      checked.reason != walked.reason) {
    std::abort();
  }
  // Only objects of Redactor::kRememberedMinBytes or more are remembered: the input is also
  // checked inside a wrapper that long (as a member's value, where it is embedded).
  static const std::shared_ptr<const Redactor> remembering =
      *Redactor::Create(Profile(), /*precheck=*/true, /*cache_bytes=*/64 << 10);
  static uint64_t stamp = 0;
  ++stamp;
  const std::string wrapped = R"({"type":"note","x_fuzz_pad":")" +
                              std::string(Redactor::kRememberedMinBytes, 'z') + R"(","x_fuzz":)" +
                              std::string(json) + "}";
  const Redactor::Result walked_wrapped = without->Redact(wrapped, lookup);
  for (uint64_t s : {uint64_t{0}, stamp, stamp}) {
    const Redactor::Result r = remembering->Redact(json, lookup, Redactor::Input::kAny, s);
    const Redactor::Result w = remembering->Redact(wrapped, lookup, Redactor::Input::kAny, s);
    if (r.kind != walked.kind || r.json != walked.json || r.reason != walked.reason ||
        r.actions != walked.actions || w.kind != walked_wrapped.kind ||
        w.json != walked_wrapped.json || w.reason != walked_wrapped.reason ||
        w.actions != walked_wrapped.actions) {
      std::abort();
    }
  }
  return 0;
}
