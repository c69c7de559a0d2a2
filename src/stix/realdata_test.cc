// Real STIX data (../shared/data/stix, see MANIFEST.md there) through accord::stix::ReadFile:
// every object of the STIX 2.1 sources must be accepted, the ATT&CK Enterprise STIX 2.0
// objects must upgrade, and the deliberately invalid validator examples must be rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "accord/stix/reader.h"
#include "common/test_util.h"

namespace accord::stix {
namespace {

namespace fs = std::filesystem;

const fs::path kStixDir = accord::testing::SharedDir() / "data" / "stix";

struct FileResult {
  ReadStats stats;
  std::vector<Problem> problems;  // rejections
  std::vector<Problem> warnings;  // findings on accepted objects
};

FileResult Read(const fs::path& path, bool check_sco_ids = true) {
  FileResult r;
  ReaderOptions opts;
  opts.check_sco_ids = check_sco_ids;
  auto st = ReadFile(
      path.string(), opts, [](ObjectRecord&&) { return absl::OkStatus(); },
      [&](Problem&& p) { (p.warning ? r.warnings : r.problems).push_back(std::move(p)); });
  EXPECT_TRUE(st.ok()) << path << ": " << st.status();
  if (st.ok()) r.stats = *st;
  return r;
}

// The file holds a bare JSON array of objects. It is wrapped into a bundle and read with
// ReadBuffer because the reader's top-level-array path (reader.cc, Document) iterates a
// dangling simdjson array and crashes on it (reported; not this test's subject).
FileResult ReadArrayAsBundle(const fs::path& path, bool check_sco_ids) {
  FileResult r;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc =
      "{\"type\":\"bundle\",\"id\":\"bundle--0f4a3025-7788-4f25-a0c7-26171056dfae\","
      "\"objects\":" +
      ss.str() + "}";
  ReaderOptions opts;
  opts.check_sco_ids = check_sco_ids;
  auto st = ReadBuffer(
      doc, opts, [](ObjectRecord&&) { return absl::OkStatus(); },
      [&](Problem&& p) { (p.warning ? r.warnings : r.problems).push_back(std::move(p)); });
  EXPECT_TRUE(st.ok()) << path << ": " << st.status();
  if (st.ok()) r.stats = *st;
  return r;
}

std::string Describe(const std::vector<Problem>& problems, size_t max = 10) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < max; ++i) {
    out += problems[i].ToString();
    out += "\n";
  }
  if (problems.size() > max) out += "...\n";
  return out;
}

