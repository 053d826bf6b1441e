#include "server/create_routes.h"

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "base/log.h"
#include "server/create_model.h"
#include "server/json_request.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

constexpr const char kNdjsonContentType[] = "application/x-ndjson";

std::string Line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

void CreateModelHandler(ServerState& state, const httplib::Request&, RequestBody& body,
                        httplib::Response& res) {
  std::optional<nlohmann::json> json =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, "CreateRequest", res);
  if (!json) return;
  Result<CreateRequest> request = ParseCreateRequest(*json);
  if (!request.ok()) return WriteError(res, 400, request.status().message());
  Result<PreparedCreatePtr> prepared = PrepareCreate(state.store, *request);
  if (!prepared.ok()) {
    return WriteError(res, CreateHttpStatus(prepared.status()), prepared.status().message());
  }
  CreateOptions options;
  options.no_prune = store::Store::NoPruneFromEnv();

  if (!request->stream) {
    CreateProgress last;
    Status s = RunCreate(state.store, **prepared, options, [&last](const CreateProgress& p) {
      last = p;
      return true;
    });
    if (!s.ok()) return WriteError(res, CreateHttpStatus(s), s.message());
    return WriteJson(res, last.ToJson());
  }

  std::shared_ptr<PreparedCreate> shared(std::move(prepared).value());
  ServerState* st = &state;
  res.set_chunked_content_provider(
      kNdjsonContentType, [shared, st, options](size_t, httplib::DataSink& sink) {
        auto write = [&sink](const nlohmann::ordered_json& j) {
          std::string line = Line(j);
          return sink.write(line.data(), line.size());
        };
        Status s = RunCreate(st->store, *shared, options,
                             [&write](const CreateProgress& p) { return write(p.ToJson()); });
        if (!s.ok()) {
          LOG(kWarn) << "create: " << s.message();
          write(nlohmann::ordered_json{{"error", s.message()}});
        }
        sink.done();
        return true;
      });
}

}  // namespace corral::server
