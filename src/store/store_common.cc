#include "store/store_common.h"

#include <charconv>
#include <filesystem>
#include <optional>

#include "accord/common/strings.h"
#include "accord/common/time.h"
#include "accord/stix/reader.h"

namespace accord::store::detail {

absl::Status MakeDataDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return absl::OkStatus();
  std::filesystem::create_directories(dir, ec);
  if (!ec) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return absl::FailedPreconditionError(
        common::Cat(dir, ": cannot create the data directory: ", ec.message()));
  }
  return absl::OkStatus();
}

std::string EncodeCursor(char kind, int64_t v) { return common::Cat(std::string(1, kind), v); }

absl::StatusOr<int64_t> DecodeCursor(std::string_view c, char kind) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(c.data() + (c.empty() ? 0 : 1), c.data() + c.size(), v);
  if (c.size() < 2 || c[0] != kind || ec != std::errc() || ptr != c.data() + c.size()) {
    return absl::InvalidArgumentError(common::Cat("invalid 'next' cursor '", c.substr(0, 40), "'"));
  }
  return v;
}

absl::StatusOr<stix::ObjectRecord> RecordOf(const std::string& json, std::string_view what) {
  std::optional<stix::ObjectRecord> rec;
  std::string problems;
  stix::ReaderOptions ro;
  ro.source_name = std::string(what);
  ACCORD_RETURN_IF_ERROR(stix::ReadBuffer(
                             json, ro,
                             [&](stix::ObjectRecord&& r) {
                               rec = std::move(r);
                               return absl::OkStatus();
                             },
                             [&](stix::Problem&& p) {
                               if (!p.warning) problems += p.ToString();
                             })
                             .status());
  if (!rec || !problems.empty()) {
    return absl::DataLossError(common::Cat(what, ": cannot be read back: ", problems));
  }
  return std::move(*rec);
}

absl::Status RefusedConflict(const stix::ObjectRecord& r) {
  return absl::AlreadyExistsError(
      common::Cat(r.id, " (modified ", common::FormatTimestamp(r.modified),
                  "): this version exists with different content; all or nothing: nothing was "
                  "stored"));
}

void NoteConflict(const stix::ObjectRecord& r, uint64_t index, ImportResult* result) {
  ++result->conflicts;
  if (result->conflicting.size() < ImportResult::kMaxListedConflicts) {
    result->conflicting.push_back({r.id, r.modified, index});
  }
}

}  // namespace accord::store::detail
