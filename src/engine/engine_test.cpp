// Engine behaviour on tiny random-weight models made by tools/modelgen (no test data needed):
// load errors, batch validation, batching and caching invariants (several sequences in one
// batch, a prompt in one batch vs token by token, prefix reuse, context shift), KV cache types,
// embeddings.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/context.h"
#include "engine/model.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "modelgen/model_factory.h"

namespace corral::engine {
namespace {

using quantize::FileType;

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("corral-engine-test-" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  // A tiny model of `arch`, made once per (arch, type, layers).
  static std::string Make(const std::string& arch, FileType type, int n_layer = 2) {
    auto spec = modelgen::TinySpec(arch);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    spec->n_layer = n_layer;
    spec->name = arch + "-l" + std::to_string(n_layer);
    auto path = modelgen::MakeModel(*spec, type, dir_->string(), 2);
    EXPECT_TRUE(path.ok()) << path.status().ToString();
    return path.ok() ? *path : "";
  }
  static std::unique_ptr<Model> Load(const std::string& path) {
    auto model = Model::Load(path, {.n_threads = 2});
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    return model.ok() ? std::move(model).value() : nullptr;
  }
  static std::unique_ptr<Context> NewContext(const Model& model, ContextOptions o) {
    if (o.n_threads == 0) o.n_threads = 2;
    auto ctx = Context::Create(model, o);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    return ctx.ok() ? std::move(ctx).value() : nullptr;
  }
  // Copies a GGUF file, letting `edit` change the metadata value of a key or drop a tensor.
  static std::string Rewrite(const std::string& src, const std::string& name,
                             const std::string& drop_tensor, const std::string& set_arch) {
    auto file = gguf::GgufFile::Open(src);
    EXPECT_TRUE(file.ok());
    gguf::GgufWriter w((*file)->alignment());
    for (const gguf::KeyValue& kv : (*file)->metadata()) {
      if (kv.key == "general.alignment") continue;
      if (kv.key == "general.architecture" && !set_arch.empty()) {
        EXPECT_TRUE(w.Set(kv.key, gguf::MetaValue::String(set_arch)).ok());
      } else {
        EXPECT_TRUE(w.Set(kv.key, gguf::MetaValue::From(kv.value)).ok());
      }
    }
    for (const gguf::TensorInfo& t : (*file)->tensors()) {
      if (t.name == drop_tensor) continue;
      std::vector<uint64_t> shape(t.ne.begin(), t.ne.begin() + t.n_dims);
      EXPECT_TRUE(
          w.AddTensor(t.name, t.type, shape, std::span<const uint8_t>(t.data, t.n_bytes)).ok());
    }
    std::string out = (*dir_ / name).string();
    EXPECT_TRUE(w.Write(out).ok());
    return out;
  }

  static std::filesystem::path* dir_;
};
std::filesystem::path* EngineTest::dir_ = nullptr;

std::vector<BatchToken> Prompt(const std::vector<int32_t>& tokens, int32_t seq) {
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch.push_back({.token = tokens[i], .seq = seq, .want_logits = i + 1 == tokens.size()});
  }
  return batch;
}

int32_t Argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

float MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::vector<int32_t> Tokens(int n, int seed) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(3 + (seed * 131 + i * 37) % 900);
  return t;
}

