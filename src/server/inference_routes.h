// The endpoints that run models: /api/generate, /api/chat, /api/embed, /api/embeddings and
// /api/ps (ollama-api.md §1.1-1.4, §1.13).
#pragma once

#include "server/routes.h"

namespace corral::server {

void GenerateHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                     httplib::Response& res);
void ChatHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                 httplib::Response& res);
void EmbedHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                  httplib::Response& res);
void EmbeddingsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                       httplib::Response& res);
void PsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
               httplib::Response& res);

}  // namespace corral::server
