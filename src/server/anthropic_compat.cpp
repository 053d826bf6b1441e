#include "server/anthropic_compat.h"

#include <httplib.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <random>
#include <utility>

#include "base/strings.h"
#include "server/compat_json.h"
#include "server/inference_routes.h"
#include "server/json_request.h"
#include "server/native_bridge.h"
#include "server/server_state.h"

namespace corral::server {

using compat::Bad;
using compat::CheckKeys;
using compat::Field;
using compat::GetString;
using compat::Given;
using compat::IntField;
using compat::JoinPath;
using compat::Kind;
using compat::Number;
using compat::RandomHex;
using compat::StringField;
using compat::WrongType;

namespace anthropic {
namespace {

constexpr const char kEventStream[] = "text/event-stream";

// A content block's "type", required.
Result<std::string> BlockType(const ojson& block, const std::string& path) {
  if (!block.is_object()) return WrongType(block, path, "a content block object");
  std::string type;
  RETURN_IF_ERROR(GetString(block, path, "type", &type));
  if (type.empty()) return Bad(path + ".type: required");
  return type;
}

Status TextBlock(const ojson& block, const std::string& path, std::string* text) {
  RETURN_IF_ERROR(CheckKeys(block, path, {"type", "text", "citations"}, {"cache_control"}));
  if (const ojson* c = Given(block, "citations"); c && !(c->is_array() && c->empty())) {
    return Bad(path + ".citations: citations are not supported");
  }
  const ojson* t = Given(block, "text");
  if (!t) return Bad(path + ".text: required");
  if (!t->is_string()) return WrongType(*t, path + ".text", "a string");
  *text += t->get<std::string>();
  return Status::Ok();
}

// An image block's base64 data (the native message's `images` entry).
Result<std::string> ImageBlock(const ojson& block, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(block, path, {"type", "source"}, {"cache_control"}));
  const ojson* source = Given(block, "source");
  if (!source) return Bad(path + ".source: required");
  if (!source->is_object()) return WrongType(*source, path + ".source", "an object");
  std::string type, data;
  RETURN_IF_ERROR(GetString(*source, path + ".source", "type", &type));
  if (type != "base64") {
    return Bad(path + ".source.type: image source type '" + type +
               "' is not supported, only base64 images are");
  }
  RETURN_IF_ERROR(CheckKeys(*source, path + ".source", {"type", "media_type", "data"}));
  RETURN_IF_ERROR(GetString(*source, path + ".source", "data", &data));
  if (data.empty()) return Bad(path + ".source.data: required");
  return data;
}

// A tool_result's content: a string, or text and image blocks.
Status ToolResultContent(const ojson& content, const std::string& path, std::string* text,
                         ojson* images) {
  if (content.is_null()) return Status::Ok();
  if (content.is_string()) {
    *text = content.get<std::string>();
    return Status::Ok();
  }
  if (!content.is_array()) return WrongType(content, path, "a string or an array of blocks");
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string p = JoinPath(path, i);
    ASSIGN_OR_RETURN(std::string type, BlockType(content[i], p));
    if (type == "text") {
      RETURN_IF_ERROR(TextBlock(content[i], p, text));
    } else if (type == "image") {
      ASSIGN_OR_RETURN(std::string data, ImageBlock(content[i], p));
      images->push_back(std::move(data));
    } else {
      return Bad(p + ".type: content block type '" + type + "' is not supported in a tool_result");
    }
  }
  return Status::Ok();
}

// One Anthropic message as native messages, in Ollama's order: a user message's tool results
// come first (they answer the previous assistant turn), then its text; tool_use blocks become
// the message's tool_calls. `tool_names` maps tool_use ids seen so far to their tool, so a
// tool message carries the tool_name templates may render.
Status TranslateMessage(const ojson& message, const std::string& path,
                        std::map<std::string, std::string>* tool_names, ojson* out) {
  if (!message.is_object()) return WrongType(message, path, "a message object");
  RETURN_IF_ERROR(CheckKeys(message, path, {"role", "content"}));
  std::string role;
  RETURN_IF_ERROR(GetString(message, path, "role", &role));
  if (role != "user" && role != "assistant") {
    return Bad(path + ".role: must be \"user\" or \"assistant\", got \"" + role + "\"");
  }
  const ojson* content = Given(message, "content");
  if (!content) return Bad(path + ".content: required");

  std::string text, thinking;
  ojson images = ojson::array(), tool_calls = ojson::array(), tool_results = ojson::array();
  if (content->is_string()) {
    text = content->get<std::string>();
  } else if (!content->is_array()) {
    return WrongType(*content, path + ".content", "a string or an array of content blocks");
  } else {
    for (size_t i = 0; i < content->size(); ++i) {
      const ojson& block = (*content)[i];
      const std::string p = JoinPath(path + ".content", i);
      ASSIGN_OR_RETURN(std::string type, BlockType(block, p));
      if (type == "text") {
        RETURN_IF_ERROR(TextBlock(block, p, &text));
      } else if (type == "image") {
        ASSIGN_OR_RETURN(std::string data, ImageBlock(block, p));
        images.push_back(std::move(data));
      } else if (type == "tool_use") {
        RETURN_IF_ERROR(CheckKeys(block, p, {"type", "id", "name", "input"}, {"cache_control"}));
        std::string id, name;
        RETURN_IF_ERROR(GetString(block, p, "id", &id));
        RETURN_IF_ERROR(GetString(block, p, "name", &name));
        if (id.empty()) return Bad(p + ": tool_use block missing required 'id' field");
        if (name.empty()) return Bad(p + ": tool_use block missing required 'name' field");
        ojson input = ojson::object();
        if (const ojson* in = Given(block, "input")) {
          if (!in->is_object()) return WrongType(*in, p + ".input", "an object");
          input = *in;
        }
        (*tool_names)[id] = name;
        ojson function = ojson::object();
        function["name"] = name;
        function["arguments"] = std::move(input);
        tool_calls.push_back(ojson{{"id", id}, {"function", std::move(function)}});
      } else if (type == "tool_result") {
        RETURN_IF_ERROR(
            CheckKeys(block, p, {"type", "tool_use_id", "content"}, {"cache_control", "is_error"}));
        std::string id, result;
        RETURN_IF_ERROR(GetString(block, p, "tool_use_id", &id));
        if (id.empty()) return Bad(p + ": tool_result block missing required 'tool_use_id' field");
        ojson result_images = ojson::array();
        if (const ojson* c = Given(block, "content")) {
          RETURN_IF_ERROR(ToolResultContent(*c, p + ".content", &result, &result_images));
        }
        ojson tool = ojson::object();
        tool["role"] = "tool";
        tool["content"] = std::move(result);
        if (!result_images.empty()) tool["images"] = std::move(result_images);
        tool["tool_call_id"] = id;
        if (auto it = tool_names->find(id); it != tool_names->end()) tool["tool_name"] = it->second;
        tool_results.push_back(std::move(tool));
      } else if (type == "thinking") {
        RETURN_IF_ERROR(CheckKeys(block, p, {"type", "thinking"}, {"signature"}));
        RETURN_IF_ERROR(GetString(block, p, "thinking", &thinking));
      } else if (type == "redacted_thinking") {
        // Encrypted reasoning from Anthropic's servers: nothing a local model can read.
        continue;
      } else {
        return Bad(p + ".type: content block type '" + type + "' is not supported");
      }
    }
  }

  const bool user = role == "user";
  if (user) {
    for (auto& r : tool_results) out->push_back(std::move(r));
  }
  if (!text.empty() || !images.empty() || !tool_calls.empty() || !thinking.empty()) {
    ojson m = ojson::object();
    m["role"] = role;
    m["content"] = std::move(text);
    if (!thinking.empty()) m["thinking"] = std::move(thinking);
    if (!images.empty()) m["images"] = std::move(images);
    if (!tool_calls.empty()) m["tool_calls"] = std::move(tool_calls);
    out->push_back(std::move(m));
  }
  if (!user) {
    for (auto& r : tool_results) out->push_back(std::move(r));
  }
  return Status::Ok();
}

Result<ojson> TranslateTool(const ojson& tool, const std::string& path) {
  if (!tool.is_object()) return WrongType(tool, path, "a tool object");
  RETURN_IF_ERROR(
      CheckKeys(tool, path, {"type", "name", "description", "input_schema"}, {"cache_control"}));
  std::string type, name, description;
  RETURN_IF_ERROR(GetString(tool, path, "type", &type));
  if (!type.empty() && type != "custom") {
    return Bad(path + ".type: tool type '" + type + "' is not supported, only custom tools are");
  }
  RETURN_IF_ERROR(GetString(tool, path, "name", &name));
  if (name.empty()) return Bad(path + ".name: required");
  RETURN_IF_ERROR(GetString(tool, path, "description", &description));
  ojson schema = ojson{{"type", "object"}, {"properties", ojson::object()}};
  if (const ojson* s = Given(tool, "input_schema")) {
    if (!s->is_object()) return WrongType(*s, path + ".input_schema", "an object");
    schema = *s;
  }
  ojson function = ojson::object();
  function["name"] = name;
  if (!description.empty()) function["description"] = description;
  function["parameters"] = std::move(schema);
  return ojson{{"type", "function"}, {"function", std::move(function)}};
}

// Every sampled token's text from the native logprobs (asked for when there are stop
// sequences): unlike the content, it still holds the stop string.
void AppendSampled(const ojson& native, std::string* sampled) {
  const ojson& logprobs = Field(native, "logprobs");
  if (!logprobs.is_array()) return;
  for (const ojson& lp : logprobs) *sampled += StringField(lp, "token");
}

// stop_reason and stop_sequence for the final native object.
std::pair<ojson, ojson> StopReason(const ojson& native, bool tool_calls, std::string_view sampled,
                                   const std::vector<std::string>& stops) {
  if (tool_calls) return {"tool_use", nullptr};
  const std::string reason = StringField(native, "done_reason");
  if (reason == "length") return {"max_tokens", nullptr};
  if (std::optional<std::string> stop = MatchedStopSequence(sampled, stops)) {
    return {"stop_sequence", *stop};
  }
  return {"end_turn", nullptr};
}

ojson Usage(const ojson& native) {
  return ojson{{"input_tokens", IntField(native, "prompt_eval_count")},
               {"output_tokens", IntField(native, "eval_count")}};
}

std::string ErrorMessage(const ojson& native) {
  const ojson& e = Field(native, "error");
  return e.is_string() ? e.get<std::string>() : native.dump();
}

}  // namespace

