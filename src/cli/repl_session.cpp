#include "cli/repl_session.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "base/strings.h"
#include "cli/client_common.h"
#include "cli/format.h"
#include "cli/run_output.h"
#include "modelfile/options.h"

namespace corral::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kTripleQuote = R"(""")";
// Ollama refuses image files above this size.
constexpr uint64_t kMaxImageBytes = 100ull * 1024 * 1024;

bool IsGoSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool CutPrefix(std::string& s, std::string_view prefix) {
  if (!StartsWith(s, prefix)) return false;
  s.erase(0, prefix.size());
  return true;
}

bool CutSuffix(std::string& s, std::string_view suffix) {
  if (!EndsWith(s, suffix)) return false;
  s.erase(s.size() - suffix.size());
  return true;
}

std::string Join(const std::vector<std::string>& parts, size_t from, std::string_view sep) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) {
    if (i > from) out += sep;
    out += parts[i];
  }
  return out;
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string ReplUsage(bool multimodal) {
  std::string text =
      "Available Commands:\n"
      "  /set            Set session variables\n"
      "  /show           Show model information\n"
      "  /load <model>   Load a session or model\n"
      "  /save <model>   Save your current session\n"
      "  /clear          Clear session context\n"
      "  /bye            Exit\n"
      "  /?, /help       Help for a command\n"
      "  /? shortcuts    Help for keyboard shortcuts\n"
      "\n"
      "Use \"\"\" to begin a multi-line message.\n";
  if (multimodal) text += "Use /path/to/file to include .jpg, .png, or .webp images.\n";
  return text + "\n";
}

std::string ReplUsageSet() {
  return "Available Commands:\n"
         "  /set parameter ...     Set a parameter\n"
         "  /set system <string>   Set system message\n"
         "  /set history           Enable history\n"
         "  /set nohistory         Disable history\n"
         "  /set wordwrap          Enable wordwrap\n"
         "  /set nowordwrap        Disable wordwrap\n"
         "  /set format json       Enable JSON mode\n"
         "  /set noformat          Disable formatting\n"
         "  /set verbose           Show LLM stats\n"
         "  /set quiet             Disable LLM stats\n"
         "  /set think             Enable thinking\n"
         "  /set nothink           Disable thinking\n"
         "\n";
}

std::string ReplUsageShortcuts() {
  // Ollama's list, less Ctrl + g (no external editor here).
  return "Available keyboard shortcuts:\n"
         "  Ctrl + a            Move to the beginning of the line (Home)\n"
         "  Ctrl + e            Move to the end of the line (End)\n"
         "   Alt + b            Move back (left) one word\n"
         "   Alt + f            Move forward (right) one word\n"
         "  Ctrl + k            Delete the sentence after the cursor\n"
         "  Ctrl + u            Delete the sentence before the cursor\n"
         "  Ctrl + w            Delete the word before the cursor\n"
         "\n"
         "  Ctrl + l            Clear the screen\n"
         "  Ctrl + c            Stop the model from responding\n"
         "  Ctrl + d            Exit corral (/bye)\n"
         "\n";
}

std::string ReplUsageShow() {
  return "Available Commands:\n"
         "  /show info         Show details for this model\n"
         "  /show license      Show model license\n"
         "  /show modelfile    Show Modelfile for this model\n"
         "  /show parameters   Show parameters for this model\n"
         "  /show system       Show system message\n"
         "  /show template     Show prompt template\n"
         "\n";
}

std::string ReplUsageParameters() {
  return "Available Parameters:\n"
         "  /set parameter seed <int>             Random number seed\n"
         "  /set parameter num_predict <int>      Max number of tokens to predict\n"
         "  /set parameter top_k <int>            Pick from top k num of tokens\n"
         "  /set parameter top_p <float>          Pick token based on sum of probabilities\n"
         "  /set parameter min_p <float>          Pick token based on top token probability * "
         "min_p\n"
         "  /set parameter num_ctx <int>          Set the context size\n"
         "  /set parameter temperature <float>    Set creativity level\n"
         "  /set parameter repeat_penalty <float> How strongly to penalize repetitions\n"
         "  /set parameter repeat_last_n <int>    Set how far back to look for repetitions\n"
         "  /set parameter num_gpu <int>          The number of layers to send to the GPU\n"
         "  /set parameter stop <string> <string> ...   Set the stop parameters\n"
         "\n";
}

