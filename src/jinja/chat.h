// Chat rendering with a GGUF's Jinja chat template: builds the variables HuggingFace's
// apply_chat_template and llama-server pass a template (messages in OpenAI form, tools,
// add_generation_prompt, bos_token, eos_token, enable_thinking) from a chat request, and
// probes what a template can render (system role, tools, tool calls, thinking) the way
// llama.cpp does, for /api/show capabilities.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "jinja/template.h"

namespace corral::jinja {

struct ChatToolCall {
  std::string id;  // sent as tool_calls[i].id when not empty
  std::string name;
  // An object, as Ollama sends it and as llama-server hands templates that render objects.
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
};

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::string content;
  std::string thinking;  // becomes reasoning_content (Qwen3, DeepSeek-R1 style) and thinking
  int images = 0;        // images attached to this message; see ChatContext::image_tag
  std::vector<ChatToolCall> tool_calls;
  std::string tool_name;     // role tool: the function that produced the result; becomes name
  std::string tool_call_id;  // role tool: the call answered
};

struct ChatContext {
  std::vector<ChatMessage> messages;
  // JSON-schema tool list as OpenAI/Ollama send it: [{"type":"function","function":{...}}].
  // Null or empty: no tools (the variable is left undefined, as llama-server does).
  nlohmann::ordered_json tools;
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  // Set only when the request says think true/false; undefined otherwise.
  std::optional<bool> enable_thinking;
  // More top-level variables (e.g. date_string); an object or null.
  nlohmann::ordered_json extra;
  // The text standing for image `index` (numbered across the conversation). Empty: Ollama's
  // "[img-N]", which replaces an "[img]" in the content or else goes before it.
  std::function<std::string(int index)> image_tag;
};

// The template variables for `chat`, keys in the order templates will see them.
nlohmann::ordered_json BuildChatTemplateContext(const ChatContext& chat);

// Renders `chat` with `tmpl`; a template's raise_exception comes back as InvalidArgument.
Result<std::string> RenderChat(const Template& tmpl, const ChatContext& chat);

// What a template does with each kind of input, found by rendering probe conversations and
// looking for a needle in the output, as llama.cpp's chat-template capability probe does.
struct ChatCapabilities {
  bool supports_system_role = false;  // a system message's text appears
  bool supports_tools = false;        // a tool definition's name appears
  bool supports_tool_calls = false;   // an assistant tool call's arguments appear
  bool supports_parallel_tool_calls = false;
  bool supports_tool_responses = false;     // a tool message's content appears
  bool requires_typed_content = false;      // only [{"type":"text",...}] content renders
  bool supports_reasoning_content = false;  // an assistant's reasoning_content appears
  bool mentions_enable_thinking = false;    // the source reads enable_thinking (Qwen3 style)
};

ChatCapabilities ProbeChatCapabilities(const Template& tmpl);

}  // namespace corral::jinja
