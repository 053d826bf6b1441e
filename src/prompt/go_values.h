// The data Ollama's Go templates receive, in the JSON form src/template executes over: struct
// fields by their Go names with zero values filled in (missing struct fields would print
// "<no value>"), and the String()/MarshalJSON text of the API types that have one (api.Tools,
// api.Tool, *api.ToolFunction, *api.ToolFunctionParameters, tool-call arguments), which
// templates print directly ({{ .Tools }}, {{ .Function }}, {{ .Function.Arguments }}).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "prompt/prompt.h"

namespace corral::prompt {

nlohmann::json GoMessage(const Message& message);
nlohmann::json GoMessages(const std::vector<Message>& messages);
// api.Tools from the request's JSON (null or an array).
nlohmann::json GoTools(const nlohmann::json& tools);

// Finds, in finished data (its addresses must not move afterwards), the nodes standing for Go
// values with their own text: data["Tools"] and below, and every message's tool-call
// arguments, keyed by address for tmpl::ExecOptions::go_strings.
std::unordered_map<const nlohmann::json*, std::string> GoStrings(const nlohmann::json& data);

}  // namespace corral::prompt
