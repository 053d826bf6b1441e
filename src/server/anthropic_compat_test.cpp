#include "server/anthropic_compat.h"
#include "server/server_test_util.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/json_request.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

using anthropic::ojson;

ojson J(const char* text) { return ojson::parse(text); }

anthropic::MessagesRequest Translate(const char* body) {
  Result<anthropic::MessagesRequest> r = anthropic::TranslateRequest(J(body));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : anthropic::MessagesRequest{};
}

std::string TranslateError(const char* body) {
  Result<anthropic::MessagesRequest> r = anthropic::TranslateRequest(J(body));
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// The SSE text as (event name, data) pairs; each event's name must match its data's "type".
std::vector<std::pair<std::string, ojson>> Events(const std::string& sse) {
  std::vector<std::pair<std::string, ojson>> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    const size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event: " << sse.substr(pos);
    if (end == std::string::npos) break;
    const std::string event = sse.substr(pos, end - pos);
    pos = end + 2;
    EXPECT_EQ(event.rfind("event: ", 0), 0u) << event;
    const size_t nl = event.find('\n');
    const std::string name = event.substr(7, nl - 7);
    EXPECT_EQ(event.substr(nl + 1, 6), "data: ") << event;
    ojson data = ojson::parse(event.substr(nl + 7));
    EXPECT_EQ(data["type"], name);
    out.emplace_back(name, std::move(data));
  }
  return out;
}

std::vector<std::string> Names(const std::vector<std::pair<std::string, ojson>>& events) {
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.first);
  return names;
}

ojson Chunk(const char* content, const char* thinking = "") {
  ojson message = ojson{{"role", "assistant"}, {"content", content}};
  if (*thinking) message["thinking"] = thinking;
  return ojson{{"model", "m"}, {"message", message}, {"done", false}};
}

ojson Final(const char* reason = "stop", int prompt = 7, int eval = 5) {
  return ojson{{"model", "m"},
               {"message", {{"role", "assistant"}, {"content", ""}}},
               {"done_reason", reason},
               {"done", true},
               {"prompt_eval_count", prompt},
               {"eval_count", eval}};
}

// The stream's output for `objects` pushed in order (then End() when `end`).
template <class Stream>
std::string Feed(Stream& stream, const std::vector<ojson>& objects, bool end = false) {
  std::string out;
  for (const ojson& o : objects) out += stream.Push(o);
  if (end) out += stream.End();
  return out;
}

const anthropic::ReplyContext kContext{"msg_1", "stories", {}};

TEST(AnthropicRequestTest, TextConversationBecomesANativeChat) {
  anthropic::MessagesRequest r = Translate(R"({
    "model": "stories", "max_tokens": 20, "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
                 {"role": "user", "content": [{"type": "text", "text": "Tell "},
                                              {"type": "text", "text": "a story"}]}],
    "temperature": 0, "top_p": 0.5, "top_k": 3, "metadata": {"user_id": "u"}})");
  EXPECT_EQ(r.model, "stories");
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.think_requested);
  EXPECT_EQ(r.native, J(R"({
    "model": "stories",
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Hi"},
                 {"role": "assistant", "content": "Hello"},
                 {"role": "user", "content": "Tell a story"}],
    "options": {"num_predict": 20, "temperature": 0.0, "top_p": 0.5, "top_k": 3},
    "stream": false})"));
}

