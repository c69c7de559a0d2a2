// The egress gate's view of this node's federation (policy::PeerDirectory; issue 12, point
// 4): the node's identity, its default TLP, and each peer's agreement as policy::PeerRules,
// read from the store and <data>/accord.toml; and signing with the node's key, for versions
// this node originated that leave for a peer unsigned.
//
// Thread safety: Load and Sign may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "accord/policy/gate.h"
#include "accord/store/store.h"

namespace accord::federation {

/// `store` must outlive the directory.
std::shared_ptr<policy::PeerDirectory> NewPeerDirectory(store::Store* store, std::string data_dir);

/// The node's gate with its federation: policy::NewNodeGate with NewPeerDirectory.
std::unique_ptr<policy::Gate> NewFederatedGate(store::Store* store, const std::string& data_dir);

}  // namespace accord::federation
