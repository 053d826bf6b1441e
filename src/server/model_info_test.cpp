// GGUF facts in Ollama's words: number and file-type formatting, model_info, capabilities.
#include "server/model_info.h"

#include <gtest/gtest.h>

#include "server/model_facts.h"
#include "server/server_test_util.h"

namespace corral::server {
namespace {

using nlohmann::json;

TEST(ModelInfoTest, HumanNumber) {
  EXPECT_EQ(HumanNumber(0), "0");
  EXPECT_EQ(HumanNumber(999), "999");
  EXPECT_EQ(HumanNumber(1000), "1K");
  EXPECT_EQ(HumanNumber(137'500), "138K");
  EXPECT_EQ(HumanNumber(1'000'000), "1M");
  EXPECT_EQ(HumanNumber(137'000'000), "137M");
  EXPECT_EQ(HumanNumber(22'620'000), "22.62M");
  EXPECT_EQ(HumanNumber(8'000'000'000), "8B");
  EXPECT_EQ(HumanNumber(3'212'749'888), "3.2B");
  EXPECT_EQ(HumanNumber(7'615'616'512), "7.6B");
}

TEST(ModelInfoTest, FileAndTensorTypeNames) {
  EXPECT_EQ(FileTypeString(0), "F32");
  EXPECT_EQ(FileTypeString(1), "F16");
  EXPECT_EQ(FileTypeString(7), "Q8_0");
  EXPECT_EQ(FileTypeString(15), "Q4_K_M");
  EXPECT_EQ(FileTypeString(30), "IQ4_XS");
  EXPECT_EQ(FileTypeString(32), "BF16");
  EXPECT_EQ(FileTypeString(4), "unknown");  // removed from llama.cpp
  EXPECT_EQ(FileTypeString(1000), "unknown");
  EXPECT_EQ(TensorTypeString(gguf::GgmlType::kQ4_K), "Q4_K");
  EXPECT_EQ(TensorTypeString(gguf::GgmlType::kIQ4_XS), "IQ4_XS");
  EXPECT_EQ(TensorTypeString(gguf::GgmlType::kBF16), "BF16");
}

TEST(ModelInfoTest, ModelInfoFromAGguf) {
  test_util::ModelSpec spec;
  spec.chat_template = "{{ x }}";
  std::vector<uint8_t> bytes = test_util::MakeGguf(spec);
  auto file = gguf::GgufFile::Parse(bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  json info = json::parse(GgufModelInfo(**file, false).dump());
  EXPECT_FALSE(info.contains("general.name"));
  EXPECT_FALSE(info.contains("tokenizer.chat_template"));
  EXPECT_EQ(info["general.architecture"], "llama");
  EXPECT_TRUE(info["tokenizer.ggml.scores"].is_null());
  // Keys come out sorted, as Go marshals a map.
  std::string dumped = GgufModelInfo(**file, false).dump();
  EXPECT_LT(dumped.find("general.architecture"), dumped.find("llama.context_length"));
  EXPECT_LT(dumped.find("llama.context_length"), dumped.find("tokenizer.ggml.model"));
  json verbose = json::parse(GgufModelInfo(**file, true).dump());
  EXPECT_EQ(verbose["tokenizer.ggml.scores"], json({0, 0, 0, -1, -2, -3, -4, -5}));
  EXPECT_EQ(ParameterCount(**file), 64u * 8 + 64);
  EXPECT_EQ(ArchUint(**file, "context_length"), 4096u);
  EXPECT_TRUE(HasArchKey(**file, "rope.freq_base"));
  EXPECT_FALSE(HasArchKey(**file, "pooling_type"));
}

TEST(ModelFactsTest, ThinkingTagsFromTheTemplate) {
  EXPECT_TRUE(TemplateHasThinkingTags(
      "{{- range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ end }}"));
  EXPECT_TRUE(TemplateHasThinkingTags(
      "{{ range $i, $m := .Messages }}<|thought|>\n{{- .Thinking -}}\n<|/thought|>{{ end }}"));
  // Outside the messages loop, or without literal tags on both sides: no thinking.
  EXPECT_FALSE(
      TemplateHasThinkingTags("<think>{{ .Thinking }}</think>{{ range .Messages }}{{ end }}"));
  EXPECT_FALSE(TemplateHasThinkingTags("{{ range .Messages }}{{ .Thinking }}{{ end }}"));
  EXPECT_FALSE(TemplateHasThinkingTags("{{ .Prompt }}"));
}

TEST(ModelFactsTest, DetailsAndCapabilitiesWithoutWeights) {
  LocalModel m;
  m.config = {{"model_format", "gguf"},
              {"model_family", "gptoss"},
              {"capabilities", {"completion", "tools"}},
              {"context_length", 8192}};
  ModelFacts facts = ComputeModelFacts(m, nullptr);
  EXPECT_EQ(facts.details.ToJson().dump(),
            R"({"parent_model":"","format":"gguf","family":"gptoss","families":null,)"
            R"("parameter_size":"","quantization_level":"","context_length":8192})");
  EXPECT_EQ(facts.capabilities, (std::vector<std::string>{"completion", "tools", "thinking"}));
}

}  // namespace
}  // namespace corral::server
