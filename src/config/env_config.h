// Every OLLAMA_* environment variable Corral reads, parsed in one place with Ollama's rules
// (envconfig/config.go): values are trimmed of spaces and surrounding quotes; booleans follow
// Go's strconv.ParseBool and any other non-empty value counts as true.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/log.h"

namespace corral::config {

// The value of an environment variable, trimmed of spaces and then of quotes; "" when unset.
std::string Var(std::string_view name);

// Go's strconv.ParseBool, then "non-empty means true" as Ollama does.
bool ParseBool(std::string_view value);

// A parsed OLLAMA_HOST: where `serve` listens and where the CLI connects.
struct HostAddress {
  std::string scheme;  // "http" or "https"
  std::string host;    // "127.0.0.1", "::1", "" (all interfaces), "example.com"
  int port = 11434;
  std::string path;  // without the leading '/', e.g. "ollama" for https://example.com/ollama

  // "127.0.0.1:11434", "[::1]:11434", ":11434".
  std::string HostPort() const;
  // "http://127.0.0.1:11434" (+ "/path" when there is one).
  std::string Url() const;
};

// Ollama's OLLAMA_HOST rules: "" -> http://127.0.0.1:11434; "1.2.3.4" -> port 11434;
// ":1234" -> all interfaces; "http://h" -> port 80; "https://h" -> 443; "ollama.com" ->
// https://ollama.com:443; an invalid port (not a number, <0, >65535) -> the default port.
HostAddress ParseHost(std::string_view raw);

// ParseHost(Var("OLLAMA_HOST")).
HostAddress Host();

// OLLAMA_DEBUG: unset or false -> INFO, 1/true (or any other non-number) -> DEBUG, 2 -> TRACE.
LogLevel ParseDebugLevel(std::string_view raw);
LogLevel DebugLevel();

// OLLAMA_KV_CACHE_TYPE as given ("f16", "q8_0", ...; "" when unset). The engine validates it
// (engine::KvCacheTypeFromName): config sits below the engine and does not know the types.
std::string KvCacheType();

// OLLAMA_ORIGINS as given: extra CORS origins, comma-separated, '*' wildcards ("" when unset).
// The server splits it and adds Ollama's built-in origins (server/middleware.h).
std::string Origins();

}  // namespace corral::config

namespace corral::config {

// Go's time.ParseDuration: "300ms", "-1.5h", "1h30m", "0"; units ns us µs ms s m h. Nullopt
// for anything else, including a bare non-zero number ("3600": Go's "missing unit"). Values
// past int64 nanoseconds are nullopt too.
std::optional<int64_t> ParseGoDuration(std::string_view text);

// OLLAMA_KEEP_ALIVE in nanoseconds: a Go duration, or an integer of seconds; negative means
// forever (returned as INT64_MAX); unset or invalid: 5 minutes.
int64_t KeepAliveNanos();

// OLLAMA_NUM_PARALLEL (default 1), OLLAMA_MAX_LOADED_MODELS (default 0: automatic),
// OLLAMA_MAX_QUEUE (default 512), OLLAMA_CONTEXT_LENGTH (default 0: automatic). Invalid or
// negative values fall back to the default with a warning, as Ollama's envconfig.Uint does.
int NumParallel();
int MaxLoadedModels();
int MaxQueue();
int64_t ContextLength();

}  // namespace corral::config
