// A request as JSON, for `accord request list|show --json` and the web UI's requests view
// (docs/REQUESTS.md, docs/UI_API.md): one shape for both.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "accord/common/time.h"
#include "accord/requests/channel.h"

namespace accord::requests {

/// RFC 3339 with milliseconds, or "" for 0 (no deadline, not yet).
std::string StampOrEmpty(common::Micros t);

/// The contact now responsible for answering (escalation applied); nullptr when none is known.
const Contact* Responsible(const View& v);

/// The steps this node may take on `v` now (CheckStep's rule: the addressee acknowledges,
/// answers or declines; the sender closes), in that order; empty when none.
std::vector<State> NextSteps(const View& v);

/// Everything a person needs to see of one request: its fields, deadlines and overdue flags,
/// history, refused steps, contacts and deliveries.
nlohmann::json ViewJson(const View& v);

}  // namespace accord::requests
