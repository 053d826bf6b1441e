// Ollama's Modelfile (ollama-api.md §4.1-4.2, parser/parser.go): parsing, the /api/create body
// `ollama create` builds from it, and the `modelfile` / `parameters` texts /api/show prints.
//
//   ASSIGN_OR_RETURN(Modelfile mf, ParseModelfile(text));
//   ASSIGN_OR_RETURN(CreateRequest req, ToCreateRequest(mf, resolver));  // CLI side
//   req.body["model"] = name;  ... POST /api/create
//
// Parsing follows Ollama's character-level state machine, quirks included:
//   - instructions are case-insensitive; a line whose first non-blank character is '#' is a
//     comment ('#' elsewhere is text);
//   - a value runs to the end of the line; "..." and """...""" values may span lines, and end at
//     the first line break where the trimmed text is a complete quoted string (so
//     `SYSTEM "a" "b"` is `a" "b`); there are no escapes (a backslash is a backslash);
//   - characters Go's strconv.IsPrint rejects (control characters, most Unicode spaces and
//     format characters such as U+200B) are dropped, except tab and line breaks;
//   - line numbers count '\r' and '\n' separately, as Ollama does (CRLF files count double);
//   - a UTF-8 BOM is skipped and a UTF-16 BOM switches to UTF-16; invalid UTF-8 becomes U+FFFD.
// Errors (InvalidArgument) carry Ollama's words:
//   "(line N): command must be one of \"from\", \"license\", ...",
//   "(line N): message role must be one of \"system\", \"user\", or \"assistant\"",
//   "unexpected EOF" (an unterminated quote or a command cut off at the end),
//   "unexpected EOF: <name so far>" (a bad character in a PARAMETER name or MESSAGE role),
//   "no FROM line".
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strings.h"

namespace corral::modelfile {

enum class Instruction {
  kFrom,
  kAdapter,
  kDraft,  // speculative-decoding draft model (undocumented, current Ollama)
  kTemplate,
  kSystem,
  kLicense,
  kRenderer,  // built-in prompt renderer name (undocumented)
  kParser,    // built-in output parser name (undocumented)
  kRequires,
  kMessage,
  kParameter,
};

// "FROM", "PARAMETER", ... as written by FormatCommand.
std::string_view InstructionKeyword(Instruction instruction);

struct Command {
  Instruction instruction = Instruction::kFrom;
  std::string name;   // PARAMETER: the parameter name as written; MESSAGE: the role
  std::string value;  // the argument, unquoted
  int line = 0;       // Ollama's line count where the command ended (for messages)

