// The model factory writes files our reader accepts, with the tensors and metadata each
// architecture needs, weights of the intended scale, tokenizers that hang together, and the
// same bytes for the same seed.
#include "modelgen/model_factory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <unordered_set>

#include "gguf/gguf_reader.h"
#include "modelgen/model_vocab.h"
#include "tensor/dequantize.h"

namespace corral::modelgen {
namespace {

class ModelFactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("corral-modelgen-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  std::unique_ptr<gguf::GgufFile> Write(const ModelSpec& spec, const std::string& name) {
    Status s = WriteRandomModel(spec, Path(name));
    EXPECT_TRUE(s.ok()) << s.ToString();
    auto file = gguf::GgufFile::Open(Path(name));
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(*file) : nullptr;
  }

  std::filesystem::path dir_;
};

std::vector<float> Values(const gguf::TensorInfo& t) {
  std::vector<float> out(t.n_elements);  // [n_elements]
  tensor::DequantizeRow(t.type, t.data, out.data(), static_cast<int64_t>(t.n_elements));
  return out;
}

double Stddev(const std::vector<float>& v) {
  double sum = 0, sq = 0;
  for (float x : v) sum += x, sq += double(x) * x;
  double mean = sum / v.size();
  return std::sqrt(sq / v.size() - mean * mean);
}

TEST_F(ModelFactoryTest, EveryTinyArchitectureHasItsTensorsAndKeys) {
  for (const std::string& arch : SupportedArchitectures()) {
    SCOPED_TRACE(arch);
    auto spec = TinySpec(arch);
    ASSERT_TRUE(spec.ok());
    auto file = Write(*spec, arch + ".gguf");
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(*file->GetString("general.architecture"), arch);
    EXPECT_EQ(*file->GetUint(arch + ".embedding_length"), 256u);
    EXPECT_EQ(*file->GetUint(arch + ".block_count"), 2u);
    EXPECT_EQ(*file->GetUint(arch + ".attention.head_count"), 4u);
    auto tokens = file->GetArray("tokenizer.ggml.tokens", gguf::ValueType::kString);
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();

    const gguf::TensorInfo* embd = file->FindTensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->ne[0], 256u);
    EXPECT_EQ(embd->ne[1], static_cast<uint64_t>(spec->n_vocab));
    EXPECT_EQ(embd->type, gguf::GgmlType::kF32);

    const bool bert = arch == "bert" || arch == "nomic-bert";
    if (bert) {
      EXPECT_TRUE(file->GetFloat(arch + ".attention.layer_norm_epsilon").ok());
      EXPECT_EQ(*file->GetBool(arch + ".attention.causal"), false);
      EXPECT_EQ(*file->GetUint(arch + ".pooling_type"), 1u);
      EXPECT_EQ(*file->GetString("tokenizer.ggml.model"), "bert");
      EXPECT_NE(file->FindTensor("token_types.weight"), nullptr);
      EXPECT_NE(file->FindTensor("blk.1.layer_output_norm.bias"), nullptr);
      EXPECT_EQ(file->FindTensor("output.weight"), nullptr);
      EXPECT_EQ(file->FindTensor("position_embd.weight") != nullptr, arch == "bert");
      EXPECT_EQ(file->FindTensor("blk.0.attn_qkv.weight") != nullptr, arch == "nomic-bert");
      EXPECT_EQ(file->FindTensor("blk.0.ffn_gate.weight") != nullptr, arch == "nomic-bert");
    } else {
      EXPECT_TRUE(file->GetFloat(arch + ".attention.layer_norm_rms_epsilon").ok());
      EXPECT_EQ(*file->GetUint(arch + ".attention.key_length"),
                static_cast<uint64_t>(spec->HeadDim()));
      EXPECT_NE(file->FindTensor("output_norm.weight"), nullptr);
      EXPECT_EQ(file->FindTensor("output.weight") == nullptr, spec->tied_output);
      EXPECT_NE(file->FindTensor("blk.1.ffn_down.weight"), nullptr);
    }
    EXPECT_EQ(file->FindTensor("blk.0.attn_q.bias") != nullptr, arch == "qwen2" || arch == "bert");
    EXPECT_EQ(file->FindTensor("blk.0.attn_q_norm.weight") != nullptr,
              arch == "qwen3" || arch == "gemma3");
    EXPECT_EQ(file->FindTensor("blk.0.post_ffw_norm.weight") != nullptr, arch == "gemma3");
    if (arch == "gemma3") {
      EXPECT_EQ(*file->GetUint("gemma3.attention.sliding_window"), 512u);
    }
    if (arch == "phi3") {
      const gguf::TensorInfo* qkv = file->FindTensor("blk.0.attn_qkv.weight");
      ASSERT_NE(qkv, nullptr);
      EXPECT_EQ(qkv->ne[1], 3u * 256u);
      EXPECT_EQ(file->FindTensor("blk.0.ffn_up.weight")->ne[1], 2u * 512u);
    }
    if (arch == "qwen3") {
      EXPECT_EQ(file->FindTensor("blk.0.attn_q.weight")->ne[1], 4u * 128u);
      EXPECT_EQ(file->FindTensor("blk.0.attn_output.weight")->ne[0], 4u * 128u);
    }
    // Every row length is a multiple of 256, so K-quants apply without fallback.
    for (const gguf::TensorInfo& t : file->tensors()) {
      if (t.n_dims >= 2) {
        EXPECT_EQ(t.ne[0] % 256, 0u) << t.name;
      }
    }
  }
}

