#include "server/responses_compat.h"

#include <httplib.h>

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
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
using compat::UnixNow;
using compat::WrongType;

namespace responses {
namespace {

constexpr const char kEventStream[] = "text/event-stream";

// The base64 payload of an input_image's data URL.
Result<std::string> ImageData(const ojson& part, const std::string& path) {
  RETURN_IF_ERROR(CheckKeys(part, path, {"type", "image_url", "file_id", "detail"}));
  if (Given(part, "file_id")) return Bad(path + ".file_id: file ids are not supported");
  std::string url;
  RETURN_IF_ERROR(GetString(part, path, "image_url", &url));
  if (StartsWith(url, "http://") || StartsWith(url, "https://")) {
    return Bad("image URLs are not currently supported, please use base64 encoded data instead");
  }
  const size_t marker = url.find(";base64,");
  if (!StartsWith(url, "data:") || marker == std::string::npos) {
    return Bad(path + ".image_url: invalid image input, expected a base64 data URL");
  }
  return url.substr(marker + 8);
}

// Content parts (input_text, output_text, input_image) as text and images; a string is text.
Status Content(const ojson& content, const std::string& path, std::string* text, ojson* images) {
  if (content.is_string()) {
    *text += content.get<std::string>();
    return Status::Ok();
  }
  if (!content.is_array()) return WrongType(content, path, "a string or an array of parts");
  for (size_t i = 0; i < content.size(); ++i) {
    const ojson& part = content[i];
    const std::string p = JoinPath(path, i);
    if (!part.is_object()) return WrongType(part, p, "a content part object");
    std::string type;
    RETURN_IF_ERROR(GetString(part, p, "type", &type));
    if (type == "input_text" || type == "output_text") {
      RETURN_IF_ERROR(CheckKeys(part, p, {"type", "text"}, {"annotations", "logprobs"}));
      std::string t;
      RETURN_IF_ERROR(GetString(part, p, "text", &t));
      *text += t;
    } else if (type == "input_image") {
      ASSIGN_OR_RETURN(std::string data, ImageData(part, p));
      images->push_back(std::move(data));
    } else if (type == "input_file") {
      return Bad(p + ": file inputs are not currently supported");
    } else {
      return Bad(p + ".type: content part type '" + type + "' is not supported");
    }
  }
  return Status::Ok();
}

// What the input list becomes, item by item, in Ollama's way: reasoning is held for the next
// assistant message; a function_call joins the assistant message before it (or starts one);
// its output is a tool message carrying the call's id and tool name.
struct InputState {
  ojson messages = ojson::array();
  std::string pending_thinking;
  std::map<std::string, std::string> tool_names;  // call_id -> name
};

Status TranslateItem(const ojson& item, const std::string& path, InputState* s) {
  if (!item.is_object()) return WrongType(item, path, "an input item object");
  std::string type, role;
  RETURN_IF_ERROR(GetString(item, path, "type", &type));
  RETURN_IF_ERROR(GetString(item, path, "role", &role));
  if (type.empty() && !role.empty()) type = "message";  // the {"role","content"} shorthand
  if (type.empty()) return Bad(path + ": input item missing required 'type' field");

  if (type == "message") {
    RETURN_IF_ERROR(CheckKeys(item, path, {"type", "role", "content"}, {"id", "status"}));
    if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
      return Bad(path + ".role: must be user, assistant, system or developer, got '" + role + "'");
    }
    std::string text;
    ojson images = ojson::array();
    if (const ojson* c = Given(item, "content")) {
      RETURN_IF_ERROR(Content(*c, path + ".content", &text, &images));
    }
    ojson m = ojson::object();
    // Chat templates know "system"; "developer" is OpenAI's newer name for it.
    m["role"] = role == "developer" ? "system" : role;
    m["content"] = std::move(text);
    if (!images.empty()) m["images"] = std::move(images);
    if (role == "assistant" && !s->pending_thinking.empty()) {
      m["thinking"] = std::move(s->pending_thinking);
      s->pending_thinking.clear();
    }
    s->messages.push_back(std::move(m));
  } else if (type == "function_call") {
    RETURN_IF_ERROR(
        CheckKeys(item, path, {"type", "call_id", "name", "arguments"}, {"id", "status"}));
    std::string call_id, name, arguments;
    RETURN_IF_ERROR(GetString(item, path, "call_id", &call_id));
    RETURN_IF_ERROR(GetString(item, path, "name", &name));
    RETURN_IF_ERROR(GetString(item, path, "arguments", &arguments));
    if (call_id.empty()) return Bad(path + ".call_id: required");
    if (name.empty()) return Bad(path + ".name: required");
    ojson args = ojson::object();
    if (!arguments.empty()) {
      args = ojson::parse(arguments, nullptr, /*allow_exceptions=*/false);
      if (args.is_discarded() || !args.is_object()) {
        return Bad(path + ".arguments: failed to parse function call arguments as a JSON object");
      }
    }
    s->tool_names[call_id] = name;
    ojson call = ojson{{"id", call_id}, {"function", {{"name", name}, {"arguments", args}}}};
    if (!s->messages.empty() && s->messages.back()["role"] == "assistant") {
      ojson& last = s->messages.back();
      if (!last.contains("tool_calls")) last["tool_calls"] = ojson::array();
      last["tool_calls"].push_back(std::move(call));
      if (!s->pending_thinking.empty()) last["thinking"] = std::move(s->pending_thinking);
    } else {
      ojson m = ojson{{"role", "assistant"}, {"content", ""}};
      if (!s->pending_thinking.empty()) m["thinking"] = std::move(s->pending_thinking);
      m["tool_calls"] = ojson::array({std::move(call)});
      s->messages.push_back(std::move(m));
    }
    s->pending_thinking.clear();
  } else if (type == "function_call_output") {
    RETURN_IF_ERROR(CheckKeys(item, path, {"type", "call_id", "output"}, {"id", "status"}));
    std::string call_id, text;
    RETURN_IF_ERROR(GetString(item, path, "call_id", &call_id));
    if (call_id.empty()) return Bad(path + ".call_id: required");
    ojson images = ojson::array();
    if (const ojson* o = Given(item, "output")) {
      RETURN_IF_ERROR(Content(*o, path + ".output", &text, &images));
    }
    ojson m = ojson{{"role", "tool"}, {"content", std::move(text)}};
    if (!images.empty()) m["images"] = std::move(images);
    m["tool_call_id"] = call_id;
    if (auto it = s->tool_names.find(call_id); it != s->tool_names.end()) {
      m["tool_name"] = it->second;
    }
    s->messages.push_back(std::move(m));
  } else if (type == "reasoning") {
    RETURN_IF_ERROR(CheckKeys(item, path, {"type", "summary", "encrypted_content", "content"},
                              {"id", "status"}));
    // Our reasoning items carry the thinking as encrypted_content (plain text, as Ollama's);
    // else the summary or content texts stand for it.
    std::string thinking;
    RETURN_IF_ERROR(GetString(item, path, "encrypted_content", &thinking));
    for (const char* key : {"summary", "content"}) {
      const ojson* parts = Given(item, key);
      if (!thinking.empty() || !parts) continue;
      if (!parts->is_array()) return WrongType(*parts, JoinPath(path, key), "an array");
      for (size_t i = 0; i < parts->size(); ++i) {
        std::string t;
        if (!(*parts)[i].is_object())
          return WrongType((*parts)[i], JoinPath(path, key), "an object");
        RETURN_IF_ERROR(GetString((*parts)[i], JoinPath(JoinPath(path, key), i), "text", &t));
        thinking += t;
      }
    }
    s->pending_thinking = std::move(thinking);
  } else {
    return Bad(path + ".type: input item type '" + type + "' is not supported");
  }
  return Status::Ok();
}

Result<ojson> TranslateTool(const ojson& tool, const std::string& path) {
  if (!tool.is_object()) return WrongType(tool, path, "a tool object");
  std::string type, name, description;
  RETURN_IF_ERROR(GetString(tool, path, "type", &type));
  if (type != "function") {
    return Bad(path + ".type: tool type '" + type + "' is not supported, only function tools are");
  }
  RETURN_IF_ERROR(CheckKeys(tool, path, {"type", "name", "description", "parameters", "strict"}));
  RETURN_IF_ERROR(GetString(tool, path, "name", &name));
  if (name.empty()) return Bad(path + ".name: required");
  RETURN_IF_ERROR(GetString(tool, path, "description", &description));
  ojson parameters = ojson{{"type", "object"}, {"properties", ojson::object()}};
  if (const ojson* p = Given(tool, "parameters")) {
    if (!p->is_object()) return WrongType(*p, path + ".parameters", "an object");
    parameters = *p;
  }
  ojson function = ojson::object();
  function["name"] = name;
  if (!description.empty()) function["description"] = description;
  function["parameters"] = std::move(parameters);
  return ojson{{"type", "function"}, {"function", std::move(function)}};
}

// The request's tool as a Response object repeats it.
ojson EchoTool(const ojson& tool) {
  auto or_null = [&](const char* key) -> ojson {
    const ojson* v = Given(tool, key);
    return v ? *v : ojson();
  };
  return ojson{{"type", "function"},
               {"name", tool["name"]},
               {"description", or_null("description")},
               {"parameters", or_null("parameters")},
               {"strict", or_null("strict")}};
}

ojson OutputText(const std::string& text) {
  return ojson{{"type", "output_text"},
               {"annotations", ojson::array()},
               {"logprobs", ojson::array()},
               {"text", text}};
}

}  // namespace

