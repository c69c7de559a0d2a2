// The full-text index's fields of an object already parsed (the reader's Extract); the public
// IndexTextOf(json) parses first.
#pragma once

#include <simdjson.h>

#include "accord/stix/object.h"

namespace accord::stix {

IndexText IndexTextOf(simdjson::dom::object o);

}  // namespace accord::stix
