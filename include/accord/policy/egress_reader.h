// EgressReader: the store's read methods (List, Get) as an exit sees them, through the gate.
//
// Exits do not call Store::List/Get themselves (tests/policy/egress_source_scan_test.cc checks
// this for every file under src/): they read through an EgressReader, which asks the gate
// whether the exit is open to the audience (Gate::CheckExit, once per call), then admits each
// object version (Gate::Admit) and hands back only what may leave: allowed objects as stored,
// replaced objects with the replacement JSON, denied objects counted in `withheld`.
//
// Thread safety: as thread-safe as the Store and the Gate it wraps (both are); the reader
// itself holds no state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accord/audit/log.h"
#include "accord/common/status.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"

namespace accord::policy {

/// One page as an exit may deliver it.
struct GatedPage {
  std::vector<store::StoredObject> objects;  ///< admitted, in store order (replacements in place)
  bool more = false;                         ///< as the store's page: more may follow
  std::string next;                          ///< the store's cursor (continues past withheld ones)
  uint64_t withheld = 0;                     ///< denied by the gate
  uint64_t replaced = 0;                     ///< replaced (redacted) copies among `objects`
  std::string withheld_reason;               ///< the first denial's reason
  std::string profile;  ///< the redaction profile that decided for some object, if any
  /// For the audit log: the versions withheld and those replaced, (id, modified), the first
  /// audit::kMaxVersionsPerEntry of each.
  std::vector<audit::VersionRef> denied_refs, replaced_refs;
};

/// The audit entry of one delivery: `delivered` (what left, as the exit sent it) to
/// `audience` at `exit`, from `collection` (may be empty), with the page's withheld and
/// replaced versions. Actors: "operator", "user:NAME", "anonymous", "peer:NAME",
/// "sensor:NAME".
audit::Entry EgressEntry(const Audience& audience, Exit exit, const std::string& collection,
                         const std::vector<store::StoredObject>& delivered, const GatedPage& page);
/// The audit log's actor for `audience`.
std::string ActorOf(const Audience& audience);
/// (id, modified) of a stored version as the audit log writes it.
audit::VersionRef RefOf(const store::StoredObject& o);

class EgressReader {
 public:
  /// `store` and `gate` must outlive the reader.
  EgressReader(store::Store* store, Gate* gate) : store_(store), gate_(gate) {}

  /// Store::List through the gate. PermissionDenied (from Gate::CheckExit) when the exit is
  /// closed to `audience`; the store is then not read at all.
  absl::StatusOr<GatedPage> List(const store::Query& query, const Audience& audience, Exit exit);

  /// Store::Get through the gate (one object's versions, oldest first).
  absl::StatusOr<GatedPage> Get(const std::string& id, store::VersionSelect versions,
                                const Audience& audience, Exit exit);

  Gate& gate() { return *gate_; }

  /// Appends an "egress" entry to `log` after every List and Get (CLI exits). Exits that
  /// serve pages from a cache (TAXII) audit each delivery themselves, with EgressEntry.
  void set_audit(audit::Log* log) { audit_ = log; }

 private:
  void AdmitAll(std::vector<store::StoredObject>&& in, const Audience& audience, Exit exit,
                GatedPage* out);

  absl::Status Audit(const Audience& audience, Exit exit, const std::string& collection,
                     const GatedPage& page);

  store::Store* const store_;
  Gate* const gate_;
  audit::Log* audit_ = nullptr;
};

}  // namespace accord::policy
