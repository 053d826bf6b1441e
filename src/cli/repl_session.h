// The command handling of the interactive `corral run MODEL` session (Ollama's
// generateInteractive): each line typed at ">>> " goes to ReplSession::HandleLine, which keeps the
// """ multi-line state, runs /set, /show, /load, /save, /clear, /list, /help and /bye, and sends
// prompts as chat turns. Everything that talks to the server or draws on the terminal goes
// through ReplBackend, so the whole command language is testable with a fake backend and string
// streams; run_interactive.cpp supplies the real one (ApiClient, spinner, libedit).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::cli {

// What the session knows and the user can change with /set and /load.
struct ReplState {
  std::string model;
  std::string parent_model;  // details.parent_model of /api/show: what /save builds FROM
  std::string system;        // set with /set system; "" = the model's own
  nlohmann::json messages = nlohmann::json::array();  // the chat history sent each turn
  nlohmann::json options = nlohmann::json::object();  // /set parameter values, typed
  std::string format;                                 // "" or "json"
  std::optional<nlohmann::json> think;  // true/false/"low"/"medium"/"high"; unset: server default
  bool think_explicit = false;          // --think or /set [no]think given: /load keeps it
  bool hide_thinking = false;
  std::optional<nlohmann::json> keep_alive;
  bool verbose = false;
  bool word_wrap = true;
  bool multimodal = false;  // the model has the "vision" capability: image paths become images
};

// How a chat reply is drawn.
struct ChatView {
  bool word_wrap = true;
  bool hide_thinking = false;
  bool verbose = false;
};

// The server and terminal side of the session.
class ReplBackend {
 public:
  virtual ~ReplBackend() = default;
  // POST /api/show with this body.
  virtual Result<nlohmann::json> Show(const nlohmann::json& request) = 0;
  // Loads the model: POST /api/generate {model, keep_alive?, think?} without a prompt, with a
  // spinner while it runs.
  virtual Status Load(const nlohmann::json& request) = 0;
  // One streamed POST /api/chat, printed as it arrives; the assistant's message
  // ({role, content, thinking?}) or nullopt when the user cancelled it with Ctrl+C.
  virtual Result<std::optional<nlohmann::json>> Chat(const nlohmann::json& request,
                                                     const ChatView& view) = 0;
  // POST /api/create (progress ignored).
  virtual Status Create(const nlohmann::json& request) = 0;
  // GET /api/tags.
  virtual Result<nlohmann::json> List() = 0;
  // /set history, /set nohistory.
  virtual void SetHistoryEnabled(bool enabled) = 0;
  // The bytes of a file the prompt names (image attachments); NotFound when it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
};

enum class LineOutcome {
  kReady,     // done: show ">>> " next
  kContinue,  // inside """ input: show "... " next
  kExit,      // /bye or /exit
};

class ReplSession {
 public:
  // `out` gets what Ollama prints on stdout, `err` what it prints on stderr (help texts,
  // "Added image", warnings).
  ReplSession(ReplState state, ReplBackend& backend, std::ostream& out, std::ostream& err);

  LineOutcome HandleLine(std::string_view line);
  // Ctrl+C at the prompt: drops any half-typed """ input.
  void Interrupt();
  bool InMultiline() const { return multiline_ != Multiline::kNone; }
  const ReplState& state() const { return state_; }

 private:
  enum class Multiline { kNone, kPrompt, kSystem };

  LineOutcome Command(std::string_view line, const std::vector<std::string>& args);
  void SetCommand(const std::vector<std::string>& args);
  LineOutcome SetSystem(const std::vector<std::string>& args);
  void ShowCommand(const std::vector<std::string>& args);
  void LoadCommand(const std::vector<std::string>& args);
  void SaveCommand(const std::vector<std::string>& args);
  void ReplaceSystemMessage(const std::string& text);
  void WarnIfNoThinking();
  void Submit();

  ReplState state_;
  ReplBackend& backend_;
  std::ostream& out_;
  std::ostream& err_;
  Multiline multiline_ = Multiline::kNone;
  std::string buffer_;  // the """ input so far
};

// Ollama's help texts (all on stderr).
std::string ReplUsage(bool multimodal);
std::string ReplUsageSet();
std::string ReplUsageShow();
std::string ReplUsageShortcuts();
std::string ReplUsageParameters();

// strings.Fields: the words of `line` split on runs of whitespace.
std::vector<std::string> SplitFields(std::string_view line);

// `/set parameter NAME VALUE...` as Ollama's api.FormatParams types it: `stop` takes every
// value, other options their first; unknown names and bad values are errors.
Result<nlohmann::json> ParseSetParameter(const std::string& name,
                                         const std::vector<std::string>& values);

// A parameter value as Go's %v prints it (/show parameters): 0.7, 42, true, [a b].
std::string GoValueString(const nlohmann::json& value);

// Go's %q of a string: "text" with \" \\ \n \t escaped.
std::string GoQuote(std::string_view text);

// The file paths Ollama's extractFileNames finds in a prompt: "/", "./" or "\" (optionally
// after a drive letter), then anything without tabs or line breaks, ending in .jpg, .jpeg, .png
// or .webp (any case) at a word boundary. Linear in the text's length.
std::vector<std::string> FindImagePaths(std::string_view text);

// A path with its shell escapes undone ("\ " -> " ", "\(" -> "(", ...), as dragging a file into
// a terminal writes it.
std::string UnescapeFilePath(std::string_view path);

// Whether the bytes start like a JPEG, PNG or WebP image.
bool LooksLikeImage(std::string_view bytes);

std::string Base64Encode(std::string_view bytes);

// Ollama's extractFileData for vision models: each image path in `text` (FindImagePaths) that
// names an existing file is read with `read`, announced on `err` ("Added image '<path>'") and
// cut from the text; `images` holds their bytes in base64. A file that is no image, or over
// 100 MB, is reported on `err` ("Couldn't process image: ...") and is the error.
struct PromptImages {
  std::string text;                                 // trimmed
  nlohmann::json images = nlohmann::json::array();  // base64 strings
};
using FileReader = std::function<Result<std::string>(const std::string& path)>;
Result<PromptImages> ExtractImages(std::string_view text, const FileReader& read,
                                   std::ostream& err);

// A local file's bytes; NotFound when it does not exist (the reader `run` gives ExtractImages).
Result<std::string> ReadLocalFile(const std::string& path);

}  // namespace corral::cli
