// libFuzzer target for both template languages: the input is parsed as a Go text/template and
// as a Jinja template, and whatever parses is executed on a small chat conversation. Any input
// must end in a Status (an error or a rendered string within the caps); never a crash or hang.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

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
        {{"role", "assistant"}, {"content", "Hello"}}}},
      {"add_generation_prompt", true},
      {"bos_token", "<s>"},
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
  if (jinja.ok()) (void)jinja->Render(Conversation());
  return 0;
}
