#include "accord/federation/node.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "accord/common/encoding.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/uuid.h"
#include "accord/federation/config.h"
#include "accord/federation/peers.h"
#include "accord/federation/signature.h"
#include "accord/ingest/ingest.h"

namespace accord::federation {

namespace {

constexpr const char* kKeyFile = "node.key";
constexpr const char* kTlpClear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

std::string KeyPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / kKeyFile).string();
}

}  // namespace

absl::StatusOr<std::optional<NodeInfo>> LoadNode(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(auto key, store.GetSetting("node.public_key"));
  if (!key) return std::nullopt;
  ACCORD_ASSIGN_OR_RETURN(auto identity, store.GetSetting("node.identity"));
  ACCORD_ASSIGN_OR_RETURN(auto name, store.GetSetting("node.name"));
  std::optional<std::string> raw = common::Base64Decode(*key);
  if (!identity || !raw || raw->size() != 32) {
    return absl::DataLossError("the node's identity settings are incomplete or corrupt");
  }
  return NodeInfo{*identity, name.value_or(""), std::move(*raw)};
}

absl::StatusOr<std::string> LoadSecretKey(const std::string& data_dir) {
  const std::string path = KeyPath(data_dir);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        common::Cat(path, ": no node key (run `accord node init --name NAME`)"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(common::Cat(
        path, ": the node's secret key is readable by others (mode ",
        common::Cat(std::to_string((st.st_mode >> 6) & 7), std::to_string((st.st_mode >> 3) & 7),
                    std::to_string(st.st_mode & 7)),
        "); make it 0600"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::string text, common::ReadFile(path, 4096));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::optional<std::string> raw = common::Base64Decode(text);
  if (!raw || raw->size() != 64) {
    return absl::DataLossError(common::Cat(path, ": not the base64 of a 64-byte Ed25519 key"));
  }
  return std::move(*raw);
}

absl::StatusOr<std::string> LoadSecretKeyFor(const NodeInfo& node, const std::string& data_dir) {
  ACCORD_ASSIGN_OR_RETURN(std::string key, LoadSecretKey(data_dir));
  // libsodium's Ed25519 secret key is the seed followed by the public key.
  if (std::string_view(key).substr(32) != node.public_key) {
    return absl::FailedPreconditionError(common::Cat(
        KeyPath(data_dir), ": not the key of node '", node.name, "' (", node.identity,
        "), whose public key the store holds: copy node.key from a machine of this node"));
  }
  return key;
}

absl::StatusOr<std::string> LoadNodeSecretKey(store::Store& store, const std::string& data_dir) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<NodeInfo> node, LoadNode(store));
  if (!node) {
    return absl::FailedPreconditionError(
        "the node has no identity yet (run `accord node init --name NAME`)");
  }
  return LoadSecretKeyFor(*node, data_dir);
}

std::optional<std::string> PublicKeyOf(std::string_view identity_json) {
  nlohmann::json j = nlohmann::json::parse(identity_json, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto ext = j.find("extensions");
  if (ext == j.end() || !ext->is_object()) return std::nullopt;
  auto e = ext->find(std::string(kNodeKeyExtension));
  if (e == ext->end() || !e->is_object()) return std::nullopt;
  auto k = e->find("public_key");
  if (k == e->end() || !k->is_string()) return std::nullopt;
  std::optional<std::string> raw = common::Base64Decode(k->get<std::string>());
  if (!raw || raw->size() != 32) return std::nullopt;
  return raw;
}

absl::StatusOr<KeyTrust> LoadKeyTrust(store::Store& store, const std::string& data_dir) {
  KeyTrust t;
  ACCORD_ASSIGN_OR_RETURN(FederationConfig config, LoadFederationConfig(data_dir));
  t.manual = config.manual_key_trust;
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> list, store.GetSetting("federation.trusted"));
  if (list && !list->empty()) {
    nlohmann::json j = nlohmann::json::parse(*list, nullptr, false);
    if (!j.is_array()) return absl::DataLossError("the trusted identities setting is corrupt");
    for (const auto& e : j) {
      if (e.is_string()) t.trusted.push_back(e.get<std::string>());
    }
  }
  return t;
}

