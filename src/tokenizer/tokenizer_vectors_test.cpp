// llama.cpp's tokenizer test vectors (test-tokenizer-0): every string of every vocab file that
// has vectors must give exactly the expected ids (add_special = false, parse_special = false).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/testdata.h"
#include "tokenizer/tokenizer.h"

namespace corral::tokenizer {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The .inp file: strings separated by "\n__ggml_vocab_test__\n" (the file ends with one).
std::vector<std::string> ReadInputs(const std::string& path) {
  const std::string text = ReadAll(path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(separator, pos);
    if (hit == std::string::npos) break;
    out.push_back(text.substr(pos, hit - pos));
    pos = hit + separator.size();
  }
  return out;
}

std::vector<std::vector<int32_t>> ReadOutputs(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<int32_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ids(line);
    std::vector<int32_t> row;
    for (int32_t id; ids >> id;) row.push_back(id);
    out.push_back(std::move(row));
  }
  return out;
}

class VectorsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VectorsTest, MatchesLlamaCppVectors) {
  const std::string base = "vocab/ggml-vocab-" + GetParam() + ".gguf";
  REQUIRE_SHARED_TESTDATA(model, base);
  REQUIRE_SHARED_TESTDATA(inputs_path, base + ".inp");
  REQUIRE_SHARED_TESTDATA(outputs_path, base + ".out");
  auto file = gguf::GgufFile::Open(model);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto tokenizer = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();

  const std::vector<std::string> inputs = ReadInputs(inputs_path);
  const std::vector<std::vector<int32_t>> outputs = ReadOutputs(outputs_path);
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(outputs.size(), inputs.size());
  int matched = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = (*tokenizer)->Encode(inputs[i], false, false);
    EXPECT_EQ(ids, outputs[i]) << "string " << i << ": '" << inputs[i] << "'";
    matched += ids == outputs[i];
  }
  EXPECT_EQ(matched, 46);
  std::cout << "[ vectors  ] " << GetParam() << ": " << matched << "/46\n";
}

INSTANTIATE_TEST_SUITE_P(VocabFiles, VectorsTest,
                         ::testing::Values("bert-bge", "deepseek-coder", "deepseek-llm", "falcon",
                                           "gpt-2", "llama-spm", "mpt", "phi-3", "refact",
                                           "starcoder"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace corral::tokenizer
