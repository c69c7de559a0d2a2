#include "accord/formats/export.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "accord/pattern/pattern.h"

namespace accord::formats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Independent readers of each format, written from the format's description (docs/FORMATS.md),
// not from export.cc.

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find('\n', pos);
    EXPECT_NE(eol, std::string_view::npos) << "last line has no newline";
    if (eol == std::string_view::npos) eol = s.size();
    out.emplace_back(s.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    out.emplace_back(
        s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

// RFC 4648 §4 base64 with padding, decoded by table; nullopt on anything else.
std::optional<std::string> DecodeBase64(std::string_view s) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t acc = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = s[i + j];
      uint32_t v = 0;
      if (c == '=') {
        if (i + 4 != s.size() || j < 2) return std::nullopt;
        ++pad;
      } else {
        if (pad) return std::nullopt;
        size_t k = alphabet.find(c);
        if (k == std::string::npos) return std::nullopt;
        v = static_cast<uint32_t>(k);
      }
      acc = (acc << 6) | v;
    }
    out.push_back(static_cast<char>((acc >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((acc >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(acc & 0xff));
  }
  return out;
}

// Zeek's ASCII input reader as documented: '#fields' names the columns, other '#' lines are
// skipped, fields split on tab, "-" is unset, \xNN is the byte NN.
struct ZeekFile {
  std::vector<std::string> fields;
  std::vector<std::map<std::string, std::string>> records;  // unset fields are absent
};
ZeekFile ParseZeek(std::string_view content) {
  ZeekFile f;
  for (const std::string& line : SplitLines(content)) {
    if (line.rfind("#fields\t", 0) == 0) {
      f.fields = Split(line.substr(8), '\t');
      continue;
    }
    if (!line.empty() && line[0] == '#') continue;
    std::vector<std::string> cols = Split(line, '\t');
    EXPECT_EQ(cols.size(), f.fields.size()) << line;
    std::map<std::string, std::string> rec;
    for (size_t i = 0; i < cols.size() && i < f.fields.size(); ++i) {
      if (cols[i] == "-") continue;
      std::string v;
      for (size_t j = 0; j < cols[i].size(); ++j) {
        if (cols[i][j] == '\\' && j + 3 < cols[i].size() && cols[i][j + 1] == 'x' &&
            std::isxdigit(static_cast<unsigned char>(cols[i][j + 2])) &&
            std::isxdigit(static_cast<unsigned char>(cols[i][j + 3]))) {
          v.push_back(static_cast<char>(std::stoi(cols[i].substr(j + 2, 2), nullptr, 16)));
          j += 3;
        } else {
          v.push_back(cols[i][j]);
        }
      }
      rec[f.fields[i]] = v;
    }
    f.records.push_back(rec);
  }
  return f;
}

// RFC 4180: records end in CRLF; a quoted field may hold commas, CR, LF and doubled quotes.
std::vector<std::vector<std::string>> ParseCsv(std::string_view s) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> rec;
  std::string field;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '"') {
      ++i;
      while (true) {
        EXPECT_LT(i, s.size()) << "unterminated quoted field";
        if (i >= s.size()) return records;
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
    } else {
      while (i < s.size() && s[i] != ',' && s[i] != '\r') {
        EXPECT_NE(s[i], '"') << "quote inside an unquoted field";
        EXPECT_NE(s[i], '\n') << "bare LF";
        field += s[i++];
      }
    }
    rec.push_back(std::move(field));
    field.clear();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    EXPECT_EQ(s.substr(i, 2), "\r\n") << "record does not end in CRLF";
    i += 2;
    records.push_back(std::move(rec));
    rec.clear();
  }
  return records;
}

ExportIndicator Ind(std::string id, std::string pattern, std::string name = "", int confidence = -1,
                    std::string source = "") {
  ExportIndicator i;
  i.id = std::move(id);
  i.pattern = std::move(pattern);
  i.name = std::move(name);
  i.confidence = confidence;
  i.source = std::move(source);
  return i;
}

std::map<std::string, std::string> Export(ExportFormat f, const std::vector<ExportIndicator>& in,
                                          ExportStats* stats = nullptr,
                                          const ExportOptions& o = {}) {
  absl::StatusOr<std::vector<ExportedFile>> files = ExportIndicators(f, in, stats, o);
  EXPECT_TRUE(files.ok()) << files.status();
  std::map<std::string, std::string> out;
  if (!files.ok()) return out;
  for (const ExportedFile& file : *files) {
    EXPECT_TRUE(out.emplace(file.name, file.content).second) << "duplicate " << file.name;
  }
  return out;
}

std::vector<Value> Values(std::string_view pattern) {
  std::string why;
  std::vector<Value> v = ExportableValues(pattern, &why);
  EXPECT_TRUE(!v.empty()) << pattern << ": " << why;
  return v;
}

std::string WhyNot(std::string_view pattern) {
  std::string why;
  std::vector<Value> v = ExportableValues(pattern, &why);
  EXPECT_THAT(v, IsEmpty()) << pattern;
  EXPECT_FALSE(why.empty()) << pattern;
  return why;
}

// ---------------------------------------------------------------------------------------------

TEST(ExportFormatTest, NamesParseAndUnknownNamesAreListed) {
  EXPECT_EQ(*ParseExportFormat("zeek-intel"), ExportFormat::kZeekIntel);
  EXPECT_EQ(*ParseExportFormat("suricata-datasets"), ExportFormat::kSuricataDatasets);
  EXPECT_EQ(*ParseExportFormat("suricata-iprep"), ExportFormat::kSuricataIprep);
  EXPECT_EQ(*ParseExportFormat("list"), ExportFormat::kList);
  EXPECT_EQ(*ParseExportFormat("csv"), ExportFormat::kCsv);
  for (ExportFormat f : {ExportFormat::kZeekIntel, ExportFormat::kSuricataDatasets,
                         ExportFormat::kSuricataIprep, ExportFormat::kList, ExportFormat::kCsv}) {
    EXPECT_EQ(*ParseExportFormat(ExportFormatName(f)), f);
  }
  for (std::string_view bad : {"misp", "zeek", "CSV", ""}) {
    absl::StatusOr<ExportFormat> r = ParseExportFormat(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    for (const char* name : {"zeek-intel", "suricata-datasets", "suricata-iprep", "list", "csv"}) {
      EXPECT_THAT(std::string(r.status().message()), HasSubstr(name));
    }
  }
}

TEST(ExportableValuesTest, EqualityOnEachSensorPath) {
  struct Case {
    std::string pattern;
    ValueKind kind;
    const char* value;
  };
  const Case cases[] = {
      {"[ipv4-addr:value = '198.51.100.7']", ValueKind::kIpv4, "198.51.100.7"},
      {"[ipv4-addr:value = '198.51.100.0/24']", ValueKind::kIpv4Cidr, "198.51.100.0/24"},
      {"[ipv6-addr:value = '2001:db8::1']", ValueKind::kIpv6, "2001:db8::1"},
      {"[ipv6-addr:value = '2001:db8::/32']", ValueKind::kIpv6Cidr, "2001:db8::/32"},
      {"[network-traffic:dst_ref.value = '203.0.113.9']", ValueKind::kIpv4, "203.0.113.9"},
      {"[network-traffic:src_ref.value = '2001:db8::9']", ValueKind::kIpv6, "2001:db8::9"},
      {"[domain-name:value = 'Evil.Example.']", ValueKind::kDomain, "evil.example"},
      {"[domain-name:value = 'bücher.example']", ValueKind::kDomain, "bücher.example"},
      {"[url:value = 'http://evil.example/a?b=C']", ValueKind::kUrl, "http://evil.example/a?b=C"},
      {"[email-addr:value = 'Bob@evil.example']", ValueKind::kEmail, "Bob@evil.example"},
      {"[email-message:from_ref.value = 'm@evil.example']", ValueKind::kEmail, "m@evil.example"},
      {"[email-message:to_refs[*].value = 't@evil.example']", ValueKind::kEmail, "t@evil.example"},
      {"[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']", ValueKind::kMd5,
       "d41d8cd98f00b204e9800998ecf8427e"},
      {"[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", ValueKind::kSha1,
       "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"[file:hashes.'SHA-256' = "
       "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
       ValueKind::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"[file:hashes.SHA256 = "
       "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
       ValueKind::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"[file:hashes.'SHA-512' = '" + std::string(128, 'A') + "']", ValueKind::kSha512,
       ""},  // value checked below
  };
  for (const Case& c : cases) {
    std::vector<Value> v = Values(c.pattern);
    ASSERT_EQ(v.size(), 1u) << c.pattern;
    EXPECT_EQ(v[0].kind, c.kind) << c.pattern;
    if (c.kind == ValueKind::kSha512) {
      EXPECT_EQ(v[0].value, std::string(128, 'a'));
    } else {
      EXPECT_EQ(v[0].value, c.value) << c.pattern;
    }
  }
}

TEST(ExportableValuesTest, ParsedPatternAndTextGiveTheSame) {
  const std::string text = "[url:value = 'http://a.example/'] OR [ipv6-addr:value = '::1']";
  absl::StatusOr<pattern::Pattern> p = pattern::Parse(text);
  ASSERT_TRUE(p.ok());
  std::string why = "stale";
  EXPECT_EQ(ExportableValues(*p, &why), Values(text));
  EXPECT_EQ(why, "");
  EXPECT_THAT(ExportableValues(pattern::Pattern(), nullptr), IsEmpty());
}

TEST(ExportableValuesTest, AddressesAreCanonical) {
  EXPECT_THAT(Values("[ipv4-addr:value = '10.1.2.3/8']"),
              ElementsAre(Value{ValueKind::kIpv4Cidr, "10.0.0.0/8"}));
  EXPECT_THAT(Values("[ipv4-addr:value = '10.1.2.3/32']"),
              ElementsAre(Value{ValueKind::kIpv4, "10.1.2.3"}));
  EXPECT_THAT(Values("[ipv6-addr:value = '2001:DB8:0:0:0:0:0:1']"),
              ElementsAre(Value{ValueKind::kIpv6, "2001:db8::1"}));
  EXPECT_THAT(Values("[ipv6-addr:value = '2001:db8:ffff::1/33']"),
              ElementsAre(Value{ValueKind::kIpv6Cidr, "2001:db8:8000::/33"}));
  EXPECT_THAT(Values("[ipv6-addr:value = '::ffff:1.2.3.4/128']"),
              ElementsAre(Value{ValueKind::kIpv6, "::ffff:1.2.3.4"}));
}

TEST(ExportableValuesTest, OrAndInCollectEveryValueOnceInPatternOrder) {
  EXPECT_THAT(
      Values("[domain-name:value = 'b.example' OR domain-name:value = 'a.example']"),
      ElementsAre(Value{ValueKind::kDomain, "b.example"}, Value{ValueKind::kDomain, "a.example"}));
  EXPECT_THAT(
      Values("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2', '192.0.2.1')] OR "
             "[url:value = 'http://x.example/'] OR [domain-name:value = 'A.example' OR "
             "domain-name:value = 'a.example']"),
      ElementsAre(Value{ValueKind::kIpv4, "192.0.2.1"}, Value{ValueKind::kIpv4, "192.0.2.2"},
                  Value{ValueKind::kUrl, "http://x.example/"},
                  Value{ValueKind::kDomain, "a.example"}));
  EXPECT_THAT(
      Values("[file:hashes.'SHA-256' IN ('" + std::string(64, 'b') + "', '" + std::string(64, 'C') +
             "') OR file:hashes.MD5 = '" + std::string(32, 'd') + "']"),
      ElementsAre(Value{ValueKind::kSha256, std::string(64, 'b')},
                  Value{ValueKind::kSha256, std::string(64, 'c')},
                  Value{ValueKind::kMd5, std::string(32, 'd')}));
}

TEST(ExportableValuesTest, RefusesWhatIsNotAFlatDisjunctionOfEqualities) {
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example' AND domain-name:value = 'b.example']"),
              HasSubstr("AND"));
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example'] AND [url:value = 'http://b.example/']"),
              HasSubstr("AND"));
  EXPECT_THAT(
      WhyNot("[domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'http://b.example/']"),
      HasSubstr("FOLLOWEDBY"));
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example'] REPEATS 5 TIMES"), HasSubstr("REPEATS"));
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example'] WITHIN 60 SECONDS"), HasSubstr("WITHIN"));
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example'] START t'2020-01-01T00:00:00Z' STOP "
                     "t'2021-01-01T00:00:00Z'"),
              HasSubstr("START"));
  EXPECT_THAT(WhyNot("[domain-name:value NOT = 'a.example']"), HasSubstr("NOT"));
  EXPECT_THAT(WhyNot("[domain-name:value != 'a.example']"), HasSubstr("!="));
  EXPECT_THAT(WhyNot("[domain-name:value LIKE '%.example']"), HasSubstr("LIKE"));
  EXPECT_THAT(WhyNot("[url:value MATCHES '^http']"), HasSubstr("MATCHES"));
  EXPECT_THAT(WhyNot("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"), HasSubstr("ISSUBSET"));
  EXPECT_THAT(WhyNot("[file:name = 'evil.exe']"), HasSubstr("file:name"));
  EXPECT_THAT(WhyNot("[file:hashes.'SHA3-256' = 'ab']"), HasSubstr("file:hashes.'SHA3-256'"));
  EXPECT_THAT(WhyNot("[network-traffic:dst_port = 443]"), HasSubstr("network-traffic:dst_port"));
  EXPECT_THAT(WhyNot("[ipv4-addr:value = '2001:db8::1']"), HasSubstr("not an IPv4 address"));
  EXPECT_THAT(WhyNot("[ipv6-addr:value = '192.0.2.1']"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(WhyNot("[file:hashes.MD5 = 'abc']"), HasSubstr("32 hex digits"));
  EXPECT_THAT(WhyNot("[domain-name:value = '*.evil.example']"), HasSubstr("not a domain name"));
  EXPECT_THAT(WhyNot("[domain-name:value = 'a..example']"), HasSubstr("empty label"));
  EXPECT_THAT(WhyNot("[email-addr:value = 'nobody']"), HasSubstr("e-mail"));
  EXPECT_THAT(WhyNot("[ipv4-addr:value = 1]"), HasSubstr("not a string"));
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example'"), HasSubstr("does not parse"));
  // One bad value spoils the disjunction: exporting the rest would misstate the indicator.
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example' OR file:name = 'x']"),
              HasSubstr("file:name"));
  EXPECT_THAT(WhyNot("[email-message:to_refs[0].value = 'x@y.example']"),
              HasSubstr("path email-message:to_refs[0].value "));
  // A hostile literal is quoted short in the reason, with control bytes shown as '?'.
  std::string why = WhyNot("[file:hashes.MD5 = '\n" + std::string(200, 'z') + "']");
  EXPECT_THAT(why, HasSubstr("'?" + std::string(79, 'z') + "...'"));
  EXPECT_LT(why.size(), 200u);
  // ... and never cut inside a UTF-8 sequence: 79 ASCII bytes, then a 2-byte 'ü' at 79..80.
  why = WhyNot("[file:hashes.MD5 = '" + std::string(79, 'y') + "\xc3\xbc" + "tail']");
  EXPECT_THAT(why, HasSubstr("'" + std::string(79, 'y') + "...'"));
  // Positions point at the refused construct.
  EXPECT_THAT(WhyNot("[domain-name:value = 'a.example'] AND [url:value = 'http://b.example/']"),
              HasSubstr("column "));
}

