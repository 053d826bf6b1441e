// POST /api/create (ollama-api.md §1.5), JSON form: a model from a local model (`from`) or from
// uploaded GGUF blobs (`files`, `adapters`), with template/system/parameters/messages/license
// layers, optional quantization, and Ollama's NDJSON status stream (or one JSON reply with
// "stream": false). The work itself is in create_model.h; this is the HTTP side.
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

struct ServerState;
class RequestBody;

// Every mistake in the request is answered with its status (400, or 404 for a `from` model
// that is not local) before anything is streamed; a failure once the stream has started is a
// final {"error": "..."} line with status 200, as in Ollama.
void CreateModelHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                        httplib::Response& res);

}  // namespace corral::server
