// Jinja2's builtin filters and tests that chat templates use, with HuggingFace's tojson.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "jinja/builtins.h"

namespace corral::jinja {
namespace {

char Upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::string LowerString(std::string s) {
  for (char& c : s) c = Lower(c);
  return s;
}

// Jinja2's title filter: words start after whitespace, '-', '(', '{', '[' or '<'.
std::string JinjaTitle(std::string_view s) {
  std::string out;
  bool word_start = true;
  for (char c : s) {
    bool separator = std::isspace(static_cast<unsigned char>(c)) || c == '-' || c == '(' ||
                     c == '{' || c == '[' || c == '<';
    if (separator) {
      out += c;
      word_start = true;
    } else {
      out += word_start ? Upper(c) : Lower(c);
      word_start = false;
    }
  }
  return out;
}

// "a.b.0" looked up item by item, as Jinja2's attribute arguments are.
Result<Value> LookupPath(const Value& item, const std::string& path, const BuiltinLimits& limits) {
  Value current = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    Value key = numeric ? Value::Int(std::atoll(part.c_str())) : Value::String(part);
    ASSIGN_OR_RETURN(current, GetItem(current, key, limits));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

Result<std::string> AttributeArg(const CallArgs& args, size_t index, const char* filter) {
  const Value* attribute = args.Get(index, "attribute");
  if (attribute == nullptr || !attribute->is_string()) {
    return InvalidArgumentError(std::string(filter) + " needs an attribute name");
  }
  return attribute->as_string();
}

Result<std::vector<Value>> SelectOrReject(const Value& subject, const CallArgs& args,
                                          bool by_attribute, bool keep_if_true,
                                          const BuiltinLimits& limits) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    ASSIGN_OR_RETURN(attribute, AttributeArg(args, 0, "selectattr/rejectattr"));
    next = 1;
  }
  std::string test;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string())
      return InvalidArgumentError("test name must be a string");
    test = args.positional[next].as_string();
  }
  CallArgs test_args;
  for (size_t i = next + 1; i < args.positional.size(); ++i) {
    test_args.positional.push_back(args.positional[i]);
  }
  std::vector<Value> kept;
  for (const Value& item : items) {
    Value probe = item;
    if (by_attribute) {
      ASSIGN_OR_RETURN(probe, LookupPath(item, attribute, limits));
    }
    bool passed = false;
    if (test.empty()) {
      passed = IsTruthy(probe);
    } else {
      ASSIGN_OR_RETURN(passed, ApplyTest(test, probe, test_args));
    }
    if (passed == keep_if_true) kept.push_back(item);
  }
  return kept;
}

Result<Value> Map(const Value& subject, const CallArgs& args, const BuiltinLimits& limits) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
  std::vector<Value> out;
  const Value* attribute = args.Get(1000, "attribute");
  if (attribute != nullptr) {
    if (!attribute->is_string()) return InvalidArgumentError("map attribute must be a string");
    const Value* fallback = args.Get(1000, "default");
    for (const Value& item : items) {
      ASSIGN_OR_RETURN(Value v, LookupPath(item, attribute->as_string(), limits));
      out.push_back(v.is_undefined() && fallback ? *fallback : v);
    }
    return Value::List(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    return InvalidArgumentError("map needs a filter name or attribute=");
  }
  CallArgs filter_args;
  filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
  filter_args.keyword = args.keyword;
  for (const Value& item : items) {
    ASSIGN_OR_RETURN(Value v,
                     ApplyFilter(args.positional[0].as_string(), item, filter_args, limits));
    out.push_back(std::move(v));
  }
  return Value::List(std::move(out));
}

// Python int() of a string: optional sign, digits with single underscores, spaces around.
bool ParseInt(const std::string& text, int64_t base, int64_t* out) {
  std::string s = StripString(text, nullptr, true, true);
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() &&
        std::isalnum(static_cast<unsigned char>(s[i - 1])))
      continue;
    digits += s[i];
  }
  if (digits.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
  if (errno != 0 || end != digits.c_str() + digits.size() ||
      std::isspace(static_cast<unsigned char>(digits[0])))
    return false;
  *out = v;
  return true;
}

