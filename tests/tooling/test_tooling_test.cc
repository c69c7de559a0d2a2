// A test that skips is never counted as passed: the probe binary (one passing case, one that
// needs missing shared data) exits 77, which CTest reports as "Skipped" (SKIP_RETURN_CODE),
// and with CI=true it fails. Under GTest::gtest_main, which the tests used before, it exited
// 0 and counted as passed. GTEST_OUTPUT is unset for the probe: its results are not the suite's.
#include <gtest/gtest.h>

#include "common/test_util.h"

namespace accord::testing {
namespace {

// The probe is built beside this test (tests/tooling/CMakeLists.txt).
std::string ProbeBinary() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "require_shared_probe")
      .string();
}

RunResult Probe(const std::string& env) {
  static TempDir tmp("probe");
  return RunCmd("env -u CI -u GTEST_OUTPUT " + env + " " + ShellQuote(ProbeBinary()), tmp.path());
}

TEST(TestTooling, MissingSharedDataSkipsLocally) {
  auto r = Probe("");
  EXPECT_EQ(r.exit_code, 77) << r.out << r.err;
  EXPECT_NE(r.out.find("[  SKIPPED ] Probe.NeedsMissingSharedData"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no-such-folder-for-the-probe"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("1 of 2 tests skipped"), std::string::npos) << r.err;
}

TEST(TestTooling, MissingSharedDataFailsUnderCi) {
  auto r = Probe("CI=true");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("[  FAILED  ] Probe.NeedsMissingSharedData"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CI=true"), std::string::npos) << r.out;
}

TEST(TestTooling, AllPassingExitsZero) {
  auto ok = RunCmd(
      "env -u CI -u GTEST_OUTPUT " + ShellQuote(ProbeBinary()) + " --gtest_filter=Probe.Passes",
      TempDir("probe-ok").path());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

}  // namespace
}  // namespace accord::testing
