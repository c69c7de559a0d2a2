// The node's identity (issue 12, point 1): a STIX identity object (identity_class
// "organization", TLP:CLEAR, its public key in the node-key extension, signed by the node) and
// an Ed25519 key pair. The secret key is in <data>/node.key, readable by its owner only, and
// never printed; the identity id, name and public key are store settings.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/store/store.h"

namespace accord::federation {

struct NodeInfo {
  std::string identity;  // identity--…
  std::string name;
  std::string public_key;  // 32 raw bytes
};

/// The collection that holds the node's identity object and Accord's extension-definitions.
inline constexpr const char* kNodeCollection = "node";

/// Creates the node's key pair and identity object named `name` (and stores Accord's
/// extension-definitions beside it). An identity id the node already uses (the sightings of
/// `accord match` name one) is kept. AlreadyExists, changing nothing, when the node was
/// initialised before; InvalidArgument for an empty name.
absl::StatusOr<NodeInfo> InitNode(store::Store& store, const std::string& data_dir,
                                  const std::string& name, common::Micros now);

/// The node's identity and public key; nullopt before InitNode.
absl::StatusOr<std::optional<NodeInfo>> LoadNode(store::Store& store);

/// The node's secret key (64 raw bytes) from <data>/node.key. FailedPrecondition when the
/// file is readable by anyone but its owner (it is then not used).
absl::StatusOr<std::string> LoadSecretKey(const std::string& data_dir);
/// LoadSecretKey, and the key must be `node`'s: FailedPrecondition otherwise, naming the file.
/// On a node of several machines (issue 17) each keeps a copy of node.key in its data
/// directory; a machine given another key would sign what peers then refuse.
absl::StatusOr<std::string> LoadSecretKeyFor(const NodeInfo& node, const std::string& data_dir);
/// LoadNode and LoadSecretKeyFor: FailedPrecondition before `accord node init`.
absl::StatusOr<std::string> LoadNodeSecretKey(store::Store& store, const std::string& data_dir);

/// Which signers' keys are believed (issue 12, point 5). A key a configured peer was added
/// with, and this node's own, always are. A key that a stored identity object introduces (the
/// object signed, by that identity, with the key it carries) is believed automatically, the
/// default, or with `manual` only for identities named by `accord node trust`.
/// `manual` is `key_trust = "manual"` under [federation] in <data>/accord.toml.
struct KeyTrust {
  bool manual = false;
  std::vector<std::string> trusted;  // identity ids
};
absl::StatusOr<KeyTrust> LoadKeyTrust(store::Store& store, const std::string& data_dir);
/// Adds `identity` to the trusted identities (idempotent). InvalidArgument for a non-id.
absl::Status TrustIdentity(store::Store& store, const std::string& identity);

/// The public key (32 raw bytes) of signer `identity` under `trust`: this node's own, a
/// configured peer's, or one introduced by its stored identity object (above). NotFound: no
/// key is known; PermissionDenied: a key is introduced but not trusted (manual mode).
absl::StatusOr<std::string> SignerKey(store::Store& store, const std::string& identity,
                                      const KeyTrust& trust);

/// How one stored version's signature stands with this node (`accord verify`, the web UI's
/// object view).
struct SignatureCheck {
  enum class Verdict {
    kValid,      ///< a believed key of the signer verifies it
    kInvalid,    ///< the signer's key does not verify it (changed after signing)
    kMalformed,  ///< the signature entry breaks a rule of the format (FindSignature)
    kUnsigned,   ///< no signature entry
    kNoKey,      ///< no believed key for the signer: unknown (NotFound) or not trusted
  };
  Verdict verdict = Verdict::kUnsigned;
  std::string signer;  ///< identity id; empty when unsigned or malformed
  std::string detail;  ///< the rule broken, or why no key is believed; empty when valid
};

/// Checks versions' signatures under `trust`, looking each signer's key up once (versions of
/// one object mostly share a signer). `store` must outlive the checker. Not thread-safe.
class SignatureChecker {
 public:
  SignatureChecker(store::Store& store, KeyTrust trust) : store_(store), trust_(std::move(trust)) {}
  /// An error only when the store cannot be read.
  absl::StatusOr<SignatureCheck> Check(std::string_view object_json);

 private:
  store::Store& store_;
  KeyTrust trust_;
  std::map<std::string, absl::StatusOr<std::string>> keys_;  // signer -> SignerKey
};

/// The public key (32 raw bytes) that the identity object `identity_json` carries in the
/// node-key extension; nullopt when it carries none or a malformed one.
std::optional<std::string> PublicKeyOf(std::string_view identity_json);

}  // namespace accord::federation
