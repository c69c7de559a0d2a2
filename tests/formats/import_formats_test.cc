// `accord import --format auto|list|csv|text` end to end (issue 15): the sniffer says what it
// chose, archives are read member by member, every converted object goes through the one
// ingest path into the store, re-imports add nothing, and input no reader accepts is refused
// with the formats Accord reads.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "common/test_util.h"

namespace accord::testing {
namespace {

using json = nlohmann::json;

void Write(const std::filesystem::path& p, const std::string& s) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

class ImportFormats : public ::testing::Test {
 protected:
  ImportFormats() : tmp_("import-formats"), data_((tmp_.path() / "data").string()) {}
  RunResult Run(const std::string& args) {
    return RunCmd(Accord() + " " + args + " --data " + ShellQuote(data_), tmp_.path());
  }
  // Stored objects (last versions), by type, each as JSON.
  std::map<std::string, std::vector<json>> Stored() {
    auto r = Run("list --json --include-revoked");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::vector<json>> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json j = json::parse(line);
      out[j["type"].get<std::string>()].push_back(j);
    }
    return out;
  }
  std::set<std::string> Patterns() {
    std::set<std::string> out;
    auto stored = Stored();
    for (const auto& j : stored["indicator"]) out.insert(j["pattern"].get<std::string>());
    return out;
  }
  TempDir tmp_;
  std::string data_;
};

TEST_F(ImportFormats, AutoSniffsEachInputAndSaysWhatItChose) {
  auto dir = tmp_.path() / "in";
  Write(dir / "note.txt",
        "Analyst note: the loader beacons to hxxps://cdn-update[.]example.com/gate and to "
        "198.51.100.23:8443; it exploits CVE-2023-4863. Files: loader.zip, setup.py.\n");
  Write(dir / "feed.txt", "# a feed\nevil-one.example.net\n203.0.113.0/24\n");
  Write(dir / "iocs.csv", "indicator,kind\n192.0.2.44,ip-dst\nbad.example.org,domain\n");
  Write(
      dir / "bundle.json",
      R"({"type":"bundle","id":"bundle--6f0f1a5e-6a0e-4a4c-9a43-0c1a3a8d5a11","objects":[)"
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--0b6a3d7e-1f42-4d7c-8f5e-2a1b3c4d5e6f",)"
      R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
      R"("pattern":"[url:value = 'http://stix.example.com/x']","pattern_type":"stix",)"
      R"("valid_from":"2024-01-01T00:00:00Z"}]})");
  Write(dir / "blob.bin", std::string("\x7f"
                                      "ELF\x02\x01\x01\0\0\0\0",
                                      12));
  auto r = Run("import " + ShellQuote(dir.string()));
  // blob.bin is refused, so the run exits 1; everything else is stored.
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("note.txt: read as text"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("feed.txt: read as list"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("iocs.csv: read as csv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bundle.json: read as stix"), std::string::npos) << r.err;
  size_t refused = r.err.find("blob.bin: no reader accepts this input");
  ASSERT_NE(refused, std::string::npos) << r.err;
  std::string line = r.err.substr(refused, r.err.find('\n', refused) - refused);
  for (const char* f : {"stix", "misp", "csv", "list", "text"}) {
    EXPECT_NE(line.find(f), std::string::npos) << line;
  }
  // By hand: note.txt holds a URL, an address and a CVE (not the file names); feed.txt a
  // domain and a CIDR; iocs.csv an address and a domain; bundle.json one URL indicator.
  EXPECT_EQ(Patterns(), (std::set<std::string>{
                            "[url:value = 'https://cdn-update.example.com/gate']",
                            "[ipv4-addr:value = '198.51.100.23']",
                            "[domain-name:value = 'evil-one.example.net']",
                            "[ipv4-addr:value = '203.0.113.0/24']",
                            "[ipv4-addr:value = '192.0.2.44']",
                            "[domain-name:value = 'bad.example.org']",
                            "[url:value = 'http://stix.example.com/x']",
                        }));
  auto stored = Stored();
  ASSERT_EQ(stored["vulnerability"].size(), 1u);
  EXPECT_EQ(stored["vulnerability"][0]["name"], "CVE-2023-4863");
  ASSERT_EQ(stored["report"].size(), 1u);  // the text's report
  EXPECT_EQ(stored["report"][0]["object_refs"].size(), 3u);
}

TEST_F(ImportFormats, ReimportingAListAddsNothing) {
  auto feed = tmp_.path() / "feed.txt";
  Write(feed, "evil-two.example.net\n192.0.2.200\n");
  auto r = Run("import --format list " + ShellQuote(feed.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 2 object(s)"), std::string::npos) << r.out;
  r = Run("import --format list " + ShellQuote(feed.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 0 object(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 value(s) the collection already held"), std::string::npos) << r.out;
  auto all = Run("list --versions all");
  size_t versions = 0;
  std::istringstream in(all.out);
  std::string l;
  while (std::getline(in, l)) versions += !l.empty();
  EXPECT_EQ(versions, 2u);
}

TEST_F(ImportFormats, ArchivesAreReadMemberByMember) {
  auto src = tmp_.path() / "src";
  Write(src / "lists" / "domains.txt", "evil-three.example.com\nevil-four.example.com\n");
  Write(src / "lists" / "hashes.txt", "44d88612fea8a8f36de82e1278abb02f\n");
  auto tgz = tmp_.path() / "feed.tar.gz";
  ASSERT_EQ(std::system(("tar -czf " + ShellQuote(tgz.string()) + " -C " +
                         ShellQuote(src.string()) + " lists")
                            .c_str()),
            0);
  auto r = Run("import " + ShellQuote(tgz.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("feed.tar.gz:lists/domains.txt: read as list"), std::string::npos) << r.err;
  EXPECT_EQ(Patterns(), (std::set<std::string>{
                            "[domain-name:value = 'evil-three.example.com']",
                            "[domain-name:value = 'evil-four.example.com']",
                            "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
                        }));
}

TEST_F(ImportFormats, StrictStopsAtTheFirstBadLineAndStoresNothingOfThatUnit) {
  auto feed = tmp_.path() / "feed.txt";
  Write(feed, "evil-five.example.com\nnot-a-value\n192.0.2.201\n");
  auto r = Run("import --strict --format list " + ShellQuote(feed.string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("feed.txt:2"), std::string::npos) << r.err;
  EXPECT_TRUE(Patterns().empty());
  // Without --strict the bad line is reported with its number and the rest is stored.
  r = Run("import --format list " + ShellQuote(feed.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rejected: " + feed.string() + ":2: 'not-a-value'"), std::string::npos)
      << r.err;
  EXPECT_EQ(Patterns().size(), 2u);
}

TEST_F(ImportFormats, UnknownFormatNamesTheFormatsAccordReads) {
  auto r = Run("import --format yaml x");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown format 'yaml'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("misp"), std::string::npos) << r.err;
}

std::string MispEvent(const std::string& uuid, const std::string& ts, const std::string& attrs) {
  return R"({"Event":{"uuid":")" + uuid + R"(","info":"Test event )" + uuid.substr(0, 4) +
         R"(","date":"2024-05-01","timestamp":")" + ts +
         R"(","Orgc":{"name":"CERT-EX","uuid":"5d3f2b1a-0c4e-4f6a-9b8c-7d6e5f4a3b2c"},"Attribute":[)" +
         attrs + "]}}";
}
std::string MispAttr(const std::string& uuid, const std::string& type, const std::string& value,
                     bool to_ids) {
  return R"({"uuid":")" + uuid + R"(","type":")" + type +
         R"(","category":"Network activity","value":")" + value + R"(","to_ids":)" +
         (to_ids ? "true" : "false") + R"(,"timestamp":"1714521600"})";
}

// A MISP feed folder: manifest.json, <uuid>.json per event and MISP's hashes.csv. Events are
// read into indicators (to_ids) and observables; a second import reads only the event whose
// timestamp moved; `export --format misp` gives events that import back to the same patterns.
TEST_F(ImportFormats, MispFeedFolderIsImportedIncrementallyAndExportsBack) {
  const std::string e1 = "11111111-aaaa-4bbb-8ccc-000000000001";
  const std::string e2 = "11111111-aaaa-4bbb-8ccc-000000000002";
  auto feed = tmp_.path() / "feed";
  auto write_feed = [&](const std::string& ts2, const std::string& extra_attr) {
    Write(feed / (e1 + ".json"), MispEvent(e1, "1714521600",
                                           MispAttr("22222222-aaaa-4bbb-8ccc-000000000001",
                                                    "domain", "c2.evil-misp.com", true) +
                                               "," +
                                               MispAttr("22222222-aaaa-4bbb-8ccc-000000000002",
                                                        "ip-dst", "198.51.100.61", false)));
    Write(feed / (e2 + ".json"), MispEvent(e2, ts2,
                                           MispAttr("22222222-aaaa-4bbb-8ccc-000000000003", "md5",
                                                    "0123456789abcdef0123456789abcdef", true) +
                                               extra_attr));
    Write(feed / "manifest.json", R"({")" + e1 + R"(":{"info":"one","timestamp":"1714521600"},")" +
                                      e2 + R"(":{"info":"two","timestamp":")" + ts2 + R"("}})");
    Write(feed / "hashes.csv", "0123456789abcdef0123456789abcdef," + e2 + "\n");
  };
  write_feed("1714521600", "");
  auto r = Run("import " + ShellQuote(feed.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("MISP feed, 2 event(s) in its manifest"), std::string::npos) << r.err;
  // By hand: two to_ids attributes -> two indicators; one observable; one report per event.
  EXPECT_EQ(Patterns(),
            (std::set<std::string>{"[domain-name:value = 'c2.evil-misp.com']",
                                   "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']"}));
  auto stored = Stored();
  EXPECT_EQ(stored["report"].size(), 2u);
  ASSERT_EQ(stored["ipv4-addr"].size(), 1u);
  EXPECT_EQ(stored["ipv4-addr"][0]["value"], "198.51.100.61");

  // Event 2 changes (a new attribute, a later timestamp): only it is read again.
  write_feed("1714608000", "," + MispAttr("22222222-aaaa-4bbb-8ccc-000000000004", "url",
                                          "http://evil-misp.com/drop.bin", true));
  r = Run("import " + ShellQuote(feed.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 event(s) unchanged since the last import"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(e1 + ".json"), std::string::npos) << r.err;
  EXPECT_EQ(Patterns().size(), 3u);

  // Out as MISP, and back into an empty node: the same indicators.
  r = Run("export --format misp");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = tmp_.path() / "out.json";
  Write(out, r.out);
  json events = json::parse(Slurp(out));
  ASSERT_TRUE(events.contains("response")) << events.dump().substr(0, 300);
  std::set<std::string> before = Patterns();
  std::string other = (tmp_.path() / "other").string();
  r = RunCmd(Accord() + " import --format misp " + ShellQuote(out.string()) + " --data " +
                 ShellQuote(other),
             tmp_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::swap(data_, other);
  EXPECT_EQ(Patterns(), before);
  std::swap(data_, other);
}

// An event's objects go to the store while the event converts (in batches of 1,024), but the
// event is still one transaction: with --strict, an event whose 1,501st attribute is malformed
// stores nothing, though 1,500 indicators of it were already on their way; the event before it
// stays stored whole.
TEST_F(ImportFormats, StrictMispEventFailingLateStoresNothingOfIt) {
  const std::string a = "11111111-aaaa-4bbb-8ccc-00000000000a";
  const std::string b = "11111111-aaaa-4bbb-8ccc-00000000000b";
  std::string good;  // 1,500 valid attributes
  for (int i = 0; i < 1500; ++i) {
    char uuid[64], ip[32];
    std::snprintf(uuid, sizeof uuid, "33333333-aaaa-4bbb-8ccc-%012d", i);
    std::snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250, i % 250 + 1);
    good += (i ? "," : "") + MispAttr(uuid, "ip-dst", ip, true);
  }
  const std::string b_attrs =
      good + "," + MispAttr("33333333-aaaa-4bbb-8ccc-999999999999", "ip-dst", "not-an-ip", true);
  auto in = tmp_.path() / "events.json";
  Write(in, "[" +
                MispEvent(a, "1714521600",
                          MispAttr("22222222-aaaa-4bbb-8ccc-00000000000a", "domain",
                                   "first.evil-misp.com", true) +
                              "," +
                              MispAttr("22222222-aaaa-4bbb-8ccc-00000000000b", "ip-dst",
                                       "198.51.100.62", true)) +
                "," + MispEvent(b, "1714521600", b_attrs) + "]");
  auto r = Run("import --strict --format misp " + ShellQuote(in.string()));
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("not-an-ip"), std::string::npos) << r.err;
  // By hand: event a's two indicators and its report; nothing of event b (its report, its
  // 1,500 indicators of 10.0.x.y).
  EXPECT_EQ(Patterns(), (std::set<std::string>{"[domain-name:value = 'first.evil-misp.com']",
                                               "[ipv4-addr:value = '198.51.100.62']"}));
  auto stored = Stored();
  ASSERT_EQ(stored["report"].size(), 1u);
  EXPECT_EQ(stored["report"][0]["id"], "report--" + a);
  // A later import of event b alone, fixed, is stored whole: it was not marked as imported.
  Write(in, MispEvent(
                b, "1714521600",
                good + "," +
                    MispAttr("33333333-aaaa-4bbb-8ccc-999999999999", "ip-dst", "10.0.9.9", true)));
  r = Run("import --strict --format misp " + ShellQuote(in.string()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Patterns().size(), 2u + 1501u);
  EXPECT_EQ(Stored()["report"].size(), 2u);
}

// A real feed: ThreatFox's C2 addresses, one a line. Every distinct line is one indicator.
TEST_F(ImportFormats, ThreatFoxAddressesOneIndicatorPerDistinctLine) {
  auto archive = SharedDir() / "data/indicators/threatfox-ioc-ips.tar.gz";
  ACCORD_REQUIRE_SHARED(archive);
  auto ips = tmp_.path() / "ips.txt";
  ASSERT_EQ(std::system(("tar -xzOf " + ShellQuote(archive.string()) +
                         " ThreatFox-IOC-IPs/ips.txt > " + ShellQuote(ips.string()))
                            .c_str()),
            0);
  std::set<std::string> distinct;
  std::ifstream in(ips);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] != '#') distinct.insert(line);
  }
  ASSERT_GT(distinct.size(), 10000u);
  auto r = Run("import -q --format list --type ipv4 " + ShellQuote(ips.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  auto st = Run("stats --json");
  json j = json::parse(st.out);
  EXPECT_EQ(j["per_type"]["indicator"].get<size_t>(), distinct.size());
}

}  // namespace
}  // namespace accord::testing
