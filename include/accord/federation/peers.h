// Peers and their agreements (issue 12, points 2 and 3). A peer is a name, its TAXII API root,
// its identity id and public key, and the API key this node presents at the peer's server
// (kept in <data>/peer-keys/NAME.key, mode 0600, never printed). Each `agreement set` adds a
// version; every earlier one is kept with who set it and when.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "accord/common/status.h"
#include "accord/common/time.h"
#include "accord/federation/agreement.h"
#include "accord/store/store.h"

namespace accord::federation {

struct Peer {
  std::string name;        // [a-z0-9_-], 1 to 64 characters
  std::string url;         // the peer's TAXII API root, http(s)://…/
  std::string identity;    // identity--…
  std::string public_key;  // 32 raw bytes
  std::string cacert;      // PEM of the CA to trust for its TLS certificate; "": the system's
};

/// Adds `peer`. InvalidArgument naming the field for a bad name, URL, identity id, key or CA
/// PEM; AlreadyExists when the name is taken (nothing changes).
absl::Status AddPeer(store::Store& store, const std::string& data_dir, const Peer& peer,
                     const std::string& api_key);
/// The peers, by name.
absl::StatusOr<std::vector<Peer>> ListPeers(store::Store& store);
/// NotFound when there is no such peer.
absl::StatusOr<Peer> GetPeer(store::Store& store, const std::string& name);
/// Removes the peer and its API key; its agreement history is kept. NotFound when absent.
absl::Status RemovePeer(store::Store& store, const std::string& data_dir, const std::string& name);
/// The CA file to trust for `peer`'s TLS certificate: "" for the system's, else
/// <data>/peer-keys/NAME.ca.pem (owner-only), written when missing or changed.
absl::StatusOr<std::string> PeerCaFile(const std::string& data_dir, const Peer& peer);
/// The API key this node presents at `name`'s server.
absl::StatusOr<std::string> PeerApiKey(const std::string& data_dir, const std::string& name);

struct AgreementVersion {
  int version = 0;  // 1, 2, …
  std::string toml;
  std::string set_by;
  common::Micros set_at = 0;
};
/// The peer's latest agreement, parsed; nullopt when none was ever set.
absl::StatusOr<std::optional<Agreement>> CurrentAgreement(store::Store& store,
                                                          const std::string& peer);
/// Validates `toml` (ParseAgreement; `source` names it in errors) and stores it as the peer's
/// next version. NotFound when the peer does not exist; nothing changes on an error.
absl::StatusOr<AgreementVersion> SetAgreement(store::Store& store, const std::string& peer,
                                              const std::string& toml, const std::string& source,
                                              const std::string& set_by, common::Micros now);
/// Every version, oldest first (empty: none was ever set).
absl::StatusOr<std::vector<AgreementVersion>> AgreementHistory(store::Store& store,
                                                               const std::string& peer);

}  // namespace accord::federation