Result<MessagesRequest> TranslateRequest(const ojson& body) {
  if (!body.is_object()) return WrongType(body, "request body", "an object");
  RETURN_IF_ERROR(
      CheckKeys(body, "",
                {"model", "max_tokens", "messages", "system", "stream", "temperature", "top_p",
                 "top_k", "stop_sequences", "tools", "tool_choice", "thinking", "output_config"},
                {"metadata", "service_tier", "cache_control", "speed", "inference_geo"}));
  MessagesRequest r;
  RETURN_IF_ERROR(GetString(body, "", "model", &r.model));
  if (r.model.empty()) return Bad("model is required");
  const ojson* max_tokens = Given(body, "max_tokens");
  if (max_tokens && !max_tokens->is_number_integer()) {
    return WrongType(*max_tokens, "max_tokens", "an integer");
  }
  if (!max_tokens || max_tokens->get<int64_t>() <= 0) {
    return Bad("max_tokens is required and must be positive");
  }
  const ojson* messages = Given(body, "messages");
  if (messages && !messages->is_array()) return WrongType(*messages, "messages", "an array");
  if (!messages || messages->empty()) return Bad("messages is required");
  if (const ojson* s = Given(body, "stream")) {
    if (!s->is_boolean()) return WrongType(*s, "stream", "a boolean");
    r.stream = s->get<bool>();
  }

  ojson native_messages = ojson::array();
  if (const ojson* system = Given(body, "system")) {
    // Ollama joins the text blocks of a block-form system prompt without a separator.
    std::string text;
    if (system->is_string()) {
      text = system->get<std::string>();
    } else if (system->is_array()) {
      for (size_t i = 0; i < system->size(); ++i) {
        const std::string p = JoinPath("system", i);
        ASSIGN_OR_RETURN(std::string type, BlockType((*system)[i], p));
        if (type != "text") return Bad(p + ".type: system blocks must be text, got '" + type + "'");
        RETURN_IF_ERROR(TextBlock((*system)[i], p, &text));
      }
    } else {
      return WrongType(*system, "system", "a string or an array of text blocks");
    }
    if (!text.empty()) native_messages.push_back(ojson{{"role", "system"}, {"content", text}});
  }
  std::map<std::string, std::string> tool_names;
  for (size_t i = 0; i < messages->size(); ++i) {
    RETURN_IF_ERROR(
        TranslateMessage((*messages)[i], JoinPath("messages", i), &tool_names, &native_messages));
  }

  ojson tools = ojson::array();
  if (const ojson* t = Given(body, "tools")) {
    if (!t->is_array()) return WrongType(*t, "tools", "an array");
    for (size_t i = 0; i < t->size(); ++i) {
      ASSIGN_OR_RETURN(ojson tool, TranslateTool((*t)[i], JoinPath("tools", i)));
      tools.push_back(std::move(tool));
    }
  }
  if (const ojson* choice = Given(body, "tool_choice")) {
    if (!choice->is_object()) return WrongType(*choice, "tool_choice", "an object");
    RETURN_IF_ERROR(
        CheckKeys(*choice, "tool_choice", {"type", "name"}, {"disable_parallel_tool_use"}));
    std::string type;
    RETURN_IF_ERROR(GetString(*choice, "tool_choice", "type", &type));
    if (type == "none") {
      tools = ojson::array();
    } else if (type != "auto") {
      // "any" and "tool" force a call; the model here always decides for itself.
      return Bad("tool_choice.type: '" + type + "' is not supported, only 'auto' and 'none' are");
    }
  }

  ojson options = ojson::object();
  options["num_predict"] = max_tokens->get<int64_t>();
  for (const char* key : {"temperature", "top_p"}) {
    if (Given(body, key)) {
      ASSIGN_OR_RETURN(double v, Number(body, key));
      options[key] = v;
    }
  }
  if (const ojson* k = Given(body, "top_k")) {
    if (!k->is_number_integer()) return WrongType(*k, "top_k", "an integer");
    options["top_k"] = k->get<int64_t>();
  }
  if (const ojson* stops = Given(body, "stop_sequences")) {
    if (!stops->is_array()) return WrongType(*stops, "stop_sequences", "an array of strings");
    for (size_t i = 0; i < stops->size(); ++i) {
      if (!(*stops)[i].is_string()) {
        return WrongType((*stops)[i], JoinPath("stop_sequences", i), "a string");
      }
      r.stop_sequences.push_back((*stops)[i].get<std::string>());
    }
    if (!r.stop_sequences.empty()) options["stop"] = r.stop_sequences;
  }

  // Thinking: `thinking` decides; else output_config.effort gives a level (Ollama's order).
  ojson think;
  ojson format;
  if (const ojson* config = Given(body, "output_config")) {
    if (!config->is_object()) return WrongType(*config, "output_config", "an object");
    RETURN_IF_ERROR(CheckKeys(*config, "output_config", {"effort", "format"}));
    std::string effort;
    RETURN_IF_ERROR(GetString(*config, "output_config", "effort", &effort));
    if (effort == "low" || effort == "medium" || effort == "high") {
      think = effort;
    } else if (effort == "xhigh" || effort == "max") {
      think = "high";  // the native levels stop at high
    } else if (!effort.empty()) {
      return Bad("output_config.effort: must be low, medium, high, xhigh or max, got '" + effort +
                 "'");
    }
    if (const ojson* f = Given(*config, "format")) {
      if (!f->is_object()) return WrongType(*f, "output_config.format", "an object");
      RETURN_IF_ERROR(CheckKeys(*f, "output_config.format", {"type", "schema"}));
      std::string type;
      RETURN_IF_ERROR(GetString(*f, "output_config.format", "type", &type));
      if (type != "json_schema") {
        return Bad("output_config.format.type: must be 'json_schema', got '" + type + "'");
      }
      const ojson* schema = Given(*f, "schema");
      if (!schema || !schema->is_object()) {
        return Bad("output_config.format.schema: a JSON schema object is required");
      }
      format = *schema;
    }
  }
  if (const ojson* thinking = Given(body, "thinking")) {
    if (!thinking->is_object()) return WrongType(*thinking, "thinking", "an object");
    RETURN_IF_ERROR(CheckKeys(*thinking, "thinking", {"type"}, {"budget_tokens", "display"}));
    std::string type;
    RETURN_IF_ERROR(GetString(*thinking, "thinking", "type", &type));
    if (type == "enabled") {
      think = true;
    } else if (type == "disabled") {
      think = false;
    } else if (type == "adaptive") {
      // The model's own default; a thinking model thinks.
    } else {
      return Bad("thinking.type: must be enabled, disabled or adaptive, got '" + type + "'");
    }
  }
  r.think_requested = !think.is_null() && !(think.is_boolean() && !think.get<bool>());

  ojson native = ojson::object();
  native["model"] = r.model;
  native["messages"] = std::move(native_messages);
  if (!tools.empty()) native["tools"] = std::move(tools);
  if (!format.is_null()) native["format"] = std::move(format);
  native["options"] = std::move(options);
  native["stream"] = r.stream;
  if (!think.is_null()) native["think"] = std::move(think);
  // The sampled tokens' texts tell which stop sequence ended the reply (see MatchedStopSequence).
  if (!r.stop_sequences.empty()) native["logprobs"] = true;
  r.native = std::move(native);
  return r;
}

