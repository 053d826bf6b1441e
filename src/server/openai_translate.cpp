// The pure half of the OpenAI compatibility layer: OpenAI requests to native ones, native
// replies and stream objects to OpenAI ones (openai/openai.go and middleware/openai.go in
// Ollama; ollama-api.md §3).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "server/compat_json.h"
#include "server/openai_compat.h"
#include "store/name.h"

namespace corral::server::openai {
namespace {

using compat::BoolField;
using compat::Dump;
using compat::Field;
using compat::IntField;
using compat::StringField;

bool NonEmptyArray(const ojson& j, const char* key) {
  const ojson& v = Field(j, key);
  return v.is_array() && !v.empty();
}

// encoding/json's name for a JSON value's kind in "cannot unmarshal X into ...".
std::string JsonKind(const ojson& v) {
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

// Go's %T of a decoded `any`, for Ollama's "invalid type for 'stop' field: %T".
std::string GoTypeName(const ojson& v) {
  if (v.is_number()) return "float64";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "[]interface {}";
  if (v.is_object()) return "map[string]interface {}";
  return "<nil>";
}

Status TypeError(const ojson& v, std::string_view field, std::string_view go_type) {
  std::string kind = JsonKind(v);
  if (v.is_number()) kind += " " + Dump(v);  // Go names the number it could not fit
  return InvalidArgumentError("json: cannot unmarshal " + kind + " into Go struct field " +
                              std::string(field) + " of type " + std::string(go_type));
}

// A request object's fields as encoding/json reads them into an openai.<Struct>: exact key,
// else case-insensitive; null is absent; a wrong type is Go's unmarshal error.
class Fields {
 public:
  Fields(const ojson& object, std::string go_struct)
      : object_(object), go_struct_(std::move(go_struct)) {}

  const ojson* Find(std::string_view key) const {
    if (!object_.is_object()) return nullptr;
    const ojson* found = nullptr;
    if (auto it = object_.find(std::string(key)); it != object_.end()) {
      found = &*it;
    } else {
      const std::string lower = ToLower(key);
      for (auto it2 = object_.begin(); it2 != object_.end(); ++it2) {
        if (ToLower(it2.key()) == lower) {
          found = &*it2;
          break;
        }
      }
    }
    return found != nullptr && !found->is_null() ? found : nullptr;
  }

  std::string Name(std::string_view key) const { return go_struct_ + "." + std::string(key); }

  Status String(std::string_view key, std::string* out) const {
    const ojson* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_string()) return TypeError(*v, Name(key), "string");
    *out = v->get<std::string>();
    return Status::Ok();
  }
  Status Bool(std::string_view key, std::optional<bool>* out) const {
    const ojson* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_boolean()) return TypeError(*v, Name(key), "bool");
    *out = v->get<bool>();
    return Status::Ok();
  }
  Status Int(std::string_view key, std::optional<int64_t>* out) const {
    const ojson* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return TypeError(*v, Name(key), "int");
    }
    if (!v->is_number_integer()) return TypeError(*v, Name(key), "int");
    *out = v->get<int64_t>();
    return Status::Ok();
  }
  Status Float(std::string_view key, std::optional<double>* out,
               std::string_view go_type = "float64") const {
    const ojson* v = Find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_number()) return TypeError(*v, Name(key), go_type);
    *out = v->get<double>();
    return Status::Ok();
  }

  // The first field that is neither in `used` nor in `ignored` (case-insensitive, as the
  // lookups are); null values count as absent.
  Status RejectOthers(std::initializer_list<std::string_view> used,
                      std::span<const std::string_view> ignored) const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (it.value().is_null()) continue;
      const std::string key = ToLower(it.key());
      auto same = [&](std::string_view k) { return ToLower(k) == key; };
      if (std::any_of(used.begin(), used.end(), same) ||
          std::any_of(ignored.begin(), ignored.end(), same)) {
        continue;
      }
      return InvalidArgumentError("Unsupported parameter: '" + it.key() +
                                  "' is not supported by this server.");
    }
    return Status::Ok();
  }

 private:
  const ojson& object_;
  std::string go_struct_;
};

// `stop` as a string or an array of strings. Ollama's chat drops non-string elements and
// ignores other types; a stop it will not apply is a client bug, so both are refused here
// with the message Ollama's /v1/completions gives.
Status ReadStop(const Fields& f, ojson* options) {
  const ojson* stop = f.Find("stop");
  if (stop == nullptr) return Status::Ok();
  if (stop->is_string()) {
    (*options)["stop"] = ojson::array({*stop});
    return Status::Ok();
  }
  if (!stop->is_array()) {
    return InvalidArgumentError("invalid type for 'stop' field: " + GoTypeName(*stop));
  }
  ojson stops = ojson::array();
  for (const ojson& s : *stop) {
    if (!s.is_string()) {
      return InvalidArgumentError("invalid type for 'stop' field: " + GoTypeName(s));
    }
    stops.push_back(s);
  }
  (*options)["stop"] = std::move(stops);
  return Status::Ok();
}

