// The web UI's peers view (issue 16; docs/UI_API.md "Peers"): each peer's sync status and lag,
// its agreement, and the quarantine with release and drop.
//
// GET /api/ui/v1/peers answers admins and auditors, who read the agreements over HTTP too
// (GET /accord/agreements/; docs/PRIVACY.md): per peer its address and identity, the current
// agreement (TOML, version, who set it, when), and per pulled collection the last attempt and
// success, the failures in a row, the last error, whether it is caught up and what is known to
// wait. Admins also get the quarantine: each held or refused version's id, collection, writer,
// time and reason, never its content. POST /api/ui/v1/quarantine/{qid}/release and .../drop
// (admins) resolve an entry as `accord quarantine release|drop` does. Every read and change is
// in the audit log under the person's name.
#pragma once

#include <string>

#include "accord/audit/log.h"
#include "accord/http/router.h"
#include "accord/store/store.h"

namespace accord::web {

struct PeersApiDeps {
  store::Store* store = nullptr;
  audit::Log* audit = nullptr;  ///< required: an unaudited read or change is not made
  std::string data_dir;         ///< the node's: federation's checks when a held entry is released
};

/// Quarantine entries answered at most (the oldest first; `quarantine_more` says there are more).
inline constexpr uint64_t kMaxListedQuarantine = 1000;

/// Mounts GET /api/ui/v1/peers and POST /api/ui/v1/quarantine/{qid}/release|drop. The
/// dependencies must outlive the router.
void MountPeersApi(http::Router& router, const PeersApiDeps& deps);

}  // namespace accord::web
