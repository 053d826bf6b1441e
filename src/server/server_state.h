// What the request handlers share for the life of `corral serve`: the model store, the limits
// the middleware enforces, and caches. The lead's scheduler joins it later. Handlers receive a
// ServerState& from the route table (routes.cpp); nothing here is global.
//
// Thread-safety: handlers run on httplib's worker pool. `store` is stateless (see store.h),
// `limits` and `cors_origins` are fixed before the server starts, and the caches lock inside.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "server/model_facts.h"
#include "store/store.h"

namespace corral::server {

struct ServerLimits {
  // Largest JSON request body. Ollama has none; chat requests carry base64 images, so this is
  // generous, but it stops one request from taking the machine's memory.
  size_t max_json_body_bytes = size_t{64} << 20;
};

struct ServerState {
  explicit ServerState(store::Store s) : store(std::move(s)) {}

  store::Store store;
  ServerLimits limits;
  // OLLAMA_ORIGINS split on commas (the built-in origins are added by the CORS middleware).
  std::vector<std::string> cors_origins;
  // GGUF-derived facts per manifest digest, so /api/tags does not reparse every model file.
  ModelFactsCache facts_cache;
};

}  // namespace corral::server