ojson ErrorBody(int status, std::string_view message) {
  const char* type = "api_error";
  switch (status) {
    case 400:
      type = "invalid_request_error";
      break;
    case 401:
      type = "authentication_error";
      break;
    case 403:
      type = "permission_error";
      break;
    case 404:
      type = "not_found_error";
      break;
    case 413:
      type = "request_too_large";
      break;
    case 429:
      type = "rate_limit_error";
      break;
    case 503:
    case 529:
      type = "overloaded_error";
      break;
    default:
      break;
  }
  return ojson{{"type", "error"}, {"error", {{"type", type}, {"message", std::string(message)}}}};
}

std::optional<std::string> MatchedStopSequence(std::string_view sampled,
                                               const std::vector<std::string>& stops) {
  std::optional<std::string> best;
  size_t best_end = std::string_view::npos;
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;
    const size_t at = sampled.find(stop);
    if (at == std::string_view::npos) continue;
    if (!best || at + stop.size() < best_end) {
      best = stop;
      best_end = at + stop.size();
    }
  }
  return best;
}

ojson MessageFromNative(const ojson& native, const ReplyContext& context) {
  const ojson& message = Field(native, "message");
  ojson content = ojson::array();
  if (std::string thinking = StringField(message, "thinking"); !thinking.empty()) {
    content.push_back(ojson{{"type", "thinking"}, {"thinking", thinking}, {"signature", ""}});
  }
  if (std::string text = StringField(message, "content"); !text.empty()) {
    content.push_back(ojson{{"type", "text"}, {"text", text}});
  }
  bool tool_calls = false;
  if (const ojson& calls = Field(message, "tool_calls"); calls.is_array()) {
    for (const ojson& call : calls) {
      const ojson& function = Field(call, "function");
      const ojson& args = Field(function, "arguments");
      content.push_back(ojson{{"type", "tool_use"},
                              {"id", StringField(call, "id")},
                              {"name", StringField(function, "name")},
                              {"input", args.is_object() ? args : ojson::object()}});
      tool_calls = true;
    }
  }
  std::string sampled;
  AppendSampled(native, &sampled);
  auto [reason, sequence] = StopReason(native, tool_calls, sampled, context.stop_sequences);
  ojson out = ojson::object();
  out["id"] = context.id;
  out["type"] = "message";
  out["role"] = "assistant";
  out["model"] = context.model;
  out["content"] = std::move(content);
  out["stop_reason"] = std::move(reason);
  out["stop_sequence"] = std::move(sequence);
  out["usage"] = Usage(native);
  return out;
}

