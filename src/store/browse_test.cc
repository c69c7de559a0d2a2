// Store::Browse, the web UI's search without a value (issue 16): filters by type, collection,
// marking, modified time and words of the name or description, over the latest version of each
// object, newest stored first, in pages of bounded work. One suite run against every backend:
// SQLite in a fresh data directory, PostgreSQL in a fresh database on the server named by
// ACCORD_TEST_PG (without it those cases skip; scripts/test.sh starts one). Expected sets are
// written out by hand from the records each test stores.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/store/store.h"
#include "store/pg_util.h"
#include "store/store_common.h"
#include "store/store_test_fixture.h"

namespace accord::store {
namespace {

using common::Cat;

constexpr const char* kGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
constexpr const char* kRed = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

std::string Id(const std::string& type, int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%012d", n);
  return Cat(type, "--00000000-0000-4000-8000-", buf);
}

class BrowseTest : public BackendStoreTest {
 protected:
  BrowseTest() : BackendStoreTest("browse") {}
  // An object version with a name, a description and markings (any may be empty).
  static stix::ObjectRecord Rec(const std::string& id, common::Micros modified,
                                const std::string& name, const std::string& description = "",
                                std::vector<std::string> markings = {}) {
    stix::ObjectRecord r = TestRecord(id, modified);
    r.json.pop_back();  // the closing brace: members follow
    if (!name.empty()) r.json += Cat(R"(,"name":")", name, R"(")");
    if (!description.empty()) r.json += Cat(R"(,"description":")", description, R"(")");
    if (!markings.empty()) {
      r.json += R"(,"object_marking_refs":[)";
      for (size_t i = 0; i < markings.size(); ++i)
        r.json += Cat(i ? "," : "", "\"", markings[i], "\"");
      r.json += "]";
    }
    r.json += "}";
    r.marking_refs = std::move(markings);
    return r;
  }

  void Import(const std::vector<stix::ObjectRecord>& recs, const std::string& coll) {
    auto t = store_->BeginImport(coll);
    ASSERT_TRUE(t.ok()) << t.status();
    for (const auto& r : recs) ASSERT_TRUE((*t)->Add(r).ok());
    auto res = (*t)->Commit();
    ASSERT_TRUE(res.ok()) << res.status();
  }

  // The ids of one page, in the order given.
  std::vector<std::string> Ids(const BrowseQuery& q, BrowsePage* page = nullptr) {
    auto p = store_->Browse(q);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return {};
    std::vector<std::string> ids;
    for (const auto& h : p->hits) ids.push_back(h.id);
    if (page) *page = *p;
    return ids;
  }
  // Every hit, following the cursor to the end.
  std::vector<std::string> All(BrowseQuery q, int* pages = nullptr) {
    std::vector<std::string> ids;
    int n = 0;
    while (true) {
      BrowsePage p;
      for (auto& id : Ids(q, &p)) ids.push_back(id);
      ++n;
      if (!p.more || n > 10000) break;
      q.cursor = p.next;
    }
    if (pages) *pages = n;
    return ids;
  }

