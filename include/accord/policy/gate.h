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
//   - issue 12 (peer agreements): an Audience of Kind::kPeer names the peer; DoCheckExit()
//     refuses peers without an agreement for the exit, DoAdmit() applies the agreement's
//     collections, types and redaction profile.
// A new exit adds an Exit value (and its name in ExitName), passes through EgressReader or
// Admit(), and gets a case in tests/policy/egress_exits_test.cc, which fails to compile
// (-Werror=switch) until it does.
//
// Thread safety: Gate's public methods may be called concurrently from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "accord/common/status.h"
#include "accord/store/store.h"

namespace accord::policy {

/// Every way an object can leave the node. Keep AllExits() and ExitName() in step.
enum class Exit : uint8_t {
  kTaxiiObjects,   ///< GET {root}/collections/{id}/objects/
  kTaxiiObject,    ///< GET {root}/collections/{id}/objects/{object-id}/
  kTaxiiManifest,  ///< GET {root}/collections/{id}/manifest/ (ids and versions reveal objects)
  kTaxiiVersions,  ///< GET {root}/collections/{id}/objects/{object-id}/versions/
  kExport,         ///< `accord export`: a bundle on standard output
  kGet,            ///< `accord get ID`
  kListJson,       ///< `accord list` (--json prints objects; the table prints ids and versions)
  kTaxiiPush,      ///< `accord taxii push`: objects POSTed to another server
  kMatchOutput,    ///< `accord match`: a match line names an indicator and the values it matched
  kSightings,      ///< `accord match --sightings`: sightings that refer to indicators
};

inline constexpr std::array<Exit, 10> kAllExits = {
    Exit::kTaxiiObjects, Exit::kTaxiiObject, Exit::kTaxiiManifest, Exit::kTaxiiVersions,
    Exit::kExport,       Exit::kGet,         Exit::kListJson,      Exit::kTaxiiPush,
    Exit::kMatchOutput,  Exit::kSightings};

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
  std::string json;    ///< kReplace: the copy to deliver instead (the original is unchanged)
  std::string reason;  ///< kDeny, kReplace: which rule, and why

  static Decision Allow() { return {Verdict::kAllow, {}, {}}; }
  static Decision Deny(std::string reason) { return {Verdict::kDeny, {}, std::move(reason)}; }
  static Decision Replace(std::string json, std::string reason) {
    return {Verdict::kReplace, std::move(json), std::move(reason)};
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

  /// The part of the audience that decisions depend on, for cache keys. Two audiences with
  /// the same key always get the same decisions. Default: Audience::Key().
  virtual std::string CacheKey(const Audience& audience) const { return audience.Key(); }

 private:
  virtual absl::Status DoCheckExit(const Audience& audience, Exit exit) = 0;
  virtual absl::StatusOr<Decision> DoAdmit(const Object& object, const Audience& audience,
                                           Exit exit) = 0;
  virtual uint64_t DoGeneration() = 0;
};

/// The default gate: allows everything, generation 1. For callers with no node (a library
/// user, a test); a node uses NewNodeGate.
std::unique_ptr<Gate> NewAllowAllGate();

/// Store setting that holds the lockdown switch ("on" / "off"; absent is off).
inline constexpr std::string_view kLockdownSetting = "policy.lockdown";

struct NodeGateOptions {
  /// The policy settings are re-read at most this often (and before the first decision).
  int64_t refresh_interval_us = 250000;
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