std::vector<std::string> SplitFields(std::string_view line) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsGoSpace(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !IsGoSpace(line[i])) ++i;
    if (i > start) fields.emplace_back(line.substr(start, i - start));
  }
  return fields;
}

Result<json> ParseSetParameter(const std::string& name, const std::vector<std::string>& values) {
  if (values.empty()) return InvalidArgumentError("missing value for parameter '" + name + "'");
  if (name == "stop") {
    json all = json::array();
    for (const std::string& v : values) all.push_back(v);
    return all;
  }
  return modelfile::ParseParameter(name, values[0]);
}

std::string GoValueString(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return value.dump();
    case json::value_t::number_float:
      return GoFloat32Json(value.get<float>());
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) out += (i ? " " : "") + GoValueString(value[i]);
      return out + "]";
    }
    default:
      return value.dump();
  }
}

std::string GoQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::vector<std::string> FindImagePaths(std::string_view text) {
  const size_t n = text.size();
  // Characters a path may hold: anything but whitespace other than a plain space (Ollama's
  // [\S\\ ]). next_break[i]: the first position >= i that may not.
  std::vector<size_t> next_break(n + 1, n);
  for (size_t i = n; i-- > 0;) {
    next_break[i] = (IsGoSpace(text[i]) && text[i] != ' ') ? i : next_break[i + 1];
  }
  // ext_len[i]: the length of ".jpg"/".jpeg"/".png"/".webp" (any case) starting at i and
  // ending at a word boundary, else 0; next_ext[i]: the first position >= i with one.
  auto ext_at = [&](size_t i) -> size_t {
    if (text[i] != '.') return 0;
    for (std::string_view ext : {"jpg", "jpeg", "png", "webp"}) {
      if (i + 1 + ext.size() > n) continue;
      if (ToLower(text.substr(i + 1, ext.size())) != ext) continue;
      const size_t end = i + 1 + ext.size();
      if (end < n && IsWordChar(text[end])) continue;
      return ext.size() + 1;
    }
    return 0;
  };
  std::vector<size_t> ext_len(n + 1, 0), next_ext(n + 2, n);
  for (size_t i = n; i-- > 0;) {
    ext_len[i] = ext_at(i);
    next_ext[i] = ext_len[i] ? i : next_ext[i + 1];
  }
  std::vector<std::string> paths;
  size_t i = 0;
  while (i < n) {
    // The prefix: an optional drive letter, then "./", "/" or "\".
    auto body_after_prefix = [&](size_t at) -> size_t {
      if (at + 1 < n && text[at] == '.' && text[at + 1] == '/') return at + 2;
      if (at < n && (text[at] == '/' || text[at] == '\\')) return at + 1;
      return std::string_view::npos;
    };
    size_t body = std::string_view::npos;
    if (i + 1 < n && std::isalpha(static_cast<unsigned char>(text[i])) && text[i + 1] == ':') {
      body = body_after_prefix(i + 2);
    }
    if (body == std::string_view::npos) body = body_after_prefix(i);
    // At least one path character before the extension's dot, none of them a break.
    if (body != std::string_view::npos && body < n) {
      const size_t dot = next_ext[body + 1 <= n ? body + 1 : n];
      if (dot < n && next_break[body] > dot) {
        const size_t end = dot + ext_len[dot];
        paths.emplace_back(text.substr(i, end - i));
        i = end;
        continue;
      }
    }
    ++i;
  }
  return paths;
}

