// What the request handlers share for the life of `corral serve`: the model store, the limits
// the middleware enforces, caches, and the models being run (Inference: the scheduler and its
// runners). Handlers receive a
// ServerState& from the route table (routes.cpp); nothing here is global.
//
// Thread-safety: handlers run on httplib's worker pool. `store` is stateless (see store.h),
// `limits` and `cors_origins` are fixed before the server starts, and the caches lock inside.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/inference.h"
#include "server/model_facts.h"
#include "store/store.h"

namespace corral::server {

struct ServerLimits {
  // Largest JSON request body. Ollama has none; chat requests carry base64 images, so this is
  // generous, but it stops one request from taking the machine's memory.
  size_t max_json_body_bytes = size_t{64} << 20;
};

struct ServerState {
  // Inference starts with built-in defaults; `corral serve` replaces it with the OLLAMA_*
  // settings.
  explicit ServerState(store::Store s)
      : store(std::move(s)), inference(std::make_unique<Inference>(InferenceOptions{})) {}

  store::Store store;
  ServerLimits limits;
  // OLLAMA_ORIGINS split on commas (the built-in origins are added by the CORS middleware).
  std::vector<std::string> cors_origins;
  // GGUF-derived facts per manifest digest, so /api/tags does not reparse every model file.
  ModelFactsCache facts_cache;
  // What /api/show reads from a model's GGUF (without verbose): reading a 128k-token vocabulary
  // takes tens of milliseconds, and clients (`corral run` among them) show before every chat.
  DigestCache<std::shared_ptr<const ShownGguf>> show_cache{64};
  // Each model's parsed prompt template and output tags: parsing a Go template twice per
  // request cost 50-160 µs, a tenth of the server's own time per request.
  DigestCache<std::shared_ptr<const PromptSetup>> prompt_setups{64};
  std::unique_ptr<Inference> inference;
};

}  // namespace corral::server