TEST_F(ModelFactoryTest, WeightsHaveTheIntendedScale) {
  ModelSpec spec = *TinySpec("llama");
  auto file = Write(spec, "scale.gguf");
  ASSERT_NE(file, nullptr);
  for (const gguf::TensorInfo& t : file->tensors()) {
    std::vector<float> v = Values(t);
    for (float x : v) ASSERT_TRUE(std::isfinite(x)) << t.name;
    std::string name(t.name);
    if (name.find("norm") != std::string::npos) {
      for (float x : v) ASSERT_NEAR(x, 1.0f, spec.norm_jitter + 1e-6f) << name;
    } else if (name == "output.weight") {
      EXPECT_NEAR(Stddev(v), spec.logit_scale / 16.0, 0.02) << name;
    } else if (name != "token_embd.weight") {
      EXPECT_NEAR(Stddev(v) * std::sqrt(double(t.ne[0])), 1.0, 0.05) << name;
    }
  }
}

TEST_F(ModelFactoryTest, SameSeedSameBytesOtherSeedOtherBytes) {
  ModelSpec spec = *TinySpec("qwen2");
  ASSERT_TRUE(WriteRandomModel(spec, Path("a.gguf")).ok());
  ASSERT_TRUE(WriteRandomModel(spec, Path("b.gguf")).ok());
  spec.seed = 2;
  ASSERT_TRUE(WriteRandomModel(spec, Path("c.gguf")).ok());
  auto read = [&](const std::string& n) {
    std::ifstream in(Path(n), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read("a.gguf"), read("b.gguf"));
  EXPECT_NE(read("a.gguf"), read("c.gguf"));
}

TEST_F(ModelFactoryTest, MakeModelQuantizesWithTheRecipe) {
  ModelSpec spec = *TinySpec("llama");
  auto path = MakeModel(spec, quantize::FileType::kQ4_K_M, dir_.string());
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, Path("tiny-llama-Q4_K_M.gguf"));
  auto file = gguf::GgufFile::Open(*path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(*file->get()->GetUint("general.file_type"), 15u);
  EXPECT_EQ((*file)->FindTensor("blk.0.attn_q.weight")->type, gguf::GgmlType::kQ4_K);
  EXPECT_EQ((*file)->FindTensor("output.weight")->type, gguf::GgmlType::kQ6_K);
  EXPECT_EQ((*file)->FindTensor("blk.0.attn_norm.weight")->type, gguf::GgmlType::kF32);
  // Only the result is left behind (the F32 base file is removed).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);

  auto f16 = MakeModel(spec, quantize::FileType::kF16, dir_.string());
  ASSERT_TRUE(f16.ok()) << f16.status().ToString();
  auto f16_file = gguf::GgufFile::Open(*f16);
  ASSERT_TRUE(f16_file.ok());
  EXPECT_EQ((*f16_file)->FindTensor("blk.0.ffn_up.weight")->type, gguf::GgmlType::kF16);
}

TEST_F(ModelFactoryTest, Llama3RopeFactorsFollowTheLlama3Scaling) {
  ModelSpec spec = *TinySpec("llama");
  spec.llama3_rope_freqs = true;
  spec.rope_freq_base = 500000.0f;
  auto file = Write(spec, "rope.gguf");
  ASSERT_NE(file, nullptr);
  const gguf::TensorInfo* t = file->FindTensor("rope_freqs.weight");
  ASSERT_NE(t, nullptr);
  std::vector<float> f = Values(*t);
  ASSERT_EQ(f.size(), 32u);    // head_dim 64 / 2
  EXPECT_EQ(f.front(), 1.0f);  // high frequencies unscaled
  EXPECT_EQ(f.back(), 32.0f);  // low frequencies divided by the factor
  for (size_t i = 1; i < f.size(); ++i) EXPECT_GE(f[i], f[i - 1]);
}

TEST(ModelVocabTest, BpeMergesBuildVocabularyTokens) {
  auto v = MakeBpeVocab(2000, "qwen2", 7);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->tokens.size(), 2000u);
  std::unordered_set<std::string> tokens(v->tokens.begin(), v->tokens.end());
  EXPECT_EQ(tokens.size(), 2000u) << "tokens are unique";
  EXPECT_TRUE(tokens.contains("\xc4\xa0"));  // "Ġ": space
  EXPECT_TRUE(tokens.contains("\xc4\x8a"));  // "Ċ": newline
  ASSERT_FALSE(v->merges.empty());
  for (const std::string& m : v->merges) {
    size_t space = m.find(' ');
    ASSERT_NE(space, std::string::npos);
    std::string left = m.substr(0, space), right = m.substr(space + 1);
    ASSERT_TRUE(tokens.contains(left) && tokens.contains(right) && tokens.contains(left + right))
        << m;
  }
  EXPECT_EQ(v->tokens[v->eos], "<|endoftext|>");
  EXPECT_EQ(v->token_types[v->eos], 3);
}