  friend bool operator==(const Command& a, const Command& b) {
    return a.instruction == b.instruction && a.name == b.name && a.value == b.value;
  }
};

struct Modelfile {
  std::vector<Command> commands;  // in file order
};

Result<Modelfile> ParseModelfile(std::string_view text);

// Go's parser.quote: the value bare unless it has a line break or a leading/trailing space;
// then """v""" when it contains '"', else "v". (A value containing both """ and a line break
// cannot be written back; Ollama has the same limit.)
std::string QuoteValue(std::string_view value);

// One command as Ollama's Command.String writes it, without the line break: `FROM x` (never
// quoted), `PARAMETER k v`, `MESSAGE role v`, `TEMPLATE v`, ... with QuoteValue on the value.
std::string FormatCommand(const Command& command);

// Every command followed by "\n".
std::string FormatCommands(const std::vector<Command>& commands);

// --- ollama create ------------------------------------------------------------------------------

// The CLI's view of a FROM/ADAPTER/DRAFT argument: nullopt when it is not an existing local path
// (FROM then names a model), otherwise the files to upload, relative name -> "sha256:<hex>"
// (the CLI expands ~ and relative paths against the Modelfile's folder, walks directories and
// hashes; none of that happens here). An error aborts the request (e.g. "insecure path: ...").
using LocalFileResolver = std::function<Result<std::optional<std::map<std::string, std::string>>>(
    Instruction instruction, const std::string& argument)>;

struct CreateRequest {
  // The /api/create body without "model", "stream" and "quantize", which the CLI adds:
  // from, files, adapters, draft_files, template, system, license [..], parameters {..},
  // messages [{role, content}], renderer, parser, requires; empty ones are left out (omitempty).
  nlohmann::json body;
  // "warning: parameter mirostat is deprecated" lines the CLI prints (the parameter is dropped).
  std::vector<std::string> warnings;
};

// Ollama's Modelfile.CreateRequest:
//   FROM     resolver nullopt -> "from" (the last one wins); else files merged into "files"
//   ADAPTER  files replace "adapters" (the last ADAPTER wins); not local -> NotFound
//            "stat <arg>: no such file or directory"
//   DRAFT    files merged into "draft_files"; not local -> NotFound as for ADAPTER
//   TEMPLATE/SYSTEM/RENDERER/PARSER  the last one wins
//   LICENSE  appended to "license"
//   REQUIRES must be semver with or without 'v' (golang.org/x/mod/semver, so "1" and "1.2" pass)
//            else "requires must be a valid semver (e.g. 0.14.0)"; sent without the 'v'
//   MESSAGE  appended to "messages"
//   PARAMETER deprecated names warn and are dropped; others are typed by ParseParameter
//            (options.h); `stop` accumulates, other names keep the last value.
// A null resolver treats every FROM as a model name.
Result<CreateRequest> ToCreateRequest(const Modelfile& modelfile,
                                      const LocalFileResolver& resolver);

// --- ollama show --------------------------------------------------------------------------------

struct ShowMessage {
  std::string role;
  std::string content;
};

// What /api/show renders into `modelfile` (server/images.go Model.String).
struct ShowModelfileInput {
  std::string short_name;  // "# FROM <short_name>", e.g. "llama3.2:latest"
  std::string model_path;  // FROM <blob path of the model layer>
  std::vector<std::string> adapter_paths;
  std::string draft_path;                    // DRAFT <path> when not empty
  std::vector<std::string> projector_paths;  // written as further FROM lines
  // TEMPLATE; Ollama always has one (a model without a template layer shows "{{ .Prompt }}").
  std::optional<std::string> template_text;
  std::string system;  // SYSTEM when not empty
  std::string renderer;
  std::string parser;
  // The params layer object with the request's `options` merged over it. Keys are written in
  // sorted order (Ollama iterates a Go map, so its order is random); arrays give one line each.
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<std::string> licenses;
  std::vector<ShowMessage> messages;
};

// `# Modelfile generated by "ollama show"` / `# To build a new Modelfile based on this, replace
// FROM with:` / `# FROM <short_name>` / blank line, then FROM, ADAPTER, DRAFT, projector FROM,
// TEMPLATE, SYSTEM, RENDERER, PARSER, PARAMETER, LICENSE and MESSAGE lines, each ending "\n".
// Parameter values print as Go's %v of the JSON-decoded value: numbers as float64 %v (so 0.7,
// 4096, but 1e+06 and 1.048576e+06 from 6 integer digits on), strings raw, then QuoteValue.
std::string FormatModelfile(const ShowModelfileInput& input);

// /api/show's `parameters`: for each key (sorted), one line per value (per element for arrays):
// Go's fmt "%-30s %#v" -- the key left-aligned in 30 columns, a space, then strings in Go quotes
// ("\"<|im_end|>\"", with \n, \t, \", \\, \xNN, \uNNNN escapes), numbers as in FormatModelfile,
// booleans as true/false. Lines joined by "\n" with no trailing newline; "" for no parameters.
// Ollama renders this from the params layer before the request's `options` are merged.
std::string FormatParameters(const nlohmann::json& parameters);

// Go's %v of a float64 (strconv 'g' with the shortest digits, exponent from 1e+06 / below 1e-04).
std::string GoFormatFloat(double value);

}  // namespace corral::modelfile
