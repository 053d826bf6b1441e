#include "template/functions.h"

#include <ctime>

#include "template/format.h"

namespace corral::tmpl {
namespace {

using Kind = Value::Kind;

[[noreturn]] void Fail(std::string message) { throw FunctionError{std::move(message)}; }

// Go's basicKind classes for comparisons; -1 when the value cannot be compared.
enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString, kOther };

BasicKind BasicKindOf(const Value& v) {
  switch (v.kind()) {
    case Kind::kBool:
      return BasicKind::kBool;
    case Kind::kInt:
      return BasicKind::kInt;
    case Kind::kFloat:
      return BasicKind::kFloat;
    case Kind::kString:
      return BasicKind::kString;
    case Kind::kArray:
    case Kind::kObject:
      return BasicKind::kOther;
    default:
      return BasicKind::kInvalid;
  }
}

bool Equal(const Value& a, const std::vector<Value>& others) {
  if (others.empty()) Fail("missing argument for comparison");
  BasicKind ka = BasicKindOf(a);
  for (const Value& b : others) {
    BasicKind kb = BasicKindOf(b);
    bool truth = false;
    if (ka != kb) {
      if (ka != BasicKind::kInvalid && kb != BasicKind::kInvalid) {
        Fail("incompatible types for comparison");
      }
    } else {
      switch (ka) {
        case BasicKind::kBool:
          truth = a.as_bool() == b.as_bool();
          break;
        case BasicKind::kInt:
          truth = a.as_int() == b.as_int();
          break;
        case BasicKind::kFloat:
          truth = a.as_float() == b.as_float();
          break;
        case BasicKind::kString:
          truth = a.as_string() == b.as_string();
          break;
        case BasicKind::kInvalid:
          truth = true;
          break;  // nil == nil
        case BasicKind::kOther:
          Fail("non-comparable type " + FormatValue(b, false) + ": " + b.TypeName());
      }
    }
    if (truth) return true;
  }
  return false;
}

bool Less(const Value& a, const Value& b) {
  BasicKind ka = BasicKindOf(a);
  BasicKind kb = BasicKindOf(b);
  if (ka == BasicKind::kInvalid || ka == BasicKind::kOther || kb == BasicKind::kInvalid ||
      kb == BasicKind::kOther) {
    Fail("invalid type for comparison");
  }
  if (ka != kb) Fail("incompatible types for comparison");
  switch (ka) {
    case BasicKind::kInt:
      return a.as_int() < b.as_int();
    case BasicKind::kFloat:
      return a.as_float() < b.as_float();
    case BasicKind::kString:
      return a.as_string() < b.as_string();
    default:
      Fail("invalid type for comparison");
  }
}

int64_t IndexArgument(const Value& index, int64_t cap) {
  if (index.kind() == Kind::kInvalid || index.kind() == Kind::kNil) {
    Fail("cannot index slice/array with nil");
  }
  if (index.kind() != Kind::kInt) Fail("cannot index slice/array with type " + index.TypeName());
  int64_t x = index.as_int();
  if (x < 0 || x > cap) Fail("index out of range: " + std::to_string(x));
  return x;
}

Value Index(const Value& item_in, const std::vector<Value>& indexes) {
  Value item = item_in;
  for (const Value& index : indexes) {
    switch (item.kind()) {
      case Kind::kInvalid:
      case Kind::kNil:
        Fail("index of untyped nil");
      case Kind::kArray: {
        int64_t size = static_cast<int64_t>(item.json().size());
        int64_t x = IndexArgument(index, size);
        if (x == size) Fail("reflect: slice index out of range");  // Go's recovered panic
        item = item.Child(item.json()[static_cast<size_t>(x)]);
        break;
      }
      case Kind::kString: {
        int64_t size = static_cast<int64_t>(item.as_string().size());
        int64_t x = IndexArgument(index, size);
        if (x == size) Fail("reflect: string index out of range");
        item = Value::Int(static_cast<unsigned char>(item.as_string()[static_cast<size_t>(x)]));
        break;
      }
      case Kind::kObject: {
        if (index.kind() != Kind::kString) {
          Fail(index.is_missing() ? "value is nil; should be of type string"
                                  : "value has type " + index.TypeName() + "; should be string");
        }
        auto it = item.json().find(index.as_string());
        item = it == item.json().end() ? Value::Nil() : item.Child(*it);
        break;
      }
      default:
        Fail("can't index item of type " + item.TypeName());
    }
  }
  return item;
}

Value Slice(const Value& item, const std::vector<Value>& indexes) {
  if (item.is_missing()) Fail("slice of untyped nil");
  if (indexes.size() > 3) Fail("too many slice indexes: " + std::to_string(indexes.size()));
  int64_t length = 0;
  if (item.kind() == Kind::kString) {
    if (indexes.size() == 3) Fail("cannot 3-index slice a string");
    length = static_cast<int64_t>(item.as_string().size());
  } else if (item.kind() == Kind::kArray) {
    length = static_cast<int64_t>(item.json().size());
  } else {
    Fail("can't slice item of type " + item.TypeName());
  }
  int64_t bounds[3] = {0, length, length};
  for (size_t i = 0; i < indexes.size(); ++i) bounds[i] = IndexArgument(indexes[i], length);
  if (bounds[0] > bounds[1]) {
    Fail("invalid slice index: " + std::to_string(bounds[0]) + " > " + std::to_string(bounds[1]));
  }
  if (indexes.size() == 3 && bounds[1] > bounds[2]) {
    Fail("invalid slice index: " + std::to_string(bounds[1]) + " > " + std::to_string(bounds[2]));
  }
  size_t begin = static_cast<size_t>(bounds[0]);
  size_t end = static_cast<size_t>(bounds[1]);
  if (item.kind() == Kind::kString)
    return Value::String(item.as_string().substr(begin, end - begin));
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = begin; i < end; ++i) out.push_back(item.json()[i]);
  return Value::OwnedJson(std::move(out));
}

