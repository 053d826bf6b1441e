#include "sampling/json_schema.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <vector>

namespace corral::sampling {
namespace {

using json = nlohmann::ordered_json;

// Shared primitives, as json-schema-to-grammar's PRIMITIVE_RULES, except that the exponent has
// at most 2 digits: llama.cpp's allows 16, and 1e10110 is valid JSON that overflows a double, so
// parsers such as nlohmann::json and Go's encoding/json (float64) refuse it.
constexpr const char* kPrimitives = R"(space ::= | " " | "\n" [ \t]{0,20}
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
string ::= "\"" char* "\"" space
integral-part ::= [0] | [1-9] [0-9]{0,15}
decimal-part ::= [0-9]{1,16}
number ::= ("-"? integral-part) ("." decimal-part)? ([eE] [-+]? [0-9]{1,2})? space
integer ::= ("-"? integral-part) space
boolean ::= ("true" | "false") space
null ::= "null" space
value ::= object | array | string | number | boolean | null
object ::= "{" space ( string ":" space value ("," space string ":" space value)* )? "}" space
array ::= "[" space ( value ("," space value)* )? "]" space
date ::= [0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )
time ::= ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )
uuid ::= [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}
)";

// Keywords that only annotate; skipped.
const std::set<std::string_view>& Annotations() {
  static const std::set<std::string_view> k = {"$schema",     "$id",      "$comment", "title",
                                               "description", "default",  "examples", "deprecated",
                                               "readOnly",    "writeOnly"};
  return k;
}