bool ParseFloat(const std::string& text, double* out) {
  std::string s = StripString(text, nullptr, true, true);
  if (s.empty()) return false;
  std::string lower = LowerString(s);
  std::string unsigned_part = (lower[0] == '+' || lower[0] == '-') ? lower.substr(1) : lower;
  if (unsigned_part == "inf" || unsigned_part == "infinity" || unsigned_part == "nan") {
    double v = unsigned_part == "nan" ? NAN : INFINITY;
    *out = lower[0] == '-' ? -v : v;
    return true;
  }
  for (char c : lower) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != '+' &&
        c != '-' && c != '_')
      return false;
  }
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

Result<Value> ToInt(const Value& v, const CallArgs& args) {
  const Value* fallback = args.Get(0, "default");
  const Value* base = args.Get(1, "base");
  Value result = fallback ? *fallback : Value::Int(0);
  if (v.is_undefined()) return UndefinedError(v);
  if (v.is_int() || v.is_bool()) return Value::Int(v.as_int());
  if (v.is_float()) {
    double d = v.as_double();
    if (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18) return result;
    return Value::Int(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    int64_t parsed = 0;
    if (ParseInt(v.as_string(), base ? base->as_int() : 10, &parsed)) return Value::Int(parsed);
    double d = 0;
    if (ParseFloat(v.as_string(), &d) && !std::isnan(d) && !std::isinf(d) &&
        std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return result;
}

Result<Value> ToFloat(const Value& v, const CallArgs& args) {
  const Value* fallback = args.Get(0, "default");
  if (v.is_undefined()) return UndefinedError(v);
  if (v.is_number()) return Value::Float(v.as_double());
  double d = 0;
  if (v.is_string() && ParseFloat(v.as_string(), &d)) return Value::Float(d);
  return fallback ? *fallback : Value::Float(0.0);
}

// Python's round(x, n): correctly rounded, ties to even on the exact binary value, which is
// what printf's %.*f does in glibc.
Result<Value> Round(const Value& v, const CallArgs& args) {
  const Value* precision_arg = args.Get(0, "precision");
  const Value* method_arg = args.Get(1, "method");
  int64_t precision = precision_arg ? precision_arg->as_int() : 0;
  std::string method = method_arg && method_arg->is_string() ? method_arg->as_string() : "common";
  if (!v.is_number()) return InvalidArgumentError("round expects a number");
  if (method == "common") {
    if (!v.is_float()) {
      if (precision >= 0 || precision < -18) return Value::Int(precision < -18 ? 0 : v.as_int());
      // Python's round(int, -n): to the nearest multiple of 10**n, half to even.
      int64_t scale = 1;
      for (int64_t k = 0; k < -precision; ++k) scale *= 10;
      int64_t x = v.as_int();
      int64_t q = x / scale, r = x % scale;
      if (r < 0) {
        q -= 1;
        r += scale;
      }
      if (2 * r > scale || (2 * r == scale && q % 2 != 0)) q += 1;
      return Value::Int(q * scale);
    }
    if (precision < 0) {
      // Python rounds to tens, hundreds, ... half to even.
      double scale = std::pow(10.0, static_cast<double>(-precision));
      if (!std::isfinite(scale)) return Value::Float(0.0 * v.as_double());
      return Value::Float(std::nearbyint(v.as_double() / scale) * scale);
    }
    if (precision > 300) return Value::Float(v.as_double());
    char buffer[512];
    std::snprintf(buffer, sizeof(buffer), "%.*f", static_cast<int>(precision), v.as_double());
    return Value::Float(std::strtod(buffer, nullptr));
  }
  if (method != "ceil" && method != "floor") {
    return InvalidArgumentError("method must be 'common', 'ceil' or 'floor'");
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double scaled = v.as_double() * scale;
  return Value::Float((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Result<Value> Sort(const Value& subject, const CallArgs& args, bool unique,
                   const BuiltinLimits& limits) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
  const Value* reverse = unique ? nullptr : args.Get(0, "reverse");
  const Value* case_sensitive = args.Get(unique ? 0 : 1, "case_sensitive");
  const Value* attribute = args.Get(unique ? 1 : 2, "attribute");
  bool fold_case = case_sensitive == nullptr || !IsTruthy(*case_sensitive);
  std::vector<Value> keys;
  for (const Value& item : items) {
    Value key = item;
    if (attribute != nullptr && attribute->is_string()) {
      ASSIGN_OR_RETURN(key, LookupPath(item, attribute->as_string(), limits));
    }
    if (fold_case && key.is_string()) key = Value::String(UnicodeLower(key.as_string()));
    keys.push_back(std::move(key));
  }
  if (unique) {
    std::vector<Value> out, seen;
    for (size_t i = 0; i < items.size(); ++i) {
      bool duplicate = false;
      for (const Value& s : seen) duplicate = duplicate || ValuesEqual(s, keys[i]);
      if (duplicate) continue;
      seen.push_back(keys[i]);
      out.push_back(items[i]);
    }
    return Value::List(std::move(out));
  }
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Status error;
  bool descending = reverse != nullptr && IsTruthy(*reverse);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    Result<bool> less = descending ? ValueLess(keys[b], keys[a]) : ValueLess(keys[a], keys[b]);
    if (!less.ok()) {
      error = less.status();
      return false;
    }
    return *less;
  });
  RETURN_IF_ERROR(error);
  std::vector<Value> out;
  for (size_t i : order) out.push_back(items[i]);
  return Value::List(std::move(out));
}

Result<Value> ToJson(const Value& subject, const CallArgs& args) {
  JsonFormat format;
  if (const Value* indent = args.Get(0, "indent"); indent && !indent->is_none()) {
    if (!indent->is_int()) return InvalidArgumentError("tojson indent must be an integer");
    format.indent = static_cast<int>(std::clamp<int64_t>(indent->as_int(), 0, 64));
  }
  if (const Value* ascii = args.Get(1000, "ensure_ascii")) format.ensure_ascii = IsTruthy(*ascii);
  if (const Value* sort = args.Get(1000, "sort_keys")) format.sort_keys = IsTruthy(*sort);
  if (const Value* separators = args.Get(1000, "separators");
      separators && !separators->is_none()) {
    if (!separators->is_list() || separators->list().items.size() != 2 ||
        !separators->list().items[0].is_string() || !separators->list().items[1].is_string()) {
      return InvalidArgumentError("tojson separators must be two strings");
    }
    format.separators_set = true;
    format.item_separator = separators->list().items[0].as_string();
    format.key_separator = separators->list().items[1].as_string();
  }
  ASSIGN_OR_RETURN(std::string text, DumpJson(subject, format));
  return Value::String(std::move(text));
}

Result<Value> Indent(const Value& subject, const CallArgs& args) {
  const Value* width = args.Get(0, "width");
  const Value* first = args.Get(1, "first");
  const Value* blank = args.Get(2, "blank");
  std::string indentation =
      width == nullptr ? "    "
      : width->is_string()
          ? width->as_string()
          : std::string(static_cast<size_t>(std::clamp<int64_t>(width->as_int(), 0, 1024)), ' ');
  std::string s = ToPythonString(subject) + "\n";
  std::vector<std::string> lines;  // str.splitlines() for \n, \r\n and \r
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n' && s[i] != '\r') continue;
    lines.push_back(s.substr(start, i - start));
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += "\n";
      if (!lines[i].empty() || (blank && IsTruthy(*blank))) out += indentation;
    }
    out += lines[i];
  }
  if (first && IsTruthy(*first)) out = indentation + out;
  return Value::String(std::move(out));
}

Result<Value> Join(const Value& subject, const CallArgs& args, const BuiltinLimits& limits) {
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
  const Value* separator = args.Get(0, "d");
  const Value* attribute = args.Get(1, "attribute");
  std::string sep = separator ? ToPythonString(*separator) : "";
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    Value item = items[i];
    if (attribute != nullptr && attribute->is_string()) {
      ASSIGN_OR_RETURN(item, LookupPath(item, attribute->as_string(), limits));
    }
    if (i > 0) out += sep;
    out += ToPythonString(item);
    if (out.size() > limits.max_string_bytes)
      return ResourceExhaustedError("join result too large");
  }
  return Value::String(std::move(out));
}

Result<Value> Replace(const Value& subject, const CallArgs& args, const BuiltinLimits& limits) {
  const Value* old_arg = args.Get(0, "old");
  const Value* new_arg = args.Get(1, "new");
  const Value* count_arg = args.Get(2, "count");
  if (old_arg == nullptr || new_arg == nullptr)
    return InvalidArgumentError("replace needs old and new");
  std::string s = ToPythonString(subject);
  std::string from = ToPythonString(*old_arg), to = ToPythonString(*new_arg);
  int64_t count = count_arg && !count_arg->is_none() ? count_arg->as_int() : -1;
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  if (from.empty()) {  // Python inserts `to` between every character and at both ends
    std::u32string chars = Utf8Decode(s);
    for (size_t i = 0; i <= chars.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < chars.size()) out += Utf8Encode(chars.substr(i, 1));
      if (out.size() > limits.max_string_bytes)
        return ResourceExhaustedError("replace result too large");
    }
    return Value::String(std::move(out));
  }
  while (count < 0 || done < count) {
    size_t found = s.find(from, pos);
    if (found == std::string::npos) break;
    out.append(s, pos, found - pos);
    out += to;
    pos = found + from.size();
    ++done;
    if (out.size() > limits.max_string_bytes)
      return ResourceExhaustedError("replace result too large");
  }
  out.append(s, pos, std::string::npos);
  return Value::String(std::move(out));
}

