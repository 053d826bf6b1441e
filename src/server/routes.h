// The route table: one line per endpoint. Handlers live beside their concern
// (model_routes.h, blob_routes.h, ...); this file only says which method and path reach which
// handler, and applies Ollama's routing conventions.
#pragma once

#include <functional>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

struct ServerState;
class RequestBody;

// Every handler has this shape. A handler reads the body through RequestBody (streamed, never
// buffered by the HTTP layer); whatever it leaves unread is drained afterwards.
using Handler =
    std::function<void(ServerState&, const httplib::Request&, RequestBody&, httplib::Response&)>;

// Registers every endpoint on `http`, plus Ollama's routing conventions: a known path with a
// wrong method answers 405 "405 method not allowed", an unknown path 404 "404 page not found".
// Paths are httplib regexes; capture groups are path parameters (req.matches).
void RegisterRoutes(httplib::Server& http, ServerState& state);

}  // namespace corral::server
