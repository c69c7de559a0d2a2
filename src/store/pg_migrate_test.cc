// PostgreSQL schema versions (issue 17, `accord migrate`): several frontends share one
// database, so an open never migrates it. A store of an older version is refused until
// Migrate() (through Options::allow_old_schema) brings it up to date; one of a newer version
// is refused outright. Needs the server of ACCORD_TEST_PG (scripts/test.sh starts one);
// without it the tests skip, and a skipped test fails the run under CI=true.
#include <gtest/gtest.h>

#include <string>

#include "accord/common/strings.h"
#include "accord/store/store.h"
#include "store/pg_util.h"
#include "store/store_test_fixture.h"

namespace accord::store {
namespace {

using common::Cat;

// The schema version this build writes (docs/SCALE_OUT.md): 1 the base, 2 the match ledger,
// 3 the full-text index, 4 the audit log, 5 the web UI's sessions, 6 the indicator generation.
constexpr int kLatest = 6;

const std::string kA = "indicator--11111111-1111-4111-8111-111111111111";
const std::string kB = "indicator--22222222-2222-4222-8222-222222222222";

bool Has(const absl::Status& s, const std::string& part) {
  return s.message().find(part) != std::string::npos;
}

class PgMigrate : public ::testing::Test {
 protected:
  void SetUp() override {
    if (where_.server_missing()) {
      GTEST_SKIP() << "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";
    }
    absl::Status made = where_.Make();
    ASSERT_TRUE(made.ok()) << made;
  }

  // Runs `sql` on the store's database with a connection of its own.
  void Sql(const std::string& sql) {
    auto c = detail::PgConn::Connect(where_.options().url);
    ASSERT_TRUE(c.ok()) << c.status();
    absl::Status st = (*c)->Exec(sql, "test SQL");
    ASSERT_TRUE(st.ok()) << st;
  }

  // A store at schema version 1 (before the match ledger, the audit log and the web UI's
  // sessions) holding kA: made by this build, then taken back to what version 1 was.
  void MakeVersion1Store() {
    {
      auto s = Store::Open(where_.options());
      ASSERT_TRUE(s.ok()) << s.status();
      ImportAll(s->get(), {TestRecord(kA, 1000)});
    }
    Sql("DROP TABLE match_records, match_clock, audit_log, web_sessions; "
        "ALTER TABLE accord_meta DROP COLUMN indicator_generation; "
        "UPDATE accord_meta SET schema_version = 1");
  }

  Options AsIs(bool read_only = false) const {
    Options o = where_.options();
    o.allow_old_schema = true;
    o.read_only = read_only;
    o.create = false;
    return o;
  }

  TestStoreLocation where_{"postgresql", "migrate"};
};

TEST_F(PgMigrate, AnOlderStoreIsRefusedUntilMigrated) {
  MakeVersion1Store();
  if (HasFatalFailure()) return;
  const std::string url = where_.options().url;

  // Neither a writing nor a reading open takes it as it is; both say what to do.
  auto w = Store::Open(where_.options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(w.status(), "accord migrate")) << w.status();
  EXPECT_TRUE(Has(w.status(), Cat(url, ": store schema version 1, this Accord writes ", kLatest)))
      << w.status();
  EXPECT_TRUE(Has(w.status(), "with every frontend of this store stopped or upgraded"))
      << w.status();
  Options ro = where_.options();
  ro.read_only = true;
  auto r = Store::Open(ro);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status(), "accord migrate")) << r.status();