Result<Value> Length(const Value& v) {
  if (v.is_string()) return Value::Int(static_cast<int64_t>(Utf8Length(v.as_string())));
  if (v.is_list()) return Value::Int(static_cast<int64_t>(v.list().items.size()));
  if (v.is_dict()) return Value::Int(static_cast<int64_t>(v.dict().size()));
  if (v.is_undefined()) return Value::Int(0);
  return InvalidArgumentError("object of type '" + v.TypeName() + "' has no len()");
}

}  // namespace

std::string PythonTitle(std::string_view s) {
  std::string out;
  bool previous_cased = false;
  for (char c : s) {
    out += previous_cased ? Lower(c) : Upper(c);
    previous_cased = IsAlpha(c);
  }
  return out;
}

std::string Capitalize(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += i == 0 ? Upper(s[i]) : Lower(s[i]);
  return out;
}

bool HasFilter(std::string_view name) {
  for (std::string_view f :
       {"abs",    "capitalize", "count",   "d",       "default", "first",  "float",  "indent",
        "int",    "items",      "join",    "last",    "length",  "list",   "lower",  "map",
        "reject", "rejectattr", "replace", "reverse", "round",   "safe",   "select", "selectattr",
        "sort",   "string",     "title",   "tojson",  "trim",    "unique", "upper"}) {
    if (name == f) return true;
  }
  return HasMoreFilter(name);
}

