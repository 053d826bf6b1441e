#include "server/registry_routes.h"

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "base/log.h"
#include "registry/registry.h"
#include "server/json_request.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

constexpr const char kNdjsonContentType[] = "application/x-ndjson";

nlohmann::ordered_json ProgressJson(const registry::Progress& p) {
  nlohmann::ordered_json j = {{"status", p.status}};
  if (!p.digest.empty()) j["digest"] = p.digest;
  if (p.total != 0) j["total"] = p.total;
  if (p.completed != 0) j["completed"] = p.completed;
  return j;
}

using Operation = Status (*)(store::Store&, const store::Name&, const registry::RegistryOptions&,
                             const registry::ProgressFn&);

// The shared shape of both handlers: {model|name, insecure, stream}.
void Transfer(ServerState& state, RequestBody& body, httplib::Response& res, const char* go_type,
              bool model_required, Operation operation) {
  std::optional<nlohmann::json> json =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, go_type, res);
  if (!json) return;
  JsonFields fields(*json, go_type);
  std::string model, name;
  bool insecure = false;
  bool stream = true;
  for (Status s : {fields.GetString("model", &model), fields.GetString("name", &name),
                   fields.GetBool("insecure", &insecure), fields.GetBool("stream", &stream)}) {
    if (!s.ok()) return WriteError(res, 400, s.message());
  }
  if (model.empty()) model = name;
  if (model.empty() && model_required) return WriteError(res, 400, "model is required");
  Result<store::Name> parsed = store::ParseName(model);
  if (!parsed.ok()) return WriteError(res, 400, "invalid model name");

  registry::RegistryOptions options;
  options.insecure = insecure;
  options.no_prune = store::Store::NoPruneFromEnv();
  store::Name target = *parsed;

  if (!stream) {
    Status s =
        operation(state.store, target, options, [](const registry::Progress&) { return true; });
    if (!s.ok()) return WriteError(res, 500, s.message());
    return WriteJson(res, nlohmann::ordered_json{{"status", "success"}});
  }
  ServerState* st = &state;
  res.set_chunked_content_provider(
      kNdjsonContentType, [st, target, options, operation](size_t, httplib::DataSink& sink) {
        auto write = [&sink](const nlohmann::ordered_json& j) {
          std::string line =
              j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
          return sink.write(line.data(), line.size());
        };
        Status s = operation(st->store, target, options, [&write](const registry::Progress& p) {
          return write(ProgressJson(p));
        });
        if (!s.ok()) {
          LOG(kWarn) << "registry: " << s.message();
          write(nlohmann::ordered_json{{"error", s.message()}});
        }
        sink.done();
        return true;
      });
}

}  // namespace

void PullHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                 httplib::Response& res) {
  Transfer(state, body, res, "PullRequest", /*model_required=*/false, registry::Pull);
}

void PushHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                 httplib::Response& res) {
  Transfer(state, body, res, "PushRequest", /*model_required=*/true, registry::Push);
}

}  // namespace corral::server
