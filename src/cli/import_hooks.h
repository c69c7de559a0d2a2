// Checks that `accord import` (and every other ingest path in the CLI) runs on each object on
// top of the STIX object rules, e.g. the STIX Patterning checker for indicators.
#pragma once

#include "accord/stix/reader.h"

namespace accord::cli {

using ObjectCheck = stix::ObjectCheck;

/// The checks of every layer linked into this binary.
ObjectCheck DefaultObjectCheck();

}  // namespace accord::cli
