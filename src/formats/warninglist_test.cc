// MISP warninglists: parsing, each list type's matching rules on hand-written lists, and the
// real MISP/misp-warninglists lists (../shared/data/warninglists, MANIFEST.md there), whose
// expected matches are computed here from the raw JSON by a plain reference matcher.
#include "accord/formats/warninglist.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/test_util.h"

namespace accord::formats {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Names = std::vector<std::string>;

Names ToNames(const std::vector<std::string_view>& v) { return Names(v.begin(), v.end()); }

Warninglist List(std::string name, std::string type, std::vector<std::string> entries,
                 std::vector<std::string> attrs = {}) {
  Warninglist w;
  w.name = std::move(name);
  w.description = "test";
  w.type = std::move(type);
  w.version = 1;
  w.entries = std::move(entries);
  w.matching_attributes = std::move(attrs);
  return w;
}

// A set built from hand-written lists; problems are collected.
struct Built {
  WarninglistSet set;
  std::vector<Problem> problems;
  void Add(Warninglist w) {
    absl::Status st = set.Add(std::move(w), [&](Problem&& p) { problems.push_back(p); });
    ASSERT_TRUE(st.ok()) << st;
  }
  Names Match(ValueKind k, std::string v) const { return ToNames(set.Match(Value{k, v})); }
};

// ---------------------------------------------------------------------------------------------
// Parsing

TEST(ParseWarninglistTest, ReadsEveryMember) {
  auto w = ParseWarninglist(R"({"name": "N", "description": "D", "version": 20240101,
      "type": "hostname", "category": "known", "matching_attributes": ["domain", "url"],
      "list": ["a.example", "b.example"], "extra": 1})",
                            "x.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->source, "x.json");
  EXPECT_EQ(w->name, "N");
  EXPECT_EQ(w->description, "D");
  EXPECT_EQ(w->version, 20240101);
  EXPECT_EQ(w->type, "hostname");
  EXPECT_EQ(w->category, "known");
  EXPECT_THAT(w->matching_attributes, ElementsAre("domain", "url"));
  EXPECT_THAT(w->entries, ElementsAre("a.example", "b.example"));
}

TEST(ParseWarninglistTest, DefaultsAndSpellings) {
  auto w = ParseWarninglist(R"({"name":"N","description":"","version":1,"type":"cidr","list":[]})",
                            "x.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->category, "false_positive");  // MISP's default
  EXPECT_THAT(w->matching_attributes, IsEmpty());
  w = ParseWarninglist(
      R"({"name":"N","description":"","version":1,"type":"cidr","list":[],
          "category":"false-positive"})",
      "x.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->category, "false_positive");
}

TEST(ParseWarninglistTest, ListWithCommentsTakesTheKeys) {
  // MISP's import accepts {"value": "comment"} as well as an array.
  auto w = ParseWarninglist(R"({"name":"N","description":"d","version":2,"type":"string",
      "list":{"one.example":"first","two.example":""}})",
                            "c.json");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_THAT(w->entries, ElementsAre("one.example", "two.example"));
}

TEST(ParseWarninglistTest, ErrorsNameTheSourceAndTheRule) {
  struct Case {
    const char* json;
    const char* expect;
  };
  const Case cases[] = {
      {R"({"name":"N",)", "not valid JSON"},
      {R"(["a"])", "is a JSON object"},
      {R"({"description":"d","version":1,"type":"string","list":[]})", "missing member \"name\""},
      {R"({"name":"","description":"d","version":1,"type":"string","list":[]})",
       "\"name\" is empty"},
      {R"({"name":"N","version":1,"type":"string","list":[]})", "missing member \"description\""},
      {R"({"name":"N","description":"d","type":"string","list":[]})", "missing member \"version\""},
      {R"({"name":"N","description":"d","version":"1","type":"string","list":[]})",
       "\"version\" is not an integer"},
      {R"({"name":"N","description":"d","version":1.5,"type":"string","list":[]})",
       "\"version\" is not an integer"},
      {R"({"name":"N","description":"d","version":1,"list":[]})", "missing member \"type\""},
      {R"({"name":"N","description":"d","version":1,"type":"glob","list":[]})",
       "unknown type \"glob\""},
      {R"({"name":"N","description":"d","version":1,"type":["cidr"],"list":[]})",
       "\"type\" is not a string"},
      {R"({"name":"N","description":"d","version":1,"type":"cidr"})", "missing member \"list\""},
      {R"({"name":"N","description":"d","version":1,"type":"cidr","list":"10.0.0.0/8"})",
       "\"list\" is neither"},
      {R"({"name":"N","description":"d","version":1,"type":"cidr","list":["a",2]})",
       "list[1] is not a string"},
      {R"({"name":"N","description":"d","version":1,"type":"cidr","list":[],
          "matching_attributes":"ip-src"})",
       "\"matching_attributes\" is not an array"},
      {R"({"name":"N","description":"d","version":1,"type":"cidr","list":[],
          "matching_attributes":["ip-src",7]})",
       "matching_attributes[1] is not a string"},
      {R"({"name":"N","description":"d","version":1,"type":"cidr","list":[],
          "category":"benign"})",
       "unknown category \"benign\""},
  };
  for (const Case& c : cases) {
    auto w = ParseWarninglist(c.json, "lists/bad/list.json");
    ASSERT_FALSE(w.ok()) << c.json;
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
    std::string msg(w.status().message());
    EXPECT_THAT(msg, HasSubstr("lists/bad/list.json: ")) << c.json;
    EXPECT_THAT(msg, HasSubstr(c.expect)) << c.json;
  }
}

