#include "store/sqlite_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>

#include "absl/container/flat_hash_map.h"

namespace accord::store::detail {
namespace {

// 64 KiB: SQLite's unix VFS takes at most 128 KiB - 1 bytes in one write (seekAndWriteFd masks
// the length with 0x1ffff) and asserts the same of reads.
constexpr sqlite3_int64 kWindowBytes = sqlite3_int64{1} << 16;
// A WAL frame's header, between one frame's page and the next's.
constexpr sqlite3_int64 kFrameHeaderBytes = 24;

std::atomic<uint64_t> g_writes{0}, g_reads{0}, g_window_writes{0}, g_window_reads{0};

sqlite3_vfs* g_real = nullptr;  // the VFS beneath (set once, before the shim is registered)

// A range of the file held in memory: [off, off + len) is known (read from the file, or
// written through the shim), [off + dirty_lo, off + dirty_hi) still has to be written back.
struct Window {
  std::unique_ptr<char[]> buf;
  sqlite3_int64 off = 0;
  sqlite3_int64 len = 0;  // 0: no window
  sqlite3_int64 dirty_lo = 0, dirty_hi = 0;
};

struct ShimFile {
  sqlite3_file base;  // first: SQLite sees a ShimFile as a sqlite3_file
  sqlite3_file* real = nullptr;
  enum Kind { kOther, kDb, kWal } kind = kOther;
  Window w;
  sqlite3_int64 last_read_end = -1;
  ShimFile* peer = nullptr;    // kDb: its connection's WAL; kWal: its database file
  const char* name = nullptr;  // kDb: the pager's name pointer, the key in the registry
};

constexpr size_t kRealOffset = (sizeof(ShimFile) + 15) / 16 * 16;

std::mutex g_registry_mu;
absl::flat_hash_map<const char*, ShimFile*>& Registry() {
  static auto* m = new absl::flat_hash_map<const char*, ShimFile*>();
  return *m;
}

ShimFile* Shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }

// Writes the window's dirty range back.
int WriteBack(ShimFile* f) {
  Window& w = f->w;
  if (w.dirty_hi <= w.dirty_lo) return SQLITE_OK;
  g_writes.fetch_add(1, std::memory_order_relaxed);
  int rc = f->real->pMethods->xWrite(f->real, w.buf.get() + w.dirty_lo,
                                     static_cast<int>(w.dirty_hi - w.dirty_lo), w.off + w.dirty_lo);
  w.dirty_lo = w.dirty_hi = 0;
  return rc;
}

// Writes the window back and forgets it.
int Drop(ShimFile* f) {
  int rc = WriteBack(f);
  f->w.len = 0;
  return rc;
}

// Before any call but xRead/xWrite: nothing stays buffered across it, for this file and, for
// a database file, its WAL.
int Settle(ShimFile* f) {
  int rc = Drop(f);
  if (f->kind == ShimFile::kDb && f->peer != nullptr) {
    int rc2 = Drop(f->peer);
    if (rc == SQLITE_OK) rc = rc2;
  }
  return rc;
}

bool EnsureBuffer(Window* w) {
  if (!w->buf) w->buf.reset(new (std::nothrow) char[kWindowBytes]);
  return w->buf != nullptr;
}

int ShimWrite(sqlite3_file* file, const void* data, int n, sqlite3_int64 off) {
  ShimFile* f = Shim(file);
  if (f->kind == ShimFile::kOther) return f->real->pMethods->xWrite(f->real, data, n, off);
  Window& w = f->w;
  const sqlite3_int64 end = off + n;
  if (w.len > 0 && off >= w.off && off <= w.off + w.len && end <= w.off + kWindowBytes) {
    const sqlite3_int64 rel = off - w.off;
    std::memcpy(w.buf.get() + rel, data, static_cast<size_t>(n));
    w.len = std::max(w.len, rel + n);
    if (w.dirty_hi <= w.dirty_lo) {
      w.dirty_lo = rel;
      w.dirty_hi = rel + n;
    } else {
      w.dirty_lo = std::min(w.dirty_lo, rel);
      w.dirty_hi = std::max(w.dirty_hi, rel + n);
    }
    g_window_writes.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  int rc = Drop(f);
  if (rc != SQLITE_OK) return rc;
  if (n >= kWindowBytes / 2 || !EnsureBuffer(&w)) {
    g_writes.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, data, n, off);
  }
  std::memcpy(w.buf.get(), data, static_cast<size_t>(n));
  w.off = off;
  w.len = n;
  w.dirty_lo = 0;
  w.dirty_hi = n;
  g_window_writes.fetch_add(1, std::memory_order_relaxed);
  return SQLITE_OK;
}

int ShimRead(sqlite3_file* file, void* data, int n, sqlite3_int64 off) {
  ShimFile* f = Shim(file);
  if (f->kind == ShimFile::kOther) return f->real->pMethods->xRead(f->real, data, n, off);
  Window& w = f->w;
  const sqlite3_int64 end = off + n;
  // Sequential: this read starts where the last one ended, or one WAL frame header (24
  // bytes) after it, as a checkpoint reads the pages of consecutive frames.
  const bool sequential = f->last_read_end >= 0 && off >= f->last_read_end &&
                          off - f->last_read_end <= kFrameHeaderBytes;
  f->last_read_end = end;
  if (w.len > 0 && off >= w.off && end <= w.off + w.len) {
    std::memcpy(data, w.buf.get() + (off - w.off), static_cast<size_t>(n));
    g_window_reads.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  // Read ahead only where the reads run on through the WAL (the checksum pass, recovery, a
  // checkpoint's run of consecutive frames): a cache miss's read of a single frame, and the
  // first read of any run, go straight to the file.
  const bool read_ahead = f->kind == ShimFile::kWal && sequential && n < kWindowBytes / 4;
  // The window goes before a read ahead replaces it, or when the read is partly inside it.
  if (read_ahead || (w.len > 0 && off < w.off + w.len && end > w.off)) {
    int rc = Drop(f);
    if (rc != SQLITE_OK) return rc;
  }
  if (read_ahead) {
    sqlite3_int64 size = 0;
    int rc = f->real->pMethods->xFileSize(f->real, &size);
    if (rc != SQLITE_OK) return rc;
    const sqlite3_int64 load = std::min(kWindowBytes, size - off);
    if (load >= n && EnsureBuffer(&w)) {
      g_reads.fetch_add(1, std::memory_order_relaxed);
      rc = f->real->pMethods->xRead(f->real, w.buf.get(), static_cast<int>(load), off);
      if (rc == SQLITE_OK) {
        w.off = off;
        w.len = load;
        w.dirty_lo = w.dirty_hi = 0;
        std::memcpy(data, w.buf.get(), static_cast<size_t>(n));
        return SQLITE_OK;
      }
      // Short (the file shrank since its size was read): no window; the read itself says how.
      if (rc != SQLITE_IOERR_SHORT_READ) return rc;
    }
  }
  g_reads.fetch_add(1, std::memory_order_relaxed);
  return f->real->pMethods->xRead(f->real, data, n, off);
}

void Unregister(ShimFile* f) {
  std::lock_guard<std::mutex> l(g_registry_mu);
  if (f->kind == ShimFile::kDb) {
    auto it = Registry().find(f->name);
    if (it != Registry().end() && it->second == f) Registry().erase(it);
  }
  if (f->peer != nullptr) f->peer->peer = nullptr;
  if (f->kind == ShimFile::kWal && f->peer == nullptr) f->kind = ShimFile::kOther;
  f->peer = nullptr;
}

int ShimClose(sqlite3_file* file) {
  ShimFile* f = Shim(file);
  int rc = Settle(f);
  Unregister(f);
  int rc2 = f->real->pMethods != nullptr ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  f->~ShimFile();
  file->pMethods = nullptr;
  return rc != SQLITE_OK ? rc : rc2;
}

// The calls that pass through once nothing is buffered: the real file's method M.
template <auto M, typename... A>
int Settled(sqlite3_file* file, A... args) {
  ShimFile* f = Shim(file);
  int rc = Settle(f);
  return rc != SQLITE_OK ? rc : (f->real->pMethods->*M)(f->real, args...);
}
// The same for calls that release something: made even when the write-back failed, whose
// error is returned (and surfaces again at the next call that writes).
template <auto M, typename... A>
int SettledRelease(sqlite3_file* file, A... args) {
  ShimFile* f = Shim(file);
  int rc = Settle(f);
  int rc2 = (f->real->pMethods->*M)(f->real, args...);
  return rc != SQLITE_OK ? rc : rc2;
}
int ShimFileControl(sqlite3_file* file, int op, void* arg) {
  ShimFile* f = Shim(file);
  int rc = Settle(f);
  if (rc != SQLITE_OK) return rc;
  if (op == SQLITE_FCNTL_VFSNAME) {
    int rc2 = f->real->pMethods->xFileControl(f->real, op, arg);
    if (rc2 == SQLITE_OK) {
      char** out = static_cast<char**>(arg);
      char* named = sqlite3_mprintf("accord-batched/%z", *out);
      if (named != nullptr) *out = named;
    }
    return rc2;
  }
  return f->real->pMethods->xFileControl(f->real, op, arg);
}
int ShimSectorSize(sqlite3_file* file) {
  ShimFile* f = Shim(file);
  return f->real->pMethods->xSectorSize(f->real);
}
int ShimDeviceCharacteristics(sqlite3_file* file) {
  ShimFile* f = Shim(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}
int ShimShmLock(sqlite3_file* file, int offset, int n, int flags) {
  ShimFile* f = Shim(file);
  int rc = Settle(f);
  if (rc != SQLITE_OK && (flags & SQLITE_SHM_LOCK) != 0) return rc;
  int rc2 = f->real->pMethods->xShmLock(f->real, offset, n, flags);
  return rc != SQLITE_OK ? rc : rc2;
}
void ShimShmBarrier(sqlite3_file* file) {
  ShimFile* f = Shim(file);
  // A barrier has no way to report an error: a failed write-back leaves the bytes in the
  // window's place unwritten, and the sync that follows every commit reports it. With
  // synchronous=FULL (every writing connection of the store) the commit's sync came first.
  (void)Settle(f);
  f->real->pMethods->xShmBarrier(f->real);
}

const sqlite3_io_methods kMethods = {
    3,
    ShimClose,
    ShimRead,
    ShimWrite,
    Settled<&sqlite3_io_methods::xTruncate>,
    Settled<&sqlite3_io_methods::xSync>,
    Settled<&sqlite3_io_methods::xFileSize>,
    Settled<&sqlite3_io_methods::xLock>,
    SettledRelease<&sqlite3_io_methods::xUnlock>,
    Settled<&sqlite3_io_methods::xCheckReservedLock>,
    ShimFileControl,
    ShimSectorSize,
    ShimDeviceCharacteristics,
    Settled<&sqlite3_io_methods::xShmMap>,
    ShimShmLock,
    ShimShmBarrier,
    SettledRelease<&sqlite3_io_methods::xShmUnmap>,
    Settled<&sqlite3_io_methods::xFetch>,
    Settled<&sqlite3_io_methods::xUnfetch>,
};

int ShimOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  ShimFile* f = new (file) ShimFile();
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  std::memset(f->real, 0, static_cast<size_t>(g_real->szOsFile));
  int rc = g_real->xOpen(g_real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) {
    f->~ShimFile();
    file->pMethods = nullptr;
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  // The real file's methods must offer what ours promise (version 3: shared memory, fetch).
  if (f->real->pMethods->iVersion >= 3 && name != nullptr) {
    std::lock_guard<std::mutex> l(g_registry_mu);
    if ((flags & SQLITE_OPEN_MAIN_DB) != 0) {
      f->kind = ShimFile::kDb;
      f->name = name;
      Registry()[name] = f;
    } else if ((flags & SQLITE_OPEN_WAL) != 0) {
      auto it = Registry().find(sqlite3_filename_database(name));
      if (it != Registry().end() && it->second->peer == nullptr) {
        f->kind = ShimFile::kWal;
        f->peer = it->second;
        it->second->peer = f;
      }
    }
  }
  file->pMethods = &kMethods;
  return SQLITE_OK;
}

// The VFS-level calls go to the real VFS as themselves.
int ShimDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_real->xDelete(g_real, name, sync_dir);
}
int ShimAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int ShimFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* ShimDlOpen(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void ShimDlError(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*ShimDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_real->xDlSym(g_real, h, sym);
}
void ShimDlClose(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int ShimRandomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int ShimSleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int ShimCurrentTime(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int ShimGetLastError(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError(g_real, n, out);
}
int ShimCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

sqlite3_vfs g_shim;

}  // namespace

const char* BatchedVfs() {
  static const char* name = []() -> const char* {
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    if (real == nullptr || real->iVersion < 2 || real->xCurrentTimeInt64 == nullptr) {
      return nullptr;
    }
    g_real = real;
    g_shim.iVersion = 2;
    g_shim.szOsFile = static_cast<int>(kRealOffset) + real->szOsFile;
    g_shim.mxPathname = real->mxPathname;
    g_shim.zName = "accord-batched";
    g_shim.pAppData = nullptr;
    g_shim.xOpen = ShimOpen;
    g_shim.xDelete = ShimDelete;
    g_shim.xAccess = ShimAccess;
    g_shim.xFullPathname = ShimFullPathname;
    g_shim.xDlOpen = ShimDlOpen;
    g_shim.xDlError = ShimDlError;
    g_shim.xDlSym = ShimDlSym;
    g_shim.xDlClose = ShimDlClose;
    g_shim.xRandomness = ShimRandomness;
    g_shim.xSleep = ShimSleep;
    g_shim.xCurrentTime = ShimCurrentTime;
    g_shim.xGetLastError = ShimGetLastError;
    g_shim.xCurrentTimeInt64 = ShimCurrentTimeInt64;
    if (sqlite3_vfs_register(&g_shim, 0) != SQLITE_OK) return nullptr;
    return g_shim.zName;
  }();
  return name;
}

BatchedVfsCounters BatchedVfsStats() {
  BatchedVfsCounters c;
  c.writes = g_writes.load(std::memory_order_relaxed);
  c.reads = g_reads.load(std::memory_order_relaxed);
  c.window_writes = g_window_writes.load(std::memory_order_relaxed);
  c.window_reads = g_window_reads.load(std::memory_order_relaxed);
  return c;
}

}  // namespace accord::store::detail
