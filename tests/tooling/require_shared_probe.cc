// Not a test on its own (not registered with CTest): test_tooling_test runs it to check what
// a test needing absent shared data does. One case passes, one needs a path that is missing.
#include <gtest/gtest.h>

#include "common/test_util.h"

TEST(Probe, Passes) { EXPECT_EQ(1 + 1, 2); }

TEST(Probe, NeedsMissingSharedData) {
  ACCORD_REQUIRE_SHARED(accord::testing::SharedDir() / "no-such-folder-for-the-probe");
  ADD_FAILURE() << "reached past ACCORD_REQUIRE_SHARED although the folder is missing";
}
