#include "accord/stix/dom.h"

#include "accord/common/io.h"

namespace accord::stix {

void ReserveForLarge(simdjson::dom::parser* parser, size_t len) {
  if (len < kLargeDocumentBytes || parser->capacity() >= len) return;
  // parser.allocate() sizes the parser's own buffers only; simdjson allocates the document's
  // lazily inside parse(), so they are allocated here too, before they are advised.
  if (parser->allocate(len) != simdjson::SUCCESS) return;
  if (parser->doc.allocate(len) != simdjson::SUCCESS) return;
  common::AdviseHugePages(parser->implementation->structural_indexes.get(), len * sizeof(uint32_t));
  common::AdviseHugePages(parser->doc.tape.get(), len * sizeof(uint64_t));
  common::AdviseHugePages(parser->doc.string_buf.get(), len);
}

}  // namespace accord::stix
