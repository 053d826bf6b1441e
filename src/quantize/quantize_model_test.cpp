#include "quantize/quantize_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "tensor/dequantize.h"

namespace corral::quantize {
namespace {

using gguf::GgmlType;

class QuantizeModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("corral-quant-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    // A 2-layer llama-shaped model with Gaussian F32 weights, width 256.
    std::mt19937 rng(7);
    std::normal_distribution<float> gauss(0.f, 1.f);
    gguf::GgufWriter w;
    ASSERT_TRUE(w.Set("general.architecture", gguf::MetaValue::String("llama")).ok());
    ASSERT_TRUE(w.Set("llama.block_count", gguf::MetaValue::U32(2)).ok());
    ASSERT_TRUE(w.Set("llama.attention.head_count", gguf::MetaValue::U32(4)).ok());
    auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
      uint64_t n = 1;
      for (uint64_t d : shape) n *= d;
      std::vector<float> values(n);
      for (float& v : values) v = gauss(rng);
      data_[name] = values;
      ASSERT_TRUE(w.AddTensor(name, GgmlType::kF32, shape,
                              std::span(reinterpret_cast<const uint8_t*>(data_[name].data()),
                                        n * sizeof(float)))
                      .ok());
    };
    add("token_embd.weight", {256, 64});
    add("output_norm.weight", {256});
    add("output.weight", {256, 64});
    for (int i = 0; i < 2; ++i) {
      std::string p = "blk." + std::to_string(i) + ".";
      add(p + "attn_norm.weight", {256});
      add(p + "attn_v.weight", {256, 32});
      add(p + "ffn_down.weight", {512, 256});
    }
    input_ = (dir_ / "f32.gguf").string();
    ASSERT_TRUE(w.Write(input_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // RMS error of a tensor in `file` against the original floats.
  double Rmse(const gguf::GgufFile& file, const std::string& name) {
    const gguf::TensorInfo* t = file.FindTensor(name);
    std::vector<float> back(t->n_elements);
    tensor::DequantizeRow(t->type, t->data, back.data(), static_cast<int64_t>(t->n_elements));
    double sum = 0;
    for (size_t i = 0; i < back.size(); ++i) sum += std::pow(back[i] - data_[name][i], 2);
    return std::sqrt(sum / back.size());
  }

  std::filesystem::path dir_;
  std::string input_;
  std::map<std::string, std::vector<float>> data_;
};

TEST_F(QuantizeModelTest, Q4KMFollowsTheRecipeAndKeepsValues) {
  std::string out = (dir_ / "q4km.gguf").string();
  std::vector<TensorProgress> seen;
  QuantizeOptions options;
  options.file_type = FileType::kQ4_K_M;
  options.n_threads = 2;
  options.on_tensor = [&](const TensorProgress& p) { seen.push_back(p); };
  auto report = QuantizeModel(input_, out, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->n_tensors, 9u);
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(seen.back().index, 9u);

  auto file = gguf::GgufFile::Open(out);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const gguf::GgufFile& f = **file;
  EXPECT_EQ(*f.GetUint("general.file_type"), 15u);
  EXPECT_EQ(*f.GetUint("general.quantization_version"), 2u);
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(f.FindTensor("output.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ(f.FindTensor("token_embd.weight")->type, GgmlType::kQ4_K);
  EXPECT_EQ(f.FindTensor("output_norm.weight")->type, GgmlType::kF32);
  // n = 2 layers: use_more_bits(0, 2) is false (0 < 2/8 = 0 fails, 0 >= 7*2/8 = 1 fails,
  // (0 - 0) % 3 != 2); use_more_bits(1, 2) is true (1 >= 1).
  EXPECT_EQ(f.FindTensor("blk.0.attn_v.weight")->type, GgmlType::kQ4_K);
  EXPECT_EQ(f.FindTensor("blk.1.attn_v.weight")->type, GgmlType::kQ6_K);
  EXPECT_EQ(f.FindTensor("blk.0.ffn_down.weight")->type, GgmlType::kQ4_K);
  EXPECT_EQ(f.FindTensor("blk.1.ffn_down.weight")->type, GgmlType::kQ6_K);
  // Tensor order follows llama.cpp: non-layer tensors first, then by layer.
  EXPECT_EQ(f.tensors().front().name, "output.weight");
  EXPECT_EQ(f.tensors().back().name, "blk.1.ffn_down.weight");

  // Values survive within what 4.5 and 6.5 bits allow on unit Gaussians.
  EXPECT_LT(Rmse(f, "token_embd.weight"), 0.12);
  EXPECT_LT(Rmse(f, "output.weight"), 0.04);
  EXPECT_EQ(Rmse(f, "output_norm.weight"), 0.0);
  EXPECT_GT(Rmse(f, "token_embd.weight"), 0.0) << "a 4-bit copy cannot be exact";
}

TEST_F(QuantizeModelTest, Q8_0AndF16) {
  for (auto [ft, type, bound] : {std::tuple{FileType::kQ8_0, GgmlType::kQ8_0, 0.01},
                                 std::tuple{FileType::kF16, GgmlType::kF16, 0.001}}) {
    std::string out = (dir_ / "out.gguf").string();
    QuantizeOptions options;
    options.file_type = ft;
    auto report = QuantizeModel(input_, out, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    auto file = gguf::GgufFile::Open(out);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ((*file)->FindTensor("blk.0.ffn_down.weight")->type, type);
    EXPECT_EQ((*file)->FindTensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);
    EXPECT_LT(Rmse(**file, "blk.0.ffn_down.weight"), bound);
  }
}

TEST_F(QuantizeModelTest, RequantizingNeedsConsent) {
  std::string q8 = (dir_ / "q8.gguf").string(), q4 = (dir_ / "q4.gguf").string();
  QuantizeOptions options;
  options.file_type = FileType::kQ8_0;
  ASSERT_TRUE(QuantizeModel(input_, q8, options).ok());
  options.file_type = FileType::kQ4_0;
  auto refused = QuantizeModel(q8, q4, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("pass --allow-requantize"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(q4));
  options.allow_requantize = true;
  ASSERT_TRUE(QuantizeModel(q8, q4, options).ok());
}

TEST_F(QuantizeModelTest, BadInputIsAnError) {
  QuantizeOptions options;
  auto missing = QuantizeModel((dir_ / "nope.gguf").string(), (dir_ / "x.gguf").string(), options);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace corral::quantize
