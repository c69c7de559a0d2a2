// Users, keys, grants (AuthStore) and request statuses (StatusStore) in the SQLite store,
// and the migration of a schema-2 node's separate <data>/auth.db (issue 9, points 4 and 5).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "accord/common/strings.h"
#include "accord/store/store.h"

namespace accord::store {
namespace {

using common::Cat;

class AuthStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           Cat("accord-auth-test-", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
               "-", getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open() {
    Options o;
    o.dir = dir_.string();
    auto s = Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Runs SQL on a file with a plain SQLite connection (the old code's auth.db).
  static void Sql(const std::filesystem::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }

  std::filesystem::path dir_;
};

// The schema of <data>/auth.db as the HTTP layer created it up to store schema 2 (from
// src/http/auth_db.cc at commit 2e55718, kSchema), written out by hand.
constexpr const char* kOldAuthDbSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS users(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  key_id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), hash TEXT NOT NULL,
  created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, label TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS grants(
  user TEXT NOT NULL, collection TEXT NOT NULL, can_read INTEGER NOT NULL,
  can_write INTEGER NOT NULL, PRIMARY KEY(user, collection));
)sql";

constexpr const char* kOldAuthDbRows = R"sql(
INSERT INTO users VALUES('admin', 'admin', 1700000000000000);
INSERT INTO users VALUES('alice', 'user', 1700000001000000);
INSERT INTO api_keys VALUES('00112233aabbccdd', 'admin', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 1700000000000001, 0, 'first start');
INSERT INTO api_keys VALUES('0123456789abcdef', 'alice', '$argon2id$fake', 1700000002000000, 1, 'old');
INSERT INTO api_keys VALUES('fedcba9876543210', 'alice', '$argon2id$fake2', 1700000003000000, 0, '');
INSERT INTO grants VALUES('alice', '6ba7b810-9dad-41d1-80b4-00c04fd430c8', 1, 0);
)sql";

TEST_F(AuthStoreTest, MigratesTheOldAuthDbOnFirstWriteOpen) {
  // A schema-2 node: accord.db from the old store and the HTTP layer's own auth.db.
  ASSERT_TRUE(Open() != nullptr);
  const auto old = dir_ / "auth.db";
  Sql(old, Cat(kOldAuthDbSchema, kOldAuthDbRows));
  ::chmod(old.c_str(), 0644);  // the old code created it with the umask's mode
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    AuthStore* a = s->auth();
    auto users = a->ListUsers();
    ASSERT_TRUE(users.ok()) << users.status();
    ASSERT_EQ(users->size(), 2u);
    EXPECT_EQ((*users)[0].name, "admin");
    EXPECT_EQ((*users)[0].role, "admin");
    EXPECT_EQ((*users)[0].created, 1700000000000000);
    EXPECT_EQ((*users)[1].name, "alice");
    EXPECT_EQ((*users)[1].role, "analyst");  // the old role `user` is `analyst` (issue 13)
    auto k = a->FindKey("00112233aabbccdd");
    ASSERT_TRUE(k.ok() && k->has_value());
    EXPECT_EQ((*k)->hash, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
    EXPECT_EQ((*k)->label, "first start");
    EXPECT_FALSE((*k)->revoked);
    EXPECT_TRUE((*a->FindKey("0123456789abcdef"))->revoked);
    EXPECT_EQ(a->ListKeys("alice")->size(), 2u);
    auto g = a->ListGrants("alice");
    ASSERT_EQ(g->size(), 1u);
    EXPECT_EQ((*g)[0].collection, "6ba7b810-9dad-41d1-80b4-00c04fd430c8");
    EXPECT_TRUE((*g)[0].read);
    EXPECT_FALSE((*g)[0].write);
    // Revoked in the store after the migration (below: must stay revoked).
    ASSERT_TRUE(a->RevokeKey("fedcba9876543210").ok());
  }
  // The old file is renamed, owner-only; nothing else named auth.db* is left behind.
  EXPECT_FALSE(std::filesystem::exists(old));
  const auto migrated = dir_ / "auth.db.migrated";
  ASSERT_TRUE(std::filesystem::exists(migrated));
  struct stat st {};
  ASSERT_EQ(::stat(migrated.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "auth.db-wal"));

  // A crash between the copy and the rename leaves auth.db in place: the copy runs again and
  // neither duplicates rows nor undoes what changed in the store since.
  std::filesystem::copy_file(migrated, old);
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->auth()->ListUsers()->size(), 2u);
    EXPECT_EQ(s->auth()->ListKeys("")->size(), 3u);
    EXPECT_TRUE((*s->auth()->FindKey("fedcba9876543210"))->revoked);
  }
  EXPECT_FALSE(std::filesystem::exists(old));
}

TEST_F(AuthStoreTest, ReadOnlyOpenDoesNotMigrate) {
  ASSERT_TRUE(Open() != nullptr);
  const auto old = dir_ / "auth.db";
  Sql(old, Cat(kOldAuthDbSchema, kOldAuthDbRows));
  Options o;
  o.dir = dir_.string();
  o.create = false;
  o.read_only = true;
  auto s = Store::Open(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(*(*s)->auth()->HasUsers());
  EXPECT_TRUE(std::filesystem::exists(old));
  EXPECT_EQ((*s)->auth()->AddUser({"x", "user", 1}).code(), absl::StatusCode::kFailedPrecondition);
}

// Issue 13, point 3: schema 6 renames the role `user` (only what grants give) `analyst`. A
// schema-5 store, written here by hand (the tables of 5 are those of 6), is migrated on its
// first write-open, and running servers see the change (the auth generation moves).
TEST_F(AuthStoreTest, Schema5UserRoleBecomesAnalyst) {
  {
    auto s = Open();
    ASSERT_TRUE(s->auth()->AddUser({"admin", "admin", 1}).ok());
    ASSERT_TRUE(s->auth()->AddUser({"bob", "reader", 2}).ok());
    ASSERT_TRUE(s->auth()->AddUser({"carol", "analyst", 3}).ok());
  }
  Sql(dir_ / "accord.db",
      "INSERT INTO users(name, role, created) VALUES('alice', 'user', 4);"
      "INSERT INTO grants VALUES('alice', '6ba7b810-9dad-41d1-80b4-00c04fd430c8', 1, 1);"
      "PRAGMA user_version = 5;");
  uint64_t before = 0;
  {
    Options o;
    o.dir = dir_.string();
    o.create = false;
    o.read_only = true;
    // A read-only open does not migrate; it says how to.
    auto ro = Store::Open(o);
    ASSERT_FALSE(ro.ok());
    EXPECT_NE(ro.status().message().find("schema version 5"), std::string::npos) << ro.status();
  }
  {
    // The generation as schema 5 left it: read it with plain SQL.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "accord.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT n FROM auth_generation", -1, &q, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    before = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
  auto s = Open();
  ASSERT_NE(s, nullptr);
  auto users = s->auth()->ListUsers();
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_EQ(users->size(), 4u);
  EXPECT_EQ((*users)[0].role, "admin");
  EXPECT_EQ((*users)[1].name, "alice");
  EXPECT_EQ((*users)[1].role, "analyst");
  EXPECT_EQ((*users)[2].role, "reader");
  EXPECT_EQ((*users)[3].role, "analyst");
  auto g = s->auth()->ListGrants("alice");
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 1u);  // grants are untouched
  EXPECT_TRUE((*g)[0].read && (*g)[0].write);
  EXPECT_GT(*s->auth()->AuthGeneration(), before);
}

}  // namespace
}  // namespace accord::store
