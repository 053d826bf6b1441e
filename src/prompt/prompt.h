// Prompt building as Ollama does it: a chat or generate request becomes the text the model
// sees (Go TEMPLATE layer, else the GGUF's Jinja chat template, else the prompt as is), and
// that text becomes tokens with special-token parsing.
//
//   ASSIGN_OR_RETURN(PromptTemplate t, PromptTemplate::Parse(model_template_text));
//   ASSIGN_OR_RETURN(std::string text, RenderChat(t, request));
//   std::vector<int32_t> ids = TokenizePrompt(tokenizer, text);
//
// The ports follow Ollama's server/prompt.go (chatPrompt), server/routes.go (GenerateHandler)
// and template/template.go (Parse, Execute, collate); the goldens in
// src/template/testdata/goldens were rendered by Go's text/template the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "template/template.h"
#include "tokenizer/tokenizer.h"

namespace corral::prompt {

struct ToolCall {
  std::string id;
  int index = 0;
  std::string name;
  // In the model's order: Ollama keeps the key order of the arguments it parses.
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
};

struct Message {
  std::string role;  // system, user, assistant, tool
  std::string content;
  std::string thinking;
  // The images attached (their bytes or base64, opaque here): each becomes an "[img-N]" tag.
  std::vector<std::string> images;
  std::vector<ToolCall> tool_calls;
  std::string tool_name;
  std::string tool_call_id;
};

// The request's "think": absent, true/false, or a level ("high", "medium", "low"; counts as on).
struct Think {
  bool set = false;
  bool enabled = false;
  std::string level;
};

struct ChatRequest {
  std::vector<Message> messages;
  // The request's "tools" as sent: [{"type": "function", "function": {...}}]. Null or empty:
  // none.
  nlohmann::json tools;
  Think think;
};

struct GenerateRequest {
  std::string prompt;
  std::string system;  // empty: the model's SYSTEM
  std::string suffix;  // fill-in-the-middle: rendered with .Prompt and .Suffix only
  bool raw = false;    // the prompt is sent as is, no template
  int images = 0;      // attached images: "[img-N]" user turns before the prompt
  Think think;
  // A previous response's context: its tokens are detokenized and put before the new prompt
  // (Ollama's deprecated continuation), and the model's MESSAGEs are then left out.
  std::vector<int32_t> context;
};

// What the model brings: its Modelfile SYSTEM and MESSAGEs.
struct ModelDefaults {
  std::string system;
  std::vector<Message> messages;
  // Ollama's filterThinkTags, on for the qwen3 family and models named deepseek-r1: assistant
  // messages before the last user message lose a leading <think>...</think> block.
  bool strip_earlier_thinking = false;
};

// A Go TEMPLATE as Ollama holds it: parsed, with {{ .Response }} appended when the text names
// neither .Messages nor .Response (template.go Parse).
class PromptTemplate {
 public:
  static Result<PromptTemplate> Parse(std::string_view text);
  // Ollama's DefaultTemplate, "{{ .Prompt }}", for models with no template at all.
  static const PromptTemplate& Default();

  const tmpl::Template& go_template() const { return template_; }
  // Whether the template is rendered once over .Messages (else turn by turn, "legacy").
  bool uses_messages() const { return uses_messages_; }

 private:
  PromptTemplate(tmpl::Template t, bool uses_messages)
      : template_(std::move(t)), uses_messages_(uses_messages) {}
  tmpl::Template template_;
  bool uses_messages_ = false;
};

// The values template.go Execute receives.
struct TemplateValues {
  std::vector<Message> messages;
  nlohmann::json tools;
  std::string prompt;  // with suffix: fill-in-the-middle
  std::string suffix;
  Think think;
};

// template.go Execute: fill-in-the-middle when both prompt and suffix are set; otherwise the
// messages (collated: same-role neighbours merged, system texts joined) go to a messages
// template in one execution, or to a legacy template turn by turn with the last turn cut after
// {{ .Response }}.
Result<std::string> ExecuteTemplate(const PromptTemplate& t, const TemplateValues& values,
                                    const tmpl::ExecOptions& options = {});

// chatPrompt without truncation: images become "[img-N]" tags (numbered across the whole
// conversation) replacing "[img]" in the content, else put before it. The model's SYSTEM goes
// first when the conversation does not start with a system message, after its MESSAGEs.
Result<std::string> RenderChat(const PromptTemplate& t, const ChatRequest& request,
                               const ModelDefaults& model = {},
                               const tmpl::ExecOptions& options = {});

// GenerateHandler's prompt: raw returns the prompt untouched; otherwise system, model
// MESSAGEs (without context), image turns and the prompt go through the template, and the
// detokenized context (needs `tokenizer`) goes before it.
Result<std::string> RenderGenerate(const PromptTemplate& t, const GenerateRequest& request,
                                   const ModelDefaults& model = {},
                                   const tokenizer::Tokenizer* tokenizer = nullptr,
                                   const tmpl::ExecOptions& options = {});

// The seam for models without a Go template: renders a GGUF tokenizer.chat_template with the
// variables Hugging Face passes (messages, tools, add_generation_prompt, bos_token, eos_token,
// enable_thinking when think is set). Minimal: src/jinja's chat module is meant to take over.
Result<std::string> RenderJinjaChat(std::string_view chat_template, const ChatRequest& request,
                                    std::string_view bos_token, std::string_view eos_token);

// What renders a model's chat prompts, in Ollama's order of precedence: its Go TEMPLATE layer,
// else its GGUF tokenizer.chat_template through Jinja, else Ollama's default "{{ .Prompt }}".
struct ChatFormat {
  std::optional<PromptTemplate> go_template;
  std::string chat_template;  // Jinja; used only without a Go template
  std::string bos_token;      // for the Jinja variables
  std::string eos_token;
};

Result<std::string> RenderChatPrompt(const ChatFormat& format, const ChatRequest& request,
                                     const ModelDefaults& model = {},
                                     const tmpl::ExecOptions& options = {});

// The runner's tokenization: special tokens written in the text become their ids and BOS/EOS
// are added as the vocabulary asks (llama.cpp's add_special), as Ollama does for every prompt.
std::vector<int32_t> TokenizePrompt(const tokenizer::Tokenizer& tokenizer, std::string_view text);

// The request's "think" value (bool or level string) as Ollama reads it; InvalidArgument for
// anything else.
Result<Think> ParseThink(const nlohmann::json& value);

// Messages from Ollama's API JSON ([{"role", "content", "thinking", "images", "tool_calls",
// "tool_name", "tool_call_id"}]); roles are lower-cased as Ollama does.
Result<std::vector<Message>> ParseMessages(const nlohmann::json& messages);

}  // namespace corral::prompt
