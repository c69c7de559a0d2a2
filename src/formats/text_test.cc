#include "accord/formats/text.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "accord/stix/reader.h"
#include "common/test_util.h"

namespace accord::formats {
namespace {

using K = ValueKind;

std::set<std::pair<std::string, std::string>> AsSet(const std::vector<Value>& vs) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& v : vs) out.emplace(std::string(ValueKindName(v.kind)), v.value);
  return out;
}

// Every STIX object the converter wrote passes Accord's STIX 2.1 reader with no problem.
void ExpectValidStix(const Unit& u) {
  std::string lines;
  for (const auto& o : u.objects) lines += o + "\n";
  stix::ReaderOptions ro;
  uint64_t accepted = 0;
  std::vector<std::string> problems;
  auto st = stix::ReadBuffer(
      lines, ro,
      [&](stix::ObjectRecord&&) {
        ++accepted;
        return absl::OkStatus();
      },
      [&](stix::Problem&& p) { problems.push_back(p.ToString()); });
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(accepted, u.objects.size());
  EXPECT_TRUE(problems.empty()) << problems[0];
}

TEST(Refang, UndoesTheUsualDefanging) {
  EXPECT_EQ(Refang("hxxp://evil[.]example/x"), "http://evil.example/x");
  EXPECT_EQ(Refang("hXXps://a(.)b{.}c"), "https://a.b.c");
  EXPECT_EQ(Refang("evil(dot)example[dot]com"), "evil.example.com");
  EXPECT_EQ(Refang("bob[@]example.org and bob(at)example.org"),
            "bob@example.org and bob@example.org");
  EXPECT_EQ(Refang("hxxp[:]//x.example"), "http://x.example");
  EXPECT_EQ(Refang("hxxp[://]x.example"), "http://x.example");
  EXPECT_EQ(Refang("fxp://files.example"), "ftp://files.example");
  // Not defanging: ordinary brackets and words.
  EXPECT_EQ(Refang("(see above) [1] {x} at (at) hexxpert"), "(see above) [1] {x} at (at) hexxpert");
  EXPECT_EQ(Refang("chxxp"), "chxxp");
  // "hxxp" is a scheme only before ':' or a bracket (libFuzzer, text_fuzz: "x.hxxpexample.com"
  // was a domain to ExtractValues, which refangs only tokens that start like a scheme, and
  // "x.httpexample.com" to ClassifyToken).
  EXPECT_EQ(Refang("x.hxxpexample.com"), "x.hxxpexample.com");
  EXPECT_EQ(Refang("hxxpexample.com"), "hxxpexample.com");
  EXPECT_EQ(Refang("see hxxps://a.example"), "see https://a.example");
}

// Whatever ExtractValues finds classifies again as the same value (text_fuzz's property).
TEST(ExtractValues, AValueClassifiesAsItself) {
  for (const char* text : {"1,\"x.hxxpexample.com\"", "a hxxpexample.com b", "x.fxpexample.com"}) {
    for (const Value& v : ExtractValues(text)) {
      auto again = ClassifyToken(v.value);
      ASSERT_TRUE(again.has_value()) << text << ": " << v.value;
      EXPECT_EQ(again->value, v.value) << text;
    }
  }
}

TEST(ClassifyToken, EachKind) {
  struct Case {
    const char* in;
    K kind;
    const char* value;
  };
  const Case cases[] = {
      {"192.0.2.1", K::kIpv4, "192.0.2.1"},
      {"192.0.2.1/32", K::kIpv4, "192.0.2.1"},
      {"198.51.100.0/24", K::kIpv4Cidr, "198.51.100.0/24"},
      {"2001:DB8::1", K::kIpv6, "2001:db8::1"},
      {"2001:db8::/32", K::kIpv6Cidr, "2001:db8::/32"},
      {"Evil.Example.COM", K::kDomain, "evil.example.com"},
      {"evil[.]example.co.uk", K::kDomain, "evil.example.co.uk"},
      {"hxxps://Evil.Example.com/Path?q=1", K::kUrl, "https://evil.example.com/Path?q=1"},
      {"http://192.0.2.1:8080/a", K::kUrl, "http://192.0.2.1:8080/a"},
      {"Bob@Example.org", K::kEmail, "Bob@example.org"},
      {"D41D8CD98F00B204E9800998ECF8427E", K::kMd5, "d41d8cd98f00b204e9800998ecf8427e"},
      {"da39a3ee5e6b4b0d3255bfef95601890afd80709", K::kSha1,
       "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", K::kSha256,
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"cve-2021-44228", K::kCve, "CVE-2021-44228"},
      {"192.0.2.7:443", K::kIpv4, "192.0.2.7"},
  };
  for (const Case& c : cases) {
    auto v = ClassifyToken(c.in);
    ASSERT_TRUE(v.has_value()) << c.in;
    EXPECT_EQ(v->kind, c.kind) << c.in;
    EXPECT_EQ(v->value, c.value) << c.in;
  }
  for (const char* no : {"localhost", "1.2.3", "300.1.1.1", "example.notatld", "co.uk", "-a.com",
                         "a..com", "http://", "http://nohost", "abc", "12:30:45", "bob@",
                         "@example.com", "cve-21-1", "d41d8cd98f00b204e9800998ecf8427"}) {
    EXPECT_FALSE(ClassifyToken(no).has_value()) << no;
  }
}

