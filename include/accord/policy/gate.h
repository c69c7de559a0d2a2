// The egress gate: the one place where the node decides what leaves it (../shared/DESIGN.md,
// "One egress gate"; docs/EGRESS.md).
//
// Every exit (a TAXII page, `accord export|get|list`, `accord taxii push`, match output and
// sightings) hands each object version it is about to deliver to Gate::Admit() together with
// the audience (who receives it) and the exit's name, and delivers what comes back: the
// object, nothing, or a replaced (redacted) copy. Exits that read the store do so through
// policy::EgressReader (egress_reader.h), which calls the gate for them; tests/policy/ checks
// that nothing else under src/ reads objects out of the store.
//
// Today the node's gate has one rule, the operator's lockdown switch (`accord policy lockdown
// on|off|status`, a store setting): while it is on, every exit is closed to every audience.
// Everything else is allowed. How later work fills the gate in:
//   - issue 13 (markings, roles, redaction profiles, audit): NodeGate's DoAdmit() evaluates
//     the object's markings against the audience's role or agreement and returns Deny or a
//     Replace with the redacted copy; DoCheckExit() refuses exits a role may not use (an
//     auditor reads no intelligence); Reload() re-reads the rules and bumps generation();
//     CacheKey() may coarsen the audience to the class the rules distinguish (role, agreement).
//     The audit entry for each batch is written by EgressReader next to the decisions.
//   - issue 12 (peer agreements, built): an Audience of Kind::kPeer names the peer (its user
//     name on this node); CollectionOpen() shows it only the agreement's collections,
//     DoCheckExit() refuses peers without an agreement, and DoAdmit() applies its types and
//     the TLP rules (tlp.h), never returns what the peer originated or gave this node, and
//     signs what this node originated (NodeGateOptions::peers, federation's PeerDirectory).
// A new exit adds an Exit value (and its name in ExitName), passes through EgressReader or
// Admit(), and gets a case in tests/policy/egress_exits_test.cc, which fails to compile
// (-Werror=switch) until it does.
//
// Thread safety: Gate's public methods may be called concurrently from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "accord/common/status.h"
#include "accord/policy/redaction.h"
#include "accord/policy/tlp.h"
#include "accord/store/store.h"

namespace accord::policy {

/// Every way an object can leave the node. Keep AllExits() and ExitName() in step.
enum class Exit : uint8_t {
  kTaxiiObjects,    ///< GET {root}/collections/{id}/objects/
  kTaxiiObject,     ///< GET {root}/collections/{id}/objects/{object-id}/
  kTaxiiManifest,   ///< GET {root}/collections/{id}/manifest/ (ids and versions reveal objects)
  kTaxiiVersions,   ///< GET {root}/collections/{id}/objects/{object-id}/versions/
  kExport,          ///< `accord export`: a bundle on standard output
  kGet,             ///< `accord get ID`
  kListJson,        ///< `accord list` (--json prints objects; the table prints ids and versions)
  kTaxiiPush,       ///< `accord taxii push`: objects POSTed to another server
  kMatchOutput,     ///< `accord match`: a match line names an indicator and the values it matched
  kSightings,       ///< `accord match --sightings`: sightings that refer to indicators
  kRequestChannel,  ///< points-of-contact requests and their steps, to the other party only
  kUiSearch,        ///< GET /api/ui/v1/search: the web UI's search by value (docs/UI_API.md)
  kUiObject,        ///< GET /api/ui/v1/objects/{id}: the web UI's object view, every version
  kUiRequests,      ///< GET /api/ui/v1/requests: the web UI's points-of-contact requests
  kUiIndicators,    ///< GET /api/ui/v1/indicators: the web UI's indicators of a collection
  kUiSightings,     ///< GET /api/ui/v1/sightings: the web UI's sightings dashboard (counts)
};

inline constexpr std::array<Exit, 16> kAllExits = {
    Exit::kTaxiiObjects, Exit::kTaxiiObject, Exit::kTaxiiManifest,  Exit::kTaxiiVersions,
    Exit::kExport,       Exit::kGet,         Exit::kListJson,       Exit::kTaxiiPush,
    Exit::kMatchOutput,  Exit::kSightings,   Exit::kRequestChannel, Exit::kUiSearch,
    Exit::kUiObject,     Exit::kUiRequests,  Exit::kUiIndicators,   Exit::kUiSightings};

/// The types that travel only over the request channel (issue 14; docs/REQUESTS.md):
/// requests and their steps. The gate lets them reach a peer only at Exit::kRequestChannel,
/// and only when this node made them and they are addressed to that peer (the request's
/// `addressee_ref`, the step's `to_ref`), whatever an agreement shares; the collection that
/// holds them (kRequestsCollection) is never open to a peer.
inline constexpr std::string_view kRequestType = "x-accord-request";
inline constexpr std::string_view kRequestStepType = "x-accord-request-step";
inline constexpr std::string_view kRequestsCollection = "requests";
inline bool IsRequestChannelType(std::string_view type) {
  return type == kRequestType || type == kRequestStepType;
}

/// Every Exit value, once each, in declaration order.
std::span<const Exit> AllExits();

/// A stable lower-case name ("taxii-objects", "export", ...) for messages and audit entries.
std::string_view ExitName(Exit exit);

/// Who receives what an exit delivers. A plain value type.
struct Audience {
  enum class Kind : uint8_t {
    kLocalOperator,  ///< the CLI user on this machine (export, get, list)
    kUser,           ///< an authenticated TAXII user; `role` as the auth layer names it
    kAnonymous,      ///< an unauthenticated TAXII client (public collections)
    kPeer,           ///< another node: `name` is its identity or URL (push, federation)
    kSensor,         ///< a consumer of match output and sightings: `name` says which
  };
  Kind kind = Kind::kAnonymous;
  std::string name;
  std::string role;

