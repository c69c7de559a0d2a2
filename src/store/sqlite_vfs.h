// A VFS shim over SQLite's default one for the store's writing connections: writes that follow
// one another in the database file or its WAL are gathered in a window of 64 KiB and reach the
// kernel as one pwrite, and sequential reads of the WAL (the checksum pass of a commit that
// rewrote frames, recovery, a checkpoint's run of consecutive frames) are served from a window
// read ahead.
//
// PERF: a 1M-indicator import made 268,743 pwrite and 138,759 pread calls of 24 to 4,120
// bytes (two per WAL frame, one per checkpointed page, two per frame re-read when a commit
// rewrites checksums), each several microseconds on this paravirtualised VM
// (docs/PERFORMANCE.md, "December 6, night").
//
// What keeps it safe:
// - A window holds bytes that no other connection can change while it is held: every
//   call other than xRead/xWrite (locks, shared-memory locks and barriers, sync, truncate,
//   file size, file controls, close) first writes the window back and drops it. A
//   connection's WAL is paired with its database file (they share the pager's name
//   pointer, sqlite3_filename_database), and the database file's lock and shared-memory
//   calls do the same for the WAL's window: nothing is buffered across the points where
//   another connection could read or write those bytes (a commit publishes its frames with
//   a barrier after its sync; a checkpoint sends SQLITE_FCNTL_CKPT_DONE before it records
//   its progress).
// - A write error surfaces from the call that writes the window back (an xSync at the
//   latest), as a failed commit, which SQLite rolls back.
// - Other files (temporary files, rollback journals) and a WAL whose database file was
//   not opened through the shim pass straight through.
//
// Internal to src/store.
#pragma once

#include <cstdint>

namespace accord::store::detail {

/// The shim's name for sqlite3_open_v2, registered on first use (never as the default VFS).
/// Null when SQLite has no default VFS to wrap (the caller then opens with the default).
const char* BatchedVfs();

/// What the shim has passed to the files beneath it since the process started (for tests).
struct BatchedVfsCounters {
  uint64_t writes = 0;         ///< write calls that reached a file (window write-backs included)
  uint64_t reads = 0;          ///< read calls that reached a file (window loads included)
  uint64_t window_writes = 0;  ///< xWrite calls taken into a window
  uint64_t window_reads = 0;   ///< xRead calls answered from a window
};
BatchedVfsCounters BatchedVfsStats();

}  // namespace accord::store::detail
