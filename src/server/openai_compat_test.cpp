// The OpenAI compatibility layer: request translation (every field, the defaults, the 400s with
// their messages), reply and chunk translation, and the handlers' wiring over a store without
// runnable models (errors, /v1/models).
#include "server/openai_compat.h"

#include <gtest/gtest.h>
#include <utime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "server/server_test_util.h"

namespace corral::server {
namespace {

using openai::ojson;

ojson J(std::string_view text) { return ojson::parse(text); }

// The translated request's body, the test failing when translation fails.
ojson Chat(std::string_view request) {
  Result<openai::NativeCall> r = openai::TranslateChatRequest(J(request));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->body : ojson();
}

std::string ChatError(std::string_view request) {
  Result<openai::NativeCall> r = openai::TranslateChatRequest(J(request));
  EXPECT_FALSE(r.ok()) << request;
  return r.ok() ? "" : r.status().message();
}

std::string CompletionError(std::string_view request) {
  Result<openai::NativeCall> r = openai::TranslateCompletionRequest(J(request));
  EXPECT_FALSE(r.ok()) << request;
  return r.ok() ? "" : r.status().message();
}

std::string EmbeddingError(std::string_view request) {
  Result<openai::EmbedCall> r = openai::TranslateEmbeddingRequest(J(request));
  EXPECT_FALSE(r.ok()) << request;
  return r.ok() ? "" : r.status().message();
}

// The JSON objects of an SSE text ("data: <json>\n\n" each); "[DONE]" becomes the string.
std::vector<ojson> Events(const std::string& sse) {
  std::vector<ojson> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    EXPECT_EQ(sse.compare(pos, 6, "data: "), 0) << sse.substr(pos);
    const size_t end = sse.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated event: " << sse.substr(pos);
      break;
    }
    const std::string data = sse.substr(pos + 6, end - pos - 6);
    out.push_back(data == "[DONE]" ? ojson("[DONE]") : ojson::parse(data));
    pos = end + 2;
  }
  return out;
}

// Pushes the native objects in order (an expression `a.Push(x) + a.Push(y)` leaves the order
// of the calls unspecified) and ends the stream when `end`.
template <typename Stream>
std::string Feed(Stream& s, std::initializer_list<std::string_view> natives, bool end) {
  std::string out;
  for (std::string_view n : natives) out += s.Push(J(n));
  if (end) out += s.End();
  return out;
}

// ---- errors ----

TEST(OpenAIErrorTest, ShapeAndTypeByStatus) {
  EXPECT_EQ(
      openai::ErrorBody(400, "bad").dump(),
      R"({"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}})");
  EXPECT_EQ(openai::ErrorBody(404, "x")["error"]["type"], "not_found_error");
  EXPECT_EQ(openai::ErrorBody(500, "x")["error"]["type"], "api_error");
  EXPECT_EQ(openai::ErrorBody(413, "x")["error"]["type"], "api_error");
  EXPECT_EQ(openai::NativeErrorMessage(J(R"({"error":"model 'm' not found"})")),
            "model 'm' not found");
  EXPECT_EQ(openai::NativeErrorMessage(J(R"({"other":1})")), R"({"other":1})");
}

// ---- /v1/chat/completions requests ----

