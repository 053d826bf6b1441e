#include "template/format.h"
#include "base/strings.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace corral::tmpl {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not valid UTF-8.
size_t Utf8SequenceLength(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t n = 0;
  uint32_t value = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0)
    n = 2, value = b0 & 0x1F, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0)
    n = 3, value = b0 & 0x0F, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0)
    n = 4, value = b0 & 0x07, min = 0x10000;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value < 0xE000)) return 0;
  *cp = value;
  return n;
}

size_t RuneCount(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = Utf8SequenceLength(s, i, &cp);
    i += n == 0 ? 1 : n;
    ++count;
  }
  return count;
}

std::string Hex4(uint32_t v, bool upper) {
  char buf[8];
  std::snprintf(buf, sizeof buf, upper ? "%04X" : "%04x", v);
  return buf;
}

bool IsPrintableAsIs(const Value& v) { return v.kind() == Value::Kind::kString || v.is_missing(); }

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1;
  int precision = -1;
  char verb = 0;
};

std::string Pad(std::string s, const Spec& spec, bool numeric) {
  if (spec.width < 0) return s;
  size_t runes = RuneCount(s);
  if (runes >= static_cast<size_t>(spec.width)) return s;
  size_t fill = static_cast<size_t>(spec.width) - runes;
  if (spec.minus) return s + std::string(fill, ' ');
  if (spec.zero && numeric) {
    size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    return s.substr(0, sign) + std::string(fill, '0') + s.substr(sign);
  }
  return std::string(fill, ' ') + s;
}

std::string BadVerb(const Spec& spec, const Value& v) {
  if (v.is_missing()) return std::string("%!") + spec.verb + "(<nil>)";
  return std::string("%!") + spec.verb + "(" + v.TypeName() + "=" + FormatValue(v, false) + ")";
}

std::string FormatInteger(int64_t value, const Spec& spec) {
  int base = 10;
  bool upper = false;
  switch (spec.verb) {
    case 'x':
      base = 16;
      break;
    case 'X':
      base = 16, upper = true;
      break;
    case 'o':
    case 'O':
      base = 8;
      break;
    case 'b':
      base = 2;
      break;
    default:
      break;
  }
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::string digits;
  do {
    int d = static_cast<int>(magnitude % static_cast<uint64_t>(base));
    digits.insert(digits.begin(),
                  static_cast<char>(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10));
    magnitude /= static_cast<uint64_t>(base);
  } while (magnitude > 0);
  if (spec.precision >= 0 && digits.size() < static_cast<size_t>(spec.precision)) {
    digits.insert(0, static_cast<size_t>(spec.precision) - digits.size(), '0');
  }
  if (spec.precision == 0 && value == 0) digits.clear();
  std::string prefix;
  if (spec.sharp && base == 16) prefix = upper ? "0X" : "0x";
  if (spec.sharp && base == 8 && digits[0] != '0') prefix = "0";
  if (spec.verb == 'O') prefix = "0o";
  std::string sign = value < 0 ? "-" : spec.plus ? "+" : spec.space ? " " : "";
  return sign + prefix + digits;
}

std::string FormatFloat(double value, const Spec& spec) {
  std::string out;
  if (std::isnan(value)) {
    out = "NaN";
  } else if (std::isinf(value)) {
    out = value > 0 ? "+Inf" : "-Inf";
  } else if ((spec.verb == 'v' || spec.verb == 'g' || spec.verb == 'G') && spec.precision < 0) {
    out = FormatFloatShortest(value);
    if (spec.verb == 'G') {
      for (char& c : out) c = c == 'e' ? 'E' : c;
    }
  } else {
    char verb = spec.verb == 'v' ? 'g' : spec.verb == 'F' ? 'f' : spec.verb;
    int precision = spec.precision < 0 ? 6 : spec.precision;
    char fmt[8] = {'%', '.', '*', verb, 0};
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, precision, value);
    out = buf;
  }
  if (out[0] != '-' && out[0] != '+' && spec.plus)
    out = "+" + out;
  else if (out[0] != '-' && out[0] != '+' && spec.space)
    out = " " + out;
  return out;
}

