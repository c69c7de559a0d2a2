#include "accord/federation/signature.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/stix/jcs.h"

namespace accord::federation {

namespace {

const std::string kSigKey(kSignatureExtension);

void InitSodium() {
  // sodium_init is thread-safe and idempotent; it fails only when no randomness is available.
  static const int ok = sodium_init();
  (void)ok;
}

// The object, parsed from its canonical form: that refuses duplicate names first (nlohmann
// would keep the last one silently).
absl::StatusOr<nlohmann::json> ParseObject(std::string_view object_json) {
  ACCORD_ASSIGN_OR_RETURN(std::string canonical, stix::CanonicalJson(object_json));
  nlohmann::json j = nlohmann::json::parse(canonical, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("a signed object must be a JSON object");
  }
  return j;
}

// Removes the signature entry, and `extensions` when that leaves it empty.
void RemoveSignature(nlohmann::json* j) {
  auto ext = j->find("extensions");
  if (ext == j->end() || !ext->is_object()) return;
  ext->erase(kSigKey);
  if (ext->empty()) j->erase("extensions");
}

// The signature entry of a parsed object (FindSignature's rules).
absl::StatusOr<std::optional<Signature>> SignatureIn(const nlohmann::json& j) {
  auto ext = j.find("extensions");
  if (ext == j.end() || !ext->is_object()) return std::nullopt;
  auto e = ext->find(kSigKey);
  if (e == ext->end()) return std::nullopt;
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(common::Cat("signature extension: ", why));
  };
  if (!e->is_object()) return bad("not an object");
  auto str = [&](const char* name, std::string* out) {
    auto m = e->find(name);
    if (m == e->end() || !m->is_string()) return false;
    *out = m->get<std::string>();
    return true;
  };
  std::string type, alg, signer, sig;
  if (!str("extension_type", &type) || type != "property-extension") {
    return bad("extension_type must be \"property-extension\"");
  }
  if (!str("alg", &alg)) return bad("no alg");
  if (alg != "Ed25519") return bad(common::Cat("alg '", alg, "' is not Ed25519"));
  if (!str("signer", &signer) || signer.rfind("identity--", 0) != 0 ||
      !common::IsUuid(std::string_view(signer).substr(10))) {
    return bad("signer must be an identity id");
  }
  if (!str("signature", &sig)) return bad("no signature");
  std::optional<std::string> raw = common::Base64Decode(sig);
  if (!raw || raw->size() != crypto_sign_BYTES) {
    return bad("signature must be standard base64 of 64 bytes");
  }
  return Signature{std::move(signer), std::move(*raw)};
}

absl::StatusOr<std::string> CanonicalOf(const nlohmann::json& j) {
  return stix::CanonicalJson(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
}

std::string Definition(std::string_view id, std::string_view name, std::string_view description,
                       std::string_view schema) {
  nlohmann::json j = {
      {"type", "extension-definition"},
      {"spec_version", "2.1"},
      {"id", id},
      {"created", "2026-12-04T00:00:00.000Z"},
      {"modified", "2026-12-04T00:00:00.000Z"},
      {"created_by_ref", kAccordIdentity},
      {"name", name},
      {"description", description},
      {"schema", schema},
      {"version", "1.0.0"},
      {"extension_types", {"property-extension"}},
      // TLP:CLEAR (TLP 2.0): every node may hold and pass it on.
      {"object_marking_refs", {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"}}};
  return *stix::CanonicalJson(j.dump());
}

}  // namespace

std::string SignatureExtensionDefinition() {
  return Definition(
      kSignatureExtension, "Accord signature",
      "The originating node's Ed25519 signature of this object version.",
      "Members: extension_type \"property-extension\"; signer, the identity id of the signing "
      "node; alg, \"Ed25519\"; signature, the standard base64 (RFC 4648 section 4, padded) of "
      "the 64-byte Ed25519 signature (RFC 8032) of the UTF-8 bytes of the RFC 8785 canonical "
      "form of the object with this extension entry removed, and with extensions removed when "
      "that leaves it empty. The signer's public key is on its identity object (extension "
      "extension-definition--8b6e4d2c-1a7f-4e95-b0c3-5d9a2f6e7b14).");
}

std::string NodeKeyExtensionDefinition() {
  return Definition(kNodeKeyExtension, "Accord node key",
                    "The Ed25519 public key of the Accord node this identity object names.",
                    "Members: extension_type \"property-extension\"; public_key, the standard "
                    "base64 (RFC 4648 section 4, padded) of the 32-byte Ed25519 public key.");
}

KeyPair NewKeyPair() {
  InitSodium();
  KeyPair k;
  k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  k.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                      reinterpret_cast<unsigned char*>(k.secret_key.data()));
  return k;
}

absl::StatusOr<std::string> SigningBytes(std::string_view object_json) {
  ACCORD_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(object_json));
  RemoveSignature(&j);
  return CanonicalOf(j);
}

absl::StatusOr<std::string> Sign(std::string_view object_json, std::string_view signer,
                                 std::string_view secret_key) {
  InitSodium();
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InvalidArgumentError("an Ed25519 secret key is 64 bytes");
  }
  ACCORD_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(object_json));
  if (auto e = j.find("extensions"); e != j.end() && !e->is_object()) {
    // STIX 2.1 §3.2: extensions is a dictionary; there is nowhere to put the signature.
    return absl::InvalidArgumentError(
        "'extensions' is not an object: the version cannot be signed");
  }
  RemoveSignature(&j);
  ACCORD_ASSIGN_OR_RETURN(std::string bytes, CanonicalOf(j));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size(), reinterpret_cast<const unsigned char*>(secret_key.data()));
  j["extensions"][kSigKey] = {{"extension_type", "property-extension"},
                              {"signer", signer},
                              {"alg", "Ed25519"},
                              {"signature", common::Base64Encode(std::string_view(
                                                reinterpret_cast<char*>(sig), sizeof sig))}};
  // Compact JSON, not the canonical form: RFC 8785 writes 1e20 as 100000000000000000000,
  // an integer past 2^64 that the JSON parser (simdjson) refuses, so a canonical copy of such
  // an object could not be read back (the fuzz target found it on the JCS "values" vector).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

absl::StatusOr<std::optional<Signature>> FindSignature(std::string_view object_json) {
  ACCORD_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(object_json));
  return SignatureIn(j);
}

absl::Status Verify(std::string_view object_json, std::string_view public_key) {
  InitSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("an Ed25519 public key is 32 bytes");
  }
  // One parse serves both: the entry, then the bytes it signs.
  ACCORD_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(object_json));
  ACCORD_ASSIGN_OR_RETURN(std::optional<Signature> sig, SignatureIn(j));
  if (!sig) return absl::NotFoundError("the object is not signed");
  RemoveSignature(&j);
  ACCORD_ASSIGN_OR_RETURN(std::string bytes, CanonicalOf(j));
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->signature.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  bytes.size(),
                                  reinterpret_cast<const unsigned char*>(public_key.data())) != 0) {
    return absl::UnauthenticatedError(
        common::Cat("the signature by ", sig->signer, " does not verify"));
  }
  return absl::OkStatus();
}

}  // namespace accord::federation
