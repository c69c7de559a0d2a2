// Fuzz target: object signatures (src/federation/signature.cc): SigningBytes, FindSignature,
// Sign and Verify on any bytes, and the TLP of an object (src/policy/tlp.cc). Properties: never
// crashes or leaks; Sign fails only where SigningBytes does or `extensions` is no object; what
// Sign returns verifies with the key that made it, carries that signer, and
// signs the same bytes as its input did; an input with a signature entry never verifies with a
// fresh key.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "accord/federation/signature.h"
#include "accord/policy/tlp.h"

namespace {
const accord::federation::KeyPair& Keys() {
  static const accord::federation::KeyPair k = accord::federation::NewKeyPair();
  return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace accord::federation;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string signer = "identity--00000000-0000-4000-8000-000000000001";
  // The TLP of any bytes is a level; what does not parse is RED (never shared).
  const accord::policy::Tlp tlp = accord::policy::TlpOfObject(input, accord::policy::Tlp::kAmber);
  if (tlp < accord::policy::Tlp::kClear || tlp > accord::policy::Tlp::kRed) std::abort();
  auto bytes = SigningBytes(input);
  auto found = FindSignature(input);
  // Both parse the same object; a malformed entry fails FindSignature alone.
  if (found.ok() && !bytes.ok()) std::abort();
  if (found.ok() && *found && Verify(input, Keys().public_key).ok()) std::abort();
  auto signed_json = Sign(input, signer, Keys().secret_key);
  // Sign refuses what SigningBytes refuses, and besides only an object whose `extensions` is
  // not an object (there is nowhere to put the entry).
  if (signed_json.ok() && !bytes.ok()) std::abort();
  if (!signed_json.ok()) {
    if (bytes.ok() &&
        std::string(signed_json.status().message()).find("'extensions' is not an object") ==
            std::string::npos) {
      std::abort();
    }
    return 0;
  }
  if (!Verify(*signed_json, Keys().public_key).ok()) std::abort();
  auto again = FindSignature(*signed_json);
  if (!again.ok() || !*again || (*again)->signer != signer) std::abort();
  auto bytes2 = SigningBytes(*signed_json);
  if (!bytes2.ok() || *bytes2 != *bytes) std::abort();
  return 0;
}
