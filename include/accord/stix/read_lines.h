// Reading one input handed over in pieces: JSON lines whose numbering continues from piece to
// piece (ingest::UnitImporter streams a converted MISP event to the store in batches, while
// the rest of the event converts). Apart from reader.h so that its few users alone rebuild.
//
// Thread safety: a pure function, as ReadBuffer.
#pragma once

#include <cstdint>
#include <string_view>

#include "accord/stix/reader.h"

namespace accord::stix {

/// Reads `data` as JSON lines whatever its first line holds (ReadBuffer sniffs it), as lines
/// `first_line`, `first_line` + 1, ... of an input at byte offset `first_offset`: locations
/// and offsets in problems are those of the whole input. Blank lines are skipped and counted;
/// a line over `max_line_bytes` is reported and skipped. The problem listing limit
/// (`max_listed_problems`) applies to this call. `minified`: the caller vouches that every line
/// is minified JSON (a converter's own output); each object keeps its line's bytes as they are
/// instead of going through the minifier (which would return them unchanged).
/// REQUIRES: first_line >= 1.
absl::StatusOr<ReadStats> ReadJsonLines(std::string_view data, uint64_t first_line,
                                        uint64_t first_offset, bool minified,
                                        const ReaderOptions& options, const ObjectSink& on_object,
                                        const ProblemSink& on_problem);

}  // namespace accord::stix
