// Picks a library format for a GGUF's Jinja chat template. Ollama compares the text with the
// Hugging Face templates of its template/index.json by Levenshtein distance (< 100 wins). We do
// not ship those texts, so we look for the markers each family's template must contain to
// produce its prompt format; for the families in Ollama's index both give the same name.
//
// Rules are tried in order and the first whose markers are all present (and whose excluded
// markers are all absent) wins. Specific before generic: a tool or thinking variant before its
// plain family, token-delimited formats before the plain-text "Role:" formats, which are
// matched last because their words can appear in any template.
//
// Deliberate differences from Ollama's distance test:
//   - Llama 3.1+/3.2 templates (ipython tool role) map to llama3.2, the library's llama3 with
//     tools, and Qwen templates with <tool_call> to qwen2.5 / qwen3; Ollama's index has only the
//     plain chatml/llama3-instruct texts, to which these long templates are too far to match.
//   - Granite 3 (<|start_of_role|>) is not matched: Ollama's granite-instruct is the older
//     Question:/Answer: format, and using it would produce the wrong prompt; such models go to
//     the Jinja path.
#include <string_view>
#include <vector>

#include "template/library.h"

namespace corral::tmpl {
namespace {

struct Rule {
  std::string_view name;
  std::vector<std::string_view> all_of;
  std::vector<std::string_view> none_of;
};

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = {
      // DeepSeek R1 / V3: full-width bars.
      {"deepseek-r1", {"<｜Assistant｜>"}, {}},
      {"command-r", {"<|START_OF_TURN_TOKEN|>"}, {}},
      {"llama3.2", {"<|start_header_id|>", "ipython"}, {}},
      {"llama3-instruct", {"<|start_header_id|>"}, {}},
      // ChatML family: Qwen3 thinks, Qwen2.5 calls tools, the rest is plain chatml. Phi-4's
      // <|im_sep|> variant is not in the library.
      {"qwen3", {"<|im_start|>", "<tool_call>", "<think>"}, {}},
      {"qwen2.5", {"<|im_start|>", "<tool_call>"}, {}},
      {"chatml", {"<|im_start|>"}, {"<|im_sep|>"}},
      // Gemma 3 prefixes the system text to the first user turn and knows images.
      {"gemma3-instruct", {"<start_of_turn>", "<start_of_image>"}, {}},
      {"gemma3-instruct", {"<start_of_turn>", "first_user_prefix"}, {}},
      {"gemma-instruct", {"<start_of_turn>"}, {}},
      // [INST] family: tool markers, then Llama 2's <<SYS>>, then Mistral.
      {"mistral", {"[INST]", "[AVAILABLE_TOOLS]"}, {}},
      {"llama2-chat", {"[INST]", "<<SYS>>"}, {}},
      {"mistral-instruct", {"[INST]"}, {}},
      {"phi-3", {"<|assistant|>", "<|end|>"}, {}},
      {"zephyr", {"<|assistant|>", "</s>"}, {}},
      {"alfred", {"<start_assistant>"}, {}},
      {"openchat", {"GPT4 Correct"}, {}},
      {"codellama-70b-instruct", {"Source:", "<step>"}, {}},
      {"magicoder", {"@@ Instruction"}, {}},
      {"solar-instruct", {"### User:", "### Assistant:"}, {}},
      {"alpaca", {"### Instruction:", "### Response:"}, {}},
      {"starcoder2-instruct", {"### Instruction", "### Response"}, {}},
      {"falcon-instruct", {"Falcon:"}, {}},
      {"granite-instruct", {"Question:", "Answer:"}, {"<|start_of_role|>"}},
      {"vicuna", {"USER:", "ASSISTANT:"}, {}},
      {"chatqa", {"User:", "Assistant:"}, {}},
  };
  return rules;
}

bool Contains(std::string_view text, std::string_view marker) {
  return text.find(marker) != std::string_view::npos;
}

}  // namespace

const LibraryTemplate* DetectLibraryTemplate(std::string_view chat_template) {
  if (chat_template.empty()) return nullptr;
  for (const Rule& rule : Rules()) {
    bool matches = true;
    for (std::string_view marker : rule.all_of)
      matches = matches && Contains(chat_template, marker);
    for (std::string_view marker : rule.none_of)
      matches = matches && !Contains(chat_template, marker);
    if (matches) return FindLibraryTemplate(rule.name);
  }
  return nullptr;
}

}  // namespace corral::tmpl