TEST(ParseWarninglistTest, OverLongEntryIsAnError) {
  std::string big(kMaxWarninglistEntryBytes + 1, 'a');
  auto w = ParseWarninglist(
      R"({"name":"N","description":"d","version":1,"type":"string","list":["ok",")" + big + "\"]}",
      "big.json");
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("big.json: list[1] is"));
}

// ---------------------------------------------------------------------------------------------
// Hand-written lists, one type at a time

TEST(WarninglistSetTest, StringIsWholeValueAndCaseInsensitive) {
  Built b;
  b.Add(
      List("S", "string",
           {"Evil.Example", "d41d8cd98f00b204e9800998ecf8427e", "8.8.4.4", "", "http://x.test/A"}));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "evil.example"), ElementsAre("S"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "EVIL.example"), ElementsAre("S"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "evil.example."), ElementsAre("S"));  // root dot
  EXPECT_THAT(b.Match(ValueKind::kDomain, "www.evil.example"), IsEmpty());  // not a hostname list
  EXPECT_THAT(b.Match(ValueKind::kDomain, "evil.example.org"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kMd5, "D41D8CD98F00B204E9800998ECF8427E"), ElementsAre("S"));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "8.8.4.4"), ElementsAre("S"));
  EXPECT_THAT(b.Match(ValueKind::kUrl, "http://x.test/a"), ElementsAre("S"));
  // A URL is compared whole, as MISP does: its host alone is not the value.
  EXPECT_THAT(b.Match(ValueKind::kUrl, "http://evil.example/"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kDomain, ""), IsEmpty());  // the empty entry is dropped
  EXPECT_THAT(b.problems, IsEmpty());
}

TEST(WarninglistSetTest, HostnameMatchesTheDomainAndItsSubdomains) {
  Built b;
  b.Add(List("H", "hostname",
             {"example.com", ".dotted.org", "*.wild.net", "Trailing.Dot.", "CAPS.IO"},
             {"domain", "url", "email-src"}));
  auto m = [&](ValueKind k, const char* v) { return b.Match(k, v); };
  EXPECT_THAT(m(ValueKind::kDomain, "example.com"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "www.example.com"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "a.b.c.example.com"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "WWW.Example.COM."), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "notexample.com"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kDomain, "example.com.evil.test"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kDomain, "com"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kDomain, "dotted.org"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "x.dotted.org"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "wild.net"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "deep.x.wild.net"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "sub.trailing.dot"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kDomain, "caps.io"), ElementsAre("H"));
  // URL: the host, past scheme, user info and port; the path does not count.
  EXPECT_THAT(m(ValueKind::kUrl, "https://user:pw@www.example.com:8443/p?q=1#f"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kUrl, "HTTP://WWW.EXAMPLE.COM"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kUrl, "www.example.com/path"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kUrl, "http://evil.test/www.example.com"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kUrl, "http://evil.test/?u=http://example.com"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kUrl, "http://example.com.evil.test:80/"), IsEmpty());
  // E-mail: the domain after the last '@'.
  EXPECT_THAT(m(ValueKind::kEmail, "alice@mail.example.com"), ElementsAre("H"));
  EXPECT_THAT(m(ValueKind::kEmail, "example.com@evil.test"), IsEmpty());
  // Kinds outside matching_attributes.
  EXPECT_THAT(m(ValueKind::kIpv4, "1.2.3.4"), IsEmpty());
}

TEST(WarninglistSetTest, SubstringFindsEntriesAnywhere) {
  Built b;
  b.Add(List("Disposable", "substring", {"mailinator", "0-mail.com", "", "Yopmail"},
             {"email-src", "email-dst"}));
  // Classic overlapping set: the automaton must report "he" inside "ushers" via failure links.
  b.Add(List("Overlap", "substring", {"he", "she", "his", "hers"}));
  b.Add(List("Tail", "substring", {"bcd"}));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "bob@0-mail.com"), ElementsAre("Disposable"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "bob@MAILINATOR.net"), ElementsAre("Disposable"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "x@yopmail.fr"), ElementsAre("Disposable"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "bob@gmail.com"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kDomain, "mailinator.com"), IsEmpty());  // not an e-mail kind
  EXPECT_THAT(b.Match(ValueKind::kDomain, "ushers"), ElementsAre("Overlap"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "xhix"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kDomain, "abcd"), ElementsAre("Tail"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "abcdhe"), ElementsAre("Overlap", "Tail"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "she@mailinator"), ElementsAre("Disposable", "Overlap"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, ""), IsEmpty());
}

