// The batching VFS shim (sqlite_vfs.h) must never change what SQLite stores or what another
// connection sees: every committed transaction visible to a reader on the plain VFS, none of a
// rolled-back one, across spills, frame rewrites, checkpoints, other processes writing the same
// database, and a writer killed at any point.
//
// The expected contents come from a model kept by the test (a map of the rows each committed
// transaction leaves), not from the shim.
#include "store/sqlite_vfs.h"

#include "common/test_util.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>

namespace accord::store::detail {
namespace {

using accord::testing::TempDir;

std::string DbIn(const TempDir& dir) { return (dir.path() / "t.db").string(); }

sqlite3* Open(const std::string& path, bool batched) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           batched ? BatchedVfs() : nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << (db ? sqlite3_errmsg(db) : "no memory");
  sqlite3_busy_timeout(db, 10000);
  return db;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
}

// A new database at `path` in WAL mode with the test's table, closed again.
void CreateWalTable(const std::string& path) {
  sqlite3* db = Open(path, true);
  Exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  sqlite3_close(db);
}

// The table as a map, read through `db`.
std::map<int64_t, std::string> Rows(sqlite3* db) {
  std::map<int64_t, std::string> out;
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT k, v FROM t", -1, &q, nullptr), SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW) {
    out[sqlite3_column_int64(q, 0)] =
        std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 1)),
                    static_cast<size_t>(sqlite3_column_bytes(q, 1)));
  }
  sqlite3_finalize(q);
  return out;
}

std::string IntegrityCheck(sqlite3* db) {
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, nullptr), SQLITE_OK);
  std::string out;
  while (sqlite3_step(q) == SQLITE_ROW)
    out += reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return out;
}

void Put(sqlite3* db, int64_t k, const std::string& v) {
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t(k, v) VALUES(?1, ?2)", -1, &q, nullptr),
      SQLITE_OK);
  sqlite3_bind_int64(q, 1, k);
  sqlite3_bind_text(q, 2, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(q), SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(q);
}

std::string Value(std::mt19937_64& rng) {
  // 100 to 1,500 bytes: several rows a page, and overflow-free, so pages split and merge.
  std::string v(100 + rng() % 1400, 'a');
  for (char& c : v) c = static_cast<char>('a' + rng() % 26);
  return v;
}

TEST(BatchedVfs, ReaderOnThePlainVfsSeesExactlyTheCommittedTransactions) {
  ASSERT_NE(BatchedVfs(), nullptr);
  const TempDir dir("vfs-model");
  const std::string path = DbIn(dir);
  sqlite3* w = Open(path, true);
  // A cache of 16 pages: transactions of hundreds of pages spill mid-transaction, and pages
  // dirtied again after a spill rewrite their frames, so the commit re-reads the WAL to redo
  // the checksums (the shim's read-ahead).
  Exec(w,
       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=16;"
       "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  sqlite3* r = Open(path, false);
  std::map<int64_t, std::string> model;
  std::mt19937_64 rng(7);
  const BatchedVfsCounters before = BatchedVfsStats();
  for (int txn = 0; txn < 60; ++txn) {
    std::map<int64_t, std::string> next = model;
    Exec(w, "BEGIN");
    const int n = 1 + static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) {
      int64_t k = static_cast<int64_t>(rng() % 3000);
      if (rng() % 5 == 0) {
        Exec(w, "DELETE FROM t WHERE k = " + std::to_string(k));
        next.erase(k);
      } else {
        std::string v = Value(rng);
        Put(w, k, v);
        next[k] = v;
      }
    }
    if (rng() % 4 == 0) {
      Exec(w, "ROLLBACK");
    } else {
      Exec(w, "COMMIT");
      model = std::move(next);
    }
    // The reader, on SQLite's own VFS, sees the model after every transaction.
    ASSERT_EQ(Rows(r), model) << "after transaction " << txn;
    switch (rng() % 6) {
      case 0: Exec(w, "PRAGMA wal_checkpoint(PASSIVE)"); break;
      case 1: Exec(w, "PRAGMA wal_checkpoint(TRUNCATE)"); break;
      case 2: Exec(r, "PRAGMA wal_checkpoint(RESTART)"); break;
      default: break;
    }
    ASSERT_EQ(Rows(w), model) << "the writer, after transaction " << txn;
  }
  const BatchedVfsCounters after = BatchedVfsStats();
  // The paths under test were taken: writes gathered, the checksum pass read from a window.
  EXPECT_GT(after.window_writes, before.window_writes);
  EXPECT_GT(after.window_reads, before.window_reads);
  EXPECT_EQ(IntegrityCheck(w), "ok");
  sqlite3_close(r);
  sqlite3_close(w);
  // Reopened cold, on the plain VFS: the same rows.
  sqlite3* again = Open(path, false);
  EXPECT_EQ(Rows(again), model);
  EXPECT_EQ(IntegrityCheck(again), "ok");
  sqlite3_close(again);
}