// A GBNF string literal matching exactly the JSON text `j.dump()`.
std::string Literal(const json& j) {
  std::string text = j.dump();  // control characters come out as \uXXXX escapes
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A JSON pointer for messages: "/" for the root.
std::string At(const std::string& where) { return where.empty() ? "/" : where; }

std::string Pointer(const std::string& parent, std::string_view key) {
  return parent + "/" + std::string(key);
}

constexpr size_t kMaxProperties = 256;
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxItemsBound = 1000;

class Converter {
 public:
  Result<std::string> Run(const json& schema) {
    root_ = &schema;
    ASSIGN_OR_RETURN(std::string root, Visit(schema, "root", "", 0));
    std::string out = "root ::= " + root + "\n";
    for (const std::string& r : rules_) out += r;
    return out + kPrimitives;
  }

 private:
  // A fresh rule name from `hint`: word characters only, never a primitive's name.
  std::string Name(std::string_view hint) {
    std::string name;
    for (char c : hint) {
      bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      name += word ? c : '-';
    }
    name = "s-" + name;
    int n = used_[name]++;
    return n == 0 ? name : name + "-" + std::to_string(n);
  }

  std::string AddRule(std::string_view hint, const std::string& body) {
    std::string name = Name(hint);
    rules_.push_back(name + " ::= " + body + "\n");
    return name;
  }

  // A local reference ("#/$defs/node", "#/definitions/x", any "#/..." pointer) becomes one rule,
  // named before its body is converted so recursive schemas (trees) refer back to it.
  Result<std::string> Ref(const std::string& ref, const std::string& where, int depth) {
    auto known = refs_.find(ref);
    if (known != refs_.end()) return known->second;
    if (ref.rfind("#", 0) != 0) {
      return InvalidArgumentError("only local $ref (\"#/...\") is supported, got '" + ref +
                                  "' at " + At(where));
    }
    const json* target = root_;
    std::string_view rest = std::string_view(ref).substr(1);
    while (!rest.empty()) {
      if (rest[0] != '/') return InvalidArgumentError("bad $ref '" + ref + "' at " + At(where));
      rest.remove_prefix(1);
      size_t end = std::min(rest.find('/'), rest.size());
      std::string token;
      for (size_t i = 0; i < end; ++i) {  // JSON pointer escapes: ~1 is '/', ~0 is '~'
        if (rest[i] == '~' && i + 1 < end && (rest[i + 1] == '0' || rest[i + 1] == '1')) {
          token += rest[++i] == '0' ? '~' : '/';
        } else {
          token += rest[i];
        }
      }
      rest.remove_prefix(end);
      if (!target->is_object() || !target->contains(token)) {
        return InvalidArgumentError("$ref '" + ref + "' at " + At(where) + " does not resolve");
      }
      target = &(*target)[token];
    }
    std::string name = Name("ref-" + ref.substr(1));
    refs_[ref] = name;
    ASSIGN_OR_RETURN(std::string body, Visit(*target, name.substr(2), ref.substr(1), depth + 1));
    rules_.push_back(name + " ::= " + body + "\n");
    return name;
  }

  Result<std::string> Alternatives(const json& list, const std::string& keyword,
                                   const std::string& hint, const std::string& where, int depth) {
    if (!list.is_array() || list.empty()) {
      return InvalidArgumentError("'" + keyword + "' at " + At(where) +
                                  " must be a non-empty array");
    }
    std::string alts;
    for (size_t i = 0; i < list.size(); ++i) {
      ASSIGN_OR_RETURN(std::string alt,
                       Visit(list[i], hint + "-" + std::to_string(i),
                             Pointer(Pointer(where, keyword), std::to_string(i)), depth + 1));
      alts += (i ? " | " : "") + alt;
    }
    return "(" + alts + ")";
  }

  Result<std::string> String(const json& schema, const std::string& hint,
                             const std::string& where) {
    if (schema.contains("format")) {
      static const std::map<std::string, std::string, std::less<>> kFormats = {
          {"date", "date"}, {"time", "time"}, {"date-time", "date \"T\" time"}, {"uuid", "uuid"}};
      const json& f = schema["format"];
      auto it = f.is_string() ? kFormats.find(f.get<std::string>()) : kFormats.end();
      if (it == kFormats.end()) {
        return InvalidArgumentError("unsupported JSON schema format " + f.dump() + " at " +
                                    At(where));
      }
      if (schema.contains("minLength") || schema.contains("maxLength")) {
        return Unsupported("minLength/maxLength with format", where);
      }
      return AddRule(hint, "\"\\\"\" " + it->second + " \"\\\"\" space");
    }
    if (!schema.contains("minLength") && !schema.contains("maxLength"))
      return std::string("string");
    int64_t min = 0, max = -1;
    RETURN_IF_ERROR(Bound(schema, "minLength", where, &min));
    RETURN_IF_ERROR(Bound(schema, "maxLength", where, &max));
    if (max >= 0 && max < min) return InvalidArgumentError("maxLength < minLength at " + At(where));
    std::string rep = "{" + std::to_string(min) + "," + (max >= 0 ? std::to_string(max) : "") + "}";
    return AddRule(hint, "\"\\\"\" char" + rep + " \"\\\"\" space");
  }

  // A non-negative integer keyword up to kMaxItemsBound into *out (unchanged when absent).
  Status Bound(const json& schema, const char* keyword, const std::string& where, int64_t* out) {
    if (!schema.contains(keyword)) return Status::Ok();
    const json& v = schema[keyword];
    if (!v.is_number_unsigned()) {
      return InvalidArgumentError("'" + std::string(keyword) + "' at " + At(where) + " is invalid");
    }
    if (v.get<uint64_t>() > static_cast<uint64_t>(kMaxItemsBound)) {
      return InvalidArgumentError("'" + std::string(keyword) + "' at " + At(where) + " above " +
                                  std::to_string(kMaxItemsBound));
    }
    *out = v.get<int64_t>();
    return Status::Ok();
  }

  Status Unsupported(const std::string& keyword, const std::string& where) {
    return InvalidArgumentError("unsupported JSON schema keyword '" + keyword + "' at " +
                                At(where));
  }

  // Returns a GBNF expression (a rule name or parenthesised alternatives) for `schema`.
  Result<std::string> Visit(const json& schema, const std::string& hint, const std::string& where,
                            int depth) {
    if (depth > kMaxDepth) return InvalidArgumentError("JSON schema nested too deeply");
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return std::string("value");
      return InvalidArgumentError("JSON schema 'false' at " + At(where) + " matches nothing");
    }
    if (!schema.is_object()) {
      return InvalidArgumentError("JSON schema at " + At(where) + " is not an object");
    }
    static const std::set<std::string_view> kSupported = {
        "type",      "properties",  "required",    "additionalProperties",
        "enum",      "const",       "items",       "minItems",
        "maxItems",  "prefixItems", "anyOf",       "oneOf",
        "$ref",      "$defs",       "definitions", "minLength",
        "maxLength", "format"};
    for (const auto& [key, value] : schema.items()) {
      if (!kSupported.count(key) && !Annotations().count(key)) return Unsupported(key, where);
    }
    // $ref, anyOf and oneOf stand alone here: siblings that would further constrain them (other
    // than annotations and $defs) are refused rather than ignored.
    for (const char* combinator : {"$ref", "anyOf", "oneOf"}) {
      if (!schema.contains(combinator)) continue;
      for (const auto& [key, value] : schema.items()) {
        if (key != combinator && key != "$defs" && key != "definitions" &&
            !Annotations().count(key)) {
          return Unsupported(key + " beside " + combinator, where);
        }
      }
      if (std::string_view(combinator) == "$ref") {
        if (!schema["$ref"].is_string()) return InvalidArgumentError("bad $ref at " + At(where));
        return Ref(schema["$ref"].get<std::string>(), where, depth);
      }
      // oneOf as anyOf: exclusivity is not enforced (as llama.cpp).
      return Alternatives(schema[combinator], combinator, hint, where, depth);
    }
    if (schema.contains("const")) return "(" + Literal(schema["const"]) + " space)";
    if (schema.contains("enum")) {
      const json& values = schema["enum"];
      if (!values.is_array() || values.empty()) {
        return InvalidArgumentError("'enum' at " + At(where) + " must be a non-empty array");
      }
      std::string body = "(";
      for (size_t i = 0; i < values.size(); ++i) body += (i ? " | " : "") + Literal(values[i]);
      return AddRule(hint, body + ") space");
    }
    std::vector<std::string> types;
    if (schema.contains("type")) {
      const json& t = schema["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array()) {
        for (const json& one : t) {
          if (!one.is_string())
            return InvalidArgumentError("'type' at " + At(where) + " is invalid");
          types.push_back(one.get<std::string>());
        }
      } else {
        return InvalidArgumentError("'type' at " + At(where) + " is invalid");
      }
    } else if (schema.contains("properties") || schema.contains("required") ||
               schema.contains("additionalProperties")) {
      types.push_back("object");  // keywords of one type imply it (a safe narrowing)
    } else if (schema.contains("items") || schema.contains("prefixItems") ||
               schema.contains("minItems") || schema.contains("maxItems")) {
      types.push_back("array");
    } else if (schema.contains("minLength") || schema.contains("maxLength") ||
               schema.contains("format")) {
      types.push_back("string");
    } else {
      return std::string("value");
    }
    std::string alts;
    for (const std::string& type : types) {
      std::string expr;
      if (type == "number" || type == "integer" || type == "boolean" || type == "null") {
        expr = type;
      } else if (type == "string") {
        ASSIGN_OR_RETURN(expr, String(schema, hint, where));
      } else if (type == "object") {
        ASSIGN_OR_RETURN(expr, Object(schema, hint, where, depth));
      } else if (type == "array") {
        ASSIGN_OR_RETURN(expr, Array(schema, hint, where, depth));
      } else {
        return InvalidArgumentError("unknown type '" + type + "' at " + At(where));
      }
      alts += (alts.empty() ? "" : " | ") + expr;
    }
    return types.size() == 1 ? alts : "(" + alts + ")";
  }

  Result<std::string> Object(const json& schema, const std::string& hint, const std::string& where,
                             int depth) {
    if (schema.contains("additionalProperties")) {
      const json& ap = schema["additionalProperties"];
      if (!(ap.is_boolean() && !ap.get<bool>())) {
        return Unsupported("additionalProperties", where);  // only false, for now
      }
    }
    json props = schema.value("properties", json::object());
    if (!props.is_object())
      return InvalidArgumentError("'properties' at " + At(where) + " is invalid");
    if (props.size() > kMaxProperties) {
      return InvalidArgumentError("more than " + std::to_string(kMaxProperties) +
                                  " properties at " + At(where));
    }
    std::set<std::string> required;
    if (schema.contains("required")) {
      for (const json& r : schema["required"]) {
        if (!r.is_string())
          return InvalidArgumentError("'required' at " + At(where) + " is invalid");
        if (!props.contains(r.get<std::string>())) {
          return InvalidArgumentError("required property '" + r.get<std::string>() + "' at " +
                                      At(where) + " is not in 'properties'");
        }
        required.insert(r.get<std::string>());
      }
    }
    std::vector<std::string> req, opt;  // kv rule names
    for (const auto& [key, sub] : props.items()) {
      std::string path = Pointer(Pointer(where, "properties"), key);
      ASSIGN_OR_RETURN(std::string value, Visit(sub, hint + "-" + key, path, depth + 1));
      std::string kv =
          AddRule(hint + "-" + key + "-kv", Literal(json(key)) + " space \":\" space " + value);
      (required.count(key) ? req : opt).push_back(kv);
    }
    std::string body = "\"{\" space ";
    for (size_t i = 0; i < req.size(); ++i) body += (i ? "\",\" space " : "") + req[i] + " ";
    if (!opt.empty()) {
      // Any subset of the optional properties, in order: alternative i starts with the i-th.
      std::string alts;
      for (size_t i = 0; i < opt.size(); ++i) {
        std::string alt = opt[i];
        for (size_t j = i + 1; j < opt.size(); ++j) alt += " (\",\" space " + opt[j] + ")?";
        alts += (i ? " | " : "") + alt;
      }
      body += req.empty() ? "(" + alts + ")? " : "(\",\" space (" + alts + "))? ";
    }
    return AddRule(hint, body + "\"}\" space");
  }

  Result<std::string> Array(const json& schema, const std::string& hint, const std::string& where,
                            int depth) {
    if (schema.contains("prefixItems")) {
      // A fixed tuple; extra items only as `items: false`.
      const json& prefix = schema["prefixItems"];
      if (!prefix.is_array() || prefix.empty()) {
        return InvalidArgumentError("'prefixItems' at " + At(where) + " must be a non-empty array");
      }
      for (const char* k : {"minItems", "maxItems"}) {
        if (schema.contains(k)) return Unsupported(std::string(k) + " with prefixItems", where);
      }
      if (schema.contains("items") && schema["items"] != json(false)) {
        return Unsupported("items with prefixItems", where);
      }
      std::string body = "\"[\" space ";
      for (size_t i = 0; i < prefix.size(); ++i) {
        ASSIGN_OR_RETURN(
            std::string item,
            Visit(prefix[i], hint + "-" + std::to_string(i),
                  Pointer(Pointer(where, "prefixItems"), std::to_string(i)), depth + 1));
        body += (i ? "\",\" space " : "") + item + " ";
      }
      return AddRule(hint, body + "\"]\" space");
    }
    std::string item = "value";
    if (schema.contains("items")) {
      ASSIGN_OR_RETURN(item,
                       Visit(schema["items"], hint + "-item", Pointer(where, "items"), depth + 1));
    }
    int64_t min = 0, max = -1;
    RETURN_IF_ERROR(Bound(schema, "minItems", where, &min));
    RETURN_IF_ERROR(Bound(schema, "maxItems", where, &max));
    if (max >= 0 && max < min) return InvalidArgumentError("maxItems < minItems at " + At(where));
    std::string body = "\"[\" space ";
    if (max != 0) {
      std::string more = "(\",\" space " + item + ")";
      int64_t lo = std::max<int64_t>(min - 1, 0);
      std::string rep = max < 0 ? (lo == 0 ? "*" : "{" + std::to_string(lo) + ",}")
                                : "{" + std::to_string(lo) + "," + std::to_string(max - 1) + "}";
      std::string list = item + " " + more + rep;
      body += min == 0 ? "(" + list + ")? " : list + " ";
    }
    return AddRule(hint, body + "\"]\" space");
  }

  const json* root_ = nullptr;
  std::map<std::string, std::string> refs_;  // $ref -> rule name
  std::vector<std::string> rules_;
  std::map<std::string, int> used_;
};

}  // namespace

Result<std::string> JsonSchemaToGbnf(const nlohmann::ordered_json& schema) {
  return Converter().Run(schema);
}

Result<std::string> JsonSchemaToGbnf(std::string_view schema_json) {
  nlohmann::ordered_json schema =
      nlohmann::ordered_json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return InvalidArgumentError("JSON schema is not valid JSON");
  return Converter().Run(schema);
}

std::string JsonObjectGbnf() { return std::string("root ::= object\n") + kPrimitives; }

}  // namespace corral::sampling
