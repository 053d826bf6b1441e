// Value: the data the Jinja interpreter works on, with Python's semantics for printing, truth,
// equality and ordering, because templates are written against Jinja2 running on Python.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::jinja {

class Value;

// Defined after Value: their members hold Values, which must be complete (clang's libstdc++
// checks std::pair<std::string, Value> at its first use).
struct ListData;
class DictData;
struct CallArgs;
struct Callable;
struct UndefinedValue {
  std::string hint;  // the error Jinja2 raises on misuse, e.g. "'x' is undefined"
};
struct NoneValue {};
struct NamespaceData;
class Value;
using NativeFunction = std::function<Result<Value>(const CallArgs&)>;

class Value {
 public:
  using Storage = std::variant<UndefinedValue, NoneValue, bool, int64_t, double, std::string,
                               std::shared_ptr<ListData>, std::shared_ptr<DictData>,
                               std::shared_ptr<Callable>, std::shared_ptr<NamespaceData>>;

  Value() : storage_(UndefinedValue{}) {}
  Value(Storage storage) : storage_(std::move(storage)) {}  // NOLINT: implicit by design

  static Value Undefined(std::string hint = "value is undefined") {
    return Value(UndefinedValue{std::move(hint)});
  }
  static Value None() { return Value(NoneValue{}); }
  static Value Bool(bool b) { return Value(b); }
  static Value Int(int64_t i) { return Value(i); }
  static Value Float(double d) { return Value(d); }
  static Value String(std::string s) { return Value(std::move(s)); }
  static Value List(std::vector<Value> items = {}, bool is_tuple = false);
  static Value Dict();
  static Value Dict(DictData dict);
  static Value Function(std::string name, NativeFunction function);
  static Value Namespace();
  static Value Namespace(DictData attributes);

  bool is_undefined() const { return std::holds_alternative<UndefinedValue>(storage_); }
  bool is_none() const { return std::holds_alternative<NoneValue>(storage_); }
  bool is_bool() const { return std::holds_alternative<bool>(storage_); }
  bool is_int() const { return std::holds_alternative<int64_t>(storage_); }
  bool is_float() const { return std::holds_alternative<double>(storage_); }
  // Python's numbers include bool.
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return std::holds_alternative<std::string>(storage_); }
  bool is_list() const { return std::holds_alternative<std::shared_ptr<ListData>>(storage_); }
  bool is_dict() const { return std::holds_alternative<std::shared_ptr<DictData>>(storage_); }
  bool is_callable() const { return std::holds_alternative<std::shared_ptr<Callable>>(storage_); }
  bool is_namespace() const {
    return std::holds_alternative<std::shared_ptr<NamespaceData>>(storage_);
  }

  bool as_bool() const { return std::get<bool>(storage_); }
  int64_t as_int() const { return is_bool() ? as_bool() : std::get<int64_t>(storage_); }
  double as_double() const;  // any number
  const std::string& as_string() const { return std::get<std::string>(storage_); }
  ListData& list() const { return *std::get<std::shared_ptr<ListData>>(storage_); }
  DictData& dict() const { return *std::get<std::shared_ptr<DictData>>(storage_); }
  const Callable& callable() const { return *std::get<std::shared_ptr<Callable>>(storage_); }
  NamespaceData& ns() const { return *std::get<std::shared_ptr<NamespaceData>>(storage_); }
  const std::string& undefined_hint() const { return std::get<UndefinedValue>(storage_).hint; }

  // Python's type name ("str", "int", "dict", ...), for error messages.
  std::string TypeName() const;

  // How many Values share this list, dict or namespace (0 for other types).
  long owners() const;
  // The container's identity, for cycle checks (nullptr for other types).
  const void* container() const;

 private:
  Storage storage_;
};

// Lists and dicts are shared by reference, as in Python, so `ns.items.append(x)` is seen by
// every holder of the list.
struct ListData {
  ListData() = default;
  ListData(const ListData&) = default;
  ListData(ListData&&) = default;
  ListData& operator=(const ListData&) = default;
  ListData& operator=(ListData&&) = default;
  ~ListData();  // iterative: templates can nest lists a million deep

  std::vector<Value> items;
  bool is_tuple = false;  // prints as (a, b) instead of [a, b]
};

// Insertion-ordered string-keyed map (Python dicts keep insertion order).
class DictData {
 public:
  DictData() = default;
  DictData(const DictData&) = default;
  DictData(DictData&&) = default;
  DictData& operator=(const DictData&) = default;
  DictData& operator=(DictData&&) = default;
  ~DictData();  // iterative, as ~ListData

  // Moves every entry out (the destructors' worklist).
  std::vector<std::pair<std::string, Value>> TakeEntries() { return std::move(entries_); }

  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  void Set(std::string key, Value value);
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, Value>> entries_;
};

// Arguments of a call from a template: positional then keyword.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument at `index` or named `name`; nullptr when absent.
  const Value* Get(size_t index, std::string_view name) const;
};

struct Callable {
  std::string name;
  NativeFunction function;
};

// A namespace() object: a dict whose attributes can be assigned with `set ns.attr = ...`.
struct NamespaceData {
  DictData attributes;
};

// Records every list, dict and namespace created on this thread while it is active; when it
// ends it empties the ones still alive. Nothing a render creates outlives the render (it
// returns a string), so this frees the reference cycles a template can build (l.append(l),
// ns.x = [ns]) that shared ownership alone would leak.
class ContainerRegistry {
 public:
  ContainerRegistry();
  ~ContainerRegistry();
  ContainerRegistry(const ContainerRegistry&) = delete;
  ContainerRegistry& operator=(const ContainerRegistry&) = delete;

  // Called by Value's factories.
  static void Record(const std::shared_ptr<ListData>& list);
  static void Record(const std::shared_ptr<DictData>& dict);
  static void Record(const std::shared_ptr<NamespaceData>& ns);

 private:
  void Compact();

  ContainerRegistry* previous_;
  std::vector<std::weak_ptr<ListData>> lists_;
  std::vector<std::weak_ptr<DictData>> dicts_;
  std::vector<std::weak_ptr<NamespaceData>> namespaces_;
  size_t compact_at_ = 1024;
};

// Python's truth value.
bool IsTruthy(const Value& value);
// Python's str(): what `{{ value }}` prints. Undefined prints "".
std::string ToPythonString(const Value& value);
// Python's repr(), used for items inside printed lists and dicts.
std::string ToPythonRepr(const Value& value);
// Python's float repr: shortest round-trip digits, "1.0", "1e+16", "inf".
std::string FormatPythonFloat(double d);
// Python's ==. Numbers compare across int/float/bool.
bool ValuesEqual(const Value& a, const Value& b);
// Python's <; an error for types Python cannot order.
Result<bool> ValueLess(const Value& a, const Value& b);

// Length in Unicode code points (Python's len of a str).
size_t Utf8Length(std::string_view s);
// Decodes UTF-8 into code points; invalid bytes map to themselves.
std::u32string Utf8Decode(std::string_view s);
std::string Utf8Encode(std::u32string_view s);

Value FromJson(const nlohmann::json& json);
Value FromJson(const nlohmann::ordered_json& json);  // keeps the key order

struct JsonFormat {
  int indent = -1;  // < 0: on one line
  bool sort_keys = false;
  bool ensure_ascii = false;
  std::string item_separator;  // empty: Python's default for the indent mode
  std::string key_separator;
  bool separators_set = false;
};
// Python's json.dumps; an error for values JSON cannot hold (undefined, macros).
Result<std::string> DumpJson(const Value& value, const JsonFormat& format);

}  // namespace corral::jinja
