#include "server/responses_compat.h"
#include "server/server_test_util.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <zstd.h>

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

using responses::ojson;

ojson J(const char* text) { return ojson::parse(text); }

responses::ResponsesRequest Translate(const std::string& body) {
  Result<responses::ResponsesRequest> r = responses::TranslateRequest(ojson::parse(body));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : responses::ResponsesRequest{};
}

std::string TranslateError(const std::string& body) {
  Result<responses::ResponsesRequest> r = responses::TranslateRequest(ojson::parse(body));
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// The SSE text as (event name, data) pairs; names match "type" and sequence numbers count up
// from 0 without gaps.
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
    EXPECT_EQ(data["sequence_number"], out.size()) << name;
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

ojson Final(int prompt = 7, int eval = 5) {
  return ojson{{"model", "m"},
               {"message", {{"role", "assistant"}, {"content", ""}}},
               {"done_reason", "stop"},
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

responses::ReplyContext Context(const ojson& echo = ojson::object()) {
  return responses::ReplyContext{"resp_abc", "stories", 1700000000, echo};
}

TEST(ResponsesRequestTest, StringInputAndInstructions) {
  responses::ResponsesRequest r = Translate(R"({"model": "stories", "input": "Tell a story",
      "instructions": "Be brief.", "max_output_tokens": 30, "top_p": 0.9,
      "metadata": {"k": "v"}, "store": false, "user": "u"})");
  EXPECT_EQ(r.model, "stories");
  EXPECT_FALSE(r.stream);
  // Without a temperature Ollama sends OpenAI's default, 1.0.
  EXPECT_EQ(r.native, J(R"({"model": "stories",
      "messages": [{"role": "system", "content": "Be brief."},
                   {"role": "user", "content": "Tell a story"}],
      "options": {"temperature": 1.0, "top_p": 0.9, "num_predict": 30}, "stream": false})"));
  EXPECT_EQ(r.echo["instructions"], "Be brief.");
  EXPECT_EQ(r.echo["max_output_tokens"], 30);
  EXPECT_EQ(r.echo["metadata"], J(R"({"k": "v"})"));
  EXPECT_EQ(r.echo["text"], J(R"({"format": {"type": "text"}})"));
}

TEST(ResponsesRequestTest, ItemListWithFunctionCallsAndReasoning) {
  responses::ResponsesRequest r = Translate(R"({"model": "m", "stream": true, "temperature": 0,
    "input": [
      {"role": "developer", "content": "Use tools."},
      {"type": "message", "role": "user",
       "content": [{"type": "input_text", "text": "Weather "},
                   {"type": "input_text", "text": "in Paris?"},
                   {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]},
      {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "s"}],
       "encrypted_content": "think"},
      {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
       "content": [{"type": "output_text", "text": "Checking.", "annotations": []}]},
      {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
       "arguments": "{\"zeta\":\"Paris\",\"alpha\":1}", "status": "completed"},
      {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}],
    "tools": [{"type": "function", "name": "get_weather", "description": "Weather",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
               "strict": true}]})");
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.native["messages"], J(R"([
    {"role": "system", "content": "Use tools."},
    {"role": "user", "content": "Weather in Paris?", "images": ["AAAA"]},
    {"role": "assistant", "content": "Checking.", "thinking": "think",
     "tool_calls": [{"id": "call_1", "function": {"name": "get_weather",
                                                 "arguments": {"zeta": "Paris", "alpha": 1}}}]},
    {"role": "tool", "content": "sunny", "tool_call_id": "call_1", "tool_name": "get_weather"}])"));
  EXPECT_EQ(r.native["messages"][2]["tool_calls"][0]["function"]["arguments"].dump(),
            R"({"zeta":"Paris","alpha":1})");
  EXPECT_EQ(r.native["tools"], J(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])"));
  EXPECT_EQ(r.native["options"]["temperature"], 0.0);
  EXPECT_EQ(r.echo["tools"][0]["strict"], true);
}

TEST(ResponsesRequestTest, AFunctionCallWithoutAnAssistantMessageStartsOne) {
  responses::ResponsesRequest r = Translate(R"({"model": "m", "input": [
      {"role": "user", "content": "x"},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": ""},
      {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c2",
       "output": [{"type": "input_text", "text": "ok"}]}]})");
  EXPECT_EQ(r.native["messages"], J(R"([
    {"role": "user", "content": "x"},
    {"role": "assistant", "content": "",
     "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {}}},
                    {"id": "c2", "function": {"name": "g", "arguments": {}}}]},
    {"role": "tool", "content": "ok", "tool_call_id": "c2", "tool_name": "g"}])"));
}

