#include "modelfile/modelfile.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "base/strings.h"
#include "modelfile/options.h"

namespace corral::modelfile {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

const char kInvalidCommand[] =
    "command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", "
    "\"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or \"requires\"";
const char kInvalidRole[] = "message role must be one of \"system\", \"user\", or \"assistant\"";

// --- input decoding -----------------------------------------------------------------------------

// One code point per step; an invalid byte becomes U+FFFD and consumes one byte (Go's decoder).
std::vector<char32_t> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    int len = 0;
    char32_t cp = 0, min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

std::vector<char32_t> DecodeUtf16(std::string_view s, bool big_endian) {
  std::vector<char32_t> out;
  auto unit = [&](size_t i) -> char32_t {
    const auto a = static_cast<unsigned char>(s[i]), b = static_cast<unsigned char>(s[i + 1]);
    return big_endian ? static_cast<char32_t>(a << 8 | b) : static_cast<char32_t>(b << 8 | a);
  };
  size_t i = 0;
  while (i + 1 < s.size()) {
    char32_t u = unit(i);
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < s.size()) {
      char32_t lo = unit(i);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        out.push_back(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        i += 2;
        continue;
      }
    }
    out.push_back(u >= 0xD800 && u <= 0xDFFF ? kReplacement : u);
  }
  if (i < s.size()) out.push_back(kReplacement);  // a trailing odd byte
  return out;
}

// BOMOverride(UTF8 decoder): a BOM picks the encoding and is dropped.
std::vector<char32_t> DecodeInput(std::string_view text) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") return DecodeUtf8(text.substr(3));
  if (text.size() >= 2 && text.substr(0, 2) == "\xFE\xFF") return DecodeUtf16(text.substr(2), true);
  if (text.size() >= 2 && text.substr(0, 2) == "\xFF\xFE")
    return DecodeUtf16(text.substr(2), false);
  return DecodeUtf8(text);
}

// --- the state machine --------------------------------------------------------------------------

enum class State { kNil, kName, kValue, kParameter, kMessage, kComment };
enum class StepError { kNone, kInvalidCommand, kUnexpectedEof };

struct Step {
  State next;
  char32_t rune;  // what to append to the buffer; 0 for nothing
  StepError error = StepError::kNone;
};

