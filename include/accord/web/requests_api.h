// The web UI's points-of-contact requests (issue 16; docs/UI_API.md "Requests"): the inbox and
// outbox a person may read, and the steps they may take.
//
// GET /api/ui/v1/requests reads the requests and steps held here through the egress gate at
// Exit::kUiRequests (as `accord request list` reads them at kListJson), one audit entry per
// read, and answers each request with the steps this node may take now. POST
// /api/ui/v1/requests/{id}/steps takes one (admins and analysts), signed by the node and
// delivered by the request channel; the audit log names the person.
#pragma once

#include "accord/audit/log.h"
#include "accord/http/router.h"
#include "accord/policy/gate.h"
#include "accord/requests/channel.h"
#include "accord/store/store.h"

namespace accord::web {

struct RequestsApiDeps {
  store::Store* store = nullptr;
  policy::Gate* gate = nullptr;
  audit::Log* audit = nullptr;
  requests::Channel* channel = nullptr;  ///< null: the node has no identity (503)
};

/// Mounts GET /api/ui/v1/requests and POST /api/ui/v1/requests/{id}/steps. The dependencies
/// must outlive the router.
void MountRequestsApi(http::Router& router, RequestsApiDeps deps);

}  // namespace accord::web