TEST(OpenAIChatRequestTest, DefaultsAreOpenAIs) {
  Result<openai::NativeCall> r = openai::TranslateChatRequest(
      J(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->stream);
  EXPECT_FALSE(r->include_usage);
  EXPECT_EQ(r->body, J(R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                           "options":{"temperature":1.0,"top_p":1.0},"stream":false})"));
}

TEST(OpenAIChatRequestTest, EveryTranslatedField) {
  Result<openai::NativeCall> r = openai::TranslateChatRequest(J(R"({
    "model": "m", "messages": [{"role": "user", "content": "hi"}],
    "stream": true, "stream_options": {"include_usage": true},
    "max_tokens": 7, "seed": 42, "stop": ["a", "b"], "temperature": 0.25, "top_p": 0.5,
    "frequency_penalty": 0.1, "presence_penalty": 0.2,
    "response_format": {"type": "json_schema",
                        "json_schema": {"name": "x", "schema": {"type": "object", "b": 1, "a": 2}}},
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    "reasoning_effort": "medium", "logprobs": true, "top_logprobs": 3,
    "_debug_render_only": true, "n": 1,
    "tool_choice": "auto", "logit_bias": {"1": 2}, "user": "u", "parallel_tool_calls": false
  })"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  // Key order of the schema is kept (it decides the order of the generated keys).
  EXPECT_EQ(r->body.dump(),
            R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
            R"("format":{"type":"object","b":1,"a":2},)"
            R"("options":{"stop":["a","b"],"num_predict":7,"temperature":0.25,"seed":42,)"
            R"("frequency_penalty":0.1,"presence_penalty":0.2,"top_p":0.5},"stream":true,)"
            R"("tools":[{"type":"function","function":{"name":"f","parameters":{}}}],)"
            R"("think":"medium","logprobs":true,"top_logprobs":3,"_debug_render_only":true})");
}

TEST(OpenAIChatRequestTest, StopFormatsAndMaxCompletionTokens) {
  ojson b = Chat(R"({"messages":[{"role":"user","content":"x"}],"stop":"end",
                     "max_tokens":5,"max_completion_tokens":9,
                     "response_format":{"type":" JSON_Object "}})");
  EXPECT_EQ(b["options"]["stop"], J(R"(["end"])"));
  EXPECT_EQ(b["options"]["num_predict"], 9);
  EXPECT_EQ(b["format"], "json");
  b = Chat(R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}})");
  EXPECT_FALSE(b.contains("format"));
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"stop":["a",1]})"),
            "invalid type for 'stop' field: float64");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"stop":true})"),
            "invalid type for 'stop' field: bool");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],
                          "response_format":{"type":"yaml"}})"),
            "Invalid value for 'response_format.type' = yaml. Supported values: ['text', "
            "'json_object', 'json_schema'].");
}

TEST(OpenAIChatRequestTest, ReasoningEffortLevels) {
  const std::pair<const char*, ojson> cases[] = {
      {"none", false},  {"minimal", "low"}, {"low", "low"},   {"medium", "medium"},
      {"high", "high"}, {"max", "max"},     {"xhigh", "max"}, {"ultra", "max"},
  };
  for (const auto& [effort, think] : cases) {
    ojson b =
        Chat(std::string(R"({"messages":[{"role":"user","content":"x"}],"reasoning_effort":")") +
             effort + "\"}");
    EXPECT_EQ(b["think"], think) << effort;
  }
  // reasoning.effort wins over reasoning_effort.
  ojson b = Chat(R"({"messages":[{"role":"user","content":"x"}],"reasoning":{"effort":"none"},
                     "reasoning_effort":"high"})");
  EXPECT_EQ(b["think"], false);
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"reasoning_effort":"lots"})"),
            "invalid reasoning value: 'lots' (must be \"none\", \"minimal\", \"low\", \"medium\", "
            "\"high\", \"xhigh\", \"max\", or \"ultra\")");
}

TEST(OpenAIChatRequestTest, MessagesOfEveryKind) {
  ojson b = Chat(R"({"messages":[
    {"role":"system","content":"be brief"},
    {"role":"user","content":[{"type":"text","text":"look"},
                              {"type":"image_url","image_url":{"url":"data:image/png;base64,aGk="}},
                              {"type":"image_url","image_url":"data:;base64,aGk="}]},
    {"role":"assistant","content":null,"reasoning":"hmm",
     "tool_calls":[{"id":"call_1","type":"function",
                    "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"sunny"},
    {"role":"tool","name":"explicit","content":"x"},
    {"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAEC","format":"wav"}}]}
  ]})");
  EXPECT_EQ(b["messages"], J(R"([
    {"role":"system","content":"be brief"},
    {"role":"user","content":"look"},
    {"role":"user","images":["aGk="]},
    {"role":"user","images":["aGk="]},
    {"role":"assistant","thinking":"hmm",
     "tool_calls":[{"id":"call_1","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
    {"role":"tool","content":"sunny","tool_name":"get_weather","tool_call_id":"call_1"},
    {"role":"tool","content":"x","tool_name":"explicit"},
    {"role":"user","images":["AAEC"]}
  ])"));
}

TEST(OpenAIChatRequestTest, ToolCallsAttachToTheLastPartAndKeepArgumentOrder) {
  ojson b = Chat(R"({"messages":[{"role":"assistant","content":[{"type":"text","text":"a"},
      {"type":"text","text":"b"}],
      "tool_calls":[{"id":"c","function":{"name":"f","arguments":"{\"z\":1,\"a\":2}"}}]}]})");
  ASSERT_EQ(b["messages"].size(), 2u);
  EXPECT_FALSE(b["messages"][0].contains("tool_calls"));
  EXPECT_EQ(b["messages"][1]["tool_calls"][0]["function"]["arguments"].dump(), R"({"z":1,"a":2})");
}