// ---------------------------------------------------------------------------------------------
// zeek-intel

TEST(ZeekIntelTest, HeaderTypesAndMetaAsZeekDocumentsThem) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[ipv4-addr:value = '192.0.2.1']", "C2 server", 80, "feed-a"),
      Ind("indicator--2", "[url:value = 'https://evil.example/x?y=1#frag']", "", -1, ""),
  };
  std::map<std::string, std::string> files = Export(ExportFormat::kZeekIntel, in);
  ASSERT_EQ(files.size(), 1u);
  // Worked out by hand from Zeek's intel docs: tab separated, URL without its scheme, "-" for
  // the unset meta.url, meta.source defaulting to "accord". Lines sorted bytewise.
  EXPECT_EQ(files["accord.intel"],
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
            "192.0.2.1\tIntel::ADDR\tfeed-a\tC2 server (indicator--1)\t-\n"
            "evil.example/x?y=1\tIntel::URL\taccord\tindicator--2\t-\n");
}

TEST(ZeekIntelTest, EveryKindGetsItsIntelType) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--a",
          "[ipv4-addr:value = '192.0.2.1'] OR [ipv4-addr:value = '192.0.2.0/24'] OR "
          "[ipv6-addr:value = '2001:db8::1'] OR [ipv6-addr:value = '2001:db8::/48'] OR "
          "[domain-name:value = 'bücher.example'] OR [url:value = 'http://evil.example'] OR "
          "[email-addr:value = 'x@evil.example'] OR [file:hashes.MD5 = '" +
              std::string(32, 'a') + "'] OR [file:hashes.'SHA-512' = '" + std::string(128, 'f') +
              "']")};
  ZeekFile z = ParseZeek(Export(ExportFormat::kZeekIntel, in)["accord.intel"]);
  EXPECT_THAT(z.fields,
              ElementsAre("indicator", "indicator_type", "meta.source", "meta.desc", "meta.url"));
  std::set<std::pair<std::string, std::string>> got;
  for (auto& r : z.records) got.insert({r["indicator"], r["indicator_type"]});
  std::set<std::pair<std::string, std::string>> want = {
      {"192.0.2.1", "Intel::ADDR"},
      {"192.0.2.0/24", "Intel::SUBNET"},
      {"2001:db8::1", "Intel::ADDR"},
      {"2001:db8::/48", "Intel::SUBNET"},
      {"bücher.example", "Intel::DOMAIN"},
      {"evil.example/", "Intel::URL"},
      {"x@evil.example", "Intel::EMAIL"},
      {std::string(32, 'a'), "Intel::FILE_HASH"},
      {std::string(128, 'f'), "Intel::FILE_HASH"},
  };
  EXPECT_EQ(got, want);
}