  static Audience LocalOperator() { return {Kind::kLocalOperator, {}, {}}; }
  static Audience User(std::string name, std::string role) {
    return {Kind::kUser, std::move(name), std::move(role)};
  }
  static Audience Anonymous() { return {Kind::kAnonymous, {}, {}}; }
  static Audience Peer(std::string name) { return {Kind::kPeer, std::move(name), {}}; }
  static Audience Sensor(std::string name) { return {Kind::kSensor, std::move(name), {}}; }

  /// An unambiguous key (kind, name and role, length-prefixed) for caches.
  std::string Key() const;
  /// For messages: "local operator", "user 'alice' (admin)", "peer 'https://...'", ...
  std::string ToString() const;
};

/// The object offered to an exit: one stored version (id, type, modified, the JSON).
/// Exits that deliver objects not read from the store (push from files, fresh sightings)
/// fill in what they know; `json` is always set.
using Object = store::StoredObject;

/// What the gate decided for one object.
struct Decision {
  enum class Verdict : uint8_t { kAllow, kDeny, kReplace };
  Verdict verdict = Verdict::kDeny;
  std::string json;     ///< kReplace: the copy to deliver instead (the original is unchanged)
  std::string reason;   ///< kDeny, kReplace: which rule, and why
  std::string profile;  ///< the redaction profile that made a kReplace or kDeny, if one did

  static Decision Allow() { return {Verdict::kAllow, {}, {}, {}}; }
  static Decision Deny(std::string reason) { return {Verdict::kDeny, {}, std::move(reason), {}}; }
  static Decision Replace(std::string json, std::string reason) {
    return {Verdict::kReplace, std::move(json), std::move(reason), {}};
  }
  bool allowed() const { return verdict != Verdict::kDeny; }
};

/// The gate. Public methods are non-virtual and do the shared work (fail closed: an error or
/// an exception from a rule is a denial); subclasses implement the private Do* hooks.
class Gate {
 public:
  virtual ~Gate() = default;

  /// Whether `exit` is open to `audience` at all, asked once per batch (page, export, push,
  /// match run) before any object is read. PermissionDenied with the reason when it is not
  /// (lockdown; later: no agreement, a role without the right). An error is a denial.
  absl::Status CheckExit(const Audience& audience, Exit exit);

  /// The decision for one object at `exit` for `audience`. Never fails: an error or exception
  /// in the rules becomes kDeny naming it (fail closed).
  Decision Admit(const Object& object, const Audience& audience, Exit exit);

  /// Changes whenever a decision may change (a rule reloaded, lockdown switched). Caches of
  /// gated output key on it. May re-read the node's policy settings (at most once per
  /// refresh interval), so that a change made by another process is seen within ~1 s.
  uint64_t generation();

  /// Whether `audience` may see collection `c` at all (list it, read from it). Peers see only
  /// the collections their agreement shares; every other audience is decided by its grants
  /// (this answers true). An error is a denial.
  bool CollectionOpen(const Audience& audience, const store::CollectionInfo& c);

  /// The part of the audience that decisions depend on, for cache keys. Two audiences with
  /// the same key always get the same decisions. Default: Audience::Key().
  virtual std::string CacheKey(const Audience& audience) const { return audience.Key(); }

