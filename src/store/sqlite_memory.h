// Where SQLite's page-cache pages live: one region reserved up front and advised for huge
// pages, whose blocks are touched only when SQLite first takes them.
//
// PERF: a store writer's page cache (cache_size, 64 MiB) fills through an import, and each page
// SQLite malloc'd for it was fresh memory: tcmalloc carving a new span and a page fault per 4
// KiB, each ~5-10 us on this paravirtualised VM, 9% of the writer's samples in the
// 150,000-attribute MISP import (docs/PERFORMANCE.md, "December 7, day"). From the region, one
// fault maps 2 MiB. SQLite's own pool (SQLITE_CONFIG_PAGECACHE) was tried first and reverted:
// it writes a free-list link into every slot when SQLite initialises, so the whole pool became
// resident in every process that opens a store.
//
// Internal to src/store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace accord::store::detail {

/// Fixed-size blocks from one reserved, huge-page-advised region. A block is touched first by
/// its user; a freed block is reused before an untouched one (last freed, first reused). The
/// region is never returned to the system. Thread-safe.
class BlockArena {
 public:
  /// Reserves room for `blocks` blocks of `block_bytes` each (rounded up to 16); nothing is
  /// committed. A failed reservation leaves an arena that owns nothing and allocates nothing.
  BlockArena(size_t block_bytes, size_t blocks);
  ~BlockArena();
  BlockArena(const BlockArena&) = delete;
  BlockArena& operator=(const BlockArena&) = delete;

  /// A block of block_bytes(), or null when every block is in use.
  void* Allocate();
  /// Returns a block that Allocate gave.
  void Free(void* p);
  /// Whether `p` points into a block of this arena.
  bool Owns(const void* p) const {
    auto a = reinterpret_cast<uintptr_t>(p);
    return a >= reinterpret_cast<uintptr_t>(begin_) && a < reinterpret_cast<uintptr_t>(end_);
  }
  size_t block_bytes() const { return block_; }
  /// Whether the region was reserved (otherwise the arena owns and allocates nothing).
  bool reserved() const { return end_ > begin_; }
  /// Blocks handed out at least once since construction (the touched part of the region).
  size_t blocks_touched() const;
  /// Blocks in use now.
  size_t blocks_in_use() const;

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  size_t block_ = 0, blocks_ = 0;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  char* begin_ = nullptr;
  char* end_ = nullptr;
  mutable std::mutex mu_;
  FreeBlock* free_ = nullptr;  // guarded by mu_
  size_t next_ = 0;            // guarded by mu_: the first block never handed out
  size_t in_use_ = 0;          // guarded by mu_
};

/// Installs memory methods in SQLite (SQLITE_CONFIG_MALLOC) that take blocks of the size of a
/// page-cache page of 4 KiB pages from a process-wide BlockArena, and leave every other
/// allocation, and page blocks once the arena is full, to SQLite's default methods. Only
/// effective before SQLite initialises; a later call changes nothing. Returns whether the
/// methods are in place after the call.
bool InstallSqlitePageArena();

/// The process-wide arena InstallSqlitePageArena installed, or null (for tests).
const BlockArena* SqlitePageArena();

}  // namespace accord::store::detail
