#include "server/routes.h"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/version.h"
#include "server/anthropic_compat.h"
#include "server/blob_routes.h"
#include "server/create_routes.h"
#include "server/inference_routes.h"
#include "server/json_request.h"
#include "server/model_routes.h"
#include "server/openai_compat.h"
#include "server/registry_routes.h"
#include "server/responses_compat.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

struct Route {
  const char* method;  // GET routes also answer HEAD; HEAD routes answer only HEAD
  const char* path;
  Handler handler;
};

void Root(ServerState&, const httplib::Request&, RequestBody&, httplib::Response& res) {
  res.set_content("Ollama is running", kTextContentType);
}

void Version(ServerState&, const httplib::Request&, RequestBody&, httplib::Response& res) {
  res.set_content(nlohmann::json{{"version", kVersion}}.dump(), kJsonContentType);
}

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/", Root},
      {"GET", "/api/version", Version},
      {"GET", "/api/tags", ListModelsHandler},
      {"POST", "/api/show", ShowModelHandler},
      {"POST", "/api/copy", CopyModelHandler},
      {"DELETE", "/api/delete", DeleteModelHandler},
      {"HEAD", "/api/blobs/([^/]+)", HeadBlobHandler},
      {"POST", "/api/blobs/([^/]+)", CreateBlobHandler},
      {"POST", "/api/create", CreateModelHandler},
      {"POST", "/api/pull", PullHandler},
      {"POST", "/api/push", PushHandler},
      {"POST", "/api/generate", GenerateHandler},
      {"POST", "/api/chat", ChatHandler},
      {"POST", "/api/embed", EmbedHandler},
      {"POST", "/api/embeddings", EmbeddingsHandler},
      {"GET", "/api/ps", PsHandler},
      {"POST", "/v1/chat/completions", OpenAIChatHandler},
      {"POST", "/v1/completions", OpenAICompletionsHandler},
      {"POST", "/v1/embeddings", OpenAIEmbeddingsHandler},
      {"GET", "/v1/models", OpenAIListModelsHandler},
      {"GET", "/v1/models/(.+)", OpenAIRetrieveModelHandler},
      {"POST", "/v1/responses", ResponsesHandler},
      {"POST", "/v1/messages", AnthropicMessagesHandler},
  };
  return routes;
}

void MethodNotAllowed(ServerState&, const httplib::Request&, RequestBody&, httplib::Response& res) {
  res.status = 405;
  res.set_content("405 method not allowed", kTextContentType);
}

void NotFound(ServerState&, const httplib::Request&, RequestBody&, httplib::Response& res) {
  res.status = 404;
  res.set_content("404 page not found", kTextContentType);
}

// Methods that carry a body get httplib's streaming form, so no body is ever buffered whole by
// the HTTP layer (a blob upload can be many GB).
void Register(httplib::Server& http, ServerState& state, std::string_view method,
              const std::string& path, Handler handler) {
  if (method == "GET" || method == "HEAD") {
    bool head_only = method == "HEAD";
    http.Get(path,
             [&state, handler, head_only](const httplib::Request& req, httplib::Response& res) {
               RequestBody body(nullptr);
               if (head_only && req.method != "HEAD")
                 return MethodNotAllowed(state, req, body, res);
               handler(state, req, body, res);
             });
    return;
  }
  if (method == "OPTIONS") {
    http.Options(path, [&state, handler](const httplib::Request& req, httplib::Response& res) {
      RequestBody body(nullptr);
      handler(state, req, body, res);
    });
    return;
  }
  auto streaming = [&state, handler](const httplib::Request& req, httplib::Response& res,
                                     const httplib::ContentReader& reader) {
    RequestBody body([&req, &reader](const RequestBody::Chunk& sink) {
      // Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 6.3);
      // httplib would wait for the connection to close instead.
      if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
        return true;
      }
      if (req.is_multipart_form_data()) {  // not an Ollama body; read the parts' bytes
        return reader([](const httplib::MultipartFormData&) { return true; }, sink);
      }
      return reader(sink);
    });
    handler(state, req, body, res);
    body.Drain();  // keeps a keep-alive connection in step
  };
  // httplib sends a request here only when it expected no body (a DELETE without one, say);
  // whatever it did read is in req.body.
  auto buffered = [&state, handler](const httplib::Request& req, httplib::Response& res) {
    RequestBody body([&req](const RequestBody::Chunk& sink) {
      return req.body.empty() || sink(req.body.data(), req.body.size());
    });
    handler(state, req, body, res);
  };
  if (method == "POST") http.Post(path, streaming).Post(path, buffered);
  if (method == "PUT") http.Put(path, streaming).Put(path, buffered);
  if (method == "PATCH") http.Patch(path, streaming).Patch(path, buffered);
  if (method == "DELETE") http.Delete(path, streaming).Delete(path, buffered);
}

}  // namespace

void RegisterRoutes(httplib::Server& http, ServerState& state) {
  for (const Route& route : Routes()) {
    Register(http, state, route.method, route.path, route.handler);
  }

  // Every other method on a known path is a 405, as in Ollama's router.
  static constexpr std::string_view kMethods[] = {"GET",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
  std::vector<std::string> done;
  for (const Route& route : Routes()) {
    for (std::string_view method : kMethods) {
      bool taken = false;
      for (const Route& other : Routes()) {
        std::string_view m = other.method;
        if (m == "HEAD") m = "GET";  // registered as GET (answering GET with 405)
        taken |= m == method && std::string_view(other.path) == route.path;
      }
      std::string key = std::string(method) + " " + route.path;
      if (taken || std::find(done.begin(), done.end(), key) != done.end()) continue;
      done.push_back(key);
      Register(http, state, method, route.path, MethodNotAllowed);
    }
  }
  // Unknown paths with a body: answered 404 while streaming, so httplib never buffers them.
  for (std::string_view method : {"POST", "PUT", "PATCH", "DELETE"}) {
    Register(http, state, method, ".*", NotFound);
  }

  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      res.set_content("404 page not found", kTextContentType);
    }
  });
}

}  // namespace corral::server
