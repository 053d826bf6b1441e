#include "server/routes.h"

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/version.h"

namespace corral::server {
namespace {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

struct Route {
  const char* method;  // GET routes also answer HEAD (without a body)
  const char* path;
  Handler handler;
};

constexpr const char kTextPlain[] = "text/plain; charset=utf-8";
constexpr const char kJson[] = "application/json; charset=utf-8";

void Root(const httplib::Request&, httplib::Response& res) {
  res.set_content("Ollama is running", kTextPlain);
}

void Version(const httplib::Request&, httplib::Response& res) {
  res.set_content(nlohmann::json{{"version", kVersion}}.dump(), kJson);
}

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/", Root},
      {"GET", "/api/version", Version},
  };
  return routes;
}

void MethodNotAllowed(const httplib::Request&, httplib::Response& res) {
  res.status = 405;
  res.set_content("405 method not allowed", kTextPlain);
}

void Register(httplib::Server& http, std::string_view method, const std::string& path,
              const Handler& handler) {
  if (method == "GET") http.Get(path, handler);
  if (method == "POST") http.Post(path, handler);
  if (method == "PUT") http.Put(path, handler);
  if (method == "PATCH") http.Patch(path, handler);
  if (method == "DELETE") http.Delete(path, handler);
  if (method == "OPTIONS") http.Options(path, handler);
}

}  // namespace

void RegisterRoutes(httplib::Server& http) {
  for (const Route& route : Routes()) Register(http, route.method, route.path, route.handler);

  // Every other method on a known path is a 405, as in Ollama's router.
  static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  for (const Route& route : Routes()) {
    for (std::string_view method : kMethods) {
      bool taken = false;
      for (const Route& other : Routes()) {
        taken |= other.method == method && std::string_view(other.path) == route.path;
      }
      if (!taken) Register(http, method, route.path, MethodNotAllowed);
    }
  }

  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) res.set_content("404 page not found", kTextPlain);
  });
}

}  // namespace corral::server