// Extracts `archive` (relative to data/stix) into a fresh temporary directory.
class Extracted {
 public:
  explicit Extracted(const std::string& archive) {
    std::string tmpl = (fs::temp_directory_path() / "accord-stix-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    std::string cmd = "tar -xzf '" + (kStixDir / archive).string() + "' -C '" + dir_.string() + "'";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  ~Extracted() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  const fs::path& dir() const { return dir_; }
  // Every *.json file below `sub`, sorted.
  std::vector<fs::path> JsonFiles(const std::string& sub = "") const {
    std::vector<fs::path> files;
    fs::path root = sub.empty() ? dir_ : dir_ / sub;
    if (!fs::exists(root)) return files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

 private:
  fs::path dir_;
  bool ok_ = false;
};

class RealDataTest : public ::testing::Test {
 protected:
  void SetUp() override { ACCORD_REQUIRE_SHARED(kStixDir); }
};

// Reads every file and expects every object accepted; returns the number of objects.
uint64_t ExpectAllAccepted(const std::vector<fs::path>& files, uint64_t* upgraded = nullptr) {
  uint64_t objects = 0;
  for (const auto& f : files) {
    FileResult r = Read(f);
    EXPECT_EQ(r.stats.rejected, 0u) << f << "\n" << Describe(r.problems);
    objects += r.stats.objects;
    if (upgraded != nullptr) *upgraded += r.stats.upgraded;
  }
  return objects;
}

TEST_F(RealDataTest, AttackIcsAndMobileStix21) {
  for (const char* name : {"ics-attack-17.1.json.gz", "mobile-attack-17.1.json.gz"}) {
    FileResult r = Read(kStixDir / "attack-stix-data" / name);
    EXPECT_EQ(r.stats.rejected, 0u) << name << "\n" << Describe(r.problems);
    EXPECT_GT(r.stats.objects, 1000u) << name;
    EXPECT_EQ(r.stats.upgraded, 0u) << name;
  }
  // ICS 18.1: five x-mitre-data-component objects carry "x_mitre_data_source_ref": "". A
  // custom property is the producer's own; an empty custom reference is flagged as a warning
  // and the objects are kept (the issue requires ATT&CK ICS to import in full).
  FileResult r = Read(kStixDir / "attack-stix-data" / "ics-attack-18.1.json.gz");
  EXPECT_EQ(r.stats.objects, 1826u);
  EXPECT_EQ(r.stats.rejected, 0u) << Describe(r.problems);
  EXPECT_EQ(r.warnings.size(), 5u) << Describe(r.warnings);
  for (const auto& p : r.warnings) {
    EXPECT_EQ(p.object_id.substr(0, 24), "x-mitre-data-component--") << p.ToString();
    EXPECT_NE(p.message.find("'x_mitre_data_source_ref' must be an identifier"), std::string::npos)
        << p.ToString();
  }
}

TEST_F(RealDataTest, CapecStix21) {
  Extracted x("mitre-cti-capec-stix21-objects.tar.gz");
  ASSERT_TRUE(x.ok());
  auto files = x.JsonFiles();
  EXPECT_GT(files.size(), 2000u);
  EXPECT_GT(ExpectAllAccepted(files), 2000u);
}

TEST_F(RealDataTest, OasisDocumentationExamples) {
  Extracted x("oasis-cti-documentation-examples.tar.gz");
  ASSERT_TRUE(x.ok());
  EXPECT_GT(ExpectAllAccepted(x.JsonFiles()), 100u);
}

TEST_F(RealDataTest, PythonStix2TestData) {
  Extracted x("oasis-cti-python-stix2-testdata-v21.tar.gz");
  ASSERT_TRUE(x.ok());
  std::vector<fs::path> files;
  fs::path sco_bundle, tlp_statement;
  for (const auto& f : x.JsonFiles()) {
    if (f.filename() == "sco-examples-bundle.json") {
      sco_bundle = f;
    } else if (f.filename() == "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168.json") {
      tlp_statement = f;
    } else {
      files.push_back(f);
    }
  }
  EXPECT_GT(ExpectAllAccepted(files), 20u);

  // This statement marking has "created": "2017-06-01T00:00:00Z"; created MUST be precise to
  // the millisecond (STIX 2.1 §3.2; schema pattern \.\d{3,}Z): a genuine violation.
  ASSERT_FALSE(tlp_statement.empty());
  FileResult md = Read(tlp_statement);
  ASSERT_EQ(md.problems.size(), 1u);
  EXPECT_NE(md.problems[0].message.find("'created' must have at least millisecond precision"),
            std::string::npos)
      << md.problems[0].ToString();

  // sco-examples-bundle.json: its UUIDv5 SCO ids do not reproduce with the STIX 2.1
  // deterministic-id algorithm (checked independently with python3 uuid.uuid5 over the JCS
  // name, with both the spec namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 and other
  // candidates; e.g. ipv4-addr 198.51.100.3 is ipv4-addr--ff26c055-... here, the spec's own
  // vector is ipv4-addr--28bb3599-...). With check_sco_ids those SCOs are flagged; without it
  // (the spec says consumers MUST NOT reject on this) every object is accepted.
  ASSERT_FALSE(sco_bundle.empty());
  FileResult strict = ReadArrayAsBundle(sco_bundle, /*check_sco_ids=*/true);
  EXPECT_EQ(strict.stats.rejected, 3u) << Describe(strict.problems);
  EXPECT_GT(strict.warnings.size(), 50u);
  for (const auto& p : strict.warnings) {
    EXPECT_NE(p.message.find("deterministic id mismatch"), std::string::npos) << p.ToString();
  }
  // Without the id check, three artifacts remain rejected: their payload_bin is a placeholder,
  // "VBORw0KGgoAAAANSUhEUgAAADI== ..." (with " ..." appended), not base64 — a genuine
  // violation of the binary type (STIX 2.1 §2.3).
  FileResult lax = ReadArrayAsBundle(sco_bundle, /*check_sco_ids=*/false);
  EXPECT_EQ(lax.stats.objects, 79u);
  ASSERT_EQ(lax.stats.rejected, 3u) << Describe(lax.problems);
  for (const auto& p : lax.problems) {
    EXPECT_EQ(p.object_id.substr(0, 10), "artifact--") << p.ToString();
    EXPECT_NE(p.message.find("'payload_bin' must be padded base64"), std::string::npos)
        << p.ToString();
  }
}

TEST_F(RealDataTest, DogoodHoneypotFeed) {
  Extracted x("dogood-honeypot-stix21-daily.tar.gz");
  ASSERT_TRUE(x.ok());
  EXPECT_GT(ExpectAllAccepted(x.JsonFiles()), 1000u);
}

TEST_F(RealDataTest, JsonSchemaExamples) {
  Extracted x("oasis-cti-stix2-json-schemas.tar.gz");
  ASSERT_TRUE(x.ok());
  EXPECT_GT(ExpectAllAccepted(x.JsonFiles("cti-stix2-json-schemas/examples")), 50u);
}

// Reads every file, collecting all problems.
FileResult ReadAll(const std::vector<fs::path>& files) {
  FileResult all;
  for (const auto& f : files) {
    FileResult r = Read(f);
    all.stats.objects += r.stats.objects;
    all.stats.rejected += r.stats.rejected;
    all.stats.upgraded += r.stats.upgraded;
    for (auto& p : r.problems) all.problems.push_back(std::move(p));
    for (auto& p : r.warnings) all.warnings.push_back(std::move(p));
  }
  return all;
}

TEST_F(RealDataTest, Unit42ReportsStix20Upgrade) {
  Extracted x("unit42-stix2-reports.tar.gz");
  ASSERT_TRUE(x.ok());
  // report_json/ holds the STIX bundles; stix2-reports/reports.json is the feed's own index
  // (not STIX).
  FileResult r = ReadAll(x.JsonFiles("unit42-iocs/stix2-reports/report_json"));
  EXPECT_GT(r.stats.objects, 5000u);
  EXPECT_GT(r.stats.upgraded, 5000u);
  // Genuine violations in the published reports (of STIX 2.0 as much as of 2.1), each
  // asserted by name:
  //  * 13 identity objects carry "identity_class": ["organization"], a list; identity_class
  //    is a single open-vocabulary string in both versions.
  //  * 3 campaigns have last_seen before first_seen (MatrixRansowmare_IOCs, Zeppelin_TA with
  //    last_seen 1970-01-01, cve-2023-23397); last_seen MUST be >= first_seen.
  size_t identity_class = 0, seen_order = 0;
  for (const auto& p : r.problems) {
    if (p.message.find("'identity_class' must be a string, found a list") != std::string::npos) {
      ++identity_class;
    } else if (p.message.find("'last_seen' (") != std::string::npos &&
               p.message.find(") is earlier than 'first_seen'") != std::string::npos &&
               p.object_id.substr(0, 10) == "campaign--") {
      ++seen_order;
    } else {
      ADD_FAILURE() << "unexpected rejection: " << p.ToString();
    }
  }
  EXPECT_EQ(identity_class, 13u);
  EXPECT_EQ(seen_order, 3u);
  EXPECT_EQ(r.stats.rejected, 16u);
}

TEST_F(RealDataTest, AttackEnterpriseStix20Upgrade) {
  Extracted x("mitre-cti-enterprise-attack-stix20-objects.tar.gz");
  ASSERT_TRUE(x.ok());
  auto files = x.JsonFiles();
  EXPECT_GT(files.size(), 24000u);
  // PERF: every object but the relationships, and every tenth of those (2,004 of 20,048: four
  // fifths of the files, and all alike), as roundtrip_test imports them; a third of the time.
  std::vector<fs::path> picked;
  size_t relationships = 0;
  for (const fs::path& f : files) {
    if (f.parent_path().filename() != "relationship" || ++relationships % 10 == 0) {
      picked.push_back(f);
    }
  }
  EXPECT_GT(relationships, 20000u);
  FileResult r = ReadAll(picked);
  EXPECT_EQ(r.stats.upgraded, r.stats.objects + r.stats.rejected);  // every object is 2.0
  EXPECT_EQ(r.stats.objects, picked.size());                        // one object a file
  // As in ICS 18.1: seven x-mitre-data-component objects have "x_mitre_data_source_ref": "",
  // flagged and kept.
  EXPECT_EQ(r.stats.rejected, 0u) << Describe(r.problems);
  EXPECT_EQ(r.warnings.size(), 7u) << Describe(r.warnings);
  for (const auto& p : r.warnings) {
    EXPECT_EQ(p.object_id.substr(0, 24), "x-mitre-data-component--") << p.ToString();
    EXPECT_NE(p.message.find("'x_mitre_data_source_ref' must be an identifier"), std::string::npos)
        << p.ToString();
  }
}

TEST_F(RealDataTest, ValidatorExamples) {
  Extracted x("oasis-cti-stix-validator-v21-examples.tar.gz");
  ASSERT_TRUE(x.ok());
  std::map<std::string, FileResult> results;
  for (const auto& f : x.JsonFiles()) results[f.filename().string()] = Read(f);
  ASSERT_EQ(results.size(), 10u);
  // Valid examples.
  for (const char* name : {"identity.json", "identity_custom.json", "identity_unicode.json",
                           "identity_warning.json", "tlp-amber.json", "tool.json"}) {
    EXPECT_EQ(results[name].stats.rejected, 0u) << name << "\n" << Describe(results[name].problems);
    EXPECT_EQ(results[name].stats.objects, 1u) << name;
  }
  // Deliberately invalid ones, each for its reason.
  auto first_message = [&](const char* name) {
    const auto& r = results[name];
    EXPECT_EQ(r.stats.objects, 0u) << name;
    return r.problems.empty() ? std::string() : r.problems[0].message;
  };
  EXPECT_NE(first_message("invalid_braces.json").find("malformed JSON"), std::string::npos);
  EXPECT_NE(first_message("invalid_comma.json").find("malformed JSON"), std::string::npos);
  // modified (2015-...) before created (2016-...).
  EXPECT_NE(first_message("invalid_timestamp.json")
                .find("'modified' (2015-08-08T15:50:10.983Z) "
                      "is earlier than 'created'"),
            std::string::npos)
      << first_message("invalid_timestamp.json");
  // identity without 'modified'.
  EXPECT_NE(first_message("invalid_identity.json")
                .find("identity: required property 'modified' is missing"),
            std::string::npos)
      << first_message("invalid_identity.json");
}

}  // namespace
}  // namespace accord::stix