absl::Status TrustIdentity(store::Store& store, const std::string& identity) {
  if (identity.rfind("identity--", 0) != 0 ||
      !common::IsUuid(std::string_view(identity).substr(10))) {
    return absl::InvalidArgumentError(common::Cat("'", identity, "' is not an identity id"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> list, store.GetSetting("federation.trusted"));
  nlohmann::json j = list && !list->empty() ? nlohmann::json::parse(*list, nullptr, false)
                                            : nlohmann::json::array();
  if (!j.is_array()) return absl::DataLossError("the trusted identities setting is corrupt");
  for (const auto& e : j) {
    if (e == identity) return absl::OkStatus();
  }
  j.push_back(identity);
  return store.PutSetting("federation.trusted", j.dump());
}

absl::StatusOr<std::string> SignerKey(store::Store& store, const std::string& identity,
                                      const KeyTrust& trust) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<NodeInfo> self, LoadNode(store));
  if (self && self->identity == identity) return self->public_key;
  ACCORD_ASSIGN_OR_RETURN(std::vector<Peer> peers, ListPeers(store));
  for (const Peer& p : peers) {
    if (p.identity == identity) return p.public_key;
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<store::StoredObject> versions,
                          store.Get(identity, store::VersionSelect::kAll));
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    std::optional<std::string> key = PublicKeyOf(it->json);
    if (!key) continue;
    // The identity object must be signed, by itself, with the key it carries.
    auto sig = FindSignature(it->json);
    if (!sig.ok() || !*sig || (*sig)->signer != identity || !Verify(it->json, *key).ok()) continue;
    if (trust.manual &&
        std::find(trust.trusted.begin(), trust.trusted.end(), identity) == trust.trusted.end()) {
      return absl::PermissionDeniedError(
          common::Cat("untrusted signer ", identity, " (key_trust is manual: `accord node trust ",
                      identity, "` trusts the key its identity object introduces)"));
    }
    return *key;
  }
  return absl::NotFoundError(
      common::Cat("unknown signer ", identity, " (no verified identity object with its key)"));
}

absl::StatusOr<NodeInfo> InitNode(store::Store& store, const std::string& data_dir,
                                  const std::string& name, common::Micros now) {
  if (name.empty()) return absl::InvalidArgumentError("the node's name must not be empty");
  ACCORD_ASSIGN_OR_RETURN(std::optional<NodeInfo> existing, LoadNode(store));
  if (existing) {
    return absl::AlreadyExistsError(common::Cat("this node is already initialised as ",
                                                existing->identity, " ('", existing->name,
                                                "'); nothing was changed"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> used, store.GetSetting("node.identity"));
  NodeInfo node;
  node.identity = used ? *used : "identity--" + common::NewUuid4();
  node.name = name;
  KeyPair keys = NewKeyPair();
  node.public_key = keys.public_key;
  // The order makes a crash at any point harmless: the key file first (a key no setting names
  // yet is replaced by the next init), then the objects, then the settings, the public key
  // last: from then on the node is initialised.
  ACCORD_RETURN_IF_ERROR(
      common::WriteFileAtomic(KeyPath(data_dir), common::Base64Encode(keys.secret_key) + "\n"));
  const std::string t = common::FormatTimestampMillis(now);
  nlohmann::json identity = {{"type", "identity"},
                             {"spec_version", "2.1"},
                             {"id", node.identity},
                             {"created", t},
                             {"modified", t},
                             {"name", name},
                             {"identity_class", "organization"},
                             {"object_marking_refs", {kTlpClear}},
                             {"extensions",
                              {{std::string(kNodeKeyExtension),
                                {{"extension_type", "property-extension"},
                                 {"public_key", common::Base64Encode(keys.public_key)}}}}}};
  ACCORD_ASSIGN_OR_RETURN(std::string signed_identity,
                          Sign(identity.dump(), node.identity, keys.secret_key));
  const std::string lines = SignatureExtensionDefinition() + "\n" + NodeKeyExtensionDefinition() +
                            "\n" + signed_identity + "\n";
  ingest::Options opts;
  opts.collection = kNodeCollection;
  opts.origin.entry_point = "node-init";
  opts.strict = true;
  ingest::Import run(&store, opts);
  auto src = ingest::BufferSource("node init", lines);
  ACCORD_RETURN_IF_ERROR(run.Add(*src));
  ACCORD_ASSIGN_OR_RETURN(ingest::Result r, run.Finish());
  if (!r.committed) {
    std::string why = r.not_committed_why;
    for (const auto& p : r.checked.problems) why += "; " + p.message;
    return absl::InternalError(common::Cat("node identity not stored: ", why));
  }
  ACCORD_RETURN_IF_ERROR(store.PutSetting("node.identity", node.identity));
  ACCORD_RETURN_IF_ERROR(store.PutSetting("node.name", name));
  ACCORD_RETURN_IF_ERROR(
      store.PutSetting("node.public_key", common::Base64Encode(keys.public_key)));
  return node;
}

absl::StatusOr<SignatureCheck> SignatureChecker::Check(std::string_view object_json) {
  SignatureCheck c;
  auto sig = FindSignature(object_json);
  if (!sig.ok()) {
    c.verdict = SignatureCheck::Verdict::kMalformed;
    c.detail = std::string(sig.status().message());
    return c;
  }
  if (!*sig) return c;  // kUnsigned
  c.signer = (*sig)->signer;
  auto [it, fresh] = keys_.try_emplace(c.signer, absl::StatusOr<std::string>(""));
  if (fresh) it->second = SignerKey(store_, c.signer, trust_);
  const absl::StatusOr<std::string>& key = it->second;
  if (!key.ok()) {
    if (!absl::IsNotFound(key.status()) && !absl::IsPermissionDenied(key.status())) {
      return key.status();
    }
    c.verdict = SignatureCheck::Verdict::kNoKey;
    c.detail = std::string(key.status().message());
    return c;
  }
  absl::Status st = Verify(object_json, *key);
  c.verdict = st.ok() ? SignatureCheck::Verdict::kValid : SignatureCheck::Verdict::kInvalid;
  c.detail = std::string(st.message());
  return c;
}

}  // namespace accord::federation