TEST(PublicSuffix, FromDebiansList) {
  EXPECT_TRUE(HasPublicSuffix("example.com"));
  EXPECT_TRUE(HasPublicSuffix("a.b.example.co.uk"));
  EXPECT_TRUE(HasPublicSuffix("user.blogspot.com"));
  EXPECT_FALSE(HasPublicSuffix("com"));
  EXPECT_FALSE(HasPublicSuffix("co.uk"));
  EXPECT_FALSE(HasPublicSuffix("example.invalidtld"));
  EXPECT_FALSE(HasPublicSuffix("example.local"));
}

// Hand-annotated snippets of reports, e-mails and chats: what an analyst marks as indicators,
// and the traps no value may come from (file names, versions, code).
TEST(ExtractValues, HandAnnotatedSnippets) {
  struct Snippet {
    const char* text;
    std::set<std::pair<std::string, std::string>> want;
  };
  const Snippet snippets[] = {
      {"The dropper (invoice.exe, report.pdf, setup.py) beacons to "
       "hxxp://update-check[.]com/gate.php "
       "and 185.220.101[.]4:8443. SHA256: "
       "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08.",
       {{"url", "http://update-check.com/gate.php"},
        {"ipv4", "185.220.101.4"},
        {"sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
      {"Phishing from billing(at)paypa1-secure(dot)com, replies to 'ops@corp-mail.net'. "
       "Exploits CVE-2023-23397 on Outlook 16.0.1 and 10.0.19041.1; fixed in v2.4.1.",
       {{"email", "billing@paypa1-secure.com"},
        {"email", "ops@corp-mail.net"},
        {"cve", "CVE-2023-23397"}}},
      {"[10:02] <ana> c2 is 2001:db8:dead::beef and the range 203.0.113.0/24, domain "
       "cdn-static.example.co.uk. (also see evil-domain.xyz)",
       {{"ipv6", "2001:db8:dead::beef"},
        {"ipv4-cidr", "203.0.113.0/24"},
        {"domain", "cdn-static.example.co.uk"},
        {"domain", "evil-domain.xyz"}}},
      {"path = os.path.join(base, name)\nself.name = args.value\n"
       "document.getElementById('x').innerHTML = window.location.href;\n"
       "import requests.adapters  # README.md and config.yml\n",
       {}},
      {"md5 44d88612fea8a8f36de82e1278abb02f sha1 3395856ce81f2b7382dee72602f798b642f14140 "
       "and not a hash: 44d88612fea8a8f36de82e1278abb02 or 123456789012345678901234567890123",
       {{"md5", "44d88612fea8a8f36de82e1278abb02f"},
        {"sha1", "3395856ce81f2b7382dee72602f798b642f14140"}}},
      {"Same value twice: evil.example.com and EVIL.example.com.",
       {{"domain", "evil.example.com"}}},
      // A hash in brackets, closed right after it.
      {"dropper (sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855)",
       {{"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}},
  };
  for (const Snippet& s : snippets) {
    EXPECT_EQ(AsSet(ExtractValues(s.text)), s.want) << s.text;
  }
}

// ExtractValues keeps one copy of each value, in order of first appearance, whatever the
// case it was written in.
TEST(ExtractValues, RepeatsInOtherCasesKeepTheFirstPlace) {
  std::vector<Value> got = ExtractValues(
      "b.example.com A.EXAMPLE.COM 44D88612FEA8A8F36DE82E1278ABB02F b.EXAMPLE.com "
      "44d88612fea8a8f36de82e1278abb02f a.example.com hxxp://b.example[.]com/x b.example.com");
  std::vector<std::pair<std::string, std::string>> want = {
      {"domain", "b.example.com"},
      {"domain", "a.example.com"},
      {"md5", "44d88612fea8a8f36de82e1278abb02f"},
      {"url", "http://b.example.com/x"},
  };
  std::vector<std::pair<std::string, std::string>> have;
  for (const Value& v : got) have.emplace_back(std::string(ValueKindName(v.kind)), v.value);
  EXPECT_EQ(have, want);
}

// ExtractValues remembers, per text, whether a last label is a public suffix and which names
// passed the "not itself a suffix" test. Neither memo may let a suffix through: "uk" is a
// suffix, and "co.uk", which ends in it, stays refused before and after names under it.
TEST(ExtractValues, SuffixMemosDecideByLabelAndByName) {
  EXPECT_EQ(AsSet(ExtractValues("co.uk example.co.uk co.uk www.example.CO.UK example.notatld "
                                "other.notatld example.com co.uk")),
            (std::set<std::pair<std::string, std::string>>{{"domain", "example.co.uk"},
                                                           {"domain", "www.example.co.uk"},
                                                           {"domain", "example.com"}}));
  // A host seen in a URL is no domain found: the bare name after it is tested afresh.
  EXPECT_EQ(AsSet(ExtractValues("http://co.uk/x co.uk http://evil.example.org/a evil.example.org")),
            (std::set<std::pair<std::string, std::string>>{{"url", "http://evil.example.org/a"},
                                                           {"domain", "evil.example.org"}}));
}

// The last-label memo is bounded (4096 labels); labels first seen after it is full are still
// judged, by libpsl each time.
TEST(ExtractValues, MoreLastLabelsThanTheMemoHolds) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "host.xq";
    text += static_cast<char>('a' + i / 676);
    text += static_cast<char>('a' + i / 26 % 26);
    text += static_cast<char>('a' + i % 26);
    text += ' ';
  }
  text += "Evil.Example.COM host.xqaaa b.example.net co.uk evil.example.com b.example.net";
  EXPECT_EQ(AsSet(ExtractValues(text)),
            (std::set<std::pair<std::string, std::string>>{{"domain", "evil.example.com"},
                                                           {"domain", "b.example.net"}}));
}

TEST(ReadText, OneReportReferringToEveryIndicator) {
  ConvertOptions o;
  o.source_name = "/tmp/reports/apt-note.txt";
  o.now = 1'700'000'000'000'000;
  std::vector<Unit> units;
  std::vector<Problem> problems;
  auto st = ReadText(
      "C2: evil[.]example.com and 192.0.2.9; exploit CVE-2021-44228.", o,
      [&](Unit&& u) {
        units.push_back(std::move(u));
        return absl::OkStatus();
      },
      [&](Problem&& p) { problems.push_back(std::move(p)); });
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->values, 3u);
  ASSERT_EQ(units.size(), 1u);
  ASSERT_EQ(units[0].objects.size(), 4u);  // 2 indicators, 1 vulnerability, 1 report
  ExpectValidStix(units[0]);
  const std::string& report = units[0].objects.back();
  EXPECT_NE(report.find(R"("type":"report")"), std::string::npos);
  EXPECT_NE(report.find(R"("name":"apt-note.txt")"), std::string::npos);
  for (size_t i = 0; i + 1 < units[0].objects.size(); ++i) {
    const std::string& obj = units[0].objects[i];
    size_t p = obj.find(R"("id":")") + 6;
    std::string id = obj.substr(p, obj.find('"', p) - p);
    EXPECT_NE(report.find(id), std::string::npos) << id;
  }
  // The same text again: the same ids (one object per value, one report per text).
  std::vector<Unit> again;
  ASSERT_TRUE(ReadText(
                  "C2: evil[.]example.com and 192.0.2.9; exploit CVE-2021-44228.", o,
                  [&](Unit&& u) {
                    again.push_back(std::move(u));
                    return absl::OkStatus();
                  },
                  [](Problem&&) {})
                  .ok());
  EXPECT_EQ(again[0].objects, units[0].objects);
  // No value: nothing emitted, a warning.
  units.clear();
  problems.clear();
  ASSERT_TRUE(ReadText(
                  "nothing to see here", o,
                  [&](Unit&& u) {
                    units.push_back(std::move(u));
                    return absl::OkStatus();
                  },
                  [&](Problem&& p) { problems.push_back(std::move(p)); })
                  .ok());
  EXPECT_TRUE(units.empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].warning);
}

TEST(ReadList, DetectsKindsReportsBadLinesWithTheirNumbers) {
  ConvertOptions o;
  o.source_name = "feed.txt";
  o.now = 1'700'000'000'000'000;
  std::string data =
      "# a feed\n"
      "evil.example.com\n"
      "192.0.2.1   # inline comment\n"
      "\n"
      "not a value line\n"
      "http://x.example.net/a#frag\n"
      "evil.example.com\n"
      "localhost\n";
  std::vector<Unit> units;
  std::vector<Problem> problems;
  auto st = ReadList(
      data, std::nullopt, o,
      [&](Unit&& u) {
        units.push_back(std::move(u));
        return absl::OkStatus();
      },
      [&](Problem&& p) { problems.push_back(std::move(p)); });
  ASSERT_TRUE(st.ok()) << st.status();
  // Lines 2, 3, 5, 6, 7, 8 are non-blank, non-comment; 5 ("not") and 8 are no value; 7 repeats.
  EXPECT_EQ(st->lines, 6u);
  EXPECT_EQ(st->values, 3u);
  EXPECT_EQ(st->rejected, 2u);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].location, "feed.txt:5");
  EXPECT_EQ(problems[1].location, "feed.txt:8");
  ASSERT_EQ(units.size(), 1u);
  ExpectValidStix(units[0]);
  EXPECT_NE(units[0].objects[2].find("http://x.example.net/a#frag"), std::string::npos);

  // A declared kind: other kinds are reported, not taken.
  problems.clear();
  units.clear();
  st = ReadList(
      "192.0.2.1\nevil.example.com\n10.0.0.0/8\n", K::kIpv4, o,
      [&](Unit&& u) {
        units.push_back(std::move(u));
        return absl::OkStatus();
      },
      [&](Problem&& p) { problems.push_back(std::move(p)); });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->values, 2u);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].location, "feed.txt:2");
  EXPECT_NE(problems[0].message.find("is a domain, not a ipv4"), std::string::npos);

  // --strict stops at the first bad line.
  o.strict = true;
  st = ReadList(
      "192.0.2.1\nnope\n", std::nullopt, o, [](Unit&&) { return absl::OkStatus(); },
      [](Problem&&) {});
  EXPECT_FALSE(st.ok());
}