std::string UnescapeFilePath(std::string_view path) {
  std::string out(path);
  ReplaceAll(out, "'\\''", "'");  // a shell-escaped single quote
  std::string result;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\\' && i + 1 < out.size() &&
        std::string_view(" ()[]{}$&;'\\*?~").find(out[i + 1]) != std::string_view::npos) {
      result += out[++i];
    } else {
      result += out[i];
    }
  }
  return result;
}

bool LooksLikeImage(std::string_view bytes) {
  if (StartsWith(bytes, "\xFF\xD8\xFF")) return true;                            // JPEG
  if (StartsWith(bytes, std::string_view("\x89PNG\r\n\x1A\n", 8))) return true;  // PNG
  return bytes.size() >= 14 && StartsWith(bytes, "RIFF") && bytes.substr(8, 6) == "WEBPVP";
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

ReplSession::ReplSession(ReplState state, ReplBackend& backend, std::ostream& out,
                         std::ostream& err)
    : state_(std::move(state)), backend_(backend), out_(out), err_(err) {}

void ReplSession::Interrupt() {
  buffer_.clear();
  multiline_ = Multiline::kNone;
}

LineOutcome ReplSession::HandleLine(std::string_view raw) {
  std::string line(raw);
  if (multiline_ != Multiline::kNone) {
    // Inside """ input: a line ending in """ closes it.
    const bool closed = CutSuffix(line, kTripleQuote);
    buffer_ += line;
    if (!closed) {
      buffer_ += "\n";
      return LineOutcome::kContinue;
    }
    const Multiline kind = multiline_;
    multiline_ = Multiline::kNone;
    if (kind == Multiline::kSystem) {
      state_.system = buffer_;
      ReplaceSystemMessage(buffer_);
      out_ << "Set system message.\n";
      buffer_.clear();
      return LineOutcome::kReady;
    }
  } else if (StartsWith(line, kTripleQuote)) {
    line.erase(0, kTripleQuote.size());
    const bool closed = CutSuffix(line, kTripleQuote);
    buffer_ += line;
    if (!closed) {
      buffer_ += "\n";
      multiline_ = Multiline::kPrompt;
      return LineOutcome::kContinue;
    }
  } else if (StartsWith(line, "/")) {
    const std::vector<std::string> args = SplitFields(line);
    LineOutcome outcome = Command(line, args);
    if (outcome != LineOutcome::kReady || buffer_.empty()) return outcome;
  } else {
    buffer_ += line;
  }
  if (!buffer_.empty() && multiline_ == Multiline::kNone) Submit();
  return LineOutcome::kReady;
}

LineOutcome ReplSession::Command(std::string_view line, const std::vector<std::string>& args) {
  // Ollama matches commands by prefix, in this order ("/showx" is /show).
  if (StartsWith(line, "/list")) {
    Result<json> tags = backend_.List();
    if (!tags.ok()) {
      err_ << "Error: " << tags.status().message() << "\n";
    } else {
      out_ << FormatModelList(*tags, args.size() > 1 ? args[1] : "",
                              std::chrono::system_clock::now());
    }
  } else if (StartsWith(line, "/load")) {
    LoadCommand(args);
  } else if (StartsWith(line, "/save")) {
    SaveCommand(args);
  } else if (StartsWith(line, "/clear")) {
    state_.messages = json::array();
    if (!state_.system.empty()) {
      state_.messages.push_back({{"role", "system"}, {"content", state_.system}});
    }
    out_ << "Cleared session context\n";
  } else if (StartsWith(line, "/set")) {
    if (args.size() > 2 && args[1] == "system") return SetSystem(args);
    SetCommand(args);
  } else if (StartsWith(line, "/show")) {
    ShowCommand(args);
  } else if (StartsWith(line, "/help") || StartsWith(line, "/?")) {
    if (args.size() > 1) {
      const std::string& topic = args[1];
      if (topic == "set" || topic == "/set") {
        err_ << ReplUsageSet();
      } else if (topic == "show" || topic == "/show") {
        err_ << ReplUsageShow();
      } else if (topic == "shortcut" || topic == "shortcuts") {
        err_ << ReplUsageShortcuts();
      }
    } else {
      err_ << ReplUsage(state_.multimodal);
    }
  } else if (StartsWith(line, "/exit") || StartsWith(line, "/bye")) {
    return LineOutcome::kExit;
  } else {
    // An image path typed first is a prompt, not a command.
    bool is_file = false;
    if (state_.multimodal && !args.empty()) {
      for (const std::string& path : FindImagePaths(line)) {
        if (StartsWith(path, args[0])) is_file = true;
      }
    }
    if (!is_file) {
      out_ << "Unknown command '" << (args.empty() ? std::string("/") : args[0])
           << "'. Type /? for help\n";
      return LineOutcome::kReady;
    }
    buffer_ += line;
  }
  return LineOutcome::kReady;
}

void ReplSession::SetCommand(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    err_ << ReplUsageSet();
    return;
  }
  const std::string& what = args[1];
  if (what == "history") {
    backend_.SetHistoryEnabled(true);
  } else if (what == "nohistory") {
    backend_.SetHistoryEnabled(false);
  } else if (what == "wordwrap") {
    state_.word_wrap = true;
    out_ << "Set 'wordwrap' mode.\n";
  } else if (what == "nowordwrap") {
    state_.word_wrap = false;
    out_ << "Set 'nowordwrap' mode.\n";
  } else if (what == "verbose") {
    state_.verbose = true;
    out_ << "Set 'verbose' mode.\n";
  } else if (what == "quiet") {
    state_.verbose = false;
    out_ << "Set 'quiet' mode.\n";
  } else if (what == "think") {
    // The level is checked by the server on the next turn (as Ollama leaves it).
    const std::string level = args.size() > 2 ? args[2] : "";
    state_.think = level.empty() ? json(true) : json(level);
    state_.think_explicit = true;
    WarnIfNoThinking();
    if (!level.empty()) {
      out_ << "Set 'think' mode to '" << level << "'.\n";
    } else {
      out_ << "Set 'think' mode.\n";
    }
  } else if (what == "nothink") {
    state_.think = json(false);
    state_.think_explicit = true;
    WarnIfNoThinking();
    out_ << "Set 'nothink' mode.\n";
  } else if (what == "format") {
    if (args.size() < 3 || args[2] != "json") {
      out_ << "Invalid or missing format. For 'json' mode use '/set format json'\n";
    } else {
      state_.format = args[2];
      out_ << "Set format to '" << args[2] << "' mode.\n";
    }
  } else if (what == "noformat") {
    state_.format.clear();
    out_ << "Disabled format.\n";
  } else if (what == "parameter") {
    if (args.size() < 4) {
      err_ << ReplUsageParameters();
      return;
    }
    std::vector<std::string> values(args.begin() + 3, args.end());
    Result<json> value = ParseSetParameter(args[2], values);
    if (!value.ok()) {
      out_ << "Couldn't set parameter: " << GoQuote(value.status().message()) << "\n";
      return;
    }
    out_ << "Set parameter '" << args[2] << "' to '" << Join(values, 0, ", ") << "'\n";
    state_.options[args[2]] = *value;
  } else if (what == "system") {
    err_ << ReplUsageSet();  // "/set system" without text
  } else {
    out_ << "Unknown command '/set " << what << "'. Type /? for help\n";
  }
}