Result<Value> ApplyFilter(std::string_view name, const Value& subject, const CallArgs& args,
                          const BuiltinLimits& limits) {
  if (name == "default" || name == "d") {
    const Value* fallback = args.Get(0, "default_value");
    const Value* boolean = args.Get(1, "boolean");
    bool use_fallback =
        subject.is_undefined() || (boolean != nullptr && IsTruthy(*boolean) && !IsTruthy(subject));
    if (!use_fallback) return subject;
    return fallback ? *fallback : Value::String("");
  }
  if (name == "safe") return subject;
  if (name == "string") return Value::String(ToPythonString(subject));
  if (name == "trim")
    return Value::String(StripString(ToPythonString(subject), args.Get(0, "chars"), true, true));
  if (name == "upper" || name == "lower") {
    std::string s = ToPythonString(subject);
    return Value::String(name == "upper" ? UnicodeUpper(s) : UnicodeLower(s));
  }
  if (name == "title") return Value::String(JinjaTitle(ToPythonString(subject)));
  if (name == "capitalize") return Value::String(Capitalize(ToPythonString(subject)));
  if (name == "length" || name == "count") return Length(subject);
  if (name == "tojson") return ToJson(subject, args);
  if (name == "join") return Join(subject, args, limits);
  if (name == "replace") return Replace(subject, args, limits);
  if (name == "indent") return Indent(subject, args);
  if (name == "int") return ToInt(subject, args);
  if (name == "float") return ToFloat(subject, args);
  if (name == "round") return Round(subject, args);
  if (name == "abs") {
    if (subject.is_float()) return Value::Float(std::fabs(subject.as_double()));
    if (subject.is_int() || subject.is_bool()) {
      if (subject.as_int() == INT64_MIN) return OutOfRangeError("integer overflow");
      return Value::Int(std::abs(subject.as_int()));
    }
    return InvalidArgumentError("bad operand type for abs(): '" + subject.TypeName() + "'");
  }
  if (name == "first" || name == "last") {
    if (name == "last" && (subject.is_undefined())) return UndefinedError(subject);
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
    if (items.empty())
      return Value::Undefined(name == "first" ? "No first item, sequence was empty."
                                              : "No last item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") {
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
    return Value::List(std::move(items));
  }
  if (name == "reverse") {
    if (subject.is_string()) {
      std::u32string chars = Utf8Decode(subject.as_string());
      std::reverse(chars.begin(), chars.end());
      return Value::String(Utf8Encode(chars));
    }
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
    std::reverse(items.begin(), items.end());
    return Value::List(std::move(items));
  }
  if (name == "items") {
    if (subject.is_undefined()) return Value::List();
    if (!subject.is_dict()) return InvalidArgumentError("Can only get item pairs from a mapping.");
    std::vector<Value> pairs;
    for (const auto& [k, v] : subject.dict().entries()) {
      pairs.push_back(Value::List({Value::String(k), v}, /*is_tuple=*/true));
    }
    return Value::List(std::move(pairs));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    ASSIGN_OR_RETURN(std::vector<Value> kept, SelectOrReject(subject, args, name.ends_with("attr"),
                                                             name.starts_with("select"), limits));
    return Value::List(std::move(kept));
  }
  if (name == "map") return Map(subject, args, limits);
  if (name == "sort") return Sort(subject, args, false, limits);
  if (name == "unique") return Sort(subject, args, true, limits);
  if (std::optional<Result<Value>> more = ApplyMoreFilter(name, subject, args, limits)) {
    return *std::move(more);
  }
  return InvalidArgumentError("No filter named '" + std::string(name) + "'.");
}

bool HasTest(std::string_view name) {
  for (std::string_view t :
       {"boolean", "callable",  "defined", "divisibleby", "eq",     "equalto",     "==",
        "even",    "false",     "float",   "ge",          "gt",     "greaterthan", "in",
        "integer", "iterable",  "le",      "lessthan",    "lower",  "lt",          "mapping",
        "ne",      "none",      "number",  "odd",         "sameas", "sequence",    "string",
        "true",    "undefined", "upper",   "filter",      "test"}) {
    if (name == t) return true;
  }
  return false;
}

Result<bool> ApplyTest(std::string_view name, const Value& v, const CallArgs& args) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "callable") return v.is_callable();
  if (name == "iterable") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "sequence") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    bool cased = false;
    for (char c : v.as_string()) {
      if (!IsAlpha(c)) continue;
      cased = true;
      if (name == "lower" ? Upper(c) == c : Lower(c) == c) return false;
    }
    return cased;
  }
  if (name == "filter") return v.is_string() && HasFilter(v.as_string());
  if (name == "test") return v.is_string() && HasTest(v.as_string());
  if (name == "even" || name == "odd") {
    if (v.is_undefined()) return UndefinedError(v);
    if (!v.is_number()) return InvalidArgumentError("even/odd test expects a number");
    ASSIGN_OR_RETURN(Value mod, BinaryOperation("%", v, Value::Int(2), {}));
    return ValuesEqual(mod, Value::Int(name == "even" ? 0 : 1));
  }
  const Value* other = args.Get(0, "other");
  if (other == nullptr)
    return InvalidArgumentError("test '" + std::string(name) + "' needs an argument");
  if (name == "divisibleby") {
    if (v.is_undefined()) return UndefinedError(v);
    if (!v.is_number() || !other->is_number())
      return InvalidArgumentError("divisibleby expects numbers");
    ASSIGN_OR_RETURN(Value mod, BinaryOperation("%", v, *other, {}));
    return ValuesEqual(mod, Value::Int(0));
  }
  if (name == "eq" || name == "equalto" || name == "==") return ValuesEqual(v, *other);
  if (name == "ne" || name == "!=") return !ValuesEqual(v, *other);
  if (name == "sameas") {
    if (v.is_none() || v.is_bool() || other->is_none() || other->is_bool()) {
      return v.is_none() == other->is_none() && v.is_bool() == other->is_bool() &&
             ValuesEqual(v, *other);
    }
    if (v.is_list() && other->is_list()) return &v.list() == &other->list();
    if (v.is_dict() && other->is_dict()) return &v.dict() == &other->dict();
    // Python's `1 is 1.0` is False: identity needs the same type.
    if (v.is_float() != other->is_float()) return false;
    return (v.is_string() || v.is_number()) && ValuesEqual(v, *other);
  }
  if (name == "in") return Contains(*other, v);
  if (name == "lt" || name == "lessthan" || name == "<") return ValueLess(v, *other);
  if (name == "gt" || name == "greaterthan" || name == ">") return ValueLess(*other, v);
  if (name == "le" || name == "<=") {
    ASSIGN_OR_RETURN(bool greater, ValueLess(*other, v));
    return !greater;
  }
  if (name == "ge" || name == ">=") {
    ASSIGN_OR_RETURN(bool less, ValueLess(v, *other));
    return !less;
  }
  return InvalidArgumentError("No test named '" + std::string(name) + "'.");
}

}  // namespace corral::jinja
