// A test fixture with a fresh store in a directory of its own (removed afterwards), for the
// store's unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/store/store.h"
#include "store/pg_util.h"

namespace accord::store {

// A version of `id` (its type is the id's prefix) whose JSON is small and distinct per
// (id, modified).
inline stix::ObjectRecord TestRecord(const std::string& id, common::Micros modified,
                                     bool revoked = false) {
  stix::ObjectRecord r;
  r.id = id;
  r.type = id.substr(0, id.find("--"));
  r.spec_version = "2.1";
  r.modified = modified;
  r.has_modified = true;
  r.revoked = revoked;
  r.json = common::Cat(R"({"type":")", r.type, R"(","id":")", id, R"(","m":)", modified, "}");
  return r;
}

// Imports `recs` into `coll` in one transaction, expecting every step to succeed.
inline ImportResult ImportAll(Store* store, const std::vector<stix::ObjectRecord>& recs,
                              const std::string& coll = "default") {
  auto t = store->BeginImport(coll);
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return {};
  for (const auto& r : recs) EXPECT_TRUE((*t)->Add(r).ok());
  auto res = (*t)->Commit();
  EXPECT_TRUE(res.ok()) << res.status();
  return res.ok() ? *res : ImportResult{};
}

// A fresh, empty place for a store of one backend, removed on destruction: for "sqlite" a
// directory, for "postgresql" a database of its own on the server named by ACCORD_TEST_PG (a
// postgresql:// URL without a database; scripts/test.sh starts one). Make() fails when it
// cannot; server_missing() says the test should skip (a skip fails the run under CI=true).
class TestStoreLocation {
 public:
  TestStoreLocation(std::string backend, std::string tag)
      : backend_(std::move(backend)), tag_(std::move(tag)) {}
  ~TestStoreLocation() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (!db_.empty()) {
      auto admin = detail::PgConn::Connect(server_ + "/postgres");
      if (admin.ok()) {
        (void)(*admin)->Exec(common::Cat("DROP DATABASE IF EXISTS ", db_, " WITH (FORCE)"), "drop");
      }
    }
  }
  TestStoreLocation(const TestStoreLocation&) = delete;
  TestStoreLocation& operator=(const TestStoreLocation&) = delete;

  bool server_missing() const {
    const char* server = std::getenv("ACCORD_TEST_PG");
    return backend_ == "postgresql" && (server == nullptr || *server == '\0');
  }
  absl::Status Make() {
    static std::atomic<int> n{0};
    const int k = n++;
    if (backend_ == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() /
             common::Cat("accord-", tag_, "-", getpid(), "-", k);
      std::filesystem::remove_all(dir_);
      return absl::OkStatus();
    }
    server_ = std::getenv("ACCORD_TEST_PG");
    db_ = common::Cat("accord_", tag_, "_", getpid(), "_", k);
    for (char& c : db_) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    ACCORD_ASSIGN_OR_RETURN(auto admin, detail::PgConn::Connect(server_ + "/postgres"));
    ACCORD_RETURN_IF_ERROR(admin->Exec(common::Cat("DROP DATABASE IF EXISTS ", db_), "drop"));
    return admin->Exec(common::Cat("CREATE DATABASE ", db_), "create");
  }
  // Options that open (another handle on) this store.
  Options options() const {
    Options o;
    o.dir = dir_.string();
    if (!db_.empty()) o.url = server_ + "/" + db_;
    return o;
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string backend_, tag_;
  std::filesystem::path dir_;
  std::string server_, db_;
};

// A store of the backend the test is instantiated with ("sqlite" or "postgresql"), fresh for
// each test in its own place (TestStoreLocation, tagged `tag`); skips without ACCORD_TEST_PG
// for PostgreSQL. For INSTANTIATE_TEST_SUITE_P(Backends, ..., Values("sqlite", "postgresql")).
class BackendStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  explicit BackendStoreTest(std::string tag) : where_(GetParam(), std::move(tag)) {}
  bool sqlite() const { return GetParam() == "sqlite"; }

  void SetUp() override {
    if (where_.server_missing()) {
      GTEST_SKIP() << "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";
    }
    absl::Status made = where_.Make();
    ASSERT_TRUE(made.ok()) << made;
    auto s = Store::Open(where_.options());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  void TearDown() override { store_.reset(); }

  TestStoreLocation where_;
  std::unique_ptr<Store> store_;
};

class StoreFixture : public ::testing::Test {
 protected:
  // `prefix` names the directory, with the test's name and the process id.
  explicit StoreFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        common::Cat(prefix_, "-", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                    "-", getpid());
    std::filesystem::remove_all(dir_);
    Options o;
    o.dir = dir_.string();
    auto s = Store::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string prefix_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace accord::store