LineOutcome ReplSession::SetSystem(const std::vector<std::string>& args) {
  std::string text = Join(args, 2, " ");
  if (CutPrefix(text, kTripleQuote) && !CutSuffix(text, kTripleQuote)) {
    // """ multi-line system message; the first line keeps its line break (Ollama drops it).
    buffer_ = text.empty() ? std::string() : text + "\n";
    multiline_ = Multiline::kSystem;
    return LineOutcome::kContinue;
  }
  state_.system = text;
  ReplaceSystemMessage(text);
  out_ << "Set system message.\n";
  return LineOutcome::kReady;
}

void ReplSession::ReplaceSystemMessage(const std::string& text) {
  json message = {{"role", "system"}, {"content", text}};
  if (!state_.messages.empty() && state_.messages.back().value("role", "") == "system") {
    state_.messages.back() = std::move(message);
  } else {
    state_.messages.push_back(std::move(message));
  }
}

void ReplSession::WarnIfNoThinking() {
  Result<json> show = backend_.Show({{"model", state_.model}});
  if (show.ok() && !HasCapability(*show, "thinking")) {
    err_ << "warning: model " << GoQuote(state_.model) << " does not support thinking output\n";
  }
}

void ReplSession::ShowCommand(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    err_ << ReplUsageShow();
    return;
  }
  json request = {{"model", state_.model}};
  if (!state_.system.empty()) request["system"] = state_.system;
  if (!state_.options.empty()) request["options"] = state_.options;
  Result<json> show = backend_.Show(request);
  if (!show.ok()) {
    out_ << "error: couldn't get model\n";
    err_ << "Error: " << show.status().message() << "\n";
    return;
  }
  auto text = [&](const char* key) { return JsonString(*show, key); };
  const std::string& what = args[1];
  if (what == "info") {
    err_ << FormatShowInfo(*show, /*verbose=*/false);
  } else if (what == "license") {
    const std::string license = text("license");
    out_ << (license.empty() ? "No license was specified for this model." : license) << "\n";
  } else if (what == "modelfile") {
    out_ << text("modelfile") << "\n";
  } else if (what == "parameters") {
    out_ << "Model defined parameters:\n";
    const std::string params = text("parameters");
    if (params.empty()) {
      out_ << "  No additional parameters were specified for this model.\n";
    } else {
      for (const std::string& l : Split(params, '\n')) out_ << "  " << l << "\n";
    }
    out_ << "\n";
    if (!state_.options.empty()) {
      out_ << "User defined parameters:\n";
      for (auto it = state_.options.begin(); it != state_.options.end(); ++it) {
        std::string key = it.key();
        key.resize(std::max<size_t>(key.size(), 30), ' ');  // Go's %-30s
        out_ << "  " << key << " " << GoValueString(*it) << "\n";
      }
      out_ << "\n";
    }
  } else if (what == "system") {
    if (!state_.system.empty()) {
      out_ << state_.system << "\n\n";
    } else if (const std::string system = text("system"); !system.empty()) {
      out_ << system << "\n\n";
    } else {
      out_ << "No system message was specified for this model.\n";
    }
  } else if (what == "template") {
    const std::string tmpl = text("template");
    out_ << (tmpl.empty() ? "No prompt template was specified for this model." : tmpl) << "\n";
  } else {
    out_ << "Unknown command '/show " << what << "'. Type /? for help\n";
  }
}

