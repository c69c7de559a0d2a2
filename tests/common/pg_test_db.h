// A fresh PostgreSQL database for one test (issue 17), on the server that ACCORD_TEST_PG names
// (scripts/test.sh starts one): created by Create(), dropped (connections forced out) when the
// object goes. Without ACCORD_TEST_PG, available() is false and the test should skip.
//
//   TestPgDatabase db_{"accord_frontends"};
//   void SetUp() override {
//     if (!db_.available()) GTEST_SKIP() << TestPgDatabase::kSkipReason;
//     ASSERT_TRUE(db_.Create().ok());
//   }
//   ... "--store " + db_.url() ...
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "accord/common/status.h"
#include "store/pg_util.h"

namespace accord::testing {

class TestPgDatabase {
 public:
  static constexpr const char* kSkipReason =
      "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";

  /// The database is named `prefix` and the process id (tests of one binary run one at a time).
  explicit TestPgDatabase(const std::string& prefix)
      : name_(prefix + "_" + std::to_string(getpid())) {
    const char* server = std::getenv("ACCORD_TEST_PG");
    if (server != nullptr) server_ = server;
  }
  ~TestPgDatabase() {
    if (created_) (void)Drop();
  }
  TestPgDatabase(const TestPgDatabase&) = delete;
  TestPgDatabase& operator=(const TestPgDatabase&) = delete;

  bool available() const { return !server_.empty(); }
  /// Drops a leftover of the same name, then creates the database empty.
  absl::Status Create() {
    ACCORD_RETURN_IF_ERROR(Drop());
    ACCORD_ASSIGN_OR_RETURN(auto admin, store::detail::PgConn::Connect(server_ + "/postgres"));
    ACCORD_RETURN_IF_ERROR(admin->Exec("CREATE DATABASE " + name_, "create"));
    created_ = true;
    return absl::OkStatus();
  }
  /// postgresql://.../NAME
  std::string url() const { return server_ + "/" + name_; }
  /// The server's URL without a database (for `--store`-less admin connections).
  const std::string& server() const { return server_; }

 private:
  absl::Status Drop() {
    ACCORD_ASSIGN_OR_RETURN(auto admin, store::detail::PgConn::Connect(server_ + "/postgres"));
    return admin->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)", "drop");
  }
  std::string server_, name_;
  bool created_ = false;
};

}  // namespace accord::testing
