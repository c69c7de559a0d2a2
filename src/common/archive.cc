#include "accord/common/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "accord/common/strings.h"

namespace accord::common {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

bool IsArchiveName(std::string_view path) {
  return EndsWith(path, ".tar.gz") || EndsWith(path, ".tgz") || EndsWith(path, ".tar") ||
         EndsWith(path, ".zip") || EndsWith(path, ".tar.xz") || EndsWith(path, ".tar.bz2");
}

absl::Status ForEachArchiveMember(const std::string& path, uint64_t max_member_bytes,
                                  const InputLimits& limits, const MemberFn& fn) {
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  if (!a) return absl::ResourceExhaustedError("libarchive: out of memory");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        Cat(path, ": not a readable archive (", archive_error_string(a.get()), ")"));
  }
  struct stat st {};
  uint64_t archive_bytes = ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  uint64_t total = 0;
  archive_entry* e = nullptr;
  while (true) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return absl::InvalidArgumentError(
          Cat(path, ": damaged archive (", archive_error_string(a.get()), ")"));
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    const char* name_c = archive_entry_pathname(e);
    std::string name = name_c ? name_c : "?";
    std::string data;
    char buf[1 << 16];
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        return absl::InvalidArgumentError(
            Cat(path, ":", name, ": damaged member (", archive_error_string(a.get()), ")"));
      }
      data.append(buf, static_cast<size_t>(n));
      total += static_cast<uint64_t>(n);
      if (data.size() > max_member_bytes) {
        return absl::ResourceExhaustedError(
            Cat(path, ":", name, ": member larger than ", max_member_bytes, " bytes"));
      }
      if (total > limits.max_decompressed_bytes) {
        return absl::ResourceExhaustedError(
            Cat(path, ": members inflate to more than ", limits.max_decompressed_bytes, " bytes"));
      }
      if (limits.max_ratio != 0 && archive_bytes != 0 && total > kRatioFloorBytes &&
          total / archive_bytes > limits.max_ratio) {
        return absl::ResourceExhaustedError(
            Cat(path, ": members inflate more than ", limits.max_ratio,
                " times the archive's size (a decompression bomb?)"));
      }
    }
    ACCORD_RETURN_IF_ERROR(fn(name, std::move(data)));
  }
  return absl::OkStatus();
}

}  // namespace accord::common
