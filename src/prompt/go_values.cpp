#include "prompt/go_values.h"

#include "template/format.h"

namespace corral::prompt {
namespace {

using nlohmann::json;

std::string Marshal(const json& value) { return tmpl::GoJsonMarshal(value); }

const json& Field(const json& object, const char* key) {
  static const json null;
  if (!object.is_object()) return null;
  auto it = object.find(key);
  return it == object.end() ? null : *it;
}

std::string StringField(const json& object, const char* key) {
  const json& v = Field(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// PropertyType: one type prints and marshals as the bare string, several as a list.
json GoPropertyType(const json& type) {
  if (type.is_string()) return type;
  if (type.is_array() && type.size() == 1 && type[0].is_string()) return type[0];
  if (type.is_array() && !type.empty()) return type;
  return "";
}

json GoProperty(const json& property) {
  json any_of = json::array();
  for (const json& p :
       Field(property, "anyOf").is_array() ? Field(property, "anyOf") : json::array()) {
    any_of.push_back(GoProperty(p));
  }
  const json& enums = Field(property, "enum");
  return {{"AnyOf", std::move(any_of)},
          {"Type", GoPropertyType(Field(property, "type"))},
          {"Items", Field(property, "items")},
          {"Description", StringField(property, "description")},
          {"Enum", enums.is_array() ? enums : json::array()}};
}

json GoTool(const json& tool) {
  const json& function = Field(tool, "function");
  const json& parameters = Field(function, "parameters");
  json properties = json::object();
  const json& props = Field(parameters, "properties");
  if (props.is_object()) {
    for (const auto& [name, property] : props.items()) properties[name] = GoProperty(property);
  }
  const json& required = Field(parameters, "required");
  return {{"Type", StringField(tool, "type")},
          {"Items", Field(tool, "items")},
          {"Function",
           {{"Name", StringField(function, "name")},
            {"Description", StringField(function, "description")},
            {"Parameters",
             {{"Type", StringField(parameters, "type")},
              {"Defs", Field(parameters, "$defs")},
              {"Items", Field(parameters, "items")},
              {"Required", required.is_array() ? required : json::array()},
              {"Properties", std::move(properties)}}}}}};
}

// json.Marshal of the Go structs, fields in declaration order, omitempty honoured.
std::string MarshalPropertyType(const json& type) { return Marshal(type); }

std::string MarshalProperty(const json& p) {
  std::string out = "{";
  auto add = [&out](const char* key, const std::string& value) {
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(key) + "\":" + value;
  };
  if (!p["AnyOf"].empty()) {
    std::string list = "[";
    for (const json& a : p["AnyOf"]) list += (list.size() > 1 ? "," : "") + MarshalProperty(a);
    add("anyOf", list + "]");
  }
  const json& type = p["Type"];
  if (!(type.is_string() && type.get<std::string>().empty()))
    add("type", MarshalPropertyType(type));
  if (!p["Items"].is_null()) add("items", Marshal(p["Items"]));
  if (!p["Description"].get<std::string>().empty()) add("description", Marshal(p["Description"]));
  if (!p["Enum"].empty()) add("enum", Marshal(p["Enum"]));
  return out + "}";
}

std::string MarshalParameters(const json& p) {
  std::string out = "{\"type\":" + Marshal(p["Type"]);
  if (!p["Defs"].is_null()) out += ",\"$defs\":" + Marshal(p["Defs"]);
  if (!p["Items"].is_null()) out += ",\"items\":" + Marshal(p["Items"]);
  if (!p["Required"].empty()) out += ",\"required\":" + Marshal(p["Required"]);
  // An absent properties map is a nil map: null.
  if (p["Properties"].empty()) return out + ",\"properties\":null}";
  std::string properties = "{";
  for (const auto& [name, property] : p["Properties"].items()) {
    if (properties.size() > 1) properties += ",";
    properties += Marshal(name) + ":" + MarshalProperty(property);
  }
  return out + ",\"properties\":" + properties + "}}";
}

std::string MarshalFunction(const json& f) {
  std::string out = "{\"name\":" + Marshal(f["Name"]);
  if (!f["Description"].get<std::string>().empty()) {
    out += ",\"description\":" + Marshal(f["Description"]);
  }
  return out + ",\"parameters\":" + MarshalParameters(f["Parameters"]) + "}";
}

std::string MarshalTool(const json& t) {
  std::string out = "{\"type\":" + Marshal(t["Type"]);
  if (!t["Items"].is_null()) out += ",\"items\":" + Marshal(t["Items"]);
  return out + ",\"function\":" + MarshalFunction(t["Function"]) + "}";
}

}  // namespace

json GoMessage(const Message& m) {
  json tool_calls = json::array();
  for (const ToolCall& call : m.tool_calls) {
    tool_calls.push_back(
        {{"ID", call.id},
         {"Function",
          {{"Index", call.index},
           {"Name", call.name},
           // A Go map: templates see the keys sorted.
           {"Arguments", call.arguments.is_object() ? json(call.arguments) : json::object()}}}});
  }
  return {{"Role", m.role},
          {"Content", m.content},
          {"Thinking", m.thinking},
          {"Images", m.images},
          {"ToolCalls", std::move(tool_calls)},
          {"ToolName", m.tool_name},
          {"ToolCallID", m.tool_call_id}};
}

json GoMessages(const std::vector<Message>& messages) {
  json out = json::array();
  for (const Message& m : messages) out.push_back(GoMessage(m));
  return out;
}

json GoTools(const json& tools) {
  json out = json::array();
  if (tools.is_array()) {
    for (const json& tool : tools) out.push_back(GoTool(tool));
  }
  return out;
}

std::unordered_map<const json*, std::string> GoStrings(const json& data) {
  std::unordered_map<const json*, std::string> strings;
  auto tools = data.find("Tools");
  if (tools != data.end() && tools->is_array()) {
    std::string list = "[";
    for (const json& tool : *tools) {
      std::string text = MarshalTool(tool);
      list += (list.size() > 1 ? "," : "") + text;
      strings[&tool] = text;
      const json& function = tool["Function"];
      strings[&function] = MarshalFunction(function);
      strings[&function["Parameters"]] = MarshalParameters(function["Parameters"]);
      // ToolProperty has no String(); its entry makes json of the properties map marshal each
      // property as Go does (printing one directly would differ, and no template does).
      for (const json& property : function["Parameters"]["Properties"]) {
        strings[&property] = MarshalProperty(property);
      }
    }
    // A nil api.Tools marshals as null, an empty one as [].
    strings[&*tools] = tools->empty() ? "null" : list + "]";
  }
  auto messages = data.find("Messages");
  if (messages != data.end() && messages->is_array()) {
    for (const json& message : *messages) {
      for (const json& call : message["ToolCalls"]) {
        const json& arguments = call["Function"]["Arguments"];
        strings[&arguments] = Marshal(arguments);
      }
    }
  }
  return strings;
}

}  // namespace corral::prompt
