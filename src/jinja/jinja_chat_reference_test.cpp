// Chat templates against Python Jinja2: the templates we wrote in the style of each popular
// family (testdata/chat) and every chat template found in the shared test GGUFs, rendered over
// a set of conversation shapes with our interpreter and with Jinja2 (HF settings), byte for
// byte. The same conversations also go through RenderChat from a ChatContext, which must build
// the context HF's apply_chat_template would get from the hand-written OpenAI-form JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "jinja/chat.h"
#include "jinja/jinja_reference.h"
#include "jinja/template.h"
#include "testing/testdata.h"

namespace corral::jinja {
namespace {

using nlohmann::ordered_json;

struct Shape {
  std::string name;
  ordered_json hf;  // the context as a client would hand apply_chat_template (written by hand)
  bool has_chat = false;
  ChatContext chat;  // the same conversation as our request structures carry it
};

ordered_json WeatherTool() {
  return {{"type", "function"},
          {"function",
           {{"name", "get_weather"},
            {"description", "Current weather for a city"},
            {"parameters",
             {{"type", "object"},
              {"properties",
               {{"city", {{"type", "string"}, {"description", "City name"}}},
                {"days", {{"type", "integer"}, {"description", "Forecast days"}}},
                {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
              {"required", {"city"}}}}}}};
}

ordered_json TimeTool() {
  return {{"type", "function"},
          {"function",
           {{"name", "get_time"},
            {"description", "Local time in a timezone"},
            {"parameters",
             {{"type", "object"},
              {"properties", {{"tz", {{"type", "string"}, {"description", "IANA zone"}}}}},
              {"required", {"tz"}}}}}}};
}

ChatMessage Msg(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

ordered_json HfMsg(const std::string& role, const std::string& content) {
  return {{"role", role}, {"content", content}};
}

// Fills in the shared top-level variables on both forms of a shape.
Shape Finish(std::string name, ordered_json messages, std::vector<ChatMessage> chat_messages,
             bool add_generation_prompt, ordered_json tools = nullptr,
             std::optional<bool> enable_thinking = std::nullopt) {
  Shape s;
  s.name = std::move(name);
  s.hf["messages"] = std::move(messages);
  if (!tools.is_null()) s.hf["tools"] = tools;
  s.hf["add_generation_prompt"] = add_generation_prompt;
  s.hf["bos_token"] = "<s>";
  s.hf["eos_token"] = "</s>";
  if (enable_thinking) s.hf["enable_thinking"] = *enable_thinking;
  s.has_chat = true;
  s.chat.messages = std::move(chat_messages);
  s.chat.tools = tools;
  s.chat.add_generation_prompt = add_generation_prompt;
  s.chat.bos_token = "<s>";
  s.chat.eos_token = "</s>";
  s.chat.enable_thinking = enable_thinking;
  return s;
}

std::vector<Shape> Shapes() {
  std::vector<Shape> shapes;
  shapes.push_back(Finish("user_only", {HfMsg("user", "Hello!")}, {Msg("user", "Hello!")}, true));
  shapes.push_back(Finish("system_multi_turn",
                          {HfMsg("system", "You are terse."), HfMsg("user", "  What is 2+2?  "),
                           HfMsg("assistant", "4"), HfMsg("user", "And 3+3? Ünïcödé ✓ \"q\"")},
                          {Msg("system", "You are terse."), Msg("user", "  What is 2+2?  "),
                           Msg("assistant", "4"), Msg("user", "And 3+3? Ünïcödé ✓ \"q\"")},
                          true));
  shapes.push_back(Finish("no_generation_prompt",
                          {HfMsg("user", "Hi"), HfMsg("assistant", "Hello.\nHow can I help?")},
                          {Msg("user", "Hi"), Msg("assistant", "Hello.\nHow can I help?")}, false));
  {
    ordered_json args = {{"city", "Paris"}, {"days", 3}, {"tags", {"now", "ÿ"}}};
    ordered_json hf_call = {{"role", "assistant"},
                            {"content", ""},
                            {"tool_calls",
                             {{{"type", "function"},
                               {"function", {{"name", "get_weather"}, {"arguments", args}}},
                               {"id", "call12345"}}}}};
    ordered_json hf_result = {{"role", "tool"},
                              {"content", "{\"temp\": 21, \"sky\": \"clear\"}"},
                              {"name", "get_weather"},
                              {"tool_call_id", "call12345"}};
    ChatMessage call = Msg("assistant", "");
    call.tool_calls.push_back({"call12345", "get_weather", args});
    ChatMessage result = Msg("tool", "{\"temp\": 21, \"sky\": \"clear\"}");
    result.tool_name = "get_weather";
    result.tool_call_id = "call12345";
    shapes.push_back(Finish(
        "tool_call_and_result",
        {HfMsg("system", "Use tools when useful."), HfMsg("user", "Weather in Paris?"), hf_call,
         hf_result, HfMsg("assistant", "It is 21 degrees and clear."), HfMsg("user", "Thanks")},
        {Msg("system", "Use tools when useful."), Msg("user", "Weather in Paris?"), call, result,
         Msg("assistant", "It is 21 degrees and clear."), Msg("user", "Thanks")},
        true, ordered_json::array({WeatherTool(), TimeTool()})));
  }
  {
    ordered_json hf_calls = {
        {"role", "assistant"},
        {"content", ""},
        {"tool_calls",
         {{{"type", "function"},
           {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Oslo"}}}}},
           {"id", "callAAAAA"}},
          {{"type", "function"},
           {"function", {{"name", "get_time"}, {"arguments", {{"tz", "Europe/Oslo"}}}}},
           {"id", "callBBBBB"}}}}};
    ChatMessage calls = Msg("assistant", "");
    calls.tool_calls.push_back({"callAAAAA", "get_weather", {{"city", "Oslo"}}});
    calls.tool_calls.push_back({"callBBBBB", "get_time", {{"tz", "Europe/Oslo"}}});
    ChatMessage r1 = Msg("tool", "-3C");
    r1.tool_name = "get_weather";
    r1.tool_call_id = "callAAAAA";
    ChatMessage r2 = Msg("tool", "09:00");
    r2.tool_name = "get_time";
    r2.tool_call_id = "callBBBBB";
    shapes.push_back(Finish("parallel_tool_calls",
                            {HfMsg("user", "Weather and time in Oslo?"),
                             hf_calls,
                             {{"role", "tool"},
                              {"content", "-3C"},
                              {"name", "get_weather"},
                              {"tool_call_id", "callAAAAA"}},
                             {{"role", "tool"},
                              {"content", "09:00"},
                              {"name", "get_time"},
                              {"tool_call_id", "callBBBBB"}}},
                            {Msg("user", "Weather and time in Oslo?"), calls, r1, r2}, true,
                            ordered_json::array({WeatherTool(), TimeTool()})));
  }
  {
    // Llama 3.1's built-in tools: extra variables, a python_tag call iterating arguments|items.
    ordered_json builtin = {"brave_search", "code_interpreter"};
    ordered_json hf_call = {
        {"role", "assistant"},
        {"content", ""},
        {"tool_calls",
         {{{"type", "function"},
           {"function",
            {{"name", "brave_search"}, {"arguments", {{"query", "Paris weather"}}}}}}}}};
    ChatMessage call = Msg("assistant", "");
    call.tool_calls.push_back({"", "brave_search", {{"query", "Paris weather"}}});
    ChatMessage result = Msg("tool", "Sunny, 21C");
    Shape s = Finish("builtin_tools_extra_variables",
                     {HfMsg("user", "Search the weather"), hf_call, HfMsg("tool", "Sunny, 21C")},
                     {Msg("user", "Search the weather"), call, result}, true,
                     ordered_json::array({WeatherTool()}));
    s.hf["builtin_tools"] = builtin;
    s.chat.extra = {{"builtin_tools", builtin}};
    shapes.push_back(std::move(s));
  }
  shapes.push_back(Finish("tools_offered_only", {HfMsg("user", "What can you do?")},
                          {Msg("user", "What can you do?")}, true,
                          ordered_json::array({WeatherTool()})));
  {
    ordered_json hf_thought = {
        {"role", "assistant"}, {"content", "Done."}, {"reasoning_content", "Let me think."}};
    ChatMessage thought = Msg("assistant", "Done.");
    thought.thinking = "Let me think.";
    shapes.push_back(Finish(
        "thinking_history_on", {HfMsg("user", "Think first."), hf_thought, HfMsg("user", "Again")},
        {Msg("user", "Think first."), thought, Msg("user", "Again")}, true, nullptr, true));
    shapes.push_back(
        Finish("thinking_off", {HfMsg("user", "Think first."), hf_thought, HfMsg("user", "Again")},
               {Msg("user", "Think first."), thought, Msg("user", "Again")}, true, nullptr, false));
    shapes.push_back(Finish("thinking_last_turn", {HfMsg("user", "Think first."), hf_thought},
                            {Msg("user", "Think first."), thought}, false));
  }
  shapes.push_back(Finish(
      "think_tags_in_content",
      {HfMsg("user", "Q1"), HfMsg("assistant", "<think>\nhmm\n</think>\n\nA1"),
       HfMsg("user", "Q2")},
      {Msg("user", "Q1"), Msg("assistant", "<think>\nhmm\n</think>\n\nA1"), Msg("user", "Q2")},
      true));
  {
    ChatMessage with_images = Msg("user", "What is in [img] and this?");
    with_images.images = 2;
    shapes.push_back(Finish(
        "images",
        {HfMsg("system", "Describe images."), HfMsg("user", "[img-1]What is in [img-0] and this?")},
        {Msg("system", "Describe images."), with_images}, true));
  }
  shapes.push_back(Finish("bad_role_order", {HfMsg("user", "a"), HfMsg("user", "b")},
                          {Msg("user", "a"), Msg("user", "b")}, true));
  {
    // Typed content parts exist only on the HF side (our requests carry strings).
    Shape typed = Finish(
        "typed_content",
        {{{"role", "system"},
          {"content", ordered_json::array({{{"type", "text"}, {"text", "Sys."}}})}},
         {{"role", "user"},
          {"content",
           ordered_json::array({{{"type", "image"}}, {{"type", "text"}, {"text", " Hi "}}})}}},
        {}, true);
    typed.has_chat = false;
    shapes.push_back(std::move(typed));
  }
  return shapes;
}

std::map<std::string, std::string> FamilyTemplates() {
  std::map<std::string, std::string> out;
  std::filesystem::path dir =
      std::filesystem::path(testing::SourceDir()) / "src/jinja/testdata/chat";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out[entry.path().stem().string()] = text.str();
  }
  return out;
}

// Every case of `templates` × shapes through Template::RenderOrdered, then the shapes that have
// a ChatContext through RenderChat; both must equal Jinja2 on the hand-written context.
// `special`, when given, maps a template's name to its model's BOS and EOS strings.
void CompareChatTemplates(
    const std::map<std::string, std::string>& templates, int min_rendered,
    const std::map<std::string, std::pair<std::string, std::string>>& special = {}) {
  const std::vector<Shape> base_shapes = Shapes();
  auto shapes_for = [&](const std::string& name) {
    std::vector<Shape> shapes = base_shapes;
    auto it = special.find(name);
    if (it == special.end()) return shapes;
    for (Shape& shape : shapes) {
      shape.hf["bos_token"] = it->second.first;
      shape.hf["eos_token"] = it->second.second;
      shape.chat.bos_token = it->second.first;
      shape.chat.eos_token = it->second.second;
    }
    return shapes;
  };
  std::vector<reference::Case> cases;
  for (const auto& [name, source] : templates) {
    for (const Shape& shape : shapes_for(name)) {
      cases.push_back({name + "/" + shape.name, source, shape.hf});
    }
  }
  reference::Tally tally = reference::ExpectSameAsJinja2(cases);
  std::printf("%d of %d template x conversation cases matched Jinja2 (%d rendered by Jinja2)\n",
              tally.matched, tally.cases, tally.rendered_by_jinja2);
  EXPECT_EQ(tally.matched, tally.cases);

  Result<std::vector<reference::Expected>> expected = reference::RenderWithJinja2(cases);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  std::map<std::string, int> rendered_per_template;
  int chat_cases = 0;
  int chat_matched = 0;
  size_t i = 0;
  for (const auto& [name, source] : templates) {
    Result<Template> t = Template::Parse(source, reference::ReferenceOptions());
    ASSERT_TRUE(t.ok()) << name << ": " << t.status().ToString();
    for (const Shape& shape : shapes_for(name)) {
      const reference::Expected& want = (*expected)[i++];
      if (want.ok) ++rendered_per_template[name];
      if (!shape.has_chat) continue;
      SCOPED_TRACE("RenderChat " + name + "/" + shape.name);
      ++chat_cases;
      Result<std::string> ours = RenderChat(*t, shape.chat);
      if (want.ok) {
        ASSERT_TRUE(ours.ok()) << ours.status().ToString();
        EXPECT_EQ(*ours, want.text);
        if (*ours == want.text) ++chat_matched;
      } else {
        EXPECT_FALSE(ours.ok()) << "Jinja2: " << want.error << "\nours:\n" << *ours;
        if (!ours.ok()) ++chat_matched;
      }
    }
  }
  std::printf("%d of %d RenderChat cases matched Jinja2\n", chat_matched, chat_cases);
  EXPECT_EQ(chat_matched, chat_cases);
  // A template Jinja2 itself cannot render in most shapes checks nothing.
  for (const auto& [name, source] : templates) {
    EXPECT_GE(rendered_per_template[name], min_rendered) << name;
  }
}

TEST(JinjaChatReferenceTest, FamilyStyleTemplatesMatchJinja2) {
  std::map<std::string, std::string> templates = FamilyTemplates();
  ASSERT_GE(templates.size(), 15u) << "src/jinja/testdata/chat lost templates";
  CompareChatTemplates(templates, 4);
}

// Every tokenizer.chat_template (and named tokenizer.chat_template.* variant) in the shared
// test GGUFs, with the file's own BOS/EOS strings.
TEST(JinjaChatReferenceTest, SharedTestdataGgufTemplatesMatchJinja2) {
  std::optional<std::string> dir = testing::SharedTestdataDir();
  if (!dir) GTEST_SKIP() << "shared test data is absent (../shared/testdata or $CORRAL_TESTDATA)";
  std::map<std::string, std::string> templates;
  std::map<std::string, std::pair<std::string, std::string>> special;
  std::vector<std::string> scanned;
  for (const char* sub : {"models", "vocab"}) {
    std::filesystem::path folder = std::filesystem::path(*dir) / sub;
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.path().extension() != ".gguf") continue;
      scanned.push_back(entry.path().filename().string());
      Result<std::unique_ptr<gguf::GgufFile>> file = gguf::GgufFile::Open(entry.path().string());
      ASSERT_TRUE(file.ok()) << entry.path() << ": " << file.status().ToString();
      // The file's own BOS/EOS texts, as a server passes them to the template.
      auto token_text = [&](const char* id_key) -> std::string {
        Result<uint64_t> id = (*file)->GetUint(id_key);
        const gguf::Value* tokens = (*file)->Find("tokenizer.ggml.tokens");
        if (!id.ok() || tokens == nullptr || *id >= tokens->array_size()) return "";
        return std::string(tokens->Element(*id).AsString().value_or(""));
      };
      const std::string bos = token_text("tokenizer.ggml.bos_token_id");
      const std::string eos = token_text("tokenizer.ggml.eos_token_id");
      for (const gguf::KeyValue& kv : (*file)->metadata()) {
        std::string_view key = kv.key;
        if (key != "tokenizer.chat_template" && !key.starts_with("tokenizer.chat_template.")) {
          continue;
        }
        std::optional<std::string_view> text = kv.value.AsString();
        ASSERT_TRUE(text.has_value()) << entry.path() << " " << key << " is not a string";
        const std::string name = entry.path().stem().string() + ":" + std::string(key);
        templates[name] = std::string(*text);
        special[name] = {bos, eos};
      }
    }
  }
  std::printf("scanned %zu GGUFs, found %zu chat templates\n", scanned.size(), templates.size());
  for (const auto& [name, source] : templates) {
    std::printf("  %s (%zu bytes, bos '%s', eos '%s')\n", name.c_str(), source.size(),
                special[name].first.c_str(), special[name].second.c_str());
  }
  // PROVENANCE.md lists ggml-vocab-phi-3.gguf, which carries one.
  ASSERT_FALSE(templates.empty()) << "no GGUF in " << *dir << " carries a chat template";
  CompareChatTemplates(templates, 4, special);
}

}  // namespace
}  // namespace corral::jinja