TEST(OpenAIChatRequestTest, MessageErrorsUseOllamasMessages) {
  EXPECT_EQ(ChatError(R"({"model":"m","messages":[]})"), "[] is too short - 'messages'");
  EXPECT_EQ(ChatError(R"({"model":"m"})"), "[] is too short - 'messages'");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"image_url",
               "image_url":{"url":"https://example.com/cat.png"}}]}]})"),
            "image URLs are not currently supported, please use base64 encoded data instead");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"image_url",
               "image_url":{"url":"data:image/gif;base64,aGk="}}]}]})"),
            "invalid image input");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"image_url",
               "image_url":{"url":"data:image/png;base64,a!k="}}]}]})"),
            "invalid image input");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"video"}]}]})"),
            "invalid message format");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"text","text":3}]}]})"),
            "invalid message format");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"input_audio",
               "input_audio":{"format":"wav"}}]}]})"),
            "invalid input_audio format: missing data");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user"}]})"), "invalid message content type: <nil>");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":5}]})"),
            "invalid message content type: float64");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"assistant","content":null,"tool_calls":[
               {"function":{"name":"f","arguments":"{oops"}}]}]})"),
            "invalid tool call arguments");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"assistant","content":"","tool_calls":[
               {"function":{"name":"f","arguments":"[1]"}}]}]})"),
            "invalid tool call arguments");
  EXPECT_EQ(ChatError(R"({"messages":{"role":"user"}})"),
            "json: cannot unmarshal object into Go struct field ChatCompletionRequest.messages of "
            "type []openai.Message");
}

TEST(OpenAIChatRequestTest, TypeErrorsNameTheGoField) {
  EXPECT_EQ(ChatError(R"({"model":1,"messages":[{"role":"user","content":"x"}]})"),
            "json: cannot unmarshal number 1 into Go struct field ChatCompletionRequest.model of "
            "type string");
  EXPECT_EQ(ChatError(R"({"max_tokens":"5","messages":[{"role":"user","content":"x"}]})"),
            "json: cannot unmarshal string into Go struct field ChatCompletionRequest.max_tokens "
            "of type int");
  EXPECT_EQ(ChatError(R"({"max_tokens":2.5,"messages":[{"role":"user","content":"x"}]})"),
            "json: cannot unmarshal number 2.5 into Go struct field "
            "ChatCompletionRequest.max_tokens of type int");
  EXPECT_EQ(ChatError(R"({"temperature":"hot","messages":[{"role":"user","content":"x"}]})"),
            "json: cannot unmarshal string into Go struct field ChatCompletionRequest.temperature "
            "of type float64");
  EXPECT_EQ(ChatError(R"({"stream":"yes","messages":[{"role":"user","content":"x"}]})"),
            "json: cannot unmarshal string into Go struct field ChatCompletionRequest.stream of "
            "type bool");
  EXPECT_EQ(ChatError(R"({"stream_options":{"include_usage":1},
                          "messages":[{"role":"user","content":"x"}]})"),
            "json: cannot unmarshal number 1 into Go struct field "
            "ChatCompletionRequest.stream_options.include_usage of type bool");
}

TEST(OpenAIChatRequestTest, UnsupportedFieldsAreRefusedByName) {
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"audio":{"voice":"a"}})"),
            "Unsupported parameter: 'audio' is not supported by this server.");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"options":{}})"),
            "Unsupported parameter: 'options' is not supported by this server.");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"n":2})"),
            "Invalid value for 'n' = 2. Only 1 is supported by this server.");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"x"}],"modalities":["audio"]})"),
            "Invalid value for 'modalities' = [\"audio\"]. Only [\"text\"] is supported by this "
            "server.");
  // null is absent; every documented ignored field passes.
  std::string request = R"({"messages":[{"role":"user","content":"x"}],"audio":null,"n":1,
                            "modalities":["text"])";
  for (std::string_view f : openai::kChatIgnoredFields) {
    request += ",\"" + std::string(f) + "\":\"v\"";
  }
  EXPECT_TRUE(openai::TranslateChatRequest(J(request + "}")).ok());
}