TEST(ResponsesRequestTest, FormatsAndReasoning) {
  responses::ResponsesRequest r = Translate(R"({"model": "m", "input": "x",
      "text": {"format": {"type": "json_schema", "name": "pet", "strict": true,
                          "schema": {"type": "object", "properties": {"b": {}, "a": {}}}}},
      "reasoning": {"effort": "minimal", "summary": "auto"}})");
  EXPECT_EQ(r.native["format"].dump(), R"({"type":"object","properties":{"b":{},"a":{}}})");
  EXPECT_EQ(r.native["think"], "low");
  EXPECT_EQ(r.echo["reasoning"], J(R"({"effort": "minimal", "summary": "auto"})"));
  EXPECT_EQ(r.echo["text"]["format"]["name"], "pet");
  EXPECT_EQ(
      Translate(R"({"model": "m", "input": "x", "text": {"format": {"type": "json_object"}}})")
          .native["format"],
      "json");
  EXPECT_EQ(
      Translate(R"({"model": "m", "input": "x", "reasoning": {"effort": "none"}})").native["think"],
      false);
  EXPECT_FALSE(Translate(R"({"model": "m", "input": "x", "tool_choice": "none",
                    "tools": [{"type": "function", "name": "f"}]})")
                   .native.contains("tools"));
}

TEST(ResponsesRequestTest, BadRequestsNameTheProblem) {
  EXPECT_EQ(TranslateError(R"({"input": "x"})"), "model is required");
  EXPECT_EQ(TranslateError(R"({"model": "m"})"), "input is required");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": []})"), "input must not be empty");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": 5})"),
            "input: expected a string or an array of input items, got a number");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "previous_response_id": "resp_1"})"),
            "previous_response_id is not supported: responses are not stored here, send the "
            "whole conversation as input");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "prompt": {"id": "p"}})"),
            "unsupported field 'prompt'");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "truncation": "auto"})"),
            "truncation 'auto' is not supported, only 'disabled' is");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "tool_choice": "required"})"),
            "tool_choice: only 'auto' and 'none' are supported");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "tools": [{"type": "web_search"}]})"),
            "tools.0.type: tool type 'web_search' is not supported, only function tools are");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "reasoning": {"effort": "huge"}})"),
            "invalid reasoning value: 'huge' (must be none, minimal, low, medium, high, xhigh or "
            "max)");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": [{"type": "item_reference", "id": "x"}]})"),
            "input.0.type: input item type 'item_reference' is not supported");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": [{"content": "x"}]})"),
            "input.0: input item missing required 'type' field");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": [{"role": "user", "content": [
                              {"type": "input_file", "file_data": "x"}]}]})"),
            "input.0.content.0: file inputs are not currently supported");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": [{"role": "user", "content": [
                              {"type": "input_image", "image_url": "https://x/y.png"}]}]})"),
            "image URLs are not currently supported, please use base64 encoded data instead");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": [{"type": "function_call",
                              "call_id": "c", "name": "f", "arguments": "{oops"}]})"),
            "input.0.arguments: failed to parse function call arguments as a JSON object");
  EXPECT_EQ(TranslateError(R"({"model": "m", "input": "x", "max_output_tokens": 0})"),
            "max_output_tokens must be positive");
}

TEST(ResponsesReplyTest, WholeTextReply) {
  responses::ResponsesRequest req =
      Translate(R"({"model": "stories", "input": "x", "instructions": "Be brief.",
                    "tools": [{"type": "function", "name": "f"}]})");
  ojson native = Final(9, 4);
  native["message"]["content"] = "Once upon a time";
  ojson r = responses::ResponseFromNative(native, Context(req.echo));
  EXPECT_EQ(r["id"], "resp_abc");
  EXPECT_EQ(r["object"], "response");
  EXPECT_EQ(r["created_at"], 1700000000);
  EXPECT_TRUE(r["completed_at"].is_number());
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["model"], "stories");
  EXPECT_EQ(r["instructions"], "Be brief.");
  EXPECT_EQ(r["error"], nullptr);
  EXPECT_EQ(r["output"], J(R"([{"id": "msg_abc_0", "type": "message", "status": "completed",
      "role": "assistant", "content": [{"type": "output_text", "annotations": [],
                                         "logprobs": [], "text": "Once upon a time"}]}])"));
  EXPECT_EQ(r["usage"], J(R"({"input_tokens": 9, "input_tokens_details": {"cached_tokens": 0},
      "output_tokens": 4, "output_tokens_details": {"reasoning_tokens": 0},
      "total_tokens": 13})"));
  EXPECT_EQ(r["tools"], J(R"([{"type": "function", "name": "f", "description": null,
                               "parameters": null, "strict": null}])"));
  EXPECT_EQ(r["temperature"], 1.0);
  EXPECT_EQ(r["store"], false);
}

