// The web UI's files (issue 16): the front end built from ui/ (`npm run build` there, which
// the README's commands run), served by `accord serve` at /ui/.
#pragma once

#include <string>

#include "accord/http/router.h"

namespace accord::web {

/// Serves `dir` at /ui/ with the UI's security headers (SecurityHeaders()): a path without a
/// file extension answers index.html (the app's deep links, /ui/objects/ID), files under
/// assets/ (content-hashed names) are cached for a year, and a NAME.gz beside a file is sent
/// to browsers that accept gzip. GET / and GET /ui redirect to /ui/.
void MountUiFiles(http::Router& router, const std::string& dir);

}  // namespace accord::web
