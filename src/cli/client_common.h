// Pieces the client verbs (list, ps, show, cp, rm, stop, create, run, pull, push) share:
// connecting to the server, printing an error the way Ollama's cobra commands do, unloading a
// model, progress streams, Ctrl+C as a request's cancel, reading /api/show replies.
#pragma once

#include <signal.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cli/api_client.h"
#include "cli/commands.h"

namespace corral::cli {

// While alive, Ctrl+C (SIGINT) cancels `source` (and so the request in flight) instead of
// killing the process; the previous handler comes back after. One at a time.
class SigintCancels {
 public:
  explicit SigintCancels(CancelSource& source);
  ~SigintCancels();
  SigintCancels(const SigintCancels&) = delete;
  SigintCancels& operator=(const SigintCancels&) = delete;

 private:
  struct sigaction old_ {};
  bool installed_ = false;
};

// Prints "Error: <message>" on io.err and returns kExitFailure.
int PrintError(CommandIo& io, const Status& status);

// A client of OLLAMA_HOST once a server answered HEAD / (Ollama checks this before every
// client verb); Unavailable with the `corral serve` hint otherwise.
Result<ApiClient> ConnectToServer();

// Ollama's loadOrUnloadModel with keep_alive 0: POST /api/show (so an unknown model is a
// NotFound), then POST /api/generate {model, keep_alive: 0}, which unloads it.
Status UnloadModel(ApiClient& client, const std::string& model);

class ProgressDisplay;
enum class ProgressKind;

// POSTs `body` to a progress-streaming endpoint (/api/create, /api/pull, /api/push) and shows
// each line as Ollama's handler for that verb does (ProgressStreamView): a bar per digest, a
// spinner per status. `status`: the spinner already showing (create's first one).
Status ShowProgressStream(ApiClient& client, const std::string& route, const nlohmann::json& body,
                          ProgressKind kind, ProgressDisplay& display,
                          const std::string& status = "");

// POST /api/pull for `model` with progress (Ollama's PullHandler, also used by `run`).
Status PullModel(ApiClient& client, const std::string& model, bool insecure, std::ostream& err);

// Whether an /api/show reply lists `capability` ("vision", "thinking", "embedding", ...).
bool HasCapability(const nlohmann::json& show, std::string_view capability);

// Whether `run` treats image paths in prompts as images (Ollama's MultiModal): the "vision"
// capability, or, from servers that predate capabilities, projector info or a ".vision." key in
// the model info.
bool IsMultimodal(const nlohmann::json& show);

// A request's `format` from --format or /set format: "json" as the string, a JSON schema (an
// object) parsed, anything else as given (the server refuses it).
nlohmann::json FormatValue(const std::string& format);

// A field of a server reply, or the default when it is missing or of another type (a reply is
// outside input: an odd one must not throw).
std::string JsonString(const nlohmann::json& object, const char* key);
int64_t JsonInt(const nlohmann::json& object, const char* key);
bool JsonBool(const nlohmann::json& object, const char* key);

}  // namespace corral::cli