TEST(ZeekIntelTest, TabsNewlinesBackslashesAndLeadingHashAreEscaped) {
  std::string name = "tab\there\nnew line\\x41 back\r\x01 ünï";
  std::string source = "#src,with\tTab";
  std::vector<ExportIndicator> in = {
      Ind("indicator--t", "[url:value = '#frag\there']", name, -1, source),
      Ind("indicator--u", "[email-addr:value = 'a\\\\b@x.example']", "-", -1, "-")};
  std::string content = Export(ExportFormat::kZeekIntel, in)["accord.intel"];
  std::vector<std::string> lines = SplitLines(content);
  ASSERT_EQ(lines.size(), 3u);  // the #fields line and one line per value
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(std::count(lines[i].begin(), lines[i].end(), '\t'), 4) << lines[i];
    EXPECT_NE(lines[i][0], '#') << lines[i];
  }
  // By hand: the name's tab, newline, backslash, CR and 0x01 become \x09 \x0a \x5c \x0d \x01.
  EXPECT_THAT(content, HasSubstr("tab\\x09here\\x0anew line\\x5cx41 back\\x0d\\x01 ünï"));
  // The URL '#frag<TAB>here' is all fragment, which no request sends: Zeek sees "/".
  ZeekFile z = ParseZeek(content);
  ASSERT_EQ(z.records.size(), 2u);
  std::map<std::string, std::map<std::string, std::string>> by_indicator;
  for (auto& r : z.records) by_indicator[r["indicator"]] = r;
  ASSERT_EQ(by_indicator.count("/"), 1u);
  EXPECT_EQ(by_indicator["/"]["meta.desc"], name + " (indicator--t)");
  EXPECT_EQ(by_indicator["/"]["meta.source"], source);
  ASSERT_EQ(by_indicator.count("a\\b@x.example"), 1u);
  // Source "-" is written \x2d, so that it does not read as unset.
  EXPECT_THAT(content, HasSubstr("\tIntel::EMAIL\t\\x2d\t"));
  EXPECT_EQ(by_indicator["a\\b@x.example"]["meta.source"], "-");
  EXPECT_EQ(by_indicator["a\\b@x.example"]["meta.desc"], "- (indicator--u)");
  EXPECT_EQ(by_indicator["a\\b@x.example"].count("meta.url"), 0u);
}

