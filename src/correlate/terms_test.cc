#include "accord/correlate/terms.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "accord/stix/reader.h"
#include "accord/store/store.h"
#include "common/test_util.h"
#include "store/store_test_fixture.h"

namespace accord::correlate {
namespace {

using Terms = std::set<std::string>;

stix::ObjectRecord Read(const std::string& json) {
  stix::ObjectRecord out;
  stix::ReaderOptions ro;
  auto st = stix::ReadBuffer(
      json, ro,
      [&](stix::ObjectRecord&& r) {
        out = std::move(r);
        return absl::OkStatus();
      },
      [](stix::Problem&& p) { ADD_FAILURE() << p.ToString(); });
  EXPECT_TRUE(st.ok());
  return out;
}

Terms Of(const std::string& json) {
  const stix::ObjectRecord r = Read(json);
  std::vector<std::string> t;
  DeriveTerms(r, &t);
  // The ingest path derives from the reader's parse instead (DeriveTermsFromDom): the same.
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  EXPECT_EQ(parser.parse(r.json).get_object().get(o), simdjson::SUCCESS) << json;
  std::vector<std::string> from_dom;
  DeriveTermsFromDom(r, o, &from_dom);
  EXPECT_EQ(Terms(from_dom.begin(), from_dom.end()), Terms(t.begin(), t.end())) << json;
  return Terms(t.begin(), t.end());
}

std::string Indicator(const std::string& id, const std::string& pattern,
                      const std::string& modified = "2024-01-01T00:00:00.000Z") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":")" + modified + R"(","pattern":")" +
         pattern + R"(","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"})";
}

const char* kId1 = "indicator--11111111-1111-4111-8111-111111111111";
const char* kId2 = "indicator--22222222-2222-4222-8222-222222222222";

// Expected terms written by hand from the STIX text of each object.
TEST(DeriveTerms, IndicatorPatterns) {
  EXPECT_EQ(Of(Indicator(kId1,
                         "[domain-name:value = 'Evil.Example.com'] OR [ipv4-addr:value = "
                         "'192.0.2.1']")),
            (Terms{"domain:evil.example.com", "ipv4:192.0.2.1", "ipv4n:c0000201"}));
  // AND and FOLLOWEDBY: every literal that is a value; the URL also by its host.
  EXPECT_EQ(Of(Indicator(kId1,
                         "[url:value = 'http://bad.example.org/x' AND url:value != "
                         "'nothing'] FOLLOWEDBY [file:hashes.MD5 = "
                         "'0123456789ABCDEF0123456789ABCDEF'] WITHIN 60 SECONDS")),
            (Terms{"url:http://bad.example.org/x", "domain:bad.example.org",
                   "md5:0123456789abcdef0123456789abcdef"}));
  EXPECT_EQ(Of(Indicator(kId1, "[ipv4-addr:value = '10.1.2.3/8']")),
            (Terms{"ipv4-cidr:10.0.0.0/8"}));
  EXPECT_EQ(Of(Indicator(kId1, "[email-addr:value = 'bob@mail.example.net']")),
            (Terms{"email:bob@mail.example.net", "domain:mail.example.net"}));
}

TEST(DeriveTerms, ObservablesSightingsAndReports) {
  EXPECT_EQ(
      Of(R"({"type":"domain-name","spec_version":"2.1","id":"domain-name--6262c8a9-ac28-50fe-a7df-f5923bb2ee14","value":"evil.example.com"})"),
      (Terms{"domain:evil.example.com"}));
  EXPECT_EQ(
      Of(R"({"type":"sighting","spec_version":"2.1","id":"sighting--33333333-3333-4333-8333-333333333333","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":")" +
         std::string(kId1) + R"("})"),
      (Terms{std::string("ref:") + kId1}));
  EXPECT_EQ(
      Of(R"({"type":"report","spec_version":"2.1","id":"report--44444444-4444-4444-8444-444444444444","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Campaign","published":"2024-01-01T00:00:00Z","description":"C2 at hxxp://evil[.]example.com/gate and 198.51.100.4.","object_refs":[")" +
         std::string(kId1) + R"("]})"),
      (Terms{std::string("ref:") + kId1, "url:http://evil.example.com/gate",
             "domain:evil.example.com", "ipv4:198.51.100.4", "ipv4n:c6336404"}));
}

