// Sandboxed Jinja for GGUF chat templates (tokenizer.chat_template), rendering the way Python's
// Jinja2 does with HuggingFace's settings. No I/O; every resource a template can consume is
// capped, and a template that exceeds a cap fails with a Status instead of crashing or hanging.
//
//   ASSIGN_OR_RETURN(Template t, Template::Parse(source, Options{}));
//   ASSIGN_OR_RETURN(std::string prompt, t.Render({{"messages", messages},
//                                                  {"add_generation_prompt", true}}));
//
// For chat requests, jinja/chat.h builds the context HF/llama-server give templates.
// Checked against Python Jinja2 by jinja_reference_test and jinja_chat_reference_test. Known
// differences, all failing with a clear error or harmless for chat templates: integers are
// 64-bit (overflow is an error, Python's are unbounded); no loop.changed, macro varargs/kwargs,
// recursive for loops, block/include/extends/import; no batch, slice, groupby, wordcount, center,
// truncate, striptags, attr, urlencode, random filters; upper/lower map Latin, Greek and
// Cyrillic only, title/capitalize ASCII only; functions and range objects print differently;
// list methods (append, extend, pop) are allowed as in llama.cpp, where HF's immutable sandbox
// refuses them; values nested deeper than 256 print as [...] where Python would raise.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::jinja {

struct Options {
  // HuggingFace renders chat templates with both enabled.
  bool trim_blocks = true;
  bool lstrip_blocks = true;

  // Caps. Real chat templates use a tiny fraction of each.
  size_t max_output_bytes = 16u << 20;    // also caps every string and list built
  int64_t max_loop_iterations = 1000000;  // all loops of one render together
  int max_call_depth = 64;                // nested macro calls
  int max_nesting_depth = 200;            // expression, operator-chain and block nesting (parser)
  int64_t max_steps = 20000000;           // expressions and statements evaluated per render

  // The clock strftime_now() reads (local time); system_clock::now when empty.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class Template {
 public:
  // Parses `source`; InvalidArgument with the line on a syntax error.
  static Result<Template> Parse(std::string_view source, const Options& options);

  // Renders with `context`'s top-level keys as variables (messages, tools, bos_token, ...).
  // A template's raise_exception(msg) comes back as InvalidArgument with message msg.
  Result<std::string> Render(const nlohmann::json& context) const;
  // Render, keeping the context's key order (what HF's Python dicts and llama.cpp's
  // ordered_json give templates that print dicts or iterate items()).
  Result<std::string> RenderOrdered(const nlohmann::ordered_json& context) const;

  // The source text the template was parsed from (capability probes search it).
  const std::string& source() const;

 private:
  struct Parsed;
  explicit Template(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}
  std::shared_ptr<const Parsed> parsed_;
};

}  // namespace corral::jinja
