// I-JSON (RFC 7493) member-name check: a JSON object must not have two members of the same name.
// STIX 2.1 requires I-JSON (§3.1). JSON parsers disagree on what a duplicate means (simdjson's
// lookup and Accord's index see the first member, Python, JavaScript and Go keep the last), so
// a document with one could carry an indicator whose pattern one party matches and another
// does not. simdjson does not check for duplicates: every JSON entry point calls this after
// parsing (files, TAXII bodies and pages, telemetry). Names are compared after unescaping, so
// "id" and "\u0069d" are the same name.
//
// Thread-safe: pure functions (a per-thread scratch vector is reused).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "accord/common/status.h"

namespace accord::stix {

/// The first duplicate member name found in `value` or anything nested in it, as its path from
/// `value`: JSONPath-like, members as `.name` (or `["name"]` when the name is not a plain
/// identifier), array elements as `[i]` (0-based), e.g. `objects[3].pattern`. The path of a
/// duplicate at the top level is just its name. `prefix` is prepended (e.g. "objects[3]").
/// nullopt when there is none. Nesting deeper than simdjson's own limit cannot occur.
std::optional<std::string> FindDuplicateKey(simdjson::dom::element value,
                                            std::string_view prefix = {});

/// Only the members of `object` itself, not the values nested in it (for envelopes whose
/// `objects` are checked one by one elsewhere, so that one bad object fails alone).
std::optional<std::string> FindDuplicateOwnKey(simdjson::dom::object object,
                                               std::string_view prefix = {});

/// The message for a duplicate at `path`, naming the rule: "duplicate key 'pattern' at
/// objects[3].pattern (RFC 7493 I-JSON: member names must be unique)".
std::string DuplicateKeyMessage(std::string_view path);

/// FindDuplicateKey as a status: InvalidArgument with DuplicateKeyMessage, else OK.
absl::Status CheckNoDuplicateKeys(simdjson::dom::element value, std::string_view prefix = {});

}  // namespace accord::stix
