// Go text/template for Ollama TEMPLATE layers: Template::Parse then Execute with a JSON object
// whose keys are the Go field names Ollama's templates use (System, Prompt, Response, Suffix,
// Messages[Role, Content, Thinking, Images, ToolCalls, ToolName], Tools, Think, ThinkLevel,
// IsThinkSet).
//
// Data model: JSON objects behave as Go maps under Ollama's missingkey=zero, so a missing key or
// a null reads as nil and prints "<no value>" (Go prints that for map[string]any too). Ollama
// passes structs for messages and tools, whose absent fields are zero values ("" / false / []),
// so callers must fill every struct field with its zero value rather than leave it out.
// Objects are ranged and printed in sorted key order, as Go does for maps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::tmpl {

struct TemplateSet;

// Caps against hostile templates; exceeding one returns ResourceExhausted.
struct ExecOptions {
  size_t max_output_bytes = 16 << 20;        // a rendered prompt is far smaller
  int64_t max_range_iterations = 1'000'000;  // summed over every range of one execution
  int max_template_depth = 1000;             // nested {{template}} calls (Go allows 100000)
  int64_t max_steps = 10'000'000;            // nodes and commands evaluated, stops call bombs
  int max_data_depth = 1000;                 // nesting of arrays and objects in the data
  // Clock for currentDate / yesterdayDate; empty means the system clock.
  std::function<std::chrono::system_clock::time_point()> clock;
  // Nodes of the data that stand for Go values with a String() method whose text is also their
  // json.Marshal (Ollama's api.Tools, api.Tool, *api.ToolFunction, the tool-call arguments):
  // printing such a node, or passing it (or a value containing it) to json, gives this text
  // instead of fmt's map/slice form. Keys are addresses inside the data passed to Execute.
  const std::unordered_map<const nlohmann::json*, std::string>* go_strings = nullptr;
};

class Template {
 public:
  // Errors read like Go's: "template: NAME:LINE: message" (InvalidArgument).
  static Result<Template> Parse(std::string_view name, std::string_view text);

  // Errors read like Go's: "template: NAME:LINE:COL: executing \"NAME\" at <node>: message".
  Result<std::string> Execute(const nlohmann::json& data, const ExecOptions& options = {}) const;

  // Ollama's legacy last turn (template.go Execute): runs the top-level template with every
  // node after the first {{ .Response }} action removed, as Ollama's deleteNode does, so that
  // generation continues right after the response position. Only the top-level tree is cut;
  // a template whose cut would leave an else branch after the response (Go panics there) or
  // that uses .Response mid-pipeline is refused with Unsupported.
  Result<std::string> ExecuteUntilResponse(const nlohmann::json& data,
                                           const ExecOptions& options = {}) const;

  const std::string& name() const;
  // Every field and variable name the templates mention, lower-cased, sorted and unique, as
  // Ollama's Template.Vars (it decides "messages" vs legacy rendering and capabilities).
  std::vector<std::string> Vars() const;

 private:
  explicit Template(std::shared_ptr<const TemplateSet> set) : set_(std::move(set)) {}
  std::shared_ptr<const TemplateSet> set_;
};

}  // namespace corral::tmpl
