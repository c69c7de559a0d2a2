// Real STIX 2.1 content from ../shared/data/stix imports in full, and `accord export` gives back
// the same objects, compared member by member with an independent JSON library (nlohmann).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/test_util.h"

namespace accord::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Objects of a source file: a bundle's objects, a bare object, or an array.
void CollectObjects(const json& doc, std::vector<json>* out) {
  if (doc.is_array()) {
    for (const auto& o : doc) out->push_back(o);
  } else if (doc.is_object() && doc.value("type", "") == "bundle") {
    if (doc.contains("objects")) {
      for (const auto& o : doc["objects"]) out->push_back(o);
    }
  } else {
    out->push_back(doc);
  }
}

json ParseFile(const fs::path& p) {
  std::string text;
  if (p.extension() == ".gz") {
    TempDir t("gunzip");
    auto r = RunCmd("gzip -dc " + ShellQuote(p.string()), t.path());
    text = r.out;
  } else {
    text = Slurp(p);
  }
  return json::parse(text);
}

std::string VersionKey(const json& o) {
  std::string v = o.value("modified", o.value("created", std::string("-")));
  return o.value("id", std::string()) + "@" + v;
}

struct Case {
  const char* name;
  const char* archive;  // tar.gz under shared/ to extract, or "" for a direct file
  const char* glob;     // files (relative to the extraction or shared/) to import
  const char* import_arg = nullptr;  // what to pass to `accord import` instead of the files
};

class RoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTripTest, ImportsInFullAndExportsTheSameObjects) {
  const Case& c = GetParam();
  if (!fs::exists(SharedDir() / "data")) GTEST_SKIP() << "no shared data at " << SharedDir();
  TempDir tmp(std::string("rt-") + c.name);
  fs::path base = SharedDir() / "data";
  if (*c.archive) {
    ASSERT_TRUE(ExtractShared(std::string("data/") + c.archive, tmp.path() / "src"));
    base = tmp.path() / "src";
  }
  // Expand the glob with the shell, into a file list.
  auto ls = RunCmd("cd " + ShellQuote(base.string()) + " && ls -1 " + c.glob, tmp.path());
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  std::vector<fs::path> files;
  std::istringstream lines(ls.out);
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty()) files.push_back(base / l);
  }
  ASSERT_FALSE(files.empty());

  std::map<std::string, json> expected;
  for (const auto& f : files) {
    std::vector<json> objs;
    CollectObjects(ParseFile(f), &objs);
    for (auto& o : objs) expected[VersionKey(o)] = o;
  }

  fs::path data = tmp.path() / "node";
    std::string cmd = Accord() + " import --data " + ShellQuote(data.string()) + " --collection rt";
  if (c.import_arg) {
    cmd += " " + ShellQuote((base / c.import_arg).string());  // a directory, walked by import
  } else {
    for (const auto& f : files) cmd += " " + ShellQuote(f.string());
  }
  auto imp = RunCmd(cmd, tmp.path());
  EXPECT_EQ(imp.exit_code, 0) << imp.out << imp.err.substr(0, 4000);

  auto exp = RunCmd(Accord() + " export --data " + ShellQuote(data.string()) + " --collection rt",
                 tmp.path());
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  json bundle = json::parse(exp.out);
  ASSERT_EQ(bundle["type"], "bundle");
  std::map<std::string, json> got;
  for (const auto& o : bundle["objects"]) got[VersionKey(o)] = o;

  EXPECT_EQ(got.size(), expected.size());
  size_t mismatches = 0;
  for (const auto& [key, want] : expected) {
    auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << "missing after export: " << key;
      if (++mismatches > 5) break;
      continue;
    }
    if (it->second != want) {
      ADD_FAILURE() << key << " differs:\n in:  " << want.dump().substr(0, 600)
                    << "\n out: " << it->second.dump().substr(0, 600);
      if (++mismatches > 5) break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    SharedStix21, RoundTripTest,
    ::testing::Values(
        Case{"ics17", "", "stix/attack-stix-data/ics-attack-17.1.json.gz"},
        Case{"ics18", "", "stix/attack-stix-data/ics-attack-18.1.json.gz"},
        Case{"mobile17", "", "stix/attack-stix-data/mobile-attack-17.1.json.gz"},
        Case{"capec", "stix/mitre-cti-capec-stix21-objects.tar.gz", "*/capec/2.1/*/*.json", "."},
        Case{"oasis_docs", "stix/oasis-cti-documentation-examples.tar.gz",
             "*/examples/example_json/*.json"},
        Case{"python_stix2", "stix/oasis-cti-python-stix2-testdata-v21.tar.gz",
             "$(find . -name '*.json' | sort)"},
        Case{"dogood", "stix/dogood-honeypot-stix21-daily.tar.gz", "*/daily/*.json"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace accord::testing
