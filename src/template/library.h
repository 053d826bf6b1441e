// The prompt formats Ollama ships, written by us (src/template/library/*.gotmpl), with the
// default parameters Ollama pairs with them, and detection of the right one from a GGUF's
// tokenizer.chat_template for models created without a TEMPLATE.
//
//   const LibraryTemplate* entry = DetectLibraryTemplate(chat_template);
//   if (entry != nullptr) { ASSIGN_OR_RETURN(Template t, Template::Parse(entry->name,
//   entry->text)); }
#pragma once

#include <string_view>
#include <vector>

namespace corral::tmpl {

struct LibraryTemplate {
  std::string_view name;  // Ollama's name for the format (e.g. "llama3-instruct")
  std::string_view text;  // Go text/template source
  // PARAMETER stop lines Ollama adds with it (template/<name>.json); empty when Ollama has none.
  std::vector<std::string_view> stop;
  // The Ollama file the text reproduces (template/<name>.gotmpl, or the test/library template
  // it follows); the goldens in src/template/testdata/goldens check it byte for byte.
  std::string_view origin;
};

// Every entry, sorted by name.
const std::vector<LibraryTemplate>& LibraryTemplates();

// The entry called `name`, or null.
const LibraryTemplate* FindLibraryTemplate(std::string_view name);

// The library format for a Jinja chat template (GGUF tokenizer.chat_template), found from the
// markers each family's template carries (see the priority table in detect.cpp); null when no
// family matches, in which case the caller renders the Jinja template itself.
const LibraryTemplate* DetectLibraryTemplate(std::string_view chat_template);

}  // namespace corral::tmpl
