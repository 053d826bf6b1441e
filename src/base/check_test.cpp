#include "base/check.h"

#include <gtest/gtest.h>

namespace {

TEST(CheckTest, PassingCheckDoesNotEvaluateDetail) {
  int evaluated = 0;
  auto detail = [&] {
    ++evaluated;
    return "detail";
  };
  CHECK(1 + 1 == 2) << detail();
  EXPECT_EQ(evaluated, 0);
}

TEST(CheckDeathTest, FailingCheckAbortsWithLocationAndDetail) {
  int n_head = 3;
  EXPECT_DEATH(CHECK(n_head % 2 == 0) << "n_head=" << n_head,
               "check_test.cpp:[0-9]+: CHECK failed: n_head % 2 == 0n_head=3");
}

TEST(CheckDeathTest, CheckIsOnInEveryBuild) {
  // Release builds define NDEBUG; CHECK must still fire there.
  EXPECT_DEATH(CHECK(false), "CHECK failed: false");
}

}  // namespace
