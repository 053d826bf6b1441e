#include "cli/client_common.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/progress.h"
#include "config/env_config.h"

namespace corral::cli {
namespace {

std::atomic<CancelSource*> g_sigint_source{nullptr};

extern "C" void CancelOnSigint(int) {
  if (CancelSource* source = g_sigint_source.load()) source->Cancel();
}

}  // namespace

SigintCancels::SigintCancels(CancelSource& source) {
  g_sigint_source.store(&source);
  struct sigaction action {};
  action.sa_handler = CancelOnSigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the socket's shutdown, not EINTR, ends a blocked read
  installed_ = sigaction(SIGINT, &action, &old_) == 0;
}

SigintCancels::~SigintCancels() {
  if (installed_) sigaction(SIGINT, &old_, nullptr);
  g_sigint_source.store(nullptr);
}

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

bool HasCapability(const nlohmann::json& show, std::string_view capability) {
  if (!show.is_object()) return false;
  auto it = show.find("capabilities");
  if (it == show.end() || !it->is_array()) return false;
  for (const nlohmann::json& c : *it) {
    if (c.is_string() && c.get_ref<const std::string&>() == capability) return true;
  }
  return false;
}

bool IsMultimodal(const nlohmann::json& show) {
  if (HasCapability(show, "vision")) return true;
  if (!show.is_object()) return false;
  if (auto p = show.find("projector_info"); p != show.end() && p->is_object() && !p->empty()) {
    return true;
  }
  if (auto m = show.find("model_info"); m != show.end() && m->is_object()) {
    for (const auto& [key, value] : m->items()) {
      if (key.find(".vision.") != std::string::npos) return true;
    }
  }
  return false;
}

nlohmann::json FormatValue(const std::string& format) {
  if (format == "json") return format;
  nlohmann::json parsed = nlohmann::json::parse(format, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) return parsed;
  return format;
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
                          ProgressKind kind, ProgressDisplay& display, const std::string& status) {
  ProgressStreamView view(kind, display, status);
  return client.Stream(route, body, [&](const nlohmann::json& line) {
    view.OnLine(line);
    return Status::Ok();
  });
}

Status PullModel(ApiClient& client, const std::string& model, bool insecure, std::ostream& err) {
  ProgressDisplay display(err);
  nlohmann::json body = {{"model", model}};
  if (insecure) body["insecure"] = true;
  Status pulled = ShowProgressStream(client, "/api/pull", body, ProgressKind::kPull, display);
  display.Stop();
  return pulled;
}

}  // namespace corral::cli