void EventStream::Start(std::string* out) {
  started_ = true;
  ojson message = ojson::object();
  message["id"] = context_.id;
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = context_.model;
  message["content"] = ojson::array();
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  // The prompt's token count arrives with the native final chunk; message_delta carries it.
  message["usage"] = ojson{{"input_tokens", 0}, {"output_tokens", 0}};
  *out +=
      compat::NamedEvent("message_start", ojson{{"type", "message_start"}, {"message", message}});
  *out += compat::NamedEvent("ping", ojson{{"type", "ping"}});
}

void EventStream::CloseBlock(std::string* out) {
  if (open_ == Block::kNone) return;
  *out += compat::NamedEvent("content_block_stop",
                             ojson{{"type", "content_block_stop"}, {"index", next_index_ - 1}});
  open_ = Block::kNone;
}

void EventStream::OpenBlock(Block kind, std::string* out) {
  CloseBlock(out);
  ojson block = kind == Block::kThinking
                    ? ojson{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                    : ojson{{"type", "text"}, {"text", ""}};
  *out += compat::NamedEvent("content_block_start", ojson{{"type", "content_block_start"},
                                                          {"index", next_index_++},
                                                          {"content_block", std::move(block)}});
  open_ = kind;
}

std::string EventStream::Push(const ojson& native) {
  std::string out;
  if (finished_) return out;
  if (native.contains("error")) {
    // Mid-stream failures have no status; Anthropic calls a server-side failure api_error.
    out += compat::NamedEvent("error", ErrorBody(500, ErrorMessage(native)));
    finished_ = true;
    return out;
  }
  if (!started_) Start(&out);
  AppendSampled(native, &sampled_);
  const ojson& message = Field(native, "message");
  if (std::string thinking = StringField(message, "thinking"); !thinking.empty()) {
    if (open_ != Block::kThinking) OpenBlock(Block::kThinking, &out);
    out +=
        compat::NamedEvent("content_block_delta",
                           ojson{{"type", "content_block_delta"},
                                 {"index", next_index_ - 1},
                                 {"delta", {{"type", "thinking_delta"}, {"thinking", thinking}}}});
  }
  if (std::string text = StringField(message, "content"); !text.empty()) {
    if (open_ != Block::kText) OpenBlock(Block::kText, &out);
    out += compat::NamedEvent("content_block_delta",
                              ojson{{"type", "content_block_delta"},
                                    {"index", next_index_ - 1},
                                    {"delta", {{"type", "text_delta"}, {"text", text}}}});
  }
  if (const ojson& calls = Field(message, "tool_calls"); calls.is_array()) {
    for (const ojson& call : calls) {
      CloseBlock(&out);
      const ojson& function = Field(call, "function");
      const ojson& args = Field(function, "arguments");
      const int index = next_index_++;
      ojson block = ojson{{"type", "tool_use"},
                          {"id", StringField(call, "id")},
                          {"name", StringField(function, "name")},
                          {"input", ojson::object()}};
      out += compat::NamedEvent("content_block_start", ojson{{"type", "content_block_start"},
                                                             {"index", index},
                                                             {"content_block", std::move(block)}});
      // Native tool calls arrive whole, so the arguments go in one delta.
      const std::string json = (args.is_object() ? args : ojson::object())
                                   .dump(-1, ' ', false, ojson::error_handler_t::replace);
      out += compat::NamedEvent(
          "content_block_delta",
          ojson{{"type", "content_block_delta"},
                {"index", index},
                {"delta", {{"type", "input_json_delta"}, {"partial_json", json}}}});
      out += compat::NamedEvent("content_block_stop",
                                ojson{{"type", "content_block_stop"}, {"index", index}});
      tool_calls_ = true;
    }
  }
  if (Field(native, "done") == true) {
    CloseBlock(&out);
    auto [reason, sequence] = StopReason(native, tool_calls_, sampled_, context_.stop_sequences);
    out += compat::NamedEvent(
        "message_delta",
        ojson{
            {"type", "message_delta"},
            {"delta", {{"stop_reason", std::move(reason)}, {"stop_sequence", std::move(sequence)}}},
            {"usage", Usage(native)}});
    out += compat::NamedEvent("message_stop", ojson{{"type", "message_stop"}});
    finished_ = true;
  }
  return out;
}

std::string EventStream::End() {
  if (finished_) return "";
  finished_ = true;
  return compat::NamedEvent("error",
                            ErrorBody(500, "the model's reply ended before it was complete"));
}

}  // namespace anthropic