bool IsAlpha(char32_t r) { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsNumber(char32_t r) { return r >= '0' && r <= '9'; }
bool IsSpace(char32_t r) { return r == ' ' || r == '\t'; }
bool IsNewline(char32_t r) { return r == '\r' || r == '\n'; }

Step StepRune(char32_t r, State state) {
  switch (state) {
    case State::kNil:
      if (r == '#') return {State::kComment, 0};
      if (IsSpace(r) || IsNewline(r)) return {State::kNil, 0};
      return {State::kName, r};
    case State::kName:
      if (IsAlpha(r)) return {State::kName, r};
      if (IsSpace(r)) return {State::kValue, 0};
      return {State::kNil, 0, StepError::kInvalidCommand};
    case State::kValue:
      // A line break or blank may end the value; the caller decides (see kValue below).
      if (IsNewline(r) || IsSpace(r)) return {State::kNil, r};
      return {State::kValue, r};
    case State::kParameter:
      if (IsAlpha(r) || IsNumber(r) || r == '_') return {State::kParameter, r};
      if (IsSpace(r)) return {State::kValue, 0};
      return {State::kNil, 0, StepError::kUnexpectedEof};
    case State::kMessage:
      if (IsAlpha(r)) return {State::kMessage, r};
      if (IsSpace(r)) return {State::kValue, 0};
      return {State::kNil, 0, StepError::kUnexpectedEof};
    case State::kComment:
      if (IsNewline(r)) return {State::kNil, 0};
      return {State::kComment, 0};
  }
  return {State::kNil, 0};
}

std::string_view TrimAsciiSpace(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Ollama's unquote: """x""" or "x" lose their quotes; an opened but unclosed quote is not a value
// yet; anything else is taken as is.
std::optional<std::string> Unquote(std::string_view s) {
  if (s.size() >= 3 && s.substr(0, 3) == "\"\"\"") {
    if (s.size() >= 6 && s.substr(s.size() - 3) == "\"\"\"") {
      return std::string(s.substr(3, s.size() - 6));
    }
    return std::nullopt;
  }
  if (!s.empty() && s[0] == '"') {
    if (s.size() >= 2 && s.back() == '"') return std::string(s.substr(1, s.size() - 2));
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<Instruction> InstructionFromName(std::string_view lower) {
  static const std::pair<const char*, Instruction> kNames[] = {
      {"from", Instruction::kFrom},           {"license", Instruction::kLicense},
      {"template", Instruction::kTemplate},   {"system", Instruction::kSystem},
      {"adapter", Instruction::kAdapter},     {"draft", Instruction::kDraft},
      {"renderer", Instruction::kRenderer},   {"parser", Instruction::kParser},
      {"parameter", Instruction::kParameter}, {"message", Instruction::kMessage},
      {"requires", Instruction::kRequires},
  };
  for (const auto& [name, instruction] : kNames) {
    if (lower == name) return instruction;
  }
  return std::nullopt;
}

bool IsValidRole(std::string_view role) {
  return role == "system" || role == "user" || role == "assistant";
}

Status LineError(int line, std::string_view message) {
  return InvalidArgumentError("(line " + std::to_string(line) + "): " + std::string(message));
}

// --- REQUIRES: golang.org/x/mod/semver.IsValid ---------------------------------------------------

bool SemverInt(std::string_view& v) {
  size_t i = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  if (i == 0 || (v[0] == '0' && i != 1)) return false;
  v.remove_prefix(i);
  return true;
}

bool SemverIdentChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

// "-a.b" (numeric identifiers without leading zeros) or "+a.b"; consumes what it accepts.
bool SemverSuffix(std::string_view& v, bool prerelease) {
  v.remove_prefix(1);  // '-' or '+'
  size_t i = 0, start = 0;
  while (true) {
    if (i == v.size() || v[i] == '.' || v[i] == '+') {
      if (i == start) return false;
      std::string_view ident = v.substr(start, i - start);
      bool numeric = true;
      for (char c : ident) numeric = numeric && c >= '0' && c <= '9';
      if (prerelease && numeric && ident.size() > 1 && ident[0] == '0') return false;
      if (i == v.size() || v[i] == '+') break;
      start = ++i;
      continue;
    }
    if (!SemverIdentChar(v[i])) return false;
    ++i;
  }
  if (!prerelease && i != v.size()) return false;
  v.remove_prefix(i);
  return true;
}

bool IsValidSemver(std::string_view v) {
  if (v.empty() || v[0] != 'v') return false;
  v.remove_prefix(1);
  if (!SemverInt(v)) return false;
  if (v.empty()) return true;  // v1
  if (v[0] != '.') return false;
  v.remove_prefix(1);
  if (!SemverInt(v)) return false;
  if (v.empty()) return true;  // v1.2
  if (v[0] != '.') return false;
  v.remove_prefix(1);
  if (!SemverInt(v)) return false;
  if (!v.empty() && v[0] == '-' && !SemverSuffix(v, true)) return false;
  if (!v.empty() && v[0] == '+' && !SemverSuffix(v, false)) return false;
  return v.empty();
}

// --- Go value formatting for /api/show ----------------------------------------------------------

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// fmt's %v (go_syntax false) or %#v (true) of a value json.Unmarshal put in a map[string]any.
std::string GoValue(const nlohmann::json& v, bool go_syntax) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      return go_syntax ? GoQuote(v.get_ref<const std::string&>()) : v.get<std::string>();
    case nlohmann::json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_integer:
      return GoFormatFloat(static_cast<double>(v.get<int64_t>()));
    case nlohmann::json::value_t::number_unsigned:
      return GoFormatFloat(static_cast<double>(v.get<uint64_t>()));
    case nlohmann::json::value_t::number_float:
      return GoFormatFloat(v.get<double>());
    case nlohmann::json::value_t::array: {
      std::string out = go_syntax ? "[]interface {}{" : "[";
      bool first = true;
      for (const nlohmann::json& item : v) {
        if (!first) out += go_syntax ? ", " : " ";
        first = false;
        out += GoValue(item, go_syntax);
      }
      return out + (go_syntax ? "}" : "]");
    }
    case nlohmann::json::value_t::object: {
      std::string out = go_syntax ? "map[string]interface {}{" : "map[";
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += go_syntax ? ", " : " ";
        first = false;
        out += (go_syntax ? GoQuote(key) : key) + ":" + GoValue(item, go_syntax);
      }
      return out + (go_syntax ? "}" : "]");
    }
    default:
      return "<nil>";  // null (and discarded values)
  }
}

// Calls fn(name, value) for each parameter line in key order, arrays expanded.
template <typename Fn>
void ForEachParameter(const nlohmann::json& parameters, Fn fn) {
  if (!parameters.is_object()) return;
  for (const auto& [key, value] : parameters.items()) {
    if (value.is_array()) {
      for (const nlohmann::json& item : value) fn(key, item);
    } else {
      fn(key, value);
    }
  }
}

}  // namespace