void ReplSession::LoadCommand(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    out_ << "Usage:\n  /load <modelname>\n";
    return;
  }
  const std::string& model = args[1];
  out_ << "Loading model '" << model << "'\n";
  Result<json> show = backend_.Show({{"model", model}});
  if (!show.ok()) {
    if (show.status().code() == StatusCode::kNotFound) {
      out_ << "Couldn't find model '" << model << "'\n";
    } else {
      err_ << "Error: " << show.status().message() << "\n";
    }
    return;
  }
  std::optional<json> think = state_.think;
  if (!state_.think_explicit) {
    think.reset();
    if (HasCapability(*show, "thinking")) think = json(true);
  }
  json load = {{"model", model}};
  if (state_.keep_alive) load["keep_alive"] = *state_.keep_alive;
  if (think) load["think"] = *think;
  if (Status loaded = backend_.Load(load); !loaded.ok()) {
    if (loaded.code() == StatusCode::kNotFound) {
      out_ << "Couldn't find model '" << model << "'\n";
    } else {
      out_ << "error: " << loaded.message() << "\n";
    }
    return;
  }
  state_.model = model;
  state_.think = think;
  state_.messages = json::array();
  state_.multimodal = IsMultimodal(*show);
  state_.parent_model.clear();
  if (auto d = show->find("details"); d != show->end() && d->is_object()) {
    state_.parent_model = JsonString(*d, "parent_model");
  }
}

