#include "store/sqlite_memory.h"

#include <sqlite3.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "accord/common/io.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ACCORD_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define ACCORD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ACCORD_POISON(p, n) ((void)(p), (void)(n))
#define ACCORD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace accord::store::detail {

BlockArena::BlockArena(size_t block_bytes, size_t blocks)
    : block_((block_bytes + 15) / 16 * 16), blocks_(blocks) {
  if (block_ == 0 || blocks_ == 0) return;
  // One huge page of slack, so that the blocks start on a 2 MiB boundary: the first fault
  // then maps a whole huge page.
  constexpr size_t kHuge = size_t{2} << 20;
  map_bytes_ = block_ * blocks_ + kHuge;
  void* m = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    map_bytes_ = 0;
    return;
  }
  map_ = m;
  const auto base = reinterpret_cast<uintptr_t>(m);
  begin_ = static_cast<char*>(m) + (kHuge - base % kHuge) % kHuge;
  end_ = begin_ + block_ * blocks_;
  common::AdviseHugePages(begin_, block_ * blocks_);
  ACCORD_POISON(begin_, block_ * blocks_);
}

BlockArena::~BlockArena() {
  if (map_ != nullptr) {
    ACCORD_UNPOISON(begin_, block_ * blocks_);
    ::munmap(map_, map_bytes_);
  }
}

void* BlockArena::Allocate() {
  void* p = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (free_ != nullptr) {
      // The link was written while the block was free (and unpoisoned for that moment).
      FreeBlock* b = free_;
      ACCORD_UNPOISON(b, sizeof(FreeBlock));
      free_ = b->next;
      p = b;
    } else if (next_ < blocks_) {
      p = begin_ + next_ * block_;
      ++next_;
    } else {
      return nullptr;
    }
    ++in_use_;
  }
  ACCORD_UNPOISON(p, block_);
  return p;
}

void BlockArena::Free(void* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> l(mu_);
  auto* b = static_cast<FreeBlock*>(p);
  b->next = free_;
  free_ = b;
  --in_use_;
  ACCORD_POISON(p, block_);
}

size_t BlockArena::blocks_touched() const {
  std::lock_guard<std::mutex> l(mu_);
  return next_;
}

size_t BlockArena::blocks_in_use() const {
  std::lock_guard<std::mutex> l(mu_);
  return in_use_;
}

namespace {

// SQLite's default page size, which new stores keep (16 KiB pages were measured slower).
constexpr size_t kPageBytes = 4096;
// Room for the page-cache pages of several connections at the writer's cache_size (64 MiB
// each): reserved address space only, committed as blocks are touched.
constexpr size_t kArenaBytes = size_t{256} << 20;

sqlite3_mem_methods g_default{};  // SQLite's own methods, for everything else
BlockArena* g_arena = nullptr;    // set once, before SQLite initialises; never freed

// A request the arena takes: from a 4 KiB scratch page to a page-cache page with its headers.
// The upper bound is the block size, which is also what PageRoundup makes of such a request.
bool IsPageSized(int n) {
  return n > 0 && static_cast<size_t>(n) >= kPageBytes &&
         static_cast<size_t>(n) <= g_arena->block_bytes();
}

void* PageMalloc(int n) {
  if (IsPageSized(n)) {
    if (void* p = g_arena->Allocate()) return p;
  }
  return g_default.xMalloc(n);
}

void PageFree(void* p) {
  if (g_arena->Owns(p)) {
    g_arena->Free(p);
  } else {
    g_default.xFree(p);
  }
}

void* PageRealloc(void* p, int n) {
  if (!g_arena->Owns(p)) return g_default.xRealloc(p, n);
  const auto block = static_cast<int>(g_arena->block_bytes());
  if (IsPageSized(n)) return p;  // the block holds any page-sized request
  void* q = PageMalloc(n);
  if (q == nullptr) return nullptr;  // `p` stays valid, as realloc's contract says
  std::memcpy(q, p, static_cast<size_t>(std::min(block, n)));
  g_arena->Free(p);
  return q;
}

int PageSize(void* p) {
  if (g_arena->Owns(p)) return static_cast<int>(g_arena->block_bytes());
  return g_default.xSize(p);
}

int PageRoundup(int n) {
  if (IsPageSized(n)) return static_cast<int>(g_arena->block_bytes());
  return g_default.xRoundup(n);
}

int PageInit(void* app) { return g_default.xInit(app); }
void PageShutdown(void* app) { g_default.xShutdown(app); }

}  // namespace

bool InstallSqlitePageArena() {
  static const bool installed = [] {
    // The size of a page-cache page with its headers (what SQLITE_CONFIG_PAGECACHE's slots
    // hold); the balance of a B-tree also borrows page-sized scratch blocks.
    int header = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK || header <= 0) {
      return false;
    }
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &g_default) != SQLITE_OK ||
        g_default.xMalloc == nullptr) {
      return false;
    }
    const size_t page = kPageBytes + static_cast<size_t>(header);
    auto* arena = new BlockArena(page, kArenaBytes / page);
    if (!arena->reserved()) {
      delete arena;
      return false;
    }
    g_arena = arena;
    const sqlite3_mem_methods mine{PageMalloc,  PageFree, PageRealloc,  PageSize,
                                   PageRoundup, PageInit, PageShutdown, nullptr};
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mine) != SQLITE_OK) {  // SQLite initialised
      g_arena = nullptr;
      delete arena;
      return false;
    }
    return true;
  }();
  return installed;
}

const BlockArena* SqlitePageArena() { return g_arena; }

}  // namespace accord::store::detail
