// POST /api/pull and POST /api/push (ollama-api.md §1.9, §1.10): the HTTP side of
// src/registry, with Ollama's NDJSON progress stream (or one JSON reply with "stream": false).
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

struct ServerState;
class RequestBody;

// Request mistakes (invalid name, missing model) are answered with 400 before anything is
// streamed; a failure once the stream has started is a final {"error": "..."} line with status
// 200, as in Ollama; without streaming, 500 {"error"}.
void PullHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                 httplib::Response& res);
void PushHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                 httplib::Response& res);

}  // namespace corral::server