  // The refused open changed nothing: still version 1, no ledger.
  {
    auto check = Store::Open(AsIs(/*read_only=*/true));
    ASSERT_TRUE(check.ok()) << check.status();
    auto st = (*check)->Schema();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->current, 1);
    EXPECT_EQ(st->latest, kLatest);
    EXPECT_EQ(st->location, url);
    EXPECT_EQ((*check)->Migrate().status().code(), absl::StatusCode::kFailedPrecondition);
  }

  {
    auto s = Store::Open(AsIs());
    ASSERT_TRUE(s.ok()) << s.status();
    auto st = (*s)->Schema();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->current, 1);
    EXPECT_EQ(st->latest, kLatest);
    auto m = (*s)->Migrate();
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->current, kLatest);
    EXPECT_EQ(m->latest, kLatest);
    EXPECT_EQ(m->location, url);
    auto again = (*s)->Migrate();  // idempotent
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->current, kLatest);
  }

  // Now an ordinary open takes it, the ledger works, and what was stored is still there.
  auto s = Store::Open(where_.options());
  ASSERT_TRUE(s.ok()) << s.status();
  auto st = (*s)->Schema();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->current, kLatest);
  auto rec = (*s)->matches()->Record({{"s:1", kA, 100}, {"s:2", kA, 200}});
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->size(), 2u);
  EXPECT_EQ(*(*s)->matches()->Count(), 2u);
  auto got = (*s)->Get(kA, VersionSelect::kAll);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].json, TestRecord(kA, 1000).json);
  Query q;
  q.collection = "default";
  auto page = (*s)->List(q);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].id, kA);
  EXPECT_EQ(ImportAll(s->get(), {TestRecord(kB, 1000)}).added, 1u);
  // ... and so does the audit log, which version 4 adds.
  ASSERT_NE((*s)->audit_log(), nullptr);
  auto appended = (*s)->audit_log()->Append([](uint64_t seq, const std::string& hash) {
    EXPECT_EQ(seq, 0u);
    EXPECT_EQ(hash, "");
    return absl::StatusOr<std::vector<AuditRow>>(std::vector<AuditRow>{{1, "h1", "line 1"}});
  });
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(*appended, 1u);
  // ... and the indicator generation, which version 6 adds: kB above moved it from 0 to 1.
  auto ig = (*s)->IndicatorGeneration();
  ASSERT_TRUE(ig.ok()) << ig.status();
  EXPECT_EQ(*ig, 1u);
}

// Schema 1 as first released had the match ledger already (created by every writing open);
// migrating such a store keeps the ledger's rows.
TEST_F(PgMigrate, AVersion1StoreWithTheLedgerKeepsItsRecords) {
  {
    auto s = Store::Open(where_.options());
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->matches()->Record({{"s:1", kA, 100}}).ok());
  }
  Sql("UPDATE accord_meta SET schema_version = 1");
  auto s = Store::Open(AsIs());
  ASSERT_TRUE(s.ok()) << s.status();
  auto m = (*s)->Migrate();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->current, kLatest);
  auto open = Store::Open(where_.options());
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(*(*open)->matches()->Count(), 1u);
  EXPECT_TRUE((*open)->matches()->Record({{"s:1", kA, 100}})->empty());
}

TEST_F(PgMigrate, ANewerStoreIsRefusedAndNotMigrated) {
  { ASSERT_TRUE(Store::Open(where_.options()).ok()); }
  Sql(Cat("UPDATE accord_meta SET schema_version = ", kLatest + 1));
  auto w = Store::Open(where_.options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(w.status(), "written by a newer Accord")) << w.status();
  EXPECT_TRUE(Has(w.status(), "upgrade accord")) << w.status();
  Options ro = where_.options();
  ro.read_only = true;
  EXPECT_TRUE(Has(Store::Open(ro).status(), "upgrade accord"));

  auto s = Store::Open(AsIs());
  ASSERT_TRUE(s.ok()) << s.status();
  auto st = (*s)->Schema();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->current, kLatest + 1);
  EXPECT_EQ(st->latest, kLatest);
  auto m = (*s)->Migrate();
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(m.status(), "upgrade accord")) << m.status();
  EXPECT_EQ((*s)->Schema()->current, kLatest + 1);  // left alone
}

