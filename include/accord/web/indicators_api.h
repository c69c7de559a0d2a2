// The web UI's indicators view (issue 16; docs/UI_API.md "Indicators"): a collection's
// indicators, each with its state (active, expiring, expired, revoked), filtered by state and
// text, page by page.
//
// GET /api/ui/v1/indicators?collection=C[&state=S][&within=DAYS][&q=TEXT][&limit=N][&cursor=X]
// reads the latest version of each indicator in collection C, in the order they were added,
// through the egress gate at Exit::kUiIndicators (roles, TLP, markings, redaction), as a TAXII
// read of the collection would, with one audit entry per page. The work of a page is bounded:
// it reads at most kMaxBatches store pages, so a filter that matches little answers a short
// page with `more` and a cursor rather than scanning millions of rows.
#pragma once

#include <cstdint>

#include "accord/http/router.h"
#include "accord/web/read_api.h"

namespace accord::web {

/// Store pages read at most for one answer (each of at most `limit` rows).
inline constexpr uint64_t kMaxBatches = 64;

/// Mounts GET /api/ui/v1/indicators. The dependencies must outlive the router.
void MountIndicatorsApi(http::Router& router, const ReadApiDeps& deps);

}  // namespace accord::web
