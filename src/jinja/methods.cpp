// Methods of str, dict and list that chat templates call: message.content.strip(),
// message.get('x'), ns.items.append(x), ...
#include <cctype>

#include "jinja/builtins.h"

namespace corral::jinja {
namespace {

Status ArgumentError(std::string_view method, std::string_view what) {
  return InvalidArgumentError(std::string(method) + "() " + std::string(what));
}

Result<std::string> StringArg(const CallArgs& args, size_t index, std::string_view name,
                              std::string_view method) {
  const Value* v = args.Get(index, name);
  if (v == nullptr || !v->is_string()) return ArgumentError(method, "expects a string argument");
  return v->as_string();
}

std::vector<Value> Split(const std::string& s, const Value* separator, int64_t max_split) {
  std::vector<Value> parts;
  if (separator == nullptr || separator->is_none()) {
    // Whitespace split: runs of whitespace separate, no empty parts.
    size_t i = 0;
    auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (i < s.size()) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) break;
      if (max_split >= 0 && static_cast<int64_t>(parts.size()) == max_split) {
        size_t end = s.size();
        while (end > i && is_space(s[end - 1])) --end;
        parts.push_back(Value::String(s.substr(i, end - i)));
        break;
      }
      size_t j = i;
      while (j < s.size() && !is_space(s[j])) ++j;
      parts.push_back(Value::String(s.substr(i, j - i)));
      i = j;
    }
    return parts;
  }
  const std::string& sep = separator->as_string();
  size_t start = 0;
  while (max_split < 0 || static_cast<int64_t>(parts.size()) < max_split) {
    size_t found = s.find(sep, start);
    if (found == std::string::npos) break;
    parts.push_back(Value::String(s.substr(start, found - start)));
    start = found + sep.size();
  }
  parts.push_back(Value::String(s.substr(start)));
  return parts;
}

Result<bool> AffixMatches(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& v) -> Result<bool> {
    if (!v.is_string()) return InvalidArgumentError("startswith/endswith expects a string");
    const std::string& a = v.as_string();
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_list()) {
    for (const Value& v : affix.list().items) {
      ASSIGN_OR_RETURN(bool matched, one(v));
      if (matched) return true;
    }
    return false;
  }
  return one(affix);
}

Result<Value> StringMethod(const std::string& s, std::string_view name, const CallArgs& args,
                           const BuiltinLimits& limits) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value::String(StripString(s, args.Get(0, "chars"), name != "rstrip", name != "lstrip"));
  }
  if (name == "split") {
    const Value* sep = args.Get(0, "sep");
    if (sep != nullptr && !sep->is_none() && (!sep->is_string() || sep->as_string().empty())) {
      return ArgumentError(name, "separator must be a non-empty string");
    }
    const Value* max_split = args.Get(1, "maxsplit");
    return Value::List(Split(s, sep, max_split ? max_split->as_int() : -1));
  }
  if (name == "startswith" || name == "endswith") {
    const Value* affix = args.Get(0, "prefix");
    if (affix == nullptr) return ArgumentError(name, "takes at least 1 argument");
    ASSIGN_OR_RETURN(bool matched, AffixMatches(s, *affix, name == "startswith"));
    return Value::Bool(matched);
  }
  if (name == "upper" || name == "lower") {
    std::string out = s;
    for (char& c : out) {
      c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                            : std::tolower(static_cast<unsigned char>(c)));
    }
    return Value::String(std::move(out));
  }
  if (name == "replace") {
    ASSIGN_OR_RETURN(std::string old_text, StringArg(args, 0, "old", name));
    ASSIGN_OR_RETURN(std::string new_text, StringArg(args, 1, "new", name));
    const Value* count = args.Get(2, "count");
    CallArgs filter_args;
    filter_args.positional = {Value::String(old_text), Value::String(new_text)};
    if (count != nullptr) filter_args.positional.push_back(*count);
    return ApplyFilter("replace", Value::String(s), filter_args, limits);
  }
  if (name == "title" || name == "capitalize") {
    return Value::String(name == "title" ? PythonTitle(s) : Capitalize(s));
  }
  if (name == "find" || name == "count") {
    ASSIGN_OR_RETURN(std::string needle, StringArg(args, 0, "sub", name));
    if (name == "find") {
      size_t at = s.find(needle);
      return Value::Int(
          at == std::string::npos ? -1 : static_cast<int64_t>(Utf8Length(s.substr(0, at))));
    }
    if (needle.empty()) return Value::Int(static_cast<int64_t>(Utf8Length(s)) + 1);
    int64_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos;
         at = s.find(needle, at + needle.size()))
      ++n;
    return Value::Int(n);
  }
  if (name == "join") {
    const Value* items = args.Get(0, "iterable");
    if (items == nullptr) return ArgumentError(name, "takes exactly one argument");
    ASSIGN_OR_RETURN(std::vector<Value> parts, Iterate(*items));
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!parts[i].is_string()) return ArgumentError(name, "expects strings");
      if (i > 0) out += s;
      out += parts[i].as_string();
      if (out.size() > limits.max_string_bytes)
        return ResourceExhaustedError("join result too large");
    }
    return Value::String(std::move(out));
  }
  if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum") {
    if (s.empty()) return Value::Bool(false);
    for (unsigned char c : s) {
      bool ok = name == "isdigit"   ? std::isdigit(c)
                : name == "isspace" ? std::isspace(c)
                : name == "isalpha" ? std::isalpha(c)
                                    : std::isalnum(c);
      if (!ok) return Value::Bool(false);
    }
    return Value::Bool(true);
  }
  return InternalError("unknown str method");
}

