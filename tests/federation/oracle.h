// Independent checks of Accord's signatures for the federation tests: a canonical form built
// here (members sorted, no whitespace: for objects holding only printable-ASCII strings,
// arrays and objects, RFC 8785 is exactly that) and OpenSSL's Ed25519 verification
// (`openssl pkeyutl -verify -rawin`), not Accord's code.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_util.h"

namespace accord::testing {

inline constexpr const char* kSignatureExtensionId =
    "extension-definition--2f1d7e0a-5c9b-4c53-9f7e-6a3d1b8c4e21";

/// The canonical JSON of `j` (strings, arrays and objects of printable ASCII only).
inline std::string Canonical(const nlohmann::json& j) {
  if (j.is_string()) {
    std::string out = "\"";
    for (char c : j.get<std::string>()) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "the oracle only handles printable ASCII";
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < j.size(); ++i) out += (i ? "," : "") + Canonical(j[i]);
    return out + "]";
  }
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  EXPECT_TRUE(j.is_object()) << "the oracle only handles strings, booleans, arrays and objects";
  std::map<std::string, std::string> members;
  for (auto it = j.begin(); it != j.end(); ++it) members[it.key()] = Canonical(it.value());
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : members) {
    out += (first ? "\"" : ",\"") + k + "\":" + v;
    first = false;
  }
  return out + "}";
}

/// Whether OpenSSL verifies `signature_b64` (standard base64, 64 bytes) over `message` with
/// the Ed25519 public key `key_b64` (standard base64, 32 bytes). Works in `dir`.
inline bool OpensslVerifies(const std::filesystem::path& dir, const std::string& message,
                            const std::string& signature_b64, const std::string& key_b64) {
  std::ofstream(dir / "canonical.json", std::ios::binary) << message;
  std::ofstream(dir / "sig.b64") << signature_b64 << "\n";
  std::ofstream(dir / "key.b64") << key_b64 << "\n";
  // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte DER prefix (30 2a 30 05 06 03
  // 2b 65 70 03 21 00, in octal for POSIX printf), then the key.
  const std::string sh =
      "set -e; base64 -d sig.b64 > sig.bin; "
      "(printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; "
      "base64 -d key.b64) "
      "> key.der; openssl pkey -pubin -inform DER -in key.der -out key.pem; "
      "openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in canonical.json -sigfile sig.bin";
  RunResult r = RunCmd("cd " + ShellQuote(dir.string()) + " && sh -c " + ShellQuote(sh), dir);
  return r.exit_code == 0 && r.out.find("Signature Verified Successfully") != std::string::npos;
}

/// Whether `object` carries a signature by `signer` that OpenSSL verifies with `key_b64`.
inline bool SignedBy(const std::filesystem::path& dir, const nlohmann::json& object,
                     const std::string& signer, const std::string& key_b64) {
  if (!object.contains("extensions") || !object["extensions"].contains(kSignatureExtensionId)) {
    return false;
  }
  const nlohmann::json sig = object["extensions"][kSignatureExtensionId];
  if (sig.value("signer", "") != signer || sig.value("alg", "") != "Ed25519") return false;
  nlohmann::json unsigned_obj = object;
  unsigned_obj["extensions"].erase(kSignatureExtensionId);
  if (unsigned_obj["extensions"].empty()) unsigned_obj.erase("extensions");
  return OpensslVerifies(dir, Canonical(unsigned_obj), sig.value("signature", ""), key_b64);
}

}  // namespace accord::testing
