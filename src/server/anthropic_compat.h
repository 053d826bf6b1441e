// Anthropic's Messages API, POST /v1/messages (ollama-api.md §3.7), over the native /api/chat:
// the request becomes a native chat request, ChatHandler runs it (native_bridge.h), and its
// reply or NDJSON stream becomes an Anthropic Message or its SSE events (message_start,
// content_block_start/delta/stop, message_delta, message_stop; `error` mid-stream).
//
// The translation is pure (JSON in, JSON or SSE text out) so it is tested without a model; the
// handler only wires it to the bridge. A field we cannot honour is a 400 naming it; the few
// that change nothing about the reply (metadata, service_tier, cache_control, ...) are ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/routes.h"

namespace corral::server {

namespace anthropic {

using ojson = nlohmann::ordered_json;

// A /v1/messages request as the native chat request that answers it.
struct MessagesRequest {
  std::string model;
  bool stream = false;
  std::vector<std::string> stop_sequences;
  // Thinking was asked for; on a model without thinking Ollama drops it instead of failing
  // ("relax_thinking"), so the handler retries without "think".
  bool think_requested = false;
  ojson native;  // the /api/chat body
};

// Validates and translates a decoded request body; InvalidArgument (a 400) names what is wrong.
Result<MessagesRequest> TranslateRequest(const ojson& body);

// Anthropic's error object {"type":"error","error":{"type":...,"message":...}}; the error type
// follows the status as in Ollama's anthropic.NewError.
ojson ErrorBody(int status, std::string_view message);

// What a reply needs besides the native objects.
struct ReplyContext {
  std::string id;     // "msg_..."
  std::string model;  // as requested
  std::vector<std::string> stop_sequences;
};

// The stop sequence that ended generation, if any: the one whose first occurrence in the
// sampled text (every generated token's text, stop strings included) ends first. Native
// done_reason says only "stop" for both end-of-turn and a stop string.
std::optional<std::string> MatchedStopSequence(std::string_view sampled,
                                               const std::vector<std::string>& stops);

// A whole native /api/chat reply (status 200) as an Anthropic Message.
ojson MessageFromNative(const ojson& native, const ReplyContext& context);

// The native NDJSON stream as Anthropic SSE events, object by object.
class EventStream {
 public:
  explicit EventStream(ReplyContext context) : context_(std::move(context)) {}

  // The events for one native object (a chunk, the final done chunk, or {"error": ...}).
  std::string Push(const ojson& native);
  // After the native stream's last object: an error event when it ended without "done".
  std::string End();

 private:
  enum class Block { kNone, kThinking, kText };
  void Start(std::string* out);
  void OpenBlock(Block kind, std::string* out);
  void CloseBlock(std::string* out);

  ReplyContext context_;
  bool started_ = false;
  bool finished_ = false;  // done or error sent: later objects are ignored
  Block open_ = Block::kNone;
  int next_index_ = 0;  // index of the next content block
  bool tool_calls_ = false;
  std::string sampled_;  // token texts from native logprobs, for stop_sequence
};

}  // namespace anthropic

void AnthropicMessagesHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                              httplib::Response& res);

}  // namespace corral::server
