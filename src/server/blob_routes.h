// HEAD and POST /api/blobs/:digest (§1.6): whether a blob exists, and uploads streamed into the
// store with digest verification. The path's digest is checked against Ollama's pattern
// `^sha256[:-][0-9a-fA-F]{64}$` before anything is built from it, so it cannot name a file
// outside blobs/.
#pragma once

#include <string_view>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

struct ServerState;
class RequestBody;

// Ollama's digest parameter pattern (a textual check; the store's Digest is stricter).
bool IsBlobDigestParam(std::string_view digest);

void HeadBlobHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                     httplib::Response& res);
void CreateBlobHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                       httplib::Response& res);

}  // namespace corral::server