TEST(WarninglistSetTest, CidrBoundaries) {
  Built b;
  b.Add(List("V4", "cidr",
             {"10.0.0.0/8", "192.168.1.7", "172.16.5.4/12", " 192.0.2.0/25 ", "192.0.2.128/25",
              "2001:db8::/32", "2001:DB8:1::5/128"},
             {"ip-src", "ip-dst"}));
  auto m = [&](ValueKind k, const char* v) { return b.Match(k, v); };
  EXPECT_THAT(m(ValueKind::kIpv4, "10.0.0.0"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4, "10.255.255.255"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4, "9.255.255.255"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4, "11.0.0.0"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4, "192.168.1.7"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4, "192.168.1.6"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4, "192.168.1.8"), IsEmpty());
  // Host bits of an entry are ignored: 172.16.5.4/12 is 172.16.0.0 - 172.31.255.255.
  EXPECT_THAT(m(ValueKind::kIpv4, "172.16.0.0"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4, "172.31.255.255"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4, "172.32.0.0"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4, "172.15.255.255"), IsEmpty());
  // A CIDR value must lie within the list: inside one entry, or across adjacent entries.
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "10.1.0.0/16"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "10.0.0.0/8"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "10.0.0.0/7"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "8.0.0.0/6"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "192.0.2.0/24"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "192.0.2.0/23"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "192.168.1.7/32"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv4Cidr, "192.168.1.6/31"), IsEmpty());
  // IPv6 boundaries, /128 and upper-case entries.
  EXPECT_THAT(m(ValueKind::kIpv6, "2001:db8::"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv6, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv6, "2001:db9::"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv6Cidr, "2001:db8:4::/48"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv6Cidr, "2001:db8::/31"), IsEmpty());
  // IPv4-mapped IPv6 values are looked up as the IPv4 address too.
  EXPECT_THAT(m(ValueKind::kIpv6, "::ffff:10.1.2.3"), ElementsAre("V4"));
  EXPECT_THAT(m(ValueKind::kIpv6, "::ffff:11.1.2.3"), IsEmpty());
  // Not an IP kind, or not an address.
  EXPECT_THAT(m(ValueKind::kDomain, "10.0.0.1"), IsEmpty());
  EXPECT_THAT(m(ValueKind::kIpv4, "10.0.0"), IsEmpty());
  EXPECT_THAT(b.problems, IsEmpty());
}

TEST(WarninglistSetTest, CidrWholeSpaceAndLastAddress) {
  Built b;
  b.Add(List("All4", "cidr", {"0.0.0.0/0"}));
  b.Add(List("All6", "cidr", {"::/0"}));
  b.Add(List("Top", "cidr", {"255.255.255.255/32", "ffff::/16"}));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "0.0.0.0"), ElementsAre("All4"));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "255.255.255.255"), ElementsAre("All4", "Top"));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "255.255.255.254"), ElementsAre("All4"));
  EXPECT_THAT(b.Match(ValueKind::kIpv4Cidr, "0.0.0.0/0"), ElementsAre("All4"));
  EXPECT_THAT(b.Match(ValueKind::kIpv6, "::"), ElementsAre("All6"));
  EXPECT_THAT(b.Match(ValueKind::kIpv6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              ElementsAre("All6", "Top"));
  EXPECT_THAT(b.Match(ValueKind::kIpv6, "fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              ElementsAre("All6"));
  EXPECT_THAT(b.Match(ValueKind::kIpv6Cidr, "::/0"), ElementsAre("All6"));
  EXPECT_THAT(b.Match(ValueKind::kIpv6Cidr, "ffff::/15"), ElementsAre("All6"));
  // ::ffff:a.b.c.d is an IPv6 value (All6) and the IPv4 address (All4).
  EXPECT_THAT(b.Match(ValueKind::kIpv6, "::ffff:1.2.3.4"), ElementsAre("All4", "All6"));
}

TEST(WarninglistSetTest, BadCidrEntriesAreProblemsAndSkipped) {
  Built b;
  b.Add(List(
      "Ranges", "cidr",
      {"10.0.0.0/33", "not-an-ip", "10.0.0.1", "1.2.3.4/-1", std::string("9.0.0.0\0x/8", 11)}));
  ASSERT_EQ(b.problems.size(), 4u);
  EXPECT_EQ(b.problems[0].location, "warninglist 'Ranges': list[0]");
  EXPECT_THAT(b.problems[0].message, HasSubstr("warninglist 'Ranges': entry '10.0.0.0/33'"));
  EXPECT_THAT(b.problems[1].message, HasSubstr("'not-an-ip'"));
  EXPECT_THAT(b.problems[2].message, HasSubstr("'1.2.3.4/-1'"));
  EXPECT_FALSE(b.problems[0].warning);
  EXPECT_EQ(b.problems[3].location, "warninglist 'Ranges': list[4]");
  EXPECT_EQ(b.set.lists()[0].skipped, 4u);
  EXPECT_EQ(b.set.lists()[0].entries, 5u);
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "10.0.0.1"), ElementsAre("Ranges"));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "10.0.0.2"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "9.1.2.3"), IsEmpty());
}

TEST(WarninglistSetTest, RegexUsesPhpDelimitersAndModifiers) {
  Built b;
  b.Add(List(
      "Contacts", "regex",
      {R"(/^(security|noc|soc|abuse)\@.*\..*$/i)", "#^postmaster@#", "{^hostmaster@}", "/^x/g"},
      {"email-src"}));
  EXPECT_THAT(b.problems, IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kEmail, "SECURITY@corp.example"), ElementsAre("Contacts"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "abuse@corp.example"), ElementsAre("Contacts"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "postmaster@corp.example"), ElementsAre("Contacts"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "hostmaster@corp.example"), ElementsAre("Contacts"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "x@corp.example"), ElementsAre("Contacts"));
  EXPECT_THAT(b.Match(ValueKind::kEmail, "alice@corp.example"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kEmail, "security@nodot"), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kDomain, "security@corp.example"), IsEmpty());  // kind
}