// One operand under one verb; arrays and maps apply the verb to each element, like fmt.
std::string FormatOperand(const Value& v, const Spec& spec) {
  char verb = spec.verb;
  switch (v.kind()) {
    case Value::Kind::kInvalid:
    case Value::Kind::kNil:
      return verb == 'v' ? Pad("<nil>", spec, false) : BadVerb(spec, v);
    case Value::Kind::kBool:
      if (verb != 'v' && verb != 't') return BadVerb(spec, v);
      return Pad(v.as_bool() ? "true" : "false", spec, false);
    case Value::Kind::kInt:
      switch (verb) {
        case 'v':
        case 'd':
        case 'x':
        case 'X':
        case 'o':
        case 'O':
        case 'b':
          return Pad(FormatInteger(v.as_int(), spec), spec, true);
        case 'c': {
          std::string s;
          AppendUtf8(static_cast<uint32_t>(v.as_int()), &s);
          return Pad(s, spec, false);
        }
        case 'q': {
          std::string s;
          AppendUtf8(static_cast<uint32_t>(v.as_int()), &s);
          std::string quoted = GoQuote(s);
          return Pad("'" + quoted.substr(1, quoted.size() - 2) + "'", spec, false);
        }
        default:
          return BadVerb(spec, v);
      }
    case Value::Kind::kFloat:
      switch (verb) {
        case 'v':
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
          return Pad(FormatFloat(v.as_float(), spec), spec, true);
        default:
          return BadVerb(spec, v);
      }
    case Value::Kind::kString: {
      std::string s = v.as_string();
      switch (verb) {
        case 'v':
        case 's':
          if (spec.precision >= 0) {
            size_t i = 0;
            for (int r = 0; r < spec.precision && i < s.size(); ++r) {
              uint32_t cp = 0;
              size_t n = Utf8SequenceLength(s, i, &cp);
              i += n == 0 ? 1 : n;
            }
            s.resize(i);
          }
          return Pad(s, spec, false);
        case 'q':
          return Pad(GoQuote(s), spec, false);
        case 'x':
        case 'X': {
          std::string out;
          char buf[4];
          for (unsigned char c : s) {
            std::snprintf(buf, sizeof buf, verb == 'x' ? "%02x" : "%02X", c);
            out += buf;
          }
          return Pad(out, spec, false);
        }
        default:
          return BadVerb(spec, v);
      }
    }
    case Value::Kind::kArray:
    case Value::Kind::kObject: {
      Spec inner = spec;
      inner.width = -1;
      std::string out = v.kind() == Value::Kind::kArray ? "[" : "map[";
      bool first = true;
      for (const auto& item : v.json().items()) {
        if (!first) out += " ";
        first = false;
        if (v.kind() == Value::Kind::kObject) out += item.key() + ":";
        out += FormatOperand(v.Child(item.value()), inner);
      }
      return Pad(out + "]", spec, false);
    }
  }
  return "";
}

}  // namespace

std::string GoSprint(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && !IsPrintableAsIs(args[i]) && !IsPrintableAsIs(args[i - 1])) out += " ";
    out += FormatValue(args[i], /*top_level=*/true);
  }
  return out;
}

std::string GoSprintln(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += " ";
    out += FormatValue(args[i], /*top_level=*/true);
  }
  return out + "\n";
}

std::string GoSprintf(std::string_view format, const std::vector<Value>& args) {
  std::string out;
  size_t next_arg = 0;
  for (size_t i = 0; i < format.size();) {
    if (format[i] != '%') {
      out.push_back(format[i++]);
      continue;
    }
    ++i;
    Spec spec;
    for (; i < format.size(); ++i) {
      char c = format[i];
      if (c == '-')
        spec.minus = true, spec.zero = false;
      else if (c == '+')
        spec.plus = true;
      else if (c == '#')
        spec.sharp = true;
      else if (c == ' ')
        spec.space = true;
      else if (c == '0')
        spec.zero = !spec.minus;
      else
        break;
    }
    auto read_number = [&](int* target) {
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (next_arg < args.size() && args[next_arg].kind() == Value::Kind::kInt) {
          int64_t n = args[next_arg++].as_int();
          *target = static_cast<int>(std::min<int64_t>(std::abs(n), 1000000));
          if (n < 0 && target == &spec.width) spec.minus = true;
        } else {
          ++next_arg;
          out += "%!(BADWIDTH)";
        }
        return;
      }
      int n = -1;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        n = (n < 0 ? 0 : n) * 10 + (format[i++] - '0');
        if (n > 1000000) n = 1000000;  // Go caps widths at 1e6 too
      }
      *target = n;
    };
    read_number(&spec.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      read_number(&spec.precision);
      if (spec.precision < 0) spec.precision = 0;
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    // The verb is one rune.
    uint32_t cp = 0;
    size_t n = Utf8SequenceLength(format, i, &cp);
    if (n == 0) n = 1;
    std::string verb_text(format.substr(i, n));
    i += n;
    if (verb_text == "%") {
      out += "%";
      continue;
    }
    if (next_arg >= args.size()) {
      out += "%!" + verb_text + "(MISSING)";
      continue;
    }
    const Value& arg = args[next_arg++];
    if (n != 1 ||
        std::string_view("vsdqfFeEgGtxXcobO").find(verb_text[0]) == std::string_view::npos) {
      out += "%!" + verb_text + "(" +
             (arg.is_missing() ? "<nil>" : arg.TypeName() + "=" + FormatValue(arg, false)) + ")";
      continue;
    }
    spec.verb = verb_text[0];
    out += FormatOperand(arg, spec);
  }
  if (next_arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next_arg; k < args.size(); ++k) {
      if (k > next_arg) out += ", ";
      out +=
          args[k].is_missing() ? "<nil>" : args[k].TypeName() + "=" + FormatValue(args[k], false);
    }
    out += ")";
  }
  return out;
}

