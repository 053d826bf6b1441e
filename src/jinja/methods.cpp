// Methods of str, dict and list that chat templates call: message.content.strip(),
// message.get('x'), ns.items.append(x), ...
#include <algorithm>
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

// str.splitlines: \n, \r, \r\n and the other Unicode line boundaries Python knows.
Value SplitLines(const std::string& s, const Value* keepends) {
  bool keep = keepends != nullptr && IsTruthy(*keepends);
  std::u32string chars = Utf8Decode(s);
  std::vector<Value> lines;
  size_t start = 0;
  for (size_t i = 0; i < chars.size(); ++i) {
    char32_t c = chars[i];
    bool boundary = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
                    c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!boundary) continue;
    size_t end = i;
    if (c == '\r' && i + 1 < chars.size() && chars[i + 1] == '\n') ++i;
    lines.push_back(Value::String(Utf8Encode(chars.substr(start, (keep ? i + 1 : end) - start))));
    start = i + 1;
  }
  if (start < chars.size()) lines.push_back(Value::String(Utf8Encode(chars.substr(start))));
  return Value::List(std::move(lines));
}

// str.rsplit: like split, with maxsplit counted from the right.
std::vector<Value> RSplit(const std::string& s, const Value* separator, int64_t max_split) {
  if (max_split < 0) return Split(s, separator, -1);
  std::vector<std::string> parts;
  if (separator == nullptr || separator->is_none()) {
    auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    size_t end = s.size();
    while (true) {
      while (end > 0 && is_space(s[end - 1])) --end;
      if (end == 0) break;
      if (static_cast<int64_t>(parts.size()) == max_split) {
        parts.push_back(s.substr(0, end));  // Python keeps the remainder's leading space
        break;
      }
      size_t begin = end;
      while (begin > 0 && !is_space(s[begin - 1])) --begin;
      parts.push_back(s.substr(begin, end - begin));
      end = begin;
    }
  } else {
    const std::string& sep = separator->as_string();
    size_t end = s.size();
    while (static_cast<int64_t>(parts.size()) < max_split && end >= sep.size()) {
      size_t found = s.rfind(sep, end - sep.size());
      if (found == std::string::npos) break;
      parts.push_back(s.substr(found + sep.size(), end - found - sep.size()));
      end = found;
    }
    parts.push_back(s.substr(0, end));
  }
  std::vector<Value> out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out.push_back(Value::String(*it));
  return out;
}

// Python's format-spec mini-language, [[fill]align][sign][#][0][width][.precision][type],
// for str, int and float values; grouping separators are refused.
Result<std::string> FormatSpec(const Value& original, const std::string& spec) {
  if (spec.empty()) return ToPythonString(original);
  // With a spec, Python formats a bool as the int it is.
  const Value value = original.is_bool() ? Value::Int(original.as_int()) : original;
  std::u32string chars = Utf8Decode(spec);
  size_t i = 0;
  char32_t fill = ' ';
  char align = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (chars.size() >= 2 && is_align(chars[1])) {
    fill = chars[0];
    align = static_cast<char>(chars[1]);
    i = 2;
  } else if (!chars.empty() && is_align(chars[0])) {
    align = static_cast<char>(chars[0]);
    i = 1;
  }
  std::string flags;
  if (i < chars.size() && (chars[i] == '+' || chars[i] == '-' || chars[i] == ' ')) {
    if (chars[i] != '-') flags += static_cast<char>(chars[i]);
    ++i;
  }
  if (i < chars.size() && chars[i] == '#') {
    flags += '#';
    ++i;
  }
  if (i < chars.size() && chars[i] == '0') {
    if (align == 0) {
      fill = '0';
      align = '=';
    }
    ++i;
  }
  int width = 0;
  while (i < chars.size() && chars[i] >= '0' && chars[i] <= '9' && width < 100000) {
    width = width * 10 + static_cast<int>(chars[i++] - '0');
  }
  int precision = -1;
  if (i < chars.size() && chars[i] == '.') {
    precision = 0;
    ++i;
    while (i < chars.size() && chars[i] >= '0' && chars[i] <= '9' && precision < 100000) {
      precision = precision * 10 + static_cast<int>(chars[i++] - '0');
    }
  }
  char type = 0;
  if (i < chars.size()) type = static_cast<char>(chars[i++]);
  if (i != chars.size() ||
      (type != 0 && std::string_view("sdfFeEgGxXobc%").find(type) == std::string_view::npos)) {
    return ArgumentError("format", "unsupported format spec '" + spec + "'");
  }
  bool numeric = value.is_number();
  if (type == 0) type = value.is_float() ? 'g' : value.is_int() ? 'd' : 's';
  if (type == 'g' && value.is_float() && precision < 0 && spec.find('g') == std::string::npos) {
    // No type: Python prints repr-like digits.
    type = 's';
  }
  if ((type == 's') == numeric && !(type == 's' && value.is_float())) {
    return ArgumentError("format",
                         "unknown format code for object of type '" + value.TypeName() + "'");
  }
  if (type == 'b' || type == '%') {
    return ArgumentError("format", "unsupported format spec '" + spec + "'");
  }
  std::string percent =
      "%" + flags + (precision >= 0 ? "." + std::to_string(precision) : "") + std::string(1, type);
  ASSIGN_OR_RETURN(Value formatted, PercentFormat(percent, value, BuiltinLimits{1u << 20, 0}));
  std::string body = formatted.as_string();
  size_t length = Utf8Length(body);
  if (width <= 0 || static_cast<size_t>(width) <= length) return body;
  size_t pad = width - length;
  if (align == 0) align = numeric ? '>' : '<';
  std::string fill_text = Utf8Encode(std::u32string(1, fill));
  auto repeat = [&](size_t n) {
    std::string r;
    for (size_t k = 0; k < n; ++k) r += fill_text;
    return r;
  };
  if (align == '<') return body + repeat(pad);
  if (align == '>') return repeat(pad) + body;
  if (align == '^') return repeat(pad / 2) + body + repeat(pad - pad / 2);
  size_t sign = !body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ') ? 1 : 0;
  return body.substr(0, sign) + repeat(pad) + body.substr(sign);
}

