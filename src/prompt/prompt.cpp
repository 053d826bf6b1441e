#include "prompt/prompt.h"

#include <algorithm>
#include <utility>

#include "prompt/go_values.h"

namespace corral::prompt {
namespace {

using nlohmann::json;

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// template.go collate: consecutive messages of one role merge into the first with "\n\n"
// (only the content: the later message's images and tool calls are dropped, as in Ollama);
// tool messages never merge. Returns the system messages' texts joined with "\n\n".
std::pair<std::string, std::vector<Message>> Collate(const std::vector<Message>& messages) {
  std::string system;
  bool any_system = false;
  std::vector<Message> collated;
  for (const Message& m : messages) {
    if (m.role == "system") {
      if (any_system) system += "\n\n";
      system += m.content;
      any_system = true;
    }
    if (!collated.empty() && collated.back().role == m.role && m.role != "tool") {
      collated.back().content += "\n\n" + m.content;
    } else {
      collated.push_back(m);
    }
  }
  return {std::move(system), std::move(collated)};
}

Result<std::string> Run(const tmpl::Template& t, const json& data, const tmpl::ExecOptions& options,
                        bool until_response) {
  std::unordered_map<const json*, std::string> strings = GoStrings(data);
  tmpl::ExecOptions with_strings = options;
  with_strings.go_strings = &strings;
  return until_response ? t.ExecuteUntilResponse(data, with_strings)
                        : t.Execute(data, with_strings);
}

json LegacyData(const std::string& system, const std::string& prompt, const std::string& response,
                const Think& think) {
  return {{"System", system},       {"Prompt", prompt},          {"Response", response},
          {"Think", think.enabled}, {"ThinkLevel", think.level}, {"IsThinkSet", think.set}};
}

// chatPrompt's image tags: "[img-N]" replaces the first "[img]" or goes before the content.
void TagImages(std::vector<Message>* messages) {
  int next_image = 0;
  for (Message& m : *messages) {
    std::string prefix;
    std::string content = m.content;
    for (size_t i = 0; i < m.images.size(); ++i) {
      std::string tag = "[img-" + std::to_string(next_image++) + "]";
      size_t at = content.find("[img]");
      if (at == std::string::npos) {
        prefix += tag;
      } else {
        content.replace(at, 5, tag);
      }
    }
    m.content = prefix + content;
  }
}

}  // namespace

Result<PromptTemplate> PromptTemplate::Parse(std::string_view text) {
  ASSIGN_OR_RETURN(tmpl::Template parsed, tmpl::Template::Parse("", text));
  std::vector<std::string> vars = parsed.Vars();
  if (!Contains(vars, "messages") && !Contains(vars, "response")) {
    // Ollama appends a {{ .Response }} node to the parsed tree; appending the action to the
    // text gives the same tree (an action after the last node, whatever trim markers precede).
    std::string with_response(text);
    with_response += "{{ .Response }}";
    ASSIGN_OR_RETURN(parsed, tmpl::Template::Parse("", with_response));
    vars = parsed.Vars();
  }
  bool uses_messages = Contains(vars, "messages") || Contains(vars, "document");
  return PromptTemplate(std::move(parsed), uses_messages);
}

const PromptTemplate& PromptTemplate::Default() {
  static const PromptTemplate* const kDefault =
      new PromptTemplate(PromptTemplate::Parse("{{ .Prompt }}").value());
  return *kDefault;
}

Result<std::string> ExecuteTemplate(const PromptTemplate& t, const TemplateValues& values,
                                    const tmpl::ExecOptions& options) {
  const tmpl::Template& go = t.go_template();
  if (!values.prompt.empty() && !values.suffix.empty()) {
    json data = {{"Prompt", values.prompt},
                 {"Suffix", values.suffix},
                 {"Response", ""},
                 {"Think", values.think.enabled},
                 {"IsThinkSet", values.think.set}};
    return Run(go, data, options, /*until_response=*/false);
  }
  auto [system, messages] = Collate(values.messages);
  if (t.uses_messages()) {
    json data = {{"System", system},
                 {"Messages", GoMessages(messages)},
                 {"Tools", GoTools(values.tools)},
                 {"Response", ""},
                 {"Think", values.think.enabled},
                 {"ThinkLevel", values.think.level},
                 {"IsThinkSet", values.think.set},
                 {"Query", ""},
                 {"Document", ""},
                 {"Instruction", ""}};
    return Run(go, data, options, /*until_response=*/false);
  }

  // Legacy: one execution per (system?, user, assistant) turn; a new turn starts when a user
  // message follows a response or a system message follows anything.
  std::string out;
  std::string turn_system;
  std::string prompt;
  std::string response;
  auto execute = [&]() -> Status {
    ASSIGN_OR_RETURN(std::string text,
                     Run(go, LegacyData(turn_system, prompt, response, values.think), options,
                         /*until_response=*/false));
    out += text;
    turn_system.clear();
    prompt.clear();
    response.clear();
    return Status::Ok();
  };
  for (const Message& m : messages) {
    if (m.role == "system") {
      if (!prompt.empty() || !response.empty()) RETURN_IF_ERROR(execute());
      turn_system = m.content;
    } else if (m.role == "user") {
      if (!response.empty()) RETURN_IF_ERROR(execute());
      prompt = m.content;
    } else if (m.role == "assistant") {
      response = m.content;
    }
  }
  // The last turn stops right after {{ .Response }} so generation continues from there.
  ASSIGN_OR_RETURN(std::string last,
                   Run(go, LegacyData(turn_system, prompt, response, values.think), options,
                       /*until_response=*/true));
  return out + last;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The content Ollama's thinking parser leaves of a message: a <think>...</think> block at the
// start (after whitespace) goes, with the whitespace after it; an unclosed block takes the
// rest; text not starting with <think> stays as it is.
std::string WithoutLeadingThinking(const std::string& content) {
  size_t start = 0;
  while (start < content.size() && IsSpace(content[start])) ++start;
  if (content.compare(start, 7, "<think>") != 0) return content;
  size_t close = content.find("</think>", start + 7);
  if (close == std::string::npos) return "";
  size_t rest = close + 8;
  while (rest < content.size() && IsSpace(content[rest])) ++rest;
  return content.substr(rest);
}

// ChatHandler: the model's MESSAGEs go first, and its SYSTEM before them unless the request
// starts with its own system message; then filterThinkTags.
std::vector<Message> WithModelDefaults(const ChatRequest& request, const ModelDefaults& model) {
  std::vector<Message> messages = model.messages;
  messages.insert(messages.end(), request.messages.begin(), request.messages.end());
  bool starts_with_system = !request.messages.empty() && request.messages[0].role == "system";
  if (!starts_with_system && !model.system.empty()) {
    messages.insert(messages.begin(), Message{.role = "system", .content = model.system});
  }
  if (model.strip_earlier_thinking) {
    size_t last_user = messages.size();
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].role == "user") last_user = i;
    }
    for (size_t i = 0; i < messages.size() && last_user != messages.size(); ++i) {
      if (messages[i].role == "assistant" && i < last_user) {
        messages[i].content = WithoutLeadingThinking(messages[i].content);
      }
    }
  }
  return messages;
}

}  // namespace