TEST(AnthropicRequestTest, SystemBlocksAreJoinedAndCacheControlIgnored) {
  anthropic::MessagesRequest r = Translate(R"({
    "model": "m", "max_tokens": 1, "stream": true,
    "system": [{"type": "text", "text": "One. "},
               {"type": "text", "text": "Two.", "cache_control": {"type": "ephemeral"}}],
    "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.native["stream"], true);
  EXPECT_EQ(r.native["messages"][0], J(R"({"role": "system", "content": "One. Two."})"));
}

TEST(AnthropicRequestTest, ToolUseAndToolResultRoundTrip) {
  anthropic::MessagesRequest r = Translate(R"({
    "model": "m", "max_tokens": 9,
    "tools": [{"name": "get_weather", "description": "Weather",
               "input_schema": {"type": "object",
                                "properties": {"zeta": {"type": "string"},
                                               "alpha": {"type": "number"}}}}],
    "tool_choice": {"type": "auto"},
    "messages": [
      {"role": "user", "content": "Weather?"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "get_weather",
         "input": {"zeta": "Paris", "alpha": 1}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny", "is_error": false},
        {"type": "text", "text": "And tomorrow?"}]}]})");
  // Tool results come before the user's text; the tool's name is found from the tool_use.
  EXPECT_EQ(r.native["messages"], J(R"([
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": "Checking.", "thinking": "hmm",
     "tool_calls": [{"id": "call_1", "function": {"name": "get_weather",
                                                 "arguments": {"zeta": "Paris", "alpha": 1}}}]},
    {"role": "tool", "content": "sunny", "tool_call_id": "call_1", "tool_name": "get_weather"},
    {"role": "user", "content": "And tomorrow?"}])"));
  // Key order survives: schemas and arguments are rendered into prompts as written.
  EXPECT_EQ(r.native["tools"].dump(),
            R"([{"type":"function","function":{"name":"get_weather","description":"Weather",)"
            R"("parameters":{"type":"object","properties":{"zeta":{"type":"string"},)"
            R"("alpha":{"type":"number"}}}}}])");
  EXPECT_EQ(r.native["messages"][1]["tool_calls"][0]["function"]["arguments"].dump(),
            R"({"zeta":"Paris","alpha":1})");
}