TEST(QueryTerms, AnAddressAlsoLooksUpTheCidrsThatHoldIt) {
  auto t = QueryTerms(formats::Value{formats::ValueKind::kIpv4, "10.1.2.3"});
  Terms s(t.begin(), t.end());
  EXPECT_TRUE(s.count("ipv4:10.1.2.3"));
  EXPECT_TRUE(s.count("ipv4-cidr:10.0.0.0/8"));
  EXPECT_TRUE(s.count("ipv4-cidr:10.1.2.0/24"));
  EXPECT_TRUE(s.count("ipv4-cidr:0.0.0.0/0"));
  EXPECT_FALSE(s.count("ipv4-cidr:10.1.2.3/32"));  // a /32 is the address itself
  std::string lo, hi;
  ASSERT_TRUE(AddressRange(formats::Value{formats::ValueKind::kIpv4Cidr, "10.1.2.0/24"}, &lo, &hi));
  EXPECT_EQ(lo, "ipv4n:0a010200");
  EXPECT_EQ(hi, "ipv4n:0a0102ff");
}

// Adds `objs` to "default" in one transaction, committed or (commit false) rolled back.
void Import(store::Store* s, const std::vector<std::string>& objs, bool commit = true) {
  auto t = s->BeginImport("default");
  ASSERT_TRUE(t.ok()) << t.status();
  for (const auto& o : objs) ASSERT_TRUE((*t)->Add(Read(o)).ok());
  if (commit) {
    ASSERT_TRUE((*t)->Commit().ok());
  }
}

// The store keeps one row per (term, version), written with the version: N versions holding one
// value are N rows (not N^2 pairs); a rolled-back transaction leaves none; an old store is
// indexed by Reindex.
class ValueIndexStore : public ::testing::Test {
 protected:
  ValueIndexStore() : tmp_("value-index") {}
  std::unique_ptr<store::Store> Open(bool with_deriver) {
    store::Options o;
    o.dir = tmp_.path().string();
    o.derive_terms = with_deriver ? store::TermDeriver(DeriveTerms) : store::TermDeriver();
    auto s = store::Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
  int64_t Rows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((tmp_.path() / "accord.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM value_keys", -1, &q, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
  }
  testing::TempDir tmp_;
};

TEST_F(ValueIndexStore, RowsGrowWithValuesNotWithTheirRepeats) {
  auto s = Open(true);
  const int n = 50;
  std::vector<std::string> objs;
  for (int i = 0; i < n; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--%08d-1111-4111-8111-111111111111", i);
    objs.push_back(Indicator(id, "[domain-name:value = 'shared.example.com']"));
  }
  Import(s.get(), objs);
  EXPECT_EQ(Rows(), n);  // one row per version: 50, where a pair table would hold 50*49
  auto hits = s->FindTerms({"domain:shared.example.com"}, 1000);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), static_cast<size_t>(n));
  auto none = s->FindTerms({"domain:other.example.com"}, 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // A rolled-back transaction leaves no term behind.
  Import(s.get(), {Indicator(kId2, "[domain-name:value = 'rolled.example.com']")}, false);
  EXPECT_EQ(Rows(), n);
  EXPECT_TRUE(s->FindTerms({"domain:rolled.example.com"}, 10)->empty());
}

// There is no index by version (schema 8): a purge derives the purged version's terms again
// and removes exactly its rows, leaving the other version's rows for the same value.
TEST_F(ValueIndexStore, PurgeRemovesThePurgedVersionsRowsAndNoOthers) {
  auto s = Open(true);
  std::string expired = Indicator(kId1,
                                  "[ipv4-addr:value = '198.51.100.7'] AND "
                                  "[domain-name:value = 'gone.example.org']");
  expired.insert(expired.size() - 1, R"(,"valid_until":"2024-06-01T00:00:00Z")");
  Import(s.get(), {expired, Indicator(kId2, "[ipv4-addr:value = '198.51.100.7']")});
  // By hand: kId1 holds ipv4:198.51.100.7, ipv4n:c6336407 and domain:gone.example.org; kId2
  // the two address terms.
  EXPECT_EQ(Rows(), 5);
  store::PurgeRules rules;
  rules.indicators_expired_before = 1735689600000000;  // 2025-01-01
  auto report = s->Purge(rules, false);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->items.size(), 1u);
  EXPECT_EQ(Rows(), 2);
  EXPECT_TRUE(s->FindTerms({"domain:gone.example.org"}, 10)->empty());
  auto kept = s->FindTerms({"ipv4:198.51.100.7"}, 10);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].id, kId2);
}

