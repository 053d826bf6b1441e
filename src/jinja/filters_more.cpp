// Less common Jinja2 filters real chat templates still use (dictsort, sum, min, max, format,
// escape), Python's printf-style `%` formatting and str.format, and Unicode-aware upper/lower.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/strings.h"
#include "jinja/builtins.h"

namespace corral::jinja {
namespace {

// Simple (1:1) case mappings of the scripts chat content commonly carries: Latin-1, Latin
// Extended-A, Greek and Cyrillic. Python maps every Unicode letter; beyond these ranges we
// leave characters as they are.
char32_t ToUpperChar(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 0x20;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    bool odd_is_lower = !((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E));
    if (c == 0x138 || c == 0x149) return c;
    if (odd_is_lower ? (c % 2 == 1) : (c % 2 == 0)) return c - 1;
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 0x20;
  if (c == 0x3C2) return 0x3A3;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 0x25;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 0x3F;
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;
  return c;
}

char32_t ToLowerChar(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return c;  // İ lowers to two code points in Python; left alone
    bool even_is_upper = !((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E));
    if (c == 0x138 || c == 0x149 || c == 0x17F) return c;
    if (even_is_upper ? (c % 2 == 0) : (c % 2 == 1)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}

bool IsCased(char32_t c) { return ToUpperChar(c) != c || ToLowerChar(c) != c; }

Result<std::string> AttributeName(const CallArgs& args, size_t index) {
  const Value* attribute = args.Get(index, "attribute");
  if (attribute == nullptr || attribute->is_none()) return std::string();
  if (!attribute->is_string()) return InvalidArgumentError("attribute must be a string");
  return attribute->as_string();
}

// The value a sort/min/max compares for `item`: the attribute when given, lowercased strings
// unless case_sensitive.
Result<Value> CompareKey(const Value& item, const std::string& attribute, bool fold_case,
                         const BuiltinLimits& limits) {
  Value key = item;
  if (!attribute.empty()) {
    // Jinja2 resolves "a.b" path by path; chat templates use single names.
    size_t start = 0;
    while (true) {
      size_t dot = attribute.find('.', start);
      std::string part = attribute.substr(start, dot == std::string::npos ? dot : dot - start);
      ASSIGN_OR_RETURN(key, GetItem(key, Value::String(part), limits));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  if (fold_case && key.is_string()) key = Value::String(UnicodeLower(key.as_string()));
  return key;
}

Result<Value> DictSort(const Value& subject, const CallArgs& args) {
  if (!subject.is_dict()) return InvalidArgumentError("dictsort expects a mapping");
  const Value* case_sensitive = args.Get(0, "case_sensitive");
  const Value* by = args.Get(1, "by");
  const Value* reverse = args.Get(2, "reverse");
  bool fold_case = case_sensitive == nullptr || !IsTruthy(*case_sensitive);
  bool by_value = false;
  if (by != nullptr) {
    if (!by->is_string() || (by->as_string() != "key" && by->as_string() != "value")) {
      return InvalidArgumentError("You can only sort by either 'key' or 'value'");
    }
    by_value = by->as_string() == "value";
  }
  std::vector<Value> pairs;
  std::vector<Value> keys;
  for (const auto& [k, v] : subject.dict().entries()) {
    pairs.push_back(Value::List({Value::String(k), v}, /*is_tuple=*/true));
    Value key = by_value ? v : Value::String(k);
    if (fold_case && key.is_string()) key = Value::String(UnicodeLower(key.as_string()));
    keys.push_back(std::move(key));
  }
  std::vector<size_t> order(pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  bool descending = reverse != nullptr && IsTruthy(*reverse);
  Status error;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    Result<bool> less = descending ? ValueLess(keys[b], keys[a]) : ValueLess(keys[a], keys[b]);
    if (!less.ok()) error = less.status();
    return less.ok() && *less;
  });
  RETURN_IF_ERROR(error);
  std::vector<Value> out;
  for (size_t i : order) out.push_back(pairs[i]);
  return Value::List(std::move(out));
}

Result<Value> Sum(const Value& subject, const CallArgs& args, const BuiltinLimits& limits) {
  ASSIGN_OR_RETURN(std::string attribute, AttributeName(args, 0));
  const Value* start = args.Get(1, "start");
  Value total = start != nullptr ? *start : Value::Int(0);
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
  for (const Value& item : items) {
    ASSIGN_OR_RETURN(Value v, CompareKey(item, attribute, false, limits));
    ASSIGN_OR_RETURN(total, BinaryOperation("+", total, v, limits));
  }
  return total;
}

Result<Value> MinMax(const Value& subject, const CallArgs& args, bool max,
                     const BuiltinLimits& limits) {
  const Value* case_sensitive = args.Get(0, "case_sensitive");
  ASSIGN_OR_RETURN(std::string attribute, AttributeName(args, 1));
  bool fold_case = case_sensitive == nullptr || !IsTruthy(*case_sensitive);
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(subject));
  if (items.empty()) {
    return Value::Undefined(std::string("No aggregated item, sequence was empty."));
  }
  size_t best = 0;
  ASSIGN_OR_RETURN(Value best_key, CompareKey(items[0], attribute, fold_case, limits));
  for (size_t i = 1; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(Value key, CompareKey(items[i], attribute, fold_case, limits));
    ASSIGN_OR_RETURN(bool better, max ? ValueLess(best_key, key) : ValueLess(key, best_key));
    if (better) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}

Status FormatTypeError(char conversion, const Value& v) {
  return InvalidArgumentError(std::string("%") + conversion + " format: a real number is " +
                              "required, not " + v.TypeName());
}

// One %-conversion of Python's printf-style formatting.
Result<std::string> FormatOne(const std::string& flags, int width, int precision, char conversion,
                              const Value& v) {
  std::string body;
  bool numeric = false;
  bool negative = false;
  switch (conversion) {
    case 's':
      body = ToPythonString(v);
      if (precision >= 0) {
        std::u32string chars = Utf8Decode(body);
        if (chars.size() > static_cast<size_t>(precision)) chars.resize(precision);
        body = Utf8Encode(chars);
      }
      break;
    case 'r':
      body = ToPythonRepr(v);
      break;
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      if (!v.is_number()) return FormatTypeError(conversion, v);
      double d = v.as_double();
      if (v.is_float() && !std::isfinite(d)) {
        return InvalidArgumentError("cannot convert float infinity or NaN to integer");
      }
      int64_t n = v.is_float() ? static_cast<int64_t>(d) : v.as_int();
      negative = n < 0;
      uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
      char buffer[64];
      const char* f = conversion == 'x'   ? "%llx"
                      : conversion == 'X' ? "%llX"
                      : conversion == 'o' ? "%llo"
                                          : "%llu";
      std::snprintf(buffer, sizeof(buffer), f, static_cast<unsigned long long>(magnitude));
      body = buffer;
      if (flags.find('#') != std::string::npos && conversion != 'd' && conversion != 'i' &&
          conversion != 'u') {
        body = std::string("0") + (conversion == 'o' ? 'o' : conversion) + body;
      }
      if (precision >= 0 && body.size() < static_cast<size_t>(precision)) {
        body.insert(0, precision - body.size(), '0');
      }
      numeric = true;
      break;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (!v.is_number()) return FormatTypeError(conversion, v);
      double d = v.as_double();
      negative = std::signbit(d) && !std::isnan(d);
      char spec[16];
      std::snprintf(spec, sizeof(spec), "%%%s.%d%c",
                    flags.find('#') != std::string::npos ? "#" : "", precision < 0 ? 6 : precision,
                    conversion);
      char buffer[512];
      std::snprintf(buffer, sizeof(buffer), spec, std::fabs(d));
      body = buffer;
      if (body == "inf" || body == "INF") body = conversion >= 'a' ? "inf" : "INF";
      numeric = true;
      break;
    }
    case 'c':
      if (v.is_string() && Utf8Length(v.as_string()) == 1) {
        body = v.as_string();
      } else if (v.is_int()) {
        if (v.as_int() < 0 || v.as_int() > 0x10FFFF) {
          return OutOfRangeError("%c arg not in range(0x110000)");
        }
        body = Utf8Encode(std::u32string(1, static_cast<char32_t>(v.as_int())));
      } else {
        return InvalidArgumentError("%c requires an int or a unicode character");
      }
      break;
    default:
      return InvalidArgumentError(std::string("unsupported format character '") + conversion + "'");
  }
  std::string sign;
  if (numeric) {
    if (negative) {
      sign = "-";
    } else if (flags.find('+') != std::string::npos) {
      sign = "+";
    } else if (flags.find(' ') != std::string::npos) {
      sign = " ";
    }
  }
  size_t length = Utf8Length(sign) + Utf8Length(body);
  size_t pad = width > 0 && static_cast<size_t>(width) > length ? width - length : 0;
  if (flags.find('-') != std::string::npos) return sign + body + std::string(pad, ' ');
  if (numeric && flags.find('0') != std::string::npos) {
    return sign + std::string(pad, '0') + body;
  }
  return std::string(pad, ' ') + sign + body;
}

}  // namespace

std::string UnicodeUpper(std::string_view s) {
  std::u32string out;
  for (char32_t c : Utf8Decode(s)) {
    if (c == 0xDF) {
      out += U"SS";  // Python's full mapping of ß
    } else {
      out += ToUpperChar(c);
    }
  }
  return Utf8Encode(out);
}

std::string UnicodeLower(std::string_view s) {
  std::u32string in = Utf8Decode(s);
  std::u32string out;
  for (size_t i = 0; i < in.size(); ++i) {
    // Python's final sigma: Σ ending a word lowers to ς.
    if (in[i] == 0x3A3 && i > 0 && IsCased(in[i - 1]) &&
        (i + 1 == in.size() || !IsCased(in[i + 1]))) {
      out += char32_t{0x3C2};
      continue;
    }
    out += ToLowerChar(in[i]);
  }
  return Utf8Encode(out);
}

Result<Value> PercentFormat(const std::string& format, const Value& values,
                            const BuiltinLimits& limits) {
  std::vector<Value> positional;
  const Value* mapping = nullptr;
  if (values.is_list() && values.list().is_tuple) {
    positional = values.list().items;
  } else if (values.is_dict()) {
    mapping = &values;
  } else {
    positional.push_back(values);
  }
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) return InvalidArgumentError("incomplete format");
    Value keyed;
    bool has_key = false;
    if (format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string::npos) return InvalidArgumentError("incomplete format key");
      if (mapping == nullptr) return InvalidArgumentError("format requires a mapping");
      const Value* found = mapping->dict().Find(format.substr(i + 1, close - i - 1));
      if (found == nullptr) {
        return InvalidArgumentError("KeyError: '" + format.substr(i + 1, close - i - 1) + "'");
      }
      keyed = *found;
      has_key = true;
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string::npos) {
      flags += format[i++];
    }
    int width = 0;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9' && width < 100000) {
      width = width * 10 + (format[i++] - '0');
    }
    int precision = -1;
    if (i < format.size() && format[i] == '.') {
      precision = 0;
      ++i;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9' && precision < 100000) {
        precision = precision * 10 + (format[i++] - '0');
      }
    }
    if (i >= format.size()) return InvalidArgumentError("incomplete format");
    char conversion = format[i];
    if (conversion == '%') {
      out += '%';
      continue;
    }
    const Value* arg = nullptr;
    if (has_key) {
      arg = &keyed;
    } else if (mapping != nullptr && positional.empty()) {
      arg = mapping;  // '%s' % {'a': 1} prints the dict
    } else {
      if (next >= positional.size()) {
        return InvalidArgumentError("not enough arguments for format string");
      }
      arg = &positional[next++];
    }
    ASSIGN_OR_RETURN(std::string piece, FormatOne(flags, width, precision, conversion, *arg));
    out += piece;
    if (out.size() > limits.max_string_bytes) {
      return ResourceExhaustedError("string exceeds " + std::to_string(limits.max_string_bytes) +
                                    " bytes");
    }
  }
  if (mapping == nullptr && next < positional.size()) {
    return InvalidArgumentError("not all arguments converted during string formatting");
  }
  return Value::String(std::move(out));
}

