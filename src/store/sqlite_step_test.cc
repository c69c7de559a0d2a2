// Issue 9 (point 6): a read whose sqlite3_step fails must surface as an error. Before the
// single step helper, GetSetting read a failed step as "no such setting", so a busy read of
// the TAXII pull cursor restarted the pull from zero.
//
// The failure is made deterministic with a VFS shim, registered as the process default, that
// wraps the platform VFS and answers reads with SQLITE_BUSY while `g_fail_reads` is set. (A
// real lock cannot make a WAL reader busy while the store's own writer connection is open:
// WAL readers never wait for writers.)
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>

#include "accord/common/strings.h"
#include "accord/store/store.h"

namespace accord::store {
namespace {

std::atomic<bool> g_fail_reads{false};
sqlite3_vfs* g_real = nullptr;
sqlite3_io_methods g_methods;
const sqlite3_io_methods* g_real_methods = nullptr;

// A file of the shim: the real file's state follows this header (szOsFile of the real VFS).
struct ShimFile {
  sqlite3_file base;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

int ShimRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (g_fail_reads.load()) return SQLITE_BUSY;
  auto* s = reinterpret_cast<ShimFile*>(f);
  return s->real()->pMethods->xRead(s->real(), buf, n, off);
}

int ShimOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* s = reinterpret_cast<ShimFile*>(f);
  int rc = g_real->xOpen(g_real, name, s->real(), flags, out_flags);
  if (s->real()->pMethods == nullptr) {
    f->pMethods = nullptr;
    return rc;
  }
  // Every method forwards to the real file, except xRead; built once from the first file
  // (the unix VFS uses one method table for the files we open).
  if (g_real_methods == nullptr) {
    g_real_methods = s->real()->pMethods;
    g_methods = *g_real_methods;
#define ACCORD_FWD(m, ...)                            \
  [](sqlite3_file* x, auto... a) {                    \
    auto* r = reinterpret_cast<ShimFile*>(x)->real(); \
    return r->pMethods->m(r, a...);                   \
  }
    g_methods.xClose = [](sqlite3_file* x) {
      auto* r = reinterpret_cast<ShimFile*>(x)->real();
      return r->pMethods->xClose(r);
    };
    g_methods.xRead = ShimRead;
    g_methods.xWrite = ACCORD_FWD(xWrite);
    g_methods.xTruncate = ACCORD_FWD(xTruncate);
    g_methods.xSync = ACCORD_FWD(xSync);
    g_methods.xFileSize = ACCORD_FWD(xFileSize);
    g_methods.xLock = ACCORD_FWD(xLock);
    g_methods.xUnlock = ACCORD_FWD(xUnlock);
    g_methods.xCheckReservedLock = ACCORD_FWD(xCheckReservedLock);
    g_methods.xFileControl = ACCORD_FWD(xFileControl);
    g_methods.xSectorSize = ACCORD_FWD(xSectorSize);
    g_methods.xDeviceCharacteristics = ACCORD_FWD(xDeviceCharacteristics);
    g_methods.xShmMap = ACCORD_FWD(xShmMap);
    g_methods.xShmLock = ACCORD_FWD(xShmLock);
    g_methods.xShmBarrier = [](sqlite3_file* x) {
      auto* r = reinterpret_cast<ShimFile*>(x)->real();
      r->pMethods->xShmBarrier(r);
    };
    g_methods.xShmUnmap = ACCORD_FWD(xShmUnmap);
    g_methods.xFetch = ACCORD_FWD(xFetch);
    g_methods.xUnfetch = ACCORD_FWD(xUnfetch);
#undef ACCORD_FWD
  }
  f->pMethods = &g_methods;
  return rc;
}

void InstallShim() {
  static sqlite3_vfs shim;
  if (g_real != nullptr) return;
  g_real = sqlite3_vfs_find(nullptr);
  shim = *g_real;
  shim.zName = "accord-busy-shim";
  shim.szOsFile = static_cast<int>(sizeof(ShimFile)) + g_real->szOsFile;
  shim.xOpen = ShimOpen;
  ASSERT_EQ(sqlite3_vfs_register(&shim, /*makeDflt=*/1), SQLITE_OK);
}

TEST(SqliteStepTest, BusyReadOfSettingIsAnErrorNotUnset) {
  InstallShim();
  auto dir = std::filesystem::temp_directory_path() / common::Cat("accord-step-test-", getpid());
  std::filesystem::remove_all(dir);
  {
    Options o;
    o.dir = dir.string();
    o.busy_timeout_ms = 0;  // fail at once rather than retry for 30 s
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    Store& store = **s;
    ASSERT_TRUE(store.PutSetting("taxii.pull.cursor", "c1").ok());
    auto first = store.GetSetting("taxii.pull.cursor");
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ(first->value_or("<unset>"), "c1");
    // A new commit: the reader's page cache is stale, so its next read goes to the files.
    ASSERT_TRUE(store.PutSetting("taxii.pull.cursor", "c2").ok());
    g_fail_reads = true;
    auto busy = store.GetSetting("taxii.pull.cursor");
    g_fail_reads = false;
    ASSERT_FALSE(busy.ok()) << "a failed read came back as "
                            << (busy->has_value() ? **busy : std::string("unset"));
    EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable) << busy.status();
    // And the store reads normally again afterwards.
    auto after = store.GetSetting("taxii.pull.cursor");
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->value_or("<unset>"), "c2");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accord::store
