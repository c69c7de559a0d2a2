// Random (version 4) UUIDs, RFC 4122.
#pragma once

#include <string>

namespace accord::common {

/// A new random UUID in lower-case 8-4-4-4-12 form, from the OS's CSPRNG.
std::string NewUuid4();

/// True for a well-formed RFC 4122 UUID string (any version, lower or upper hex).
bool IsUuid(std::string_view s);

}  // namespace accord::common