TEST(ZeekIntelTest, ValuesThatSpellAMarkerReadBackAsText) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--m", "[domain-name:value = '-']", "(empty)", -1, "(empty)")};
  std::string content = Export(ExportFormat::kZeekIntel, in)["accord.intel"];
  // By hand: the first byte of a field that is exactly "-" or "(empty)" is escaped.
  EXPECT_THAT(content,
              HasSubstr("\n\\x2d\tIntel::DOMAIN\t\\x28empty)\t(empty) (indicator--m)\t-\n"));
  ZeekFile z = ParseZeek(content);
  ASSERT_EQ(z.records.size(), 1u);
  EXPECT_EQ(z.records[0]["indicator"], "-");
  EXPECT_EQ(z.records[0]["meta.source"], "(empty)");
}

TEST(ZeekIntelTest, UrlPrefixFillsMetaUrl) {
  ExportOptions o;
  o.zeek_url_prefix = "https://accord.example/indicators/";
  std::vector<ExportIndicator> in = {Ind("indicator--1", "[domain-name:value = 'a.example']")};
  ZeekFile z = ParseZeek(Export(ExportFormat::kZeekIntel, in, nullptr, o)["accord.intel"]);
  ASSERT_EQ(z.records.size(), 1u);
  EXPECT_EQ(z.records[0]["meta.url"], "https://accord.example/indicators/indicator--1");
}

