#include "base/log.h"

#include "base/strings.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace corral {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_sink_mu;
std::function<void(std::string_view)> g_sink;  // guarded by g_sink_mu; empty: stderr

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "TRACE";
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::string_view BaseName(const char* path) {
  std::string_view p(path);
  size_t slash = p.find_last_of('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void SetLogSink(std::function<void(std::string_view)> sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  g_sink = std::move(sink);
}

std::string LogQuote(std::string_view value) {
  bool needs_quotes = value.empty();
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == 0x7f) needs_quotes = true;
  }
  // slog's text handler quotes with strconv.Quote.
  return needs_quotes ? GoQuote(value) : std::string(value);
}

void LogLine(LogLevel level, const char* file, int line, std::string_view message,
             std::string_view attrs) {
  std::string text = "time=" + Timestamp() + " level=" + LevelName(level) + " source=";
  text += BaseName(file);
  text += ':' + std::to_string(line) + " msg=" + LogQuote(message);
  if (!attrs.empty()) {
    text += ' ';
    text += attrs;
  }
  std::lock_guard<std::mutex> lock(g_sink_mu);
  if (g_sink) {
    g_sink(text);
  } else {
    text += '\n';
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
}

}  // namespace corral
