// Provenance by signature (issue 12; docs/FEDERATION.md "Signatures"). The node where an
// object version enters the federation signs it; relays pass the signature on untouched, so
// every node can prove who originated each version.
//
// The signature is a property extension (STIX21-objects.md §8.3) under Accord's own
// extension-definition (SignatureExtensionDefinition()):
//
//   "extensions": {"extension-definition--<kSignatureExtension>": {
//       "extension_type": "property-extension", "signer": "identity--…", "alg": "Ed25519",
//       "signature": "<standard base64 of the 64-byte Ed25519 signature>"}}
//
// It signs the UTF-8 bytes of the RFC 8785 (JCS) canonical form of the object with that one
// entry removed, and with `extensions` removed too when that leaves it empty (SigningBytes).
//
// Thread-safe: pure functions (libsodium is initialised once, thread-safely).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "accord/common/status.h"
#include "accord/common/time.h"

namespace accord::federation {

/// Accord's signature extension-definition, and the one that carries a node's public key on
/// its identity object (`{"extension_type": "property-extension", "public_key": "<base64>"}`).
inline constexpr std::string_view kSignatureExtension =
    "extension-definition--2f1d7e0a-5c9b-4c53-9f7e-6a3d1b8c4e21";
inline constexpr std::string_view kNodeKeyExtension =
    "extension-definition--8b6e4d2c-1a7f-4e95-b0c3-5d9a2f6e7b14";
/// The identity that created both definitions (Accord, the project), in their created_by_ref.
inline constexpr std::string_view kAccordIdentity =
    "identity--c6f0a3d8-4b2e-4f71-9a5c-0e8d7b3f1a62";

/// The two extension-definition objects, as JSON (fixed content: the same bytes at every node).
std::string SignatureExtensionDefinition();
std::string NodeKeyExtensionDefinition();

/// An Ed25519 key pair: the 32-byte public key and libsodium's 64-byte secret key (seed and
/// public key), raw bytes.
struct KeyPair {
  std::string public_key;
  std::string secret_key;
};
KeyPair NewKeyPair();

/// The bytes a signature covers: the canonical form of `object_json` without the signature
/// entry (and without `extensions` when that empties it). InvalidArgument when `object_json`
/// is not a JSON object, or has two members of one name.
absl::StatusOr<std::string> SigningBytes(std::string_view object_json);

/// `object_json` with a signature by `signer` (an identity id) made with `secret_key`; an
/// earlier signature entry is replaced. The result is compact JSON (members sorted), not
/// necessarily the canonical form: a canonical integer past 2^64 could not be read back.
absl::StatusOr<std::string> Sign(std::string_view object_json, std::string_view signer,
                                 std::string_view secret_key);

/// The signature entry of an object.
struct Signature {
  std::string signer;     // identity id
  std::string signature;  // 64 raw bytes
};
/// The object's signature entry; nullopt when it has none. InvalidArgument (naming the rule)
/// when the entry is there but malformed: not an object, a missing or non-string member, an
/// `alg` other than "Ed25519", a signer that is not an identity id, or a signature that is not
/// standard base64 of 64 bytes.
absl::StatusOr<std::optional<Signature>> FindSignature(std::string_view object_json);

/// OK when `object_json` carries a well-formed signature that `public_key` (32 raw bytes)
/// verifies. NotFound: no signature; InvalidArgument: malformed (as FindSignature);
/// Unauthenticated: the signature does not verify (the object was changed, or another key
/// signed it).
absl::Status Verify(std::string_view object_json, std::string_view public_key);

}  // namespace accord::federation
