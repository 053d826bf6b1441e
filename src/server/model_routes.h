// The model-management endpoints over the store: GET|HEAD /api/tags (§1.7), POST /api/show
// (§1.8), POST /api/copy (§1.11), DELETE /api/delete (§1.12), with Ollama's status codes and
// error texts.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

struct ServerState;
class RequestBody;

void ListModelsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                       httplib::Response& res);
void ShowModelHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                      httplib::Response& res);
void CopyModelHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                      httplib::Response& res);
void DeleteModelHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                        httplib::Response& res);

// Ollama's `parameters` text: one "%-30s %#v" line per option value, arrays one line per
// element, joined with "\n".
std::string FormatParameters(const nlohmann::ordered_json& options);

// Go's %v / %#v of a float64 (shortest digits, exponent form below 1e-4 and from 1e21... as
// strconv 'g' with the shortest precision decides): 40 -> "40", 1e-05 -> "1e-05".
std::string GoFloatV(double v);

}  // namespace corral::server