// ---- /v1/completions requests ----

TEST(OpenAICompletionRequestTest, DefaultsAndFields) {
  Result<openai::NativeCall> r = openai::TranslateCompletionRequest(J(R"({"model":"m",
      "prompt":"Once","top_p":0})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->body, J(R"({"model":"m","prompt":"Once","options":{"temperature":1.0,
      "frequency_penalty":0.0,"presence_penalty":0.0,"top_p":1.0},"stream":false})"));
  r = openai::TranslateCompletionRequest(J(R"({"model":"m","prompt":"p","suffix":"s",
      "max_tokens":3,"temperature":0,"top_p":0.9,"seed":1,"stop":"x","frequency_penalty":0.5,
      "presence_penalty":0.25,"stream":true,"stream_options":{"include_usage":true},
      "logprobs":2,"_debug_render_only":true,"n":1,"best_of":1,"echo":false,"user":"u"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->body, J(R"({"model":"m","prompt":"p","suffix":"s","options":{"stop":["x"],
      "num_predict":3,"temperature":0,"seed":1,"frequency_penalty":0.5,"presence_penalty":0.25,
      "top_p":0.9},"stream":true,"logprobs":true,"top_logprobs":2,"_debug_render_only":true})"));
  // logprobs 0 asks for none.
  r = openai::TranslateCompletionRequest(J(R"({"prompt":"p","logprobs":0})"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->body.contains("logprobs"));
}

TEST(OpenAICompletionRequestTest, Errors) {
  EXPECT_EQ(CompletionError(R"({"prompt":"p","stop":["a",{}]})"),
            "invalid type for 'stop' field: map[string]interface {}");
  EXPECT_EQ(CompletionError(R"({"prompt":["a","b"]})"),
            "json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type "
            "string");
  EXPECT_EQ(CompletionError(R"({"prompt":"p","echo":true})"),
            "Invalid value for 'echo' = true. Only false is supported by this server.");
  EXPECT_EQ(CompletionError(R"({"prompt":"p","best_of":3})"),
            "Invalid value for 'best_of' = 3. Only 1 is supported by this server.");
  EXPECT_EQ(CompletionError(R"({"prompt":"p","n":2})"),
            "Invalid value for 'n' = 2. Only 1 is supported by this server.");
  EXPECT_EQ(CompletionError(R"({"prompt":"p","suffixes":"s"})"),
            "Unsupported parameter: 'suffixes' is not supported by this server.");
  EXPECT_EQ(CompletionError(R"({"prompt":"p","temperature":"x"})"),
            "json: cannot unmarshal string into Go struct field CompletionRequest.temperature of "
            "type float32");
}

// ---- /v1/embeddings requests ----

TEST(OpenAIEmbeddingRequestTest, InputsFormatsAndDimensions) {
  Result<openai::EmbedCall> r =
      openai::TranslateEmbeddingRequest(J(R"({"model":"e","input":"","dimensions":4})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->body, J(R"({"model":"e","input":[""],"dimensions":4})"));
  EXPECT_EQ(r->model, "e");
  EXPECT_FALSE(r->base64);
  r = openai::TranslateEmbeddingRequest(
      J(R"({"model":"e","input":["a","b"],"encoding_format":"BASE64","user":"u"})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->base64);
  EXPECT_EQ(r->body, J(R"({"model":"e","input":["a","b"]})"));
  EXPECT_EQ(EmbeddingError(R"({"model":"e","input":"x","encoding_format":"int8"})"),
            "Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64'].");
  EXPECT_EQ(EmbeddingError(R"({"model":"e"})"), "invalid input");
  EXPECT_EQ(EmbeddingError(R"({"model":"e","input":null})"), "invalid input");
  EXPECT_EQ(EmbeddingError(R"({"model":"e","input":[]})"), "invalid input");
  EXPECT_EQ(EmbeddingError(R"({"model":"e","input":"x","dimensions":"4"})"),
            "json: cannot unmarshal string into Go struct field EmbedRequest.dimensions of type "
            "int");
}

// ---- whole replies ----

TEST(OpenAIReplyTest, ChatCompletion) {
  ojson c = openai::ChatCompletionFromNative("chatcmpl-7", J(R"({"model":"m",
      "created_at":"2024-09-12T03:54:03.516566Z","message":{"role":"assistant","content":"Hi",
      "thinking":"hm"},"done_reason":"length","done":true,"prompt_eval_count":5,"eval_count":3,
      "logprobs":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]})"));
  EXPECT_EQ(c, J(R"({"id":"chatcmpl-7","object":"chat.completion","created":1726113243,
      "model":"m","system_fingerprint":"fp_ollama","choices":[{"index":0,
      "message":{"role":"assistant","content":"Hi","reasoning":"hm"},"finish_reason":"length",
      "logprobs":{"content":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]}]}}],
      "usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})"));
}