TEST(ResponsesReplyTest, WholeReplyWithReasoningAndFunctionCalls) {
  ojson native = Final();
  native["message"] = J(R"({"role": "assistant", "content": "", "thinking": "hmm",
      "tool_calls": [{"id": "call_a", "function": {"index": 0, "name": "get_weather",
                                                   "arguments": {"city": "Paris"}}},
                     {"id": "call_b", "function": {"index": 1, "name": "f",
                                                   "arguments": {}}}]})");
  ojson r = responses::ResponseFromNative(native, Context());
  EXPECT_EQ(r["output"], J(R"([
    {"id": "rs_abc_0", "type": "reasoning",
     "summary": [{"type": "summary_text", "text": "hmm"}], "encrypted_content": "hmm"},
    {"id": "fc_abc_1", "type": "function_call", "status": "completed",
     "arguments": "{\"city\":\"Paris\"}", "call_id": "call_a", "name": "get_weather"},
    {"id": "fc_abc_2", "type": "function_call", "status": "completed", "arguments": "{}",
     "call_id": "call_b", "name": "f"}])"));
}

TEST(ResponsesReplyTest, AnEmptyReplyIsOneEmptyMessage) {
  ojson r = responses::ResponseFromNative(Final(), Context());
  ASSERT_EQ(r["output"].size(), 1u);
  EXPECT_EQ(r["output"][0]["type"], "message");
  EXPECT_EQ(r["output"][0]["content"][0]["text"], "");
}

TEST(ResponsesStreamTest, TextEventsInOrder) {
  responses::EventStream stream(Context());
  std::string sse = stream.Push(Chunk("Once"));
  sse += stream.Push(Chunk(" upon"));
  sse += stream.Push(Final(3, 2));
  sse += stream.End();
  auto events = Events(sse);
  EXPECT_EQ(Names(events),
            (std::vector<std::string>{"response.created", "response.in_progress",
                                      "response.output_item.added", "response.content_part.added",
                                      "response.output_text.delta", "response.output_text.delta",
                                      "response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
  EXPECT_EQ(events[0].second["response"]["status"], "in_progress");
  EXPECT_EQ(events[0].second["response"]["output"], ojson::array());
  EXPECT_EQ(events[2].second["item"], J(R"({"id": "msg_abc_0", "type": "message",
      "status": "in_progress", "role": "assistant", "content": []})"));
  EXPECT_EQ(events[4].second["delta"], "Once");
  EXPECT_EQ(events[4].second["item_id"], "msg_abc_0");
  EXPECT_EQ(events[4].second["output_index"], 0);
  EXPECT_EQ(events[6].second["text"], "Once upon");
  EXPECT_EQ(events[8].second["item"]["status"], "completed");
  const ojson& done = events[9].second["response"];
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["usage"]["total_tokens"], 5);
  EXPECT_EQ(done["output"][0]["content"][0]["text"], "Once upon");
  EXPECT_EQ(done, stream.final_response());
  // The whole reply for the same text is the same Response.
  ojson whole = Final(3, 2);
  whole["message"]["content"] = "Once upon";
  ojson expected = responses::ResponseFromNative(whole, Context());
  expected["completed_at"] = done["completed_at"];
  EXPECT_EQ(done, expected);
}

TEST(ResponsesStreamTest, ReasoningTextThenAFunctionCall) {
  responses::EventStream stream(Context());
  ojson call = Chunk("");
  call["message"]["tool_calls"] = J(R"([{"id": "call_x", "function": {"index": 0,
      "name": "get_weather", "arguments": {"city": "Paris"}}}])");
  auto events = Events(Feed(stream, {Chunk("", "Hmm"), Chunk("Sure."), call, Final()}));
  EXPECT_EQ(
      Names(events),
      (std::vector<std::string>{
          "response.created", "response.in_progress", "response.output_item.added",
          "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
          "response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
          "response.output_item.done", "response.output_item.added", "response.content_part.added",
          "response.output_text.delta", "response.output_text.done", "response.content_part.done",
          "response.output_item.done", "response.output_item.added",
          "response.function_call_arguments.delta", "response.function_call_arguments.done",
          "response.output_item.done", "response.completed"}));
  EXPECT_EQ(events[2].second["item"]["type"], "reasoning");
  EXPECT_EQ(events[4].second["delta"], "Hmm");
  EXPECT_EQ(events[8].second["output_index"], 1);
  EXPECT_EQ(events[14].second["output_index"], 2);
  EXPECT_EQ(events[14].second["item"], J(R"({"id": "fc_abc_2", "type": "function_call",
      "status": "in_progress", "arguments": "", "call_id": "call_x", "name": "get_weather"})"));
  EXPECT_EQ(events[15].second["delta"], R"({"city":"Paris"})");
  EXPECT_EQ(events[16].second["arguments"], R"({"city":"Paris"})");
  const ojson& output = events.back().second["response"]["output"];
  ASSERT_EQ(output.size(), 3u);
  EXPECT_EQ(output[0]["summary"][0]["text"], "Hmm");
  EXPECT_EQ(output[1]["content"][0]["text"], "Sure.");
  EXPECT_EQ(output[2]["status"], "completed");
}

