#include "cli/version_check.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "base/version.h"
#include "cli/cli.h"

namespace corral::cli {

int PrintVersion(const config::HostAddress& host, std::ostream& out, std::ostream& err) {
  std::string server_version;
  if (host.scheme == "http") {
    httplib::Client client(host.host.empty() ? "127.0.0.1" : host.host, host.port);
    client.set_connection_timeout(std::chrono::seconds(2));
    client.set_read_timeout(std::chrono::seconds(5));
    std::string path = host.path.empty() ? "/api/version" : "/" + host.path + "/api/version";
    if (auto res = client.Get(path); res && res->status == 200) {
      nlohmann::json body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("version") && body["version"].is_string()) {
        server_version = body["version"].get<std::string>();
      }
    }
  }
  if (server_version.empty()) {
    err << "Warning: could not connect to a running Ollama instance\n";
    err << "Warning: client version is " << kVersion << "\n";
    return kExitOk;
  }
  out << "corral version is " << server_version << "\n";
  if (server_version != kVersion) err << "Warning: client version is " << kVersion << "\n";
  return kExitOk;
}

}  // namespace corral::cli
