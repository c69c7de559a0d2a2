// The web UI's import of the field's formats (issue 16; docs/UI_API.md "Import"): a MISP
// event, a list, free text or CSV uploaded by a person, converted (src/formats/) and stored
// through the one ingest path as `accord import --format` stores it, with every refused record
// and its reason in the answer. STIX bundles go through TAXII's add-objects endpoint.
#pragma once

#include <string>

#include "accord/audit/log.h"
#include "accord/http/router.h"
#include "accord/store/store.h"

namespace accord::web {

struct ImportApiDeps {
  store::Store* store = nullptr;
  audit::Log* audit = nullptr;  ///< every committed transaction is recorded
  std::string data_dir;         ///< the pattern policy and warninglists of the node
};

/// The largest upload taken (413 above).
inline constexpr uint64_t kMaxImportBytes = 64ull << 20;
/// Refused records listed in one answer (all are counted).
inline constexpr size_t kMaxListedRejections = 1000;

/// Mounts POST /api/ui/v1/import?collection=C&format=misp|list|text|csv[&type=KIND]
/// [&columns=ROLES][&name=FILE]. The dependencies must outlive the router.
void MountImportApi(http::Router& router, const ImportApiDeps& deps);

}  // namespace accord::web
