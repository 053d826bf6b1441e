#include "server/middleware.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <httplib.h>

#include <cstring>
#include <optional>

#include "base/strings.h"

namespace corral::server {
namespace {

constexpr const char* kAllowedMethods = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS";
// Canonical header keys (Go's http.CanonicalHeaderKey), joined as gin-contrib/cors does.
constexpr const char* kAllowedHeaders =
    "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,"
    "X-Stainless-Arch,X-Stainless-Async,X-Stainless-Custom-Poll-Interval,"
    "X-Stainless-Helper-Method,X-Stainless-Lang,X-Stainless-Os,X-Stainless-Package-Version,"
    "X-Stainless-Poll-Helper,X-Stainless-Retry-Count,X-Stainless-Runtime,"
    "X-Stainless-Runtime-Version,X-Stainless-Timeout";
constexpr const char* kMaxAgeSeconds = "43200";  // gin-contrib/cors default: 12 hours

// An IP address, IPv4-mapped IPv6 reduced to IPv4 (Go's netip methods unmap too).
struct Ip {
  bool v4 = false;
  uint8_t b[16] = {};
};

std::optional<Ip> ParseIp(std::string_view s) {
  std::string str(s);
  Ip ip;
  in_addr a4{};
  if (inet_pton(AF_INET, str.c_str(), &a4) == 1) {
    ip.v4 = true;
    std::memcpy(ip.b, &a4, 4);
    return ip;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, str.c_str(), &a6) != 1) return std::nullopt;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(&a6, kMapped, 12) == 0) {
    ip.v4 = true;
    std::memcpy(ip.b, reinterpret_cast<const uint8_t*>(&a6) + 12, 4);
  } else {
    std::memcpy(ip.b, &a6, 16);
  }
  return ip;
}

bool IsLoopback(const Ip& ip) {
  if (ip.v4) return ip.b[0] == 127;
  static const uint8_t kOne[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip.b, kOne, 16) == 0;
}

bool IsPrivate(const Ip& ip) {
  if (ip.v4) {
    return ip.b[0] == 10 || (ip.b[0] == 172 && (ip.b[1] & 0xf0) == 16) ||
           (ip.b[0] == 192 && ip.b[1] == 168);
  }
  return (ip.b[0] & 0xfe) == 0xfc;  // fc00::/7
}

bool IsUnspecified(const Ip& ip) {
  for (int i = 0; i < (ip.v4 ? 4 : 16); ++i) {
    if (ip.b[i] != 0) return false;
  }
  return true;
}

bool IsInterfaceIp(const Ip& ip) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    if (a->ifa_addr->sa_family == AF_INET && ip.v4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      found = std::memcmp(&sin->sin_addr, ip.b, 4) == 0;
    } else if (a->ifa_addr->sa_family == AF_INET6 && !ip.v4) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      found = std::memcmp(&sin6->sin6_addr, ip.b, 16) == 0;
    }
  }
  freeifaddrs(list);
  return found;
}

// Go's net.SplitHostPort, falling back to the whole value (as Ollama does on error).
std::string HostWithoutPort(std::string_view hostport) {
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close != std::string_view::npos &&
        (close + 1 == hostport.size() || hostport[close + 1] == ':')) {
      return std::string(hostport.substr(1, close - 1));
    }
    return std::string(hostport);
  }
  size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos || hostport.find(':') != colon) {
    return std::string(hostport);
  }
  return std::string(hostport.substr(0, colon));
}

}  // namespace

std::vector<std::string> BuiltinOrigins() {
  std::vector<std::string> out;
  for (const char* host : {"localhost", "127.0.0.1", "0.0.0.0"}) {
    std::string h(host);
    out.push_back("http://" + h);
    out.push_back("https://" + h);
    out.push_back("http://" + h + ":*");
    out.push_back("https://" + h + ":*");
  }
  for (const char* o :
       {"app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"}) {
    out.push_back(o);
  }
  return out;
}

std::vector<std::string> ParseOrigins(std::string_view env_value) {
  std::vector<std::string> out;
  for (const std::string& part : Split(env_value, ',')) {
    std::string_view t = TrimSpace(part);
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

CorsPolicy::CorsPolicy(const std::vector<std::string>& origins) {
  std::vector<std::string> all = origins;
  for (std::string& o : BuiltinOrigins()) all.push_back(std::move(o));
  for (const std::string& o : all) {
    if (o == "*") {
      allow_all_ = true;
      continue;
    }
    size_t star = o.find('*');
    if (star == std::string::npos) {
      exact_.push_back(o);
    } else {
      wildcards_.emplace_back(o.substr(0, star), o.substr(star + 1));
    }
  }
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (allow_all_) return true;
  for (const std::string& e : exact_) {
    if (origin == e) return true;
  }
  for (const auto& [prefix, suffix] : wildcards_) {
    if (origin.size() >= prefix.size() + suffix.size() && StartsWith(origin, prefix) &&
        EndsWith(origin, suffix)) {
      return true;
    }
  }
  return false;
}

bool IsAllowedHost(std::string_view host_header) {
  std::string host = HostWithoutPort(host_header);
  if (std::optional<Ip> ip = ParseIp(host)) {
    return IsLoopback(*ip) || IsPrivate(*ip) || IsUnspecified(*ip) || IsInterfaceIp(*ip);
  }
  host = ToLower(host);
  if (host.empty() || host == "localhost") return true;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0 && host == ToLower(name)) return true;
  for (const char* tld : {".localhost", ".local", ".internal"}) {
    if (EndsWith(host, tld)) return true;
  }
  return false;
}

bool IsLoopbackAddress(std::string_view listen_host) {
  if (listen_host.empty()) return false;  // every interface
  if (std::optional<Ip> ip = ParseIp(listen_host)) return IsLoopback(*ip);
  // A name: what it resolves to is what the server bound.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string name(listen_host);
  if (getaddrinfo(name.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) return false;
  char buf[INET6_ADDRSTRLEN] = {};
  const void* addr =
      result->ai_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr);
  inet_ntop(result->ai_family, addr, buf, sizeof buf);
  freeaddrinfo(result);
  std::optional<Ip> ip = ParseIp(buf);
  return ip && IsLoopback(*ip);
}

bool ApplyMiddleware(const MiddlewareConfig& config, const httplib::Request& req,
                     httplib::Response& res) {
  std::string host = req.get_header_value("Host");
  if (req.has_header("Origin")) {
    std::string origin = req.get_header_value("Origin");
    bool same_origin = origin == "http://" + host || origin == "https://" + host;
    if (!origin.empty() && !same_origin) {
      if (!config.cors.Allows(origin)) {
        res.status = 403;
        return true;
      }
      res.set_header("Access-Control-Allow-Origin", config.cors.allow_all() ? "*" : origin);
      if (!config.cors.allow_all()) res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", kAllowedMethods);
        res.set_header("Access-Control-Allow-Headers", kAllowedHeaders);
        res.set_header("Access-Control-Max-Age", kMaxAgeSeconds);
        res.status = 204;
        return true;
      }
    }
  }
  if (config.guard_host) {
    std::string bare = HostWithoutPort(host);
    if (ParseIp(bare)) {
      if (!IsAllowedHost(host)) {
        res.status = 403;
        return true;
      }
    } else if (IsAllowedHost(host)) {
      if (req.method == "OPTIONS") {
        res.status = 204;
        return true;
      }
    } else {
      res.status = 403;
      return true;
    }
  }
  return false;
}

}  // namespace corral::server