Result<ResponsesRequest> TranslateRequest(const ojson& body) {
  if (!body.is_object()) return WrongType(body, "request body", "an object");
  RETURN_IF_ERROR(
      CheckKeys(body, "",
                {"model", "input", "instructions", "tools", "tool_choice", "stream", "temperature",
                 "top_p", "max_output_tokens", "reasoning", "text", "truncation", "background",
                 "previous_response_id", "conversation"},
                {"metadata", "store", "include", "user", "safety_identifier", "prompt_cache_key",
                 "service_tier", "parallel_tool_calls", "stream_options"}));
  ResponsesRequest r;
  RETURN_IF_ERROR(GetString(body, "", "model", &r.model));
  if (r.model.empty()) return Bad("model is required");
  for (const char* key : {"previous_response_id", "conversation"}) {
    if (Given(body, key)) {
      return Bad(std::string(key) +
                 " is not supported: responses are not stored here, send the whole "
                 "conversation as input");
    }
  }
  if (const ojson* b = Given(body, "background")) {
    if (!b->is_boolean()) return WrongType(*b, "background", "a boolean");
    if (b->get<bool>()) return Bad("background is not supported");
  }
  std::string truncation;
  RETURN_IF_ERROR(GetString(body, "", "truncation", &truncation));
  if (!truncation.empty() && truncation != "disabled") {
    return Bad("truncation '" + truncation + "' is not supported, only 'disabled' is");
  }
  if (const ojson* s = Given(body, "stream")) {
    if (!s->is_boolean()) return WrongType(*s, "stream", "a boolean");
    r.stream = s->get<bool>();
  }

  InputState input;
  std::string instructions;
  RETURN_IF_ERROR(GetString(body, "", "instructions", &instructions));
  if (!instructions.empty()) {
    input.messages.push_back(ojson{{"role", "system"}, {"content", instructions}});
  }
  const ojson* in = Given(body, "input");
  if (!in) return Bad("input is required");
  if (in->is_string()) {
    if (!in->get<std::string>().empty()) {
      input.messages.push_back(ojson{{"role", "user"}, {"content", *in}});
    }
  } else if (in->is_array()) {
    for (size_t i = 0; i < in->size(); ++i) {
      RETURN_IF_ERROR(TranslateItem((*in)[i], JoinPath("input", i), &input));
    }
    if (!input.pending_thinking.empty()) {
      input.messages.push_back(
          ojson{{"role", "assistant"}, {"content", ""}, {"thinking", input.pending_thinking}});
    }
  } else {
    return WrongType(*in, "input", "a string or an array of input items");
  }
  if (input.messages.empty()) return Bad("input must not be empty");

  ojson tools = ojson::array(), echo_tools = ojson::array();
  if (const ojson* t = Given(body, "tools")) {
    if (!t->is_array()) return WrongType(*t, "tools", "an array");
    for (size_t i = 0; i < t->size(); ++i) {
      ASSIGN_OR_RETURN(ojson tool, TranslateTool((*t)[i], JoinPath("tools", i)));
      tools.push_back(std::move(tool));
      echo_tools.push_back(EchoTool((*t)[i]));
    }
  }
  ojson tool_choice = "auto";
  if (const ojson* c = Given(body, "tool_choice")) {
    const std::string choice = c->is_string() ? c->get<std::string>() : "";
    if (choice == "none") {
      tools = ojson::array();
    } else if (choice != "auto") {
      // "required" and a named tool force a call; the model here always decides for itself.
      return Bad("tool_choice: only 'auto' and 'none' are supported");
    }
    tool_choice = *c;
  }

  ojson options = ojson::object();
  // Ollama sends OpenAI's default temperature rather than the model's when none is given.
  double temperature = 1.0, top_p = 1.0;
  if (Given(body, "temperature")) {
    ASSIGN_OR_RETURN(temperature, Number(body, "temperature"));
  }
  options["temperature"] = temperature;
  if (Given(body, "top_p")) {
    ASSIGN_OR_RETURN(top_p, Number(body, "top_p"));
    options["top_p"] = top_p;
  }
  ojson max_output_tokens;
  if (const ojson* m = Given(body, "max_output_tokens")) {
    if (!m->is_number_integer()) return WrongType(*m, "max_output_tokens", "an integer");
    if (m->get<int64_t>() <= 0) return Bad("max_output_tokens must be positive");
    max_output_tokens = *m;
    options["num_predict"] = *m;
  }

  ojson think;
  ojson reasoning_echo;
  if (const ojson* reasoning = Given(body, "reasoning")) {
    if (!reasoning->is_object()) return WrongType(*reasoning, "reasoning", "an object");
    RETURN_IF_ERROR(
        CheckKeys(*reasoning, "reasoning", {"effort"}, {"summary", "generate_summary"}));
    std::string effort, summary;
    RETURN_IF_ERROR(GetString(*reasoning, "reasoning", "effort", &effort));
    RETURN_IF_ERROR(GetString(*reasoning, "reasoning", "summary", &summary));
    if (effort == "none") {
      think = false;
    } else if (effort == "minimal" || effort == "low") {
      think = "low";
    } else if (effort == "medium" || effort == "high") {
      think = effort;
    } else if (effort == "xhigh" || effort == "max") {
      think = "high";  // the native levels stop at high
    } else if (!effort.empty()) {
      return Bad("invalid reasoning value: '" + effort +
                 "' (must be none, minimal, low, medium, high, xhigh or max)");
    }
    if (!effort.empty() || !summary.empty()) {
      reasoning_echo = ojson{{"effort", effort.empty() ? ojson() : ojson(effort)},
                             {"summary", summary.empty() ? ojson() : ojson(summary)}};
    }
  }

  ojson format;
  ojson format_echo = ojson{{"type", "text"}};
  if (const ojson* text = Given(body, "text")) {
    if (!text->is_object()) return WrongType(*text, "text", "an object");
    RETURN_IF_ERROR(CheckKeys(*text, "text", {"format"}, {"verbosity"}));
    if (const ojson* f = Given(*text, "format")) {
      if (!f->is_object()) return WrongType(*f, "text.format", "an object");
      std::string type;
      RETURN_IF_ERROR(GetString(*f, "text.format", "type", &type));
      if (type == "text") {
        RETURN_IF_ERROR(CheckKeys(*f, "text.format", {"type"}));
      } else if (type == "json_object") {
        RETURN_IF_ERROR(CheckKeys(*f, "text.format", {"type"}));
        format = "json";
      } else if (type == "json_schema") {
        RETURN_IF_ERROR(
            CheckKeys(*f, "text.format", {"type", "name", "schema", "description"}, {"strict"}));
        const ojson* schema = Given(*f, "schema");
        if (!schema || !schema->is_object()) {
          return Bad("text.format.schema: a JSON schema object is required");
        }
        format = *schema;
      } else {
        return Bad("text.format.type: must be text, json_object or json_schema, got '" + type +
                   "'");
      }
      format_echo = *f;
    }
  }

  ojson native = ojson::object();
  native["model"] = r.model;
  native["messages"] = std::move(input.messages);
  if (!tools.empty()) native["tools"] = std::move(tools);
  if (!format.is_null()) native["format"] = std::move(format);
  native["options"] = std::move(options);
  native["stream"] = r.stream;
  if (!think.is_null()) native["think"] = std::move(think);
  r.native = std::move(native);

  ojson echo = ojson::object();
  echo["instructions"] = instructions.empty() ? ojson() : ojson(instructions);
  echo["tools"] = std::move(echo_tools);
  echo["tool_choice"] = std::move(tool_choice);
  echo["truncation"] = "disabled";
  const ojson* parallel = Given(body, "parallel_tool_calls");
  echo["parallel_tool_calls"] = parallel && parallel->is_boolean() ? *parallel : ojson(true);
  echo["text"] = ojson{{"format", std::move(format_echo)}};
  echo["top_p"] = top_p;
  echo["temperature"] = temperature;
  echo["reasoning"] = std::move(reasoning_echo);
  echo["max_output_tokens"] = std::move(max_output_tokens);
  const ojson* metadata = Given(body, "metadata");
  echo["metadata"] = metadata && metadata->is_object() ? *metadata : ojson::object();
  r.echo = std::move(echo);
  return r;
}

