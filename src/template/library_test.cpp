#include "template/library.h"

#include <gtest/gtest.h>

#include <string>

#include "template/template.h"

namespace corral::tmpl {
namespace {

TEST(LibraryTest, EveryEntryParsesAndIsFoundByName) {
  const auto& all = LibraryTemplates();
  ASSERT_GE(all.size(), 25u);
  for (const LibraryTemplate& entry : all) {
    SCOPED_TRACE(std::string(entry.name));
    EXPECT_FALSE(entry.text.empty());
    EXPECT_FALSE(entry.origin.empty());
    Result<Template> parsed = Template::Parse(entry.name, entry.text);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(FindLibraryTemplate(entry.name), &entry);
  }
  EXPECT_EQ(FindLibraryTemplate("no-such-template"), nullptr);
  // A file's final newline is not part of its template; newlines before it are.
  std::string_view chatml = FindLibraryTemplate("chatml")->text;
  EXPECT_EQ(chatml.substr(chatml.size() - 10), "{{- end }}");
  std::string_view zephyr = FindLibraryTemplate("zephyr")->text;
  EXPECT_EQ(zephyr.substr(zephyr.size() - 14), "<|assistant|>\n");
}

TEST(LibraryTest, StopsFollowOllama) {
  using Stops = std::vector<std::string_view>;
  EXPECT_EQ(FindLibraryTemplate("llama3-instruct")->stop,
            (Stops{"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}));
  EXPECT_EQ(FindLibraryTemplate("chatml")->stop, (Stops{"<|im_start|>", "<|im_end|>"}));
  EXPECT_EQ(FindLibraryTemplate("gemma3-instruct")->stop, (Stops{"<end_of_turn>"}));
  EXPECT_TRUE(FindLibraryTemplate("mistral-instruct")->stop.empty());
}

TEST(LibraryTest, TextsAreOursAndComplete) {
  // Spot checks that the embedded texts are the files (not empty placeholders).
  std::string_view llama3 = FindLibraryTemplate("llama3-instruct")->text;
  EXPECT_NE(llama3.find("<|start_header_id|>assistant<|end_header_id|>"), std::string_view::npos);
  std::string_view qwen3 = FindLibraryTemplate("qwen3")->text;
  EXPECT_NE(qwen3.find("/no_think"), std::string_view::npos);
}

// Short Jinja templates in each family's style (written for this test) and the library format
// they must map to.
struct DetectCase {
  const char* family;
  const char* jinja;
  const char* expected;  // null: no library format
};

const DetectCase kDetectCases[] = {
    {"llama3",
     R"({{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>

{{ m['content'] | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>

{% endif %})",
     "llama3-instruct"},
    {"llama3.1 tools",
     R"({% for m in messages %}{% if m.role == 'tool' %}<|start_header_id|>ipython<|end_header_id|>

{{ m.content | tojson }}<|eot_id|>{% else %}<|start_header_id|>{{ m.role }}<|end_header_id|>

{{ m.content }}<|eot_id|>{% endif %}{% endfor %})",
     "llama3.2"},
    {"chatml",
     R"({% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})",
     "chatml"},
    {"qwen2.5", R"({%- if tools %}<|im_start|>system
{% for t in tools %}{{ t | tojson }}{% endfor %}<|im_end|>
{% endif %}{% for m in messages %}{% if m.tool_calls %}<|im_start|>assistant
<tool_call>
{{ m.tool_calls[0].function | tojson }}
</tool_call><|im_end|>
{% else %}<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endif %}{% endfor %})",
     "qwen2.5"},
    {"qwen3", R"({% for m in messages %}{% if m.reasoning_content %}<|im_start|>assistant
<think>
{{ m.reasoning_content }}
</think>
{% endif %}{% if m.tool_calls %}<tool_call>{% endif %}<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endfor %})",
     "qwen3"},
    {"phi-4",
     R"({% for m in messages %}<|im_start|>{{ m.role }}<|im_sep|>{{ m.content }}<|im_end|>{% endfor %})",
     nullptr},
    {"gemma",
     R"({{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for m in messages %}{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}<start_of_turn>{{ role }}
{{ m['content'] | trim }}<end_of_turn>
{% endfor %}{% if add_generation_prompt %}<start_of_turn>model
{% endif %})",
     "gemma-instruct"},
    {"gemma3",
     R"({%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '

' -%}{%- endif -%}{% for m in messages %}<start_of_turn>{{ m.role }}
{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content %}{% if p.type == 'image' %}<start_of_image>{% endif %}{% endfor %}{% endif %}<end_of_turn>
{% endfor %})",
     "gemma3-instruct"},
    {"llama2",
     R"({% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + (('<<SYS>>\n' + system + '\n<</SYS>>\n\n') if loop.first and system else '') + m['content'] + ' [/INST]' }}{% else %}{{ ' ' + m['content'] + ' ' + eos_token }}{% endif %}{% endfor %})",
     "llama2-chat"},
    {"mistral v1",
     R"({{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ m['content'] + eos_token }}{% endif %}{% endfor %})",
     "mistral-instruct"},
    {"mistral tools",
     R"({% if tools %}[AVAILABLE_TOOLS] {{ tools | tojson }}[/AVAILABLE_TOOLS]{% endif %}{% for m in messages %}[INST] {{ m.content }}[/INST]{% endfor %})",
     "mistral"},
    {"phi-3",
     R"({% for m in messages %}{{'<|' + m['role'] + '|>' + '\n' + m['content'] + '<|end|>\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %})",
     "phi-3"},
    {"zephyr",
     R"({% for m in messages %}{{ '<|' + m['role'] + '|>\n' + m['content'] + eos_token + '\n' }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %} </s>)",
     "zephyr"},
    {"deepseek-r1",
     R"({{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}{% else %}{{ '<｜Assistant｜>' + m['content'] + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %})",
     "deepseek-r1"},
    {"command-r",
     R"({{ bos_token }}{% for m in messages %}<|START_OF_TURN_TOKEN|>{% if m.role == 'user' %}<|USER_TOKEN|>{% else %}<|CHATBOT_TOKEN|>{% endif %}{{ m.content }}<|END_OF_TURN_TOKEN|>{% endfor %})",
     "command-r"},
    {"granite 3",
     R"({% for m in messages %}<|start_of_role|>{{ m.role }}<|end_of_role|>{{ m.content }}<|end_of_text|>
{% endfor %}{% if add_generation_prompt %}<|start_of_role|>assistant<|end_of_role|>{% endif %})",
     nullptr},
    {"granite code", R"({% for m in messages %}{% if m.role == 'user' %}Question:
{{ m.content }}

{% else %}Answer:
{{ m.content }}

{% endif %}{% endfor %}Answer:
)",
     "granite-instruct"},
    {"alpaca", R"({% for m in messages %}{% if m.role == 'user' %}### Instruction:
{{ m.content }}

{% else %}### Response:
{{ m.content }}

{% endif %}{% endfor %}### Response:
)",
     "alpaca"},
    {"starcoder2", R"({% for m in messages %}{% if m.role == 'user' %}### Instruction
{{ m.content }}

{% else %}### Response
{{ m.content }}<|endoftext|>
{% endif %}{% endfor %}### Response
)",
     "starcoder2-instruct"},
    {"openchat",
     R"({% for m in messages %}GPT4 Correct {{ m.role | title }}: {{ m.content }}<|end_of_turn|>{% endfor %}GPT4 Correct Assistant:)",
     "openchat"},
    {"vicuna", R"({% for m in messages %}{% if m.role == 'user' %}USER: {{ m.content }}
{% else %}ASSISTANT: {{ m.content }}</s>
{% endif %}{% endfor %}ASSISTANT:)",
     "vicuna"},
    {"unknown", R"({% for m in messages %}<<{{ m.role }}>> {{ m.content }}{% endfor %})", nullptr},
    {"empty", "", nullptr},
};

TEST(DetectTest, FamiliesMapToTheirLibraryFormat) {
  for (const DetectCase& c : kDetectCases) {
    SCOPED_TRACE(c.family);
    const LibraryTemplate* found = DetectLibraryTemplate(c.jinja);
    if (c.expected == nullptr) {
      EXPECT_EQ(found, nullptr) << "got " << found->name;
    } else {
      ASSERT_NE(found, nullptr);
      EXPECT_EQ(found->name, c.expected);
    }
  }
}

}  // namespace
}  // namespace corral::tmpl
