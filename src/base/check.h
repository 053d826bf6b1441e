// CHECK(cond) << "detail": aborts with file:line when an internal invariant is broken. Always
// on, also in Release. DCHECK is the same in Debug and sanitizer builds and compiles to nothing
// (the condition is not evaluated) otherwise. Never use either for user input, files or the
// network: those return Status (status.h).
#pragma once

#include <sstream>

namespace corral::internal {

// Collects the streamed detail and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// Lets `CHECK(x) << ...` be a void expression in both branches of the ternary below.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace corral::internal

#define CHECK(condition)                        \
  (condition) ? (void)0                         \
              : ::corral::internal::Voidify() & \
                    ::corral::internal::CheckFailure(__FILE__, __LINE__, #condition).stream()

#if !defined(NDEBUG) || defined(CORRAL_DCHECK_ON)
#define DCHECK(condition) CHECK(condition)
#else
#define DCHECK(condition) \
  while (false) CHECK(condition)
#endif