Result<Value> DictMethod(const Value& dict, std::string_view name, const CallArgs& args) {
  const DictData& data = dict.dict();
  if (name == "get") {
    const Value* key = args.Get(0, "key");
    if (key == nullptr) return ArgumentError(name, "expected at least 1 argument");
    const Value* fallback = args.Get(1, "default");
    if (key->is_string()) {
      if (const Value* found = data.Find(key->as_string())) return *found;
    }
    return fallback ? *fallback : Value::None();
  }
  std::vector<Value> out;
  for (const auto& [k, v] : data.entries()) {
    if (name == "keys") {
      out.push_back(Value::String(k));
    } else if (name == "values") {
      out.push_back(v);
    } else {
      out.push_back(Value::List({Value::String(k), v}, /*is_tuple=*/true));
    }
  }
  return Value::List(std::move(out));
}

Result<Value> ListMethod(const Value& list, std::string_view name, const CallArgs& args,
                         const BuiltinLimits& limits) {
  std::vector<Value>& items = list.list().items;
  if (name == "append" || name == "extend") {
    const Value* item = args.Get(0, "object");
    if (item == nullptr) return ArgumentError(name, "takes exactly one argument");
    std::vector<Value> added = {*item};
    if (name == "extend") {
      ASSIGN_OR_RETURN(added, Iterate(*item));
    }
    if (items.size() + added.size() > limits.max_list_items) {
      return ResourceExhaustedError("list grew past the template limits");
    }
    items.insert(items.end(), added.begin(), added.end());
    return Value::None();
  }
  if (name == "pop") {
    if (items.empty()) return InvalidArgumentError("pop from empty list");
    const Value* index = args.Get(0, "index");
    int64_t i = index ? index->as_int() : -1;
    if (i < 0) i += static_cast<int64_t>(items.size());
    if (i < 0 || i >= static_cast<int64_t>(items.size())) {
      return InvalidArgumentError("pop index out of range");
    }
    Value popped = items[static_cast<size_t>(i)];
    items.erase(items.begin() + i);
    return popped;
  }
  const Value* needle = args.Get(0, "value");
  if (needle == nullptr) return ArgumentError(name, "takes exactly one argument");
  int64_t count = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!ValuesEqual(items[i], *needle)) continue;
    if (name == "index") return Value::Int(static_cast<int64_t>(i));
    ++count;
  }
  if (name == "index") return InvalidArgumentError("value is not in list");
  return Value::Int(count);
}

bool IsStringMethod(std::string_view name) {
  for (std::string_view m : {"strip", "lstrip", "rstrip", "split", "startswith", "endswith",
                             "upper", "lower", "replace", "title", "capitalize", "find", "count",
                             "join", "isdigit", "isspace", "isalpha", "isalnum"}) {
    if (name == m) return true;
  }
  return false;
}

}  // namespace

std::optional<Value> BoundMethod(const Value& object, std::string_view name,
                                 const BuiltinLimits& limits) {
  std::string method(name);
  if (object.is_string() && IsStringMethod(name)) {
    std::string s = object.as_string();
    return Value::Function(method, [s, method, limits](const CallArgs& args) {
      return StringMethod(s, method, args, limits);
    });
  }
  if (object.is_dict() &&
      (name == "get" || name == "items" || name == "keys" || name == "values")) {
    return Value::Function(method, [object, method](const CallArgs& args) {
      return DictMethod(object, method, args);
    });
  }
  if (object.is_list() && !object.list().is_tuple &&
      (name == "append" || name == "extend" || name == "pop" || name == "index" ||
       name == "count")) {
    return Value::Function(method, [object, method, limits](const CallArgs& args) {
      return ListMethod(object, method, args, limits);
    });
  }
  return std::nullopt;
}

}  // namespace corral::jinja
