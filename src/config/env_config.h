// Every OLLAMA_* environment variable Corral reads, parsed in one place with Ollama's rules
// (envconfig/config.go): values are trimmed of spaces and surrounding quotes; booleans follow
// Go's strconv.ParseBool and any other non-empty value counts as true.
#pragma once

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

}  // namespace corral::config
