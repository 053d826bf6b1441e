// RenderChat's context building and the capability probe (no Python needed; the byte-for-byte
// comparison with Jinja2 is jinja_chat_reference_test).
#include "jinja/chat.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/testdata.h"

namespace corral::jinja {
namespace {

using nlohmann::ordered_json;

Template MustParse(const std::string& source) {
  Result<Template> t = Template::Parse(source, Options{});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

std::string Fixture(const std::string& name) {
  std::ifstream in(testing::SourceDir() + "/src/jinja/testdata/chat/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

ChatContext ToolConversation() {
  ChatContext chat;
  chat.messages.push_back({"system", "Be brief.", "", 0, {}, "", ""});
  ChatMessage user{"user", "Look at [img] please", "", 2, {}, "", ""};
  chat.messages.push_back(user);
  ChatMessage call{"assistant", "", "I should call it.", 0, {}, "", ""};
  call.tool_calls.push_back({"call_1", "get_weather", {{"city", "Paris"}, {"days", 2}}});
  chat.messages.push_back(call);
  chat.messages.push_back({"tool", "21C", "", 0, {}, "get_weather", "call_1"});
  chat.tools = ordered_json::array(
      {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {}}}}}});
  chat.bos_token = "<s>";
  chat.eos_token = "</s>";
  chat.add_generation_prompt = true;
  return chat;
}

TEST(ChatTest, BuildsTheOpenAiFormContextInOrder) {
  ordered_json context = BuildChatTemplateContext(ToolConversation());
  // Key order matters: templates print dicts and iterate items() in this order.
  EXPECT_EQ(context.dump(),
            R"({"messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"[img-1]Look at [img-0] please"},)"
            R"({"role":"assistant","content":"","reasoning_content":"I should call it.",)"
            R"("thinking":"I should call it.",)"
            R"("tool_calls":[{"type":"function","function":{"name":"get_weather",)"
            R"("arguments":{"city":"Paris","days":2}},"id":"call_1"}]},)"
            R"({"role":"tool","content":"21C","name":"get_weather","tool_call_id":"call_1"}],)"
            R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":null}}],)"
            R"("add_generation_prompt":true,"bos_token":"<s>","eos_token":"</s>"})");
}

TEST(ChatTest, EnableThinkingOnlyWhenTheRequestSaysSo) {
  ChatContext chat;
  chat.messages.push_back({"user", "hi", "", 0, {}, "", ""});
  EXPECT_FALSE(BuildChatTemplateContext(chat).contains("enable_thinking"));
  EXPECT_FALSE(BuildChatTemplateContext(chat).contains("tools"));
  chat.enable_thinking = false;
  EXPECT_EQ(BuildChatTemplateContext(chat)["enable_thinking"], false);
  chat.tools = ordered_json::array();  // an empty list is no tools
  EXPECT_FALSE(BuildChatTemplateContext(chat).contains("tools"));
}

TEST(ChatTest, ImageTagsCountAcrossTheConversationAndCanBeReplaced) {
  ChatContext chat;
  chat.messages.push_back({"user", "a", "", 1, {}, "", ""});
  chat.messages.push_back({"user", "b [img] c [img]", "", 3, {}, "", ""});
  chat.image_tag = [](int i) { return "<image " + std::to_string(i) + ">"; };
  ordered_json context = BuildChatTemplateContext(chat);
  EXPECT_EQ(context["messages"][0]["content"], "<image 0>a");
  EXPECT_EQ(context["messages"][1]["content"], "<image 3>b <image 1> c <image 2>");
}

TEST(ChatTest, RenderChatPassesRaiseExceptionThrough) {
  Template t = MustParse(Fixture("gemma2.jinja"));
  ChatContext chat;
  chat.messages.push_back({"user", "a", "", 0, {}, "", ""});
  chat.messages.push_back({"user", "b", "", 0, {}, "", ""});
  Result<std::string> out = RenderChat(t, chat);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(),
            "Conversation roles must alternate user/assistant/user/assistant/...");
  chat.messages[1].role = "assistant";
  chat.bos_token = "<bos>";
  out = RenderChat(t, chat);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out,
            "<bos><start_of_turn>user\na<end_of_turn>\n<start_of_turn>model\nb<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST(ChatTest, ProbesPlainChatml) {
  ChatCapabilities caps = ProbeChatCapabilities(MustParse(Fixture("smollm_chatml.jinja")));
  EXPECT_TRUE(caps.supports_system_role);
  EXPECT_FALSE(caps.supports_tools);
  EXPECT_FALSE(caps.supports_tool_calls);
  EXPECT_FALSE(caps.requires_typed_content);
  EXPECT_FALSE(caps.supports_reasoning_content);
  EXPECT_FALSE(caps.mentions_enable_thinking);
}

TEST(ChatTest, ProbesToolTemplates) {
  ChatCapabilities caps = ProbeChatCapabilities(MustParse(Fixture("qwen25_tools.jinja")));
  EXPECT_TRUE(caps.supports_system_role);
  EXPECT_TRUE(caps.supports_tools);
  EXPECT_TRUE(caps.supports_tool_calls);
  EXPECT_TRUE(caps.supports_parallel_tool_calls);
  EXPECT_TRUE(caps.supports_tool_responses);
  EXPECT_FALSE(caps.mentions_enable_thinking);

  // Llama 3.1 raises on more than one call per message.
  caps = ProbeChatCapabilities(MustParse(Fixture("llama31_tools.jinja")));
  EXPECT_TRUE(caps.supports_tools);
  EXPECT_TRUE(caps.supports_tool_calls);
  EXPECT_FALSE(caps.supports_parallel_tool_calls);
  EXPECT_TRUE(caps.supports_tool_responses);
}

TEST(ChatTest, ProbesGemmaWithoutSystemRole) {
  ChatCapabilities caps = ProbeChatCapabilities(MustParse(Fixture("gemma2.jinja")));
  EXPECT_FALSE(caps.supports_system_role);  // raise_exception('System role not supported')
  EXPECT_FALSE(caps.supports_tools);
  // Gemma 3 folds the system text into the first user turn, which counts as supporting it.
  EXPECT_TRUE(ProbeChatCapabilities(MustParse(Fixture("gemma3.jinja"))).supports_system_role);
}

TEST(ChatTest, ProbesThinking) {
  ChatCapabilities caps = ProbeChatCapabilities(MustParse(Fixture("qwen3_thinking.jinja")));
  EXPECT_TRUE(caps.supports_reasoning_content);
  EXPECT_TRUE(caps.mentions_enable_thinking);
  EXPECT_TRUE(caps.supports_tools);
  caps = ProbeChatCapabilities(MustParse(Fixture("deepseek_r1.jinja")));
  EXPECT_FALSE(caps.mentions_enable_thinking);
  EXPECT_FALSE(caps.supports_reasoning_content);  // it strips history thinking
}

TEST(ChatTest, ProbesTypedContentOnlyTemplates) {
  Template t = MustParse(
      "{% for m in messages %}{% for part in m.content %}{% if part.type == 'text' %}"
      "{{ part.text }}{% endif %}{% endfor %}{% endfor %}");
  ChatCapabilities caps = ProbeChatCapabilities(t);
  EXPECT_TRUE(caps.requires_typed_content);
  EXPECT_TRUE(caps.supports_system_role);
}

}  // namespace
}  // namespace corral::jinja
