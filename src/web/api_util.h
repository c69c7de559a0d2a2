// What the web UI's API handlers share (src/web only): who may use the API, the egress exit
// check, the audit entry of a delivery, and the answer to a failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "accord/audit/log.h"
#include "accord/http/router.h"
#include "accord/policy/egress_reader.h"
#include "accord/policy/gate.h"
#include "accord/store/store.h"

namespace accord::web {

/// True for a person (any role but peer); else answers 401 (anonymous) or 403 (a peer reads
/// over TAXII) and returns false.
bool Person(http::RequestContext& ctx, http::Response& res);

/// Whether `who` may read collection `c` at all (public, or by role and grants); the gate then
/// decides object by object.
bool MayReadCollection(const http::Principal& who, const store::CollectionInfo& c);

/// An object's "name", or "" (from its JSON).
std::string NameOf(const std::string& json);

/// The caller as the egress gate sees it.
policy::Audience AudienceOf(const http::Principal& who);

/// A closed exit (lockdown, an auditor's) is refused with 403 before anything is read.
bool ExitOpen(policy::Gate* gate, http::RequestContext& ctx, http::Response& res,
              policy::Exit exit);

/// Logs `st` under the request's id and answers 500 naming only the id.
void Failed(http::RequestContext& ctx, http::Response& res, std::string_view what,
            const absl::Status& st);

/// A failed gated read: 403 when the gate refused it (PermissionDenied), else as Failed.
void ReadFailed(http::RequestContext& ctx, http::Response& res, const absl::Status& st);

/// Adds `page`'s withheld and replaced counts and versions to `all` (several pages, one audit
/// entry).
void MergeTotals(const policy::GatedPage& page, policy::GatedPage* all);

/// Records a delivery at `exit`; false (and a 500) when it cannot be: then nothing may be
/// delivered.
bool Audited(audit::Log* log, http::RequestContext& ctx, http::Response& res, policy::Exit exit,
             const std::vector<store::StoredObject>& delivered, const policy::GatedPage& all);

}  // namespace accord::web