TEST(ReadList, UnitsHoldAtMostKListUnitValues) {
  std::string data;
  const size_t n = kListUnitValues * 2 + 5;
  for (size_t i = 0; i < n; ++i) {
    data += "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
            std::to_string(i % 256) + "\n";
  }
  ConvertOptions o;
  std::vector<size_t> sizes;
  auto st = ReadList(
      data, std::nullopt, o,
      [&](Unit&& u) {
        sizes.push_back(u.objects.size());
        return absl::OkStatus();
      },
      [](Problem&&) {});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(sizes, (std::vector<size_t>{kListUnitValues, kListUnitValues, 5}));
}

TEST(ReadCsv, ColumnMappingQuotingAndErrors) {
  ConvertOptions o;
  o.source_name = "iocs.csv";
  std::string data =
      "id,indicator,kind,comment\r\n"
      "1,evil.example.com,domain,\"C2, seen \"\"twice\"\"\"\r\n"
      "2,192.0.2.5,ip-dst,plain\r\n"
      "3,\"http://x.example.org/a,b\",url,\"multi\nline\"\r\n"
      "4,192.0.2.6,domain,wrong type\r\n"
      "5,bad\"quote,domain,x\r\n"
      "6\r\n";
  std::vector<Unit> units;
  std::vector<Problem> problems;
  CsvOptions csv;
  csv.columns = "value=indicator,type=kind,description=comment";
  auto st = ReadCsv(
      data, csv, o,
      [&](Unit&& u) {
        units.push_back(std::move(u));
        return absl::OkStatus();
      },
      [&](Problem&& p) { problems.push_back(std::move(p)); });
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->values, 3u);
  EXPECT_EQ(st->rejected, 3u);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].location, "iocs.csv:6");  // row 4 starts on line 6 (row 3 spans two)
  EXPECT_NE(problems[0].message.find("not a valid domain"), std::string::npos);
  EXPECT_EQ(problems[1].location, "iocs.csv:7");
  EXPECT_NE(problems[1].message.find("quote"), std::string::npos);
  EXPECT_EQ(problems[2].location, "iocs.csv:8");
  ASSERT_EQ(units.size(), 1u);
  ExpectValidStix(units[0]);
  EXPECT_NE(units[0].objects[0].find(R"("description":"C2, seen \"twice\"")"), std::string::npos);
  EXPECT_NE(units[0].objects[2].find("http://x.example.org/a,b"), std::string::npos);

  // Positional roles, no header; a mapping that names a missing column is an error.
  csv = CsvOptions{};
  csv.columns = "-,value";
  units.clear();
  st = ReadCsv(
      "a,192.0.2.8\nb,evil.example.net\n", csv, o,
      [&](Unit&& u) {
        units.push_back(std::move(u));
        return absl::OkStatus();
      },
      [](Problem&&) {});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->values, 2u);
  // No --header: a first row whose value cell is no value is the header, not a bad row.
  std::vector<Problem> header_problems;
  csv.columns = "value,type";
  st = ReadCsv(
      "ioc,kind\n192.0.2.9,ip-dst\nnot-a-value,domain\n", csv, o,
      [](Unit&&) { return absl::OkStatus(); },
      [&](Problem&& p) { header_problems.push_back(std::move(p)); });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->values, 1u);
  ASSERT_EQ(header_problems.size(), 1u);
  EXPECT_EQ(header_problems[0].location, "iocs.csv:3");
  csv.columns = "value=nosuch";
  st = ReadCsv(
      "a,b\n1,2\n", csv, o, [](Unit&&) { return absl::OkStatus(); }, [](Problem&&) {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("nosuch"), std::string::npos);
}

