// The object log (object_log.h): positioned I/O only (pread/pwrite at explicit offsets), so
// the file position is shared by nobody, and readers need no lock while the writer appends
// past the committed end they never read.
#include "store/object_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "accord/common/strings.h"

namespace accord::store::detail {

namespace {

constexpr size_t kWriteChunk = 1 << 20;        // appends are written in 1 MiB pieces
constexpr int64_t kWritebackEvery = 16 << 20;  // and handed to the disk every 16 MiB
constexpr int64_t kMaxReadSpan = 4 << 20;      // neighbouring reads merged up to this size

}  // namespace

// Mode 0600: the log holds every stored object, whatever its markings, so like the data
// directory (0700) it is private to the store's owner.
absl::StatusOr<std::unique_ptr<ObjectLog>> ObjectLog::Open(const std::string& path, bool write) {
  int fd = ::open(path.c_str(), (write ? (O_RDWR | O_CREAT) : O_RDONLY) | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (!write && err == ENOENT) {
      // A read-only store that has never stored an object; every read will fail clearly.
      return std::unique_ptr<ObjectLog>(new ObjectLog(path, -1));
    }
    return absl::FailedPreconditionError(
        common::Cat(path, ": cannot open the object log: ", std::strerror(err)));
  }
  return std::unique_ptr<ObjectLog>(new ObjectLog(path, fd));
}

ObjectLog::~ObjectLog() {
  if (fd_ >= 0) ::close(fd_);
}

// A full disk or quota is ResourceExhausted, so callers can tell it from a fault (Internal).
absl::Status ObjectLog::Error(std::string_view what, int err) const {
  std::string msg = common::Cat(path_, ": ", what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError("disk full: " + msg);
  return absl::InternalError(msg);
}

// PERF: rows read in storage order point at objects that lie back to back in the log, so runs
// of neighbours are read with one pread of up to kMaxReadSpan and then copied out; a range
// alone is read straight into its output.
// A read that ends early means the index points past the file: DataLoss, never a short value.
absl::Status ObjectLog::Read(const std::vector<Range>& ranges) const {
  size_t i = 0;
  std::string span;
  while (i < ranges.size()) {
    // Ranges i..j-1 lie back to back in the file (one newline apart): one pread for all.
    size_t j = i + 1;
    int64_t end = ranges[i].off + ranges[i].len;
    while (j < ranges.size() && ranges[j].off == end + 1 &&
           ranges[j].off + ranges[j].len - ranges[i].off <= kMaxReadSpan) {
      end = ranges[j].off + ranges[j].len;
      ++j;
    }
    int64_t start = ranges[i].off;
    if (start < 0 || end < start) {
      return absl::DataLossError(common::Cat(path_, ": invalid object location ", start));
    }
    size_t n = static_cast<size_t>(end - start);
    std::string* dst = (j == i + 1) ? ranges[i].out : &span;
    dst->resize(n);
    size_t got = 0;
    // No file (a read-only store that never stored an object) reads as an empty file.
    while (got < n) {
      ssize_t r = fd_ < 0 ? 0
                          : ::pread(fd_, dst->data() + got, n - got,
                                    static_cast<off_t>(start + static_cast<int64_t>(got)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Error("read", errno);
      if (r == 0) {
        return absl::DataLossError(common::Cat(
            path_, ": the object log ends before offset ", end,
            ", which the store's index points to (was the file truncated or replaced?)"));
      }
      got += static_cast<size_t>(r);
    }
    if (j > i + 1) {
      for (size_t k = i; k < j; ++k) {
        ranges[k].out->assign(span, static_cast<size_t>(ranges[k].off - start),
                              static_cast<size_t>(ranges[k].len));
      }
    }
    i = j;
  }
  return absl::OkStatus();
}

// REQUIRES: the store's write lock (one writer). A file shorter than the committed end was
// damaged outside the store: refuse to write rather than append at a wrong offset.
absl::Status ObjectLog::Begin(int64_t committed_end) {
  if (fd_ < 0) return absl::FailedPreconditionError(common::Cat(path_, ": opened read-only"));
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Error("stat", errno);
  if (st.st_size < committed_end) {
    return absl::DataLossError(common::Cat(path_, ": the object log has ", st.st_size,
                                           " bytes but the store committed ", committed_end,
                                           " (was the file truncated or replaced?)"));
  }
  // Bytes of an import that did not commit.
  if (st.st_size > committed_end && ::ftruncate(fd_, committed_end) != 0) {
    return Error("truncate", errno);
  }
  buf_.clear();
  written_end_ = committed_end;
  kicked_ = committed_end;
  return absl::OkStatus();
}

// Truncation shortens the file only past committed_end, which no committed row points into, so
// a crash during it loses nothing. fdatasync makes the new size durable: the space is given
// back to a full disk now.
absl::StatusOr<int64_t> ObjectLog::TrimTail(int64_t committed_end) {
  if (fd_ < 0) return int64_t{0};
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Error("stat", errno);
  if (committed_end < 0 || st.st_size <= committed_end) return int64_t{0};
  if (::ftruncate(fd_, committed_end) != 0) return Error("truncate", errno);
  if (::fdatasync(fd_) != 0) return Error("sync", errno);
  return static_cast<int64_t>(st.st_size) - committed_end;
}

absl::Status ObjectLog::Erase(const std::vector<std::pair<int64_t, int64_t>>& ranges) {
  if (fd_ < 0) return absl::FailedPreconditionError(common::Cat(path_, ": not open for writing"));
  for (const auto& [off, len] : ranges) {
    if (off < 0 || len <= 0) continue;
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0) continue;
    if (errno != EOPNOTSUPP && errno != ENOSYS) return Error("punch hole", errno);
    // No holes here: the bytes are overwritten instead (gone, though the space stays used).
    const std::string zeros(static_cast<size_t>(std::min<int64_t>(len, 1 << 20)), '\0');
    for (int64_t done = 0; done < len;) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(len - done, 1 << 20));
      ssize_t w = ::pwrite(fd_, zeros.data(), n, static_cast<off_t>(off + done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error("overwrite", errno);
      done += w;
    }
  }
  if (::fdatasync(fd_) != 0) return Error("sync", errno);
  return absl::OkStatus();
}

// The returned offset is where `json` will be once written. Nothing is durable before Sync(),
// and no committed row may point here before it returned (crash safety, object_log.h).
absl::StatusOr<int64_t> ObjectLog::Append(std::string_view json) {
  if (json.size() >= kWriteChunk) {
    // PERF: a large object (a MISP event's report lists every object: 7 MB for 150,000
    // attributes) is written from where it is, after what waits in buf_, rather than copied
    // into a buffer grown to hold it (fresh memory, on the store's writer thread). Its newline
    // waits in buf_: the object itself is wholly in the file (ReadAppended relies on it).
    ACCORD_RETURN_IF_ERROR(Flush());
    const int64_t off = written_end_;
    ACCORD_RETURN_IF_ERROR(WriteOut(json));
    buf_.push_back('\n');
    return off;
  }
  int64_t off = written_end_ + static_cast<int64_t>(buf_.size());
  buf_.append(json);
  buf_.push_back('\n');
  if (buf_.size() >= kWriteChunk) ACCORD_RETURN_IF_ERROR(Flush());
  return off;
}

// Writes all of buf_ at written_end_. Since buf_ is always written whole, an appended object
// is either entirely in the file or entirely in buf_ (ReadAppended relies on it).
absl::Status ObjectLog::Flush() {
  ACCORD_RETURN_IF_ERROR(WriteOut(buf_));
  buf_.clear();
  return absl::OkStatus();
}

// Writes `data` at written_end_, which moves past it.
absl::Status ObjectLog::WriteOut(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::pwrite(fd_, data.data() + done, data.size() - done,
                         static_cast<off_t>(written_end_ + static_cast<int64_t>(done)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error("write", errno);
    done += static_cast<size_t>(r);
  }
  written_end_ += static_cast<int64_t>(data.size());
  // PERF: start writeback early so that the fdatasync at commit has little left to do.
  if (written_end_ - kicked_ >= kWritebackEvery) {
    (void)::sync_file_range(fd_, kicked_, written_end_ - kicked_, SYNC_FILE_RANGE_WRITE);
    kicked_ = written_end_;
  }
  return absl::OkStatus();
}

// The importer compares a re-sent version with the stored one (sqlite_store.cc), which may
// have been appended earlier in the same session and not be written out yet.
absl::Status ObjectLog::ReadAppended(const Range& r) {
  if (r.off >= written_end_ && r.off + r.len <= written_end_ + static_cast<int64_t>(buf_.size())) {
    r.out->assign(buf_, static_cast<size_t>(r.off - written_end_), static_cast<size_t>(r.len));
    return absl::OkStatus();
  }
  return Read({r});
}

// fdatasync suffices: it also persists the new file size, which reading the data back needs.
// The caller stores the returned end in the transaction that commits the rows.
absl::StatusOr<int64_t> ObjectLog::Sync() {
  ACCORD_RETURN_IF_ERROR(Flush());
  if (::fdatasync(fd_) != 0) return Error("sync", errno);
  return written_end_;
}

}  // namespace accord::store::detail
