// OpenAI's Responses API, POST /v1/responses (ollama-api.md §3.5), stateless, over the native
// /api/chat: the request's input items become native chat messages, ChatHandler runs them
// (native_bridge.h), and its reply or NDJSON stream becomes a Response object or its named SSE
// events (response.created ... response.completed, or response.failed), each with a
// sequence_number.
//
// The translation is pure (JSON in, JSON or SSE text out) so it is tested without a model. A
// field we cannot honour is a 400 naming it (previous_response_id and conversation above all:
// nothing is stored); the few that change nothing about the reply (metadata, store, user, ...)
// are accepted and ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/routes.h"

namespace corral::server {

namespace responses {

using ojson = nlohmann::ordered_json;

// A /v1/responses request as the native chat request that answers it.
struct ResponsesRequest {
  std::string model;
  bool stream = false;
  ojson native;  // the /api/chat body
  // The request settings a Response object repeats (instructions, tools, tool_choice, text,
  // temperature, top_p, reasoning, max_output_tokens, metadata, ...).
  ojson echo;
};

// Validates and translates a decoded request body; InvalidArgument (a 400) names what is wrong.
Result<ResponsesRequest> TranslateRequest(const ojson& body);

// OpenAI's error object {"error":{"message","type","param":null,"code":null}}; the type follows
// the status (400 invalid_request_error, 404 not_found_error, else api_error).
ojson ErrorBody(int status, std::string_view message);

struct ReplyContext {
  std::string id;  // "resp_<hex>"; output item ids are derived from it
  std::string model;
  int64_t created_at = 0;  // unix seconds
  ojson echo;              // ResponsesRequest::echo
};

// The native stream as Responses SSE events. Output items, in order: a reasoning item for
// thinking, a message for text, a function_call per tool call (text on either side of a call
// gets its own message item); a reply with neither text nor calls has one empty message.
class EventStream {
 public:
  explicit EventStream(ReplyContext context) : context_(std::move(context)) {}

  // The events for one native object (a chunk, the final done chunk, or {"error": ...}).
  std::string Push(const ojson& native);
  // After the native stream's last object: response.failed when it ended without "done".
  std::string End();

  // The Response object of the last response.completed or response.failed (null before).
  const ojson& final_response() const { return final_; }

 private:
  enum class Item { kNone, kReasoning, kMessage };
  std::string Emit(std::string_view type, ojson data);
  ojson Response(std::string_view status, const ojson& usage, const ojson& error) const;
  std::string NextItemId(std::string_view prefix);
  void Open(Item kind, std::string* out);
  void Close(std::string* out);
  void Fail(const std::string& message, std::string* out);

  ReplyContext context_;
  int sequence_ = 0;
  int items_ = 0;  // item ids made so far
  bool started_ = false;
  bool finished_ = false;
  Item open_ = Item::kNone;
  std::string open_id_, open_text_;
  ojson output_ = ojson::array();  // finished output items
  bool has_message_ = false, has_calls_ = false;
  ojson final_;
};

// A whole native /api/chat reply (status 200) as a Response object: what the stream's
// response.completed carries for the same reply.
ojson ResponseFromNative(const ojson& native, const ReplyContext& context);

}  // namespace responses

void ResponsesHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                      httplib::Response& res);

}  // namespace corral::server