TEST_F(EngineTest, LoadErrorsNameTheProblem) {
  std::string good = Make("llama", FileType::kAllF32);
  auto unknown = Model::Load(Rewrite(good, "mamba.gguf", "", "mamba"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("'mamba'"), std::string::npos)
      << unknown.status().message();
  auto missing = Model::Load(Rewrite(good, "missing.gguf", "blk.1.ffn_up.weight", ""));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("blk.1.ffn_up.weight"), std::string::npos)
      << missing.status().message();
  // A llama file read as qwen2 lacks the q/k/v biases qwen2 requires... and its keys.
  auto wrong = Model::Load(Rewrite(good, "as-qwen2.gguf", "", "qwen2"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("qwen2."), std::string::npos) << wrong.status().message();
}

TEST_F(EngineTest, BadBatchesAreRefusedAndChangeNothing) {
  auto model = Load(Make("llama", FileType::kQ8_0));
  ASSERT_NE(model, nullptr);
  auto ctx = NewContext(*model, {.n_ctx = 16, .n_seq = 2});
  ASSERT_NE(ctx, nullptr);
  BatchToken bad_token{.token = 5000, .seq = 0};
  EXPECT_EQ(ctx->Decode({&bad_token, 1}).code(), StatusCode::kInvalidArgument);
  BatchToken bad_seq{.token = 5, .seq = 2};
  EXPECT_EQ(ctx->Decode({&bad_seq, 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx->Decode(Prompt(Tokens(17, 1), 0)).code(), StatusCode::kOutOfRange);
  std::vector<BatchToken> two_outputs = {{.token = 5, .seq = 0, .want_logits = true},
                                         {.token = 6, .seq = 1, .want_logits = true},
                                         {.token = 7, .seq = 1, .want_logits = true}};
  EXPECT_EQ(ctx->Decode(two_outputs).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx->Decode({}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx->SequenceLength(0), 0);
  EXPECT_EQ(ctx->SequenceLength(1), 0);
  auto too_many = Context::Create(*model, {.n_ctx = 0});
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
}

// A prompt decoded in one batch (matrix-matrix kernels) and token by token (matrix-vector)
// gives the same logits up to float summation order.
TEST_F(EngineTest, PromptInOneBatchEqualsTokenByToken) {
  for (FileType type : {FileType::kAllF32, FileType::kQ8_0, FileType::kQ4_K_M, FileType::kF16}) {
    auto model = Load(Make("llama", type));
    ASSERT_NE(model, nullptr);
    std::vector<int32_t> prompt = Tokens(20, 2);
    auto batched = NewContext(*model, {.n_ctx = 64, .kv_type = gguf::GgmlType::kF32});
    auto single = NewContext(*model, {.n_ctx = 64, .kv_type = gguf::GgmlType::kF32});
    ASSERT_TRUE(batched->Decode(Prompt(prompt, 0)).ok());
    for (int32_t t : prompt) {
      BatchToken one{.token = t, .seq = 0, .want_logits = true};
      ASSERT_TRUE(single->Decode({&one, 1}).ok());
    }
    // Activations are rounded to the weights' activation type (F16, Q8_0, Q8_K) before every
    // product, so a float-order difference of 1e-6 can flip a rounding and move a logit by
    // ~1e-3 (logits here have a standard deviation of 3).
    EXPECT_LT(MaxAbsDiff(batched->Logits(0), single->Logits(0)), 1e-2)
        << quantize::FileTypeName(type);
  }
}

// Four sequences decoded side by side give exactly the greedy tokens each gives alone.
TEST_F(EngineTest, FourSequencesInOneBatchMatchEachAlone) {
  for (const char* arch : {"llama", "qwen2"}) {
    auto model = Load(Make(arch, FileType::kQ8_0));
    ASSERT_NE(model, nullptr);
    const int kSteps = 16;
    std::vector<std::vector<int32_t>> prompts = {Tokens(5, 1), Tokens(9, 2), Tokens(3, 3),
                                                 Tokens(12, 4)};
    std::vector<std::vector<int32_t>> alone(4);
    for (int s = 0; s < 4; ++s) {
      auto ctx = NewContext(*model, {.n_ctx = 64});
      ASSERT_TRUE(ctx->Decode(Prompt(prompts[s], 0)).ok());
      for (int step = 0; step < kSteps; ++step) {
        int32_t next = Argmax(ctx->Logits(0));
        alone[s].push_back(next);
        BatchToken t{.token = next, .seq = 0, .want_logits = true};
        ASSERT_TRUE(ctx->Decode({&t, 1}).ok());
      }
    }
    auto ctx = NewContext(*model, {.n_ctx = 64, .n_seq = 4});
    std::vector<BatchToken> batch;
    for (int s = 0; s < 4; ++s) {
      for (BatchToken t : Prompt(prompts[s], s)) batch.push_back(t);
    }
    ASSERT_TRUE(ctx->Decode(batch).ok());
    std::vector<std::vector<int32_t>> together(4);
    for (int step = 0; step < kSteps; ++step) {
      batch.clear();
      for (int s = 0; s < 4; ++s) {
        int32_t next = Argmax(ctx->Logits(s));
        together[s].push_back(next);
        batch.push_back({.token = next, .seq = s, .want_logits = true});
      }
      ASSERT_TRUE(ctx->Decode(batch).ok());
    }
    EXPECT_EQ(together, alone) << arch;
  }
}

TEST_F(EngineTest, ReusedPrefixGivesTheSameLogitsAsAFreshContext) {
  auto model = Load(Make("llama", FileType::kQ4_K_M));
  ASSERT_NE(model, nullptr);
  std::vector<int32_t> first = Tokens(10, 5);
  std::vector<int32_t> second = first;
  second.resize(7);  // shares 7 tokens, then differs
  for (int32_t t : Tokens(6, 6)) second.push_back(t);

  auto cached = NewContext(*model, {.n_ctx = 64, .kv_type = gguf::GgmlType::kF32});
  ASSERT_TRUE(cached->Decode(Prompt(first, 0)).ok());
  int64_t kept = cached->ReusePrefix(0, second);
  EXPECT_EQ(kept, 7);
  std::vector<int32_t> rest(second.begin() + kept, second.end());
  ASSERT_TRUE(cached->Decode(Prompt(rest, 0)).ok());
  EXPECT_EQ(
      std::vector<int32_t>(cached->SequenceTokens(0).begin(), cached->SequenceTokens(0).end()),
      second);

  auto fresh = NewContext(*model, {.n_ctx = 64, .kv_type = gguf::GgmlType::kF32});
  ASSERT_TRUE(fresh->Decode(Prompt(second, 0)).ok());
  EXPECT_LT(MaxAbsDiff(cached->Logits(0), fresh->Logits(0)), 1e-2);

  // The same prompt again: everything but its last token is reused.
  EXPECT_EQ(cached->ReusePrefix(0, second), static_cast<int64_t>(second.size()) - 1);
}

// In a one-layer model a token's keys and values depend only on the token and its position, so
// after a context shift the cache must equal a fresh evaluation of the kept tokens at their new
// positions: that checks the moved cells and the re-rotated keys.
TEST_F(EngineTest, ContextShiftEqualsFreshEvaluationInOneLayerModel) {
  auto model = Load(Make("llama", FileType::kAllF32, 1));
  ASSERT_NE(model, nullptr);
  std::vector<int32_t> tokens = Tokens(24, 7);
  auto shifted = NewContext(*model, {.n_ctx = 24, .kv_type = gguf::GgmlType::kF32});
  ASSERT_TRUE(shifted->Decode(Prompt(tokens, 0)).ok());
  BatchToken next{.token = 42, .seq = 0, .want_logits = true};
  EXPECT_EQ(shifted->Decode({&next, 1}).code(), StatusCode::kOutOfRange);  // full
  ASSERT_TRUE(shifted->ShiftSequence(0, 4, 10).ok());
  EXPECT_EQ(shifted->SequenceLength(0), 14);
  ASSERT_TRUE(shifted->Decode({&next, 1}).ok());

  std::vector<int32_t> kept(tokens.begin(), tokens.begin() + 4);
  kept.insert(kept.end(), tokens.begin() + 14, tokens.end());
  kept.push_back(42);
  auto fresh = NewContext(*model, {.n_ctx = 24, .kv_type = gguf::GgmlType::kF32});
  ASSERT_TRUE(fresh->Decode(Prompt(kept, 0)).ok());
  EXPECT_LT(MaxAbsDiff(shifted->Logits(0), fresh->Logits(0)), 1e-3);
  EXPECT_EQ(shifted->ShiftSequence(0, 10, 10).code(), StatusCode::kInvalidArgument);
}

// F16 and Q8_0 caches stay close to F32 in next-token log-probabilities.
TEST_F(EngineTest, KvCacheTypesStayCloseToF32) {
  auto model = Load(Make("llama", FileType::kAllF32));
  ASSERT_NE(model, nullptr);
  std::vector<int32_t> prompt = Tokens(30, 8);
  auto logprobs = [&](gguf::GgmlType type) {
    auto ctx = NewContext(*model, {.n_ctx = 64, .kv_type = type});
    EXPECT_TRUE(ctx->Decode(Prompt(prompt, 0)).ok());
    std::span<const float> l = ctx->Logits(0);
    float max = *std::max_element(l.begin(), l.end());
    double sum = 0;
    for (float v : l) sum += std::exp(v - max);
    std::vector<double> out;
    for (float v : l) out.push_back(v - max - std::log(sum));
    return out;
  };
  std::vector<double> f32 = logprobs(gguf::GgmlType::kF32);
  for (auto [type, tol] : {std::pair{gguf::GgmlType::kF16, 5e-3}, {gguf::GgmlType::kQ8_0, 5e-2}}) {
    std::vector<double> other = logprobs(type);
    double worst = 0;
    for (size_t i = 0; i < f32.size(); ++i) worst = std::max(worst, std::abs(f32[i] - other[i]));
    EXPECT_LT(worst, tol) << gguf::TypeInfo(type).name;
    EXPECT_GT(worst, 0.0) << "a lossy cache type changed nothing: is it really used?";
  }
  EXPECT_FALSE(KvCacheTypeFromName("q4_0").ok());
  EXPECT_EQ(*KvCacheTypeFromName("Q8_0"), gguf::GgmlType::kQ8_0);
  EXPECT_EQ(*KvCacheTypeFromName(""), gguf::GgmlType::kF16);
}

TEST_F(EngineTest, EncoderEmbedsAndRefusesToGenerate) {
  auto model = Load(Make("bert", FileType::kAllF32));
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(model->is_embedding_model());
  auto ctx = NewContext(*model, {.n_ctx = 64});
  std::vector<int32_t> tokens = Tokens(8, 9);
  auto a = ctx->Embed(tokens);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(a->size()), model->hparams().n_embd);
  auto b = ctx->Embed(tokens);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b) << "embedding the same text twice must give the same vector";
  tokens[3] = 100;
  auto c = ctx->Embed(tokens);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
  BatchToken t{.token = 5};
  EXPECT_EQ(ctx->Decode({&t, 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ctx->Embed({}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace corral::engine