 private:
  virtual absl::Status DoCheckExit(const Audience& audience, Exit exit) = 0;
  virtual absl::StatusOr<Decision> DoAdmit(const Object& object, const Audience& audience,
                                           Exit exit) = 0;
  virtual uint64_t DoGeneration() = 0;
  virtual absl::StatusOr<bool> DoCollectionOpen(const Audience& audience,
                                                const store::CollectionInfo& c) {
    (void)c;
    return audience.kind != Audience::Kind::kPeer;
  }
};

/// The default gate: allows everything, generation 1. For callers with no node (a library
/// user, a test); a node uses NewNodeGate.
std::unique_ptr<Gate> NewAllowAllGate();

/// Store setting that holds the lockdown switch ("on" / "off"; absent is off).
inline constexpr std::string_view kLockdownSetting = "policy.lockdown";

/// What one peer's agreement lets leave for it (issue 12, points 3 and 4).
struct PeerRules {
  std::string identity;                  ///< the peer node's identity id
  ShareTerms terms;                      ///< same_organization, max_tlp, forward
  std::vector<std::string> collections;  ///< ids or aliases of the collections it may read
  std::vector<std::string> types;        ///< the types it may receive; empty: every type
  std::string given_into;                ///< the collection its own objects land in here
  /// Issue 13: the redaction profile applied to what leaves for it (null: none), whether raw
  /// observed-data may leave, and how sightings leave (k-threshold, time buckets).
  std::shared_ptr<const Redactor> redactor;
  bool share_observed_data = false;
  int64_t sighting_min_count = 1;
  int64_t sighting_bucket_s = 0;
};

/// Everything the gate needs to decide for peers, read together.
struct FederationRules {
  std::string own_identity;              ///< this node's identity id; "" before `accord node init`
  Tlp default_tlp = Tlp::kAmber;         ///< for objects without a TLP marking
  std::string signature_extension;       ///< the extension-definition holding signatures
  std::vector<std::string> unsigned_ok;  ///< ids that leave unsigned (fixed definitions)
  std::map<std::string, PeerRules, std::less<>> peers;  ///< by peer (user) name
  /// Every configured peer's identity id by name, with or without an agreement (the request
  /// channel needs no agreement).
  std::map<std::string, std::string, std::less<>> peer_identities;
  /// Redaction per TAXII role (accord.toml [redaction.roles]): by role name.
  std::map<std::string, std::shared_ptr<const Redactor>, std::less<>> role_redactors;
  std::string fingerprint;  ///< changes whenever anything above may have
};

/// Where the node gate reads peers, agreements and the node's identity, and how it signs.
/// Implemented by the federation layer (it owns the agreement format and the key).
class PeerDirectory {
 public:
  virtual ~PeerDirectory() = default;
  virtual absl::StatusOr<FederationRules> Load() = 0;
  /// `object_json` (a version this node originated, unsigned) signed by this node.
  virtual absl::StatusOr<std::string> Sign(std::string_view object_json) = 0;
};

struct NodeGateOptions {
  /// The policy settings are re-read at most this often (and before the first decision).
  int64_t refresh_interval_us = 250000;
  /// What the gate looked up in the store (the objects a page refers to) is kept while the
  /// store's generation stands, read at most this often by all threads together (0: at every
  /// batch). A write is seen within this time, as by the TAXII page cache (2 ms in serve).
  int64_t change_poll_us = 2000;
  /// What each thread keeps of the objects it looked up, at most, in bytes of their text (then
  /// it forgets them all, and reads again what it needs).
  size_t memo_bytes = size_t{16} << 20;
  /// The peers' agreements. Without one, no peer may use any exit but an operator's explicit
  /// `accord taxii push` (an Audience::Peer that names a URL, not a configured peer).
  std::shared_ptr<PeerDirectory> peers;
};

/// The node's gate over `store` (which must outlive it): the default rules plus the operator's
/// lockdown switch, read from the store's settings, so a switch made by `accord policy
/// lockdown` in another process reaches a running server within refresh_interval_us. When
/// the settings cannot be read the gate denies everything until they can (fail closed).
std::unique_ptr<Gate> NewNodeGate(store::Store* store, NodeGateOptions options = {});

/// Sets the lockdown switch in `store` (what `accord policy lockdown on|off` does).
absl::Status SetLockdown(store::Store& store, bool on);
/// Reads it.
absl::StatusOr<bool> LockdownOn(store::Store& store);

}  // namespace accord::policy