TEST(WarninglistSetTest, BadRegexEntriesAreProblemsAndSkipped) {
  Built b;
  b.Add(List("R", "regex",
             {"/unclosed(/", "no-delimiters", "/x/Q", "/never-closed", "", R"(/ok\/slash/)"}));
  ASSERT_EQ(b.problems.size(), 5u);
  EXPECT_THAT(b.problems[0].message, HasSubstr("entry '/unclosed(/' does not compile"));
  EXPECT_THAT(b.problems[1].message, HasSubstr("does not start with a delimiter"));
  EXPECT_THAT(b.problems[2].message, HasSubstr("unknown modifier 'Q'"));
  EXPECT_THAT(b.problems[3].message, HasSubstr("no closing delimiter"));
  EXPECT_THAT(b.problems[4].message, HasSubstr("is empty"));
  for (const Problem& p : b.problems) {
    EXPECT_THAT(p.message, HasSubstr("warninglist 'R'"));
    EXPECT_THAT(p.location, HasSubstr("list["));
  }
  EXPECT_THAT(b.Match(ValueKind::kUrl, "http://a/ok/slash"), ElementsAre("R"));
  EXPECT_THAT(b.Match(ValueKind::kUrl, "http://a/unclosed("), IsEmpty());
}

TEST(WarninglistSetTest, OverLongEntriesOfHandBuiltListsAreSkipped) {
  Built b;
  std::string big(kMaxWarninglistEntryBytes + 1, 'a');
  b.Add(List("Long", "substring", {big, "ok"}));
  ASSERT_EQ(b.problems.size(), 1u);
  EXPECT_EQ(b.problems[0].location, "warninglist 'Long': list[0]");
  EXPECT_THAT(b.problems[0].message, HasSubstr("is longer than 65536 bytes"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, big), IsEmpty());
  EXPECT_THAT(b.Match(ValueKind::kDomain, "x-ok"), ElementsAre("Long"));
}

TEST(WarninglistSetTest, CatastrophicRegexIsCutShortByTheMatchLimit) {
  Built b;
  b.Add(List("Evil", "regex", {"/^(a+)+$/", "/^(a|a)+$/"}));
  b.Add(List("Fine", "regex", {"/b$/"}));
  // Without a limit, /^(a+)+$/ on 40 'a's and a 'b' backtracks through 2^40 paths.
  std::string v(40, 'a');
  v += 'b';
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(b.Match(ValueKind::kDomain, v), ElementsAre("Fine"));
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(b.set.regex_limit_hits(), 1u);
  std::printf("catastrophic regex value: %.3f ms, %llu limit hits\n", secs * 1e3,
              static_cast<unsigned long long>(b.set.regex_limit_hits()));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "aaaa"), ElementsAre("Evil"));
}

TEST(WarninglistSetTest, MatchingAttributesSelectTheKinds) {
  Built b;
  b.Add(List("IpOnly", "string", {"8.8.8.8", "evil.example"}, {"ip-src"}));
  b.Add(List("Everything", "string", {"8.8.8.8", "evil.example", "cve-2021-44228"}));
  b.Add(List("Hashes", "string", {"0123456789abcdef0123456789abcdef01234567"},
             {"sha1", "filename|sha1"}));
  b.Add(List("Phones", "string", {"8.8.8.8"}, {"phone-number"}));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "8.8.8.8"), ElementsAre("IpOnly", "Everything"));
  EXPECT_THAT(b.Match(ValueKind::kDomain, "evil.example"), ElementsAre("Everything"));
  EXPECT_THAT(b.Match(ValueKind::kCve, "CVE-2021-44228"), ElementsAre("Everything"));
  EXPECT_THAT(b.Match(ValueKind::kSha1, "0123456789abcdef0123456789abcdef01234567"),
              ElementsAre("Hashes"));
  EXPECT_THAT(b.Match(ValueKind::kMd5, "0123456789abcdef0123456789abcdef01234567"), IsEmpty());
  // A list for types Accord has no kind for is a warning and never matches.
  ASSERT_EQ(b.problems.size(), 1u);
  EXPECT_TRUE(b.problems[0].warning);
  EXPECT_THAT(b.problems[0].message, HasSubstr("'Phones' applies to no kind"));
  EXPECT_THAT(b.problems[0].message, HasSubstr("phone-number"));
  EXPECT_EQ(b.set.lists()[3].kinds, 0u);
}

TEST(WarninglistSetTest, KindsForMispTypes) {
  auto bit = [](ValueKind k) { return uint32_t{1} << static_cast<int>(k); };
  EXPECT_EQ(KindsForMispType("ip-dst|port"), bit(ValueKind::kIpv4) | bit(ValueKind::kIpv6) |
                                                 bit(ValueKind::kIpv4Cidr) |
                                                 bit(ValueKind::kIpv6Cidr));
  EXPECT_EQ(KindsForMispType("domain|ip"), KindsForMispType("ip-src") | bit(ValueKind::kDomain));
  EXPECT_EQ(KindsForMispType("hostname"), bit(ValueKind::kDomain));
  EXPECT_EQ(KindsForMispType("uri"), bit(ValueKind::kUrl));
  EXPECT_EQ(KindsForMispType("target-email"), bit(ValueKind::kEmail));
  EXPECT_EQ(KindsForMispType("filename|sha512"), bit(ValueKind::kSha512));
  EXPECT_EQ(KindsForMispType("ssdeep"), 0u);
  EXPECT_EQ(KindsForMispType("ALL"), (uint32_t{1} << kValueKindCount) - 1);
}