TEST(OpenAIReplyTest, ChatToolCallsAndDebugInfo) {
  ojson c = openai::ChatCompletionFromNative("chatcmpl-1", J(R"({"model":"m",
      "created_at":"2024-09-12T03:54:03Z","message":{"role":"assistant","content":"",
      "tool_calls":[{"id":"call_ab","function":{"index":0,"name":"get_weather",
                     "arguments":{"city":"Paris","days":2}}}]},"done_reason":"stop","done":true})"));
  EXPECT_EQ(c["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(c["choices"][0]["message"]["tool_calls"],
            J(R"([{"id":"call_ab","index":0,"type":"function","function":{"name":"get_weather",
                  "arguments":"{\"city\":\"Paris\",\"days\":2}"}}])"));
  EXPECT_EQ(c["usage"], J(R"({"prompt_tokens":0,"completion_tokens":0,"total_tokens":0})"));
  // _debug_render_only: no done_reason (null finish), the debug info passed on.
  c = openai::ChatCompletionFromNative("chatcmpl-1", J(R"({"model":"m","created_at":"x",
      "message":{"role":"assistant","content":""},"done":false,
      "_debug_info":{"rendered_template":"T"}})"));
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(c["_debug_info"]["rendered_template"], "T");
  EXPECT_GT(c["created"].get<int64_t>(), 1'700'000'000);  // unparsable: now
}

TEST(OpenAIReplyTest, Completion) {
  ojson c = openai::CompletionFromNative("cmpl-3", J(R"({"model":"m",
      "created_at":"2024-09-12T03:54:03Z","response":"text","done":true,"done_reason":"stop",
      "context":[1,2],"prompt_eval_count":2,"eval_count":4})"));
  EXPECT_EQ(c, J(R"({"id":"cmpl-3","object":"text_completion","created":1726113243,"model":"m",
      "system_fingerprint":"fp_ollama","choices":[{"text":"text","index":0,
      "finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":4,
      "total_tokens":6}})"));
}

TEST(OpenAIReplyTest, EmbeddingsAsFloatsAndBase64) {
  const ojson native = J(R"({"model":"e","embeddings":[[0.5,-0.25],[1e-3,0.3333333432674408]],
                            "prompt_eval_count":6})");
  ojson f = openai::EmbeddingListFromNative("e", native, false);
  EXPECT_EQ(f, J(R"({"object":"list","data":[
      {"object":"embedding","embedding":[0.5,-0.25],"index":0},
      {"object":"embedding","embedding":[1e-3,0.3333333432674408],"index":1}],
      "model":"e","usage":{"prompt_tokens":6,"total_tokens":6}})"));
  ojson b = openai::EmbeddingListFromNative("e", native, true);
  EXPECT_EQ(b["data"][0]["embedding"], "AAAAPwAAgL4=");  // 0.5f, -0.25f little-endian
  for (int row = 0; row < 2; ++row) {
    std::string bytes;
    ASSERT_TRUE(openai::Base64Decode(b["data"][row]["embedding"].get<std::string>(), &bytes));
    ASSERT_EQ(bytes.size(), 8u);
    for (int k = 0; k < 2; ++k) {
      float v;
      std::memcpy(&v, bytes.data() + 4 * k, 4);
      EXPECT_EQ(v, native["embeddings"][row][k].get<float>());
    }
  }
  EXPECT_TRUE(
      openai::EmbeddingListFromNative("e", J(R"({"embeddings":[]})"), false)["data"].is_null());
}