TEST(AnthropicRequestTest, ToolResultBlocksAndImages) {
  anthropic::MessagesRequest r = Translate(R"({
    "model": "m", "max_tokens": 9,
    "messages": [{"role": "user", "content": [
      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
      {"type": "tool_result", "tool_use_id": "t9",
       "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"type": "redacted_thinking", "data": "zzz"}]}]})");
  EXPECT_EQ(r.native["messages"], J(R"([
    {"role": "tool", "content": "ab", "tool_call_id": "t9"},
    {"role": "user", "content": "", "images": ["AAAA"]}])"));
}

TEST(AnthropicRequestTest, ToolChoiceNoneDropsTheTools) {
  anthropic::MessagesRequest r = Translate(R"({
    "model": "m", "max_tokens": 9, "tool_choice": {"type": "none"},
    "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_FALSE(r.native.contains("tools"));
}

TEST(AnthropicRequestTest, ThinkingAndEffort) {
  auto think = [](const char* extra) {
    std::string body =
        std::string(
            R"({"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}])") +
        extra + "}";
    Result<anthropic::MessagesRequest> r = anthropic::TranslateRequest(ojson::parse(body));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return std::make_pair(r->native.contains("think") ? r->native["think"] : ojson(),
                          r->think_requested);
  };
  EXPECT_EQ(think(R"(, "thinking": {"type": "enabled", "budget_tokens": 2048})"),
            std::make_pair(ojson(true), true));
  EXPECT_EQ(think(R"(, "thinking": {"type": "disabled"})"), std::make_pair(ojson(false), false));
  EXPECT_EQ(think(R"(, "thinking": {"type": "adaptive"})"), std::make_pair(ojson(), false));
  EXPECT_EQ(think(R"(, "output_config": {"effort": "low"})"), std::make_pair(ojson("low"), true));
  EXPECT_EQ(think(R"(, "output_config": {"effort": "max"})"), std::make_pair(ojson("high"), true));
  // `thinking` decides over the effort level.
  EXPECT_EQ(think(R"(, "output_config": {"effort": "low"}, "thinking": {"type": "disabled"})"),
            std::make_pair(ojson(false), false));
  EXPECT_EQ(think(""), std::make_pair(ojson(), false));
}

TEST(AnthropicRequestTest, StopSequencesAskForTheSampledTokens) {
  anthropic::MessagesRequest r = Translate(R"({
    "model": "m", "max_tokens": 9, "stop_sequences": ["END", "."],
    "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(r.stop_sequences, (std::vector<std::string>{"END", "."}));
  EXPECT_EQ(r.native["options"]["stop"], J(R"(["END", "."])"));
  EXPECT_EQ(r.native["logprobs"], true);
  EXPECT_EQ(r.native["format"], J(R"({"type": "object"})"));
}

TEST(AnthropicRequestTest, BadRequestsNameTheProblem) {
  const char* ok_messages = R"("messages": [{"role": "user", "content": "x"}])";
  auto with = [&](const std::string& fields) {
    return "{" + fields + (fields.empty() ? "" : ", ") + ok_messages + "}";
  };
  EXPECT_EQ(TranslateError(with(R"("max_tokens": 5)").c_str()), "model is required");
  EXPECT_EQ(TranslateError(with(R"("model": "m")").c_str()),
            "max_tokens is required and must be positive");
  EXPECT_EQ(TranslateError(with(R"("model": "m", "max_tokens": 0)").c_str()),
            "max_tokens is required and must be positive");
  EXPECT_EQ(TranslateError(with(R"("model": "m", "max_tokens": "5")").c_str()),
            "max_tokens: expected an integer, got a string");
  EXPECT_EQ(TranslateError(R"({"model": "m", "max_tokens": 5, "messages": []})"),
            "messages is required");
  EXPECT_EQ(TranslateError(with(R"("model": 3, "max_tokens": 5)").c_str()),
            "model: expected a string, got a number");
  EXPECT_EQ(TranslateError(with(R"("model": "m", "max_tokens": 5, "container": "c")").c_str()),
            "unsupported field 'container'");
  EXPECT_EQ(TranslateError(with(R"("model": "m", "max_tokens": 5, "stream": "yes")").c_str()),
            "stream: expected a boolean, got a string");
  EXPECT_EQ(TranslateError(
                with(R"("model": "m", "max_tokens": 5, "tool_choice": {"type": "any"})").c_str()),
            "tool_choice.type: 'any' is not supported, only 'auto' and 'none' are");
  EXPECT_EQ(
      TranslateError(with(R"("model": "m", "max_tokens": 5,
                                   "tools": [{"type": "web_search_20250305", "name": "w"}])")
                         .c_str()),
      "tools.0.type: tool type 'web_search_20250305' is not supported, only custom tools are");
  EXPECT_EQ(
      TranslateError(with(R"("model": "m", "max_tokens": 5, "thinking": {"type": "on"})").c_str()),
      "thinking.type: must be enabled, disabled or adaptive, got 'on'");
  EXPECT_EQ(TranslateError(R"({"model": "m", "max_tokens": 5,
                               "messages": [{"role": "system", "content": "x"}]})"),
            "messages.0.role: must be \"user\" or \"assistant\", got \"system\"");
  EXPECT_EQ(TranslateError(R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
                               "content": [{"type": "document", "source": {}}]}]})"),
            "messages.0.content.0.type: content block type 'document' is not supported");
  EXPECT_EQ(TranslateError(R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
                               "content": [{"type": "text", "text": "x", "foo": 1}]}]})"),
            "unsupported field 'messages.0.content.0.foo'");
  EXPECT_EQ(TranslateError(R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
                               "content": [{"type": "image",
                                            "source": {"type": "url", "url": "http://x"}}]}]})"),
            "messages.0.content.0.source.type: image source type 'url' is not supported, only "
            "base64 images are");
  EXPECT_EQ(TranslateError(R"({"model": "m", "max_tokens": 5, "messages": [{"role": "assistant",
                               "content": [{"type": "tool_use", "name": "f", "input": {}}]}]})"),
            "messages.0.content.0: tool_use block missing required 'id' field");
  EXPECT_EQ(TranslateError(R"([1])"), "request body: expected an object, got an array");
}

TEST(AnthropicReplyTest, MatchedStopSequenceIsTheFirstToComplete) {
  const std::vector<std::string> stops = {"the end", ""};
  EXPECT_EQ(anthropic::MatchedStopSequence("once upon the end", {"the end", "upon t"}), "upon t");
  EXPECT_EQ(anthropic::MatchedStopSequence("the end.", {"the end", "end."}), "the end");
  EXPECT_EQ(anthropic::MatchedStopSequence("no match", stops), std::nullopt);
  EXPECT_EQ(anthropic::MatchedStopSequence("anything", {}), std::nullopt);
}

TEST(AnthropicReplyTest, WholeReplyHasThinkingTextAndToolUse) {
  ojson native = Final("stop", 11, 4);
  native["message"] = J(R"({"role": "assistant", "content": "Let me see.", "thinking": "hmm",
      "tool_calls": [{"id": "call_a", "function": {"index": 0, "name": "get_weather",
                                                   "arguments": {"city": "Paris"}}}]})");
  EXPECT_EQ(anthropic::MessageFromNative(native, kContext), J(R"({
    "id": "msg_1", "type": "message", "role": "assistant", "model": "stories",
    "content": [{"type": "thinking", "thinking": "hmm", "signature": ""},
                {"type": "text", "text": "Let me see."},
                {"type": "tool_use", "id": "call_a", "name": "get_weather",
                 "input": {"city": "Paris"}}],
    "stop_reason": "tool_use", "stop_sequence": null,
    "usage": {"input_tokens": 11, "output_tokens": 4}})"));
}