Result<std::string> RenderChat(const PromptTemplate& t, const ChatRequest& request,
                               const ModelDefaults& model, const tmpl::ExecOptions& options) {
  std::vector<Message> messages = WithModelDefaults(request, model);
  TagImages(&messages);
  TemplateValues values;
  values.messages = std::move(messages);
  values.tools = request.tools;
  values.think = request.think;
  return ExecuteTemplate(t, values, options);
}

Result<std::string> RenderChatPrompt(const ChatFormat& format, const ChatRequest& request,
                                     const ModelDefaults& model, const tmpl::ExecOptions& options) {
  if (format.go_template.has_value())
    return RenderChat(*format.go_template, request, model, options);
  if (format.chat_template.empty()) {
    return RenderChat(PromptTemplate::Default(), request, model, options);
  }
  ChatRequest with_defaults = request;
  with_defaults.messages = WithModelDefaults(request, model);
  return RenderJinjaChat(format.chat_template, with_defaults, format.bos_token, format.eos_token);
}

Result<std::string> RenderGenerate(const PromptTemplate& t, const GenerateRequest& request,
                                   const ModelDefaults& model,
                                   const tokenizer::Tokenizer* tokenizer,
                                   const tmpl::ExecOptions& options) {
  if (request.raw) return request.prompt;
  TemplateValues values;
  values.think = request.think;
  if (!request.suffix.empty()) {
    values.prompt = request.prompt;
    values.suffix = request.suffix;
  } else {
    std::string system = request.system.empty() ? model.system : request.system;
    if (!system.empty()) values.messages.push_back({.role = "system", .content = system});
    if (request.context.empty()) {
      values.messages.insert(values.messages.end(), model.messages.begin(), model.messages.end());
    }
    // Each image is a user turn of its own tag; collate then merges them with the prompt.
    for (int i = 0; i < request.images; ++i) {
      values.messages.push_back({.role = "user", .content = "[img-" + std::to_string(i) + "]"});
    }
    values.messages.push_back({.role = "user", .content = request.prompt});
  }
  std::string out;
  if (!request.context.empty()) {
    if (tokenizer == nullptr) {
      return InvalidArgumentError("a context continuation needs the model's tokenizer");
    }
    // Ollama's runner detokenizes piece by piece, special tokens included.
    for (int32_t id : request.context) {
      if (id < 0 || id >= tokenizer->n_tokens()) {
        return InvalidArgumentError("context token " + std::to_string(id) + " is out of range");
      }
      out += tokenizer->TokenToPiece(id, /*special=*/true);
    }
  }
  ASSIGN_OR_RETURN(std::string rendered, ExecuteTemplate(t, values, options));
  return out + rendered;
}

std::vector<int32_t> TokenizePrompt(const tokenizer::Tokenizer& tokenizer, std::string_view text) {
  return tokenizer.Encode(text, /*add_special=*/true, /*parse_special=*/true);
}

}  // namespace corral::prompt
