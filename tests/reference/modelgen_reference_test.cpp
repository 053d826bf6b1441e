// The random-weight models of tools/modelgen load and run in llama.cpp for every architecture
// and the file types the engine tests use: the synthesized tokenizer turns ASCII text into
// known tokens, next-token distributions are finite and neither flat nor one-hot (embeddings
// finite and non-zero for bert / nomic-bert), and each quantized copy stays close to the F32
// model, which shows the file's tensors mean to llama.cpp what the factory meant.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "modelgen/model_factory.h"
#include "testing/reference.h"

namespace corral::testing {
namespace {

using quantize::FileType;

constexpr FileType kTypes[] = {FileType::kAllF32, FileType::kF16, FileType::kQ8_0,
                               FileType::kQ4_K_M};
// Mean KL divergence from the F32 model's distributions, per type (measured on these tiny
// models: F16 <1e-5, Q8_0 1e-3..3e-3, Q4_K_M 0.08..0.28; about twice that, so a wrong block
// layout or a tensor llama.cpp reads differently fails).
constexpr double kMaxKl[] = {0, 1e-4, 6e-3, 0.6};
// Cosine similarity to the F32 embedding, per type.
// (measured: F16 1.0, Q8_0 0.99994, Q4_K_M 0.9925).
constexpr double kMinCosine[] = {0.99999, 0.9999, 0.999, 0.98};

class ModelgenReferenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("corral-modelgen-ref-" + GetParam() + "-" + std::to_string(getpid()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The tiny model of the test's architecture in every type of kTypes.
  std::vector<std::string> MakeModels(const modelgen::ModelSpec& spec) {
    std::vector<std::string> paths;
    for (FileType type : kTypes) {
      auto path = modelgen::MakeModel(spec, type, dir_.string(), 2);
      EXPECT_TRUE(path.ok()) << path.status().ToString();
      if (path.ok()) paths.push_back(*path);
    }
    return paths;
  }

  std::filesystem::path dir_;
};

TEST_P(ModelgenReferenceTest, LlamaCppRunsEveryType) {
  auto spec = modelgen::TinySpec(GetParam());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  std::vector<std::string> models = MakeModels(*spec);
  ASSERT_EQ(models.size(), std::size(kTypes));
  const bool embedding = GetParam() == "bert" || GetParam() == "nomic-bert";
  const std::string text = "The quick brown fox jumps over the lazy dog, 42 times!";

  std::vector<nlohmann::json> requests = {
      {{"op", "tokenize"}, {"model", models[0]}, {"text", text}, {"add_special", true}},
      {{"op", "info"}, {"model", models[0]}}};
  // Fixed token ids spread over the vocabulary: the same prompt for every type.
  std::vector<int32_t> prompt;
  for (int i = 0; i < 12; ++i) prompt.push_back((37 + 83 * i) % spec->n_vocab);
  std::vector<int> positions = {3, 7, 11};
  for (const std::string& model : models) {
    if (embedding) {
      requests.push_back({{"op", "embed"}, {"model", model}, {"text", text}});
    } else {
      requests.push_back({{"op", "logprobs"},
                          {"model", model},
                          {"tokens", prompt},
                          {"positions", positions},
                          {"top_n", spec->n_vocab}});
    }
  }
  auto responses = reference::CallMany(requests);
  ASSERT_TRUE(responses.ok()) << responses.status().ToString();

  // Tokenization: real pieces, no unknown token, the model's BOS/CLS first where it adds one.
  std::vector<int32_t> tokens = (*responses)[0]["tokens"].get<std::vector<int32_t>>();
  ASSERT_GT(tokens.size(), 5u);
  EXPECT_LT(tokens.size(), text.size() + 3) << "at most one token per character";
  const nlohmann::json& info = (*responses)[1];
  if (info["add_bos"].get<bool>()) {
    EXPECT_EQ(tokens[0], info["bos"].get<int32_t>());
  }
  const nlohmann::json& md = info["metadata"]["tokenizer"]["ggml"];
  if (md.contains("unknown_token_id")) {
    for (int32_t t : tokens) EXPECT_NE(t, md["unknown_token_id"].get<int32_t>());
  }

  if (embedding) {
    std::vector<std::vector<float>> vectors;
    for (size_t i = 0; i < models.size(); ++i) {
      vectors.push_back((*responses)[2 + i]["embedding"].get<std::vector<float>>());
      ASSERT_EQ(vectors.back().size(), static_cast<size_t>(spec->n_embd)) << models[i];
      double norm = 0;
      for (float x : vectors.back()) {
        ASSERT_TRUE(std::isfinite(x)) << models[i];
        norm += double(x) * x;
      }
      EXPECT_GT(norm, 1e-3) << models[i];
      double dot = 0, norm0 = 0;
      for (size_t j = 0; j < vectors[0].size(); ++j) {
        dot += double(vectors[0][j]) * vectors.back()[j];
        norm0 += double(vectors[0][j]) * vectors[0][j];
      }
      double cosine = dot / std::sqrt(norm0 * norm);
      std::printf("%s %-7s cosine to F32 %.6f\n", GetParam().c_str(),
                  std::string(quantize::FileTypeName(kTypes[i])).c_str(), cosine);
      EXPECT_GT(cosine, kMinCosine[i]) << models[i];
    }
    return;
  }

  std::vector<std::vector<std::vector<double>>> dists;
  for (size_t i = 0; i < models.size(); ++i) {
    const nlohmann::json& r = (*responses)[2 + i];
    dists.push_back(reference::FullDistributions(r, spec->n_vocab));
    ASSERT_EQ(dists.back().size(), positions.size()) << models[i];
    for (const nlohmann::json& p : r["positions"]) {
      ASSERT_EQ(p["top"].size(), static_cast<size_t>(spec->n_vocab)) << models[i];
    }
    for (const std::vector<double>& pos : dists.back()) {
      double sum = 0, top = 0;
      for (double lp : pos) {
        ASSERT_FALSE(std::isnan(lp)) << models[i];
        if (std::isinf(lp)) continue;
        sum += std::exp(lp);
        top = std::max(top, std::exp(lp));
      }
      EXPECT_NEAR(sum, 1.0, 1e-3) << models[i];
      // Not flat (uniform would be 1/1024) and not one-hot.
      EXPECT_GT(top, 10.0 / spec->n_vocab) << models[i];
      EXPECT_LT(top, 0.99) << models[i];
    }
    double kl = reference::MeanKlDivergence(dists[0], dists.back());
    std::printf("%s %-7s mean KL to F32 %.6f, top-1 p %.3f\n", GetParam().c_str(),
                std::string(quantize::FileTypeName(kTypes[i])).c_str(), kl,
                std::exp(*std::max_element(dists.back()[0].begin(), dists.back()[0].end())));
    if (i > 0) {
      EXPECT_LT(kl, kMaxKl[i]) << models[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, ModelgenReferenceTest,
                         ::testing::ValuesIn(modelgen::SupportedArchitectures()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// The bench op answers with one positive rate per repetition.
TEST(ModelgenBenchTest, BenchReportsPromptAndGenerationRates) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("corral-modelgen-bench-" + std::to_string(getpid()));
  auto model = modelgen::MakeModel(*modelgen::TinySpec("llama"), FileType::kQ4_K_M, dir.string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto bench = reference::Bench(*model, 64, 8, 2, 1);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(bench.ok()) << bench.status().ToString();
  ASSERT_EQ(bench->pp.size(), 2u);
  ASSERT_EQ(bench->tg.size(), 2u);
  EXPECT_EQ(bench->threads, 1);
  for (double r : bench->pp) EXPECT_GT(r, 0);
  for (double r : bench->tg) EXPECT_GT(r, 0);
  std::printf("tiny llama Q4_K_M, 1 thread: pp64 %.0f t/s, tg8 %.0f t/s\n", bench->pp[0],
              bench->tg[0]);
}

}  // namespace
}  // namespace corral::testing
