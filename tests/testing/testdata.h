// The shared test data (../shared/testdata beside the project, or $CORRAL_TESTDATA). Tests that
// need it skip with a clear message where it is absent; every other test makes its own fixtures.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace corral::testing {

// The folder, when it exists.
std::optional<std::string> SharedTestdataDir();

// The absolute path of `relative` inside it, when the file exists.
std::optional<std::string> SharedTestdataFile(const std::string& relative);

// The project's source folder (tools/, tests/ are found from here).
std::string SourceDir();

}  // namespace corral::testing

// Declares `std::string var` = the shared file's path, or skips the test saying what is missing.
#define REQUIRE_SHARED_TESTDATA(var, relative)                                          \
  std::string var;                                                                      \
  if (auto found_##var = ::corral::testing::SharedTestdataFile(relative)) {             \
    var = *found_##var;                                                                 \
  } else {                                                                              \
    GTEST_SKIP() << "shared test data file '" << (relative)                             \
                 << "' is absent (looked in ../shared/testdata beside the project and " \
                    "$CORRAL_TESTDATA)";                                                \
  }