int64_t Length(const Value& item) {
  switch (item.kind()) {
    case Kind::kString:
      return static_cast<int64_t>(item.as_string().size());
    case Kind::kArray:
    case Kind::kObject:
      return static_cast<int64_t>(item.json().size());
    case Kind::kInvalid:
    case Kind::kNil:
      Fail("len of nil pointer");
    default:
      Fail("len of type " + item.TypeName());
  }
}

// Ollama maps a tool parameter's JSON-schema type(s) to a TypeScript type for prompts.
std::string TypeScriptTypeOf(const std::string& type) {
  if (type == "string") return "string";
  if (type == "number" || type == "integer") return "number";
  if (type == "boolean") return "boolean";
  if (type == "array") return "any[]";
  if (type == "object") return "Record<string, any>";
  if (type == "null") return "null";
  return "any";
}

std::string ToTypeScriptType(const Value& property) {
  if (property.kind() != Kind::kObject) return "any";
  const nlohmann::json& object = property.json();
  auto it = object.find("Type");
  if (it == object.end()) it = object.find("type");
  if (it == object.end()) return "any";
  if (it->is_string()) return TypeScriptTypeOf(it->get<std::string>());
  if (!it->is_array() || it->empty()) return "any";
  std::string out;
  for (const auto& element : *it) {
    if (!out.empty()) out += " | ";
    out += TypeScriptTypeOf(element.is_string() ? element.get<std::string>() : "");
  }
  return out;
}

// YYYY-MM-DD of `when` moved by `day_offset` calendar days (Go's AddDate), in local time as
// Go's time.Now() is.
std::string FormatDate(std::chrono::system_clock::time_point when, int day_offset) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm local{};
  localtime_r(&t, &local);
  if (day_offset != 0) {
    local.tm_mday += day_offset;
    local.tm_isdst = -1;
    std::time_t moved = std::mktime(&local);  // normalizes month and year
    localtime_r(&moved, &local);
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &local);
  return buf;
}

std::string JoinedText(const std::vector<Value>& args) {
  if (args.size() == 1 && args[0].kind() == Kind::kString) return args[0].as_string();
  return GoSprint(args);
}

}  // namespace

FunctionSignature SignatureOf(std::string_view name) {
  if (name == "and" || name == "or" || name == "index" || name == "slice" || name == "eq") {
    return {1, true, false};
  }
  if (name == "printf") return {1, true, true};
  if (name == "print" || name == "println" || name == "html" || name == "js" ||
      name == "urlquery") {
    return {0, true, false};
  }
  if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
    return {2, false, false};
  }
  if (name == "currentDate" || name == "yesterdayDate") return {0, false, false};
  return {1, false, false};  // not, len, json, toTypeScriptType
}

Value CallFunction(std::string_view name, const std::vector<Value>& args,
                   std::chrono::system_clock::time_point now) {
  std::vector<Value> rest(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
  if (name == "not") return Value::Bool(!IsTrue(args[0]));
  if (name == "len") return Value::Int(Length(args[0]));
  if (name == "index") return Index(args[0], rest);
  if (name == "slice") return Slice(args[0], rest);
  if (name == "print") return Value::String(GoSprint(args));
  if (name == "println") return Value::String(GoSprintln(args));
  if (name == "printf") return Value::String(GoSprintf(args[0].as_string(), rest));
  if (name == "eq") return Value::Bool(Equal(args[0], rest));
  if (name == "ne") return Value::Bool(!Equal(args[0], rest));
  if (name == "lt") return Value::Bool(Less(args[0], args[1]));
  if (name == "le") return Value::Bool(Less(args[0], args[1]) || Equal(args[0], rest));
  if (name == "gt") return Value::Bool(!(Less(args[0], args[1]) || Equal(args[0], rest)));
  if (name == "ge") return Value::Bool(!Less(args[0], args[1]));
  if (name == "html") return Value::String(GoHtmlEscape(JoinedText(args)));
  if (name == "js") return Value::String(GoJsEscape(JoinedText(args)));
  if (name == "urlquery") return Value::String(GoUrlQueryEscape(JoinedText(args)));
  if (name == "json") {
    const Value& v = args[0];
    // Structured values are marshalled in place: a conditional expression mixing v.json() with
    // the prvalue ToJson() would copy, and the copy loses the node's ExecOptions::go_strings.
    if (v.kind() == Kind::kArray || v.kind() == Kind::kObject) {
      return Value::String(GoJsonMarshal(v.json()));
    }
    return Value::String(GoJsonMarshal(v.ToJson()));
  }
  if (name == "currentDate") return Value::String(FormatDate(now, 0));
  if (name == "yesterdayDate") return Value::String(FormatDate(now, -1));
  if (name == "toTypeScriptType") return Value::String(ToTypeScriptType(args[0]));
  Fail("function \"" + std::string(name) + "\" not defined");
}

}  // namespace corral::tmpl
