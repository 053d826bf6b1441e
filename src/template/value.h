// The values a template computes with. Data comes from an nlohmann::json document and is read in
// place; arrays and objects built during execution (slice) own their JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace corral::tmpl {

class Value {
 public:
  enum class Kind {
    kInvalid,  // Go's invalid reflect.Value: prints "<no value>"
    kNil,      // a nil interface read from a map or array (JSON null or a missing key)
    kBool,
    kInt,
    kFloat,
    kString,
    kArray,
    kObject,
  };

  Value() = default;
  static Value Nil() { return Value(Kind::kNil); }
  static Value Bool(bool b) {
    Value v(Kind::kBool);
    v.bool_ = b;
    return v;
  }
  static Value Int(int64_t i) {
    Value v(Kind::kInt);
    v.int_ = i;
    return v;
  }
  static Value Float(double f) {
    Value v(Kind::kFloat);
    v.float_ = f;
    return v;
  }
  static Value String(std::string s) {
    Value v(Kind::kString);
    v.string_ = std::move(s);
    return v;
  }
  // Reads `node` in place; `owner` keeps it alive when it was built during execution.
  static Value FromJson(const nlohmann::json& node, std::shared_ptr<const nlohmann::json> owner);
  static Value OwnedJson(nlohmann::json node) {
    auto owner = std::make_shared<const nlohmann::json>(std::move(node));
    return FromJson(*owner, owner);
  }

  Kind kind() const { return kind_; }
  bool is_missing() const { return kind_ == Kind::kInvalid || kind_ == Kind::kNil; }
  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }
  double as_float() const { return float_; }
  const std::string& as_string() const { return string_; }
  const nlohmann::json& json() const { return *node_; }  // kArray and kObject only
  const std::shared_ptr<const nlohmann::json>& owner() const { return owner_; }

  // Child of an array or object, sharing this value's owner.
  Value Child(const nlohmann::json& node) const { return FromJson(node, owner_); }
  // The value as JSON (for the json function and for building new arrays).
  nlohmann::json ToJson() const;
  // Go's reflect type name, used in error messages ("can't evaluate field X in type int").
  std::string TypeName() const;

 private:
  explicit Value(Kind kind) : kind_(kind) {}

  Kind kind_ = Kind::kInvalid;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  const nlohmann::json* node_ = nullptr;
  std::shared_ptr<const nlohmann::json> owner_;
};

// The Go-string table (ExecOptions::go_strings) of the execution running on this thread, so the
// formatting helpers (print, printf, json) can honour it without every caller passing it on.
using GoStringTable = std::unordered_map<const nlohmann::json*, std::string>;
const std::string* GoStringOf(const nlohmann::json& node);  // null when the node has none
class ScopedGoStrings {
 public:
  explicit ScopedGoStrings(const GoStringTable* table);
  ~ScopedGoStrings();
  ScopedGoStrings(const ScopedGoStrings&) = delete;
  ScopedGoStrings& operator=(const ScopedGoStrings&) = delete;

 private:
  const GoStringTable* previous_;
};

// Go's truth: false, 0, "", empty array/object, nil and no value are false.
bool IsTrue(const Value& value);

// fmt's %v rendering of one value; `top_level` applies text/template's "<no value>" for nil.
std::string FormatValue(const Value& value, bool top_level);

// strconv.FormatFloat(f, 'g', -1, 64), as fmt's %v prints a float64.
std::string FormatFloatShortest(double f);
// The shortest digits of a finite f in %e form ("1.5e+06") or plain decimal form ("1500000").
std::string FormatFloatShortestAs(double f, bool exponent_form);

}  // namespace corral::tmpl
