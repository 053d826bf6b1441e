#include "cli/client_common.h"

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "config/env_config.h"

namespace corral::cli {

int PrintError(CommandIo& io, const Status& status) {
  io.err << "Error: " << status.message() << "\n";
  return kExitFailure;
}

Result<ApiClient> ConnectToServer() {
  ApiClient client(config::Host());
  RETURN_IF_ERROR(client.Heartbeat());
  return client;
}

Status UnloadModel(ApiClient& client, const std::string& model) {
  RETURN_IF_ERROR(client.Post("/api/show", {{"model", model}}).status());
  return client.Stream("/api/generate", {{"model", model}, {"keep_alive", 0}},
                       [](const nlohmann::json&) { return Status::Ok(); });
}

std::string JsonString(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t JsonInt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<int64_t>() : 0;
}

bool JsonBool(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace corral::cli