  // Runs `sql` on the store's database with a connection of its own: the backend's tables
  // themselves, below the Store interface. With `count`, the statement's one integer.
  void Sql(const std::string& sql, int64_t* count = nullptr) {
    if (sqlite()) {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open((where_.dir() / "accord.db").c_str(), &db), SQLITE_OK);
      sqlite3_stmt* st = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
          << sqlite3_errmsg(db);
      const int rc = sqlite3_step(st);
      if (count) {
        EXPECT_EQ(rc, SQLITE_ROW) << sqlite3_errmsg(db);
        *count = sqlite3_column_int64(st, 0);
      } else {
        EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
      }
      sqlite3_finalize(st);
      sqlite3_close(db);
      return;
    }
    auto c = detail::PgConn::Connect(where_.options().url);
    ASSERT_TRUE(c.ok()) << c.status();
    auto rows = (*c)->Run(sql, "test SQL");
    ASSERT_TRUE(rows.ok()) << rows.status();
    if (count) {
      ASSERT_EQ(rows->size(), 1);
      *count = rows->num(0, 0);
    }
  }
  // How many rows of the full-text index hold `word` (a lower-case ASCII word).
  int64_t IndexRowsWith(const std::string& word) {
    int64_t n = -1;
    Sql(sqlite() ? Cat("SELECT count(*) FROM object_text WHERE object_text MATCH '", word, "'")
                 : Cat("SELECT count(*) FROM object_text WHERE words @@ '", word, "'::tsquery"),
        &n);
    return n;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, BrowseTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

TEST_P(BrowseTest, FiltersByTypeWordsMarkingTimeAndCollection) {
  const std::string a1 = Id("indicator", 1), a2 = Id("malware", 2), a3 = Id("indicator", 3);
  const std::string b1 = Id("report", 4), b2 = Id("indicator", 5);
  Import({Rec(a1, 1000, "Cobalt Strike beacon", "C2 of the Émotet crew", {kGreen}),
          Rec(a2, 2000, "Emotet", "banking trojan", {kGreen}),
          Rec(a3, 3000, "phishing domain", "", {kRed})},
         "a");
  Import({Rec(b1, 4000, "Quarterly report", "mentions cobalt strike", {kGreen, kRed}),
          Rec(b2, 5000, "", "")},
         "b");
  BrowseQuery q;
  q.collections = {"a", "b"};
  // Everything, newest stored first.
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b2, b1, a3, a2, a1}));
  // Only what is in the named collections.
  q.collections = {"a"};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{a3, a2, a1}));
  q.collections = {"a", "b"};
  // Types.
  q.types = {"indicator"};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b2, a3, a1}));
  q.types = {"indicator", "report"};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b2, b1, a3, a1}));
  q.types.clear();
  // Words: all of them, in the name or the description, whatever the case and accents.
  q.text = "cobalt STRIKE";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b1, a1}));
  q.text = "emotet";  // "Émotet" in a1's description, "Emotet" as a2's name
  EXPECT_EQ(Ids(q), (std::vector<std::string>{a2, a1}));
  q.text = "cobalt trojan";
  EXPECT_TRUE(Ids(q).empty());
  q.text = "phish*";  // a prefix
  EXPECT_EQ(Ids(q), (std::vector<std::string>{a3}));
  q.text = "phish";  // whole words otherwise
  EXPECT_TRUE(Ids(q).empty());
  // A marking.
  q.text.clear();
  q.markings = {kRed};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b1, a3}));
  q.markings = {kGreen};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b1, a2, a1}));
  q.markings = {kRed, kGreen};  // either
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b1, a3, a2, a1}));
  q.markings = {kGreen};
  // Words and a marking together, and with a type.
  q.text = "cobalt";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{b1, a1}));
  q.types = {"indicator"};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{a1}));
  q.types.clear();
  q.text.clear();
  q.markings.clear();
  // Modified time: [from, until).
  q.modified_from = 2000;
  q.modified_until = 4000;
  EXPECT_EQ(Ids(q), (std::vector<std::string>{a3, a2}));
}

TEST_P(BrowseTest, OnlyTheLatestVersionOfAnObjectIsFound) {
  const std::string x = Id("indicator", 1);
  Import({Rec(x, 1000, "alpha"), Rec(x, 2000, "beta")}, "a");
  BrowseQuery q;
  q.collections = {"a"};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{x}));  // once, not once per version
  q.text = "alpha";
  EXPECT_TRUE(Ids(q).empty());
  q.text = "beta";
  BrowsePage p;
  EXPECT_EQ(Ids(q, &p), (std::vector<std::string>{x}));
  ASSERT_EQ(p.hits.size(), 1u);
  EXPECT_EQ(p.hits[0].modified, 2000);
  // A newer version stored later, in another collection: the object's latest is that one, so
  // the search of "a" alone finds the object no more (the gate above decides on the latest).
  Import({Rec(x, 3000, "gamma")}, "b");
  q.text.clear();
  EXPECT_TRUE(Ids(q).empty());
  q.collections = {"a", "b"};
  EXPECT_EQ(Ids(q), (std::vector<std::string>{x}));
}

