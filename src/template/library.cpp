#include "template/library.h"

#include <algorithm>

#include "base/check.h"
#include "template/library_texts.h"

namespace corral::tmpl {
namespace {

struct Metadata {
  std::string_view name;
  std::vector<std::string_view> stop;
  std::string_view origin;
};

// Stop lists are Ollama's template/<name>.json; entries without one there say where theirs
// come from.
const std::vector<Metadata>& AllMetadata() {
  static const std::vector<Metadata> metadata = {
      {"alfred",
       {"<start_system>", "<end_message>", "<start_user>", "<start_assistant>"},
       "template/alfred.gotmpl"},
      {"alpaca", {"### Instruction:", "### Response"}, "template/alpaca.gotmpl"},
      {"chatml", {"<|im_start|>", "<|im_end|>"}, "template/chatml.gotmpl"},
      {"chatqa", {"System:", "User:", "Assistant:", "<|begin_of_text|>"}, "template/chatqa.gotmpl"},
      {"codellama-70b-instruct",
       {"Source:", "Destination:", "<step>"},
       "template/codellama-70b-instruct.gotmpl"},
      {"command-r",
       {"<|START_OF_TURN_TOKEN|>", "<|END_OF_TURN_TOKEN|>"},
       "template/command-r.gotmpl"},
      // Ollama's template/deepseek.gotmpl and deepseek.json (the DeepSeek-R1/V3 format).
      {"deepseek-r1",
       {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"},
       "template/deepseek.gotmpl"},
      {"falcon-instruct", {"User:", "Assistant:"}, "template/falcon-instruct.gotmpl"},
      {"gemma-instruct", {"<start_of_turn>", "<end_of_turn>"}, "template/gemma-instruct.gotmpl"},
      {"gemma3-instruct", {"<end_of_turn>"}, "template/gemma3-instruct.gotmpl"},
      {"granite-instruct", {"System:", "Question:", "Answer:"}, "template/granite-instruct.gotmpl"},
      {"llama2-chat", {"[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"}, "template/llama2-chat.gotmpl"},
      {"llama3-instruct",
       {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
       "template/llama3-instruct.gotmpl"},
      // Ollama's library llama3.2 with tools (server/testdata/tools/llama3.2.gotmpl); stops are
      // llama3-instruct's.
      {"llama3.2",
       {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
       "server/testdata/tools/llama3.2.gotmpl"},
      {"magicoder", {"@@ Instruction", "@@ Response"}, "template/magicoder.gotmpl"},
      // Ollama's library mistral with tools (server/testdata/tools/mistral.gotmpl); stops are
      // the [INST] markers.
      {"mistral", {"[INST]", "[/INST]"}, "server/testdata/tools/mistral.gotmpl"},
      // Ollama ships no mistral-instruct.json, so no stops come with it.
      {"mistral-instruct", {}, "template/mistral-instruct.gotmpl"},
      {"openchat", {"<|end_of_turn|>"}, "template/openchat.gotmpl"},
      {"phi-3", {"<|end|>", "<|system|>", "<|user|>", "<|assistant|>"}, "template/phi-3.gotmpl"},
      // The qwen2.5-style tools template of server/testdata/tools/qwen3.gotmpl; chatml stops.
      {"qwen2.5", {"<|im_start|>", "<|im_end|>"}, "server/testdata/tools/qwen3.gotmpl"},
      // Ours, after Ollama's library qwen3 (thinking with /think and /no_think); chatml stops.
      {"qwen3", {"<|im_start|>", "<|im_end|>"}, "(none: modelled on Ollama's library qwen3)"},
      {"solar-instruct",
       {"### System:", "### User:", "### Assistant"},
       "template/solar-instruct.gotmpl"},
      {"starcoder2-instruct",
       {"### Instruction", "### Response", "<|endoftext|>"},
       "template/starcoder2-instruct.gotmpl"},
      {"vicuna", {"USER:", "ASSISTANT:"}, "template/vicuna.gotmpl"},
      {"zephyr", {"<|system|>", "</s>", "<|user|>", "<|assistant|>"}, "template/zephyr.gotmpl"},
  };
  return metadata;
}

}  // namespace

const std::vector<LibraryTemplate>& LibraryTemplates() {
  static const std::vector<LibraryTemplate> entries = [] {
    const auto& texts = LibraryTexts();
    std::vector<LibraryTemplate> built;
    for (const Metadata& m : AllMetadata()) {
      auto it = texts.find(m.name);
      CHECK(it != texts.end()) << "library template " << m.name << " has no .gotmpl file";
      built.push_back({m.name, it->second, m.stop, m.origin});
    }
    CHECK(built.size() == texts.size()) << "a .gotmpl file in src/template/library has no entry";
    std::sort(built.begin(), built.end(),
              [](const LibraryTemplate& a, const LibraryTemplate& b) { return a.name < b.name; });
    return built;
  }();
  return entries;
}

const LibraryTemplate* FindLibraryTemplate(std::string_view name) {
  for (const LibraryTemplate& entry : LibraryTemplates()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

}  // namespace corral::tmpl
