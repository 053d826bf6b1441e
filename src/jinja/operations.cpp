// Operators, attribute/item access and the methods of str, dict and list.
#include <cmath>

#include "jinja/builtins.h"

namespace corral::jinja {
namespace {

bool IsPythonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Status TypeError(const std::string& message) { return InvalidArgumentError(message); }

Status TooLarge() { return ResourceExhaustedError("value too large for the template limits"); }

// Python's floor division and modulo on integers.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Result<Value> Repeat(const Value& sequence, int64_t count, const BuiltinLimits& limits) {
  if (count < 0) count = 0;
  if (sequence.is_string()) {
    const std::string& s = sequence.as_string();
    if (!s.empty() && static_cast<uint64_t>(count) > limits.max_string_bytes / s.size()) {
      return TooLarge();
    }
    std::string out;
    for (int64_t i = 0; i < count; ++i) out += s;
    return Value::String(std::move(out));
  }
  const auto& items = sequence.list().items;
  if (!items.empty() && static_cast<uint64_t>(count) > limits.max_list_items / items.size()) {
    return TooLarge();
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < count; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::List(std::move(out), sequence.list().is_tuple);
}

Result<Value> IntPower(int64_t base, int64_t exponent) {
  int64_t result = 1;
  for (int64_t i = 0; i < exponent; ++i) {
    if (__builtin_mul_overflow(result, base, &result)) {
      return OutOfRangeError("integer result of ** too large");
    }
    if (result == 0 || result == 1) break;
  }
  if (result == -1 || result == 1) {  // base -1 or 1: the sign depends on the exponent
    if (base == -1) result = exponent % 2 == 0 ? 1 : -1;
  }
  return Value::Int(result);
}

Result<Value> Arithmetic(std::string_view op, const Value& a, const Value& b) {
  const bool both_int = !a.is_float() && !b.is_float();
  if (op == "/") {
    if (b.as_double() == 0) return InvalidArgumentError("division by zero");
    return Value::Float(a.as_double() / b.as_double());
  }
  if (both_int) {
    int64_t x = a.as_int(), y = b.as_int(), r = 0;
    if (op == "+") {
      if (__builtin_add_overflow(x, y, &r)) return OutOfRangeError("integer overflow");
      return Value::Int(r);
    }
    if (op == "-") {
      if (__builtin_sub_overflow(x, y, &r)) return OutOfRangeError("integer overflow");
      return Value::Int(r);
    }
    if (op == "*") {
      if (__builtin_mul_overflow(x, y, &r)) return OutOfRangeError("integer overflow");
      return Value::Int(r);
    }
    if (op == "//" || op == "%") {
      if (y == 0) return InvalidArgumentError("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return OutOfRangeError("integer overflow");
      int64_t q = FloorDiv(x, y);
      return Value::Int(op == "//" ? q : x - q * y);
    }
    if (op == "**") {
      if (y >= 0) return IntPower(x, y);
      return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
    }
  }
  double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value::Float(x + y);
  if (op == "-") return Value::Float(x - y);
  if (op == "*") return Value::Float(x * y);
  if (op == "//" || op == "%") {
    if (y == 0) return InvalidArgumentError("float division or modulo by zero");
    // CPython's float_divmod, so results match to the last bit.
    double mod = std::fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0) {
      if ((y < 0) != (mod < 0)) {
        mod += y;
        div -= 1.0;
      }
    } else {
      mod = std::copysign(0.0, y);
    }
    if (op == "%") return Value::Float(mod);
    double floor_div = std::copysign(0.0, x / y);
    if (div != 0) {
      floor_div = std::floor(div);
      if (div - floor_div > 0.5) floor_div += 1.0;
    }
    return Value::Float(floor_div);
  }
  if (op == "**") {
    if (x == 0 && y < 0) return InvalidArgumentError("0.0 cannot be raised to a negative power");
    return Value::Float(std::pow(x, y));
  }
  return InternalError("unknown operator");
}

Result<int64_t> NormalizeIndex(int64_t index, size_t size, bool* in_range) {
  int64_t n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  *in_range = index >= 0 && index < n;
  return index;
}

}  // namespace

Status UndefinedError(const Value& undefined) {
  return InvalidArgumentError(undefined.undefined_hint());
}

std::string StripString(std::string_view s, const Value* chars, bool left, bool right) {
  auto strip_char = [&](char c) {
    if (chars == nullptr || chars->is_none() || chars->is_undefined()) return IsPythonSpace(c);
    return chars->is_string() && chars->as_string().find(c) != std::string::npos;
  };
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end && strip_char(s[begin])) ++begin;
  }
  if (right) {
    while (end > begin && strip_char(s[end - 1])) --end;
  }
  return std::string(s.substr(begin, end - begin));
}