// stream_options.include_usage (an object; other keys such as include_obfuscation change
// nothing here).
Status ReadStreamOptions(const Fields& f, bool* include_usage) {
  const ojson* so = f.Find("stream_options");
  if (so == nullptr) return Status::Ok();
  if (!so->is_object()) return TypeError(*so, f.Name("stream_options"), "openai.StreamOptions");
  Fields inner(*so, f.Name("stream_options"));
  std::optional<bool> v;
  RETURN_IF_ERROR(inner.Bool("include_usage", &v));
  *include_usage = v.value_or(false);
  return Status::Ok();
}

// `n` (and completions' `best_of`): one choice is all the native path makes.
Status ReadSingleChoice(const Fields& f, std::string_view key) {
  std::optional<int64_t> n;
  RETURN_IF_ERROR(f.Int(key, &n));
  if (n && *n != 1) {
    return InvalidArgumentError("Invalid value for '" + std::string(key) + "' = " +
                                std::to_string(*n) + ". Only 1 is supported by this server.");
  }
  return Status::Ok();
}

// An image (or audio) data URL as native base64, Ollama's decodeImageURL rules.
Result<std::string> DecodeImageUrl(std::string_view url) {
  if (url.starts_with("http://") || url.starts_with("https://")) {
    return InvalidArgumentError(
        "image URLs are not currently supported, please use base64 encoded data instead");
  }
  static constexpr std::string_view kBlank = "data:;base64,";
  std::string_view data;
  if (url.starts_with(kBlank)) {
    data = url.substr(kBlank.size());
  } else {
    bool valid = false;
    for (std::string_view type : {"jpeg", "jpg", "png", "webp"}) {
      const std::string prefix = "data:image/" + std::string(type) + ";base64,";
      if (url.starts_with(prefix)) {
        data = url.substr(prefix.size());
        valid = true;
        break;
      }
    }
    if (!valid) return InvalidArgumentError("invalid image input");
  }
  std::string bytes;
  if (!Base64Decode(data, &bytes)) return InvalidArgumentError("invalid image input");
  return Base64Encode(bytes);
}

// Assistant tool_calls: arguments is a JSON string in OpenAI, an object natively.
Result<ojson> NativeToolCalls(const ojson& calls, const std::string& field) {
  if (!calls.is_array()) return TypeError(calls, field, "[]openai.ToolCall");
  ojson out = ojson::array();
  for (const ojson& call : calls) {
    if (!call.is_object()) return TypeError(call, field, "openai.ToolCall");
    Fields f(call, field);
    std::string id, name, arguments;
    RETURN_IF_ERROR(f.String("id", &id));
    if (const ojson* fn = f.Find("function")) {
      if (!fn->is_object()) return TypeError(*fn, field + ".function", "struct");
      Fields ff(*fn, field + ".function");
      RETURN_IF_ERROR(ff.String("name", &name));
      RETURN_IF_ERROR(ff.String("arguments", &arguments));
    }
    ojson args = ojson::parse(arguments, nullptr, /*allow_exceptions=*/false);
    if (args.is_null()) args = ojson::object();  // Go unmarshals "null" into an empty map
    if (args.is_discarded() || !args.is_object()) {
      return InvalidArgumentError("invalid tool call arguments");
    }
    ojson native = ojson::object();
    if (!id.empty()) native["id"] = id;
    native["function"] = ojson{{"name", name}, {"arguments", std::move(args)}};
    out.push_back(std::move(native));
  }
  return out;
}

// Ollama's nameFromToolCallID: the function name of the last assistant tool call with `id`.
std::string NameFromToolCallId(const ojson& messages, std::string_view id) {
  for (auto m = messages.rbegin(); m != messages.rend(); ++m) {
    const ojson& calls = Field(*m, "tool_calls");
    if (!calls.is_array()) continue;
    for (const ojson& c : calls) {
      if (StringField(c, "id") != id) continue;
      const ojson& fn_name = Field(Field(c, "function"), "name");
      if (fn_name.is_string()) return fn_name.get<std::string>();
    }
  }
  return "";
}