TEST(AnthropicReplyTest, StopReasons) {
  ojson native = Final("length");
  native["message"]["content"] = "abc";
  EXPECT_EQ(anthropic::MessageFromNative(native, kContext)["stop_reason"], "max_tokens");
  native["done_reason"] = "stop";
  EXPECT_EQ(anthropic::MessageFromNative(native, kContext)["stop_reason"], "end_turn");
  // The sampled tokens hold the stop string the content lost.
  native["logprobs"] = J(R"([{"token": "abc"}, {"token": " TH"}, {"token": "E END"}])");
  anthropic::ReplyContext with_stops = kContext;
  with_stops.stop_sequences = {"END", "nope"};
  ojson reply = anthropic::MessageFromNative(native, with_stops);
  EXPECT_EQ(reply["stop_reason"], "stop_sequence");
  EXPECT_EQ(reply["stop_sequence"], "END");
  EXPECT_EQ(reply["content"], J(R"([{"type": "text", "text": "abc"}])"));
  // An empty reply has an empty content list.
  EXPECT_EQ(anthropic::MessageFromNative(Final(), kContext)["content"], ojson::array());
}

TEST(AnthropicStreamTest, ThinkingThenTextInOrder) {
  anthropic::EventStream stream(kContext);
  std::string sse = stream.Push(Chunk("", "Let "));
  sse += stream.Push(Chunk("Hel", "me."));  // both in one chunk: thinking first
  sse += stream.Push(Chunk("lo"));
  sse += stream.Push(Final("stop", 12, 3));
  sse += stream.End();
  auto events = Events(sse);
  EXPECT_EQ(Names(events), (std::vector<std::string>{
                               "message_start", "ping", "content_block_start",
                               "content_block_delta", "content_block_delta", "content_block_stop",
                               "content_block_start", "content_block_delta", "content_block_delta",
                               "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(events[0].second["message"], J(R"({"id": "msg_1", "type": "message",
      "role": "assistant", "model": "stories", "content": [], "stop_reason": null,
      "stop_sequence": null, "usage": {"input_tokens": 0, "output_tokens": 0}})"));
  EXPECT_EQ(events[2].second, J(R"({"type": "content_block_start", "index": 0,
      "content_block": {"type": "thinking", "thinking": "", "signature": ""}})"));
  EXPECT_EQ(events[3].second["delta"], J(R"({"type": "thinking_delta", "thinking": "Let "})"));
  EXPECT_EQ(events[4].second["delta"], J(R"({"type": "thinking_delta", "thinking": "me."})"));
  EXPECT_EQ(events[5].second["index"], 0);
  EXPECT_EQ(events[6].second, J(R"({"type": "content_block_start", "index": 1,
      "content_block": {"type": "text", "text": ""}})"));
  EXPECT_EQ(events[7].second["delta"], J(R"({"type": "text_delta", "text": "Hel"})"));
  EXPECT_EQ(events[8].second["delta"], J(R"({"type": "text_delta", "text": "lo"})"));
  EXPECT_EQ(events[8].second["index"], 1);
  EXPECT_EQ(events[9].second["index"], 1);
  EXPECT_EQ(events[10].second, J(R"({"type": "message_delta",
      "delta": {"stop_reason": "end_turn", "stop_sequence": null},
      "usage": {"input_tokens": 12, "output_tokens": 3}})"));
  // Nothing after the end.
  EXPECT_EQ(stream.Push(Chunk("late")), "");
}

TEST(AnthropicStreamTest, ToolCallsCloseTheTextAndGoWhole) {
  anthropic::EventStream stream(kContext);
  ojson call = Chunk("");
  call["message"]["tool_calls"] = J(R"([{"id": "call_x", "function": {"index": 0,
      "name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}])");
  auto events = Events(Feed(stream, {Chunk("Sure."), call, Final()}));
  EXPECT_EQ(Names(events),
            (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                      "content_block_delta", "content_block_stop",
                                      "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(events[4].second["index"], 0);
  EXPECT_EQ(events[5].second, J(R"({"type": "content_block_start", "index": 1,
      "content_block": {"type": "tool_use", "id": "call_x", "name": "get_weather",
                        "input": {}}})"));
  EXPECT_EQ(events[6].second["delta"]["type"], "input_json_delta");
  EXPECT_EQ(events[6].second["delta"]["partial_json"], R"({"city":"Paris","days":2})");
  EXPECT_EQ(events[7].second["index"], 1);
  EXPECT_EQ(events[8].second["delta"]["stop_reason"], "tool_use");
}

TEST(AnthropicStreamTest, StopSequenceFromTheSampledTokens) {
  anthropic::ReplyContext context = kContext;
  context.stop_sequences = {"dog"};
  anthropic::EventStream stream(context);
  ojson a = Chunk("A ");
  a["logprobs"] = J(R"([{"token": "A "}])");
  ojson last = Final();
  last["logprobs"] = J(R"([{"token": "do"}, {"token": "g"}])");
  auto events = Events(Feed(stream, {a, last}));
  EXPECT_EQ(events.at(events.size() - 2).second["delta"],
            J(R"({"stop_reason": "stop_sequence", "stop_sequence": "dog"})"));
}

TEST(AnthropicStreamTest, MidStreamErrorEndsTheStream) {
  anthropic::EventStream stream(kContext);
  auto events =
      Events(Feed(stream, {Chunk("Hi"), J(R"({"error": "runner died"})"), Final()}, true));
  EXPECT_EQ(Names(events), (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                                     "content_block_delta", "error"}));
  EXPECT_EQ(events.back().second, J(R"({"type": "error",
      "error": {"type": "api_error", "message": "runner died"}})"));
}

TEST(AnthropicStreamTest, AStreamThatStopsEarlyEndsWithAnError) {
  anthropic::EventStream stream(kContext);
  auto events = Events(Feed(stream, {Chunk("Hi")}, true));
  EXPECT_EQ(events.back().first, "error");
  EXPECT_EQ(stream.End(), "");
}

TEST(AnthropicErrorTest, TypesFollowTheStatus) {
  EXPECT_EQ(
      anthropic::ErrorBody(400, "bad"),
      J(R"({"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}})"));
  EXPECT_EQ(anthropic::ErrorBody(404, "x")["error"]["type"], "not_found_error");
  EXPECT_EQ(anthropic::ErrorBody(429, "x")["error"]["type"], "rate_limit_error");
  EXPECT_EQ(anthropic::ErrorBody(503, "x")["error"]["type"], "overloaded_error");
  EXPECT_EQ(anthropic::ErrorBody(500, "x")["error"]["type"], "api_error");
}

// The handler over HTTP, without a model: request errors and the native handler's own.
class AnthropicHandlerTest : public test_util::ServerFixture {
 protected:
  httplib::Result Post(const std::string& body) {
    return ServerFixture::Post("/v1/messages", body);
  }
};

TEST_F(AnthropicHandlerTest, MalformedJsonIsAnInvalidRequest) {
  httplib::Result r = Post("{\"model\": ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  ojson body = ojson::parse(r->body);
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["message"], "unexpected EOF");
}

TEST_F(AnthropicHandlerTest, ValidationErrorsAreAnthropicShaped) {
  httplib::Result r = Post(R"({"model": "m", "messages": [{"role": "user", "content": "x"}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ojson::parse(r->body), J(R"({"type": "error", "error": {"type": "invalid_request_error",
                  "message": "max_tokens is required and must be positive"}})"));
}

TEST_F(AnthropicHandlerTest, NativeErrorsKeepTheirStatus) {
  for (bool stream : {false, true}) {
    httplib::Result r =
        Post(std::string(R"({"model": "nosuch", "max_tokens": 5, "stream": )") +
             (stream ? "true" : "false") + R"(, "messages": [{"role": "user", "content": "x"}]})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->get_header_value("Content-Type"), kJsonContentType);
    EXPECT_EQ(ojson::parse(r->body), J(R"({"type": "error", "error": {"type": "not_found_error",
                    "message": "model 'nosuch' not found"}})"));
  }
}

}  // namespace
}  // namespace corral::server
