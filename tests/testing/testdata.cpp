#include "testing/testdata.h"

#include <cstdlib>
#include <filesystem>

namespace corral::testing {

std::string SourceDir() { return CORRAL_SOURCE_DIR; }

std::optional<std::string> SharedTestdataDir() {
  std::filesystem::path dir;
  if (const char* env = std::getenv("CORRAL_TESTDATA"); env != nullptr && *env != '\0') {
    dir = env;
  } else {
    dir = std::filesystem::path(CORRAL_SOURCE_DIR).parent_path() / "shared" / "testdata";
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return std::filesystem::weakly_canonical(dir, ec).string();
}

std::optional<std::string> SharedTestdataFile(const std::string& relative) {
  std::optional<std::string> dir = SharedTestdataDir();
  if (!dir) return std::nullopt;
  std::filesystem::path file = std::filesystem::path(*dir) / relative;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  return file.string();
}

}  // namespace corral::testing
