#include "accord/federation/directory.h"

#include <map>
#include <mutex>
#include <utility>

#include "accord/common/strings.h"
#include "accord/federation/agreement.h"
#include "accord/federation/config.h"
#include "accord/federation/node.h"
#include "accord/federation/peers.h"
#include "accord/federation/signature.h"

namespace accord::federation {

namespace {

class StoreDirectory final : public policy::PeerDirectory {
 public:
  StoreDirectory(store::Store* store, std::string data_dir)
      : store_(store), data_dir_(std::move(data_dir)) {}

  absl::StatusOr<policy::FederationRules> Load() override {
    policy::FederationRules r;
    ACCORD_ASSIGN_OR_RETURN(FederationConfig config, LoadFederationConfig(data_dir_));
    ACCORD_ASSIGN_OR_RETURN(std::optional<NodeInfo> node, LoadNode(*store_));
    if (node) r.own_identity = node->identity;
    r.default_tlp = config.default_tlp;
    r.signature_extension = std::string(kSignatureExtension);
    // Accord's two extension-definitions are the same bytes at every node.
    r.unsigned_ok = {std::string(kSignatureExtension), std::string(kNodeKeyExtension)};
    r.fingerprint = common::Cat(r.own_identity, "|", policy::TlpName(r.default_tlp));
    ACCORD_ASSIGN_OR_RETURN(std::vector<Peer> peers, ListPeers(*store_));
    std::lock_guard<std::mutex> l(mu_);
    for (const Peer& p : peers) {
      ACCORD_ASSIGN_OR_RETURN(std::vector<AgreementVersion> history,
                              AgreementHistory(*store_, p.name));
      common::Append(&r.fingerprint, "|", p.name, ":", p.identity, ":",
                     history.empty() ? 0 : history.back().version);
      if (history.empty()) continue;  // no agreement: nothing is shared with it
      const AgreementVersion& v = history.back();
      auto cached = parsed_.find(p.name);
      if (cached == parsed_.end() || cached->second.first != v.version) {
        ACCORD_ASSIGN_OR_RETURN(
            Agreement a,
            ParseAgreement(v.toml, common::Cat("agreement with ", p.name, " v", v.version),
                           p.name));
        cached = parsed_.insert_or_assign(p.name, std::make_pair(v.version, std::move(a))).first;
      }
      const Agreement& a = cached->second.second;
      policy::PeerRules pr;
      pr.identity = p.identity;
      pr.terms = {a.same_organization, a.share.max_tlp, a.share.forward};
      pr.collections = a.share.collections;
      pr.types = a.share.types;
      pr.given_into = a.accept.into;
      r.peers.emplace(p.name, std::move(pr));
    }
    identity_ = r.own_identity;
    return r;
  }

  absl::StatusOr<std::string> Sign(std::string_view object_json) override {
    std::string identity, key;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (secret_key_.empty()) {
        ACCORD_ASSIGN_OR_RETURN(secret_key_, LoadSecretKey(data_dir_));
      }
      identity = identity_;
      key = secret_key_;
    }
    if (identity.empty()) return absl::FailedPreconditionError("the node has no identity");
    return federation::Sign(object_json, identity, key);
  }

 private:
  store::Store* const store_;
  const std::string data_dir_;
  std::mutex mu_;
  std::map<std::string, std::pair<int, Agreement>> parsed_;  // by peer: (version, agreement)
  std::string identity_;
  std::string secret_key_;
};

}  // namespace

std::shared_ptr<policy::PeerDirectory> NewPeerDirectory(store::Store* store, std::string data_dir) {
  return std::make_shared<StoreDirectory>(store, std::move(data_dir));
}

std::unique_ptr<policy::Gate> NewFederatedGate(store::Store* store, const std::string& data_dir) {
  policy::NodeGateOptions o;
  o.peers = NewPeerDirectory(store, data_dir);
  return policy::NewNodeGate(store, o);
}

}  // namespace accord::federation