// str.format with {}, {0} and {name} fields, format specs and {{ }} escapes; conversions (!r)
// and field access (a.b, a[0]) are refused with a clear error rather than approximated.
Result<Value> StrFormat(const std::string& s, const CallArgs& args, const BuiltinLimits& limits) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '}') {
      if (i + 1 < s.size() && s[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      return ArgumentError("format", "single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = s.find('}', i);
    if (close == std::string::npos) return ArgumentError("format", "expected '}' before end");
    std::string field = s.substr(i + 1, close - i - 1);
    std::string spec;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    if (field.find_first_of("!.[") != std::string::npos) {
      return ArgumentError("format", "conversions and field access are not supported");
    }
    const Value* value = nullptr;
    if (field.empty()) {
      if (auto_index >= args.positional.size()) {
        return ArgumentError("format", "Replacement index out of range");
      }
      value = &args.positional[auto_index++];
    } else if (std::all_of(field.begin(), field.end(),
                           [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
      size_t index = std::stoul(field.substr(0, 9));
      if (index >= args.positional.size()) {
        return ArgumentError("format", "Replacement index out of range");
      }
      value = &args.positional[index];
    } else {
      for (const auto& [k, v] : args.keyword) {
        if (k == field) value = &v;
      }
      if (value == nullptr) return InvalidArgumentError("KeyError: '" + field + "'");
    }
    ASSIGN_OR_RETURN(std::string piece, FormatSpec(*value, spec));
    out += piece;
    if (out.size() > limits.max_string_bytes) {
      return ResourceExhaustedError("string exceeds " + std::to_string(limits.max_string_bytes) +
                                    " bytes");
    }
    i = close;
  }
  return Value::String(std::move(out));
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
    return Value::String(name == "upper" ? UnicodeUpper(s) : UnicodeLower(s));
  }
  if (name == "splitlines") return SplitLines(s, args.Get(0, "keepends"));
  if (name == "rsplit") {
    const Value* sep = args.Get(0, "sep");
    if (sep != nullptr && !sep->is_none() && (!sep->is_string() || sep->as_string().empty())) {
      return ArgumentError(name, "separator must be a non-empty string");
    }
    const Value* max_split = args.Get(1, "maxsplit");
    return Value::List(RSplit(s, sep, max_split ? max_split->as_int() : -1));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    ASSIGN_OR_RETURN(std::string affix, StringArg(args, 0, "affix", name));
    bool prefix = name == "removeprefix";
    if (affix.size() <= s.size() &&
        (prefix ? s.compare(0, affix.size(), affix) == 0
                : s.compare(s.size() - affix.size(), affix.size(), affix) == 0)) {
      return Value::String(prefix ? s.substr(affix.size()) : s.substr(0, s.size() - affix.size()));
    }
    return Value::String(s);
  }
  if (name == "zfill") {
    const Value* width = args.Get(0, "width");
    if (width == nullptr || !width->is_int()) return ArgumentError(name, "expects an integer");
    size_t length = Utf8Length(s);
    if (width->as_int() <= static_cast<int64_t>(length)) return Value::String(s);
    if (static_cast<uint64_t>(width->as_int()) > limits.max_string_bytes) {
      return ResourceExhaustedError("string exceeds " + std::to_string(limits.max_string_bytes) +
                                    " bytes");
    }
    size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    std::string out = s;
    out.insert(sign, static_cast<size_t>(width->as_int()) - length, '0');
    return Value::String(std::move(out));
  }
  if (name == "format") return StrFormat(s, args, limits);
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
  if (name == "find" || name == "rfind" || name == "count") {
    ASSIGN_OR_RETURN(std::string needle, StringArg(args, 0, "sub", name));
    if (name == "find" || name == "rfind") {
      size_t at = name == "find" ? s.find(needle) : s.rfind(needle);
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
  for (std::string_view m :
       {"strip",        "lstrip",       "rstrip",  "split",      "startswith", "endswith", "upper",
        "lower",        "replace",      "title",   "capitalize", "find",       "count",    "join",
        "isdigit",      "isspace",      "isalpha", "isalnum",    "splitlines", "rsplit",   "rfind",
        "removeprefix", "removesuffix", "zfill",   "format"}) {
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