TEST(OpenAIReplyTest, Models) {
  EXPECT_EQ(openai::ModelListFromNative(J(R"({"models":[]})")),
            J(R"({"object":"list","data":null})"));
  EXPECT_EQ(openai::ModelListFromNative(J(R"({"models":[
      {"name":"stories:latest","model":"stories:latest","modified_at":"2024-09-12T05:54:03.5+02:00"},
      {"name":"user/x:q4","modified_at":"2024-09-12T03:54:03Z"},
      {"name":"example.com/ns/y:latest","modified_at":"bad"}]})")),
            J(R"({"object":"list","data":[
      {"id":"stories:latest","object":"model","created":1726113243,"owned_by":"library"},
      {"id":"user/x:q4","object":"model","created":1726113243,"owned_by":"user"},
      {"id":"example.com/ns/y:latest","object":"model","created":0,"owned_by":"ns"}]})"));
  EXPECT_EQ(openai::ModelFromShow("stories", J(R"({"modified_at":"2024-09-12T03:54:03Z"})")),
            J(R"({"id":"stories","object":"model","created":1726113243,"owned_by":"library"})"));
}

// ---- streams ----

TEST(OpenAIChatStreamTest, RoleFirstThenContentFinishUsageDone) {
  openai::ChatStream s("chatcmpl-5", /*include_usage=*/true);
  std::string sse;
  sse += s.Push(J(R"({"model":"m","created_at":"2024-09-12T03:54:03Z",
                      "message":{"role":"assistant","content":"Once"},"done":false})"));
  sse += s.Push(J(R"({"model":"m","created_at":"2024-09-12T03:54:09Z",
                      "message":{"role":"assistant","content":" upon"},"done":false})"));
  sse += s.Push(J(R"({"model":"m","created_at":"2024-09-12T03:54:10Z",
                      "message":{"role":"assistant","content":""},"done_reason":"length",
                      "done":true,"prompt_eval_count":4,"eval_count":2})"));
  sse += s.End();
  const std::string head =
      R"("id":"chatcmpl-5","object":"chat.completion.chunk","created":1726113243,"model":"m",)"
      R"("system_fingerprint":"fp_ollama",)";
  EXPECT_EQ(sse, "data: {" + head +
                     R"("choices":[{"index":0,"delta":{"role":"assistant","content":"Once"},)"
                     R"("finish_reason":null}]})"
                     "\n\ndata: {" +
                     head +
                     R"("choices":[{"index":0,"delta":{"content":" upon"},"finish_reason":null}]})"
                     "\n\ndata: {" +
                     head +
                     R"("choices":[{"index":0,"delta":{},"finish_reason":"length"}]})"
                     "\n\ndata: {" +
                     head +
                     R"("choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,)"
                     R"("total_tokens":6}})"
                     "\n\ndata: [DONE]\n\n");
}

TEST(OpenAIChatStreamTest, ThinkingAndContentSplitIntoTwoChunks) {
  openai::ChatStream s("chatcmpl-1", false);
  std::vector<ojson> e = Events(Feed(s,
                                     {R"({"model":"m","created_at":"2024-09-12T03:54:03Z",
                  "message":{"role":"assistant","content":"Hi","thinking":"so"},"done":false,
                  "logprobs":[{"token":"so","logprob":-1}]})",
                                      R"({"model":"m","message":{"role":"assistant","content":"",
                  "thinking":"more"},"done":false})"},
                                     /*end=*/false));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0]["choices"][0]["delta"], J(R"({"role":"assistant","reasoning":"so"})"));
  EXPECT_EQ(e[0]["choices"][0]["logprobs"]["content"][0]["token"], "so");
  EXPECT_EQ(e[1]["choices"][0]["delta"], J(R"({"content":"Hi"})"));
  EXPECT_FALSE(e[1]["choices"][0].contains("logprobs"));
  EXPECT_EQ(e[0]["created"], e[1]["created"]);
  EXPECT_EQ(e[2]["choices"][0]["delta"], J(R"({"content":"","reasoning":"more"})"));
  EXPECT_EQ(e[2]["created"], 1726113243);  // the first object's time, not now
}