namespace {

// encoding/json's float format: shortest digits, %e only outside [1e-6, 1e21).
std::string JsonFloat(double f) {
  if (!std::isfinite(f)) return "null";  // Go errors here; json's result is then ""
  double magnitude = std::fabs(f);
  if (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21)) {
    std::string s = FormatFloatShortest(f);  // already %e form at these magnitudes
    size_t e = s.find("e-0");
    if (e != std::string::npos && e + 4 == s.size()) s.erase(e + 2, 1);
    return s;
  }
  if (magnitude == 0) return std::signbit(f) ? "-0" : "0";
  return FormatFloatShortestAs(f, false);
}

void JsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = Utf8SequenceLength(s, i, &cp);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    i += n;
    switch (cp) {
      case '"':
        *out += "\\\"";
        continue;
      case '\\':
        *out += "\\\\";
        continue;
      case '\n':
        *out += "\\n";
        continue;
      case '\r':
        *out += "\\r";
        continue;
      case '\t':
        *out += "\\t";
        continue;
      case '\b':
        *out += "\\b";
        continue;
      case '\f':
        *out += "\\f";
        continue;
      default:
        break;
    }
    if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029) {
      *out += "\\u" + Hex4(cp, false);
    } else {
      AppendUtf8(cp, out);
    }
  }
  out->push_back('"');
}

void JsonValue(const nlohmann::json& value, std::string* out) {
  // A Go value with its own marshalling (ExecOptions::go_strings) prints as that text.
  if (value.is_structured()) {
    if (const std::string* text = GoStringOf(value)) {
      *out += *text;
      return;
    }
  }
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      *out += "null";
      break;
    case nlohmann::json::value_t::boolean:
      *out += value.get<bool>() ? "true" : "false";
      break;
    case nlohmann::json::value_t::number_integer:
      *out += std::to_string(value.get<int64_t>());
      break;
    case nlohmann::json::value_t::number_unsigned:
      *out += std::to_string(value.get<uint64_t>());
      break;
    case nlohmann::json::value_t::number_float:
      *out += JsonFloat(value.get<double>());
      break;
    case nlohmann::json::value_t::string:
      JsonString(value.get_ref<const std::string&>(), out);
      break;
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& element : value) {
        if (!first) out->push_back(',');
        first = false;
        JsonValue(element, out);
      }
      out->push_back(']');
      break;
    }
    case nlohmann::json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& item : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        JsonString(item.key(), out);
        out->push_back(':');
        JsonValue(item.value(), out);
      }
      out->push_back('}');
      break;
    }
    default:
      *out += "null";
      break;
  }
}

}  // namespace

std::string GoJsonMarshal(const nlohmann::json& value) {
  std::string out;
  JsonValue(value, &out);
  return out;
}

std::string GoHtmlEscape(std::string_view s) { return HtmlEscape(s); }

std::string GoJsEscape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      uint32_t cp = 0;
      size_t n = Utf8SequenceLength(s, i, &cp);
      if (n == 0) {
        out += "\\uFFFD";
        ++i;
      } else {
        out.append(s.substr(i, n));  // printable runes pass; exotic non-printables are rare
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\x3C";
        break;
      case '>':
        out += "\\x3E";
        break;
      default:
        if (c < ' ') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u00%02X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

std::string GoUrlQueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace corral::tmpl
