#include "accord/federation/directory.h"

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "accord/common/io.h"
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
    // Redaction profiles (issue 13), compiled again only when accord.toml changed.
    ACCORD_RETURN_IF_ERROR(LoadProfiles());
    common::Append(&r.fingerprint, "|redaction:", profiles_text_.size(), ":",
                   std::hash<std::string>()(profiles_text_));
    for (const auto& [role, profile] : profiles_.roles) {
      r.role_redactors.emplace(role, redactors_.at(profile));
    }
    for (const Peer& p : peers) {
      r.peer_identities[p.name] = p.identity;
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
      pr.share_observed_data = a.share.share_observed_data;
      pr.sighting_min_count = a.share.sighting_min_count;
      pr.sighting_bucket_s = a.share.sighting_bucket_s;
      if (!a.share.redaction.empty()) {
        auto it = redactors_.find(a.share.redaction);
        if (it == redactors_.end()) {
          // Fail closed: the gate refuses every exit until the profile exists.
          return absl::FailedPreconditionError(common::Cat(
              "the agreement with ", p.name, " (v", v.version, ") names redaction profile '",
              a.share.redaction, "', which accord.toml does not define"));
        }
        pr.redactor = it->second;
      }
      r.peers.emplace(p.name, std::move(pr));
    }
    identity_ = r.own_identity;
    return r;
  }

  // Reads accord.toml's [redaction] when the file changed (under mu_).
  absl::Status LoadProfiles() {
    const std::string path = (std::filesystem::path(data_dir_) / "accord.toml").string();
    std::string text;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      ACCORD_ASSIGN_OR_RETURN(text, common::ReadFile(path));
    }
    if (profiles_loaded_ && text == profiles_text_) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(policy::RedactionConfig config,
                            policy::ParseRedactionConfig(text, path));
    std::map<std::string, std::shared_ptr<const policy::Redactor>, std::less<>> redactors;
    for (const auto& [name, profile] : config.profiles) {
      ACCORD_ASSIGN_OR_RETURN(redactors[name],
                              policy::Redactor::Create(profile, true, config.cache_bytes));
    }
    profiles_ = std::move(config);
    redactors_ = std::move(redactors);
    profiles_text_ = std::move(text);
    profiles_loaded_ = true;
    return absl::OkStatus();
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
  bool profiles_loaded_ = false;
  std::string profiles_text_;
  policy::RedactionConfig profiles_;
  std::map<std::string, std::shared_ptr<const policy::Redactor>, std::less<>> redactors_;
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
