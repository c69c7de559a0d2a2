#include "accord/audit/checkpoint.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "accord/common/encoding.h"
#include "accord/common/strings.h"
#include "accord/common/time.h"

namespace accord::audit {

namespace {

bool Unhex(std::string_view hex, size_t want, std::string* out) {
  auto raw = common::HexDecode(hex);
  if (!raw || raw->size() != want) return false;
  *out = std::move(*raw);
  return true;
}

nlohmann::ordered_json Json(const Checkpoint& c) {
  nlohmann::ordered_json j;
  j["seq"] = c.seq;
  j["hash"] = c.hash;
  j["time"] = c.time;
  j["key"] = c.key;
  j["signature"] = c.signature;
  return j;
}

}  // namespace

std::string SigningBytes(const Checkpoint& c) {
  return common::Cat("accord-audit-checkpoint\n", c.seq, "\n", c.hash, "\n", c.time, "\n", c.key,
                     "\n");
}

bool SignatureValid(const Checkpoint& c, std::string_view public_key_hex) {
  std::string pk, sig;
  if (c.key != public_key_hex || !Unhex(public_key_hex, crypto_sign_PUBLICKEYBYTES, &pk) ||
      !Unhex(c.signature, crypto_sign_BYTES, &sig)) {
    return false;
  }
  const std::string msg = SigningBytes(c);
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                     reinterpret_cast<const unsigned char*>(pk.data())) == 0;
}

absl::StatusOr<std::vector<Checkpoint>> LoadCheckpoints(store::Store& store) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> v, store.GetSetting(kCheckpointsSetting));
  std::vector<Checkpoint> out;
  if (!v) return out;
  nlohmann::json j = nlohmann::json::parse(*v, nullptr, false);
  if (!j.is_array()) {
    return absl::DataLossError(
        common::Cat("store setting '", kCheckpointsSetting, "' is not a JSON array"));
  }
  for (const auto& e : j) {
    Checkpoint c;
    if (!e.is_object() || !e.contains("seq") || !e["seq"].is_number_unsigned()) {
      return absl::DataLossError(common::Cat("store setting '", kCheckpointsSetting,
                                             "': an element has no unsigned 'seq'"));
    }
    c.seq = e["seq"].get<uint64_t>();
    for (auto [k, dst] : {std::pair{"hash", &c.hash}, std::pair{"time", &c.time},
                          std::pair{"key", &c.key}, std::pair{"signature", &c.signature}}) {
      if (!e.contains(k) || !e[k].is_string()) {
        return absl::DataLossError(common::Cat("store setting '", kCheckpointsSetting,
                                               "': checkpoint ", c.seq, " has no string '", k,
                                               "'"));
      }
      *dst = e[k].get<std::string>();
    }
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<Checkpoint> MakeCheckpoint(Log& log, store::Store& store,
                                          std::string_view secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InvalidArgumentError("the node's secret key is not an Ed25519 key");
  }
  ACCORD_RETURN_IF_ERROR(log.Sync());
  ACCORD_ASSIGN_OR_RETURN(Head h, log.ReadHead());
  if (h.seq == 0) return absl::NotFoundError("the audit log is empty: nothing to checkpoint");
  Checkpoint c;
  c.seq = h.seq;
  c.hash = h.hash;
  c.time = common::FormatTimestamp(common::NowMicros());
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(pk, reinterpret_cast<const unsigned char*>(secret_key.data()));
  c.key = common::HexEncode(std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  const std::string msg = SigningBytes(c);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                       reinterpret_cast<const unsigned char*>(secret_key.data()));
  c.signature = common::HexEncode(std::string_view(reinterpret_cast<const char*>(sig), sizeof sig));
  ACCORD_ASSIGN_OR_RETURN(std::vector<Checkpoint> all, LoadCheckpoints(store));
  if (!all.empty() && all.back().seq == c.seq && all.back().hash == c.hash) return all.back();
  auto j = nlohmann::ordered_json::array();
  for (const auto& x : all) j.push_back(Json(x));
  j.push_back(Json(c));
  ACCORD_RETURN_IF_ERROR(store.PutSetting(kCheckpointsSetting, j.dump()));
  return c;
}

std::string ToJson(const Checkpoint& c) { return Json(c).dump(); }

}  // namespace accord::audit