// An empty database: an ordinary open creates the store at the latest version directly; an
// open for migrate creates nothing, and Migrate() creates it.
TEST_F(PgMigrate, AnEmptyDatabaseIsCreatedAtTheLatestVersion) {
  {
    auto s = Store::Open(AsIs(/*read_only=*/true));
    ASSERT_TRUE(s.ok()) << s.status();
    auto st = (*s)->Schema();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->current, 0);
    EXPECT_EQ(st->latest, kLatest);
  }
  Options ro = where_.options();
  ro.read_only = true;
  EXPECT_EQ(Store::Open(ro).status().code(), absl::StatusCode::kNotFound);
  {
    auto s = Store::Open(AsIs());
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ((*s)->Schema()->current, 0);
    auto m = (*s)->Migrate();
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->current, kLatest);
  }
  auto s = Store::Open(where_.options());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Schema()->current, kLatest);
  EXPECT_EQ(ImportAll(s->get(), {TestRecord(kA, 1000)}).added, 1u);
  EXPECT_TRUE((*s)->matches()->Record({{"s:1", kA, 100}}).ok());
}

// Version 3 adds the full-text index (object_text). Migrating a store of version 2 reads none of
// its versions: they are said to be unindexed (ValueIndexCurrent) until Reindex indexes them,
// which `accord serve` does before serving; a version stored meanwhile is indexed at once.
TEST_F(PgMigrate, VersionsStoredBeforeTheTextIndexAreIndexedByReindex) {
  auto named = [](const std::string& id, const std::string& name) {
    stix::ObjectRecord r = TestRecord(id, 1000);
    r.json.pop_back();
    r.json += Cat(R"(,"name":")", name, R"("})");
    return r;
  };
  {
    auto s = Store::Open(where_.options());
    ASSERT_TRUE(s.ok()) << s.status();
    ImportAll(s->get(), {named(kA, "migrated words")});
  }
  Sql("DROP TABLE object_text; UPDATE accord_meta SET schema_version = 2");
  EXPECT_EQ(Store::Open(where_.options()).status().code(), absl::StatusCode::kFailedPrecondition);
  {
    auto s = Store::Open(AsIs());
    ASSERT_TRUE(s.ok()) << s.status();
    auto m = (*s)->Migrate();
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->current, kLatest);
  }
  Options o = where_.options();
  o.derive_terms = [](const stix::ObjectRecord&, std::vector<std::string>*) {};
  auto s = Store::Open(o);
  ASSERT_TRUE(s.ok()) << s.status();
  auto current = (*s)->ValueIndexCurrent();
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_FALSE(*current);
  auto ids = [&](const std::string& text) {
    BrowseQuery q;
    q.collections = {"default"};
    q.text = text;
    std::vector<std::string> out;
    auto page = (*s)->Browse(q);
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      for (const BrowseHit& h : page->hits) out.push_back(h.id);
    }
    return out;
  };
  EXPECT_TRUE(ids("migrated").empty());
  EXPECT_EQ(ImportAll(s->get(), {named(kB, "fresh words")}).added, 1u);
  EXPECT_EQ(ids("words"), (std::vector<std::string>{kB}));
  auto n = (*s)->Reindex();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2u);
  EXPECT_TRUE(*(*s)->ValueIndexCurrent());
  EXPECT_EQ(ids("words"), (std::vector<std::string>{kB, kA}));  // newest stored first
  EXPECT_EQ(ids("migrated"), (std::vector<std::string>{kA}));
}

TEST(PgLocation, LeavesThePasswordOut) {
  EXPECT_EQ(detail::PgLocation("postgresql://accord:s3cret@db.example:5432/accord"),
            "postgresql://accord@db.example:5432/accord");
  EXPECT_EQ(detail::PgLocation("postgresql://db.example/accord"), "postgresql://db.example/accord");
  EXPECT_EQ(detail::PgLocation("postgres://u@[::1]:5433/a?sslmode=require&password=s3cret&x=1"),
            "postgres://u@[::1]:5433/a?sslmode=require&x=1");
  EXPECT_EQ(detail::PgLocation("postgresql://u:s3cret@h/db?password=s3cret"),
            "postgresql://u@h/db");
  const std::string kw = detail::PgLocation("host=db.example password='s3 cret' dbname=accord");
  EXPECT_EQ(kw.find("s3"), std::string::npos) << kw;
  EXPECT_NE(kw.find("host=db.example"), std::string::npos) << kw;
  EXPECT_NE(kw.find("dbname=accord"), std::string::npos) << kw;
}

}  // namespace
}  // namespace accord::store
