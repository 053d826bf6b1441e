// The route table: one line per endpoint. Handlers live beside their concern; this file
// only says which method and path reach which handler.
#pragma once

namespace httplib {
class Server;
}

namespace corral::server {

// Registers every endpoint on `http`, plus Ollama's routing conventions: a known path with a
// wrong method answers 405 "405 method not allowed", an unknown path 404 "404 page not found".
void RegisterRoutes(httplib::Server& http);

}  // namespace corral::server