// One OpenAI message as native messages (one per content part), FromChatRequest's rules.
Status AppendNativeMessages(const ojson& all, const ojson& msg, ojson* out) {
  const std::string field = "ChatCompletionRequest.messages";
  if (!msg.is_object()) return TypeError(msg, field, "openai.Message");
  Fields f(msg, field);
  std::string role, reasoning, name, tool_call_id;
  RETURN_IF_ERROR(f.String("role", &role));
  RETURN_IF_ERROR(f.String("reasoning", &reasoning));
  RETURN_IF_ERROR(f.String("name", &name));
  RETURN_IF_ERROR(f.String("tool_call_id", &tool_call_id));
  std::optional<ojson> tool_calls;
  if (const ojson* tc = f.Find("tool_calls")) {
    ASSIGN_OR_RETURN(tool_calls, NativeToolCalls(*tc, field + ".tool_calls"));
  }
  std::string tool_name;
  if (ToLower(role) == "tool") {
    tool_name = name;
    if (tool_name.empty() && !tool_call_id.empty()) {
      tool_name = NameFromToolCallId(all, tool_call_id);
    }
  }
  auto base = [&] { return ojson{{"role", role}}; };
  // What a message's tool parts carry; Ollama attaches them to the last message made from it.
  auto attach = [&](ojson& m) {
    if (!reasoning.empty()) m["thinking"] = reasoning;
    if (tool_calls && !tool_calls->empty()) m["tool_calls"] = *tool_calls;
    if (!tool_name.empty()) m["tool_name"] = tool_name;
    if (!tool_call_id.empty()) m["tool_call_id"] = tool_call_id;
  };
  const ojson* content = f.Find("content");
  if (content != nullptr && content->is_string()) {
    ojson m = base();
    m["content"] = *content;
    attach(m);
    out->push_back(std::move(m));
    return Status::Ok();
  }
  if (content != nullptr && content->is_array()) {
    const size_t first = out->size();
    for (const ojson& part : *content) {
      if (!part.is_object()) return InvalidArgumentError("invalid message format");
      const ojson& type = Field(part, "type");
      ojson m = base();
      if (type == "text") {
        auto text = part.find("text");
        if (text == part.end() || !text->is_string()) {
          return InvalidArgumentError("invalid message format");
        }
        m["content"] = *text;
      } else if (type == "image_url") {
        auto iu = part.find("image_url");
        const ojson* url = nullptr;
        if (iu != part.end() && iu->is_object()) {
          auto u = iu->find("url");
          if (u != iu->end()) url = &*u;
        } else if (iu != part.end()) {
          url = &*iu;
        }
        if (url == nullptr || !url->is_string()) {
          return InvalidArgumentError("invalid message format");
        }
        ASSIGN_OR_RETURN(std::string image, DecodeImageUrl(url->get<std::string>()));
        m["images"] = ojson::array({std::move(image)});
      } else if (type == "input_audio") {
        auto audio = part.find("input_audio");
        if (audio == part.end() || !audio->is_object()) {
          return InvalidArgumentError("invalid input_audio format");
        }
        auto data = audio->find("data");
        if (data == audio->end() || !data->is_string()) {
          return InvalidArgumentError("invalid input_audio format: missing data");
        }
        std::string bytes;
        if (!Base64Decode(data->get<std::string>(), &bytes)) {
          return InvalidArgumentError("invalid input_audio base64 data");
        }
        m["images"] = ojson::array({Base64Encode(bytes)});  // audio travels as an image
      } else {
        return InvalidArgumentError("invalid message format");
      }
      out->push_back(std::move(m));
    }
    if (out->size() > first) attach(out->back());
    return Status::Ok();
  }
  // content is optional only beside tool calls (null or absent).
  if ((content == nullptr) && tool_calls) {
    ojson m = base();
    attach(m);
    out->push_back(std::move(m));
    return Status::Ok();
  }
  return InvalidArgumentError("invalid message content type: " +
                              (content == nullptr ? std::string("<nil>") : GoTypeName(*content)));
}

// reasoning.effort or reasoning_effort as the native "think" value; nullopt when unset.
Result<std::optional<ojson>> ReadThink(const Fields& f) {
  std::string effort;
  if (const ojson* r = f.Find("reasoning")) {
    if (!r->is_object()) return TypeError(*r, f.Name("reasoning"), "openai.Reasoning");
    RETURN_IF_ERROR(Fields(*r, f.Name("reasoning")).String("effort", &effort));
  } else {
    RETURN_IF_ERROR(f.String("reasoning_effort", &effort));
  }
  if (effort.empty()) return std::optional<ojson>();
  if (effort == "none") return std::optional<ojson>(false);
  if (effort == "minimal") return std::optional<ojson>("low");
  if (effort == "low" || effort == "medium" || effort == "high" || effort == "max") {
    return std::optional<ojson>(effort);
  }
  if (effort == "xhigh" || effort == "ultra") return std::optional<ojson>("max");
  return InvalidArgumentError("invalid reasoning value: '" + effort +
                              "' (must be \"none\", \"minimal\", \"low\", \"medium\", \"high\", "
                              "\"xhigh\", \"max\", or \"ultra\")");
}

