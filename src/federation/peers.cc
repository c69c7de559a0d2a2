#include "accord/federation/peers.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "accord/common/encoding.h"
#include "accord/common/io.h"
#include "accord/common/strings.h"
#include "accord/common/uuid.h"

namespace accord::federation {

namespace {

constexpr const char* kIndex = "federation.peers";  // JSON array of names

std::string PeerKey(const std::string& name) { return "federation.peer." + name; }
std::string AgreementKey(const std::string& name) { return "federation.agreement." + name; }

std::filesystem::path ApiKeyPath(const std::string& data_dir, const std::string& name) {
  return std::filesystem::path(data_dir) / "peer-keys" / (name + ".key");
}

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

absl::StatusOr<std::vector<std::string>> Names(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> v, store.GetSetting(kIndex));
  std::vector<std::string> out;
  if (!v || v->empty()) return out;
  nlohmann::json j = nlohmann::json::parse(*v, nullptr, false);
  if (!j.is_array()) return absl::DataLossError("the peer list setting is corrupt");
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

absl::Status PutNames(store::Store& store, std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return store.PutSetting(kIndex, nlohmann::json(names).dump());
}

absl::StatusOr<Peer> FromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  std::optional<std::string> key;
  if (j.is_object() && j.value("public_key", "") != "") {
    key = common::Base64Decode(j.value("public_key", ""));
  }
  if (!j.is_object() || !key) return absl::DataLossError("a peer setting is corrupt");
  return Peer{j.value("name", ""), j.value("url", ""), j.value("identity", ""), *key,
              j.value("cacert", "")};
}

}  // namespace

absl::Status AddPeer(store::Store& store, const std::string& data_dir, const Peer& p,
                     const std::string& api_key) {
  if (!ValidName(p.name)) {
    return absl::InvalidArgumentError(
        common::Cat("peer name '", p.name, "': use 1 to 64 of a-z, 0-9, '-' and '_'"));
  }
  if (!(p.url.rfind("https://", 0) == 0 || p.url.rfind("http://", 0) == 0) ||
      p.url.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        common::Cat("--url '", p.url, "': the peer's TAXII API root, http(s)://HOST/ROOT/"));
  }
  if (p.identity.rfind("identity--", 0) != 0 ||
      !common::IsUuid(std::string_view(p.identity).substr(10))) {
    return absl::InvalidArgumentError(
        common::Cat("--identity '", p.identity, "': not an identity id (identity--UUID)"));
  }
  if (p.public_key.size() != 32) {
    return absl::InvalidArgumentError(
        "--public-key: the standard base64 of a 32-byte Ed25519 public key (as `accord node "
        "show` prints it at the peer)");
  }
  if (api_key.empty() || api_key.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("--key: the API key the peer gave this node");
  }
  if (!p.cacert.empty() && p.cacert.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return absl::InvalidArgumentError("--cacert: not a PEM certificate");
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(store));
  if (std::find(names.begin(), names.end(), p.name) != names.end()) {
    return absl::AlreadyExistsError(common::Cat("a peer '", p.name, "' already exists"));
  }
  std::error_code ec;
  std::filesystem::create_directories(ApiKeyPath(data_dir, p.name).parent_path(), ec);
  if (ec) return absl::InternalError(common::Cat("peer-keys: ", ec.message()));
  ACCORD_RETURN_IF_ERROR(common::WriteFileAtomic(ApiKeyPath(data_dir, p.name).string(), api_key));
  nlohmann::json j = {{"name", p.name},
                      {"url", p.url},
                      {"identity", p.identity},
                      {"public_key", common::Base64Encode(p.public_key)},
                      {"cacert", p.cacert}};
  ACCORD_RETURN_IF_ERROR(store.PutSetting(PeerKey(p.name), j.dump()));
  names.push_back(p.name);
  return PutNames(store, std::move(names));  // last: the peer exists from here on
}