TEST_P(BrowseTest, PagesFollowEachOtherWithoutRepeatOrGap) {
  std::vector<stix::ObjectRecord> recs;
  std::vector<std::string> expected;
  for (int i = 1; i <= 120; ++i) {
    recs.push_back(Rec(Id("indicator", i), 1000 + i, Cat("object number ", i)));
    expected.insert(expected.begin(), Id("indicator", i));  // newest first
  }
  Import(recs, "a");
  BrowseQuery q;
  q.collections = {"a"};
  q.limit = 50;
  BrowsePage p1;
  auto first = Ids(q, &p1);
  EXPECT_EQ(first.size(), 50u);
  EXPECT_TRUE(p1.more);
  int pages = 0;
  EXPECT_EQ(All(q, &pages), expected);
  EXPECT_EQ(pages, 3);  // 50 + 50 + 20
  q.text = "object";
  EXPECT_EQ(All(q), expected);
}

TEST_P(BrowseTest, ABudgetBoundsEachPageAndTheCursorGoesOn) {
  // The only match is the oldest of 1,001 versions; a budget of 100 versions per page gets
  // there in pages that each say how far back they went.
  std::vector<stix::ObjectRecord> recs;
  recs.push_back(Rec(Id("malware", 1), 1000, "needle"));
  for (int i = 2; i <= 1001; ++i) recs.push_back(Rec(Id("indicator", i), 1000, "hay"));
  Import(recs, "a");
  BrowseQuery q;
  q.collections = {"a"};
  q.types = {"malware"};
  q.budget = 100;
  BrowsePage p;
  EXPECT_TRUE(Ids(q, &p).empty());
  EXPECT_TRUE(p.more);
  EXPECT_GT(p.reached, 0);
  int pages = 0;
  EXPECT_EQ(All(q, &pages), (std::vector<std::string>{Id("malware", 1)}));
  EXPECT_GE(pages, 10);  // 1,001 versions at 100 a page
  EXPECT_LE(pages, 11);
  q.types.clear();
  q.text = "needle";
  EXPECT_EQ(All(q), (std::vector<std::string>{Id("malware", 1)}));
}

TEST_P(BrowseTest, APrefixFindsEveryWordItStartsHoweverManyThereAre) {
  // 300 words "alphaN": "alpha*" starts all 300 (more than a prefix is expanded to: the index's
  // own prefix query), "ALPHA1*" 111 of them (alpha1, alpha10-19, alpha100-199: expanded).
  std::vector<stix::ObjectRecord> recs;
  std::vector<std::string> all, ones;
  for (int i = 0; i < 300; ++i) {
    recs.push_back(Rec(Id("indicator", i + 1), 1000, Cat("alpha", i)));
    all.insert(all.begin(), Id("indicator", i + 1));
    std::string n = std::to_string(i);
    if (n[0] == '1') ones.insert(ones.begin(), Id("indicator", i + 1));
  }
  recs.push_back(Rec(Id("indicator", 301), 1000, "beta"));
  Import(recs, "a");
  ASSERT_EQ(ones.size(), 111u);
  BrowseQuery q;
  q.collections = {"a"};
  q.limit = 40;
  q.text = "alpha*";
  EXPECT_EQ(All(q), all);
  q.text = "ALPHA1*";
  EXPECT_EQ(All(q), ones);
  q.text = "alpha1* alpha10*";  // both: alpha10 and alpha100-109
  std::vector<std::string> tens;
  for (int i : {109, 108, 107, 106, 105, 104, 103, 102, 101, 100, 10}) {
    tens.push_back(Id("indicator", i + 1));
  }
  EXPECT_EQ(All(q), tens);
  q.text = "gamma*";  // starts no word
  EXPECT_TRUE(All(q).empty());
}