// response_format as the native "format": "json", a schema, or nothing.
Result<std::optional<ojson>> ReadResponseFormat(const Fields& f) {
  const ojson* rf = f.Find("response_format");
  if (rf == nullptr) return std::optional<ojson>();
  const std::string field = f.Name("response_format");
  if (!rf->is_object()) return TypeError(*rf, field, "openai.ResponseFormat");
  Fields rff(*rf, field);
  std::string type;
  RETURN_IF_ERROR(rff.String("type", &type));
  const std::string t = ToLower(TrimSpace(type));
  if (t == "json_object") return std::optional<ojson>("json");
  if (t == "json_schema") {
    const ojson* js = rff.Find("json_schema");
    if (js == nullptr) return std::optional<ojson>();
    if (!js->is_object()) return TypeError(*js, field + ".json_schema", "openai.JsonSchema");
    const ojson* schema = Fields(*js, field + ".json_schema").Find("schema");
    if (schema == nullptr) return std::optional<ojson>();
    return std::optional<ojson>(*schema);
  }
  if (t.empty() || t == "text") return std::optional<ojson>();
  // Ollama ignores other types; that would drop the client's constraint silently.
  return InvalidArgumentError("Invalid value for 'response_format.type' = " + type +
                              ". Supported values: ['text', 'json_object', 'json_schema'].");
}

ojson Usage(const ojson& native) {
  const int64_t prompt = IntField(native, "prompt_eval_count");
  const int64_t completion = IntField(native, "eval_count");
  return ojson{{"prompt_tokens", prompt},
               {"completion_tokens", completion},
               {"total_tokens", prompt + completion}};
}

ojson ZeroUsage() {
  return ojson{{"prompt_tokens", 0}, {"completion_tokens", 0}, {"total_tokens", 0}};
}

// The native tool calls ({"id", "function": {"index", "name", "arguments": {...}}}) in
// OpenAI's form, arguments as a JSON string.
ojson OpenAIToolCalls(const ojson& native_calls) {
  ojson out = ojson::array();
  if (!native_calls.is_array()) return out;
  for (const ojson& c : native_calls) {
    const ojson& fn = Field(c, "function");
    const ojson& args = Field(fn, "arguments");
    ojson call = ojson::object();
    call["id"] = StringField(c, "id");
    call["index"] = IntField(fn, "index");
    call["type"] = "function";
    call["function"] = ojson{{"name", StringField(fn, "name")},
                             {"arguments", Dump(args.is_null() ? ojson::object() : args)}};
    out.push_back(std::move(call));
  }
  return out;
}

int64_t CreatedOf(const ojson& native) {
  int64_t t = -1;
  if (const ojson& at = Field(native, "created_at"); at.is_string()) {
    t = UnixSeconds(at.get<std::string>());
  }
  if (t < 0) {
    t = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
  }
  return t;
}

std::string Event(const ojson& j) { return "data: " + Dump(j) + "\n\n"; }

}  // namespace

// ---- errors ----

std::string_view ErrorType(int status) {
  if (status == 400) return "invalid_request_error";
  if (status == 404) return "not_found_error";
  return "api_error";
}

ojson ErrorBody(int status, std::string_view message) {
  ojson error = ojson::object();
  error["message"] = message;
  error["type"] = ErrorType(status);
  error["param"] = nullptr;
  error["code"] = nullptr;
  return ojson{{"error", std::move(error)}};
}