// A new WAL database at `path` through the shim, with a page cache that holds the
// transaction of BeginRuns, and no automatic checkpoint.
sqlite3* OpenForRuns(const std::string& path) {
  sqlite3* w = Open(path, true);
  Exec(w,
       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
       "PRAGMA wal_autocheckpoint=0; CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  return w;
}

// Begins a transaction of 4,000 rows (~3 MB: ~700 pages), left open; returns the rows.
std::map<int64_t, std::string> BeginRuns(sqlite3* w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<int64_t, std::string> rows;
  Exec(w, "BEGIN");
  for (int64_t k = 0; k < 4000; ++k) {
    std::string v = Value(rng);
    Put(w, k, v);
    rows.emplace(k, std::move(v));
  }
  return rows;
}

// A commit of a transaction that fits the page cache writes its frames in runs: two calls a
// frame (header, page) into the window, one write a window to the file.
TEST(BatchedVfs, ACommitReachesTheFileInWindowsNotFrames) {
  const TempDir dir("vfs-runs");
  const std::string path = DbIn(dir);
  sqlite3* w = OpenForRuns(path);
  BeginRuns(w, 3);
  const BatchedVfsCounters before = BatchedVfsStats();
  Exec(w, "COMMIT");
  const BatchedVfsCounters after = BatchedVfsStats();
  const uint64_t frames = (after.window_writes - before.window_writes) / 2;
  EXPECT_GT(frames, uint64_t{500});
  // 16 frames of 4,120 bytes fit a window of 64 KiB: at least 10 frames a write, counting the
  // sync's write-back of the last window.
  EXPECT_LT((after.writes - before.writes) * 10, frames);
  EXPECT_EQ(IntegrityCheck(w), "ok");
  sqlite3_close(w);
}

// A checkpoint copies the frames of one commit in page order, and the commit wrote them in
// page order: the checkpoint's reads of consecutive frames (a 24-byte frame header apart) are
// read ahead, about 15 pages a 64 KiB window, and what it copies is what was committed.
TEST(BatchedVfs, ACheckpointReadsARunOfFramesInWindows) {
  const TempDir dir("vfs-checkpoint");
  const std::string path = DbIn(dir);
  sqlite3* w = OpenForRuns(path);
  const std::map<int64_t, std::string> model = BeginRuns(w, 5);
  Exec(w, "COMMIT");
  const BatchedVfsCounters before = BatchedVfsStats();
  Exec(w, "PRAGMA wal_checkpoint(TRUNCATE)");
  const BatchedVfsCounters after = BatchedVfsStats();
  const uint64_t from_file = after.reads - before.reads;
  const uint64_t from_window = after.window_reads - before.window_reads;
  EXPECT_GT(from_file + from_window, uint64_t{500});  // a read for every frame's page
  EXPECT_LT(from_file * 8, from_window);
  sqlite3_close(w);
  sqlite3* r = Open(path, false);
  EXPECT_EQ(Rows(r), model);
  EXPECT_EQ(IntegrityCheck(r), "ok");
  sqlite3_close(r);
}

// A window read ahead of the WAL must not outlive the locks it was read under. Connection A
// recovers a WAL left by a killed process (recovery reads it from the start: a read-ahead
// window over the whole small WAL); connection B then empties the WAL and writes new frames
// at the same offsets; A must read B's rows, not the frames it read ahead.
TEST(BatchedVfs, AWindowReadAheadDoesNotOutliveItsLocks) {
  const TempDir dir("vfs-stale");
  const std::string path = DbIn(dir);
  CreateWalTable(path);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a few frames in the WAL, never checkpointed, then gone without a close
    sqlite3* db = Open(path, true);
    sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0", nullptr, nullptr, nullptr);
    for (int64_t k = 0; k < 8; ++k) Put(db, k, "old" + std::string(1000, 'o'));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  sqlite3* a = Open(path, true);
  ASSERT_EQ(Rows(a).size(), 8u);
  sqlite3* b = Open(path, false);
  Exec(b, "PRAGMA wal_autocheckpoint=0; PRAGMA wal_checkpoint(TRUNCATE)");
  std::map<int64_t, std::string> model;
  for (int64_t k = 0; k < 8; ++k) {
    model[k] = "new" + std::string(1000, static_cast<char>('a' + k));
    Put(b, k, model[k]);
  }
  EXPECT_EQ(Rows(a), model);
  EXPECT_EQ(IntegrityCheck(a), "ok");
  sqlite3_close(b);
  sqlite3_close(a);
}

// Two processes write the same database in turns, both through the shim: neither may keep a
// stale window of the other's WAL frames or database pages.
TEST(BatchedVfs, TwoProcessesWritingInTurnsLoseNothing) {
  const TempDir dir("vfs-procs");
  const std::string path = DbIn(dir);
  CreateWalTable(path);
  constexpr int kTxns = 40, kRows = 50;
  auto writer = [&](int who) {
    sqlite3* db = Open(path, true);
    Exec(db, "PRAGMA synchronous=FULL; PRAGMA cache_size=16; PRAGMA wal_autocheckpoint=50");
    std::mt19937_64 rng(static_cast<uint64_t>(who));
    for (int t = 0; t < kTxns; ++t) {
      Exec(db, "BEGIN IMMEDIATE");
      for (int i = 0; i < kRows; ++i) {
        Put(db, (static_cast<int64_t>(who) * kTxns + t) * kRows + i,
            std::to_string(who) + Value(rng));
      }
      Exec(db, "COMMIT");
      if (t % 7 == who) Exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    }
    sqlite3_close(db);
  };
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    writer(1);
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  writer(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child writer failed";
  sqlite3* db = Open(path, false);
  std::map<int64_t, std::string> rows = Rows(db);
  EXPECT_EQ(rows.size(), size_t{2} * kTxns * kRows);
  for (const auto& [k, v] : rows) {
    ASSERT_EQ(v[0], k < int64_t{kTxns} * kRows ? '0' : '1') << "row " << k;
  }
  EXPECT_EQ(IntegrityCheck(db), "ok");
  sqlite3_close(db);
}

// A writer killed at any moment (mid-spill, mid-commit, mid-checkpoint) leaves a database that
// recovers to a prefix of its committed transactions: each transaction writes rows
// [t * 40, t * 40 + 40) and the marker row -1 = t, so the rows present must be exactly those of
// transactions 0..marker.
TEST(BatchedVfs, AWriterKilledAnywhereLeavesACommittedPrefix) {
  constexpr int kRows = 40;
  for (int round = 0; round < 6; ++round) {
    const TempDir dir("vfs-kill");
    const std::string path = DbIn(dir);
    CreateWalTable(path);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      sqlite3* db = Open(path, true);
      sqlite3_exec(db,
                   "PRAGMA synchronous=FULL; PRAGMA cache_size=16; PRAGMA wal_autocheckpoint=64",
                   nullptr, nullptr, nullptr);
      std::mt19937_64 rng(static_cast<uint64_t>(round));
      for (int t = 0;; ++t) {
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        for (int i = 0; i < kRows; ++i) Put(db, int64_t{t} * kRows + i, Value(rng));
        Put(db, -1, std::to_string(t));
        if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) ::_exit(2);
      }
    }
    ::usleep(static_cast<useconds_t>(150000 + 70000 * round));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself: " << status;
    // Recovery runs through the shim (it reads the WAL from the start: the read-ahead).
    sqlite3* db = Open(path, true);
    EXPECT_EQ(IntegrityCheck(db), "ok") << "round " << round;
    std::map<int64_t, std::string> rows = Rows(db);
    sqlite3_close(db);
    if (rows.empty()) continue;  // killed before the first commit
    ASSERT_TRUE(rows.count(-1)) << "round " << round;
    const int last = std::stoi(rows[-1]);
    EXPECT_EQ(rows.size(), size_t{1} + size_t(last + 1) * kRows) << "round " << round;
    EXPECT_TRUE(rows.count(int64_t{last} * kRows + kRows - 1)) << "round " << round;
    EXPECT_FALSE(rows.count(int64_t{last + 1} * kRows)) << "round " << round;
  }
}

}  // namespace
}  // namespace accord::store::detail
