// The main() of every GoogleTest binary (in place of GTest::gtest_main). It differs in one
// way: a run in which no test failed but some were skipped (GTEST_SKIP, e.g. through
// ACCORD_REQUIRE_SHARED) exits with kSkipExitCode, which CTest is told (SKIP_RETURN_CODE,
// cmake/AccordHelpers.cmake) to report as "Skipped". With gtest_main such a binary exits 0 and
// CTest counted it as passed although some of its tests never ran.
#include <gtest/gtest.h>

#include <cstdio>

namespace {
// The automake convention for "skipped", also what CTest's SKIP_RETURN_CODE is set to.
constexpr int kSkipExitCode = 77;
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  if (rc != 0) return rc;
  const ::testing::UnitTest* unit = ::testing::UnitTest::GetInstance();
  if (unit->skipped_test_count() > 0) {
    std::fprintf(stderr, "%d of %d tests skipped: reported to CTest as skipped (exit %d)\n",
                 unit->skipped_test_count(), unit->total_test_count(), kSkipExitCode);
    return kSkipExitCode;
  }
  return 0;
}