ojson ErrorBody(int status, std::string_view message) {
  const char* type = status == 400   ? "invalid_request_error"
                     : status == 404 ? "not_found_error"
                                     : "api_error";
  return ojson{
      {"error",
       {{"message", std::string(message)}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

ojson EventStream::Response(std::string_view status, const ojson& usage, const ojson& error) const {
  const ojson& e = context_.echo;
  ojson r = ojson::object();
  r["id"] = context_.id;
  r["object"] = "response";
  r["created_at"] = context_.created_at;
  r["completed_at"] = status == "completed" ? ojson(UnixNow()) : ojson();
  r["status"] = status;
  r["incomplete_details"] = nullptr;
  r["model"] = context_.model;
  r["previous_response_id"] = nullptr;
  r["instructions"] = Field(e, "instructions");
  r["output"] = output_;
  r["error"] = error;
  r["tools"] = e.contains("tools") ? e["tools"] : ojson::array();
  r["tool_choice"] = e.contains("tool_choice") ? e["tool_choice"] : ojson("auto");
  r["truncation"] = "disabled";
  r["parallel_tool_calls"] =
      e.contains("parallel_tool_calls") ? e["parallel_tool_calls"] : ojson(true);
  r["text"] = e.contains("text") ? e["text"] : ojson{{"format", {{"type", "text"}}}};
  r["top_p"] = e.contains("top_p") ? e["top_p"] : ojson(1.0);
  r["presence_penalty"] = 0;
  r["frequency_penalty"] = 0;
  r["top_logprobs"] = 0;
  r["temperature"] = e.contains("temperature") ? e["temperature"] : ojson(1.0);
  r["reasoning"] = Field(e, "reasoning");
  r["usage"] = usage;
  r["max_output_tokens"] = Field(e, "max_output_tokens");
  r["max_tool_calls"] = nullptr;
  r["store"] = false;  // nothing is stored: the API is stateless here
  r["background"] = false;
  r["service_tier"] = "default";
  r["metadata"] = e.contains("metadata") ? e["metadata"] : ojson::object();
  r["safety_identifier"] = nullptr;
  r["prompt_cache_key"] = nullptr;
  return r;
}

std::string EventStream::Emit(std::string_view type, ojson data) {
  ojson event = ojson{{"type", type}};
  for (auto it = data.begin(); it != data.end(); ++it) event[it.key()] = std::move(it.value());
  event["sequence_number"] = sequence_++;
  return compat::NamedEvent(type, event);
}

std::string EventStream::NextItemId(std::string_view prefix) {
  // Unique within the response and tied to it: "resp_abc" -> "msg_abc_0", "fc_abc_1", ...
  std::string base = context_.id;
  if (const size_t us = base.find('_'); us != std::string::npos) base = base.substr(us + 1);
  return std::string(prefix) + "_" + base + "_" + std::to_string(items_++);
}

void EventStream::Open(Item kind, std::string* out) {
  Close(out);
  open_ = kind;
  open_text_.clear();
  const int index = static_cast<int>(output_.size());
  if (kind == Item::kReasoning) {
    open_id_ = NextItemId("rs");
    *out += Emit(
        "response.output_item.added",
        ojson{{"output_index", index},
              {"item", {{"id", open_id_}, {"type", "reasoning"}, {"summary", ojson::array()}}}});
    // The SDK's accumulator needs the summary part before its text deltas.
    *out += Emit("response.reasoning_summary_part.added",
                 ojson{{"item_id", open_id_},
                       {"output_index", index},
                       {"summary_index", 0},
                       {"part", {{"type", "summary_text"}, {"text", ""}}}});
    return;
  }
  open_id_ = NextItemId("msg");
  has_message_ = true;
  *out += Emit("response.output_item.added", ojson{{"output_index", index},
                                                   {"item",
                                                    {{"id", open_id_},
                                                     {"type", "message"},
                                                     {"status", "in_progress"},
                                                     {"role", "assistant"},
                                                     {"content", ojson::array()}}}});
  *out += Emit("response.content_part.added", ojson{{"item_id", open_id_},
                                                    {"output_index", index},
                                                    {"content_index", 0},
                                                    {"part", OutputText("")}});
}

void EventStream::Close(std::string* out) {
  if (open_ == Item::kNone) return;
  const int index = static_cast<int>(output_.size());
  ojson item;
  if (open_ == Item::kReasoning) {
    *out += Emit("response.reasoning_summary_text.done", ojson{{"item_id", open_id_},
                                                               {"output_index", index},
                                                               {"summary_index", 0},
                                                               {"text", open_text_}});
    const ojson part = ojson{{"type", "summary_text"}, {"text", open_text_}};
    *out += Emit(
        "response.reasoning_summary_part.done",
        ojson{
            {"item_id", open_id_}, {"output_index", index}, {"summary_index", 0}, {"part", part}});
    // encrypted_content holds the thinking in plain text, as Ollama's does, so that a client
    // sending the item back gives the model its reasoning again.
    item = ojson{{"id", open_id_},
                 {"type", "reasoning"},
                 {"summary", ojson::array({part})},
                 {"encrypted_content", open_text_}};
  } else {
    *out += Emit("response.output_text.done", ojson{{"item_id", open_id_},
                                                    {"output_index", index},
                                                    {"content_index", 0},
                                                    {"text", open_text_},
                                                    {"logprobs", ojson::array()}});
    *out += Emit("response.content_part.done", ojson{{"item_id", open_id_},
                                                     {"output_index", index},
                                                     {"content_index", 0},
                                                     {"part", OutputText(open_text_)}});
    item = ojson{{"id", open_id_},
                 {"type", "message"},
                 {"status", "completed"},
                 {"role", "assistant"},
                 {"content", ojson::array({OutputText(open_text_)})}};
  }
  *out += Emit("response.output_item.done", ojson{{"output_index", index}, {"item", item}});
  output_.push_back(std::move(item));
  open_ = Item::kNone;
}

void EventStream::Fail(const std::string& message, std::string* out) {
  final_ = Response("failed", nullptr, ojson{{"code", "server_error"}, {"message", message}});
  *out += Emit("response.failed", ojson{{"response", final_}});
  finished_ = true;
}

std::string EventStream::Push(const ojson& native) {
  std::string out;
  if (finished_) return out;
  if (!started_) {
    started_ = true;
    const ojson r = Response("in_progress", nullptr, nullptr);
    out += Emit("response.created", ojson{{"response", r}});
    out += Emit("response.in_progress", ojson{{"response", r}});
  }
  if (native.contains("error")) {
    const ojson& e = native["error"];
    Fail(e.is_string() ? e.get<std::string>() : e.dump(), &out);
    return out;
  }
  const ojson& message = Field(native, "message");
  if (std::string thinking = StringField(message, "thinking"); !thinking.empty()) {
    if (open_ != Item::kReasoning) Open(Item::kReasoning, &out);
    open_text_ += thinking;
    out += Emit("response.reasoning_summary_text.delta", ojson{{"item_id", open_id_},
                                                               {"output_index", output_.size()},
                                                               {"summary_index", 0},
                                                               {"delta", thinking}});
  }
  if (std::string text = StringField(message, "content"); !text.empty()) {
    if (open_ != Item::kMessage) Open(Item::kMessage, &out);
    open_text_ += text;
    out += Emit("response.output_text.delta", ojson{{"item_id", open_id_},
                                                    {"output_index", output_.size()},
                                                    {"content_index", 0},
                                                    {"delta", text},
                                                    {"logprobs", ojson::array()}});
  }
  if (const ojson& calls = Field(message, "tool_calls"); calls.is_array()) {
    for (const ojson& call : calls) {
      Close(&out);
      const ojson& function = Field(call, "function");
      const ojson& args = Field(function, "arguments");
      const std::string arguments = (args.is_object() ? args : ojson::object())
                                        .dump(-1, ' ', false, ojson::error_handler_t::replace);
      const int index = static_cast<int>(output_.size());
      ojson item = ojson{{"id", NextItemId("fc")},
                         {"type", "function_call"},
                         {"status", "in_progress"},
                         {"arguments", ""},
                         {"call_id", StringField(call, "id")},
                         {"name", StringField(function, "name")}};
      out += Emit("response.output_item.added", ojson{{"output_index", index}, {"item", item}});
      // Native tool calls arrive whole: the arguments go in one delta.
      out += Emit("response.function_call_arguments.delta",
                  ojson{{"item_id", item["id"]}, {"output_index", index}, {"delta", arguments}});
      out += Emit("response.function_call_arguments.done", ojson{{"item_id", item["id"]},
                                                                 {"output_index", index},
                                                                 {"name", item["name"]},
                                                                 {"arguments", arguments}});
      item["status"] = "completed";
      item["arguments"] = arguments;
      out += Emit("response.output_item.done", ojson{{"output_index", index}, {"item", item}});
      output_.push_back(std::move(item));
      has_calls_ = true;
    }
  }
  if (Field(native, "done") == true) {
    Close(&out);
    if (!has_message_ && !has_calls_) {
      Open(Item::kMessage, &out);  // an empty reply is still one (empty) message
      Close(&out);
    }
    const int64_t input = IntField(native, "prompt_eval_count"),
                  output = IntField(native, "eval_count");
    const ojson usage = ojson{{"input_tokens", input},
                              {"input_tokens_details", {{"cached_tokens", 0}}},
                              {"output_tokens", output},
                              {"output_tokens_details", {{"reasoning_tokens", 0}}},
                              {"total_tokens", input + output}};
    final_ = Response("completed", usage, nullptr);
    out += Emit("response.completed", ojson{{"response", final_}});
    finished_ = true;
  }
  return out;
}

std::string EventStream::End() {
  std::string out;
  if (finished_) return out;
  if (!started_) out += Push(ojson::object());  // created and in_progress first
  Fail("the model's reply ended before it was complete", &out);
  return out;
}

ojson ResponseFromNative(const ojson& native, const ReplyContext& context) {
  EventStream stream(context);
  stream.Push(native);
  return stream.final_response();
}

}  // namespace responses

namespace {

using responses::ojson;

void WriteOpenAiError(httplib::Response& res, int status, std::string_view message) {
  WriteJson(res, responses::ErrorBody(status, message), status);
}

class ResponsesTranslator : public ReplyTranslator {
 public:
  ResponsesTranslator(responses::ReplyContext context, bool stream)
      : context_(context), stream_(stream), events_(std::move(context)) {}

  void Whole(int status, const ojson& native, httplib::Response& res) override {
    if (status >= 400) {
      const ojson& e = native.contains("error") ? native["error"] : native;
      return WriteOpenAiError(res, status, e.is_string() ? e.get<std::string>() : e.dump());
    }
    if (stream_) {
      // A streamed request the native handler answered at once: the same events, in one body.
      res.status = 200;
      res.set_content(events_.Push(native) + events_.End(), responses::kEventStream);
      return;
    }
    WriteJson(res, responses::ResponseFromNative(native, context_));
  }
  std::string StreamContentType() const override { return responses::kEventStream; }
  void StreamObject(const ojson& native, std::string* out) override {
    *out += events_.Push(native);
  }
  void StreamEnd(std::string* out) override { *out += events_.End(); }

 private:
  responses::ReplyContext context_;
  bool stream_;
  responses::EventStream events_;
};

}  // namespace

// Ollama's bound on a decompressed zstd body.
constexpr size_t kMaxZstdBodyBytes = size_t{20} << 20;

void ResponsesHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                      httplib::Response& res) {
  // httplib inflates gzip, deflate and br bodies; Ollama also takes zstd (Codex sends it), up
  // to 20 MB decompressed.
  std::string inflated;
  std::optional<RequestBody> inflated_body;
  RequestBody* source = &body;
  if (req.has_header("Content-Encoding")) {
    const std::string encoding = req.get_header_value("Content-Encoding");
    if (encoding == "zstd") {
      std::string compressed;
      switch (body.ReadAll(state.limits.max_json_body_bytes, &compressed)) {
        case RequestBody::ReadStatus::kOk:
          break;
        case RequestBody::ReadStatus::kTooLarge:
          return WriteOpenAiError(res, 413, "request body too large");
        case RequestBody::ReadStatus::kFailed:
          return WriteOpenAiError(res, 400, "the request body could not be read");
      }
      Result<std::string> out = compat::ZstdDecompress(compressed, kMaxZstdBodyBytes);
      if (!out.ok()) {
        return WriteOpenAiError(res,
                                out.status().code() == StatusCode::kResourceExhausted ? 413 : 400,
                                out.status().message());
      }
      inflated = std::move(out).value();
      inflated_body.emplace([&inflated](const RequestBody::Chunk& sink) {
        return inflated.empty() || sink(inflated.data(), inflated.size());
      });
      source = &*inflated_body;
    } else if (encoding != "identity" && encoding != "gzip" && encoding != "deflate" &&
               encoding != "br") {
      return WriteOpenAiError(res, 415,
                              "Content-Encoding '" + encoding +
                                  "' is not supported; send the body uncompressed or as zstd, "
                                  "gzip, deflate or br");
    }
  }
  // Read as the native handlers read bodies (size limit, gin's messages), then again keeping
  // key order: tool schemas and call arguments are rendered into prompts in their order.
  httplib::Response scratch;
  std::string raw;
  if (!ReadJsonRequest(*source, state.limits.max_json_body_bytes, "ResponsesRequest", scratch,
                       &raw)) {
    const ojson err = ojson::parse(scratch.body, nullptr, /*allow_exceptions=*/false);
    const std::string message = err.is_object() && err.contains("error") && err["error"].is_string()
                                    ? err["error"].get<std::string>()
                                    : scratch.body;
    return WriteOpenAiError(res, scratch.status, message);
  }
  ojson parsed = ojson::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_null() || parsed.is_discarded()) parsed = ojson::object();
  Result<responses::ResponsesRequest> request = responses::TranslateRequest(parsed);
  if (!request.ok()) return WriteOpenAiError(res, 400, request.status().message());

  responses::ReplyContext context{"resp_" + RandomHex(24), request->model, UnixNow(),
                                  request->echo};
  CallNative(state, req, ChatHandler,
             request->native.dump(-1, ' ', false, ojson::error_handler_t::replace),
             std::make_shared<ResponsesTranslator>(std::move(context), request->stream), res);
}

}  // namespace corral::server