std::string NativeErrorMessage(const ojson& native) {
  if (auto it = native.find("error"); it != native.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return Dump(native);
}

// ---- requests ----

Result<NativeCall> TranslateChatRequest(const ojson& request) {
  Fields f(request, "ChatCompletionRequest");
  RETURN_IF_ERROR(f.RejectOthers({"model",
                                  "messages",
                                  "stream",
                                  "stream_options",
                                  "max_tokens",
                                  "max_completion_tokens",
                                  "seed",
                                  "stop",
                                  "temperature",
                                  "frequency_penalty",
                                  "presence_penalty",
                                  "top_p",
                                  "response_format",
                                  "tools",
                                  "reasoning",
                                  "reasoning_effort",
                                  "logprobs",
                                  "top_logprobs",
                                  "_debug_render_only",
                                  "n",
                                  "modalities"},
                                 kChatIgnoredFields));
  NativeCall call;
  std::string model;
  RETURN_IF_ERROR(f.String("model", &model));
  std::optional<bool> stream, logprobs, debug;
  RETURN_IF_ERROR(f.Bool("stream", &stream));
  RETURN_IF_ERROR(f.Bool("logprobs", &logprobs));
  RETURN_IF_ERROR(f.Bool("_debug_render_only", &debug));
  RETURN_IF_ERROR(ReadStreamOptions(f, &call.include_usage));
  RETURN_IF_ERROR(ReadSingleChoice(f, "n"));
  if (const ojson* m = f.Find("modalities")) {
    if (*m != ojson::array({"text"})) {
      return InvalidArgumentError("Invalid value for 'modalities' = " + Dump(*m) +
                                  ". Only [\"text\"] is supported by this server.");
    }
  }
  std::optional<int64_t> max_tokens, max_completion_tokens, seed, top_logprobs;
  RETURN_IF_ERROR(f.Int("max_tokens", &max_tokens));
  RETURN_IF_ERROR(f.Int("max_completion_tokens", &max_completion_tokens));
  RETURN_IF_ERROR(f.Int("seed", &seed));
  RETURN_IF_ERROR(f.Int("top_logprobs", &top_logprobs));
  std::optional<double> temperature, top_p, frequency_penalty, presence_penalty;
  RETURN_IF_ERROR(f.Float("temperature", &temperature));
  RETURN_IF_ERROR(f.Float("top_p", &top_p));
  RETURN_IF_ERROR(f.Float("frequency_penalty", &frequency_penalty));
  RETURN_IF_ERROR(f.Float("presence_penalty", &presence_penalty));

  const ojson* messages = f.Find("messages");
  if (messages != nullptr && !messages->is_array()) {
    return TypeError(*messages, f.Name("messages"), "[]openai.Message");
  }
  if (messages == nullptr || messages->empty()) {
    return InvalidArgumentError("[] is too short - 'messages'");
  }
  ojson native_messages = ojson::array();
  for (const ojson& m : *messages) {
    RETURN_IF_ERROR(AppendNativeMessages(*messages, m, &native_messages));
  }

  ojson options = ojson::object();
  RETURN_IF_ERROR(ReadStop(f, &options));
  // max_completion_tokens is the newer name of max_tokens; it wins when both are sent.
  if (max_completion_tokens) {
    options["num_predict"] = *max_completion_tokens;
  } else if (max_tokens) {
    options["num_predict"] = *max_tokens;
  }
  // OpenAI's defaults, not the model's: Ollama sends 1.0 when the request has none.
  options["temperature"] = temperature.value_or(1.0);
  if (seed) options["seed"] = *seed;
  if (frequency_penalty) options["frequency_penalty"] = *frequency_penalty;
  if (presence_penalty) options["presence_penalty"] = *presence_penalty;
  options["top_p"] = top_p.value_or(1.0);

  ASSIGN_OR_RETURN(std::optional<ojson> format, ReadResponseFormat(f));
  ASSIGN_OR_RETURN(std::optional<ojson> think, ReadThink(f));
  const ojson* tools = f.Find("tools");
  if (tools != nullptr && !tools->is_array()) {
    return TypeError(*tools, f.Name("tools"), "[]api.Tool");
  }

  call.stream = stream.value_or(false);
  ojson& b = call.body;
  b["model"] = model;
  b["messages"] = std::move(native_messages);
  if (format) b["format"] = *format;
  b["options"] = std::move(options);
  b["stream"] = call.stream;
  if (tools != nullptr && !tools->empty()) b["tools"] = *tools;
  if (think) b["think"] = *think;
  if (logprobs.value_or(false)) b["logprobs"] = true;
  if (top_logprobs.value_or(0) != 0) b["top_logprobs"] = *top_logprobs;
  if (debug.value_or(false)) b["_debug_render_only"] = true;
  return call;
}

Result<NativeCall> TranslateCompletionRequest(const ojson& request) {
  Fields f(request, "CompletionRequest");
  RETURN_IF_ERROR(
      f.RejectOthers({"model", "prompt", "suffix", "max_tokens", "temperature", "top_p",
                      "frequency_penalty", "presence_penalty", "seed", "stop", "stream",
                      "stream_options", "logprobs", "_debug_render_only", "n", "best_of", "echo"},
                     kCompletionIgnoredFields));
  NativeCall call;
  std::string model, prompt, suffix;
  RETURN_IF_ERROR(f.String("model", &model));
  RETURN_IF_ERROR(f.String("prompt", &prompt));
  RETURN_IF_ERROR(f.String("suffix", &suffix));
  std::optional<bool> stream, debug, echo;
  RETURN_IF_ERROR(f.Bool("stream", &stream));
  RETURN_IF_ERROR(f.Bool("_debug_render_only", &debug));
  RETURN_IF_ERROR(f.Bool("echo", &echo));
  if (echo.value_or(false)) {
    return InvalidArgumentError(
        "Invalid value for 'echo' = true. Only false is supported by this server.");
  }
  RETURN_IF_ERROR(ReadStreamOptions(f, &call.include_usage));
  RETURN_IF_ERROR(ReadSingleChoice(f, "n"));
  RETURN_IF_ERROR(ReadSingleChoice(f, "best_of"));
  std::optional<int64_t> max_tokens, seed, logprobs;
  RETURN_IF_ERROR(f.Int("max_tokens", &max_tokens));
  RETURN_IF_ERROR(f.Int("seed", &seed));
  RETURN_IF_ERROR(f.Int("logprobs", &logprobs));
  std::optional<double> temperature, top_p, frequency_penalty, presence_penalty;
  RETURN_IF_ERROR(f.Float("temperature", &temperature, "float32"));
  RETURN_IF_ERROR(f.Float("top_p", &top_p, "float32"));
  RETURN_IF_ERROR(f.Float("frequency_penalty", &frequency_penalty, "float32"));
  RETURN_IF_ERROR(f.Float("presence_penalty", &presence_penalty, "float32"));

  ojson options = ojson::object();
  RETURN_IF_ERROR(ReadStop(f, &options));
  if (max_tokens) options["num_predict"] = *max_tokens;
  options["temperature"] = temperature.value_or(1.0);
  if (seed) options["seed"] = *seed;
  options["frequency_penalty"] = frequency_penalty.value_or(0.0);
  options["presence_penalty"] = presence_penalty.value_or(0.0);
  // A top_p of 0 counts as absent here (Ollama's field is a plain float32).
  options["top_p"] = top_p.value_or(0.0) != 0.0 ? *top_p : 1.0;

  call.stream = stream.value_or(false);
  ojson& b = call.body;
  b["model"] = model;
  b["prompt"] = prompt;
  if (!suffix.empty()) b["suffix"] = suffix;
  b["options"] = std::move(options);
  b["stream"] = call.stream;
  // logprobs N > 0: the chosen tokens' logprobs with the top N alternatives.
  if (logprobs.value_or(0) > 0) {
    b["logprobs"] = true;
    b["top_logprobs"] = *logprobs;
  }
  if (debug.value_or(false)) b["_debug_render_only"] = true;
  return call;
}

Result<EmbedCall> TranslateEmbeddingRequest(const ojson& request) {
  Fields f(request, "EmbedRequest");
  RETURN_IF_ERROR(
      f.RejectOthers({"model", "input", "dimensions", "encoding_format"}, kEmbeddingIgnoredFields));
  EmbedCall call;
  std::string encoding;
  RETURN_IF_ERROR(f.String("model", &call.model));
  RETURN_IF_ERROR(f.String("encoding_format", &encoding));
  std::optional<int64_t> dimensions;
  RETURN_IF_ERROR(f.Int("dimensions", &dimensions));
  if (!encoding.empty()) {
    const std::string e = ToLower(encoding);
    if (e != "float" && e != "base64") {
      return InvalidArgumentError("Invalid value for 'encoding_format' = " + encoding +
                                  ". Supported values: ['float', 'base64'].");
    }
    call.base64 = e == "base64";
  }
  const ojson* input = f.Find("input");
  if (input == nullptr) return InvalidArgumentError("invalid input");
  ojson native_input = *input;
  if (input->is_string() && input->get<std::string>().empty()) {
    native_input = ojson::array({""});  // one (empty) input, not none
  }
  if (input->is_array() && input->empty()) return InvalidArgumentError("invalid input");
  call.body["model"] = call.model;
  call.body["input"] = std::move(native_input);  // other types: the native 400
  if (dimensions.value_or(0) != 0) call.body["dimensions"] = *dimensions;
  return call;
}

// ---- whole replies ----

ojson ChatCompletionFromNative(std::string_view id, const ojson& native) {
  const ojson& message = Field(native, "message");
  const ojson tool_calls = OpenAIToolCalls(Field(message, "tool_calls"));
  ojson out = ojson::object();
  out["id"] = id;
  out["object"] = "chat.completion";
  out["created"] = CreatedOf(native);
  out["model"] = StringField(native, "model");
  out["system_fingerprint"] = "fp_ollama";
  ojson m = ojson::object();
  const std::string role = StringField(message, "role");
  m["role"] = role.empty() ? "assistant" : role;
  m["content"] = StringField(message, "content");
  if (const std::string t = StringField(message, "thinking"); !t.empty()) m["reasoning"] = t;
  if (!tool_calls.empty()) m["tool_calls"] = tool_calls;
  std::string reason = StringField(native, "done_reason");
  if (reason == "stop" && !tool_calls.empty()) reason = "tool_calls";
  ojson choice = ojson::object();
  choice["index"] = 0;
  choice["message"] = std::move(m);
  choice["finish_reason"] = reason.empty() ? ojson() : ojson(reason);
  if (NonEmptyArray(native, "logprobs"))
    choice["logprobs"] = ojson{{"content", Field(native, "logprobs")}};
  out["choices"] = ojson::array({std::move(choice)});
  out["usage"] = Usage(native);
  if (const ojson& debug = Field(native, "_debug_info"); !debug.is_null()) {
    out["_debug_info"] = debug;
  }
  return out;
}

ojson CompletionFromNative(std::string_view id, const ojson& native) {
  ojson out = ojson::object();
  out["id"] = id;
  out["object"] = "text_completion";
  out["created"] = CreatedOf(native);
  out["model"] = StringField(native, "model");
  out["system_fingerprint"] = "fp_ollama";
  const std::string reason = StringField(native, "done_reason");
  ojson choice = ojson::object();
  choice["text"] = StringField(native, "response");
  choice["index"] = 0;
  choice["finish_reason"] = reason.empty() ? ojson() : ojson(reason);
  if (NonEmptyArray(native, "logprobs"))
    choice["logprobs"] = ojson{{"content", Field(native, "logprobs")}};
  out["choices"] = ojson::array({std::move(choice)});
  out["usage"] = Usage(native);
  return out;
}

ojson EmbeddingListFromNative(std::string_view model, const ojson& native, bool base64) {
  ojson data = nullptr;  // Go's nil slice when there is no embedding
  int index = 0;
  if (NonEmptyArray(native, "embeddings")) {
    data = ojson::array();
    for (const ojson& e : Field(native, "embeddings")) {
      ojson item = ojson::object();
      item["object"] = "embedding";
      if (base64) {
        std::string bytes;
        for (const ojson& x : e) {
          const float v = x.is_number() ? x.get<float>() : 0.0f;
          uint32_t u;
          std::memcpy(&u, &v, sizeof u);
          for (int k = 0; k < 4; ++k) bytes.push_back(static_cast<char>((u >> (8 * k)) & 0xff));
        }
        item["embedding"] = Base64Encode(bytes);
      } else {
        item["embedding"] = e;
      }
      item["index"] = index++;
      data.push_back(std::move(item));
    }
  }
  const int64_t tokens = IntField(native, "prompt_eval_count");
  ojson out = ojson::object();
  out["object"] = "list";
  out["data"] = std::move(data);
  out["model"] = model;
  out["usage"] = ojson{{"prompt_tokens", tokens}, {"total_tokens", tokens}};
  return out;
}

namespace {

ojson ModelObject(std::string_view id, const ojson& modified_at) {
  int64_t created = modified_at.is_string() ? UnixSeconds(modified_at.get<std::string>()) : -1;
  if (created < 0) created = 0;
  ojson m = ojson::object();
  m["id"] = id;
  m["object"] = "model";
  m["created"] = created;
  m["owned_by"] = store::ParseNameWithDefaults(id).ns;
  return m;
}

}  // namespace

ojson ModelListFromNative(const ojson& tags) {
  ojson data = nullptr;  // Ollama answers "data": null without models
  if (NonEmptyArray(tags, "models")) {
    data = ojson::array();
    for (const ojson& m : Field(tags, "models")) {
      data.push_back(ModelObject(StringField(m, "name"), Field(m, "modified_at")));
    }
  }
  return ojson{{"object", "list"}, {"data", std::move(data)}};
}

ojson ModelFromShow(std::string_view id, const ojson& show) {
  return ModelObject(id, Field(show, "modified_at"));
}

// ---- streams ----

std::string ChatStream::Push(const ojson& native) {
  std::string out;
  if (finished_ || failed_) return out;
  if (native.contains("error")) {
    failed_ = true;
    return Event(ErrorBody(500, NativeErrorMessage(native)));
  }
  if (created_ < 0) created_ = CreatedOf(native);
  const ojson& message = Field(native, "message");
  const std::string content = StringField(message, "content");
  const std::string thinking = StringField(message, "thinking");
  const ojson tool_calls = OpenAIToolCalls(Field(message, "tool_calls"));
  const bool has_logprobs = NonEmptyArray(native, "logprobs");
  const bool done = BoolField(native, "done");
  const std::string model = StringField(native, "model");

  auto chunk = [&](ojson delta, ojson finish_reason) {
    ojson choice = ojson::object();
    choice["index"] = 0;
    choice["delta"] = std::move(delta);
    choice["finish_reason"] = std::move(finish_reason);
    ojson c = ojson::object();
    c["id"] = id_;
    c["object"] = "chat.completion.chunk";
    c["created"] = created_;
    c["model"] = model;
    c["system_fingerprint"] = "fp_ollama";
    c["choices"] = ojson::array({std::move(choice)});
    return c;
  };
  // The final native object carries no text: OpenAI goes from the last delta to the finish
  // chunk, unless nothing at all was sent (a role chunk opens even an empty completion).
  const bool empty_trailer = done && first_sent_ && content.empty() && thinking.empty() &&
                             tool_calls.empty() && !has_logprobs;
  if (!empty_trailer) {
    ojson delta = ojson::object();
    if (!first_sent_) delta["role"] = "assistant";
    const bool mixed = !thinking.empty() && (!content.empty() || !tool_calls.empty());
    if (mixed) {
      // Thinking first, in its own chunk (with the logprobs), then the content or calls.
      delta["reasoning"] = thinking;
      ojson c = chunk(std::move(delta), nullptr);
      if (has_logprobs) c["choices"][0]["logprobs"] = ojson{{"content", Field(native, "logprobs")}};
      out += Event(c);
      delta = ojson::object();
      delta["content"] = content;
      if (!tool_calls.empty()) delta["tool_calls"] = tool_calls;
      out += Event(chunk(std::move(delta), nullptr));
    } else {
      delta["content"] = content;
      if (!thinking.empty()) delta["reasoning"] = thinking;
      if (!tool_calls.empty()) delta["tool_calls"] = tool_calls;
      ojson c = chunk(std::move(delta), nullptr);
      if (has_logprobs) c["choices"][0]["logprobs"] = ojson{{"content", Field(native, "logprobs")}};
      out += Event(c);
    }
    tool_call_sent_ = tool_call_sent_ || !tool_calls.empty();
    first_sent_ = true;
  }
  if (done) {
    std::string reason = StringField(native, "done_reason");
    if (reason.empty()) reason = "stop";
    // Only a normal stop becomes tool_calls: a cut-off ("length") stays what it is.
    if (reason == "stop" && tool_call_sent_) reason = "tool_calls";
    ojson finish = chunk(ojson::object(), reason);
    out += Event(finish);
    if (include_usage_) {
      finish["choices"] = ojson::array();
      finish["usage"] = Usage(native);
      out += Event(finish);
    }
    finished_ = true;
  }
  return out;
}

std::string ChatStream::End() const { return finished_ ? "data: [DONE]\n\n" : ""; }

std::string CompletionStream::Push(const ojson& native) {
  if (finished_ || failed_) return "";
  if (native.contains("error")) {
    failed_ = true;
    return Event(ErrorBody(500, NativeErrorMessage(native)));
  }
  if (created_ < 0) created_ = CreatedOf(native);
  const std::string reason = StringField(native, "done_reason");
  ojson choice = ojson::object();
  choice["text"] = StringField(native, "response");
  choice["index"] = 0;
  choice["finish_reason"] = reason.empty() ? ojson() : ojson(reason);
  if (NonEmptyArray(native, "logprobs"))
    choice["logprobs"] = ojson{{"content", Field(native, "logprobs")}};
  ojson c = ojson::object();
  c["id"] = id_;
  c["object"] = "text_completion";
  c["created"] = created_;
  c["choices"] = ojson::array({std::move(choice)});
  c["model"] = StringField(native, "model");
  c["system_fingerprint"] = "fp_ollama";
  if (include_usage_) c["usage"] = ZeroUsage();
  std::string out = Event(c);
  if (BoolField(native, "done")) {
    if (include_usage_) {
      c["choices"] = ojson::array();
      c["usage"] = Usage(native);
      out += Event(c);
    }
    finished_ = true;
  }
  return out;
}

std::string CompletionStream::End() const { return finished_ ? "data: [DONE]\n\n" : ""; }

}  // namespace corral::server::openai
