// Helpers shared by the requests layer's object readers and writers (request.cc, contact.cc).
#pragma once

#include <string>
#include <string_view>

#include "accord/common/time.h"
#include "accord/common/uuid.h"

namespace accord::requests::detail {

// A timestamp as written: milliseconds (what STIX asks for at least), or microseconds when
// the time has them, so that what was read writes back the same.
inline std::string Stamp(common::Micros t) {
  return t % 1000 == 0 ? common::FormatTimestampMillis(t) : common::FormatTimestamp(t);
}

// Whether `id` is "<type>--<uuid>".
inline bool IsIdOf(std::string_view id, std::string_view type) {
  return id.size() > type.size() + 2 && id.substr(0, type.size()) == type &&
         id.substr(type.size(), 2) == "--" && common::IsUuid(id.substr(type.size() + 2));
}

}  // namespace accord::requests::detail
