#include "jinja/chat.h"

namespace corral::jinja {
namespace {

using nlohmann::ordered_json;

std::string DefaultImageTag(int index) { return "[img-" + std::to_string(index) + "]"; }

// Ollama's placement (server/prompt.go): each image's tag replaces the next "[img]" in the
// text, or is collected before it.
std::string ContentWithImages(const ChatMessage& message, const ChatContext& chat,
                              int& next_image) {
  if (message.images <= 0) return message.content;
  std::string content = message.content;
  std::string prefix;
  for (int i = 0; i < message.images; ++i) {
    std::string tag = chat.image_tag ? chat.image_tag(next_image) : DefaultImageTag(next_image);
    ++next_image;
    size_t at = content.find("[img]");
    if (at == std::string::npos) {
      prefix += tag;
    } else {
      content.replace(at, 5, tag);
    }
  }
  return prefix + content;
}

}  // namespace

ordered_json BuildChatTemplateContext(const ChatContext& chat) {
  ordered_json messages = ordered_json::array();
  int next_image = 0;
  for (const ChatMessage& m : chat.messages) {
    ordered_json message = ordered_json::object();
    message["role"] = m.role;
    // Always a string, even beside tool calls: templates concatenate content unguarded.
    message["content"] = ContentWithImages(m, chat, next_image);
    if (!m.thinking.empty()) {
      // reasoning_content is what Qwen3/DeepSeek/GLM templates read; llama-server also sets
      // thinking (gpt-oss templates), which is Ollama's own field name.
      message["reasoning_content"] = m.thinking;
      message["thinking"] = m.thinking;
    }
    if (!m.tool_calls.empty()) {
      ordered_json calls = ordered_json::array();
      for (const ChatToolCall& call : m.tool_calls) {
        ordered_json c = {{"type", "function"},
                          {"function", {{"name", call.name}, {"arguments", call.arguments}}}};
        if (!call.id.empty()) c["id"] = call.id;
        calls.push_back(std::move(c));
      }
      message["tool_calls"] = std::move(calls);
    }
    if (!m.tool_name.empty()) message["name"] = m.tool_name;
    if (!m.tool_call_id.empty()) message["tool_call_id"] = m.tool_call_id;
    messages.push_back(std::move(message));
  }
  ordered_json context = ordered_json::object();
  context["messages"] = std::move(messages);
  if (chat.tools.is_array() && !chat.tools.empty()) context["tools"] = chat.tools;
  context["add_generation_prompt"] = chat.add_generation_prompt;
  context["bos_token"] = chat.bos_token;
  context["eos_token"] = chat.eos_token;
  if (chat.enable_thinking.has_value()) context["enable_thinking"] = *chat.enable_thinking;
  if (chat.extra.is_object()) {
    for (const auto& [key, value] : chat.extra.items()) context[key] = value;
  }
  return context;
}

Result<std::string> RenderChat(const Template& tmpl, const ChatContext& chat) {
  return tmpl.RenderOrdered(BuildChatTemplateContext(chat));
}

namespace {

// Renders a probe conversation; a template error (raise_exception on a shape it rejects)
// counts as rendering nothing.
std::string TryRender(const Template& tmpl, const ordered_json& messages,
                      const ordered_json& tools = nullptr) {
  ordered_json context = {{"messages", messages}};
  if (!tools.is_null()) context["tools"] = tools;
  context["add_generation_prompt"] = false;
  context["bos_token"] = "";
  context["eos_token"] = "";
  Result<std::string> out = tmpl.RenderOrdered(context);
  return out.ok() ? *out : std::string();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

ChatCapabilities ProbeChatCapabilities(const Template& tmpl) {
  ChatCapabilities caps;
  const std::string user_needle = "<User Needle>";
  const std::string system_needle = "<System Needle>";
  const ordered_json string_user = {{"role", "user"}, {"content", user_needle}};
  const ordered_json typed_user = {
      {"role", "user"},
      {"content", ordered_json::array({{{"type", "text"}, {"text", user_needle}}})}};
  caps.requires_typed_content =
      !Contains(TryRender(tmpl, ordered_json::array({string_user})), user_needle) &&
      Contains(TryRender(tmpl, ordered_json::array({typed_user})), user_needle);
  const ordered_json& user = caps.requires_typed_content ? typed_user : string_user;
  auto text = [&](const std::string& s) -> ordered_json {
    if (!caps.requires_typed_content) return s;
    return ordered_json::array({{{"type", "text"}, {"text", s}}});
  };

  caps.supports_system_role =
      Contains(TryRender(tmpl, {{{"role", "system"}, {"content", text(system_needle)}}, user}),
               system_needle);

  const ordered_json tool = {
      {"type", "function"},
      {"function",
       {{"name", "some_tool"},
        {"description", "Some tool."},
        {"parameters",
         {{"type", "object"},
          {"properties", {{"arg", {{"type", "string"}, {"description", "Some argument."}}}}},
          {"required", {"arg"}}}}}}};
  caps.supports_tools = Contains(
      TryRender(tmpl, ordered_json::array({user}), ordered_json::array({tool})), "some_tool");

  auto call = [](const std::string& name, const std::string& id) {
    return ordered_json{
        {"type", "function"},
        {"function",
         {{"name", name}, {"arguments", {{"argument_needle", "print('Hello, World!')"}}}}},
        {"id", id}};
  };
  auto calls_message = [&](ordered_json calls) {
    return ordered_json{{"role", "assistant"}, {"content", ""}, {"tool_calls", std::move(calls)}};
  };
  const std::string one = TryRender(
      tmpl, {user, calls_message(ordered_json::array({call("test_tool1", "call_1___")}))});
  caps.supports_tool_calls =
      Contains(one, "\"argument_needle\":") || Contains(one, "'argument_needle':") ||
      Contains(one, ">argument_needle<") || Contains(one, "<parameter=argument_needle>");
  if (caps.supports_tool_calls) {
    const std::string two = TryRender(
        tmpl, {user, calls_message(ordered_json::array(
                         {call("test_tool1", "call_1___"), call("test_tool2", "call_2___")}))});
    caps.supports_parallel_tool_calls = Contains(two, "test_tool1") && Contains(two, "test_tool2");
    const std::string response =
        TryRender(tmpl, {user,
                         calls_message(ordered_json::array({call("test_tool1", "call_1___")})),
                         {{"role", "tool"},
                          {"name", "test_tool1"},
                          {"content", text("Some response!")},
                          {"tool_call_id", "call_1___"}}});
    caps.supports_tool_responses = Contains(response, "Some response!");
  }

  const std::string reasoning_needle = "<Reasoning Needle>";
  caps.supports_reasoning_content =
      Contains(TryRender(tmpl, {user,
                                {{"role", "assistant"},
                                 {"content", text("Answer.")},
                                 {"reasoning_content", reasoning_needle}}}),
               reasoning_needle);
  caps.mentions_enable_thinking = Contains(tmpl.source(), "enable_thinking");
  return caps;
}

}  // namespace corral::jinja
