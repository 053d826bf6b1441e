#include "registry/common.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>

#include "base/version.h"

namespace corral::registry::internal {

Result<Url> RegistryBase(const store::Name& name, bool insecure) {
  std::string scheme = name.scheme;
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "http" && !insecure) return InvalidArgumentError("insecure protocol http");
  if (!scheme.empty() && scheme != "http" && scheme != "https") {
    return InvalidArgumentError("unsupported protocol " + name.scheme);
  }
  return ParseUrl((insecure ? "http://" : "https://") + name.host);
}

std::string RepositoryPath(const store::Name& name) { return "/v2/" + name.ns + "/" + name.model; }

std::string UserAgent() {
  struct utsname u {};
  std::string arch = uname(&u) == 0 ? u.machine : "unknown";
  if (arch == "x86_64") arch = "amd64";
  if (arch == "aarch64") arch = "arm64";
  return std::string("corral/") + kVersion + " (" + arch + " linux)";
}

HttpOptions MakeHttpOptions(const RegistryOptions& options, const Url& base) {
  HttpOptions http;
  http.connect_timeout = options.connect_timeout;
  http.read_timeout = options.stall_timeout;
  http.write_timeout = options.stall_timeout;
  http.user_agent = UserAgent();
  http.registry_host = base.host_port;
  return http;
}

Status ReplyError(std::string_view what, const Reply& reply) {
  std::string prefix = std::string(what) + ": ";
  if (reply.status == 401) return PermissionDeniedError(prefix + "unauthorized: access denied");
  std::string body = reply.body.substr(0, 1024);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
  std::string message = prefix + std::to_string(reply.status) + ": " + body;
  if (reply.status == 404) return NotFoundError(message);
  if (reply.status == 403) return PermissionDeniedError(message);
  if (reply.status >= 500 || reply.status == 429) return UnavailableError(message);
  return InvalidArgumentError(message);
}

std::string ShortHex(const store::Digest& digest) { return digest.hex().substr(0, 12); }

}  // namespace corral::registry::internal