absl::StatusOr<std::vector<Peer>> ListPeers(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(store));
  std::vector<Peer> out;
  for (const std::string& n : names) {
    ACCORD_ASSIGN_OR_RETURN(Peer p, GetPeer(store, n));
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<Peer> GetPeer(store::Store& store, const std::string& name) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(store));
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    return absl::NotFoundError(common::Cat("no peer '", name, "'"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> v, store.GetSetting(PeerKey(name)));
  if (!v) return absl::DataLossError(common::Cat("peer '", name, "': its setting is missing"));
  return FromJson(*v);
}

absl::Status RemovePeer(store::Store& store, const std::string& data_dir, const std::string& name) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(store));
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return absl::NotFoundError(common::Cat("no peer '", name, "'"));
  names.erase(it);
  ACCORD_RETURN_IF_ERROR(PutNames(store, std::move(names)));  // first: gone from here on
  ACCORD_RETURN_IF_ERROR(store.PutSetting(PeerKey(name), ""));
  std::error_code ec;
  std::filesystem::remove(ApiKeyPath(data_dir, name), ec);
  return absl::OkStatus();
}

absl::StatusOr<std::string> PeerApiKey(const std::string& data_dir, const std::string& name) {
  return common::ReadFile(ApiKeyPath(data_dir, name).string(), 4096);
}

absl::StatusOr<std::vector<AgreementVersion>> AgreementHistory(store::Store& store,
                                                               const std::string& peer) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> v, store.GetSetting(AgreementKey(peer)));
  std::vector<AgreementVersion> out;
  if (!v || v->empty()) return out;
  nlohmann::json j = nlohmann::json::parse(*v, nullptr, false);
  if (!j.is_array())
    return absl::DataLossError(common::Cat("peer '", peer, "': agreements corrupt"));
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    out.push_back({e.value("version", 0), e.value("toml", ""), e.value("set_by", ""),
                   e.value("set_at", static_cast<common::Micros>(0))});
  }
  return out;
}

absl::StatusOr<std::optional<Agreement>> CurrentAgreement(store::Store& store,
                                                          const std::string& peer) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<AgreementVersion> history, AgreementHistory(store, peer));
  if (history.empty()) return std::optional<Agreement>();
  const AgreementVersion& v = history.back();
  ACCORD_ASSIGN_OR_RETURN(
      Agreement a,
      ParseAgreement(v.toml, common::Cat("agreement with ", peer, " v", v.version), peer));
  return std::optional<Agreement>(std::move(a));
}

absl::StatusOr<AgreementVersion> SetAgreement(store::Store& store, const std::string& peer,
                                              const std::string& toml, const std::string& source,
                                              const std::string& set_by, common::Micros now) {
  ACCORD_RETURN_IF_ERROR(GetPeer(store, peer).status());
  ACCORD_RETURN_IF_ERROR(ParseAgreement(toml, source, peer).status());
  ACCORD_ASSIGN_OR_RETURN(std::vector<AgreementVersion> history, AgreementHistory(store, peer));
  AgreementVersion v{static_cast<int>(history.size()) + 1, toml, set_by, now};
  history.push_back(v);
  nlohmann::json j = nlohmann::json::array();
  for (const AgreementVersion& h : history) {
    j.push_back(
        {{"version", h.version}, {"toml", h.toml}, {"set_by", h.set_by}, {"set_at", h.set_at}});
  }
  ACCORD_RETURN_IF_ERROR(store.PutSetting(AgreementKey(peer), j.dump()));
  return v;
}

// PeerCaFile: the CA file for a peer's TLS certificate ("" for the system's):
// <data>/peer-keys/NAME.ca.pem, owner-only, written when it is missing or the peer's CA changed
// (not every round).
absl::StatusOr<std::string> PeerCaFile(const std::string& data_dir, const Peer& peer) {
  if (peer.cacert.empty()) return std::string();
  const std::string p =
      (std::filesystem::path(data_dir) / "peer-keys" / (peer.name + ".ca.pem")).string();
  absl::StatusOr<std::string> current = common::ReadFile(p);
  if (!current.ok() || *current != peer.cacert) {
    ACCORD_RETURN_IF_ERROR(common::WriteFileAtomic(p, peer.cacert));
  }
  return p;
}

}  // namespace accord::federation
