#include "template/value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace corral::tmpl {

Value Value::FromJson(const nlohmann::json& node, std::shared_ptr<const nlohmann::json> owner) {
  switch (node.type()) {
    case nlohmann::json::value_t::boolean:
      return Bool(node.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Int(node.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = node.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Int(static_cast<int64_t>(u));
      return Float(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Float(node.get<double>());
    case nlohmann::json::value_t::string:
      return String(node.get<std::string>());
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object: {
      Value v(node.is_array() ? Kind::kArray : Kind::kObject);
      v.node_ = &node;
      v.owner_ = std::move(owner);
      return v;
    }
    default:
      return Nil();  // null, binary, discarded
  }
}

nlohmann::json Value::ToJson() const {
  switch (kind_) {
    case Kind::kBool:
      return bool_;
    case Kind::kInt:
      return int_;
    case Kind::kFloat:
      return float_;
    case Kind::kString:
      return string_;
    case Kind::kArray:
    case Kind::kObject:
      return *node_;
    default:
      return nullptr;
  }
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "[]interface {}";
    case Kind::kObject:
      return "map[string]interface {}";
    case Kind::kNil:
      return "interface {}";
    default:
      return "<nil>";
  }
}

bool IsTrue(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kBool:
      return value.as_bool();
    case Value::Kind::kInt:
      return value.as_int() != 0;
    case Value::Kind::kFloat:
      return value.as_float() != 0;
    case Value::Kind::kString:
      return !value.as_string().empty();
    case Value::Kind::kArray:
    case Value::Kind::kObject:
      return !value.json().empty();
    default:
      return false;
  }
}

std::string FormatFloatShortestAs(double f, bool exponent_form) {
  // to_chars gives the shortest digits that read back as the same double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  (void)ec;
  std::string sci(buf, end);
  bool negative = sci[0] == '-';
  size_t e = sci.find('e');
  int exponent = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (size_t k = negative ? 1 : 0; k < e; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  std::string out = negative ? "-" : "";
  if (exponent_form) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    int magnitude = std::abs(exponent);
    if (magnitude < 10) out += "0";
    return out + std::to_string(magnitude);
  }
  if (exponent < 0) {
    out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
    out += digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0');
  } else {
    out += digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
  }
  return out;
}

std::string FormatFloatShortest(double f) {
  if (f != f) return "NaN";
  if (f == std::numeric_limits<double>::infinity()) return "+Inf";
  if (f == -std::numeric_limits<double>::infinity()) return "-Inf";
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  // strconv's 'g' with the shortest precision (what %v uses) switches to %e when the decimal
  // exponent is < -4 or >= 6, so 1e6 prints as "1e+06" and 123456.0 as "123456".
  std::string sci = FormatFloatShortestAs(f, true);
  int exponent = std::atoi(sci.c_str() + sci.find('e') + 1);
  return FormatFloatShortestAs(f, exponent < -4 || exponent >= 6);
}

namespace {
thread_local const GoStringTable* current_go_strings = nullptr;
}  // namespace

const std::string* GoStringOf(const nlohmann::json& node) {
  if (current_go_strings == nullptr) return nullptr;
  auto it = current_go_strings->find(&node);
  return it == current_go_strings->end() ? nullptr : &it->second;
}

ScopedGoStrings::ScopedGoStrings(const GoStringTable* table) : previous_(current_go_strings) {
  current_go_strings = table;
}
ScopedGoStrings::~ScopedGoStrings() { current_go_strings = previous_; }

std::string FormatValue(const Value& value, bool top_level) {
  if (value.kind() == Value::Kind::kArray || value.kind() == Value::Kind::kObject) {
    if (const std::string* text = GoStringOf(value.json())) return *text;
  }
  switch (value.kind()) {
    case Value::Kind::kInvalid:
    case Value::Kind::kNil:
      return top_level ? "<no value>" : "<nil>";
    case Value::Kind::kBool:
      return value.as_bool() ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(value.as_int());
    case Value::Kind::kFloat:
      return FormatFloatShortest(value.as_float());
    case Value::Kind::kString:
      return value.as_string();
    case Value::Kind::kArray: {
      std::string out = "[";
      bool first = true;
      for (const auto& element : value.json()) {
        if (!first) out += " ";
        first = false;
        out += FormatValue(value.Child(element), false);
      }
      return out + "]";
    }
    case Value::Kind::kObject: {
      std::string out = "map[";  // nlohmann::json keeps keys sorted, as fmt prints maps
      bool first = true;
      for (const auto& [key, element] : value.json().items()) {
        if (!first) out += " ";
        first = false;
        out += key + ":" + FormatValue(value.Child(element), false);
      }
      return out + "]";
    }
  }
  return "";
}

}  // namespace corral::tmpl