TEST_F(ValueIndexStore, VersionsStoredWithoutTheIndexAreIndexedByReindex) {
  {
    auto s = Open(false);  // as a store written before the index: no rows
    Import(s.get(), {Indicator(kId1, "[ipv4-addr:value = '203.0.113.5']")});
  }
  EXPECT_EQ(Rows(), 0);
  auto s = Open(true);
  // A new store is current; mark it as an old one would be after migration.
  ASSERT_TRUE(s->PutSetting("value_index.stale", "1").ok());
  EXPECT_FALSE(*s->ValueIndexCurrent());
  auto n = s->Reindex();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(*s->ValueIndexCurrent());
  auto hits = s->FindTerms({"ipv4:203.0.113.5"}, 10);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, kId1);
  auto range = s->FindTermRange("ipv4n:cb007100", "ipv4n:cb0071ff", 10);  // 203.0.113.0/24
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->size(), 1u);
}

// A store of schema 9 kept the terms' text (value_terms): opening it drops that table and marks
// the index stale; Reindex writes the keys.
TEST_F(ValueIndexStore, ASchemaNineStoreIsReindexedUnderKeys) {
  {
    auto s = Open(true);
    Import(s.get(), {Indicator(kId1, "[domain-name:value = 'old.example.net']")});
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((tmp_.path() / "accord.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE value_keys; CREATE TABLE value_terms(term TEXT NOT NULL, "
                         "vid INTEGER NOT NULL, PRIMARY KEY(term, vid)) WITHOUT ROWID; "
                         "INSERT INTO value_terms SELECT 'domain:old.example.net', vid FROM "
                         "objects; PRAGMA user_version = 9;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = Open(true);
  EXPECT_FALSE(*s->ValueIndexCurrent());
  EXPECT_EQ(Rows(), 0);
  ASSERT_EQ(sqlite3_open((tmp_.path() / "accord.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name='value_terms'",
                               -1, &q, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  ASSERT_TRUE(s->Reindex().ok());
  EXPECT_EQ(Rows(), 1);
  auto hits = s->FindTerms({"domain:old.example.net"}, 10);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, kId1);
  EXPECT_EQ((*hits)[0].term, "domain:old.example.net");
}

// An import prepares each record off the writer thread (Store::PrepareWrite: hashes, index keys,
// full-text row). A prepared version is indexed exactly as one the writer prepares itself: found
// by value and by word, and purged without a row left behind (the purge derives the rows again
// from the JSON).
TEST_F(ValueIndexStore, APreparedVersionIsIndexedAndPurgedAsAnyOther) {
  auto s = Open(true);
  std::string expired = Indicator(kId1, "[domain-name:value = 'both.example.org']");
  expired.insert(expired.size() - 1,
                 R"(,"name":"Prepared beacon","valid_until":"2024-06-01T00:00:00Z")");
  std::string kept = Indicator(kId2, "[domain-name:value = 'both.example.org']");
  kept.insert(kept.size() - 1, R"(,"name":"Unprepared beacon")");
  {
    auto t = s->BeginImport("default");
    ASSERT_TRUE(t.ok());
    stix::ObjectRecord a = Read(expired);
    s->PrepareWrite(&a);
    ASSERT_TRUE(a.prepared.has_value());
    ASSERT_TRUE((*t)->Add(a).ok());
    ASSERT_TRUE((*t)->Add(Read(kept)).ok());
    ASSERT_TRUE((*t)->Commit().ok());
  }
  EXPECT_EQ(Rows(), 2);  // one domain term each
  auto hits = s->FindTerms({"domain:both.example.org"}, 10);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), 2u);
  store::BrowseQuery q;
  q.collections = {"default"};
  q.text = "beacon";
  auto page = s->Browse(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->hits.size(), 2u);
  store::PurgeRules rules;
  rules.indicators_expired_before = 1735689600000000;  // 2025-01-01
  ASSERT_TRUE(s->Purge(rules, false).ok());
  EXPECT_EQ(Rows(), 1);
  hits = s->FindTerms({"domain:both.example.org"}, 10);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, kId2);
  q.text = "prepared";
  page = s->Browse(q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->hits.empty());
  q.text = "beacon";
  page = s->Browse(q);
  ASSERT_EQ(page->hits.size(), 1u);
  EXPECT_EQ(page->hits[0].id, kId2);
}

}  // namespace
// The value index on every store backend (issue 17): the same answers from SQLite and from
// PostgreSQL (on the server of ACCORD_TEST_PG).
class ValueIndexBackends : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (where_.server_missing()) {
      GTEST_SKIP() << "ACCORD_TEST_PG is not set (scripts/test.sh starts a PostgreSQL server)";
    }
    absl::Status made = where_.Make();
    ASSERT_TRUE(made.ok()) << made;
  }
  std::unique_ptr<store::Store> Open() {
    store::Options o = where_.options();
    o.derive_terms = DeriveTerms;
    auto s = store::Store::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  store::TestStoreLocation where_{GetParam(), "value-index"};
};