TEST(OpenAIChatStreamTest, ToolCallsMakeFinishToolCallsUnlessCutOff) {
  for (const char* reason : {"stop", "length"}) {
    openai::ChatStream s("chatcmpl-1", false);
    const std::string last = std::string(R"({"model":"m","message":{"role":"assistant",
        "content":""},"done":true,"done_reason":")") +
                             reason + "\"}";
    std::vector<ojson> e = Events(Feed(s,
                                       {R"({"model":"m","message":{"role":"assistant","content":"",
            "tool_calls":[{"id":"call_x","function":{"index":0,"name":"f","arguments":{"a":1}}}]},
            "done":false})",
                                        last},
                                       /*end=*/true));
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0]["choices"][0]["delta"]["tool_calls"],
              J(R"([{"id":"call_x","index":0,"type":"function",
                     "function":{"name":"f","arguments":"{\"a\":1}"}}])"));
    EXPECT_EQ(e[1]["choices"][0]["finish_reason"],
              std::string(reason) == "stop" ? "tool_calls" : "length");
    EXPECT_EQ(e[2], "[DONE]");
  }
}

TEST(OpenAIChatStreamTest, EmptyCompletionStillOpensWithRole) {
  openai::ChatStream s("chatcmpl-1", false);
  std::vector<ojson> e = Events(Feed(s, {R"({"model":"m","message":{"role":"assistant",
      "content":""},"done":true,"done_reason":"stop"})"},
                                     /*end=*/true));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0]["choices"][0]["delta"], J(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(e[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(e[2], "[DONE]");
}

TEST(OpenAIChatStreamTest, MidStreamErrorBecomesAnErrorEventAndEndsTheStream) {
  openai::ChatStream s("chatcmpl-1", true);
  std::string sse = s.Push(J(R"({"model":"m","message":{"content":"a"},"done":false})"));
  sse += s.Push(J(R"({"error":"runner crashed"})"));
  sse += s.Push(J(R"({"model":"m","message":{"content":""},"done":true})"));
  sse += s.End();
  std::vector<ojson> e = Events(sse);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1], J(R"({"error":{"message":"runner crashed","type":"api_error","param":null,
                        "code":null}})"));
}

TEST(OpenAICompletionStreamTest, ChunksUsageAndDone) {
  openai::CompletionStream s("cmpl-9", true);
  std::vector<ojson> e = Events(Feed(s,
                                     {R"({"model":"m","created_at":"2024-09-12T03:54:03Z",
                  "response":"Once","done":false})",
                                      R"({"model":"m","created_at":"2024-09-12T03:59:03Z",
                  "response":"","done":true,"done_reason":"stop","prompt_eval_count":3,
                  "eval_count":1})"},
                                     /*end=*/true));
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0], J(R"({"id":"cmpl-9","object":"text_completion","created":1726113243,
      "choices":[{"text":"Once","index":0,"finish_reason":null}],"model":"m",
      "system_fingerprint":"fp_ollama",
      "usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}})"));
  EXPECT_EQ(e[1]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(e[1]["created"], 1726113243);
  EXPECT_EQ(e[2]["choices"], ojson::array());
  EXPECT_EQ(e[2]["usage"], J(R"({"prompt_tokens":3,"completion_tokens":1,"total_tokens":4})"));
  EXPECT_EQ(e[3], "[DONE]");
  // Without include_usage: no usage anywhere.
  openai::CompletionStream plain("cmpl-1", false);
  e = Events(
      Feed(plain, {R"({"model":"m","response":"x","done":true,"done_reason":"stop"})"}, true));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_FALSE(e[0].contains("usage"));
}

// ---- helpers ----