TEST_P(BrowseTest, SearchSyntaxInTheWordsIsPlainText) {
  Import({Rec(Id("indicator", 1), 1000, "name OR description", "NOT (this)"),
          Rec(Id("indicator", 2), 1000, "", "C2 at 203.0.113.10, it’s «live»")},
         "a");
  BrowseQuery q;
  q.collections = {"a"};
  for (const char* text :
       {"\"", "*", "OR", "NOT", "(", "name:", "{name} : x", "NEAR(a b)", "\"\"\"", "a\"b", "-",
        "^x", "!!!", "it’s", "«", "a…b", "中文", "\xff\xfe", "x\xe2\x80"}) {
    q.text = text;
    auto p = store_->Browse(q);
    EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  }
  q.text = "or not";  // the words themselves, not operators
  EXPECT_EQ(Ids(q), (std::vector<std::string>{Id("indicator", 1)}));
  // Words inside punctuation: an address's parts, a word beside typographic quotes.
  for (const char* text : {"203.0.113.10", "it’s", "«live»", "C2 203.0.113.*"}) {
    q.text = text;
    EXPECT_EQ(Ids(q), (std::vector<std::string>{Id("indicator", 2)})) << text;
  }
  q.text = "!!!";  // no word at all: nothing, rather than everything
  EXPECT_TRUE(Ids(q).empty());
}

TEST_P(BrowseTest, ARemovedVersionLeavesTheTextIndex) {
  const std::string s = Id("sighting", 1);
  stix::ObjectRecord r = Rec(s, 1000, "", "zebra crossing");
  Import({r}, "a");
  BrowseQuery q;
  q.collections = {"a"};
  q.text = "zebra";
  EXPECT_EQ(Ids(q).size(), 1u);
  EXPECT_EQ(IndexRowsWith("zebra"), 1);
  PurgeRules rules;
  rules.sightings_before = 2000;
  auto report = store_->Purge(rules, /*dry_run=*/false);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->items.size(), 1u);
  EXPECT_TRUE(Ids(q).empty());
  store_.reset();
  // In the index itself, not only through the objects it joins.
  EXPECT_EQ(IndexRowsWith("zebra"), 0);
}

TEST_P(BrowseTest, AReplacedOrDeletedVersionIsNotFound) {
  // x's stored copy says "old words"; a copy of the same version saying "new words" is refused
  // into quarantine and then released as the right one: the stored copy leaves the store. (A
  // release reads the copies back, so these are whole STIX objects.)
  const std::string x = Id("malware", 1), y = Id("malware", 2);
  auto malware = [](const std::string& id, const std::string& name) {
    auto r = detail::RecordOf(
        Cat(R"({"type":"malware","spec_version":"2.1","id":")", id,
            R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)",
            R"("name":")", name, R"(","is_family":false})"),
        "test");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : stix::ObjectRecord{};
  };
  Import({malware(x, "old words"), malware(y, "kept words")}, "a");
  Import({malware(x, "new words")}, "a");
  auto held = store_->quarantine()->ListQuarantine(0);
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 1u);
  absl::Status released =
      store_->quarantine()->ReleaseQuarantined((*held)[0].qid, Quarantine::Winner::kQuarantined);
  ASSERT_TRUE(released.ok()) << released;
  BrowseQuery q;
  q.collections = {"a"};
  q.text = "old";
  EXPECT_TRUE(Ids(q).empty());
  EXPECT_EQ(IndexRowsWith("old"), 0);
  q.text = "new";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{x}));
  q.text = "words";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{x, y}));  // the released copy is stored last
  // Taken out of its only collection, y is found no more.
  auto gone = store_->Delete("a", y, {});
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(*gone, 1u);
  EXPECT_EQ(Ids(q), (std::vector<std::string>{x}));
  q.text = "kept";
  EXPECT_TRUE(Ids(q).empty());
}

TEST_P(BrowseTest, ReindexRebuildsTheTextIndex) {
  Import({Rec(Id("indicator", 1), 1000, "lost words")}, "a");
  store_.reset();
  Sql(sqlite() ? "INSERT INTO object_text(object_text) VALUES('delete-all')"
               : "DELETE FROM object_text");
  Options o = where_.options();
  o.derive_terms = [](const stix::ObjectRecord&, std::vector<std::string>*) {};
  auto s = Store::Open(o);
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = std::move(*s);
  BrowseQuery q;
  q.collections = {"a"};
  q.text = "lost";
  EXPECT_TRUE(Ids(q).empty());
  auto n = store_->Reindex();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(Ids(q).size(), 1u);
  auto current = store_->ValueIndexCurrent();
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_TRUE(*current);
}