INSTANTIATE_TEST_SUITE_P(Backends, ValueIndexBackends, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

TEST_P(ValueIndexBackends, AValueFindsEveryVersionHoldingItAndNoRolledBackOne) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  std::vector<std::string> objs;
  for (int i = 0; i < 20; ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--%08d-1111-4111-8111-111111111111", i);
    objs.push_back(Indicator(id, "[domain-name:value = 'shared.example.com']"));
  }
  Import(s.get(), objs);
  auto hits = s->FindTerms({"domain:shared.example.com"}, 1000);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), objs.size());
  EXPECT_EQ((*hits)[0].id, "indicator--00000000-1111-4111-8111-111111111111");  // version order
  EXPECT_EQ((*hits)[0].type, "indicator");
  EXPECT_EQ(s->FindTerms({"domain:shared.example.com"}, 5)->size(), 5u);  // the limit
  EXPECT_TRUE(s->FindTerms({"domain:other.example.com"}, 1000)->empty());
  Import(s.get(), {Indicator(kId2, "[domain-name:value = 'rolled.example.com']")}, false);
  EXPECT_TRUE(s->FindTerms({"domain:rolled.example.com"}, 10)->empty());
}

// The store keeps 64-bit keys, not the terms' text (SQLite's schema 10, and PostgreSQL): a
// range holds IPv4 addresses only (in numeric order, named by their term again), never the
// hashed keys of other terms.
TEST_P(ValueIndexBackends, ARangeHoldsAddressesInOrderAndNothingElse) {
  auto s = Open();
  Import(s.get(), {Indicator(kId1, "[ipv4-addr:value = '255.255.255.255']"),
                   Indicator(kId2, "[ipv4-addr:value = '0.0.0.1']"),
                   Indicator("indicator--33333333-3333-4333-8333-333333333333",
                             "[ipv4-addr:value = '10.0.0.1']"),
                   Indicator("indicator--44444444-4444-4444-8444-444444444444",
                             "[domain-name:value = 'example.org']")});
  auto all = s->FindTermRange("ipv4n:00000000", "ipv4n:ffffffff", 100);  // 0.0.0.0/0
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].term, "ipv4n:00000001");
  EXPECT_EQ((*all)[0].id, kId2);
  EXPECT_EQ((*all)[1].term, "ipv4n:0a000001");
  EXPECT_EQ((*all)[2].term, "ipv4n:ffffffff");
  EXPECT_EQ((*all)[2].id, kId1);
  auto ten = s->FindTermRange("ipv4n:0a000000", "ipv4n:0affffff", 100);  // 10.0.0.0/8
  ASSERT_TRUE(ten.ok());
  ASSERT_EQ(ten->size(), 1u);
  EXPECT_EQ((*ten)[0].id, "indicator--33333333-3333-4333-8333-333333333333");
  auto words = s->FindTermRange("domain:a", "domain:z", 100);
  EXPECT_EQ(words.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace accord::correlate
