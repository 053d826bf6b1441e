#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace corral::internal {

CheckFailure::CheckFailure(const char* file, int line, const char* condition)
    : file_(file), line_(line) {
  stream_ << "CHECK failed: " << condition;
}

CheckFailure::~CheckFailure() {
  std::string detail = stream_.str();
  std::fprintf(stderr, "%s:%d: %s\n", file_, line_, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace corral::internal
