// RowFeed and accord_rows (sqlite_util.h): rows handed to one statement come out as they went
// in, and nothing else can be read through the table.
#include "store/sqlite_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <tuple>
#include <vector>

namespace accord::store::detail {
namespace {

class RowFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
    db_.reset(raw);
    ASSERT_TRUE(RegisterRowFeed(db_.get()).ok());
    ASSERT_TRUE(Exec(db_.get(), "CREATE TABLE t(a INTEGER, b TEXT, c INTEGER)").ok());
  }

  // Runs `sql` (its ?1 the feed) to its end.
  absl::Status Run(const std::string& sql, const RowFeed* feed) {
    ACCORD_ASSIGN_OR_RETURN(Stmt q, Prepare(db_.get(), sql));
    ACCORD_RETURN_IF_ERROR(BindRowFeed(q.get(), 1, feed));
    return StepDone(q.get(), "feed");
  }

  std::vector<std::tuple<int64_t, std::string, std::string>> Table() {
    std::vector<std::tuple<int64_t, std::string, std::string>> out;
    auto q = Prepare(db_.get(), "SELECT a, b, coalesce(c, 'null') FROM t ORDER BY rowid");
    EXPECT_TRUE(q.ok());
    if (!q.ok()) return out;
    EXPECT_TRUE(ForEachRow(q->get(), "read", [&](sqlite3_stmt* s) {
                  out.emplace_back(ColInt(s, 0), ColText(s, 1), ColText(s, 2));
                }).ok());
    return out;
  }

  Db db_;
};

TEST_F(RowFeedTest, RowsComeOutAsTheyWentIn) {
  RowFeed feed(3);
  // Text with a NUL, an empty string, and values at the ends of int64.
  const std::string with_nul("a\0b", 3);
  feed.AddInt(INT64_MIN);
  feed.AddText(with_nul);
  feed.AddInt(1);
  feed.AddInt(INT64_MAX);
  feed.AddText("");
  feed.AddInt(-7);
  feed.AddInt(0);
  feed.AddText("indicator--é");
  feed.AddInt(42);
  ASSERT_EQ(feed.rows(), 3u);
  ASSERT_TRUE(Run("INSERT INTO t(a, b, c) SELECT c0, c1, c2 FROM accord_rows(?1)", &feed).ok());
  std::vector<std::tuple<int64_t, std::string, std::string>> want = {
      {INT64_MIN, with_nul, "1"}, {INT64_MAX, "", "-7"}, {0, "indicator--é", "42"}};
  EXPECT_EQ(Table(), want);
}

TEST_F(RowFeedTest, PairsAreReadInPlaceAndAnAddStartsOver) {
  const std::vector<std::pair<int64_t, int64_t>> pairs = {
      {INT64_MIN, 1}, {-3, INT64_MAX}, {0, 0}, {9, -9}};
  RowFeed feed(2);
  feed.AddInt(100);  // rows added before the view are not part of it
  feed.AddInt(200);
  feed.ViewPairs(pairs.data(), pairs.size());
  ASSERT_EQ(feed.rows(), 4u);
  EXPECT_FALSE(feed.empty());
  ASSERT_TRUE(Run("INSERT INTO t(a, c) SELECT c0, c1 FROM accord_rows(?1)", &feed).ok());
  std::vector<std::tuple<int64_t, std::string, std::string>> want = {
      {INT64_MIN, "", "1"}, {-3, "", std::to_string(INT64_MAX)}, {0, "", "0"}, {9, "", "-9"}};
  EXPECT_EQ(Table(), want);
  // An Add after a view starts the feed's own rows again.
  feed.AddInt(7);
  feed.AddInt(8);
  EXPECT_EQ(feed.rows(), 1u);
  ASSERT_TRUE(Exec(db_.get(), "DELETE FROM t").ok());
  ASSERT_TRUE(Run("INSERT INTO t(a, c) SELECT c0, c1 FROM accord_rows(?1)", &feed).ok());
  want = {{7, "", "8"}};
  EXPECT_EQ(Table(), want);
  // And an empty view is an empty feed.
  feed.ViewPairs(pairs.data(), 0);
  EXPECT_TRUE(feed.empty());
  feed.Clear();
  EXPECT_TRUE(feed.empty());
}

TEST_F(RowFeedTest, ColumnsBeyondTheFeedAreNull) {
  RowFeed feed(2);
  feed.AddInt(5);
  feed.AddText("x");
  ASSERT_TRUE(Run("INSERT INTO t(a, b, c) SELECT c0, c1, c3 FROM accord_rows(?1)", &feed).ok());
  std::vector<std::tuple<int64_t, std::string, std::string>> want = {{5, "x", "null"}};
  EXPECT_EQ(Table(), want);
}

TEST_F(RowFeedTest, AnEmptyOrClearedFeedInsertsNothing) {
  RowFeed feed(1);
  ASSERT_TRUE(Run("INSERT INTO t(a) SELECT c0 FROM accord_rows(?1)", &feed).ok());
  feed.AddInt(1);
  feed.Clear();
  EXPECT_TRUE(feed.empty());
  ASSERT_TRUE(Run("INSERT INTO t(a) SELECT c0 FROM accord_rows(?1)", &feed).ok());
  EXPECT_TRUE(Table().empty());
}

// Only a pointer bound by BindRowFeed is a feed: SQL text, or a pointer of another type,
// reads as no rows; and the table cannot be read without its argument.
TEST_F(RowFeedTest, NothingButABoundFeedIsRead) {
  auto q = Prepare(db_.get(), "INSERT INTO t(a) SELECT c0 FROM accord_rows(?1)");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(BindText(q->get(), 1, "0x1234").ok());
  EXPECT_TRUE(StepDone(q->get(), "text").ok());
  sqlite3_reset(q->get());
  int dummy = 0;
  ASSERT_EQ(sqlite3_bind_pointer(q->get(), 1, &dummy, "another-type", nullptr), SQLITE_OK);
  EXPECT_TRUE(StepDone(q->get(), "other pointer").ok());
  EXPECT_TRUE(Table().empty());
  EXPECT_FALSE(Prepare(db_.get(), "SELECT c0 FROM accord_rows").ok());
  EXPECT_FALSE(Exec(db_.get(), "CREATE VIRTUAL TABLE x USING accord_rows").ok());
}

// A constraint broken by one fed row fails the statement and leaves none of its rows.
TEST_F(RowFeedTest, AFailedStatementLeavesNoneOfItsRows) {
  ASSERT_TRUE(Exec(db_.get(), "CREATE TABLE u(k INTEGER PRIMARY KEY)").ok());
  RowFeed feed(1);
  for (int64_t k : {1, 2, 3, 2, 4}) feed.AddInt(k);
  EXPECT_FALSE(Run("INSERT INTO u(k) SELECT c0 FROM accord_rows(?1)", &feed).ok());
  auto q = Prepare(db_.get(), "SELECT count(*) FROM u");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*Step(q->get(), "count"));
  EXPECT_EQ(ColInt(q->get(), 0), 0);
}

}  // namespace
}  // namespace accord::store::detail