Result<Value> BinaryOperation(std::string_view op, const Value& a, const Value& b,
                              const BuiltinLimits& limits) {
  if (op == "~") {
    std::string out = ToPythonString(a) + ToPythonString(b);
    if (out.size() > limits.max_string_bytes) return TooLarge();
    return Value::String(std::move(out));
  }
  // Python formats an undefined value as its str(), "".
  if (op == "%" && a.is_string()) return PercentFormat(a.as_string(), b, limits);
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (a.is_number() && b.is_number()) return Arithmetic(op, a, b);
  if (op == "+" && a.is_string() && b.is_string()) {
    if (a.as_string().size() + b.as_string().size() > limits.max_string_bytes) return TooLarge();
    return Value::String(a.as_string() + b.as_string());
  }
  if (op == "+" && a.is_list() && b.is_list() && a.list().is_tuple == b.list().is_tuple) {
    if (a.list().items.size() + b.list().items.size() > limits.max_list_items) return TooLarge();
    std::vector<Value> items = a.list().items;
    items.insert(items.end(), b.list().items.begin(), b.list().items.end());
    return Value::List(std::move(items), a.list().is_tuple);
  }
  if (op == "*" && (a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
    return Repeat(a, b.as_int(), limits);
  }
  if (op == "*" && (b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
    return Repeat(b, a.as_int(), limits);
  }
  return TypeError("unsupported operand type(s) for " + std::string(op) + ": '" + a.TypeName() +
                   "' and '" + b.TypeName() + "'");
}

Result<bool> Contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string()) {
      return TypeError("'in <string>' requires string as left operand, not " + item.TypeName());
    }
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const Value& v : container.list().items) {
      if (ValuesEqual(v, item)) return true;
    }
    return false;
  }
  if (container.is_dict()) {
    return item.is_string() && container.dict().Find(item.as_string()) != nullptr;
  }
  if (container.is_undefined()) return false;  // Jinja2's Undefined iterates as empty
  return TypeError("argument of type '" + container.TypeName() + "' is not iterable");
}

Result<std::vector<Value>> Iterate(const Value& value) {
  if (value.is_list()) return value.list().items;
  if (value.is_undefined()) return std::vector<Value>{};
  if (value.is_dict()) {
    std::vector<Value> keys;
    for (const auto& [k, v] : value.dict().entries()) keys.push_back(Value::String(k));
    return keys;
  }
  if (value.is_string()) {
    std::vector<Value> chars;
    for (char32_t c : Utf8Decode(value.as_string())) {
      chars.push_back(Value::String(Utf8Encode(std::u32string(1, c))));
    }
    return chars;
  }
  return TypeError("'" + value.TypeName() + "' object is not iterable");
}

Result<Value> GetAttribute(const Value& object, const std::string& name,
                           const BuiltinLimits& limits) {
  if (object.is_undefined()) return UndefinedError(object);
  if (std::optional<Value> method = BoundMethod(object, name, limits)) return *method;
  if (object.is_dict()) {
    if (const Value* found = object.dict().Find(name)) return *found;
  } else if (object.is_namespace()) {
    if (const Value* found = object.ns().attributes.Find(name)) return *found;
  }
  return Value::Undefined("'" + (object.is_dict() ? std::string("dict") : object.TypeName()) +
                          " object' has no attribute '" + name + "'");
}

Result<Value> GetItem(const Value& object, const Value& key, const BuiltinLimits& limits) {
  if (object.is_undefined()) return UndefinedError(object);
  if (object.is_dict() && key.is_string()) {
    if (const Value* found = object.dict().Find(key.as_string())) return *found;
  } else if ((object.is_list() || object.is_string()) && (key.is_int() || key.is_bool())) {
    bool in_range = false;
    if (object.is_list()) {
      ASSIGN_OR_RETURN(int64_t i,
                       NormalizeIndex(key.as_int(), object.list().items.size(), &in_range));
      if (in_range) return object.list().items[static_cast<size_t>(i)];
    } else {
      std::u32string chars = Utf8Decode(object.as_string());
      ASSIGN_OR_RETURN(int64_t i, NormalizeIndex(key.as_int(), chars.size(), &in_range));
      if (in_range) return Value::String(Utf8Encode(chars.substr(static_cast<size_t>(i), 1)));
    }
  }
  if (key.is_string()) return GetAttribute(object, key.as_string(), limits);
  return Value::Undefined("'" + object.TypeName() + " object' has no attribute '" +
                          ToPythonString(key) + "'");
}

Result<Value> GetSlice(const Value& object, const Value& start, const Value& stop,
                       const Value& step) {
  if (object.is_undefined()) return UndefinedError(object);
  auto bound = [](const Value& v, int64_t* out) -> Status {
    if (v.is_undefined() || v.is_none()) return Status::Ok();
    if (!v.is_int() && !v.is_bool()) {
      return TypeError("slice indices must be integers or None");
    }
    *out = v.as_int();
    return Status::Ok();
  };
  int64_t step_value = 1;
  RETURN_IF_ERROR(bound(step, &step_value));
  if (step_value == 0) return InvalidArgumentError("slice step cannot be zero");
  size_t size = 0;
  std::u32string chars;
  if (object.is_string()) {
    chars = Utf8Decode(object.as_string());
    size = chars.size();
  } else if (object.is_list()) {
    size = object.list().items.size();
  } else {
    return TypeError("'" + object.TypeName() + "' object is not subscriptable");
  }
  const int64_t n = static_cast<int64_t>(size);
  // Python's slice.indices(): clamp each bound to the valid range for the step's direction.
  int64_t lo = step_value > 0 ? 0 : n - 1, hi = step_value > 0 ? n : -1;
  auto clamp = [&](const Value& v, int64_t fallback) -> Result<int64_t> {
    int64_t x = fallback;
    if (v.is_undefined() || v.is_none()) return x;
    RETURN_IF_ERROR(bound(v, &x));
    if (x < 0) x += n;
    if (step_value > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  ASSIGN_OR_RETURN(int64_t begin, clamp(start, lo));
  ASSIGN_OR_RETURN(int64_t end, clamp(stop, hi));
  std::vector<size_t> picked;
  for (int64_t i = begin; step_value > 0 ? i < end : i > end; i += step_value) {
    picked.push_back(static_cast<size_t>(i));
  }
  if (object.is_string()) {
    std::u32string out;
    for (size_t i : picked) out += chars[i];
    return Value::String(Utf8Encode(out));
  }
  std::vector<Value> out;
  for (size_t i : picked) out.push_back(object.list().items[i]);
  return Value::List(std::move(out), object.list().is_tuple);
}

}  // namespace corral::jinja