TEST(WarninglistSetTest, ResultsFollowLoadOrderAcrossTypes) {
  Built b;
  b.Add(List("Z-cidr", "cidr", {"8.8.8.0/24"}));
  b.Add(List("A-string", "string", {"8.8.8.8"}));
  b.Add(List("M-substring", "substring", {"8.8"}));
  b.Add(List("B-regex", "regex", {"/^8\\./"}));
  EXPECT_THAT(b.Match(ValueKind::kIpv4, "8.8.8.8"),
              ElementsAre("Z-cidr", "A-string", "M-substring", "B-regex"));
  EXPECT_EQ(b.set.size(), 4u);
  EXPECT_EQ(b.set.lists()[1].name, "A-string");
}

TEST(WarninglistSetTest, AddRejectsDuplicateNamesAndUnknownTypes) {
  WarninglistSet set;
  auto none = [](Problem&&) {};
  ASSERT_TRUE(set.Add(List("One", "string", {"a"}), none).ok());
  absl::Status dup = set.Add(List("One", "hostname", {"b"}), none);
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup.message()), HasSubstr("'One' is already loaded"));
  absl::Status bad = set.Add(List("Two", "glob", {"b"}), none);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("unknown type \"glob\""));
  EXPECT_EQ(set.Add(List("", "string", {"b"}), none).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(set.size(), 1u);
  // The failed adds left nothing behind.
  EXPECT_THAT(ToNames(set.Match(Value{ValueKind::kDomain, "b"})), IsEmpty());
  EXPECT_THAT(ToNames(set.Match(Value{ValueKind::kDomain, "a"})), ElementsAre("One"));
}

// ---------------------------------------------------------------------------------------------
// The real lists: MISP/misp-warninglists as collected in ../shared/data/warninglists.

// The reference matcher: plain loops over the raw JSON, written apart from warninglist.cc.
struct RawList {
  std::string path, name, type;
  std::vector<std::string> attrs, entries;
  // Normalised entries for the reference: lower case; hostnames without "*." and outer dots.
  std::unordered_set<std::string> keys;
  std::vector<std::string> lowered;  // substring entries
  struct Net {
    int family;
    unsigned char addr[16];
    int prefix;
  };
  std::vector<Net> nets;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ParseNet(std::string s, RawList::Net* n) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  size_t slash = s.find('/');
  std::string addr = s.substr(0, slash);
  n->family = addr.find(':') != std::string::npos ? 6 : 4;
  if (inet_pton(n->family == 4 ? AF_INET : AF_INET6, addr.c_str(), n->addr) != 1) return false;
  n->prefix = n->family == 4 ? 32 : 128;
  if (slash != std::string::npos) n->prefix = std::stoi(s.substr(slash + 1));
  return n->prefix >= 0 && n->prefix <= (n->family == 4 ? 32 : 128);
}

bool NetContains(const RawList::Net& net, const RawList::Net& ip) {
  if (net.family != ip.family) return false;
  for (int bit = 0; bit < net.prefix; ++bit) {
    int a = (net.addr[bit / 8] >> (7 - bit % 8)) & 1;
    int b = (ip.addr[bit / 8] >> (7 - bit % 8)) & 1;
    if (a != b) return false;
  }
  return true;
}