TEST(ModelVocabTest, SpmHasByteTokensAndWpmHasSpecials) {
  auto spm = MakeSpmVocab(1024, 1, true);
  ASSERT_TRUE(spm.ok());
  EXPECT_EQ(spm->tokens[0], "<unk>");
  EXPECT_EQ(spm->tokens[3 + 0x41], "<0x41>");
  EXPECT_EQ(spm->token_types[3 + 0x41], 6);
  EXPECT_GT(spm->scores[300], spm->scores[301]);
  auto wpm = MakeWpmVocab(1024, 1);
  ASSERT_TRUE(wpm.ok());
  EXPECT_EQ(wpm->tokens[wpm->bos], "[CLS]");
  EXPECT_EQ(wpm->tokens[wpm->sep], "[SEP]");
  EXPECT_EQ(wpm->tokens[wpm->unk], "[UNK]");
  EXPECT_EQ(std::set<std::string>(wpm->tokens.begin(), wpm->tokens.end()).size(), 1024u);
  EXPECT_FALSE(MakeSpmVocab(100, 1, true).ok()) << "too small for the byte tokens";
}

TEST(ModelVocabTest, FullSizeVocabulariesAreFast) {
  auto start = std::chrono::steady_clock::now();
  auto llama = MakeBpeVocab(128256, "llama-bpe", 1);
  auto qwen = MakeBpeVocab(151936, "qwen2", 1);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(llama.ok() && qwen.ok());
  EXPECT_EQ(llama->tokens[128000], "<|begin_of_text|>");
  EXPECT_EQ(llama->bos, 128000);
  EXPECT_EQ(qwen->tokens.size(), 151936u);
  EXPECT_LT(seconds, 10.0);
}

TEST(ModelFactorySpecTest, PresetsAndValidation) {
  EXPECT_EQ(PresetSpec("llama32-1b")->n_embd, 2048);
  EXPECT_EQ(PresetSpec("qwen25-05b")->n_vocab, 151936);
  EXPECT_EQ(PresetSpec("tiny-gemma3")->arch, "gemma3");
  auto bad = PresetSpec("tiny-gpt5");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("llama32-1b"), std::string::npos);
  EXPECT_TRUE(ValidateSpec(Llama32_1BSpec()).ok());
  EXPECT_TRUE(ValidateSpec(Qwen25_05BSpec()).ok());
  ModelSpec spec = *TinySpec("llama");
  spec.n_head_kv = 3;
  EXPECT_FALSE(ValidateSpec(spec).ok());
  spec = *TinySpec("llama");
  spec.arch = "gpt5";
  EXPECT_FALSE(WriteRandomModel(spec, "/nonexistent/x.gguf").ok());
}

}  // namespace
}  // namespace corral::modelgen
