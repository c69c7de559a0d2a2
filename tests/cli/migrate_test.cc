// `accord migrate [--check]` (issue 17): a PostgreSQL store, which several frontends share, is
// migrated only by this command; `--check` says whether a migration is pending (exit 3) or
// not (0) and changes nothing. The PostgreSQL cases need the server of ACCORD_TEST_PG
// (scripts/test.sh starts one); without it they skip, and a skipped test fails the run under
// CI=true.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "accord/store/store.h"
#include "common/pg_test_db.h"
#include "common/test_util.h"
#include "store/pg_util.h"
#include "store/store_test_fixture.h"

namespace accord::testing {
namespace {

namespace fs = std::filesystem;

const std::string kA = "indicator--11111111-1111-4111-8111-111111111111";
// The schema version this build writes (docs/SCALE_OUT.md): 1 the base, 2 the match ledger,
// 3 the full-text index, 4 the audit log, 5 the web UI's sessions, 6 the indicator generation.
const std::string kLatest = "6";

int Count(const std::string& s, const std::string& part) {
  int n = 0;
  for (size_t i = s.find(part); i != std::string::npos; i = s.find(part, i + 1)) ++n;
  return n;
}

class MigrateCli : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args) {
    return RunCmd("env -u ACCORD_DATA -u ACCORD_STORE " + Accord() + " " + args, tmp_.path());
  }
  TempDir tmp_{"migrate-cli"};
  fs::path node_ = tmp_.path() / "node";
};

class MigratePg : public MigrateCli {
 protected:
  void SetUp() override {
    if (!db_.available()) GTEST_SKIP() << TestPgDatabase::kSkipReason;
    absl::Status made = db_.Create();
    ASSERT_TRUE(made.ok()) << made;
    url_ = db_.url();
  }

  // `accord --store URL --data NODE <args>`.
  RunResult Cmd(const std::string& args) {
    return Run("--store " + ShellQuote(url_) + " --data " + ShellQuote(node_.string()) + " " +
               args);
  }

  void Sql(const std::string& sql) {
    auto c = store::detail::PgConn::Connect(url_);
    ASSERT_TRUE(c.ok()) << c.status();
    absl::Status st = (*c)->Exec(sql, "test SQL");
    ASSERT_TRUE(st.ok()) << st;
  }

  // The node's store at schema version 1 (before the match ledger, the full-text index, the audit
  // log and the web UI's sessions), holding kA.
  void MakeVersion1Store() {
    {
      store::Options o;
      o.dir = node_.string();
      o.url = url_;
      auto s = store::Store::Open(o);
      ASSERT_TRUE(s.ok()) << s.status();
      store::ImportAll(s->get(), {store::TestRecord(kA, 1000)});
    }
    Sql("DROP TABLE match_records, match_clock, object_text, audit_log, web_sessions; "
        "ALTER TABLE accord_meta DROP COLUMN indicator_generation; "
        "UPDATE accord_meta SET schema_version = 1");
  }

  TestPgDatabase db_{"accord_migrate_cli"};
  std::string url_;
};

TEST_F(MigratePg, CheckSaysPendingThenMigrateBringsTheStoreUpToDate) {
  MakeVersion1Store();
  if (HasFatalFailure()) return;
  const std::string store_line =
      "accord: store " + url_ + ": schema version 1, this Accord writes " + kLatest;

  // Other commands refuse the store and say what to do.
  auto stats = Cmd("stats");
  EXPECT_NE(stats.exit_code, 0);
  EXPECT_NE(stats.err.find("accord migrate"), std::string::npos) << stats.err;

  auto check = Cmd("migrate --check");
  EXPECT_EQ(check.exit_code, 3) << check.out << check.err;
  EXPECT_NE(check.out.find(store_line), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("pending"), std::string::npos) << check.out;
  // --check changed nothing.
  auto still = Cmd("migrate --check");
  EXPECT_EQ(still.exit_code, 3) << still.out << still.err;

  auto migrate = Cmd("migrate");
  ASSERT_EQ(migrate.exit_code, 0) << migrate.out << migrate.err;
  EXPECT_NE(migrate.out.find(store_line), std::string::npos) << migrate.out;
  EXPECT_NE(migrate.out.find("accord: migrated to schema version " + kLatest), std::string::npos)
      << migrate.out;

  auto after = Cmd("migrate --check");
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_NE(after.out.find("accord: store " + url_ + ": schema version " + kLatest +
                           ", this Accord writes " + kLatest),
            std::string::npos)
      << after.out;
  EXPECT_NE(after.out.find("accord: schema version " + kLatest + " is current; nothing to do"),
            std::string::npos)
      << after.out;
  auto again = Cmd("migrate");
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("accord: schema version " + kLatest + " is current; nothing to do"),
            std::string::npos)
      << again.out;

  // The migration (one, not the no-op) is in the node's audit log, which the store keeps.
  auto audit = Cmd("audit query --action store.migrate --json");
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(Count(audit.out, "\"store.migrate\""), 1) << audit.out;
  EXPECT_FALSE(fs::exists(node_ / "audit.log"));

  // The store works again, with what it held before.
  auto stats2 = Cmd("stats --json");
  ASSERT_EQ(stats2.exit_code, 0) << stats2.err;
  EXPECT_NE(stats2.out.find("\"versions\":1"), std::string::npos) << stats2.out;
}

TEST_F(MigratePg, ANewerStoreIsAnError) {
  {
    store::Options o;
    o.dir = node_.string();
    o.url = url_;
    ASSERT_TRUE(store::Store::Open(o).ok());
  }
  Sql("UPDATE accord_meta SET schema_version = " + std::to_string(std::stoi(kLatest) + 1));
  auto check = Cmd("migrate --check");
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.err.find("upgrade accord"), std::string::npos) << check.err;
  auto migrate = Cmd("migrate");
  EXPECT_EQ(migrate.exit_code, 1) << migrate.out << migrate.err;
  EXPECT_NE(migrate.err.find("upgrade accord"), std::string::npos) << migrate.err;
}

TEST_F(MigrateCli, AnUnreachableStoreIsAnErrorOfCheck) {
  auto check = Run("--store 'postgresql://127.0.0.1:1/nothing' --data " +
                   ShellQuote(node_.string()) + " migrate --check");
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.err.find("cannot connect"), std::string::npos) << check.err;
}

// SQLite: a writing open migrates (one machine), so a store made by this build is current.
TEST_F(MigrateCli, ASqliteStoreIsCurrent) {
  const std::string d = ShellQuote(node_.string());
  auto init = Run("--data " + d + " init");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto check = Run("--data " + d + " migrate --check");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("accord: store " + (node_ / "accord.db").string() + ": schema version "),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("is current; nothing to do"), std::string::npos) << check.out;
  auto migrate = Run("migrate --data " + d);
  EXPECT_EQ(migrate.exit_code, 0) << migrate.out << migrate.err;
  // No store at all: an error, not "pending".
  auto none = Run("--data " + ShellQuote((tmp_.path() / "none").string()) + " migrate --check");
  EXPECT_EQ(none.exit_code, 1) << none.out << none.err;
  EXPECT_FALSE(fs::exists(tmp_.path() / "none"));
}

}  // namespace
}  // namespace accord::testing