TEST(ZeekIntelTest, RoundTripRecoversEveryValueAndIndicator) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[domain-name:value IN ('a.example', 'b.example')]", "n1", -1, "s1"),
      Ind("indicator--2", "[domain-name:value = 'a.example']", "n,2", -1, "s\t2"),
      Ind("indicator--3", "[ipv6-addr:value = '2001:db8::5'] OR [ipv4-addr:value = '10.0.0.0/8']",
          "", 10, ""),
  };
  ZeekFile z = ParseZeek(Export(ExportFormat::kZeekIntel, in)["accord.intel"]);
  std::set<std::tuple<std::string, std::string, std::string>> got;
  for (auto& r : z.records) got.insert({r["indicator"], r["meta.source"], r["meta.desc"]});
  std::set<std::tuple<std::string, std::string, std::string>> want = {
      {"a.example", "s1", "n1 (indicator--1)"},    {"b.example", "s1", "n1 (indicator--1)"},
      {"a.example", "s\t2", "n,2 (indicator--2)"}, {"2001:db8::5", "accord", "indicator--3"},
      {"10.0.0.0/8", "accord", "indicator--3"},
  };
  EXPECT_EQ(got, want);
}

// ---------------------------------------------------------------------------------------------
// suricata-datasets

TEST(SuricataDatasetsTest, StringDatasetsAreBase64AndHashesHex) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[domain-name:value IN ('evil.example', 'BÜCHER.example')]", "", 40),
      Ind("indicator--2", "[domain-name:value = 'evil.example']", "", 90),
      Ind("indicator--3", "[url:value = 'http://User@Evil.Example:8080/a/b?c=1#top']"),
      Ind("indicator--4", "[file:hashes.MD5 = '" + std::string(32, 'A') +
                              "' OR file:hashes.'SHA-1' = '" + std::string(40, 'b') +
                              "' OR file:hashes.'SHA-256' = '" + std::string(64, 'c') + "']"),
      Ind("indicator--5", "[ipv4-addr:value = '192.0.2.1'] OR [ipv6-addr:value = '2001:db8::1']"),
  };
  std::map<std::string, std::string> files = Export(ExportFormat::kSuricataDatasets, in);
  // Base64 worked out independently (`printf %s evil.example | base64`): ZXZpbC5leGFtcGxl.
  // 'BÜCHER.example' is lower-cased in ASCII only: "bÜcher.example".
  std::vector<std::string> domains = SplitLines(files["accord-domains.lst"]);
  EXPECT_THAT(domains, ::testing::Contains("ZXZpbC5leGFtcGxl"));
  std::set<std::string> decoded;
  for (const std::string& l : domains) {
    std::optional<std::string> d = DecodeBase64(l);
    ASSERT_TRUE(d) << l;
    decoded.insert(*d);
  }
  EXPECT_EQ(decoded, (std::set<std::string>{"evil.example",
                                            "b\xc3\x9c"
                                            "cher.example"}));
  // datarep: base64,reputation; the highest confidence of the indicators naming the domain.
  std::map<std::string, std::string> rep;
  for (const std::string& l : SplitLines(files["accord-domains.rep"])) {
    std::vector<std::string> f = Split(l, ',');
    ASSERT_EQ(f.size(), 2u) << l;
    rep[DecodeBase64(f[0]).value_or("?")] = f[1];
  }
  EXPECT_EQ(rep["evil.example"], "90");
  EXPECT_EQ(rep["b\xc3\x9c"
                "cher.example"],
            "40");
  // URL: host as http.host gives it (lower case, no user, no port), target as sent (no
  // fragment). "/a/b?c=1" is L2EvYj9jPTE= by `base64`.
  EXPECT_EQ(files["accord-url-hosts.lst"], "ZXZpbC5leGFtcGxl\n");
  EXPECT_EQ(files["accord-url-paths.lst"], "L2EvYj9jPTE=\n");
  EXPECT_EQ(files["accord-md5.lst"], std::string(32, 'a') + "\n");
  EXPECT_EQ(files["accord-sha1.lst"], std::string(40, 'b') + "\n");
  EXPECT_EQ(files["accord-sha256.lst"], std::string(64, 'c') + "\n");
  EXPECT_EQ(files["accord-ipv4.lst"], "192.0.2.1\n");
  EXPECT_EQ(files["accord-ipv6.lst"], "2001:db8::1\n");
}