void ReplSession::SaveCommand(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    out_ << "Usage:\n  /save <modelname>\n";
    return;
  }
  // FROM the model this one derives from (Ollama's NewCreateRequest), when the server has it:
  // a parent that is a file name or was deleted would make the create fail.
  std::string from = state_.model;
  if (!state_.parent_model.empty() && backend_.Show({{"model", state_.parent_model}}).ok()) {
    from = state_.parent_model;
  }
  json request = {{"model", args[1]}, {"from", from}};
  if (!state_.system.empty()) request["system"] = state_.system;
  if (!state_.options.empty()) request["parameters"] = state_.options;
  if (!state_.messages.empty()) request["messages"] = state_.messages;
  Status created = backend_.Create(request);
  if (!created.ok()) {
    if (created.message().find("invalid model name") != std::string::npos) {
      out_ << "error: The model name '" << args[1] << "' is invalid\n";
    } else {
      err_ << "Error: " << created.message() << "\n";
    }
    return;
  }
  out_ << "Created new model '" << args[1] << "'\n";
}

Result<PromptImages> ExtractImages(std::string_view text, const FileReader& read,
                                   std::ostream& err) {
  PromptImages out;
  out.text = std::string(text);
  for (const std::string& path : FindImagePaths(text)) {
    const std::string unescaped = UnescapeFilePath(path);
    Result<std::string> bytes = read(unescaped);
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) continue;
    Status problem;
    if (!bytes.ok()) {
      problem = bytes.status();
    } else if (!LooksLikeImage(*bytes)) {
      problem = InvalidArgumentError("invalid image type: " + unescaped);
    } else if (bytes->size() > kMaxImageBytes) {
      problem = InvalidArgumentError("file size exceeds maximum limit (100MB)");
    }
    if (!problem.ok()) {
      err << "Couldn't process image: " << GoQuote(problem.message()) << "\n";
      return problem;
    }
    err << "Added image '" << unescaped << "'\n";
    ReplaceAll(out.text, "'" + unescaped + "'", "");
    ReplaceAll(out.text, "'" + path + "'", "");
    ReplaceAll(out.text, path, "");
    out.images.push_back(Base64Encode(*bytes));
  }
  out.text = std::string(TrimSpace(out.text));
  return out;
}

Result<std::string> ReadLocalFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError("open " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("open " + path + ": cannot read the file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void ReplSession::Submit() {
  json message = {{"role", "user"}, {"content", buffer_}};
  if (state_.multimodal) {
    // Image paths that exist become attachments and leave the text.
    Result<PromptImages> extracted = ExtractImages(
        buffer_, [this](const std::string& path) { return backend_.ReadFile(path); }, err_);
    if (!extracted.ok()) {
      buffer_.clear();
      return;
    }
    message["content"] = extracted->text;
    if (!extracted->images.empty()) message["images"] = std::move(extracted->images);
  }
  buffer_.clear();
  state_.messages.push_back(std::move(message));

  json request = {{"model", state_.model}, {"messages", state_.messages}};
  if (!state_.format.empty()) request["format"] = FormatValue(state_.format);
  if (!state_.options.empty()) request["options"] = state_.options;
  if (state_.think) request["think"] = *state_.think;
  if (state_.keep_alive) request["keep_alive"] = *state_.keep_alive;
  Result<std::optional<json>> reply =
      backend_.Chat(request, ChatView{state_.word_wrap, state_.hide_thinking, state_.verbose});
  if (!reply.ok()) {
    // The turn did not happen: the question leaves the history too.
    state_.messages.erase(state_.messages.end() - 1);
    const std::string& message_text = reply.status().message();
    if (message_text.find("does not support thinking") != std::string::npos ||
        message_text.find("invalid think value") != std::string::npos) {
      out_ << "error: " << message_text << "\n";
    } else {
      err_ << "Error: " << message_text << "\n";
    }
    return;
  }
  if (*reply) state_.messages.push_back(std::move(**reply));
}

}  // namespace corral::cli
