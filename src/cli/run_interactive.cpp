#include "cli/run_interactive.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <memory>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/format.h"
#include "cli/repl_line_editor.h"
#include "cli/repl_session.h"
#include "cli/run_output.h"
#include "cli/terminal.h"
#include "config/env_config.h"

namespace corral::cli {
namespace {

using nlohmann::json;

int TerminalWidth() {
  struct winsize size {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

// Ctrl+C never ends the session while it reads lines (libedit takes the key itself then); during
// a request SIGINT cancels it (SigintCancels), each request starting with the flag cleared.
class TerminalBackend : public ReplBackend {
 public:
  TerminalBackend(ApiClient& client, CancelSource& cancel, CommandIo& io)
      : client_(client), cancel_(cancel), io_(io) {}

  void set_editor(LineEditor* editor) { editor_ = editor; }

  Result<json> Show(const json& request) override {
    cancel_.Reset();
    return client_.Post("/api/show", request);
  }

  Status Load(const json& request) override {
    cancel_.Reset();
    Spinner spinner(io_.err, "");
    return client_.Stream("/api/generate", request, [](const json&) { return Status::Ok(); });
  }

  Result<std::optional<json>> Chat(const json& request, const ChatView& view) override {
    cancel_.Reset();
    auto spinner = std::make_unique<Spinner>(io_.err, "");
    WordWrapper wrap(view.word_wrap, TerminalWidth());
    std::string role = "assistant", content, thinking;
    bool thinking_open = false;
    json last;
    Status streamed = client_.Stream("/api/chat", request, [&](const json& chunk) {
      const json message =
          chunk.is_object() ? chunk.value("message", json::object()) : json::object();
      const std::string piece = JsonString(message, "content");
      const std::string thought = JsonString(message, "thinking");
      const json calls = message.is_object() ? message.value("tool_calls", json()) : json();
      const bool has_calls = calls.is_array() && !calls.empty();
      if (spinner && (!piece.empty() || !view.hide_thinking)) spinner.reset();
      last = chunk;
      if (std::string r = JsonString(message, "role"); !r.empty()) role = r;
      std::string out;
      if (!thought.empty() && !view.hide_thinking) {
        if (!thinking_open) {
          out += ThinkingOpening(/*color=*/true);
          thinking_open = true;
        }
        thinking += thought;
        out += wrap.Add(thought);
      }
      if (thinking_open && (!piece.empty() || has_calls)) {
        if (!EndsWith(thinking, "\n")) out += "\n";
        out += ThinkingClosing(/*color=*/true);
        thinking_open = false;
        wrap.Reset();
      }
      content += piece;
      if (has_calls) out += RenderToolCalls(calls, /*plain_text=*/false);
      out += wrap.Add(piece);
      io_.out << out << std::flush;
      return Status::Ok();
    });
    spinner.reset();
    if (thinking_open) io_.out << "\033[0m";
    if (!streamed.ok()) {
      if (streamed.code() == StatusCode::kCancelled) {
        io_.out << "\n" << std::flush;  // after the echoed ^C, back to a fresh prompt line
        return std::optional<json>();
      }
      io_.out << std::flush;
      return streamed;
    }
    io_.out << "\n\n" << std::flush;
    if (view.verbose) io_.err << FormatMetricsSummary(last) << std::flush;
    json reply = {{"role", role}, {"content", content}};
    if (!thinking.empty()) reply["thinking"] = thinking;
    return std::optional<json>(std::move(reply));
  }

  Status Create(const json& request) override {
    cancel_.Reset();
    return client_.Stream("/api/create", request, [](const json&) { return Status::Ok(); });
  }

  Result<json> List() override {
    cancel_.Reset();
    return client_.Get("/api/tags");
  }

  void SetHistoryEnabled(bool enabled) override {
    if (editor_ != nullptr) editor_->SetHistoryEnabled(enabled);
  }

  Result<std::string> ReadFile(const std::string& path) override { return ReadLocalFile(path); }

 private:
  ApiClient& client_;
  CancelSource& cancel_;
  CommandIo& io_;
  LineEditor* editor_ = nullptr;
};

}  // namespace

int RunInteractive(ApiClient& client, const InteractiveOptions& options, CommandIo& io) {
  ReplState state;
  state.model = options.model;
  state.think = options.think;
  state.think_explicit = options.think_explicit;
  state.hide_thinking = options.hide_thinking;
  state.keep_alive = options.keep_alive;
  state.format = options.format;
  state.verbose = options.verbose;
  state.word_wrap = options.word_wrap;
  state.multimodal = IsMultimodal(options.show);
  if (auto d = options.show.find("details"); d != options.show.end() && d->is_object()) {
    state.parent_model = JsonString(*d, "parent_model");
  }

  CancelSource cancel;
  client.set_cancel_source(&cancel);
  struct Detach {  // `cancel` dies with this call; the client may not
    ApiClient& client;
    ~Detach() { client.set_cancel_source(nullptr); }
  } detach{client};
  SigintCancels sigint(cancel);
  TerminalBackend backend(client, cancel, io);
  json load = {{"model", state.model}};
  if (state.keep_alive) load["keep_alive"] = *state.keep_alive;
  if (state.think) load["think"] = *state.think;
  if (Status loaded = backend.Load(load); !loaded.ok()) {
    // Ctrl+C while the model loads: Ollama has no handler there, so SIGINT ends it (130). The
    // request is closed and the spinner's line cleared.
    if (loaded.code() == StatusCode::kCancelled) return kExitInterrupted;
    return PrintError(io, loaded);
  }

  // The model's MESSAGE history, as Ollama shows it before the first prompt.
  if (auto m = options.show.find("messages"); m != options.show.end() && m->is_array()) {
    for (const json& message : *m) {
      const std::string role = JsonString(message, "role");
      if (role == "user") {
        io.out << ">>> " << JsonString(message, "content") << "\n";
      } else if (role == "assistant") {
        WordWrapper wrap(state.word_wrap, TerminalWidth());
        io.out << wrap.Add(JsonString(message, "content")) << "\n\n";
      }
    }
  }
  io.out << std::flush;

  const bool no_history = config::ParseBool(config::Var("OLLAMA_NOHISTORY"));
  Result<std::unique_ptr<LineEditor>> editor = LineEditor::Open(DefaultHistoryPath(), !no_history);
  if (!editor.ok()) return PrintError(io, editor.status());
  backend.set_editor(editor->get());

  ReplSession session(std::move(state), backend, io.out, io.err);
  while (true) {
    LineInput input = (*editor)->Read(session.InMultiline() ? "... " : ">>> ");
    switch (input.kind) {
      case LineInput::Kind::kEof:
        io.out << "\n" << std::flush;
        return kExitOk;
      case LineInput::Kind::kInterrupt:
        // libedit leaves the cursor after the abandoned line.
        io.out << (input.interrupted_empty ? "\nUse Ctrl + d or /bye to exit.\n" : "\n");
        session.Interrupt();
        break;
      case LineInput::Kind::kLine:
        (*editor)->AddHistory(input.text);
        if (session.HandleLine(input.text) == LineOutcome::kExit) return kExitOk;
        break;
    }
    io.out << std::flush;
    io.err << std::flush;
  }
}

}  // namespace corral::cli