TEST(SuricataDatasetsTest, RulesAreWellFormedAndLoadOnlyExportedFiles) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[domain-name:value = 'evil.example']"),
      Ind("indicator--2", "[url:value = 'http://evil.example/']"),
      Ind("indicator--3", "[file:hashes.MD5 = '" + std::string(32, 'a') + "']"),
      Ind("indicator--5", "[ipv4-addr:value = '192.0.2.1'] OR [ipv6-addr:value = '2001:db8::1']"),
  };
  ExportOptions o;
  o.sid_base = 5000;
  std::map<std::string, std::string> files =
      Export(ExportFormat::kSuricataDatasets, in, nullptr, o);
  // No SHA-1/SHA-256 values: no such files and no rules for them.
  EXPECT_EQ(files.count("accord-sha1.lst"), 0u);
  EXPECT_EQ(files.count("accord-sha256.lst"), 0u);
  const std::regex rule(
      R"(alert (dns|http|tls|ip) any any -> any any \(msg:"Accord: [^";]+"; (.*) sid:(\d+); rev:1;\))");
  const std::regex load(R"((?:load |file(?:md5|sha1|sha256):)([A-Za-z0-9.-]+))");
  std::set<int> sids;
  std::set<std::string> loaded;
  for (const std::string& line : SplitLines(files["accord.rules"])) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, rule)) << line;
    int sid = std::stoi(m[3]);
    EXPECT_TRUE(sids.insert(sid).second) << "duplicate sid " << sid;
    std::string body = m[2];
    for (std::sregex_iterator it(body.begin(), body.end(), load), end; it != end; ++it) {
      loaded.insert((*it)[1]);
    }
  }
  // Fixed numbers per rule (docs/FORMATS.md): dns 1, http.host 2, tls 3, url 4, md5 5,
  // ipv4 8/9, ipv6 10/11.
  EXPECT_EQ(sids, (std::set<int>{5001, 5002, 5003, 5004, 5005, 5008, 5009, 5010, 5011}));
  std::set<std::string> data_files;
  for (const auto& [name, content] : files) {
    if (name.ends_with(".lst")) data_files.insert(name);
  }
  EXPECT_EQ(loaded, data_files);
}

TEST(SuricataDatasetsTest, UrlHostsAndTargetsAsSuricataSeesThem) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1",
          "[url:value IN ('http://[2001:DB8::1]:8080/p?q', 'HTTPS://h.example', "
          "'g.example:81?x=1', 'ftp://f.example/a', 'mailto:a@m.example', "
          "'http://:80/x', 'http://p.example:8o/')]")};
  ExportStats st;
  std::map<std::string, std::string> files = Export(ExportFormat::kSuricataDatasets, in, &st);
  std::set<std::string> hosts, paths;
  for (const std::string& l : SplitLines(files["accord-url-hosts.lst"])) {
    hosts.insert(DecodeBase64(l).value_or("?"));
  }
  for (const std::string& l : SplitLines(files["accord-url-paths.lst"])) {
    paths.insert(DecodeBase64(l).value_or("?"));
  }
  // By hand: brackets and ports dropped, hosts lower-cased; an empty target is "/", a bare
  // query gets its "/"; ftp, mailto, an empty host and a non-numeric port are refused.
  EXPECT_EQ(hosts, (std::set<std::string>{"2001:db8::1", "h.example", "g.example"}));
  EXPECT_EQ(paths, (std::set<std::string>{"/p?q", "/", "/?x=1"}));
  EXPECT_EQ(st.values_skipped, 4u);
  EXPECT_EQ(st.indicators, 1u);
}