namespace {

using anthropic::ojson;

void WriteAnthropicError(httplib::Response& res, int status, std::string_view message) {
  WriteJson(res, anthropic::ErrorBody(status, message), status);
}

class MessagesTranslator : public ReplyTranslator {
 public:
  MessagesTranslator(anthropic::ReplyContext context, bool stream, bool relax_thinking)
      : context_(context), stream_(stream), relax_(relax_thinking), events_(std::move(context)) {}

  void Whole(int status, const ojson& native, httplib::Response& res) override {
    if (status >= 400) {
      const std::string message = native.contains("error") && native["error"].is_string()
                                      ? native["error"].get<std::string>()
                                      : native.dump();
      if (relax_ && status == 400 && EndsWith(message, "does not support thinking")) {
        relaxed_ = true;  // the handler retries without think; nothing is written
        return;
      }
      return WriteAnthropicError(res, status, message);
    }
    if (stream_) {
      // A streamed request the native handler answered at once: the same events, in one body.
      res.status = 200;
      res.set_content(events_.Push(native) + events_.End(), anthropic::kEventStream);
      return;
    }
    WriteJson(res, anthropic::MessageFromNative(native, context_));
  }
  std::string StreamContentType() const override { return anthropic::kEventStream; }
  void StreamObject(const ojson& native, std::string* out) override {
    *out += events_.Push(native);
  }
  void StreamEnd(std::string* out) override { *out += events_.End(); }

