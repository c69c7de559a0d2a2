// The page-block arena (sqlite_memory.h): every block handed out is distinct, whole and inside
// the region, freed blocks are reused before untouched ones, a full arena says so, and SQLite,
// with the arena installed, stores and reads back what it is given while its page cache lives
// in the arena.
#include "store/sqlite_memory.h"

#include "common/test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace accord::store::detail {
namespace {

using accord::testing::TempDir;

TEST(BlockArena, HandsOutEachBlockOnceUntilFull) {
  BlockArena a(4360, 100);
  ASSERT_TRUE(a.reserved());
  EXPECT_EQ(a.block_bytes(), 4368u);  // 4360 rounded up to 16
  std::set<uintptr_t> seen;
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) {
    void* p = a.Allocate();
    ASSERT_NE(p, nullptr) << "block " << i;
    EXPECT_TRUE(a.Owns(p));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    std::memset(p, i, a.block_bytes());  // the whole block is usable
    blocks.push_back(p);
    seen.insert(reinterpret_cast<uintptr_t>(p));
  }
  EXPECT_EQ(seen.size(), 100u);
  // Blocks do not overlap: consecutive addresses are a block apart at least.
  uintptr_t last = 0;
  for (uintptr_t p : seen) {
    if (last != 0) {
      EXPECT_GE(p - last, a.block_bytes());
    }
    last = p;
  }
  for (int i = 0; i < 100; ++i) {  // nothing written over another block
    auto* c = static_cast<unsigned char*>(blocks[static_cast<size_t>(i)]);
    EXPECT_EQ(c[0], i);
    EXPECT_EQ(c[a.block_bytes() - 1], i);
  }
  EXPECT_EQ(a.Allocate(), nullptr);  // full
  EXPECT_EQ(a.blocks_in_use(), 100u);
  EXPECT_EQ(a.blocks_touched(), 100u);
  int local = 0;
  EXPECT_FALSE(a.Owns(&local));
  EXPECT_FALSE(a.Owns(nullptr));
  for (void* p : blocks) a.Free(p);
  EXPECT_EQ(a.blocks_in_use(), 0u);
}

TEST(BlockArena, ReusesTheLastFreedBlockBeforeAnUntouchedOne) {
  BlockArena a(4096, 8);
  void* p1 = a.Allocate();
  void* p2 = a.Allocate();
  void* p3 = a.Allocate();
  EXPECT_EQ(a.blocks_touched(), 3u);
  a.Free(p1);
  a.Free(p3);
  EXPECT_EQ(a.Allocate(), p3);  // last freed, first reused
  EXPECT_EQ(a.Allocate(), p1);
  EXPECT_EQ(a.blocks_touched(), 3u);  // no new block touched
  void* p4 = a.Allocate();
  EXPECT_NE(p4, p1);
  EXPECT_NE(p4, p2);
  EXPECT_NE(p4, p3);
  EXPECT_EQ(a.blocks_touched(), 4u);
  EXPECT_EQ(a.blocks_in_use(), 4u);
}

TEST(BlockArena, ThreadsNeverShareALiveBlock) {
  BlockArena a(4096, 64);
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&a, &errors, t] {
      std::vector<void*> mine;
      for (int r = 0; r < kRounds; ++r) {
        if (void* p = a.Allocate()) {
          std::memset(p, t + 1, a.block_bytes());
          mine.push_back(p);
        }
        if (mine.size() > 8 || (r % 3 == 0 && !mine.empty())) {
          auto* c = static_cast<unsigned char*>(mine.back());
          // Still this thread's pattern: no other thread was given the block meanwhile.
          if (c[0] != t + 1 || c[a.block_bytes() - 1] != t + 1) ++errors[static_cast<size_t>(t)];
          a.Free(mine.back());
          mine.pop_back();
        }
      }
      for (void* p : mine) a.Free(p);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[static_cast<size_t>(t)], 0) << t;
  EXPECT_EQ(a.blocks_in_use(), 0u);
  EXPECT_LE(a.blocks_touched(), 64u);
}

// One process: the methods go in before anything in this binary initialises SQLite.
TEST(SqlitePageArena, SqlitesPageCacheLivesInTheArenaAndItsDataIsIntact) {
  ASSERT_TRUE(InstallSqlitePageArena());
  EXPECT_TRUE(InstallSqlitePageArena());  // again: still in place, nothing changed
  const BlockArena* arena = SqlitePageArena();
  ASSERT_NE(arena, nullptr);
  const size_t before = arena->blocks_in_use();

  const TempDir dir("page-arena");
  const std::string path = (dir.path() / "t.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA cache_size=-8192; PRAGMA journal_mode=WAL;"
                         "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
                         "CREATE INDEX t_v ON t(v);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  // 20,000 rows of ~100 bytes, with an index in random order: several MiB of pages, more
  // than fit in one huge page of blocks, and B-tree balancing throughout.
  ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES(?1, ?2)", -1, &ins, nullptr),
            SQLITE_OK);
  uint64_t x = 88172645463325252ull;
  std::vector<std::string> values;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values.push_back(std::to_string(x) + std::string(80, static_cast<char>('a' + i % 26)));
    sqlite3_bind_int64(ins, 1, i);
    sqlite3_bind_text(ins, 2, values.back().data(), static_cast<int>(values.back().size()),
                      SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  // The cache's pages are the arena's: > 2 MiB of 4 KiB pages in use while the database is open.
  EXPECT_GT(arena->blocks_in_use(), before + 600);

  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT k, v FROM t ORDER BY v", -1, &q, nullptr), SQLITE_OK);
  int rows = 0;
  std::string last;
  while (sqlite3_step(q) == SQLITE_ROW) {
    const auto k = static_cast<size_t>(sqlite3_column_int64(q, 0));
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(q, 1)),
                  static_cast<size_t>(sqlite3_column_bytes(q, 1)));
    ASSERT_LT(k, values.size());
    EXPECT_EQ(v, values[k]);
    EXPECT_LE(last, v);  // read through the index, in its order
    last = v;
    ++rows;
  }
  sqlite3_finalize(q);
  EXPECT_EQ(rows, 20000);
  sqlite3_stmt* check = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &check, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(check), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)), "ok");
  sqlite3_finalize(check);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
  // Closing the connection gave its pages back.
  EXPECT_LE(arena->blocks_in_use(), before);
}

}  // namespace
}  // namespace accord::store::detail
