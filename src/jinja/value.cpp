#include "jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace corral::jinja {

const Value* DictData::Find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* DictData::Find(std::string_view key) {
  for (auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void DictData::Set(std::string key, Value value) {
  if (Value* existing = Find(key)) {
    *existing = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

namespace {

// Destroys `pending` without recursion: a container whose last owner is the Value being
// dropped hands its children to the worklist first, so each dies with no children.
void DrainIteratively(std::vector<Value>& pending) {
  while (!pending.empty()) {
    Value v = std::move(pending.back());
    pending.pop_back();
    if (v.owners() != 1) continue;
    if (v.is_list()) {
      for (Value& item : v.list().items) pending.push_back(std::move(item));
      v.list().items.clear();
    } else if (v.is_dict() || v.is_namespace()) {
      DictData& dict = v.is_dict() ? v.dict() : v.ns().attributes;
      for (auto& entry : dict.TakeEntries()) pending.push_back(std::move(entry.second));
    }
  }
}

}  // namespace

ListData::~ListData() {
  if (items.empty()) return;
  std::vector<Value> pending = std::move(items);
  DrainIteratively(pending);
}

DictData::~DictData() {
  if (entries_.empty()) return;
  std::vector<Value> pending;
  for (auto& entry : entries_) pending.push_back(std::move(entry.second));
  entries_.clear();
  DrainIteratively(pending);
}

long Value::owners() const {
  if (is_list()) return std::get<std::shared_ptr<ListData>>(storage_).use_count();
  if (is_dict()) return std::get<std::shared_ptr<DictData>>(storage_).use_count();
  if (is_namespace()) return std::get<std::shared_ptr<NamespaceData>>(storage_).use_count();
  return 0;
}

const void* Value::container() const {
  if (is_list()) return &list();
  if (is_dict()) return &dict();
  if (is_namespace()) return &ns();
  return nullptr;
}

const Value* CallArgs::Get(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

namespace {
thread_local ContainerRegistry* active_registry = nullptr;
}  // namespace

ContainerRegistry::ContainerRegistry() : previous_(active_registry) { active_registry = this; }

ContainerRegistry::~ContainerRegistry() {
  active_registry = previous_;
  // Empty every survivor first, then let the contents go (iteratively, via the destructors).
  std::vector<Value> contents;
  for (const auto& weak : lists_) {
    if (auto list = weak.lock()) {
      for (Value& item : list->items) contents.push_back(std::move(item));
      list->items.clear();
    }
  }
  auto take = [&contents](DictData& dict) {
    for (auto& entry : dict.TakeEntries()) contents.push_back(std::move(entry.second));
  };
  for (const auto& weak : dicts_) {
    if (auto dict = weak.lock()) take(*dict);
  }
  for (const auto& weak : namespaces_) {
    if (auto ns = weak.lock()) take(ns->attributes);
  }
  ListData drain;
  drain.items = std::move(contents);
}

void ContainerRegistry::Compact() {
  // Dropping expired entries keeps the registry proportional to the live containers (a
  // weak_ptr also keeps a make_shared allocation from being freed).
  auto expired = [](const auto& weak) { return weak.expired(); };
  std::erase_if(lists_, expired);
  std::erase_if(dicts_, expired);
  std::erase_if(namespaces_, expired);
  compact_at_ = std::max<size_t>(1024, 2 * (lists_.size() + dicts_.size() + namespaces_.size()));
}

void ContainerRegistry::Record(const std::shared_ptr<ListData>& list) {
  ContainerRegistry* r = active_registry;
  if (r == nullptr) return;
  r->lists_.push_back(list);
  if (r->lists_.size() + r->dicts_.size() + r->namespaces_.size() >= r->compact_at_) r->Compact();
}

void ContainerRegistry::Record(const std::shared_ptr<DictData>& dict) {
  ContainerRegistry* r = active_registry;
  if (r == nullptr) return;
  r->dicts_.push_back(dict);
  if (r->lists_.size() + r->dicts_.size() + r->namespaces_.size() >= r->compact_at_) r->Compact();
}

void ContainerRegistry::Record(const std::shared_ptr<NamespaceData>& ns) {
  ContainerRegistry* r = active_registry;
  if (r == nullptr) return;
  r->namespaces_.push_back(ns);
  if (r->lists_.size() + r->dicts_.size() + r->namespaces_.size() >= r->compact_at_) r->Compact();
}

Value Value::List(std::vector<Value> items, bool is_tuple) {
  auto data = std::make_shared<ListData>();
  data->items = std::move(items);
  data->is_tuple = is_tuple;
  ContainerRegistry::Record(data);
  return Value(std::move(data));
}

Value Value::Dict() { return Dict(DictData()); }

Value Value::Dict(DictData dict) {
  auto data = std::make_shared<DictData>(std::move(dict));
  ContainerRegistry::Record(data);
  return Value(std::move(data));
}

Value Value::Function(std::string name, NativeFunction function) {
  return Value(std::make_shared<Callable>(Callable{std::move(name), std::move(function)}));
}

Value Value::Namespace() { return Namespace(DictData()); }

Value Value::Namespace(DictData attributes) {
  auto data = std::make_shared<NamespaceData>(NamespaceData{std::move(attributes)});
  ContainerRegistry::Record(data);
  return Value(std::move(data));
}

double Value::as_double() const {
  if (is_float()) return std::get<double>(storage_);
  return static_cast<double>(as_int());
}

std::string Value::TypeName() const {
  if (is_undefined()) return "Undefined";
  if (is_none()) return "NoneType";
  if (is_bool()) return "bool";
  if (is_int()) return "int";
  if (is_float()) return "float";
  if (is_string()) return "str";
  if (is_list()) return list().is_tuple ? "tuple" : "list";
  if (is_dict()) return "dict";
  if (is_namespace()) return "Namespace";
  return "function";
}

bool IsTruthy(const Value& value) {
  if (value.is_undefined() || value.is_none()) return false;
  if (value.is_bool()) return value.as_bool();
  if (value.is_int()) return value.as_int() != 0;
  if (value.is_float()) return value.as_double() != 0.0;
  if (value.is_string()) return !value.as_string().empty();
  if (value.is_list()) return !value.list().items.empty();
  if (value.is_dict()) return value.dict().size() != 0;
  return true;
}

std::string FormatPythonFloat(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Shortest round-trip digits in scientific form, then laid out with Python's repr rules:
  // fixed notation when -4 <= exponent < 16, else d.ddde+XX.
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::scientific);
  std::string sci(buffer, end);
  bool negative = false;
  if (!sci.empty() && sci[0] == '-') {
    negative = true;
    sci.erase(0, 1);
  }
  size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(0, e_pos);
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buffer[16];
    std::snprintf(exp_buffer, sizeof(exp_buffer), "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    return out + exp_buffer;
  }
  if (exponent < 0) {
    return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  size_t int_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_digits) {
    return out + digits + std::string(int_digits - digits.size(), '0') + ".0";
  }
  return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

namespace {

std::string ReprString(const std::string& s) {
  // Python picks single quotes unless the text has a single quote and no double quote.
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

}  // namespace

namespace {

// Deeper than this, printing and comparing stop (Python would raise RecursionError near 1000
// frames; templates never come close).
constexpr int kMaxValueDepth = 256;

void AppendRepr(const Value& value, int depth, std::vector<const void*>& active, std::string& out) {
  const void* self = value.container();
  if (self == nullptr) {
    out += value.is_string() ? ReprString(value.as_string()) : ToPythonString(value);
    return;
  }
  // A container inside itself prints as [...] / {...}, as Python's repr does.
  bool cycle = std::find(active.begin(), active.end(), self) != active.end();
  if (cycle || depth > kMaxValueDepth) {
    out += value.is_list() ? (value.list().is_tuple ? "(...)" : "[...]") : "{...}";
    return;
  }
  active.push_back(self);
  if (value.is_list()) {
    const ListData& list = value.list();
    out += list.is_tuple ? "(" : "[";
    for (size_t i = 0; i < list.items.size(); ++i) {
      if (i > 0) out += ", ";
      AppendRepr(list.items[i], depth + 1, active, out);
    }
    if (list.is_tuple && list.items.size() == 1) out += ",";
    out += list.is_tuple ? ")" : "]";
  } else {
    const DictData& dict = value.is_dict() ? value.dict() : value.ns().attributes;
    out += value.is_dict() ? "{" : "<Namespace {";
    bool first = true;
    for (const auto& [k, v] : dict.entries()) {
      if (!first) out += ", ";
      first = false;
      out += ReprString(k) + ": ";
      AppendRepr(v, depth + 1, active, out);
    }
    out += value.is_dict() ? "}" : "}>";
  }
  active.pop_back();
}

bool ValuesEqualAt(const Value& a, const Value& b, int depth) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.is_undefined() || b.is_undefined()) return a.is_undefined() && b.is_undefined();
  if (a.is_none() || b.is_none()) return a.is_none() && b.is_none();
  if (a.is_string() && b.is_string()) return a.as_string() == b.as_string();
  // Python compares container items by identity first, so a list equals itself even when it
  // contains itself.
  if (a.container() != nullptr && a.container() == b.container()) return true;
  if (depth > kMaxValueDepth) return false;
  if (a.is_list() && b.is_list()) {
    const auto& x = a.list();
    const auto& y = b.list();
    if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
    for (size_t i = 0; i < x.items.size(); ++i) {
      if (!ValuesEqualAt(x.items[i], y.items[i], depth + 1)) return false;
    }
    return true;
  }
  if (a.is_dict() && b.is_dict()) {
    const auto& x = a.dict();
    const auto& y = b.dict();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x.entries()) {
      const Value* other = y.Find(k);
      if (other == nullptr || !ValuesEqualAt(v, *other, depth + 1)) return false;
    }
    return true;
  }
  if (a.is_callable() && b.is_callable()) return &a.callable() == &b.callable();
  return false;
}

Result<bool> ValueLessAt(const Value& a, const Value& b, int depth) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  // UTF-8 byte order equals code point order, which is what Python compares.
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.list().is_tuple == b.list().is_tuple) {
    if (depth > kMaxValueDepth) {
      return ResourceExhaustedError("values nested too deeply to compare");
    }
    const auto& x = a.list().items;
    const auto& y = b.list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (ValuesEqualAt(x[i], y[i], depth + 1)) continue;
      return ValueLessAt(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined() || b.is_undefined()) {
    return InvalidArgumentError((a.is_undefined() ? a : b).undefined_hint());
  }
  return InvalidArgumentError("'<' not supported between instances of '" + a.TypeName() +
                              "' and '" + b.TypeName() + "'");
}

}  // namespace

std::string ToPythonRepr(const Value& value) {
  std::string out;
  std::vector<const void*> active;
  AppendRepr(value, 0, active, out);
  return out;
}

std::string ToPythonString(const Value& value) {
  if (value.is_undefined()) return "";
  if (value.is_none()) return "None";
  if (value.is_bool()) return value.as_bool() ? "True" : "False";
  if (value.is_int()) return std::to_string(value.as_int());
  if (value.is_float()) return FormatPythonFloat(value.as_double());
  if (value.is_string()) return value.as_string();
  if (value.is_callable()) return "<function " + value.callable().name + ">";
  return ToPythonRepr(value);
}

bool ValuesEqual(const Value& a, const Value& b) { return ValuesEqualAt(a, b, 0); }

Result<bool> ValueLess(const Value& a, const Value& b) { return ValueLessAt(a, b, 0); }

std::u32string Utf8Decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80           ? 0
                : (c >> 5) == 0x6  ? 1
                : (c >> 4) == 0xe  ? 2
                : (c >> 3) == 0x1e ? 3
                                   : -1;
    bool truncated = extra > 0 && i + static_cast<size_t>(extra) >= s.size();
    if (extra < 0 || truncated) {
      out += static_cast<char32_t>(c);
      ++i;
      continue;
    }
    char32_t cp = extra == 0 ? c : (c & (0x3f >> extra));
    bool valid = true;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!valid) {
      out += static_cast<char32_t>(c);
      ++i;
      continue;
    }
    out += cp;
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

std::string Utf8Encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) ++n;
  }
  return n;
}