TEST(Sniff, PicksTheReader) {
  EXPECT_EQ(Sniff("b.json", R"({"type":"bundle","id":"bundle--1","objects":[]})")->format,
            Format::kStix);
  EXPECT_EQ(Sniff("e.json", R"({"Event":{"info":"x","Attribute":[]}})")->format, Format::kMisp);
  EXPECT_EQ(Sniff("e.json", R"({"response":[{"Event":{}}]})")->format, Format::kMisp);
  EXPECT_EQ(Sniff("iocs.csv", "a,b\n1,2\n")->format, Format::kCsv);
  EXPECT_EQ(Sniff("feed.txt", "# feed\nevil.example.com\n192.0.2.1\n")->format, Format::kList);
  EXPECT_EQ(Sniff("note.txt", "The actor used evil.example.com for C2 in March.\n")->format,
            Format::kText);
  EXPECT_FALSE(Sniff("x.bin", std::string("\x7f"
                                          "ELF\0\0\0",
                                          7))
                   .has_value());
  EXPECT_FALSE(Sniff("x.json", R"({"hello":"world"})").has_value());
  // Named as JSON but garbage at the start: the STIX reader reports it line by line.
  EXPECT_EQ(Sniff("feed.jsonl", std::string(1000, 'x'))->format, Format::kStix);
  EXPECT_EQ(Sniff("feed.jsonl", R"({"type":"indicator","name":"AAAA)")->format, Format::kStix);
  EXPECT_EQ(Sniff("empty.txt", " \n\n")->format, Format::kStix);
  EXPECT_FALSE(ParseFormat("yaml").ok());
  EXPECT_NE(std::string(ParseFormat("yaml").status().message()).find("misp"), std::string::npos);
}

// Real, messy input: Unit 42's free-form IOC lists (defanged in places). The values the
// extractor finds must include every line that is, by itself, a plain IPv4 address or
// SHA-256 hash once refanged — counted here with simple rules of the test's own.
TEST(ExtractValues, Unit42RealLists) {
  std::string path =
      accord::testing::SharedDir().string() + "/data/indicators/unit42-iocs-lists.tar.gz";
  ACCORD_REQUIRE_SHARED(path);
  std::string cmd = "tar -xzOf '" + path + "' --wildcards '*.txt' 2>/dev/null | head -c 4000000";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) GTEST_SKIP() << "popen failed";
  std::string text;
  char buf[65536];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, got);
  pclose(p);
  ASSERT_GT(text.size(), 100000u) << "the Unit 42 lists should be readable from " << path;
  auto found = AsSet(ExtractValues(text));
  std::istringstream in(text);
  std::string line;
  size_t checked = 0;
  auto is_sha256 = [](const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    std::string lower;
    for (char c : line)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (is_sha256(lower)) {
      EXPECT_TRUE(found.count({"sha256", lower})) << lower;
      ++checked;
    }
    // a.b.c.d or a.b.c[.]d with each part 0..255
    std::string r;
    for (size_t i = 0; i < lower.size(); ++i) {
      if (lower.compare(i, 3, "[.]") == 0) {
        r += '.';
        i += 2;
      } else {
        r += lower[i];
      }
    }
    unsigned a, b, c, d;
    char tail;
    if (std::sscanf(r.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 && b < 256 &&
        c < 256 && d < 256 && r.find_first_not_of("0123456789.") == std::string::npos &&
        r == std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
                 std::to_string(d)) {
      EXPECT_TRUE(found.count({"ipv4", r})) << r;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000u);
}

}  // namespace
}  // namespace accord::formats