TEST(SuricataDatasetsTest, CidrsEmailsAndSha512AreSkippedWithReasons) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--c", "[ipv4-addr:value = '10.0.0.0/8']"),
      Ind("indicator--e", "[email-addr:value = 'x@evil.example']"),
      Ind("indicator--s", "[file:hashes.'SHA-512' = '" + std::string(128, 'a') + "']"),
      Ind("indicator--m", "[ipv4-addr:value = '10.0.0.0/8'] OR [ipv4-addr:value = '10.0.0.1']"),
  };
  ExportStats st;
  std::map<std::string, std::string> files = Export(ExportFormat::kSuricataDatasets, in, &st);
  EXPECT_EQ(st.indicators, 1u);
  EXPECT_EQ(st.skipped, 3u);
  EXPECT_EQ(st.values, 1u);
  EXPECT_EQ(st.values_skipped, 4u);
  ASSERT_EQ(st.skipped_reasons.size(), 3u);
  EXPECT_THAT(st.skipped_reasons[0], HasSubstr("indicator--c: "));
  EXPECT_THAT(st.skipped_reasons[0], HasSubstr("CIDR"));
  EXPECT_THAT(st.skipped_reasons[1], HasSubstr("e-mail"));
  EXPECT_THAT(st.skipped_reasons[2], HasSubstr("SHA-512"));
  EXPECT_EQ(files["accord-ipv4.lst"], "10.0.0.1\n");
}

// ---------------------------------------------------------------------------------------------
// suricata-iprep

TEST(SuricataIprepTest, CategoriesAndScoresFromConfidence) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[ipv4-addr:value = '192.0.2.1']", "", 50),
      Ind("indicator--2", "[ipv4-addr:value = '192.0.2.1']", "", 70),     // same address: max
      Ind("indicator--3", "[ipv4-addr:value = '198.51.100.0/24']"),       // absent: 127
      Ind("indicator--4", "[ipv6-addr:value = '2001:db8::/32']", "", 0),  // 0 -> 1
      Ind("indicator--5", "[ipv6-addr:value = '2001:db8::7']", "", 100),
      Ind("indicator--6", "[domain-name:value = 'evil.example']"),  // not an address
  };
  ExportStats st;
  std::map<std::string, std::string> files = Export(ExportFormat::kSuricataIprep, in, &st);
  EXPECT_EQ(files["categories.txt"], "1,AccordBadHosts,Accord indicators\n");
  std::map<std::string, std::pair<int, int>> got;
  for (const std::string& l : SplitLines(files["accord.iprep"])) {
    std::vector<std::string> f = Split(l, ',');
    ASSERT_EQ(f.size(), 3u) << l;
    EXPECT_TRUE(got.emplace(f[0], std::make_pair(std::stoi(f[1]), std::stoi(f[2]))).second);
  }
  // Scores by hand: round(confidence * 127 / 100) clamped to 1..127; 50 -> 63.5 -> 64,
  // 70 -> 88.9 -> 89.
  std::map<std::string, std::pair<int, int>> want = {
      {"192.0.2.1", {1, 89}},
      {"198.51.100.0/24", {1, 127}},
      {"2001:db8::/32", {1, 1}},
      {"2001:db8::7", {1, 127}},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(st.skipped, 1u);
  EXPECT_THAT(files["accord-iprep.rules"], HasSubstr("iprep:any,AccordBadHosts,>,0;"));
  EXPECT_THAT(files["accord-iprep.rules"], HasSubstr("sid:9200020;"));
}

// ---------------------------------------------------------------------------------------------
// list and csv

TEST(ListExportTest, OneSortedUniqueFilePerKind) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[domain-name:value IN ('b.example', 'a.example')]"),
      Ind("indicator--2", "[domain-name:value = 'a.example'] OR [ipv4-addr:value = '10.0.0.0/8']"),
      Ind("indicator--3", "[url:value = 'http://x.example/a\nb']"),
      Ind("indicator--4", "[ipv6-addr:value = '2001:db8::1']"),
  };
  ExportStats st;
  std::map<std::string, std::string> files = Export(ExportFormat::kList, in, &st);
  std::map<std::string, std::string> want = {
      {"domain.txt", "a.example\nb.example\n"},
      {"ipv4-cidr.txt", "10.0.0.0/8\n"},
      {"ipv6.txt", "2001:db8::1\n"},
  };
  EXPECT_EQ(files, want);
  EXPECT_EQ(st.skipped, 1u);
  ASSERT_EQ(st.skipped_reasons.size(), 1u);
  EXPECT_THAT(st.skipped_reasons[0], HasSubstr("line break"));
}

TEST(CsvExportTest, Rfc4180QuotingByHand) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[domain-name:value = 'a.example']", "say \"hi\", then\r\nleave", -1,
          "plain"),
  };
  EXPECT_EQ(Export(ExportFormat::kCsv, in)["indicators.csv"],
            "value,type,indicator_id,name,source\r\n"
            "a.example,domain,indicator--1,\"say \"\"hi\"\", then\r\nleave\",plain\r\n");
}