std::string_view InstructionKeyword(Instruction instruction) {
  switch (instruction) {
    case Instruction::kFrom:
      return "FROM";
    case Instruction::kAdapter:
      return "ADAPTER";
    case Instruction::kDraft:
      return "DRAFT";
    case Instruction::kTemplate:
      return "TEMPLATE";
    case Instruction::kSystem:
      return "SYSTEM";
    case Instruction::kLicense:
      return "LICENSE";
    case Instruction::kRenderer:
      return "RENDERER";
    case Instruction::kParser:
      return "PARSER";
    case Instruction::kRequires:
      return "REQUIRES";
    case Instruction::kMessage:
      return "MESSAGE";
    case Instruction::kParameter:
      return "PARAMETER";
  }
  return "";
}

Result<Modelfile> ParseModelfile(std::string_view text) {
  const std::vector<char32_t> runes = DecodeInput(text);
  Modelfile file;
  State state = State::kNil;
  int line = 1;
  std::string buffer;
  Command command;
  std::string role;

  for (char32_t r : runes) {
    if (IsNewline(r)) ++line;  // '\r' and '\n' both count, as in Ollama
    Step step = StepRune(r, state);
    if (step.error == StepError::kInvalidCommand) return LineError(line, kInvalidCommand);
    if (step.error == StepError::kUnexpectedEof) {
      return InvalidArgumentError("unexpected EOF: " + buffer);
    }
    State next = step.next;
    if (next != state) {
      switch (state) {
        case State::kName: {
          std::optional<Instruction> instruction = InstructionFromName(ToLower(buffer));
          if (!instruction) return LineError(line, kInvalidCommand);
          command.instruction = *instruction;
          command.name.clear();
          if (*instruction == Instruction::kParameter) next = State::kParameter;
          if (*instruction == Instruction::kMessage) next = State::kMessage;
          break;
        }
        case State::kParameter:
          command.name = buffer;
          break;
        case State::kMessage:
          if (!IsValidRole(buffer)) return LineError(line, kInvalidRole);
          role = buffer;
          break;
        case State::kValue: {
          std::optional<std::string> value = Unquote(TrimAsciiSpace(buffer));
          if (!value || IsSpace(r)) {
            // Not a complete value yet (an open quote), or a blank inside the value: keep it.
            AppendUtf8(r, &buffer);
            continue;
          }
          command.value = std::move(*value);
          if (command.instruction == Instruction::kMessage) {
            command.name = role;
            role.clear();
          }
          command.line = line;
          file.commands.push_back(command);
          break;
        }
        case State::kNil:
        case State::kComment:
          break;
      }
      buffer.clear();
      state = next;
    }
    if (step.rune != 0 && GoIsPrint(step.rune)) AppendUtf8(step.rune, &buffer);
  }

  switch (state) {
    case State::kNil:
    case State::kComment:
      break;
    case State::kValue: {
      std::optional<std::string> value = Unquote(TrimAsciiSpace(buffer));
      if (!value) return InvalidArgumentError("unexpected EOF");
      command.value = std::move(*value);
      if (command.instruction == Instruction::kMessage) command.name = role;
      command.line = line;
      file.commands.push_back(command);
      break;
    }
    default:
      return InvalidArgumentError("unexpected EOF");
  }

  for (const Command& c : file.commands) {
    if (c.instruction == Instruction::kFrom) return file;
  }
  return InvalidArgumentError("no FROM line");
}