template <typename Json>
Value FromJsonOf(const Json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return Value::None();
    case nlohmann::json::value_t::boolean:
      return Value::Bool(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::Int(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = json.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Float(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::Float(json.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::String(json.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(FromJsonOf(item));
      return Value::List(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      DictData dict;
      for (const auto& [key, item] : json.items()) dict.Set(key, FromJsonOf(item));
      return Value::Dict(std::move(dict));
    }
    default:
      return Value::None();
  }
}

Value FromJson(const nlohmann::json& json) { return FromJsonOf(json); }
Value FromJson(const nlohmann::ordered_json& json) { return FromJsonOf(json); }

namespace {

void AppendJsonString(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  std::u32string code_points;
  if (ensure_ascii) code_points = Utf8Decode(s);
  auto escape_code = [&out](unsigned code) {
    char buffer[16];
    std::snprintf(buffer, sizeof(buffer), "\\u%04x", code);
    out += buffer;
  };
  auto append_char = [&](char32_t c, bool ascii_only) {
    switch (c) {
      case '"':
        out += "\\\"";
        return;
      case '\\':
        out += "\\\\";
        return;
      case '\n':
        out += "\\n";
        return;
      case '\r':
        out += "\\r";
        return;
      case '\t':
        out += "\\t";
        return;
      case '\b':
        out += "\\b";
        return;
      case '\f':
        out += "\\f";
        return;
      default:
        break;
    }
    if (c < 0x20) {
      escape_code(c);
    } else if (ascii_only && c > 0x7e) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        escape_code(0xd800 + (v >> 10));
        escape_code(0xdc00 + (v & 0x3ff));
      } else {
        escape_code(c);
      }
    } else if (ascii_only) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);  // a byte of UTF-8, copied as is
    }
  };
  if (ensure_ascii) {
    for (char32_t c : code_points) append_char(c, true);
  } else {
    for (unsigned char c : s) append_char(c, false);
  }
  out += '"';
}

Status AppendJson(const Value& value, const JsonFormat& format, int depth, std::string& out) {
  if (depth > 512) return ResourceExhaustedError("tojson: value nested too deeply");
  const bool pretty = format.indent >= 0;
  const std::string item_sep =
      format.separators_set ? format.item_separator : (pretty ? "," : ", ");
  const std::string key_sep = format.separators_set ? format.key_separator : ": ";
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<size_t>(format.indent) * static_cast<size_t>(level), ' ');
  };
  if (value.is_none()) {
    out += "null";
  } else if (value.is_bool()) {
    out += value.as_bool() ? "true" : "false";
  } else if (value.is_int()) {
    out += std::to_string(value.as_int());
  } else if (value.is_float()) {
    double d = value.as_double();
    if (std::isnan(d)) {
      out += "NaN";
    } else if (std::isinf(d)) {
      out += d > 0 ? "Infinity" : "-Infinity";
    } else {
      out += FormatPythonFloat(d);
    }
  } else if (value.is_string()) {
    AppendJsonString(value.as_string(), format.ensure_ascii, out);
  } else if (value.is_list()) {
    const auto& items = value.list().items;
    if (items.empty()) {
      out += "[]";
      return Status::Ok();
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += item_sep;
      if (pretty) newline(depth + 1);
      RETURN_IF_ERROR(AppendJson(items[i], format, depth + 1, out));
    }
    if (pretty) newline(depth);
    out += ']';
  } else if (value.is_dict()) {
    std::vector<const std::pair<std::string, Value>*> entries;
    for (const auto& entry : value.dict().entries()) entries.push_back(&entry);
    if (entries.empty()) {
      out += "{}";
      return Status::Ok();
    }
    if (format.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
    }
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out += item_sep;
      if (pretty) newline(depth + 1);
      AppendJsonString(entries[i]->first, format.ensure_ascii, out);
      out += key_sep;
      RETURN_IF_ERROR(AppendJson(entries[i]->second, format, depth + 1, out));
    }
    if (pretty) newline(depth);
    out += '}';
  } else {
    return InvalidArgumentError("Object of type " + value.TypeName() + " is not JSON serializable");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> DumpJson(const Value& value, const JsonFormat& format) {
  std::string out;
  RETURN_IF_ERROR(AppendJson(value, format, 0, out));
  return out;
}

}  // namespace corral::jinja
