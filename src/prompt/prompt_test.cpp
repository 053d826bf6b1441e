// Hand-worked cases for the parts of Ollama's prompt building the goldens do not reach:
// generate (system, model MESSAGEs, images, fill-in-the-middle, raw, context), legacy
// turn-by-turn templates, the appended {{ .Response }}, and tokenization.
#include "prompt/prompt.h"

#include <gtest/gtest.h>

#include "gguf/gguf_writer.h"
#include "template/library.h"

namespace corral::prompt {
namespace {

using nlohmann::json;

PromptTemplate MustParse(std::string_view text) {
  Result<PromptTemplate> t = PromptTemplate::Parse(text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

Message Msg(std::string role, std::string content) {
  Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

std::string Chat(const PromptTemplate& t, std::vector<Message> messages,
                 const ModelDefaults& model = {}) {
  ChatRequest request;
  request.messages = std::move(messages);
  Result<std::string> out = RenderChat(t, request, model);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "";
}

constexpr const char* kPhi3Legacy =
    "{{ if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}"
    "{{ if .Prompt }}<|user|>\n{{ .Prompt }}<|end|>\n{{ end }}"
    "<|assistant|>\n{{ .Response }}<|end|>\n";

TEST(LegacyTest, TurnByTurnWithTheLastTurnCutAfterResponse) {
  PromptTemplate t = MustParse(kPhi3Legacy);
  EXPECT_FALSE(t.uses_messages());
  EXPECT_EQ(
      Chat(t, {Msg("system", "S"), Msg("user", "A"), Msg("assistant", "B"), Msg("user", "C")}),
      "<|system|>\nS<|end|>\n<|user|>\nA<|end|>\n<|assistant|>\nB<|end|>\n"
      "<|user|>\nC<|end|>\n<|assistant|>\n");
  // A trailing assistant message is continued: its text ends the prompt.
  EXPECT_EQ(Chat(t, {Msg("user", "A"), Msg("assistant", "Once")}),
            "<|user|>\nA<|end|>\n<|assistant|>\nOnce");
  // A system message after a turn starts a new execution.
  EXPECT_EQ(Chat(t, {Msg("user", "A"), Msg("system", "S"), Msg("user", "C")}),
            "<|user|>\nA<|end|>\n<|assistant|>\n<|end|>\n<|system|>\nS<|end|>\n<|user|>\nC<|end|>\n"
            "<|assistant|>\n");
}

TEST(LegacyTest, ResponseIsAppendedWhenTheTemplateHasNone) {
  PromptTemplate t = MustParse("[{{ .System }}|{{ .Prompt }}]");
  EXPECT_FALSE(t.uses_messages());
  // Each turn prints its response after the text; the last turn's is empty.
  EXPECT_EQ(Chat(t, {Msg("user", "a"), Msg("assistant", "b"), Msg("user", "c")}), "[|a]b[|c]");
  // A template naming .Messages gets nothing appended.
  PromptTemplate messages = MustParse("{{ range .Messages }}{{ .Content }};{{ end }}");
  EXPECT_TRUE(messages.uses_messages());
  EXPECT_EQ(Chat(messages, {Msg("user", "a"), Msg("assistant", "b")}), "a;b;");
}

TEST(ChatTest, ModelSystemAndMessagesComeFirst) {
  PromptTemplate t =
      MustParse("{{ .System }}|{{ range .Messages }}{{ .Role }}={{ .Content }};{{ end }}");
  ModelDefaults model;
  model.system = "MS";
  model.messages = {Msg("user", "m1"), Msg("assistant", "m2")};
  EXPECT_EQ(Chat(t, {Msg("user", "q")}, model), "MS|system=MS;user=m1;assistant=m2;user=q;");
  // A request that starts with its own system message keeps it and drops the model's.
  EXPECT_EQ(Chat(t, {Msg("system", "RS"), Msg("user", "q")}, model),
            "RS|user=m1;assistant=m2;system=RS;user=q;");
}

TEST(ChatTest, ImagesBecomeNumberedTags) {
  PromptTemplate t = MustParse("{{ range .Messages }}{{ .Content }};{{ end }}");
  Message first = Msg("user", "see [img] and [img]");
  first.images = {"a", "b"};
  Message second = Msg("user", "more");
  second.images = {"c"};
  // Same-role neighbours merge after tagging.
  EXPECT_EQ(Chat(t, {first, Msg("assistant", "ok"), second}),
            "see [img-0] and [img-1];ok;[img-2]more;");
}

TEST(GenerateTest, SystemModelMessagesImagesAndPrompt) {
  PromptTemplate t =
      MustParse("{{ .System }}|{{ range .Messages }}{{ .Role }}={{ .Content }};{{ end }}");
  ModelDefaults model;
  model.system = "MS";
  model.messages = {Msg("user", "m1"), Msg("assistant", "m2")};
  GenerateRequest request;
  request.prompt = "Q";
  request.images = 2;
  Result<std::string> out = RenderGenerate(t, request, model);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "MS|system=MS;user=m1;assistant=m2;user=[img-0]\n\n[img-1]\n\nQ;");
  request.system = "RS";
  request.images = 0;
  EXPECT_EQ(*RenderGenerate(t, request, model), "RS|system=RS;user=m1;assistant=m2;user=Q;");
}

TEST(GenerateTest, FillInTheMiddleUsesPromptAndSuffixOnly) {
  PromptTemplate t = MustParse(
      "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>"
      "{{- else }}{{ range .Messages }}{{ .Content }}{{ end }}{{ end }}");
  GenerateRequest request;
  request.prompt = "def f(x):";
  request.suffix = "return y";
  request.system = "ignored";
  EXPECT_EQ(*RenderGenerate(t, request), "<PRE> def f(x): <SUF>return y <MID>");
  // Without a prompt the suffix alone does not make it fill-in-the-middle.
  request.prompt = "";
  EXPECT_EQ(*RenderGenerate(t, request), "");
  // Library chatml: FIM data has no .Messages, so its legacy branch runs (with a leading
  // newline, as in Ollama's template).
  PromptTemplate chatml = MustParse(tmpl::FindLibraryTemplate("chatml")->text);
  request.prompt = "P";
  EXPECT_EQ(*RenderGenerate(chatml, request),
            "\n<|im_start|>user\nP<|im_end|>\n<|im_start|>assistant\n<|im_end|>");
}

TEST(GenerateTest, RawBypassesTheTemplate) {
  PromptTemplate t = MustParse("<<{{ .Prompt }}>>");
  GenerateRequest request;
  request.prompt = "<|im_start|>as is";
  request.raw = true;
  request.system = "S";
  EXPECT_EQ(*RenderGenerate(t, request), "<|im_start|>as is");
  request.raw = false;
  EXPECT_EQ(*RenderGenerate(t, request), "<<<|im_start|>as is>>");
}

TEST(GenerateTest, ContextNeedsATokenizer) {
  GenerateRequest request;
  request.prompt = "x";
  request.context = {1, 2};
  Result<std::string> out = RenderGenerate(PromptTemplate::Default(), request);
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

TEST(ThinkTest, ValuesFollowOllama) {
  PromptTemplate t = MustParse("{{ .Think }} {{ .ThinkLevel }} {{ .IsThinkSet }}|");
  ChatRequest request;
  request.messages = {Msg("user", "q")};
  EXPECT_EQ(*RenderChat(t, request), "false  false|");
  request.think = *ParseThink(json(true));
  EXPECT_EQ(*RenderChat(t, request), "true  true|");
  request.think = *ParseThink(json("high"));
  EXPECT_EQ(*RenderChat(t, request), "true high true|");
  request.think = *ParseThink(json("max"));
  EXPECT_EQ(*RenderChat(t, request), "true max true|");
  Result<Think> other = ParseThink(json("ultra"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().message(),
            "invalid think value: \"ultra\" (must be \"high\", \"medium\", \"low\", \"max\", "
            "true, or false)");
  EXPECT_FALSE(ParseThink(json(3)).ok());
}

TEST(ToolsTest, GoTypesPrintAsTheirJson) {
  PromptTemplate t = MustParse(
      "{{ .Tools }}|{{ range .Tools }}{{ .Function }}{{ end }}|"
      "{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Arguments }}{{ end }}{{ end }}|"
      "{{ range .Tools }}{{ range $k, $v := .Function.Parameters.Properties }}{{ $k }}:{{ $v.Type "
      "}}"
      "{{ end }}{{ end }}");
  ChatRequest request;
  request.tools = json::parse(R"([{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object", "properties": {"b": {"type": ["string", "null"]},
      "a": {"type": "integer", "description": "<n>"}}}}}])");
  Message call = Msg("assistant", "");
  call.tool_calls.push_back({.name = "f", .arguments = json{{"z", 1.5}, {"a", "x&y"}}});
  request.messages = {Msg("user", "q"), call};
  const char* function =
      R"({"name":"f","parameters":{"type":"object","properties":{"a":{"type":"integer",)"
      R"("description":"\u003cn\u003e"},"b":{"type":["string","null"]}}}})";
  EXPECT_EQ(*RenderChat(t, request), std::string("[{\"type\":\"function\",\"function\":") +
                                         function + "}]|" + function +
                                         R"(|{"a":"x\u0026y","z":1.5}|a:integerb:[string null])");
}

TEST(RequestJsonTest, MessagesParseLikeOllama) {
  Result<std::vector<Message>> messages = ParseMessages(json::parse(R"([
      {"role": "USER", "content": "hi", "images": ["aGk="]},
      {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
      {"role": "tool", "content": "1", "tool_name": "f"}])"));
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ((*messages)[0].role, "user");
  EXPECT_EQ((*messages)[0].images.size(), 1u);
  EXPECT_EQ((*messages)[1].tool_calls[0].arguments, json({{"x", 1}}));
  EXPECT_EQ((*messages)[2].tool_name, "f");
  EXPECT_FALSE(ParseMessages(json::parse(R"([{"role": 1}])")).ok());
  EXPECT_FALSE(
      ParseMessages(
          json::parse(
              R"([{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}])"))
          .ok());
}

TEST(JinjaSeamTest, RendersHuggingFaceVariables) {
  ChatRequest request;
  request.messages = {Msg("system", "S"), Msg("user", "Hi")};
  request.think.set = true;
  Result<std::string> out = RenderJinjaChat(
      "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}"
      "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
      "{% if enable_thinking is defined %}{{ enable_thinking }}{% endif %}"
      "{% if tools is defined %}T{% endif %}",
      request, "<s>", "</s>");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "<s><|system|>S</s><|user|>Hi</s><|assistant|>False");
}

// A tiny SPM vocabulary: <unk> <s> </s> <|im_start|>, byte tokens, and the pieces of "▁hi".
std::unique_ptr<tokenizer::Tokenizer> TinyTokenizer() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<|im_start|>"};
  std::vector<int32_t> types = {2, 3, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  // SPM merges neighbours that form a token, so "▁hi" needs "▁h" to be reachable.
  for (const char* piece : {"\xE2\x96\x81", "h", "i", "\xE2\x96\x81h", "\xE2\x96\x81hi"}) {
    tokens.push_back(piece);
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size(), 0.0f);
  gguf::GgufWriter writer;
  using gguf::MetaValue;
  EXPECT_TRUE(writer.Set("tokenizer.ggml.model", MetaValue::String("llama")).ok());
  EXPECT_TRUE(writer.Set("tokenizer.ggml.tokens", MetaValue::StringArray(tokens)).ok());
  EXPECT_TRUE(writer.Set("tokenizer.ggml.scores", MetaValue::F32Array(scores)).ok());
  EXPECT_TRUE(writer.Set("tokenizer.ggml.token_type", MetaValue::I32Array(types)).ok());
  EXPECT_TRUE(writer.Set("tokenizer.ggml.bos_token_id", MetaValue::U32(1)).ok());
  EXPECT_TRUE(writer.Set("tokenizer.ggml.eos_token_id", MetaValue::U32(2)).ok());
  EXPECT_TRUE(writer.Set("tokenizer.ggml.add_bos_token", MetaValue::Bool(true)).ok());
  auto bytes = writer.WriteToBuffer();
  EXPECT_TRUE(bytes.ok());
  auto file = gguf::GgufFile::Parse(*bytes);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto tok = tokenizer::Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return std::move(*tok);
}

TEST(TokenizeTest, SpecialTokensParsedAndBosAdded) {
  std::unique_ptr<tokenizer::Tokenizer> tok = TinyTokenizer();
  ASSERT_NE(tok, nullptr);
  int32_t hi = tok->vocab().Find("\xE2\x96\x81hi");
  EXPECT_EQ(TokenizePrompt(*tok, "<|im_start|>hi"), (std::vector<int32_t>{1, 3, hi}));
}

TEST(TokenizeTest, ContextIsDetokenizedBeforeThePrompt) {
  std::unique_ptr<tokenizer::Tokenizer> tok = TinyTokenizer();
  ASSERT_NE(tok, nullptr);
  int32_t hi = tok->vocab().Find("\xE2\x96\x81hi");
  GenerateRequest request;
  request.prompt = "q";
  request.context = {3, hi};
  ModelDefaults model;
  model.messages = {Msg("user", "left out with a context")};
  Result<std::string> out = RenderGenerate(
      MustParse("{{ range .Messages }}[{{ .Content }}]{{ end }}"), request, model, tok.get());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "<|im_start|> hi[q]");
  request.context = {999};
  EXPECT_EQ(RenderGenerate(PromptTemplate::Default(), request, {}, tok.get()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace corral::prompt

namespace corral::prompt {
namespace {

TEST(ChatFormatTest, GoTemplateThenJinjaThenPromptAsIs) {
  ChatRequest request;
  request.messages = {Msg("user", "a"), Msg("assistant", "b"), Msg("user", "c")};
  ModelDefaults model;
  model.system = "S";
  ChatFormat format;
  format.chat_template = "{% for m in messages %}{{ m.role }}:{{ m.content }} {% endfor %}";
  // Jinja sees the model's system message too.
  EXPECT_EQ(*RenderChatPrompt(format, request, model), "system:S user:a assistant:b user:c ");
  format.go_template = MustParse("{{ range .Messages }}{{ .Content }}|{{ end }}");
  EXPECT_EQ(*RenderChatPrompt(format, request, model), "S|a|b|c|");
  // Neither: Ollama's "{{ .Prompt }}" runs turn by turn and prints each turn's prompt and
  // response.
  EXPECT_EQ(*RenderChatPrompt(ChatFormat{}, request), "abc");
}

}  // namespace
}  // namespace corral::prompt

namespace corral::prompt {
namespace {

TEST(ChatTest, EarlierThinkingIsStrippedForThinkingFamilies) {
  PromptTemplate t = MustParse("{{ range .Messages }}{{ .Content }}|{{ end }}");
  std::vector<Message> messages = {Msg("user", "q1"),
                                   Msg("assistant", " <think>plan</think>\n\nA1"),
                                   Msg("user", "q2"),
                                   Msg("assistant", "<think>unclosed"),
                                   Msg("assistant", "x <think>kept</think>"),
                                   Msg("user", "q3"),
                                   Msg("assistant", "<think>last</think>A3")};
  ModelDefaults model;
  EXPECT_EQ(Chat(t, messages, model),
            "q1| <think>plan</think>\n\nA1|q2|<think>unclosed\n\nx <think>kept</think>|q3|"
            "<think>last</think>A3|");
  model.strip_earlier_thinking = true;
  // Merged same-role messages are stripped one by one before collate joins them; the
  // assistant message after the last user message keeps its block.
  EXPECT_EQ(Chat(t, messages, model),
            "q1|A1|q2|\n\nx <think>kept</think>|q3|<think>last</think>A3|");
}

}  // namespace
}  // namespace corral::prompt