std::string QuoteValue(std::string_view value) {
  const bool needs = value.find('\n') != std::string_view::npos ||
                     (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!needs) return std::string(value);
  if (value.find('"') != std::string_view::npos) return "\"\"\"" + std::string(value) + "\"\"\"";
  return "\"" + std::string(value) + "\"";
}

std::string FormatCommand(const Command& command) {
  switch (command.instruction) {
    case Instruction::kFrom:
      return "FROM " + command.value;
    case Instruction::kMessage:
      return "MESSAGE " + command.name + " " + QuoteValue(command.value);
    case Instruction::kParameter:
      return "PARAMETER " + command.name + " " + QuoteValue(command.value);
    default:
      return std::string(InstructionKeyword(command.instruction)) + " " + QuoteValue(command.value);
  }
}

std::string FormatCommands(const std::vector<Command>& commands) {
  std::string out;
  for (const Command& c : commands) out += FormatCommand(c) + "\n";
  return out;
}

Result<CreateRequest> ToCreateRequest(const Modelfile& modelfile,
                                      const LocalFileResolver& resolver) {
  CreateRequest request;
  nlohmann::json& body = request.body;
  body = nlohmann::json::object();
  std::map<std::string, std::string> files, draft_files, adapters;
  std::string from, template_text, system, renderer, parser, required_version;
  nlohmann::json licenses = nlohmann::json::array();
  nlohmann::json parameters = nlohmann::json::object();
  nlohmann::json messages = nlohmann::json::array();

  // ADAPTER and DRAFT must be local files.
  auto local_files = [&](const Command& c) -> Result<std::map<std::string, std::string>> {
    if (resolver) {
      ASSIGN_OR_RETURN(auto found, resolver(c.instruction, c.value));
      if (found) return std::move(*found);
    }
    return NotFoundError("stat " + c.value + ": no such file or directory");
  };

  for (const Command& c : modelfile.commands) {
    switch (c.instruction) {
      case Instruction::kFrom: {
        std::optional<std::map<std::string, std::string>> found;
        if (resolver) {
          ASSIGN_OR_RETURN(found, resolver(c.instruction, c.value));
        }
        if (!found) {
          from = c.value;
        } else {
          for (auto& [name, digest] : *found) files[name] = digest;
        }
        break;
      }
      case Instruction::kDraft: {
        ASSIGN_OR_RETURN(auto found, local_files(c));
        for (auto& [name, digest] : found) draft_files[name] = digest;
        break;
      }
      case Instruction::kAdapter: {
        ASSIGN_OR_RETURN(adapters, local_files(c));
        break;
      }
      case Instruction::kTemplate:
        template_text = c.value;
        break;
      case Instruction::kSystem:
        system = c.value;
        break;
      case Instruction::kLicense:
        licenses.push_back(c.value);
        break;
      case Instruction::kRenderer:
        renderer = c.value;
        break;
      case Instruction::kParser:
        parser = c.value;
        break;
      case Instruction::kRequires: {
        std::string version = StartsWith(c.value, "v") ? c.value : "v" + c.value;
        if (!IsValidSemver(version)) {
          return InvalidArgumentError("requires must be a valid semver (e.g. 0.14.0)");
        }
        required_version = version.substr(1);
        break;
      }
      case Instruction::kMessage:
        messages.push_back({{"role", c.name}, {"content", c.value}});
        break;
      case Instruction::kParameter: {
        if (IsDeprecatedParameter(c.name)) {
          request.warnings.push_back("warning: parameter " + c.name + " is deprecated");
          break;
        }
        ASSIGN_OR_RETURN(nlohmann::json value, ParseParameter(c.name, c.value));
        nlohmann::json& slot = parameters[c.name];
        if (slot.is_array() && value.is_array()) {
          for (nlohmann::json& item : value) slot.push_back(std::move(item));
        } else {
          slot = std::move(value);
        }
        break;
      }
    }
  }

  // Go's omitempty: empty strings, maps and lists are left out.
  if (!from.empty()) body["from"] = from;
  if (!files.empty()) body["files"] = files;
  if (!adapters.empty()) body["adapters"] = adapters;
  if (!draft_files.empty()) body["draft_files"] = draft_files;
  if (!template_text.empty()) body["template"] = template_text;
  if (!system.empty()) body["system"] = system;
  if (!licenses.empty()) body["license"] = licenses;
  if (!parameters.empty()) body["parameters"] = parameters;
  if (!messages.empty()) body["messages"] = messages;
  if (!renderer.empty()) body["renderer"] = renderer;
  if (!parser.empty()) body["parser"] = parser;
  if (!required_version.empty()) body["requires"] = required_version;
  return request;
}

