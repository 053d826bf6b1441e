// What runs before routing on every request, as Ollama's gin middleware does (§0):
//   1. CORS (gin-contrib/cors with wildcards): an Origin that is not allowed gets 403; an
//      allowed one gets Access-Control-Allow-Origin, and its OPTIONS preflight 204 with the
//      allowed methods and headers. Requests without Origin, or whose Origin is the server's
//      own http(s)://Host, are not CORS requests.
//   2. The Host-header guard against DNS rebinding, only when listening on loopback: Host must
//      be a loopback/private/unspecified/local-interface IP, empty, "localhost", the machine's
//      hostname, or end in .localhost/.local/.internal; else 403.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

// Ollama's built-in origins: http(s)://localhost, 127.0.0.1, 0.0.0.0 (each with and without
// ":*"), app://*, file://*, tauri://*, vscode-webview://*, vscode-file://*.
std::vector<std::string> BuiltinOrigins();

// OLLAMA_ORIGINS split on commas, entries trimmed, empty ones dropped.
std::vector<std::string> ParseOrigins(std::string_view env_value);

class CorsPolicy {
 public:
  // `origins`: OLLAMA_ORIGINS entries; the built-ins are added. "*" allows every origin.
  explicit CorsPolicy(const std::vector<std::string>& origins);
  // Exact match, or a pattern with one '*' matching any run of characters.
  bool Allows(std::string_view origin) const;
  bool allow_all() const { return allow_all_; }

 private:
  std::vector<std::string> exact_;
  std::vector<std::pair<std::string, std::string>> wildcards_;  // prefix, suffix
  bool allow_all_ = false;
};

// The guard's rule for one Host header value ("example.com:11434", "[::1]:80", "").
bool IsAllowedHost(std::string_view host_header);

// Whether the address the server listens on is loopback (the guard applies only then).
bool IsLoopbackAddress(std::string_view listen_host);

struct MiddlewareConfig {
  CorsPolicy cors;
  bool guard_host = false;
};

// Applies CORS and the Host guard. True when the request has been answered (403, or 204 for
// a preflight or an OPTIONS to an allowed host name); false to go on to routing.
bool ApplyMiddleware(const MiddlewareConfig& config, const httplib::Request& req,
                     httplib::Response& res);

}  // namespace corral::server
