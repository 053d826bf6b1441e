// libFuzzer target for both template languages: the input is parsed as a Go text/template and
// as a Jinja template, and whatever parses is executed on a small chat conversation. Any input
// must end in a Status (an error or a rendered string within the caps); never a crash or hang.
// Jinja templates also go through the chat module's capability probe.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "jinja/chat.h"
#include "jinja/template.h"
#include "template/template.h"

namespace {

const nlohmann::json& Conversation() {
  static const nlohmann::json data = {
      {"System", "You are terse."},
      {"Prompt", "Hi"},
      {"Messages",
       {{{"Role", "system"}, {"Content", "You are terse."}},
        {{"Role", "user"}, {"Content", "Hi <b>"}},
        {{"Role", "assistant"}, {"Content", "Hello"}}}},
      {"messages",
       {{{"role", "system"}, {"content", "You are terse."}},
        {{"role", "user"}, {"content", "Hi <b>"}},
        {{"role", "assistant"},
         {"content", ""},
         {"reasoning_content", "hmm"},
         {"tool_calls",
          {{{"type", "function"},
            {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}},
            {"id", "call12345"}}}}},
        {{"role", "tool"},
         {"content", "21C"},
         {"name", "get_weather"},
         {"tool_call_id", "call12345"}},
        {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "typed"}}}}},
        {{"role", "assistant"}, {"content", "<think>x</think>Hello"}}}},
      {"tools",
       {{{"type", "function"},
         {"function",
          {{"name", "get_weather"},
           {"parameters",
            {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}}}},
      {"add_generation_prompt", true},
      {"enable_thinking", false},
      {"bos_token", "<s>"},
      {"eos_token", "</s>"},
  };
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Small caps keep each run fast; the interpreters' defaults are tested elsewhere.
  auto go = corral::tmpl::Template::Parse("fuzz", text);
  if (go.ok()) {
    corral::tmpl::ExecOptions options;
    options.max_output_bytes = 1 << 16;
    options.max_range_iterations = 10000;
    options.max_steps = 100000;
    (void)go->Execute(Conversation(), options);
  }
  corral::jinja::Options jinja_options;
  jinja_options.max_output_bytes = 1 << 16;
  jinja_options.max_loop_iterations = 10000;
  jinja_options.max_steps = 100000;
  auto jinja = corral::jinja::Template::Parse(text, jinja_options);
  if (jinja.ok()) {
    (void)jinja->Render(Conversation());
    // The capability probe renders eight more conversation shapes through the chat module.
    (void)corral::jinja::ProbeChatCapabilities(*jinja);
  }
  return 0;
}
