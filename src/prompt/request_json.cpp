// Ollama's API JSON for messages and think, read the way api.Message and api.ThinkValue
// unmarshal.
#include <cctype>

#include "prompt/prompt.h"

namespace corral::prompt {
namespace {

using nlohmann::json;

Status ReadString(const json& object, const char* key, std::string* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("message field \"") + key + "\" must be a string");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Result<ToolCall> ParseToolCall(const json& value) {
  if (!value.is_object()) return InvalidArgumentError("a tool call must be an object");
  ToolCall call;
  RETURN_IF_ERROR(ReadString(value, "id", &call.id));
  auto function = value.find("function");
  if (function == value.end() || !function->is_object()) {
    return InvalidArgumentError("a tool call needs a \"function\" object");
  }
  RETURN_IF_ERROR(ReadString(*function, "name", &call.name));
  auto index = function->find("index");
  if (index != function->end() && index->is_number_integer()) call.index = index->get<int>();
  auto arguments = function->find("arguments");
  if (arguments != function->end() && !arguments->is_null()) {
    if (!arguments->is_object()) {
      return InvalidArgumentError("tool call arguments must be an object");
    }
    call.arguments = *arguments;
  }
  return call;
}

}  // namespace

Result<Think> ParseThink(const json& value) {
  Think think;
  if (value.is_null()) return think;
  if (value.is_boolean()) {
    think.set = true;
    think.enabled = value.get<bool>();
    return think;
  }
  if (value.is_string()) {
    std::string level = value.get<std::string>();
    if (level != "high" && level != "medium" && level != "low" && level != "max") {
      return InvalidArgumentError(
          "invalid think value: \"" + level +
          "\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)");
    }
    think.set = true;
    think.enabled = true;
    think.level = level;
    return think;
  }
  return InvalidArgumentError(
      "think must be a boolean or string (\"high\", \"medium\", \"low\", true, or false)");
}

Result<std::vector<Message>> ParseMessages(const json& messages) {
  std::vector<Message> out;
  if (messages.is_null()) return out;
  if (!messages.is_array()) return InvalidArgumentError("messages must be an array");
  for (const json& value : messages) {
    if (!value.is_object()) return InvalidArgumentError("a message must be an object");
    Message m;
    RETURN_IF_ERROR(ReadString(value, "role", &m.role));
    for (char& c : m.role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    RETURN_IF_ERROR(ReadString(value, "content", &m.content));
    RETURN_IF_ERROR(ReadString(value, "thinking", &m.thinking));
    RETURN_IF_ERROR(ReadString(value, "tool_name", &m.tool_name));
    RETURN_IF_ERROR(ReadString(value, "tool_call_id", &m.tool_call_id));
    if (auto images = value.find("images"); images != value.end() && !images->is_null()) {
      if (!images->is_array()) return InvalidArgumentError("message images must be an array");
      for (const json& image : *images) {
        if (!image.is_string()) return InvalidArgumentError("an image must be a base64 string");
        m.images.push_back(image.get<std::string>());
      }
    }
    if (auto calls = value.find("tool_calls"); calls != value.end() && !calls->is_null()) {
      if (!calls->is_array()) return InvalidArgumentError("tool_calls must be an array");
      for (const json& call : *calls) {
        ASSIGN_OR_RETURN(ToolCall parsed, ParseToolCall(call));
        m.tool_calls.push_back(std::move(parsed));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace corral::prompt
