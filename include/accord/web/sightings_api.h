// The web UI's sightings dashboard (issue 16; docs/UI_API.md "Sightings"): counts of sightings
// per day, per indicator, per source (who saw it) and per peer (who sent it here).
//
// GET /api/ui/v1/sightings[?days=D][&indicator=ID] reads the sightings added in the last D days
// (default 30) to every collection the caller may read, through the egress gate at
// Exit::kUiSightings, with one audit entry, and answers their counts by the day of first_seen:
// the total, the ten indicators seen most (or the one asked for), each source
// (where_sighted_refs, named when it is this node or a peer), and each peer whose agreement
// lands sightings in the collection that holds them ("" for this node's own collections). The
// work is bounded: at most kMaxSightingsRead sightings are read, and the answer says when more
// were left unread.
#pragma once

#include <cstdint>

#include "accord/http/router.h"
#include "accord/web/read_api.h"

namespace accord::web {

/// Sightings read at most for one answer.
inline constexpr uint64_t kMaxSightingsRead = 200000;

/// Mounts GET /api/ui/v1/sightings. The dependencies must outlive the router.
void MountSightingsApi(http::Router& router, const ReadApiDeps& deps);

}  // namespace accord::web
