// Pieces the client verbs (list, ps, show, cp, rm, stop, create, run) share: connecting to the
// server, printing an error the way Ollama's cobra commands do, unloading a model.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cli/api_client.h"
#include "cli/commands.h"

namespace corral::cli {

// Prints "Error: <message>" on io.err and returns kExitFailure.
int PrintError(CommandIo& io, const Status& status);

// A client of OLLAMA_HOST once a server answered HEAD / (Ollama checks this before every
// client verb); Unavailable with the `corral serve` hint otherwise.
Result<ApiClient> ConnectToServer();

// Ollama's loadOrUnloadModel with keep_alive 0: POST /api/show (so an unknown model is a
// NotFound), then POST /api/generate {model, keep_alive: 0}, which unloads it.
Status UnloadModel(ApiClient& client, const std::string& model);

class ProgressDisplay;

// POSTs `body` to a progress-streaming endpoint (/api/create, /api/pull, /api/push) and shows
// each line as Ollama's CLI does: a bar per digest ("pulling 3f1c2a9b4d5e" 45% ...), a spinner
// for plain statuses.
Status ShowProgressStream(ApiClient& client, const std::string& route, const nlohmann::json& body,
                          ProgressDisplay& display);

// POST /api/pull for `model` with progress (Ollama's PullHandler, also used by `run`).
Status PullModel(ApiClient& client, const std::string& model, bool insecure, std::ostream& err);

// A field of a server reply, or the default when it is missing or of another type (a reply is
// outside input: an odd one must not throw).
std::string JsonString(const nlohmann::json& object, const char* key);
int64_t JsonInt(const nlohmann::json& object, const char* key);
bool JsonBool(const nlohmann::json& object, const char* key);

}  // namespace corral::cli