TEST(CsvExportTest, RoundTripThroughAnRfc4180Reader) {
  std::vector<ExportIndicator> in = {
      Ind("indicator--1", "[url:value = 'http://x.example/?a=1,b=\"2\"']", "comma, name", -1,
          "src\nline"),
      Ind("indicator--2", "[email-addr:value = 'ünï@x.example'] OR [ipv6-addr:value = '::1']",
          "\"quoted\"", -1, ""),
      Ind("indicator--3", "[file:hashes.'SHA-1' = '" + std::string(40, 'E') + "']", "", -1,
          "tab\tsource"),
  };
  std::vector<std::vector<std::string>> recs =
      ParseCsv(Export(ExportFormat::kCsv, in)["indicators.csv"]);
  ASSERT_FALSE(recs.empty());
  EXPECT_THAT(recs[0], ElementsAre("value", "type", "indicator_id", "name", "source"));
  std::set<std::vector<std::string>> got(recs.begin() + 1, recs.end());
  std::set<std::vector<std::string>> want = {
      {"http://x.example/?a=1,b=\"2\"", "url", "indicator--1", "comma, name", "src\nline"},
      {"ünï@x.example", "email", "indicator--2", "\"quoted\"", ""},
      {"::1", "ipv6", "indicator--2", "\"quoted\"", ""},
      {std::string(40, 'e'), "sha1", "indicator--3", "", "tab\tsource"},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(recs.size(), 5u);
}

// ---------------------------------------------------------------------------------------------
// Every format

std::vector<ExportIndicator> Mixed() {
  return {
      Ind("indicator--1", "[domain-name:value IN ('b.example', 'a.example')]", "one", 30, "s"),
      Ind("indicator--2", "[ipv4-addr:value = '10.0.0.0/8'] OR [ipv4-addr:value = '192.0.2.1']",
          "two", 60, "t"),
      Ind("indicator--3", "[url:value = 'http://c.example/p,q\"r']", "three", -1, ""),
      Ind("indicator--4", "[file:hashes.MD5 = '" + std::string(32, '1') + "']", "", 99, "u"),
      Ind("indicator--5", "[ipv6-addr:value = '2001:db8::1']", "five\tname", 10, "v"),
      Ind("indicator--6", "[domain-name:value = 'a.example']", "six", 70, "w"),
      Ind("indicator--7", "[process:name = 'x']", "seven"),
      Ind("indicator--8", "[domain-name:value = 'a.example']", "six", 70, "w"),  // duplicate
  };
}

TEST(ExportIndicatorsTest, SameIndicatorsInAnotherOrderGiveIdenticalBytes) {
  std::vector<ExportIndicator> in = Mixed();
  std::mt19937 rng(15);
  for (ExportFormat f : {ExportFormat::kZeekIntel, ExportFormat::kSuricataDatasets,
                         ExportFormat::kSuricataIprep, ExportFormat::kList, ExportFormat::kCsv}) {
    absl::StatusOr<std::vector<ExportedFile>> first = ExportIndicators(f, in, nullptr);
    ASSERT_TRUE(first.ok());
    std::vector<std::string> names;
    for (const ExportedFile& file : *first) names.push_back(file.name);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << ExportFormatName(f);
    for (int round = 0; round < 5; ++round) {
      std::vector<ExportIndicator> shuffled = in;
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      absl::StatusOr<std::vector<ExportedFile>> again = ExportIndicators(f, shuffled, nullptr);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *first) << ExportFormatName(f);
    }
  }
}

TEST(ExportIndicatorsTest, StatsCountIndicatorsValuesAndSkips) {
  ExportStats st;
  st.skipped = 99;  // reset by the call
  Export(ExportFormat::kList, Mixed(), &st);
  EXPECT_EQ(st.indicators, 7u);
  EXPECT_EQ(st.skipped, 1u);
  // a.example, b.example, 10.0.0.0/8, 192.0.2.1, the URL, the MD5, 2001:db8::1.
  EXPECT_EQ(st.values, 7u);
  EXPECT_EQ(st.values_skipped, 0u);
  ASSERT_EQ(st.skipped_reasons.size(), 1u);
  EXPECT_THAT(st.skipped_reasons[0], HasSubstr("indicator--7: column 2: path process:name"));
}

TEST(ExportIndicatorsTest, ReasonsAreCappedAndEmptyInputGivesHeadersOnly) {
  std::vector<ExportIndicator> bad;
  for (int i = 0; i < 30; ++i) bad.push_back(Ind("indicator--x", "[process:pid = 1]"));
  ExportStats st;
  ExportOptions o;
  o.max_reasons = 3;
  std::map<std::string, std::string> files = Export(ExportFormat::kCsv, bad, &st, o);
  EXPECT_EQ(st.skipped, 30u);
  EXPECT_EQ(st.skipped_reasons.size(), 3u);
  EXPECT_EQ(files["indicators.csv"], "value,type,indicator_id,name,source\r\n");
  EXPECT_EQ(Export(ExportFormat::kZeekIntel, {})["accord.intel"],
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n");
  EXPECT_THAT(Export(ExportFormat::kList, {}), IsEmpty());
}

TEST(ExportIndicatorsTest, SidBaseWithoutRoomIsRefused) {
  ExportOptions o;
  o.sid_base = UINT32_MAX - 5;
  absl::StatusOr<std::vector<ExportedFile>> r =
      ExportIndicators(ExportFormat::kSuricataDatasets, Mixed(), nullptr, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace accord::formats