  bool relaxed() const { return relaxed_; }

 private:
  anthropic::ReplyContext context_;
  bool stream_;
  bool relax_;
  bool relaxed_ = false;
  anthropic::EventStream events_;
};

}  // namespace

void AnthropicMessagesHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                              httplib::Response& res) {
  // The body as the native handlers read it (size limit, gin's messages), then again keeping
  // key order: tool schemas and tool_use inputs are rendered into prompts in their order.
  httplib::Response scratch;
  std::string raw;
  if (!ReadJsonRequest(body, state.limits.max_json_body_bytes, "MessagesRequest", scratch, &raw)) {
    const ojson err = ojson::parse(scratch.body, nullptr, /*allow_exceptions=*/false);
    const std::string message = err.is_object() && err.contains("error") && err["error"].is_string()
                                    ? err["error"].get<std::string>()
                                    : scratch.body;
    return WriteAnthropicError(res, scratch.status, message);
  }
  ojson parsed = ojson::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_null() || parsed.is_discarded()) parsed = ojson::object();
  Result<anthropic::MessagesRequest> request = anthropic::TranslateRequest(parsed);
  if (!request.ok()) return WriteAnthropicError(res, 400, request.status().message());

  anthropic::ReplyContext context{"msg_" + RandomHex(24), request->model, request->stop_sequences};
  ojson native = request->native;
  auto translator =
      std::make_shared<MessagesTranslator>(context, request->stream, request->think_requested);
  CallNative(state, req, ChatHandler, native.dump(-1, ' ', false, ojson::error_handler_t::replace),
             translator, res);
  if (translator->relaxed()) {
    native.erase("think");
    res.status = -1;
    translator = std::make_shared<MessagesTranslator>(context, request->stream, false);
    CallNative(state, req, ChatHandler,
               native.dump(-1, ' ', false, ojson::error_handler_t::replace), translator, res);
  }
}

}  // namespace corral::server
