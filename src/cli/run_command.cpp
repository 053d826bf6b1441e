// `corral run MODEL [PROMPT...]`, Ollama's RunHandler: POST /api/show for the model's
// capabilities, then one streamed POST /api/generate with the prompt (the words joined by
// spaces, text piped on stdin before them), printing the reply as it arrives; embedding models
// go to POST /api/embed and print their vector as a JSON array. With no prompt on a terminal
// the interactive session starts (run_interactive.h).
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/repl_session.h"
#include "cli/run_interactive.h"
#include "cli/run_output.h"
#include "cli/terminal.h"
#include "config/env_config.h"

namespace corral::cli {
namespace {

using nlohmann::json;

struct RunFlags {
  std::string model;
  std::vector<std::string> prompt_words;
  bool verbose = false;
  std::string format;
  std::string think;  // "" unless --think was given ("true" when given without a value)
  bool hide_thinking = false;
  std::string keep_alive;
  bool no_word_wrap = false;
  bool insecure = false;  // pull from a plain-http registry when the model is missing
  CLI::Option* think_option = nullptr;
};

// --think's value as the request's `think`: true/false or a level.
Result<json> ParseThink(const std::string& value) {
  if (value == "true") return json(true);
  if (value == "false") return json(false);
  if (value == "high" || value == "medium" || value == "low") return json(value);
  return InvalidArgumentError("invalid value for --think: \"" + value +
                              "\" (must be true, false, high, medium, or low)");
}

// --keepalive as Ollama's api.Duration sends it: a Go duration string, or -1 for negative.
Result<json> ParseKeepAlive(const std::string& value) {
  std::optional<int64_t> nanos = config::ParseGoDuration(value);
  if (!nanos) return InvalidArgumentError("time: invalid duration \"" + value + "\"");
  if (*nanos < 0) return json(-1);
  return json(GoDurationString(*nanos));
}

int Embed(ApiClient& client, const RunFlags& flags, const std::string& prompt,
          const std::optional<json>& keep_alive, CommandIo& io) {
  if (prompt.empty()) {
    return PrintError(io, InvalidArgumentError("embedding models require input text. Usage: "
                                               "corral run " +
                                               flags.model + " \"your text here\""));
  }
  json body = {{"model", flags.model}, {"input", prompt}};
  if (keep_alive) body["keep_alive"] = *keep_alive;
  Result<json> reply = client.Post("/api/embed", body);
  if (!reply.ok()) return PrintError(io, reply.status());
  auto it = reply->find("embeddings");
  if (it == reply->end() || !it->is_array() || it->empty() || !(*it)[0].is_array()) {
    return PrintError(io, InternalError("no embeddings returned"));
  }
  std::string text = "[";
  bool first = true;
  for (const json& v : (*it)[0]) {
    if (!v.is_number()) continue;
    text += (first ? "" : ",") + GoFloat32Json(v.get<float>());
    first = false;
  }
  io.out << text << "]\n";
  return kExitOk;
}

int Generate(ApiClient& client, const RunFlags& flags, const json& show, std::string prompt,
             const std::optional<json>& think, const std::optional<json>& keep_alive,
             CommandIo& io) {
  json images;
  if (IsMultimodal(show)) {
    // Image paths in the prompt become images (Ollama's extractFileData).
    Result<PromptImages> extracted = ExtractImages(prompt, ReadLocalFile, io.err);
    if (!extracted.ok()) return PrintError(io, extracted.status());
    prompt = extracted->text;
    if (!extracted->images.empty()) images = std::move(extracted->images);
  }
  json body = {{"model", flags.model}, {"prompt", prompt}};
  if (!images.is_null()) body["images"] = std::move(images);
  if (!flags.format.empty()) body["format"] = FormatValue(flags.format);
  if (keep_alive) body["keep_alive"] = *keep_alive;
  if (think) body["think"] = *think;

  const bool terminal = IsTerminal(io.out);
  // Ollama wraps words whenever stdout is a terminal, unless --nowordwrap.
  const int wrap_width = terminal && !flags.no_word_wrap ? SizeOfTerminal(io.out).width : 0;
  ResponsePrinter printer(flags.hide_thinking, /*color=*/terminal, wrap_width);
  // Ctrl+C cancels the request; Ollama then returns quietly (exit 0) with what was printed.
  CancelSource cancel;
  client.set_cancel_source(&cancel);
  SigintCancels sigint(cancel);
  // Ollama's spinner while the model loads and reads the prompt (stderr, terminals only).
  auto spinner = std::make_unique<Spinner>(io.err, "");
  json last;
  Status streamed = client.Stream("/api/generate", body, [&](const json& chunk) {
    const std::string response = JsonString(chunk, "response");
    const std::string thinking = JsonString(chunk, "thinking");
    if (spinner && (!response.empty() || !flags.hide_thinking)) {
      spinner.reset();  // stops and clears its line
    }
    const json calls = chunk.is_object() ? chunk.value("tool_calls", json()) : json();
    const bool has_calls = calls.is_array() && !calls.empty();
    std::string text = printer.OnChunk(thinking, response, has_calls);
    if (has_calls) text += RenderToolCalls(calls, /*plain_text=*/!terminal);
    io.out << text << std::flush;
    last = chunk;
    return Status::Ok();
  });
  spinner.reset();
  client.set_cancel_source(nullptr);
  io.out << printer.Finish() << std::flush;
  if (streamed.code() == StatusCode::kCancelled) return kExitOk;
  if (!streamed.ok()) return PrintError(io, streamed);
  if (!prompt.empty()) io.out << kAfterResponse << std::flush;
  if (flags.verbose && JsonBool(last, "done")) {
    io.err << FormatMetricsSummary(last);
  }
  return kExitOk;
}

int Run(RunFlags& flags, CommandIo& io) {
  if (!flags.format.empty() && flags.format != "json" && !FormatValue(flags.format).is_object()) {
    return PrintError(io, InvalidArgumentError("invalid format: \"" + flags.format +
                                               "\" (must be \"json\" or a JSON schema)"));
  }
  std::optional<json> think;
  const bool think_explicit = flags.think_option != nullptr && flags.think_option->count() > 0;
  if (think_explicit) {
    Result<json> parsed = ParseThink(flags.think.empty() ? "true" : flags.think);
    if (!parsed.ok()) return PrintError(io, parsed.status());
    think = *parsed;
  }
  std::optional<json> keep_alive;
  if (!flags.keep_alive.empty()) {
    Result<json> parsed = ParseKeepAlive(flags.keep_alive);
    if (!parsed.ok()) return PrintError(io, parsed.status());
    keep_alive = *parsed;
  }

  // The prompt: the words joined by spaces, after whatever was piped on stdin. (Ollama also
  // prepends an empty stdin, which gives the prompt a leading space; we skip empty input.)
  std::vector<std::string> parts = flags.prompt_words;
  bool interactive = parts.empty();
  if (!StdinIsTerminal()) {
    std::string piped((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (!piped.empty()) parts.insert(parts.begin(), piped);
    interactive = false;
  }
  if (!IsTerminal(io.out)) interactive = false;  // quiet when writing to a pipe or file
  std::string prompt;
  for (size_t i = 0; i < parts.size(); ++i) prompt += (i ? " " : "") + parts[i];

  Result<ApiClient> client = ConnectToServer();
  if (!client.ok()) return PrintError(io, client.status());
  Result<json> show = client->Post("/api/show", {{"model", flags.model}});
  if (!show.ok() && show.status().code() == StatusCode::kNotFound) {
    // As Ollama: a model that is not here is pulled, then shown again.
    if (Status pulled = PullModel(*client, flags.model, flags.insecure, io.err); !pulled.ok()) {
      return PrintError(io, pulled);
    }
    show = client->Post("/api/show", {{"model", flags.model}});
  }
  if (!show.ok()) return PrintError(io, show.status());
  // Thinking models think unless told otherwise (Ollama's inferThinkingOption).
  if (!think && HasCapability(*show, "thinking")) think = json(true);

  if (HasCapability(*show, "embedding") && !HasCapability(*show, "completion")) {
    return Embed(*client, flags, prompt, keep_alive, io);
  }
  if (interactive) {
    InteractiveOptions options;
    options.model = flags.model;
    options.show = *show;
    options.think = think;
    options.think_explicit = think_explicit;
    options.hide_thinking = flags.hide_thinking;
    options.keep_alive = keep_alive;
    options.format = flags.format;
    options.verbose = flags.verbose;
    options.word_wrap = !flags.no_word_wrap;
    return RunInteractive(*client, options, io);
  }
  return Generate(*client, flags, *show, prompt, think, keep_alive, io);
}

}  // namespace

Command RunModelCommand() {
  return Command{
      .name = "run",
      .aliases = {},
      .summary = "Run a model",
      .setup = [](CLI::App& app) -> CommandAction {
        auto flags = std::make_shared<RunFlags>();
        app.add_option("model", flags->model, "The model to run")->required();
        app.add_option("prompt", flags->prompt_words, "The prompt (words joined by spaces)");
        app.add_option("--keepalive", flags->keep_alive,
                       "Duration to keep a model loaded (e.g. 5m)");
        app.add_flag("--verbose", flags->verbose, "Show timings for response");
        app.add_flag("--insecure", flags->insecure, "Use an insecure registry");
        app.add_flag("--nowordwrap", flags->no_word_wrap,
                     "Don't wrap words to the next line automatically");
        app.add_option("--format", flags->format, "Response format (\"json\" or a JSON Schema)");
        flags->think_option =
            app.add_flag("--think{true}", flags->think,
                         "Enable thinking mode: true/false or high/medium/low for supported models "
                         "(--think=VALUE)");
        app.add_flag("--hidethinking", flags->hide_thinking, "Hide thinking output (if provided)");
        return [flags](CommandIo& io) { return Run(*flags, io); };
      },
  };
}

}  // namespace corral::cli
