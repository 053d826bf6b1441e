// The Jinja path for models without a Go template: the request becomes jinja::ChatContext,
// which builds the variables llama-server passes a GGUF chat template.
#include "jinja/chat.h"
#include "jinja/template.h"
#include "prompt/prompt.h"

namespace corral::prompt {

Result<std::string> RenderJinjaChat(std::string_view chat_template, const ChatRequest& request,
                                    std::string_view bos_token, std::string_view eos_token) {
  ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(chat_template, jinja::Options{}));
  jinja::ChatContext chat;
  chat.messages.reserve(request.messages.size());
  for (const Message& m : request.messages) {
    jinja::ChatMessage message;
    message.role = m.role;
    message.content = m.content;
    message.thinking = m.thinking;
    message.images = static_cast<int>(m.images.size());
    for (const ToolCall& call : m.tool_calls) {
      message.tool_calls.push_back(
          {.id = call.id, .name = call.name, .arguments = nlohmann::ordered_json(call.arguments)});
    }
    message.tool_name = m.tool_name;
    message.tool_call_id = m.tool_call_id;
    chat.messages.push_back(std::move(message));
  }
  if (request.tools.is_array() && !request.tools.empty()) {
    chat.tools = nlohmann::ordered_json(request.tools);
  }
  chat.bos_token = bos_token;
  chat.eos_token = eos_token;
  if (request.think.set) chat.enable_thinking = request.think.enabled;
  return jinja::RenderChat(t, chat);
}

}  // namespace corral::prompt