TEST_P(BrowseTest, CaseAndAccentsFoldInTheTextAndInTheWords) {
  const std::string i1 = Id("indicator", 1), i2 = Id("indicator", 2), i3 = Id("indicator", 3);
  Import({Rec(i1, 1000, "Opération Crème Brûlée"), Rec(i2, 1000, "", "ПРИВЕТ from Zürich"),
          Rec(i3, 1000, "CREME caramel")},
         "a");
  BrowseQuery q;
  q.collections = {"a"};
  // (i3 was stored after i1, so it comes first.)
  for (const char* text : {"creme", "CRÈME", "crème", "Crème"}) {
    q.text = text;
    EXPECT_EQ(Ids(q), (std::vector<std::string>{i3, i1})) << text;
  }
  for (const char* text : {"brulee", "BRÛLÉE", "operation crème", "brû*", "BRUL*", "Opér*"}) {
    q.text = text;
    EXPECT_EQ(Ids(q), (std::vector<std::string>{i1})) << text;
  }
  for (const char* text : {"привет", "Привет", "zurich", "ZÜR*", "zür* from"}) {
    q.text = text;
    EXPECT_EQ(Ids(q), (std::vector<std::string>{i2})) << text;
  }
  q.text = "cara* crè*";  // both prefixes: only i3 has a word for each
  EXPECT_EQ(Ids(q), (std::vector<std::string>{i3}));
  for (const char* text : {"brul", "é", "crem", "привет caramel"}) {  // whole words, all of them
    q.text = text;
    EXPECT_TRUE(Ids(q).empty()) << text;
  }
}

TEST_P(BrowseTest, TextSearchOperatorsInTheWordsArePlainText) {
  // PostgreSQL's tsquery syntax (& | ! : * ( ) ' \ <->) and SQL quoting in the words: neither
  // an error nor an operator. j2 is there so that a negation or an OR would show.
  const std::string j1 = Id("indicator", 1), j2 = Id("indicator", 2);
  Import({Rec(j1, 1000, "O'Brien & Sons", "cobalt|strike (beacon) a:b back\\\\slash !bang <-> x:*"),
          Rec(j2, 1000, "other", "plain words")},
         "a");
  BrowseQuery q;
  q.collections = {"a"};
  for (const char* text :
       {"&",     "|",   "!",       ":",       "*",   "(",         ")",
        "'",     "\\",  "''",      "'a'",     "\\'", "a & b",     "a | b",
        "!a",    "a:*", ":*",      "a:b",     "a:A", "a:1",       "(a",
        "a)",    "<->", "a <-> b", "a <2> b", "$1",  "::tsquery", "'; DROP TABLE objects; --",
        "\\x27", "*:*", "!(a|b)&c"}) {
    q.text = text;
    auto p = store_->Browse(q);
    EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  }
  // Each a set of words that j1 holds, and only j1: all of them, whatever stands between.
  for (const char* text :
       {"o'brien", "sons&cobalt", "cobalt|strike", "(beacon)", "!bang", "back\\slash", "a:b", "x:*",
        "brien:*", "bri*", "!cobalt", "'sons'", "strike:A", "o'brien & sons"}) {
    q.text = text;
    EXPECT_EQ(Ids(q), (std::vector<std::string>{j1})) << text;
  }
  for (const char* text : {"cobalt | other", "!other & cobalt", "'; DROP TABLE objects; --"}) {
    q.text = text;
    EXPECT_TRUE(Ids(q).empty()) << text;
  }
  q.text = "plain";  // the store is as it was
  EXPECT_EQ(Ids(q), (std::vector<std::string>{j2}));
}

TEST_P(BrowseTest, BadQueriesAreRefused) {
  Import({Rec(Id("indicator", 1), 1000, "x")}, "a");
  BrowseQuery q;
  EXPECT_EQ(store_->Browse(q).status().code(),
            absl::StatusCode::kInvalidArgument);  // no collection
  q.collections = {"a"};
  q.cursor = "x12";
  EXPECT_EQ(store_->Browse(q).status().code(), absl::StatusCode::kInvalidArgument);
  q.cursor.clear();
  q.collections = {"absent"};
  EXPECT_EQ(store_->Browse(q).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace accord::store