std::string GoFormatFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";

  // Shortest round-trip digits and the decimal exponent, from "d.ddde±x".
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  if (ec != std::errc()) return "NaN";
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  if (sci[0] == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::from_chars(sci.data() + e_pos + (sci[e_pos + 1] == '+' ? 2 : 1), sci.data() + sci.size(),
                  exp10);
  const int nd = static_cast<int>(digits.size());
  const int dp = exp10 + 1;  // digits[0..dp) are the integer part

  // strconv 'g' with shortest digits: %e when exp < -4 or exp >= 6 (eprec is 6 for shortest).
  if (exp10 < -4 || exp10 >= 6) {
    out.push_back(digits[0]);
    if (nd > 1) out += "." + digits.substr(1);
    out.push_back('e');
    out.push_back(exp10 < 0 ? '-' : '+');
    const int a = exp10 < 0 ? -exp10 : exp10;
    if (a < 10) out.push_back('0');
    out += std::to_string(a);
    return out;
  }
  if (dp <= 0) {
    out += "0." + std::string(static_cast<size_t>(-dp), '0') + digits;
  } else if (dp >= nd) {
    out += digits + std::string(static_cast<size_t>(dp - nd), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(dp)) + "." + digits.substr(static_cast<size_t>(dp));
  }
  return out;
}

std::string FormatModelfile(const ShowModelfileInput& input) {
  std::vector<Command> commands;
  auto add = [&](Instruction instruction, std::string name, std::string value) {
    commands.push_back({instruction, std::move(name), std::move(value), 0});
  };
  add(Instruction::kFrom, "", input.model_path);
  for (const std::string& path : input.adapter_paths) add(Instruction::kAdapter, "", path);
  if (!input.draft_path.empty()) add(Instruction::kDraft, "", input.draft_path);
  for (const std::string& path : input.projector_paths) add(Instruction::kFrom, "", path);
  if (input.template_text) add(Instruction::kTemplate, "", *input.template_text);
  if (!input.system.empty()) add(Instruction::kSystem, "", input.system);
  if (!input.renderer.empty()) add(Instruction::kRenderer, "", input.renderer);
  if (!input.parser.empty()) add(Instruction::kParser, "", input.parser);
  ForEachParameter(input.parameters, [&](const std::string& key, const nlohmann::json& value) {
    add(Instruction::kParameter, key, GoValue(value, false));
  });
  for (const std::string& license : input.licenses) add(Instruction::kLicense, "", license);
  for (const ShowMessage& m : input.messages) add(Instruction::kMessage, m.role, m.content);

  return "# Modelfile generated by \"ollama show\"\n"
         "# To build a new Modelfile based on this, replace FROM with:\n"
         "# FROM " +
         input.short_name + "\n\n" + FormatCommands(commands);
}

std::string FormatParameters(const nlohmann::json& parameters) {
  std::string out;
  ForEachParameter(parameters, [&](const std::string& key, const nlohmann::json& value) {
    if (!out.empty()) out.push_back('\n');
    out += key;
    const size_t width = RuneCount(key);
    if (width < 30) out.append(30 - width, ' ');
    out += " " + GoValue(value, true);
  });
  return out;
}

}  // namespace corral::modelfile
