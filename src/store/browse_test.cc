// Store::Browse, the web UI's search without a value (issue 16): filters by type, collection,
// marking, modified time and words of the name or description, over the latest version of each
// object, newest stored first, in pages of bounded work. Expected sets are written out by hand
// from the records each test stores.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "accord/common/strings.h"
#include "accord/store/store.h"
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

class BrowseTest : public StoreFixture {
 protected:
  BrowseTest() : StoreFixture("accord-browse-test") {}

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
};

TEST_F(BrowseTest, FiltersByTypeWordsMarkingTimeAndCollection) {
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

TEST_F(BrowseTest, OnlyTheLatestVersionOfAnObjectIsFound) {
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

TEST_F(BrowseTest, PagesFollowEachOtherWithoutRepeatOrGap) {
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

TEST_F(BrowseTest, ABudgetBoundsEachPageAndTheCursorGoesOn) {
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

TEST_F(BrowseTest, APrefixFindsEveryWordItStartsHoweverManyThereAre) {
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

TEST_F(BrowseTest, SearchSyntaxInTheWordsIsPlainText) {
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

TEST_F(BrowseTest, ARemovedVersionLeavesTheTextIndex) {
  const std::string s = Id("sighting", 1);
  stix::ObjectRecord r = Rec(s, 1000, "", "zebra crossing");
  Import({r}, "a");
  BrowseQuery q;
  q.collections = {"a"};
  q.text = "zebra";
  EXPECT_EQ(Ids(q).size(), 1u);
  PurgeRules rules;
  rules.sightings_before = 2000;
  auto report = store_->Purge(rules, /*dry_run=*/false);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->items.size(), 1u);
  EXPECT_TRUE(Ids(q).empty());
  store_.reset();
  // In the index itself, not only through the objects it joins.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "accord.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT count(*) FROM object_text WHERE object_text MATCH 'zebra'", -1,
                         &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(BrowseTest, ReindexRebuildsTheTextIndex) {
  Import({Rec(Id("indicator", 1), 1000, "lost words")}, "a");
  store_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "accord.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO object_text(object_text) VALUES('delete-all')", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Options o;
  o.dir = dir_.string();
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
  EXPECT_EQ(Ids(q).size(), 1u);
}

TEST_F(BrowseTest, BadQueriesAreRefused) {
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
