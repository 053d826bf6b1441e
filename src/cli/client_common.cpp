#include "cli/client_common.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/terminal.h"
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

Status ShowProgressStream(ApiClient& client, const std::string& route, const nlohmann::json& body,
                          ProgressDisplay& display) {
  return client.Stream(route, body, [&](const nlohmann::json& line) {
    const std::string status = JsonString(line, "status");
    const std::string digest = JsonString(line, "digest");
    if (!digest.empty()) {
      std::string message = status;
      if (message.empty())
        message = "pulling " + digest.substr(std::min<size_t>(7, digest.size()), 12) + "...";
      display.SetBar(digest, message, JsonInt(line, "total"), JsonInt(line, "completed"));
    } else if (!status.empty()) {
      display.SetStatus(status);
    }
    return Status::Ok();
  });
}

Status PullModel(ApiClient& client, const std::string& model, bool insecure, std::ostream& err) {
  ProgressDisplay display(err);
  nlohmann::json body = {{"model", model}};
  if (insecure) body["insecure"] = true;
  Status pulled = ShowProgressStream(client, "/api/pull", body, display);
  display.Finish();
  return pulled;
}

}  // namespace corral::cli
