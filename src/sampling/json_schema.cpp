#include "sampling/json_schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "sampling/json_schema_internal.h"

namespace corral::sampling {

namespace json_schema_internal {

bool IsAnnotation(std::string_view keyword) {
  static const std::set<std::string_view> k = {"$schema",     "$id",       "$comment", "title",
                                               "description", "default",   "examples", "deprecated",
                                               "readOnly",    "writeOnly", "$anchor"};
  return k.count(keyword) > 0;
}

}  // namespace json_schema_internal

namespace {

using json = nlohmann::ordered_json;
using json_schema_internal::At;
using json_schema_internal::IsAnnotation;

// Shared primitives, as json-schema-to-grammar's PRIMITIVE_RULES, except that:
// - the exponent has at most 2 digits: llama.cpp's allows 16, and 1e10110 is valid JSON that
//   overflows a double, so parsers such as nlohmann::json and Go's encoding/json refuse it;
// - a \u escape is never a UTF-16 surrogate (astral characters come raw), so a string's length
//   in characters is the same for the grammar and for a validator (ajv counts code points), and
//   lone surrogates never appear;
// - `date` has each month's days and 29 February in leap years only (RFC 3339, as ajv-formats).
constexpr const char* kPrimitives = R"(space ::= | " " | "\n" [ \t]{0,20}
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))
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
date ::= [0-9]{4} "-" ( ("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) ) | leap-year "-02-29"
leap-year ::= [0-9]{2} ("0" [48] | [2468] [048] | [13579] [26]) | ("0" [48] | [2468] [048] | [13579] [26] | "00") "00"
time ::= ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )
uuid ::= [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}
email ::= email-atom ("." email-atom){0,3} "@" (email-label "."){1,3} [a-zA-Z]{2,8}
email-atom ::= [a-zA-Z0-9_+\-]{1,32}
email-label ::= [a-zA-Z0-9] ([a-zA-Z0-9\-]{0,30} [a-zA-Z0-9])?
key-char ::= [^"\\\x7F\x00-\x1F]
)";

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

std::string Pointer(const std::string& parent, std::string_view key) {
  return parent + "/" + std::string(key);
}

constexpr size_t kMaxProperties = 256;
constexpr size_t kMaxKeyTrieNodes = 4096;
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxItemsBound = 1000;

// Whether JSON value `v` has JSON schema type `type`.
bool HasType(const json& v, std::string_view type) {
  if (type == "integer") {
    return v.is_number_integer() ||
           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  }
  if (type == "number") return v.is_number();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

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

  // The schema a local reference ("#/$defs/node", "#/definitions/x", any "#/..." pointer) names.
  Result<const json*> Resolve(const std::string& ref, const std::string& where) const {
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
      if (target->is_array() && !token.empty() &&
          token.find_first_not_of("0123456789") == std::string::npos &&
          std::stoull(token.substr(0, 9)) < target->size()) {
        target = &(*target)[std::stoull(token.substr(0, 9))];
        continue;
      }
      if (!target->is_object() || !target->contains(token)) {
        return InvalidArgumentError("$ref '" + ref + "' at " + At(where) + " does not resolve");
      }
      target = &(*target)[token];
    }
    return target;
  }

  // A reference becomes one rule, named before its body is converted so recursive schemas
  // (trees) refer back to it.
  Result<std::string> Ref(const std::string& ref, const std::string& where, int depth) {
    auto known = refs_.find(ref);
    if (known != refs_.end()) return known->second;
    ASSIGN_OR_RETURN(const json* target, Resolve(ref, where));
    std::string name = Name("ref-" + ref.substr(1));
    refs_[ref] = name;
    ASSIGN_OR_RETURN(std::string body, Visit(*target, name.substr(2), ref.substr(1), depth + 1));
    rules_.push_back(name + " ::= " + body + "\n");
    return name;
  }

  // The alternative with a top-level $ref followed (one level), for the disjointness check.
  const json& Followed(const json& alt, const std::string& where) const {
    if (alt.is_object() && alt.contains("$ref") && alt["$ref"].is_string()) {
      Result<const json*> target = Resolve(alt["$ref"].get<std::string>(), where);
      if (target.ok()) return **target;
    }
    return alt;
  }

  // The JSON types a schema admits, when it says (`type`, or the type of its const/enum
  // values); empty when it does not.
  static std::set<std::string> AdmittedTypes(const json& s) {
    std::set<std::string> types;
    auto add = [&](const std::string& t) {
      types.insert(t);
      if (t == "number") types.insert("integer");
    };
    auto value_type = [](const json& v) -> std::string {
      if (v.is_null()) return "null";
      if (v.is_boolean()) return "boolean";
      if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
      if (v.is_number()) return "number";
      if (v.is_string()) return "string";
      return v.is_array() ? "array" : "object";
    };
    if (!s.is_object()) return types;
    if (s.contains("type")) {
      const json& t = s["type"];
      if (t.is_string()) add(t.get<std::string>());
      if (t.is_array()) {
        for (const json& one : t) {
          if (one.is_string()) add(one.get<std::string>());
        }
      }
    } else if (s.contains("const")) {
      add(value_type(s["const"]));
    } else if (s.contains("enum") && s["enum"].is_array()) {
      for (const json& v : s["enum"]) add(value_type(v));
    }
    return types;
  }

  // The values a schema allows when it lists them (const or enum); nullopt otherwise.
  static std::optional<std::vector<json>> ListedValues(const json& s) {
    if (!s.is_object()) return std::nullopt;
    if (s.contains("const")) return std::vector<json>{s["const"]};
    if (s.contains("enum") && s["enum"].is_array()) {
      return std::vector<json>(s["enum"].begin(), s["enum"].end());
    }
    return std::nullopt;
  }

  static bool Disjoint(const std::vector<json>& a, const std::vector<json>& b) {
    for (const json& x : a) {
      for (const json& y : b) {
        if (x == y) return false;
      }
    }
    return true;
  }

  // Provably no value matches both: different types, disjoint listed values, or a property both
  // require whose listed values are disjoint (a discriminator such as "kind").
  bool ProvablyDisjoint(const json& a, const json& b) const {
    std::set<std::string> ta = AdmittedTypes(a), tb = AdmittedTypes(b);
    if (!ta.empty() && !tb.empty()) {
      bool shared = false;
      for (const std::string& t : ta) shared = shared || tb.count(t) > 0;
      if (!shared) return true;
    }
    auto va = ListedValues(a), vb = ListedValues(b);
    if (va && vb && Disjoint(*va, *vb)) return true;
    if (!a.is_object() || !b.is_object() || !a.contains("properties") ||
        !b.contains("properties") || !a.contains("required") || !b.contains("required")) {
      return false;
    }
    for (const json& name : a["required"]) {
      if (!name.is_string()) continue;
      const std::string key = name.get<std::string>();
      bool in_b = false;
      for (const json& other : b["required"]) in_b = in_b || other == name;
      if (!in_b || !a["properties"].contains(key) || !b["properties"].contains(key)) continue;
      auto pa = ListedValues(a["properties"][key]), pb = ListedValues(b["properties"][key]);
      if (pa && pb && Disjoint(*pa, *pb)) return true;
    }
    return false;
  }

  Status CheckOneOfDisjoint(const json& list, const std::string& where) const {
    if (!list.is_array()) return Status::Ok();  // Alternatives reports the shape
    for (size_t i = 0; i < list.size(); ++i) {
      for (size_t j = i + 1; j < list.size(); ++j) {
        if (!ProvablyDisjoint(Followed(list[i], where), Followed(list[j], where))) {
          return InvalidArgumentError(
              "unsupported JSON schema keyword 'oneOf' at " + At(where) + ": alternatives " +
              std::to_string(i) + " and " + std::to_string(j) +
              " may both match, and constrained output cannot keep them exclusive (use anyOf, "
              "or give them different types or a required property with different const "
              "values)");
        }
      }
    }
    return Status::Ok();
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
    bool lengths = schema.contains("minLength") || schema.contains("maxLength");
    if (schema.contains("pattern")) {
      // A regex and a length would have to be intersected; refused rather than half-applied.
      if (lengths) return Unsupported("minLength/maxLength with pattern", where);
      if (schema.contains("format")) return Unsupported("format with pattern", where);
      const json& p = schema["pattern"];
      if (!p.is_string()) return InvalidArgumentError("'pattern' at " + At(where) + " is invalid");
      auto body = json_schema_internal::PatternGbnf(p.get<std::string>(), "char");
      if (!body.ok()) {
        return InvalidArgumentError("unsupported 'pattern' at " + At(where) + ": " +
                                    body.status().message());
      }
      return AddRule(hint, "\"\\\"\" " + *body + " \"\\\"\" space");
    }
    if (schema.contains("format")) {
      static const std::map<std::string, std::string, std::less<>> kFormats = {
          {"date", "date"},
          {"time", "time"},
          {"date-time", "date \"T\" time"},
          {"uuid", "uuid"},
          {"email", "email"}};
      const json& f = schema["format"];
      auto it = f.is_string() ? kFormats.find(f.get<std::string>()) : kFormats.end();
      if (it == kFormats.end()) {
        return InvalidArgumentError("unsupported JSON schema format " + f.dump() + " at " +
                                    At(where));
      }
      if (lengths) return Unsupported("minLength/maxLength with format", where);
      return AddRule(hint, "\"\\\"\" " + it->second + " \"\\\"\" space");
    }
    if (!lengths) return std::string("string");
    int64_t min = 0, max = -1;
    RETURN_IF_ERROR(Bound(schema, "minLength", where, &min));
    RETURN_IF_ERROR(Bound(schema, "maxLength", where, &max));
    if (max >= 0 && max < min) return InvalidArgumentError("maxLength < minLength at " + At(where));
    std::string rep = "{" + std::to_string(min) + "," + (max >= 0 ? std::to_string(max) : "") + "}";
    return AddRule(hint, "\"\\\"\" char" + rep + " \"\\\"\" space");
  }

  Result<std::string> Number(const json& schema, bool integer, const std::string& hint,
                             const std::string& where) {
    ASSIGN_OR_RETURN(std::string bounded,
                     json_schema_internal::NumberBoundsGbnf(schema, integer, where));
    if (bounded.empty()) return std::string(integer ? "integer" : "number");
    return AddRule(hint, bounded);
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

  // enum / const: the listed values, less those `type` (when given) rules out. Other
  // constraining siblings are refused: the values are not checked against them.
  Result<std::string> Values(const json& schema, const std::string& hint,
                             const std::string& where) {
    for (const auto& [key, value] : schema.items()) {
      if (key != "enum" && key != "const" && key != "type" && key != "$defs" &&
          key != "definitions" && !IsAnnotation(key)) {
        return Unsupported(key + " beside " + (schema.contains("const") ? "const" : "enum"), where);
      }
    }
    json values = json::array();
    if (schema.contains("const")) {
      values.push_back(schema["const"]);
      if (schema.contains("enum") &&
          (!schema["enum"].is_array() || std::find(schema["enum"].begin(), schema["enum"].end(),
                                                   schema["const"]) == schema["enum"].end())) {
        return InvalidArgumentError("'const' at " + At(where) + " is not among the 'enum' values");
      }
    } else {
      values = schema["enum"];
      if (!values.is_array() || values.empty()) {
        return InvalidArgumentError("'enum' at " + At(where) + " must be a non-empty array");
      }
    }
    std::string body;
    for (const json& v : values) {
      if (schema.contains("type")) {
        const json& t = schema["type"];
        bool ok = false;
        for (const json& one : t.is_array() ? t : json::array({t})) {
          if (one.is_string() && HasType(v, one.get<std::string>())) ok = true;
        }
        if (!ok) continue;
      }
      body += (body.empty() ? "" : " | ") + Literal(v);
    }
    if (body.empty()) {
      return InvalidArgumentError("no 'enum'/'const' value at " + At(where) + " has the 'type'");
    }
    return AddRule(hint, "(" + body + ") space");
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
    static const std::set<std::string_view> kSupported = {"type",
                                                          "properties",
                                                          "required",
                                                          "additionalProperties",
                                                          "enum",
                                                          "const",
                                                          "items",
                                                          "minItems",
                                                          "maxItems",
                                                          "prefixItems",
                                                          "anyOf",
                                                          "oneOf",
                                                          "allOf",
                                                          "$ref",
                                                          "$defs",
                                                          "definitions",
                                                          "minLength",
                                                          "maxLength",
                                                          "format",
                                                          "pattern",
                                                          "minimum",
                                                          "maximum",
                                                          "exclusiveMinimum",
                                                          "exclusiveMaximum"};
    for (const auto& [key, value] : schema.items()) {
      if (!kSupported.count(key) && !IsAnnotation(key)) return Unsupported(key, where);
    }
    // $ref, anyOf and oneOf stand alone, or with constraining siblings are a conjunction (as
    // JSON schema 2020-12 reads them), merged like allOf.
    bool conjunction = schema.contains("allOf");
    for (const char* combinator : {"$ref", "anyOf", "oneOf"}) {
      if (!schema.contains(combinator)) continue;
      for (const auto& [key, value] : schema.items()) {
        if (key != combinator && key != "$defs" && key != "definitions" && !IsAnnotation(key)) {
          conjunction = true;
        }
      }
    }
    if (conjunction) {
      // A oneOf's alternatives stay disjoint when intersected with siblings: check them first.
      if (schema.contains("oneOf")) RETURN_IF_ERROR(CheckOneOfDisjoint(schema["oneOf"], where));
      if (schema.contains("allOf") && schema["allOf"].is_array()) {
        for (const json& conjunct : schema["allOf"]) {
          if (conjunct.is_object() && conjunct.contains("oneOf")) {
            RETURN_IF_ERROR(CheckOneOfDisjoint(conjunct["oneOf"], Pointer(where, "allOf")));
          }
        }
      }
      // Merged into one schema (or an anyOf of merged schemas), then converted as usual.
      auto resolve = [this](const std::string& ref, const std::string& at) -> Result<json> {
        ASSIGN_OR_RETURN(const json* target, Resolve(ref, at));
        return *target;
      };
      ASSIGN_OR_RETURN(json merged, json_schema_internal::MergeAllOf(schema, resolve, where));
      return Visit(merged, hint, Pointer(where, "allOf"), depth + 1);
    }
    for (const char* combinator : {"$ref", "anyOf", "oneOf"}) {
      if (!schema.contains(combinator)) continue;
      if (std::string_view(combinator) == "$ref") {
        if (!schema["$ref"].is_string()) return InvalidArgumentError("bad $ref at " + At(where));
        return Ref(schema["$ref"].get<std::string>(), where, depth);
      }
      // oneOf is generated as anyOf, which is right only when no value can match two of its
      // alternatives: checked conservatively, else refused (llama.cpp silently ignores it).
      if (std::string_view(combinator) == "oneOf") {
        RETURN_IF_ERROR(CheckOneOfDisjoint(schema["oneOf"], where));
      }
      return Alternatives(schema[combinator], combinator, hint, where, depth);
    }
    if (schema.contains("const") || schema.contains("enum")) return Values(schema, hint, where);
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
               schema.contains("format") || schema.contains("pattern")) {
      types.push_back("string");
    } else if (schema.contains("minimum") || schema.contains("maximum") ||
               schema.contains("exclusiveMinimum") || schema.contains("exclusiveMaximum")) {
      types.push_back("number");
    } else {
      return std::string("value");
    }
    std::string alts;
    for (const std::string& type : types) {
      std::string expr;
      if (type == "boolean" || type == "null") {
        expr = type;
      } else if (type == "number" || type == "integer") {
        ASSIGN_OR_RETURN(expr, Number(schema, type == "integer", hint, where));
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

  // A JSON string key (with `space`) that is none of `names`: a trie of the names' characters,
  // where each node may close the string (unless a name ends there), continue along a child, or
  // leave the trie with any other character. Keys here never use escapes, so their text is
  // their value and the comparison is exact.
  Result<std::string> OtherKey(const std::vector<std::string>& names, const std::string& hint) {
    struct TrieNode {
      std::map<uint32_t, size_t> kids;
      bool end = false;
    };
    std::vector<TrieNode> trie(1);
    for (const std::string& name : names) {
      std::vector<uint32_t> cps;
      if (!json_schema_internal::DecodeUtf8(name, cps)) continue;
      bool escaped = std::any_of(cps.begin(), cps.end(), [](uint32_t c) {
        return c < 0x20 || c == '"' || c == '\\' || c == 0x7F;
      });
      if (escaped) continue;  // never equal to an unescaped key
      size_t node = 0;
      for (uint32_t c : cps) {
        auto it = trie[node].kids.find(c);
        if (it == trie[node].kids.end()) {
          if (trie.size() >= kMaxKeyTrieNodes) {
            return InvalidArgumentError("property names too long for additionalProperties");
          }
          trie.push_back({});
          it = trie[node].kids.emplace(c, trie.size() - 1).first;
        }
        node = it->second;
      }
      trie[node].end = true;
    }
    std::string base = Name(hint + "-key");
    for (size_t i = 0; i < trie.size(); ++i) {
      std::string body;
      if (!trie[i].end) body = "\"\\\"\"";
      std::string other = "[^";
      for (const auto& [c, kid] : trie[i].kids) {
        body += std::string(body.empty() ? "" : " | ") + "[" +
                json_schema_internal::GbnfClassChar(c) + "] " + base + "-" + std::to_string(kid);
        other += json_schema_internal::GbnfClassChar(c);
      }
      body += (body.empty() ? "" : " | ") + other + "\"\\\\\\x7F\\x00-\\x1F] key-char* \"\\\"\"";
      rules_.push_back(base + "-" + std::to_string(i) + " ::= " + body + "\n");
    }
    return "\"\\\"\" " + base + "-0 space";
  }

  Result<std::string> Object(const json& schema, const std::string& hint, const std::string& where,
                             int depth) {
    json props = schema.value("properties", json::object());
    if (!props.is_object())
      return InvalidArgumentError("'properties' at " + At(where) + " is invalid");
    if (props.size() > kMaxProperties) {
      return InvalidArgumentError("more than " + std::to_string(kMaxProperties) +
                                  " properties at " + At(where));
    }
    std::set<std::string> required;
    if (schema.contains("required")) {
      if (!schema["required"].is_array()) {
        return InvalidArgumentError("'required' at " + At(where) + " is invalid");
      }
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
    std::vector<std::string> req, opt, names;  // kv rule names; property names
    for (const auto& [key, sub] : props.items()) {
      std::string path = Pointer(Pointer(where, "properties"), key);
      ASSIGN_OR_RETURN(std::string value, Visit(sub, hint + "-" + key, path, depth + 1));
      std::string kv =
          AddRule(hint + "-" + key + "-kv", Literal(json(key)) + " space \":\" space " + value);
      (required.count(key) ? req : opt).push_back(kv);
      names.push_back(key);
    }
    // Extra properties (additionalProperties true or a schema; absent or false: none, the
    // default as in llama.cpp), after the declared ones.
    std::string extra;
    if (schema.contains("additionalProperties") && schema["additionalProperties"] != json(false)) {
      ASSIGN_OR_RETURN(std::string value,
                       Visit(schema["additionalProperties"], hint + "-additional",
                             Pointer(where, "additionalProperties"), depth + 1));
      ASSIGN_OR_RETURN(std::string key, OtherKey(names, hint));
      extra = AddRule(hint + "-additional-kv", key + " \":\" space " + value);
    }
    std::string more_extra = extra.empty() ? "" : "(\",\" space " + extra + ")* ";
    std::string body = "\"{\" space ";
    for (size_t i = 0; i < req.size(); ++i) body += (i ? "\",\" space " : "") + req[i] + " ";
    // Any subset of the optional properties, in order: alternative i starts with the i-th.
    std::string alts;
    for (size_t i = 0; i < opt.size(); ++i) {
      std::string alt = opt[i];
      for (size_t j = i + 1; j < opt.size(); ++j) alt += " (\",\" space " + opt[j] + ")?";
      alts += (i ? " | " : "") + alt;
    }
    if (!req.empty()) {
      if (!alts.empty()) body += "(\",\" space (" + alts + "))? ";
      body += more_extra;
    } else if (!alts.empty() || !extra.empty()) {
      // Nothing required: the first member has no comma before it.
      std::string first = alts.empty() ? "" : "(" + alts + ") " + more_extra;
      if (!extra.empty())
        first += std::string(first.empty() ? "" : "| ") + extra + " " + more_extra;
      body += "(" + first + ")? ";
    }
    return AddRule(hint, body + "\"}\" space");
  }

  Result<std::string> Array(const json& schema, const std::string& hint, const std::string& where,
                            int depth) {
    int64_t min = 0, max = -1;
    RETURN_IF_ERROR(Bound(schema, "minItems", where, &min));
    RETURN_IF_ERROR(Bound(schema, "maxItems", where, &max));
    if (max >= 0 && max < min) return InvalidArgumentError("maxItems < minItems at " + At(where));
    // Positional items (prefixItems), then items past them: `items` (absent with prefixItems, or
    // false: none).
    std::vector<std::string> prefix;
    if (schema.contains("prefixItems")) {
      const json& list = schema["prefixItems"];
      if (!list.is_array() || list.empty()) {
        return InvalidArgumentError("'prefixItems' at " + At(where) + " must be a non-empty array");
      }
      for (size_t i = 0; i < list.size(); ++i) {
        ASSIGN_OR_RETURN(
            std::string item,
            Visit(list[i], hint + "-" + std::to_string(i),
                  Pointer(Pointer(where, "prefixItems"), std::to_string(i)), depth + 1));
        prefix.push_back(item);
      }
    }
    std::string rest;  // "" when no items may follow the prefix
    if (schema.contains("items")) {
      if (schema["items"] != json(false)) {
        ASSIGN_OR_RETURN(
            rest, Visit(schema["items"], hint + "-item", Pointer(where, "items"), depth + 1));
      }
    } else if (prefix.empty()) {
      rest = "value";
    }
    const int64_t n = static_cast<int64_t>(prefix.size());
    // Without minItems a tuple is whole (this compiler's narrowing); without maxItems it ends
    // after the prefix unless more items are allowed.
    if (!schema.contains("minItems")) min = n;
    if (rest.empty()) max = max < 0 ? n : std::min(max, n);
    if (min > max && max >= 0) {
      return InvalidArgumentError("minItems at " + At(where) + " needs more items than allowed");
    }
    auto item = [&](int64_t i) { return i < n ? prefix[static_cast<size_t>(i)] : rest; };
    // tail(k): the items at positions k, k+1, ..., each after a comma, all optional ("" when
    // none may come). Past the prefix a repetition; within it one rule per position.
    auto extras_from = [&](int64_t k) -> std::string {
      if (rest.empty() || (max >= 0 && k >= max)) return "";
      return "(\",\" space " + rest + ")" + (max < 0 ? "*" : "{0," + std::to_string(max - k) + "}");
    };
    std::vector<std::string> tails(static_cast<size_t>(n) + 1);
    tails[static_cast<size_t>(n)] = extras_from(n);
    for (int64_t k = n - 1; k >= std::max<int64_t>(min, 1); --k) {  // the tails used below
      if (max >= 0 && k >= max) continue;
      const std::string& next = tails[static_cast<size_t>(k) + 1];
      tails[static_cast<size_t>(k)] =
          AddRule(hint + "-from-" + std::to_string(k),
                  "(\",\" space " + item(k) + (next.empty() ? "" : " " + next) + ")?");
    }
    auto tail = [&](int64_t k) { return k <= n ? tails[static_cast<size_t>(k)] : extras_from(k); };
    std::string body = "\"[\" space ";
    if (min == 0) {
      if (max != 0) {
        std::string follow = tail(1);
        body += "(" + item(0) + (follow.empty() ? "" : " " + follow) + ")? ";
      }
    } else {
      body += item(0) + " ";
      for (int64_t i = 1; i < std::min(min, n); ++i) body += "\",\" space " + item(i) + " ";
      int64_t repeated = min - std::max<int64_t>(n, 1);  // mandatory items past the prefix
      if (repeated > 0) body += "(\",\" space " + rest + "){" + std::to_string(repeated) + "} ";
      std::string follow = tail(min);
      if (!follow.empty()) body += follow + " ";
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
