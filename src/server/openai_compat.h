// The OpenAI-compatible endpoints (ollama-api.md §3.1-3.4): POST /v1/chat/completions,
// POST /v1/completions, POST /v1/embeddings, GET /v1/models and GET /v1/models/{id}.
//
// Each handler translates the OpenAI request into a native one (/api/chat, /api/generate,
// /api/embed, /api/tags, /api/show), runs the native handler through CallNative
// (native_bridge.h), and translates its reply: a whole JSON object, or the native NDJSON stream
// object by object into server-sent events ("data: <json>\n\n" ... "data: [DONE]\n\n").
//
// The translation functions below are pure (JSON in, JSON or text out) so that every rule can
// be tested without a model; the handlers in openai_compat.cpp only wire them to the bridge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/routes.h"

namespace corral::server {

void OpenAIChatHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                       httplib::Response& res);
void OpenAICompletionsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                              httplib::Response& res);
void OpenAIEmbeddingsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                             httplib::Response& res);
void OpenAIListModelsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                             httplib::Response& res);
// The model id is the route's first capture group (req.matches[1]).
void OpenAIRetrieveModelHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                                httplib::Response& res);

namespace openai {

using ojson = nlohmann::ordered_json;

// ---- errors ----

// "invalid_request_error" (400), "not_found_error" (404), else "api_error".
std::string_view ErrorType(int status);
// {"error":{"message":...,"type":ErrorType(status),"param":null,"code":null}}.
ojson ErrorBody(int status, std::string_view message);
// The message of a native error reply ({"error": "..."}); the whole object's text otherwise.
std::string NativeErrorMessage(const ojson& native);

// ---- requests ----

// A native request built from an OpenAI one.
struct NativeCall {
  ojson body = ojson::object();  // the native request body
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// /v1/chat/completions -> /api/chat. InvalidArgument (a 400) for what the request gets wrong,
// with Ollama's message where Ollama has one, and for every field that is neither translated
// nor in kChatIgnoredFields ("Unsupported parameter: 'x' is not supported by this server.").
Result<NativeCall> TranslateChatRequest(const ojson& request);
// /v1/completions -> /api/generate (the model's template applies, as in Ollama).
Result<NativeCall> TranslateCompletionRequest(const ojson& request);

struct EmbedCall {
  ojson body = ojson::object();  // the /api/embed request
  std::string model;
  bool base64 = false;  // encoding_format "base64"
};
// /v1/embeddings -> /api/embed.
Result<EmbedCall> TranslateEmbeddingRequest(const ojson& request);

// Fields accepted and ignored because ignoring them changes nothing a client can rely on
// (hints to OpenAI's own service, or choices Ollama also ignores). Every other field that is
// not translated is a 400.
inline constexpr std::string_view kChatIgnoredFields[] = {"tool_choice",
                                                          "logit_bias",
                                                          "user",
                                                          "parallel_tool_calls",
                                                          "store",
                                                          "metadata",
                                                          "service_tier",
                                                          "prompt_cache_key",
                                                          "safety_identifier"};
inline constexpr std::string_view kCompletionIgnoredFields[] = {"logit_bias", "user"};
inline constexpr std::string_view kEmbeddingIgnoredFields[] = {"user"};

// ---- whole replies ----

// A native /api/chat reply (status 200) as a "chat.completion" object with id `id`.
ojson ChatCompletionFromNative(std::string_view id, const ojson& native);
// A native /api/generate reply as a "text_completion" object.
ojson CompletionFromNative(std::string_view id, const ojson& native);
// A native /api/embed reply as an embedding list for `model`; base64: little-endian float32.
ojson EmbeddingListFromNative(std::string_view model, const ojson& native, bool base64);
// A native /api/tags reply as a model list ("data" is null without models, as in Ollama).
ojson ModelListFromNative(const ojson& tags);
// A native /api/show reply as the model object for `id` (the id as the client wrote it).
ojson ModelFromShow(std::string_view id, const ojson& show);

// ---- streams ----

// The native /api/chat NDJSON stream, object by object, as chat.completion.chunk events: the
// first chunk has delta.role; a native chunk with both thinking and content becomes two
// chunks; the native final object becomes a finish chunk (delta {}), then the usage chunk
// (choices []) when asked; every chunk has the first object's `created`. A native
// {"error": ...} becomes one event with an OpenAI error object and ends the stream.
class ChatStream {
 public:
  ChatStream(std::string id, bool include_usage)
      : id_(std::move(id)), include_usage_(include_usage) {}
  // The events (each "data: <json>\n\n") for one native object; may be empty.
  std::string Push(const ojson& native);
  // "data: [DONE]\n\n" once the finish chunk went out; nothing after an error.
  std::string End() const;

 private:
  std::string id_;
  bool include_usage_;
  int64_t created_ = -1;
  bool first_sent_ = false;
  bool tool_call_sent_ = false;
  bool finished_ = false;
  bool failed_ = false;
};

// The native /api/generate stream as text_completion events: one per native object (the final
// one carries finish_reason); with include_usage every chunk has zero usage and a usage-only
// chunk (choices []) follows the final one.
class CompletionStream {
 public:
  CompletionStream(std::string id, bool include_usage)
      : id_(std::move(id)), include_usage_(include_usage) {}
  std::string Push(const ojson& native);
  std::string End() const;

 private:
  std::string id_;
  bool include_usage_;
  int64_t created_ = -1;
  bool finished_ = false;
  bool failed_ = false;
};

// ---- helpers (exposed for tests) ----

// "chatcmpl-<n>" / "cmpl-<n>" with n random in [0, 999), as Ollama makes them (not unique).
std::string NewId(std::string_view prefix);
// Seconds since 1970 of an RFC 3339 time ("2024-09-12T03:54:03.516566Z", "...+02:00"); -1
// when it does not parse.
int64_t UnixSeconds(std::string_view rfc3339);
// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
// Go's base64.StdEncoding.DecodeString: padding required, "\r" and "\n" skipped; false on bad
// input.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace openai
}  // namespace corral::server
