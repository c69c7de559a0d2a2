// Archives (.tar, .tar.gz, .tgz, .zip) read member by member through libarchive, as most
// feeds and ../shared/data ship them: `accord import feed.tar.gz`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "accord/common/io.h"
#include "accord/common/status.h"

namespace accord::common {

/// True when `path`'s name says it is an archive Accord opens member by member.
bool IsArchiveName(std::string_view path);

/// Called with each regular member: its path inside the archive and its whole content.
/// Returning an error stops the walk, and ForEachArchiveMember returns that error.
using MemberFn = std::function<absl::Status(const std::string& member, std::string&& data)>;

/// Reads `path` member by member. A member larger than `max_member_bytes` fails the walk
/// (ResourceExhausted, naming it), as does content past `limits` (all members together, and
/// the ratio of inflated to archive bytes): archives are decompression-bomb bounded like .gz.
absl::Status ForEachArchiveMember(const std::string& path, uint64_t max_member_bytes,
                                  const InputLimits& limits, const MemberFn& fn);

}  // namespace accord::common
