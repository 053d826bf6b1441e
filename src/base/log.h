// Leveled logging to one sink (stderr by default), in the key=value shape Ollama's server logs
// use: `time=2026-01-02T03:04:05.678Z level=INFO source=server.cpp:42 msg="Listening on ..."`.
// The level comes from OLLAMA_DEBUG (1/true: DEBUG, 2: TRACE) through SetLogLevel.
// Thread-safe: one mutex around the sink.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

#include "base/check.h"

namespace corral {

enum class LogLevel { kTrace = -8, kDebug = -4, kInfo = 0, kWarn = 4, kError = 8 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);

// Replaces the sink (tests capture lines); nullptr restores stderr.
void SetLogSink(std::function<void(std::string_view line)> sink);

// Writes one formatted line. `attrs` is appended after msg (already "k=v k2=v2" formatted).
void LogLine(LogLevel level, const char* file, int line, std::string_view message,
             std::string_view attrs = {});

// Quotes a value the way Go's slog text handler does: bare when it has no space, quote, '='
// or control character, otherwise a double-quoted string with escapes.
std::string LogQuote(std::string_view value);

namespace internal {
class LogMessage {
 public:
  LogMessage(LogLevel level, const char* file, int line)
      : level_(level), file_(file), line_(line) {}
  ~LogMessage() { LogLine(level_, file_, line_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace corral

// LOG(kInfo) << "Listening on " << addr;  Arguments are not evaluated when the level is off.
// An expression (not an if/else), so it nests safely under an unbraced `if`.
#define LOG(level)                                 \
  !::corral::LogEnabled(::corral::LogLevel::level) \
      ? (void)0                                    \
      : ::corral::internal::Voidify() &            \
            ::corral::internal::LogMessage(::corral::LogLevel::level, __FILE__, __LINE__).stream()