TEST(ResponsesStreamTest, MidStreamErrorIsResponseFailed) {
  responses::EventStream stream(Context());
  auto events =
      Events(Feed(stream, {Chunk("Hi"), J(R"({"error": "runner died"})"), Final()}, true));
  EXPECT_EQ(events.back().first, "response.failed");
  const ojson& r = events.back().second["response"];
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["error"], J(R"({"code": "server_error", "message": "runner died"})"));
  EXPECT_EQ(r["completed_at"], nullptr);
}

TEST(ResponsesStreamTest, AStreamThatStopsEarlyFails) {
  responses::EventStream stream(Context());
  auto events = Events(stream.End());
  EXPECT_EQ(Names(events), (std::vector<std::string>{"response.created", "response.in_progress",
                                                     "response.failed"}));
}

TEST(ResponsesErrorTest, OpenAiErrorObject) {
  EXPECT_EQ(responses::ErrorBody(400, "bad"),
            J(R"({"error": {"message": "bad", "type": "invalid_request_error", "param": null,
                            "code": null}})"));
  EXPECT_EQ(responses::ErrorBody(404, "x")["error"]["type"], "not_found_error");
  EXPECT_EQ(responses::ErrorBody(500, "x")["error"]["type"], "api_error");
}

// The handler over HTTP, without a model: request errors and the native handler's own.
class ResponsesHandlerTest : public test_util::ServerFixture {
 protected:
  httplib::Result Post(const std::string& body, httplib::Headers headers = {}) {
    return client_->Post("/v1/responses", headers, body, "application/json");
  }
};

TEST_F(ResponsesHandlerTest, RequestErrorsAreOpenAiShaped) {
  httplib::Result r = Post("[1]");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ojson::parse(r->body)["error"]["type"], "invalid_request_error");
  r = Post(R"({"model": "m", "input": "x", "conversation": "c"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ojson::parse(r->body)["error"]["message"],
            "conversation is not supported: responses are not stored here, send the whole "
            "conversation as input");
  r = Post(R"({"model": "m", "input": "x"})", {{"Content-Encoding", "compress"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(ojson::parse(r->body)["error"]["message"],
            "Content-Encoding 'compress' is not supported; send the body uncompressed or as zstd, "
            "gzip, deflate or br");
}

std::string Zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Ollama takes zstd bodies (Codex sends them): decoded, they go through like plain ones; a
// corrupt or cut body is a 400, one that expands past 20 MB a 413.
TEST_F(ResponsesHandlerTest, ZstdBodiesAreDecoded) {
  const std::string request = R"({"model": "nosuch", "input": "x"})";
  httplib::Result r = Post(Zstd(request), {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;  // decoded and translated: the model is unknown
  EXPECT_EQ(ojson::parse(r->body)["error"]["message"], "model 'nosuch' not found");

  // Two frames back to back are one body.
  r = Post(Zstd(request.substr(0, 10)) + Zstd(request.substr(10)), {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;

  const std::string whole = Zstd(request);
  r = Post(whole.substr(0, whole.size() - 3), {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ojson::parse(r->body)["error"]["message"], "invalid zstd body: truncated");

  r = Post("not zstd at all", {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(
      ojson::parse(r->body)["error"]["message"].get<std::string>().rfind("invalid zstd body: ", 0),
      0u)
      << r->body;

  const std::string bomb = Zstd(std::string((size_t{20} << 20) + 1, ' '));
  ASSERT_LT(bomb.size(), size_t{64} << 10);
  r = Post(bomb, {{"Content-Encoding", "zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(ojson::parse(r->body)["error"]["message"], "request body too large");
}

TEST_F(ResponsesHandlerTest, NativeErrorsKeepTheirStatus) {
  for (const char* stream : {"false", "true"}) {
    httplib::Result r =
        Post(std::string(R"({"model": "nosuch", "input": "x", "stream": )") + stream + "}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(ojson::parse(r->body), J(R"({"error": {"message": "model 'nosuch' not found",
        "type": "not_found_error", "param": null, "code": null}})"));
  }
}

}  // namespace
}  // namespace corral::server