// The MISP attribute types that stand for each kind, per docs/FORMATS.md.
bool RawApplies(const RawList& l, ValueKind k) {
  if (l.attrs.empty()) return true;
  static const std::map<ValueKind, std::set<std::string>> kTypes = {
      {ValueKind::kIpv4, {"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}},
      {ValueKind::kIpv6, {"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}},
      {ValueKind::kDomain, {"domain", "hostname", "domain|ip", "hostname|port"}},
      {ValueKind::kUrl, {"url", "uri", "link"}},
      {ValueKind::kEmail,
       {"email", "email-src", "email-dst", "target-email", "email-reply-to",
        "whois-registrant-email", "dns-soa-email"}},
      {ValueKind::kMd5, {"md5", "filename|md5"}},
      {ValueKind::kSha1, {"sha1", "filename|sha1"}},
      {ValueKind::kSha256, {"sha256", "filename|sha256"}},
      {ValueKind::kSha512, {"sha512", "filename|sha512"}},
  };
  auto it = kTypes.find(k);
  if (it == kTypes.end()) return false;
  for (const auto& a : l.attrs) {
    if (it->second.count(a)) return true;
  }
  return false;
}

// Names of the lists matching a plain value (a domain, an IP address or a hash; no URLs,
// e-mails or CIDRs), in load order.
Names Reference(const std::vector<RawList>& lists, ValueKind k, const std::string& value) {
  Names out;
  std::string v = Lower(value);
  if (k == ValueKind::kDomain) {
    while (!v.empty() && v.back() == '.') v.pop_back();
  }
  RawList::Net ip{};
  bool is_ip = (k == ValueKind::kIpv4 || k == ValueKind::kIpv6) && ParseNet(v, &ip);
  // ::ffff:a.b.c.d also stands for the IPv4 address a.b.c.d.
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  bool mapped = is_ip && ip.family == 6 && std::memcmp(ip.addr, kMapped, 12) == 0;
  RawList::Net v4{};
  if (mapped) {
    v4.family = 4;
    v4.prefix = 32;
    std::memcpy(v4.addr, ip.addr + 12, 4);
  }
  for (const RawList& l : lists) {
    if (!RawApplies(l, k)) continue;
    bool hit = false;
    if (l.type == "string") {
      hit = l.keys.count(v) > 0;
    } else if (l.type == "hostname" && k == ValueKind::kDomain) {
      for (size_t pos = 0; !hit && pos != std::string::npos;) {
        hit = l.keys.count(v.substr(pos)) > 0;
        pos = v.find('.', pos);
        if (pos != std::string::npos) ++pos;
      }
    } else if (l.type == "substring") {
      for (const auto& e : l.lowered) {
        if (!e.empty() && v.find(e) != std::string::npos) hit = true;
      }
    } else if (l.type == "cidr" && is_ip) {
      for (const auto& n : l.nets)
        hit = hit || NetContains(n, ip) || (mapped && NetContains(n, v4));
    }
    if (hit) out.push_back(l.name);
  }
  return out;
}

class RealWarninglistsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path tarball = testing::SharedDir() / "data/warninglists/misp-warninglists.tar.gz";
    if (!fs::exists(tarball)) return;
    tmp_ = new testing::TempDir("warninglists");
    ASSERT_TRUE(testing::ExtractShared("data/warninglists/misp-warninglists.tar.gz", tmp_->path()));
    std::vector<fs::path> files;
    for (const auto& d : fs::directory_iterator(tmp_->path() / "misp-warninglists/lists")) {
      if (fs::exists(d.path() / "list.json")) files.push_back(d.path() / "list.json");
    }
    std::sort(files.begin(), files.end());
    raw_ = new std::vector<RawList>();
    texts_ = new std::vector<std::pair<std::string, std::string>>();
    for (const auto& f : files) {
      std::string text = testing::Slurp(f);
      std::string rel = fs::relative(f, tmp_->path() / "misp-warninglists").string();
      texts_->emplace_back(rel, text);
      nlohmann::json j = nlohmann::json::parse(text);
      RawList l;
      l.path = rel;
      l.name = j.at("name").get<std::string>();
      l.type = j.at("type").get<std::string>();
      l.entries = j.at("list").get<std::vector<std::string>>();
      if (j.contains("matching_attributes")) {
        l.attrs = j["matching_attributes"].get<std::vector<std::string>>();
      }
      for (const auto& e : l.entries) {
        std::string key = Lower(e);
        if (l.type == "hostname") {
          if (key.rfind("*.", 0) == 0) key.erase(0, 2);
          while (!key.empty() && key.front() == '.') key.erase(0, 1);
          while (!key.empty() && key.back() == '.') key.pop_back();
        }
        if (l.type == "cidr") {
          RawList::Net n{};
          if (ParseNet(e, &n)) l.nets.push_back(n);
        }
        if (!key.empty()) l.keys.insert(key);
        l.lowered.push_back(Lower(e));
      }
      raw_->push_back(std::move(l));
    }
  }
  static void TearDownTestSuite() {
    delete raw_;
    delete texts_;
    delete tmp_;
    raw_ = nullptr;
    texts_ = nullptr;
    tmp_ = nullptr;
  }
  void SetUp() override {
    ACCORD_REQUIRE_SHARED(testing::SharedDir() / "data/warninglists/misp-warninglists.tar.gz");
    ASSERT_NE(raw_, nullptr);
  }

  // Parses and adds every list (in path order), with the problems reported.
  static std::unique_ptr<WarninglistSet> LoadAll(std::vector<Problem>* problems,
                                                 double* seconds = nullptr) {
    auto set = std::make_unique<WarninglistSet>();
    auto start = std::chrono::steady_clock::now();
    for (const auto& [path, text] : *texts_) {
      auto w = ParseWarninglist(text, path);
      EXPECT_TRUE(w.ok()) << w.status();
      if (!w.ok()) continue;
      absl::Status st = set->Add(*std::move(w), [&](Problem&& p) { problems->push_back(p); });
      EXPECT_TRUE(st.ok()) << st;
    }
    if (seconds) {
      *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return set;
  }

  static const WarninglistSet& Shared() {
    static std::vector<Problem> problems;
    static std::unique_ptr<WarninglistSet> set = LoadAll(&problems);
    return *set;
  }

  Names Match(ValueKind k, const std::string& v) { return ToNames(Shared().Match(Value{k, v})); }
  const RawList& ByPath(const std::string& path) {
    for (const auto& l : *raw_) {
      if (l.path == path) return l;
    }
    ADD_FAILURE() << "no list " << path;
    return raw_->front();
  }

  static testing::TempDir* tmp_;
  static std::vector<RawList>* raw_;
  static std::vector<std::pair<std::string, std::string>>* texts_;
};

testing::TempDir* RealWarninglistsTest::tmp_ = nullptr;
std::vector<RawList>* RealWarninglistsTest::raw_ = nullptr;
std::vector<std::pair<std::string, std::string>>* RealWarninglistsTest::texts_ = nullptr;

TEST_F(RealWarninglistsTest, EveryListParsesAndEveryEntryIsCounted) {
  // What the raw data says: 136 list files, all valid against schema.json.
  size_t raw_entries = 0;
  for (const auto& l : *raw_) raw_entries += l.entries.size();
  ASSERT_EQ(raw_->size(), 136u);  // MANIFEST.md: 136 warninglists
  std::vector<Problem> problems;
  double secs = 0;
  auto set = LoadAll(&problems, &secs);
  ASSERT_EQ(set->size(), raw_->size());
  size_t entries = 0, skipped = 0;
  for (size_t i = 0; i < set->size(); ++i) {
    const WarninglistInfo& info = set->lists()[i];
    const RawList& raw = (*raw_)[i];
    EXPECT_EQ(info.name, raw.name);
    EXPECT_EQ(info.type, raw.type);
    EXPECT_EQ(info.entries, raw.entries.size()) << raw.path;
    EXPECT_EQ(info.matching_attributes, raw.attrs) << raw.path;
    entries += info.entries;
    skipped += info.skipped;
  }
  EXPECT_EQ(entries, raw_entries);
  EXPECT_EQ(raw_entries, 528972u);  // MANIFEST.md
  // Every CIDR entry parses by inet_pton and every regex has PHP delimiters, so nothing is
  // skipped; the only findings are the lists for attribute types Accord has no kind for.
  size_t raw_bad_cidrs = 0;
  Names expected_warnings;
  for (const auto& l : *raw_) {
    if (l.type == "cidr") raw_bad_cidrs += l.entries.size() - l.nets.size();
    bool any_kind = l.attrs.empty();
    for (int k = 0; k < kValueKindCount; ++k) any_kind = any_kind || RawApplies(l, ValueKind(k));
    if (!any_kind) expected_warnings.push_back(l.path);
  }
  EXPECT_EQ(skipped, raw_bad_cidrs);
  Names warned;
  for (const Problem& p : problems) {
    EXPECT_TRUE(p.warning) << p.ToString();
    warned.push_back(p.location);
  }
  EXPECT_EQ(warned, expected_warnings);
  // lists/microsoft-azure-appid and lists/phone_numbers: ids and phone numbers only.
  EXPECT_EQ(expected_warnings.size(), 2u);
  std::printf("loaded %zu lists, %zu entries in %.3f s (this build)\n", set->size(), entries, secs);
}

TEST_F(RealWarninglistsTest, GoogleIsFlaggedByTopDomainLists) {
  for (const std::string v : {"google.com", "www.google.com"}) {
    Names got = Match(ValueKind::kDomain, v);
    EXPECT_EQ(got, Reference(*raw_, ValueKind::kDomain, v)) << v;
    // The raw data: Cisco's top 1000 (a string list) holds google.com and Alexa's top 1000 (a
    // hostname list) holds it too, so www.google.com is caught as its subdomain.
    const RawList& alexa = ByPath("lists/alexa/list.json");
    ASSERT_TRUE(alexa.keys.count("google.com"));
    EXPECT_NE(std::find(got.begin(), got.end(), alexa.name), got.end()) << v;
  }
  const RawList& cisco = ByPath("lists/cisco_top1000/list.json");
  ASSERT_TRUE(cisco.keys.count("google.com"));
  Names got = Match(ValueKind::kDomain, "google.com");
  EXPECT_NE(std::find(got.begin(), got.end(), cisco.name), got.end());
  EXPECT_GE(got.size(), 10u);
}

TEST_F(RealWarninglistsTest, PublicResolverAndPrivateAddresses) {
  const RawList& dns = ByPath("lists/public-dns-v4/list.json");
  const RawList& rfc1918 = ByPath("lists/rfc1918/list.json");
  Names got = Match(ValueKind::kIpv4, "8.8.8.8");
  EXPECT_EQ(got, Reference(*raw_, ValueKind::kIpv4, "8.8.8.8"));
  EXPECT_NE(std::find(got.begin(), got.end(), dns.name), got.end());
  got = Match(ValueKind::kIpv4, "10.1.2.3");
  EXPECT_EQ(got, Reference(*raw_, ValueKind::kIpv4, "10.1.2.3"));
  EXPECT_NE(std::find(got.begin(), got.end(), rfc1918.name), got.end());
  // IPv6: the documentation range of RFC 3849 and Cloudflare's 2400:cb00::/32.
  const RawList& rfc3849 = ByPath("lists/rfc3849/list.json");
  got = Match(ValueKind::kIpv6, "2001:db8::1");
  EXPECT_EQ(got, Reference(*raw_, ValueKind::kIpv6, "2001:db8::1"));
  EXPECT_NE(std::find(got.begin(), got.end(), rfc3849.name), got.end());
  got = Match(ValueKind::kIpv6, "2400:cb00::1");
  EXPECT_EQ(got, Reference(*raw_, ValueKind::kIpv6, "2400:cb00::1"));
  EXPECT_NE(std::find(got.begin(), got.end(), ByPath("lists/cloudflare/list.json").name),
            got.end());
  // A CIDR value inside RFC 1918.
  got = Match(ValueKind::kIpv4Cidr, "192.168.10.0/24");
  EXPECT_NE(std::find(got.begin(), got.end(), rfc1918.name), got.end());
}

TEST_F(RealWarninglistsTest, MadeUpDomainIsNotFlaggedByHostnameLists) {
  const std::string v = "surely-not-listed-4711.example";
  Names expected = Reference(*raw_, ValueKind::kDomain, v);
  EXPECT_EQ(Match(ValueKind::kDomain, v), expected);
  for (const auto& l : *raw_) {
    if (l.type != "hostname") continue;
    EXPECT_EQ(std::find(expected.begin(), expected.end(), l.name), expected.end()) << l.path;
  }
}

TEST_F(RealWarninglistsTest, ContactAddressesAreFlaggedByTheRegexList) {
  const RawList& contacts = ByPath("lists/common-contact-emails/list.json");
  EXPECT_THAT(Match(ValueKind::kEmail, "Abuse@provider.example"),
              ::testing::Contains(contacts.name));
  EXPECT_THAT(Match(ValueKind::kEmail, "alice@provider.example"),
              ::testing::Not(::testing::Contains(contacts.name)));
}

// Differential: entries sampled from every list (first, middle, last), turned into values
// that should and should not match, against the reference matcher.
TEST_F(RealWarninglistsTest, SampledEntriesMatchTheReference) {
  size_t compared = 0, flagged = 0;
  auto check = [&](ValueKind k, const std::string& v) {
    Names got = Match(k, v);
    Names want = Reference(*raw_, k, v);
    EXPECT_EQ(got, want) << ValueKindName(k) << " " << v;
    ++compared;
    flagged += got.empty() ? 0 : 1;
  };
  for (const auto& l : *raw_) {
    if (l.entries.empty() || l.type == "regex") continue;
    for (size_t pos : {size_t{0}, l.entries.size() / 2, l.entries.size() - 1}) {
      const std::string& e = l.entries[pos];
      if (l.type == "cidr") {
        RawList::Net n{};
        if (!ParseNet(e, &n)) continue;
        char buf[INET6_ADDRSTRLEN];
        // First and last address of the entry, and the address after it.
        for (int variant = 0; variant < 3; ++variant) {
          RawList::Net a = n;
          for (int bit = n.prefix; bit < (n.family == 4 ? 32 : 128); ++bit) {
            unsigned char mask = static_cast<unsigned char>(1 << (7 - bit % 8));
            if (variant == 0) a.addr[bit / 8] &= static_cast<unsigned char>(~mask);
            if (variant >= 1) a.addr[bit / 8] |= mask;
          }
          if (variant == 2) {  // + 1, with carry
            for (int i = (n.family == 4 ? 3 : 15); i >= 0; --i) {
              if (++a.addr[i] != 0) break;
            }
          }
          inet_ntop(n.family == 4 ? AF_INET : AF_INET6, a.addr, buf, sizeof(buf));
          check(n.family == 4 ? ValueKind::kIpv4 : ValueKind::kIpv6, buf);
        }
      } else if (l.type == "hostname") {
        std::string key = Lower(e);
        if (key.rfind("*.", 0) == 0) key.erase(0, 2);
        while (!key.empty() && key.front() == '.') key.erase(0, 1);
        check(ValueKind::kDomain, key);
        check(ValueKind::kDomain, "x-4711." + key);
        check(ValueKind::kDomain, "x4711" + key);
      } else {
        // string and substring: the entry itself, as the first kind the list applies to.
        ValueKind k = ValueKind::kDomain;
        for (ValueKind c : {ValueKind::kDomain, ValueKind::kIpv4, ValueKind::kMd5, ValueKind::kSha1,
                            ValueKind::kSha256, ValueKind::kSha512}) {
          if (RawApplies(l, c)) {
            k = c;
            break;
          }
        }
        check(k, e);
        check(k, "x4711" + e + "y");
      }
    }
  }
  std::printf("compared %zu values with the reference, %zu flagged\n", compared, flagged);
  EXPECT_GT(flagged, compared / 2);
}

TEST_F(RealWarninglistsTest, MatchCost) {
  // Informational (no timing assertion, ../shared/STYLE.md §7): the cost of one Match in this
  // build, over a mix of hits and misses.
  const std::vector<Value> values = {
      {ValueKind::kDomain, "www.google.com"},
      {ValueKind::kDomain, "a.b.c.d.unknown.test"},
      {ValueKind::kIpv4, "8.8.8.8"},
      {ValueKind::kIpv4, "203.0.113.77"},
      {ValueKind::kIpv6, "2400:cb00::1"},
      {ValueKind::kUrl, "https://x.example/a?b"},
      {ValueKind::kEmail, "bob@0-mail.com"},
      {ValueKind::kEmail, "alice@corp.example"},
      {ValueKind::kMd5, "d41d8cd98f00b204e9800998ecf8427e"},
  };
  const WarninglistSet& set = Shared();
  size_t hits = 0;
  const int rounds = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const Value& v : values) hits += set.Match(v).size();
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.2f us per Match (%zu list hits)\n", secs * 1e6 / (rounds * values.size()), hits);
  EXPECT_GT(hits, 0u);
}

}  // namespace
}  // namespace accord::formats
