// The web UI's read API (issue 16; docs/UI_API.md): search by value.
//
// GET /api/ui/v1/search?value=V[&limit=N] finds the objects that hold value V (an address,
// CIDR, domain, URL, e-mail address, hash or CVE id; defanged forms are accepted) through the
// value index, and answers only what the caller may read: the collections it may read, then
// the egress gate at Exit::kUiSearch (roles, TLP, markings, redaction), exactly as a TAXII
// read. One audit entry records what was delivered. A person's session or key is needed;
// peers read over TAXII only.
#pragma once

#include <string>

#include "accord/audit/log.h"
#include "accord/http/router.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"

namespace accord::web {

struct ReadApiDeps {
  store::Store* store = nullptr;
  policy::Gate* gate = nullptr;
  audit::Log* audit = nullptr;  ///< required: a delivery that cannot be audited is not made
  std::string data_dir;         ///< the node's: its key-trust settings (signatures)
};

/// Mounts GET /api/ui/v1/search. The dependencies must outlive the router.
void MountReadApi(http::Router& router, const ReadApiDeps& deps);

}  // namespace accord::web
