// Signed checkpoints of the audit log's head (issue 13, point 7).
//
// A checkpoint says "entry SEQ of this node's audit log has hash HASH", signed with the node's
// Ed25519 key (federation's node.key). Checkpoints are kept in the store (a setting holding
// the list) and may be handed to peers, who keep them as witnesses: whoever holds one can
// show that the log was rewritten before SEQ. The log is fsynced before its head is signed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::audit {

struct Checkpoint {
  uint64_t seq = 0;
  std::string hash;       ///< the entry's hash (hex)
  std::string time;       ///< when it was signed
  std::string key;        ///< the signer's Ed25519 public key (hex)
  std::string signature;  ///< over SigningBytes() (hex)
};

/// Store setting holding the checkpoints, a JSON array, oldest first.
inline constexpr const char* kCheckpointsSetting = "audit.checkpoints";

/// The bytes a checkpoint's signature covers.
std::string SigningBytes(const Checkpoint& c);

/// Whether `c` is signed by `public_key_hex` (and well-formed).
bool SignatureValid(const Checkpoint& c, std::string_view public_key_hex);

/// Signs the log's current head with `secret_key` (64 raw bytes, libsodium's Ed25519 form)
/// and appends the checkpoint to the store. An empty log gets no checkpoint (NotFound).
absl::StatusOr<Checkpoint> MakeCheckpoint(Log& log, store::Store& store,
                                          std::string_view secret_key);

/// The checkpoints kept in `store`, oldest first.
absl::StatusOr<std::vector<Checkpoint>> LoadCheckpoints(store::Store& store);

/// JSON for people and peers: {"seq":…,"hash":…,"time":…,"key":…,"signature":…}.
std::string ToJson(const Checkpoint& c);

}  // namespace accord::audit
