#include "config/env_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>

#include "base/strings.h"

namespace corral::config {
namespace {

std::string_view TrimQuotes(std::string_view s) {
  auto is_quote = [](char c) { return c == '"' || c == '\''; };
  while (!s.empty() && is_quote(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_quote(s.back())) s.remove_suffix(1);
  return s;
}

bool IsIpv6Literal(std::string_view s) {
  in6_addr addr{};
  std::string copy(s);
  return inet_pton(AF_INET6, copy.c_str(), &addr) == 1;
}

// Go's net.SplitHostPort: "h:p", "[v6]:p", ":p". False when there is no port part.
bool SplitHostPort(std::string_view hostport, std::string* host, std::string* port) {
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos || close + 1 >= hostport.size() ||
        hostport[close + 1] != ':') {
      return false;
    }
    *host = std::string(hostport.substr(1, close - 1));
    *port = std::string(hostport.substr(close + 2));
    return true;
  }
  size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (hostport.find(':') != colon) return false;  // bare IPv6 without brackets: "too many colons"
  *host = std::string(hostport.substr(0, colon));
  *port = std::string(hostport.substr(colon + 1));
  return true;
}

}  // namespace

std::string Var(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return "";
  return std::string(TrimQuotes(TrimSpace(value)));
}

bool ParseBool(std::string_view value) {
  static constexpr std::string_view kFalse[] = {"0", "f", "F", "false", "FALSE", "False"};
  if (value.empty()) return false;
  for (std::string_view f : kFalse) {
    if (value == f) return false;
  }
  return true;  // Ollama: a value that does not parse as a bool still counts as set
}

std::string HostAddress::HostPort() const {
  std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

std::string HostAddress::Url() const {
  std::string url = scheme + "://" + HostPort();
  if (!path.empty()) url += "/" + path;
  return url;
}

HostAddress ParseHost(std::string_view raw) {
  std::string_view s = TrimQuotes(TrimSpace(raw));
  HostAddress out;
  std::string default_port = "11434";
  std::string_view hostport;
  size_t sep = s.find("://");
  if (sep == std::string_view::npos) {
    out.scheme = "http";
    hostport = s;
    if (s == "ollama.com") {
      out.scheme = "https";
      hostport = "ollama.com:443";
    }
  } else {
    out.scheme = std::string(s.substr(0, sep));
    hostport = s.substr(sep + 3);
    if (out.scheme == "http") default_port = "80";
    if (out.scheme == "https") default_port = "443";
  }

  size_t slash = hostport.find('/');
  if (slash != std::string_view::npos) {
    out.path = std::string(hostport.substr(slash + 1));
    hostport = hostport.substr(0, slash);
  }

  std::string host, port;
  if (!SplitHostPort(hostport, &host, &port)) {
    host = "127.0.0.1";
    port = default_port;
    std::string_view bare = hostport;
    while (!bare.empty() && bare.front() == '[') bare.remove_prefix(1);
    while (!bare.empty() && bare.back() == ']') bare.remove_suffix(1);
    if (IsIpv6Literal(bare)) {
      host = std::string(bare);
    } else if (!hostport.empty()) {
      host = std::string(hostport);
    }
  }
  out.host = host;

  int value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
    LOG(kWarn) << "invalid port " << LogQuote(port) << " in OLLAMA_HOST, using default "
               << default_port;
    std::from_chars(default_port.data(), default_port.data() + default_port.size(), value);
  }
  out.port = value;
  return out;
}

HostAddress Host() { return ParseHost(Var("OLLAMA_HOST")); }

LogLevel ParseDebugLevel(std::string_view raw) {
  std::string_view s = TrimQuotes(TrimSpace(raw));
  if (s.empty()) return LogLevel::kInfo;
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec == std::errc() && end == s.data() + s.size()) {
    if (n <= 0) return LogLevel::kInfo;
    return n == 1 ? LogLevel::kDebug : LogLevel::kTrace;
  }
  return ParseBool(s) ? LogLevel::kDebug : LogLevel::kInfo;
}

LogLevel DebugLevel() { return ParseDebugLevel(Var("OLLAMA_DEBUG")); }

std::string KvCacheType() { return Var("OLLAMA_KV_CACHE_TYPE"); }

std::string Origins() { return Var("OLLAMA_ORIGINS"); }

}  // namespace corral::config

namespace corral::config {

std::optional<int64_t> ParseGoDuration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  // Go accumulates in uint64 nanoseconds; a long double keeps the fractional parts exact
  // enough for every value that fits.
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    size_t unit_end = i;
    while (unit_end < s.size() && !(s[unit_end] >= '0' && s[unit_end] <= '9') &&
           s[unit_end] != '.') {
      ++unit_end;
    }
    std::string_view unit = s.substr(i, unit_end - i);
    long double ns;
    if (unit == "ns") {
      ns = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      ns = 1e3L;
    } else if (unit == "ms") {
      ns = 1e6L;
    } else if (unit == "s") {
      ns = 1e9L;
    } else if (unit == "m") {
      ns = 60e9L;
    } else if (unit == "h") {
      ns = 3600e9L;
    } else {
      return std::nullopt;  // missing or unknown unit
    }
    total += value * ns;
    if (total > 9223372036854775807.0L) return std::nullopt;
    s.remove_prefix(unit_end);
  }
  const int64_t n = static_cast<int64_t>(total);
  return negative ? -n : n;
}

namespace {

constexpr int64_t kDefaultKeepAliveNanos = 5LL * 60 * 1000000000;

// Ollama's envconfig.Uint: an unsigned integer, else the default (warned).
int64_t UintVar(std::string_view name, int64_t fallback) {
  std::string value = Var(name);
  if (value.empty()) return fallback;
  int64_t parsed = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size() || parsed < 0) {
    LOG(kWarn) << "invalid environment variable, using default " << name << "=" << value
               << " default=" << fallback;
    return fallback;
  }
  return parsed;
}

}  // namespace

int64_t KeepAliveNanos() {
  std::string value = Var("OLLAMA_KEEP_ALIVE");
  if (value.empty()) return kDefaultKeepAliveNanos;
  std::optional<int64_t> ns = ParseGoDuration(value);
  if (!ns) {
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) {
      LOG(kWarn) << "invalid OLLAMA_KEEP_ALIVE, using 5m: " << value;
      return kDefaultKeepAliveNanos;
    }
    if (seconds < 0) return INT64_MAX;
    if (seconds > INT64_MAX / 1000000000) return INT64_MAX;
    return seconds * 1000000000;
  }
  return *ns < 0 ? INT64_MAX : *ns;
}

int NumParallel() {
  return static_cast<int>(std::max<int64_t>(1, UintVar("OLLAMA_NUM_PARALLEL", 1)));
}
int MaxLoadedModels() { return static_cast<int>(UintVar("OLLAMA_MAX_LOADED_MODELS", 0)); }
int MaxQueue() { return static_cast<int>(UintVar("OLLAMA_MAX_QUEUE", 512)); }
int64_t ContextLength() { return UintVar("OLLAMA_CONTEXT_LENGTH", 0); }

}  // namespace corral::config
