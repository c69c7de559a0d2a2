// The object log: an append-only file holding the JSON of every stored object version, one
// per line (so the file is itself JSON lines). SQLite rows point into it by (offset, length).
//
// PERF: keeping the JSON out of SQLite's B-tree means it is written once, sequentially,
// instead of twice (WAL, then the checkpoint's copy) through 4 KiB pages; a 1M-indicator
// import went from 77k to 133k objects/s (docs/PERFORMANCE.md).
//
// Crash safety: the committed end of the log is stored in SQLite, in the same transaction as
// the rows that point into it, and the log is fdatasync'ed before that transaction commits.
// Bytes past the committed end (an import that was killed or rolled back, or a write that
// failed on a full disk) are never read, and are cut off when a command opens the store for
// writing (TrimTail, under the write lock) and by the next writer (Begin).
//
// Internal to the SQLite backend. Reads are thread-safe; writes are for one writer at a time,
// which the store guarantees by holding its write lock (and SQLite's) around them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accord/common/status.h"

namespace accord::store::detail {

class ObjectLog {
 public:
  /// Opens (for `write`, creates) the log at `path`.
  static absl::StatusOr<std::unique_ptr<ObjectLog>> Open(const std::string& path, bool write);
  ~ObjectLog();
  ObjectLog(const ObjectLog&) = delete;
  ObjectLog& operator=(const ObjectLog&) = delete;

  /// One range to read: `len` bytes at `off` into `*out`.
  struct Range {
    int64_t off = 0;
    int64_t len = 0;
    std::string* out = nullptr;
  };
  /// Reads the ranges; neighbouring ranges are read with one system call.
  absl::Status Read(const std::vector<Range>& ranges) const;

  /// Starts a write session at `committed_end` (as stored by the last committed transaction):
  /// anything after it is discarded.
  absl::Status Begin(int64_t committed_end);
  /// Cuts off bytes past `committed_end` (an uncommitted tail: a failed or killed write) and
  /// returns how many were cut. Never cuts below `committed_end`; a file shorter than that is
  /// left alone (reads and Begin report it). REQUIRES: the store's write lock, as for Begin:
  /// the tail of a write in progress is not a dead tail.
  absl::StatusOr<int64_t> TrimTail(int64_t committed_end);
  /// Removes the bytes of `ranges` (offset, length) from disk for good (retention): the file
  /// keeps its size and every other offset, the ranges become holes (zeros where the file
  /// system cannot punch holes), and the file is synced. REQUIRES: no committed row points
  /// into the ranges any more, and the store's write lock.
  absl::Status Erase(const std::vector<std::pair<int64_t, int64_t>>& ranges);
  /// Appends `json` and a newline; returns the offset of `json`.
  absl::StatusOr<int64_t> Append(std::string_view json);
  /// For the writer: reads `r`, which may lie in what it appended and has not written yet.
  absl::Status ReadAppended(const Range& r);
  /// Writes out everything appended and makes it durable; returns the new end.
  absl::StatusOr<int64_t> Sync();

  const std::string& path() const { return path_; }

 private:
  ObjectLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status Flush();
  absl::Status WriteOut(std::string_view data);
  absl::Status Error(std::string_view what, int err) const;

  std::string path_;
  int fd_ = -1;
  // Write session.
  std::string buf_;          // appended, not yet written
  int64_t written_end_ = 0;  // file offset where buf_ starts
  int64_t kicked_ = 0;       // writeback requested up to here
};

}  // namespace accord::store::detail
