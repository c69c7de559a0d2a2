// What a new user meets first (issue 9, point 8): `--data` before or after the command,
// `accord --version` naming the build's git revision, and `accord pattern check` explaining
// an unquoted value and a value the property cannot hold.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "common/test_util.h"

namespace accord::testing {
namespace {

namespace fs = std::filesystem;

class CliTest : public ::testing::Test {
 protected:
  // Runs accord from inside the temporary directory, so that a default ./accord-data would
  // land there (and be seen) if --data were ignored.
  RunResult Run(const std::string& args) {
    return RunCmd("cd " + ShellQuote(tmp_.path().string()) + " && env -u ACCORD_DATA " +
                      testing::Accord() + " " + args,
                  tmp_.path());
  }
  TempDir tmp_{"cli"};
  fs::path data_ = tmp_.path() / "node";
  std::string sample_ =
      ShellQuote(((accord::testing::SourceDir() / "samples") / "sample-intel.json").string());
};

// `accord --data DIR CMD` failed with "The following arguments were not expected: --data".
TEST_F(CliTest, DataOptionWorksBeforeAndAfterTheCommand) {
  const std::string d = ShellQuote(data_.string());
  auto init = Run("--data " + d + " init");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto imp = Run("import " + sample_ + " --data " + d);
  ASSERT_EQ(imp.exit_code, 0) << imp.err;

  auto before = Run("--data " + d + " stats --json");
  auto after = Run("stats --json --data " + d);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(after.exit_code, 0) << after.err;
  auto b = nlohmann::json::parse(before.out);
  auto a = nlohmann::json::parse(after.out);
  // The sample bundle's objects are there whichever way --data was given.
  EXPECT_GT(b["versions"].get<uint64_t>(), 0u) << before.out;
  EXPECT_EQ(b["versions"], a["versions"]);
  // Nothing fell back to the default ./accord-data.
  EXPECT_FALSE(fs::exists(tmp_.path() / "accord-data"));
}

// `accord --version` printed "accord 0.1.0" with no build identity.
TEST_F(CliTest, VersionNamesTheGitRevision) {
  auto r = Run("--version");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  std::string line = r.out.substr(0, r.out.find('\n'));
  ASSERT_TRUE(std::regex_match(line, m, std::regex(R"(accord (\d+\.\d+\.\d+) \(git (\S+)\))")))
      << r.out;
  std::string rev = m[2];
  if (rev == "unknown") {
    // Only a build from outside a git checkout may say so.
    auto git =
        RunCmd("git -C " + ShellQuote(accord::testing::SourceDir().string()) + " rev-parse HEAD",
               tmp_.path());
    EXPECT_NE(git.exit_code, 0) << "a git checkout, yet the revision is unknown";
    return;
  }
  // `git describe --always --dirty`: [tag-N-g]<hash>[-dirty]; the hash is a commit of this
  // repository (it may be older than HEAD when CMake has not re-run since).
  std::smatch h;
  ASSERT_TRUE(std::regex_search(rev, h, std::regex(R"((?:^|-g)([0-9a-f]{7,40})(?:-dirty)?$)")))
      << rev;
  auto git = RunCmd("git -C " + ShellQuote(accord::testing::SourceDir().string()) +
                        " cat-file -t " + std::string(h[1]),
                    tmp_.path());
  EXPECT_EQ(git.exit_code, 0) << rev << ": " << git.err;
  EXPECT_EQ(git.out, "commit\n") << rev;
}

TEST_F(CliTest, PatternCheckSaysQuoteTheValue) {
  auto r = Run("pattern check \"[ipv4-addr:value = 1.2.3.4]\"");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("quote the value, as in '1.2.3.4'"), std::string::npos) << r.err;
}

TEST_F(CliTest, PatternCheckWarnsAboutAValueThePropertyCannotHold) {
  auto r = Run("pattern check \"[ipv4-addr:value = 'not-an-ip']\"");
  // Valid STIX patterning, so it passes; the warning says why it will never match.
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string all = r.out + r.err;
  EXPECT_NE(all.find("'not-an-ip' cannot be a ipv4-addr:value"), std::string::npos) << all;
  EXPECT_NE(all.find("never matches"), std::string::npos) << all;
}

}  // namespace
}  // namespace accord::testing

namespace accord::testing {
namespace {

// `accord search`: the web UI's search by words and filters at the terminal (issue 16). The
// expected ids are the objects written here, in the order they were imported.
TEST_F(CliTest, SearchFindsByWordsTypeMarkingAndTime) {
  const std::string d = ShellQuote(data_.string());
  ASSERT_EQ(Run("--data " + d + " init").exit_code, 0);
  const std::string m = "malware--5ec00000-0000-4000-8000-000000000001";
  const std::string i = "indicator--5ec00000-0000-4000-8000-000000000002";
  const std::string r = "report--5ec00000-0000-4000-8000-000000000003";
  std::ofstream(tmp_.path() / "objs.jsonl")
      << R"({"type":"malware","spec_version":"2.1","id":")" << m
      << R"(","created":"2022-01-01T00:00:00.000Z","modified":"2022-01-01T00:00:00.000Z","name":"Quokka loader","description":"banking trojan","is_family":true,"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]})"
      << "\n"
      << R"({"type":"indicator","spec_version":"2.1","id":")" << i
      << R"(","created":"2024-02-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z","name":"quokka C2","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2024-02-01T00:00:00Z"})"
      << "\n"
      << R"({"type":"report","spec_version":"2.1","id":")" << r
      << R"(","created":"2023-01-01T00:00:00.000Z","modified":"2023-01-01T00:00:00.000Z","name":"Weekly","published":"2023-01-01T00:00:00Z","object_refs":[")"
      << m << R"("]})"
      << "\n";
  ASSERT_EQ(Run("import -q objs.jsonl --data " + d).exit_code, 0);
  auto ids = [&](const std::string& args) {
    RunResult res = Run("search " + args + " --data " + d);
    EXPECT_EQ(res.exit_code, 0) << args << ": " << res.err;
    std::vector<std::string> out;
    std::istringstream lines(res.out);
    for (std::string line; std::getline(lines, line);)
      out.push_back(line.substr(0, line.find(' ')));
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids("quokka"), (Ids{i, m}));  // newest stored first
  EXPECT_EQ(ids("QUOK*"), (Ids{i, m}));
  EXPECT_EQ(ids("quokka banking"), (Ids{m}));
  EXPECT_EQ(ids("quokka --type malware"), (Ids{m}));
  EXPECT_EQ(ids("--type report --type malware"), (Ids{r, m}));
  EXPECT_EQ(ids("--marking red"), (Ids{m}));
  EXPECT_EQ(ids("--marking tlp:green"), Ids{});
  EXPECT_EQ(ids("--since 2023-01-01 --until 2024-01-01"), (Ids{r}));
  EXPECT_EQ(ids("--limit 1"), (Ids{r}));
  RunResult json = Run("search quokka --json --data " + d);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::istringstream lines(json.out);
  Ids from_json;
  for (std::string line; std::getline(lines, line);) {
    from_json.push_back(nlohmann::json::parse(line).at("id").get<std::string>());
  }
  EXPECT_EQ(from_json, (Ids{i, m}));
  RunResult bad = Run("search --marking purple --data " + d);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("purple"), std::string::npos) << bad.err;
  EXPECT_NE(Run("search --since yesterday --data " + d).exit_code, 0);
}

}  // namespace
}  // namespace accord::testing