TEST(OpenAIHelpersTest, IdsTimesAndBase64) {
  for (int i = 0; i < 50; ++i) {
    const std::string id = openai::NewId("chatcmpl-");
    ASSERT_EQ(id.rfind("chatcmpl-", 0), 0u);
    const int n = std::stoi(id.substr(9));
    EXPECT_TRUE(n >= 0 && n < 999) << id;
  }
  EXPECT_EQ(openai::UnixSeconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(openai::UnixSeconds("2024-09-12T03:54:03.516566Z"), 1726113243);
  EXPECT_EQ(openai::UnixSeconds("2024-09-12T05:54:03+02:00"), 1726113243);
  EXPECT_EQ(openai::UnixSeconds("2024-09-11T22:54:03.1-05:00"), 1726113243);
  EXPECT_EQ(openai::UnixSeconds("2000-02-29T12:00:00Z"), 951825600);
  for (const char* bad : {"", "2024-09-12", "2024-09-12T03:54:03", "2024-13-12T03:54:03Z",
                          "2024-09-12T03:54:03.Z", "2024-09-12T03:54:03+0200"}) {
    EXPECT_EQ(openai::UnixSeconds(bad), -1) << bad;
  }
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::string back;
    ASSERT_TRUE(openai::Base64Decode(openai::Base64Encode(s), &back));
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(openai::Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(openai::Base64Encode("fo"), "Zm8=");
  std::string out;
  EXPECT_TRUE(openai::Base64Decode("Zm9v\r\nYmFy", &out));
  EXPECT_EQ(out, "foobar");
  for (const char* bad : {"Zm8", "Zm=8", "Z===", "Zm9v!A==", "=Zm8"}) {
    EXPECT_FALSE(openai::Base64Decode(bad, &out)) << bad;
  }
}

// ---- the handlers over a store without runnable models ----

class OpenAIRoutesTest : public test_util::ServerFixture {
 protected:
  static ojson Body(const httplib::Result& r) { return ojson::parse(r->body, nullptr, false); }
  static void ExpectError(const httplib::Result& r, int status, std::string_view type,
                          std::string_view message) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(Body(r), openai::ErrorBody(status, message)) << r->body;
    EXPECT_EQ(Body(r)["error"]["type"], type);
  }
};

TEST_F(OpenAIRoutesTest, RequestErrorsAreOpenAIErrors) {
  ExpectError(Post("/v1/chat/completions", ""), 400, "invalid_request_error",
              "missing request body");
  ExpectError(Post("/v1/chat/completions", "[1]"), 400, "invalid_request_error",
              "json: cannot unmarshal array into Go value of type openai.ChatCompletionRequest");
  ExpectError(Post("/v1/chat/completions", R"({"model":"m","messages":[]})"), 400,
              "invalid_request_error", "[] is too short - 'messages'");
  ExpectError(Post("/v1/completions", R"({"model":"m","prompt":"x","echo":true})"), 400,
              "invalid_request_error",
              "Invalid value for 'echo' = true. Only false is supported by this server.");
  ExpectError(Post("/v1/embeddings", R"({"model":"m","input":[]})"), 400, "invalid_request_error",
              "invalid input");
}

TEST_F(OpenAIRoutesTest, NativeErrorsKeepTheirStatus) {
  // The native handlers' own errors and texts, in OpenAI's shape.
  ExpectError(Post("/v1/chat/completions",
                   R"({"model":"nope","messages":[{"role":"user","content":"hi"}]})"),
              404, "not_found_error", "model 'nope' not found");
  ExpectError(Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})"), 400,
              "invalid_request_error", "model is required");
  ExpectError(Post("/v1/completions", R"({"model":"nope","prompt":"hi","stream":true})"), 404,
              "not_found_error", "model 'nope' not found");
  ExpectError(Post("/v1/embeddings", R"({"model":"nope","input":"hi"})"), 404, "not_found_error",
              "model \"nope\" not found, try pulling it first");
  ExpectError(client_->Get("/v1/models/nope:latest"), 404, "not_found_error",
              "model 'nope:latest' not found");
}

TEST_F(OpenAIRoutesTest, ListAndRetrieveModels) {
  auto empty = client_->Get("/v1/models");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(Body(empty), J(R"({"object":"list","data":null})"));
  test_util::AddModel(store(), "stories");
  test_util::AddModel(store(), "user/other:q4");
  for (const char* name : {"stories", "user/other:q4"}) {
    utimbuf t{1'726'113'243, 1'726'113'243};
    ASSERT_EQ(utime(store().ManifestPath(*store::ParseName(name)).c_str(), &t), 0);
  }
  auto list = client_->Get("/v1/models");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(list->get_header_value("Content-Type"), "application/json");
  ojson data = Body(list)["data"];
  ASSERT_EQ(data.size(), 2u);
  std::vector<std::string> ids;
  for (const ojson& m : data) {
    ids.push_back(m["id"].get<std::string>());
    EXPECT_EQ(m["object"], "model");
    EXPECT_EQ(m["created"], 1726113243);
    EXPECT_EQ(m["owned_by"], m["id"] == "stories:latest" ? "library" : "user");
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"stories:latest", "user/other:q4"}));
  auto one = client_->Get("/v1/models/user/other:q4");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(Body(one),
            J(R"({"id":"user/other:q4","object":"model","created":1726113243,"owned_by":"user"})"));
  auto bare = client_->Get("/v1/models/stories");
  ASSERT_TRUE(bare);
  EXPECT_EQ(Body(bare)["id"], "stories");  // the id as written
}

}  // namespace
}  // namespace corral::server