bool HasMoreFilter(std::string_view name) {
  for (std::string_view f : {"dictsort", "sum", "min", "max", "format", "escape", "e"}) {
    if (name == f) return true;
  }
  return false;
}

std::optional<Result<Value>> ApplyMoreFilter(std::string_view name, const Value& subject,
                                             const CallArgs& args, const BuiltinLimits& limits) {
  if (name == "dictsort") return DictSort(subject, args);
  if (name == "sum") return Sum(subject, args, limits);
  if (name == "min" || name == "max") return MinMax(subject, args, name == "max", limits);
  if (name == "escape" || name == "e") return Value::String(HtmlEscape(ToPythonString(subject)));
  if (name == "format") {
    if (!subject.is_string()) return InvalidArgumentError("format expects a string");
    if (!args.keyword.empty() && !args.positional.empty()) {
      return InvalidArgumentError("can't handle positional and keyword arguments at the same time");
    }
    if (!args.keyword.empty()) {
      DictData dict;
      for (const auto& [k, v] : args.keyword) dict.Set(k, v);
      return PercentFormat(subject.as_string(), Value::Dict(std::move(dict)), limits);
    }
    return PercentFormat(subject.as_string(), Value::List(args.positional, /*is_tuple=*/true),
                         limits);
  }
  return std::nullopt;
}

}  // namespace corral::jinja
