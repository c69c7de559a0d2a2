// Sizing a simdjson DOM parser for a large document before it parses one.
//
// Thread safety: as the parser's own (one thread at a time per parser).
#pragma once

#include <simdjson.h>

#include <cstddef>

namespace accord::stix {

/// Documents at least this large get their parser's buffers advised for huge pages.
inline constexpr size_t kLargeDocumentBytes = size_t{4} << 20;

/// Gives `parser` the capacity for a document of `len` bytes before parse() would, when
/// `len` is at least kLargeDocumentBytes and the parser has less: the structural indexes (4
/// bytes an input byte), the tape (8) and the strings (5/3) are allocated here and advised
/// for huge pages (common::AdviseHugePages), so that writing them faults once per 2 MiB, not
/// per 4 KiB (~10 us a fault on a paravirtualised VM). Otherwise, or when allocation fails,
/// nothing changes: parse() sizes the parser as before.
/// PERF: a MISP event of 150,000 attributes (24 MB) and its report (7 MB) were parsed into
/// fresh memory a page fault at a time (docs/PERFORMANCE.md, December 7).
void ReserveForLarge(simdjson::dom::parser* parser, size_t len);

}  // namespace accord::stix
