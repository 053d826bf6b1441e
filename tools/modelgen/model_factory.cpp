#include "modelgen/model_factory.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numbers>

#include "gguf/gguf_writer.h"
#include "modelgen/model_vocab.h"
#include "quantize/quantize_model.h"
#include "tensor/fp16.h"

namespace corral::modelgen {
namespace {

using gguf::GgmlType;
using gguf::MetaValue;

// How a tensor's values are drawn.
enum class Init {
  kGaussian,   // mean 0, standard deviation `stddev` (matrices, embeddings, biases)
  kNearOne,    // uniform in 1 ± stddev (norm weights)
  kRopeFreqs,  // Llama 3 frequency factors (computed, not random)
};

struct TensorDef {
  std::string name;
  std::vector<uint64_t> shape;  // ne[0] first
  Init init = Init::kGaussian;
  float stddev = 0;  // kNearOne: the jitter
  float center = 1;  // kNearOne: the value the weights scatter around
};

bool IsBert(const std::string& arch) { return arch == "bert" || arch == "nomic-bert"; }

// The tensors llama.cpp's loader asks for (llama-model.cpp load_tensors) for the spec's arch.
std::vector<TensorDef> BuildTensors(const ModelSpec& s) {
  const uint64_t d = s.n_embd, v = s.n_vocab, f = s.n_ff, hd = s.HeadDim();
  const uint64_t q = hd * s.n_head, kv = hd * s.n_head_kv;
  const float embd_out_std = s.logit_scale / std::sqrt(static_cast<float>(d));
  std::vector<TensorDef> t;
  auto matrix = [&](std::string name, uint64_t in, uint64_t out) {
    t.push_back({std::move(name),
                 {in, out},
                 Init::kGaussian,
                 s.proj_gain / std::sqrt(static_cast<float>(in))});
  };
  auto norm = [&](std::string name, uint64_t n) {
    t.push_back({std::move(name), {n}, Init::kNearOne, s.norm_jitter});
  };
  // Gemma scales the embedding by sqrt(n_embd), so with a tied matrix the token's own row would
  // dominate the residual stream (and the logits: the input token wins, one-hot). Larger
  // post-norm weights give the layers a comparable share, as trained Gemma weights do.
  auto post_norm = [&](std::string name) {
    const float gain =
        s.post_norm_gain > 0 ? s.post_norm_gain : 0.5f * std::sqrt(static_cast<float>(d));
    t.push_back({std::move(name), {d}, Init::kNearOne, s.norm_jitter * gain, gain});
  };
  auto bias = [&](std::string name, uint64_t n) {
    t.push_back({std::move(name), {n}, Init::kGaussian, s.bias_std});
  };

  // A tied matrix serves as the output projection too, so it gets the output's scale.
  t.push_back({"token_embd.weight",
               {d, v},
               Init::kGaussian,
               s.tied_output && !IsBert(s.arch) ? embd_out_std : s.embd_std});
  if (IsBert(s.arch)) {
    // Absolute positions (bert only) and token types are added to the token embedding before
    // the first LayerNorm; smaller so the token still dominates.
    t.push_back({"token_types.weight", {d, 2}, Init::kGaussian, 0.5f * s.embd_std});
    if (s.arch == "bert") {
      t.push_back({"position_embd.weight",
                   {d, static_cast<uint64_t>(s.n_ctx_train)},
                   Init::kGaussian,
                   0.5f * s.embd_std});
    }
    norm("token_embd_norm.weight", d);
    bias("token_embd_norm.bias", d);
  } else {
    norm("output_norm.weight", d);
    if (!s.tied_output) {
      t.push_back({"output.weight", {d, v}, Init::kGaussian, embd_out_std});
    }
    if (s.llama3_rope_freqs) t.push_back({"rope_freqs.weight", {hd / 2}, Init::kRopeFreqs, 0});
  }

  for (int il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    if (IsBert(s.arch)) {
      if (s.arch == "bert") {
        matrix(p + "attn_q.weight", d, q);
        bias(p + "attn_q.bias", q);
        matrix(p + "attn_k.weight", d, kv);
        bias(p + "attn_k.bias", kv);
        matrix(p + "attn_v.weight", d, kv);
        bias(p + "attn_v.bias", kv);
      } else {
        matrix(p + "attn_qkv.weight", d, q + 2 * kv);  // Q rows, then K, then V
      }
      matrix(p + "attn_output.weight", q, d);
      if (s.arch == "bert") bias(p + "attn_output.bias", d);
      norm(p + "attn_output_norm.weight", d);
      bias(p + "attn_output_norm.bias", d);
      matrix(p + "ffn_up.weight", d, f);
      if (s.arch == "bert") {
        bias(p + "ffn_up.bias", f);
      } else {
        matrix(p + "ffn_gate.weight", d, f);
      }
      matrix(p + "ffn_down.weight", f, d);
      if (s.arch == "bert") bias(p + "ffn_down.bias", d);
      norm(p + "layer_output_norm.weight", d);
      bias(p + "layer_output_norm.bias", d);
      continue;
    }
    norm(p + "attn_norm.weight", d);
    if (s.arch == "phi3") {
      matrix(p + "attn_qkv.weight", d, q + 2 * kv);
    } else {
      matrix(p + "attn_q.weight", d, q);
      matrix(p + "attn_k.weight", d, kv);
      matrix(p + "attn_v.weight", d, kv);
    }
    if (s.arch == "qwen2") {
      bias(p + "attn_q.bias", q);
      bias(p + "attn_k.bias", kv);
      bias(p + "attn_v.bias", kv);
    }
    if (s.arch == "qwen3" || s.arch == "gemma3") {
      norm(p + "attn_q_norm.weight", hd);  // per head, before RoPE
      norm(p + "attn_k_norm.weight", hd);
    }
    matrix(p + "attn_output.weight", q, d);
    if (s.arch == "gemma3") post_norm(p + "post_attention_norm.weight");
    norm(p + "ffn_norm.weight", d);
    if (s.arch == "phi3") {
      matrix(p + "ffn_up.weight", d, 2 * f);  // gate half, then up half
    } else {
      matrix(p + "ffn_gate.weight", d, f);
      matrix(p + "ffn_up.weight", d, f);
    }
    matrix(p + "ffn_down.weight", f, d);
    if (s.arch == "gemma3") post_norm(p + "post_ffw_norm.weight");
  }
  return t;
}

// splitmix64 stream; Gaussian-ish values from the sum of four 16-bit uniforms (Irwin-Hall,
// variance 4/12 before scaling): an order of magnitude faster than std::normal_distribution,
// which matters for the 1.2 G values of the Llama-3.2-1B shape, and bounded at ±3.46 sigma.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float Gaussian() {
    uint64_t r = Next();
    uint32_t sum = static_cast<uint32_t>(r & 0xffff) + static_cast<uint32_t>((r >> 16) & 0xffff) +
                   static_cast<uint32_t>((r >> 32) & 0xffff) + static_cast<uint32_t>(r >> 48);
    constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(3) / 2^16: unit variance
    return (static_cast<float>(sum) - 2.0f * 65535.0f) * kScale;
  }
  float Uniform() { return static_cast<float>(Next() >> 40) * 0x1p-24f; }  // [0, 1)

 private:
  uint64_t state_;
};

uint64_t TensorSeed(uint32_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a over the name, keyed by the seed
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Llama 3 "llama3" RoPE scaling baked into per-frequency factors (θ is divided by them): 1 for
// high frequencies, `factor` for low ones, a smooth blend between.
std::vector<float> Llama3RopeFactors(int n_rot, float base) {
  constexpr double kFactor = 32, kLow = 1, kHigh = 4, kOrigCtx = 8192;
  std::vector<float> out;  // [n_rot / 2]
  for (int i = 0; i < n_rot / 2; ++i) {
    double freq = std::pow(static_cast<double>(base), -2.0 * i / n_rot);
    double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < kOrigCtx / kHigh) {
      out.push_back(1.0f);
    } else if (wavelen > kOrigCtx / kLow) {
      out.push_back(static_cast<float>(kFactor));
    } else {
      double smooth = (kOrigCtx / wavelen - kLow) / (kHigh - kLow);
      out.push_back(static_cast<float>(1.0 / ((1 - smooth) / kFactor + smooth)));
    }
  }
  return out;
}

Status FillTensor(const ModelSpec& spec, const TensorDef& def, GgmlType type,
                  std::span<uint8_t> out) {
  const size_t n = out.size() / (type == GgmlType::kF32 ? 4 : 2);
  if (def.init == Init::kRopeFreqs) {
    std::vector<float> factors = Llama3RopeFactors(spec.HeadDim(), spec.rope_freq_base);
    if (factors.size() != n || type != GgmlType::kF32) return InternalError("rope_freqs size");
    std::memcpy(out.data(), factors.data(), n * sizeof(float));
    return Status::Ok();
  }
  Rng rng(TensorSeed(spec.seed, def.name));
  constexpr size_t kChunk = 4096;
  float buf[kChunk];  // [kChunk] values before conversion
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = std::min(kChunk, n - i);
    if (def.init == Init::kNearOne) {
      for (size_t j = 0; j < m; ++j)
        buf[j] = def.center + def.stddev * (2.0f * rng.Uniform() - 1.0f);
    } else {
      for (size_t j = 0; j < m; ++j) buf[j] = def.stddev * rng.Gaussian();
    }
    if (type == GgmlType::kF32) {
      std::memcpy(out.data() + i * 4, buf, m * 4);
    } else {
      uint16_t half[kChunk];  // [kChunk]
      tensor::Fp32ToFp16Row(buf, half, static_cast<int64_t>(m));
      std::memcpy(out.data() + i * 2, half, m * 2);
    }
  }
  return Status::Ok();
}

Result<Vocab> BuildVocab(const ModelSpec& s) {
  std::string kind = s.tokenizer;
  if (kind.empty()) {
    if (IsBert(s.arch)) {
      kind = "bert";
    } else if (s.arch == "qwen2" || s.arch == "qwen3") {
      kind = "gpt2";
    } else {
      kind = "llama";
    }
  }
  if (kind == "llama" && s.arch == "phi3") {
    // llama.cpp looks these up by text for models named phi3 (special-token attributes), and
    // Phi-3 ends turns with <|end|>.
    ASSIGN_OR_RETURN(Vocab v, MakeSpmVocab(s.n_vocab, s.seed, true,
                                           {"<|endoftext|>", "<|assistant|>", "<|system|>",
                                            "<|end|>", "<|user|>"}));
    v.eos = s.n_vocab - 5;
    v.eot = s.n_vocab - 2;
    return v;
  }
  if (kind == "llama") {
    return MakeSpmVocab(s.n_vocab, s.seed, /*add_space_prefix=*/s.arch != "gemma3");
  }
  if (kind == "bert") return MakeWpmVocab(s.n_vocab, s.seed);
  if (kind == "chars") return MakeCharVocab(s.n_vocab);
  if (kind == "gpt2") {
    std::string pre = s.bpe_pre;
    if (pre.empty()) pre = (s.arch == "qwen2" || s.arch == "qwen3") ? "qwen2" : "llama-bpe";
    return MakeBpeVocab(s.n_vocab, pre, s.seed);
  }
  return InvalidArgumentError("unknown tokenizer '" + kind + "' (llama, gpt2, bert or chars)");
}

Status WriteHyperparameters(const ModelSpec& s, gguf::GgufWriter* w) {
  const std::string a = s.arch + ".";
  auto u32 = [&](const std::string& key, int value) {
    return w->Set(a + key, MetaValue::U32(static_cast<uint32_t>(value)));
  };
  RETURN_IF_ERROR(u32("context_length", s.n_ctx_train));
  RETURN_IF_ERROR(u32("embedding_length", s.n_embd));
  RETURN_IF_ERROR(u32("block_count", s.n_layer));
  RETURN_IF_ERROR(u32("feed_forward_length", s.n_ff));
  RETURN_IF_ERROR(u32("attention.head_count", s.n_head));
  RETURN_IF_ERROR(u32("attention.head_count_kv", s.n_head_kv));
  RETURN_IF_ERROR(u32("vocab_size", s.n_vocab));
  if (IsBert(s.arch)) {
    RETURN_IF_ERROR(w->Set(a + "attention.layer_norm_epsilon", MetaValue::F32(s.norm_eps)));
    RETURN_IF_ERROR(w->Set(a + "attention.causal", MetaValue::Bool(false)));
    RETURN_IF_ERROR(u32("pooling_type", s.pooling_type));
    if (s.arch == "nomic-bert") {
      RETURN_IF_ERROR(w->Set(a + "rope.freq_base", MetaValue::F32(s.rope_freq_base)));
    }
    return Status::Ok();
  }
  RETURN_IF_ERROR(w->Set(a + "attention.layer_norm_rms_epsilon", MetaValue::F32(s.norm_eps)));
  RETURN_IF_ERROR(u32("attention.key_length", s.HeadDim()));
  RETURN_IF_ERROR(u32("attention.value_length", s.HeadDim()));
  RETURN_IF_ERROR(u32("rope.dimension_count", s.HeadDim()));
  RETURN_IF_ERROR(w->Set(a + "rope.freq_base", MetaValue::F32(s.rope_freq_base)));
  if (s.arch == "gemma3") RETURN_IF_ERROR(u32("attention.sliding_window", s.sliding_window));
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& SupportedArchitectures() {
  static const std::vector<std::string> kArchs = {"llama", "qwen2", "qwen3",     "gemma3",
                                                  "phi3",  "bert",  "nomic-bert"};
  return kArchs;
}

Result<ModelSpec> TinySpec(std::string_view arch) {
  const auto& archs = SupportedArchitectures();
  if (std::find(archs.begin(), archs.end(), arch) == archs.end()) {
    std::string names;
    for (const std::string& a : archs) names += (names.empty() ? "" : ", ") + a;
    return InvalidArgumentError("unknown architecture '" + std::string(arch) +
                                "' (known: " + names + ")");
  }
  ModelSpec s;
  s.arch = std::string(arch);
  s.name = "tiny-" + s.arch;
  if (arch == "qwen2" || arch == "qwen3") {
    s.tied_output = true;
    s.rope_freq_base = 1e6f;
    s.norm_eps = 1e-6f;
    if (arch == "qwen3") s.head_dim = 128;  // q/k/v wider than n_embd, as in Qwen3
  } else if (arch == "gemma3") {
    s.tied_output = true;
    s.rope_freq_base = 1e6f;
    s.norm_eps = 1e-6f;
  } else if (arch == "phi3") {
    s.n_head_kv = s.n_head;
    s.n_ctx_train = 4096;
  } else if (arch == "bert" || arch == "nomic-bert") {
    s.n_head_kv = s.n_head;
    s.norm_eps = 1e-12f;
    s.n_ctx_train = arch == "bert" ? 512 : 2048;
    if (arch == "nomic-bert") s.rope_freq_base = 1000.0f;
  }
  return s;
}

ModelSpec Llama32_1BSpec() {
  ModelSpec s;
  s.arch = "llama";
  s.name = "llama32-1b";
  s.n_vocab = 128256;
  s.n_embd = 2048;
  s.n_layer = 16;
  s.n_head = 32;
  s.n_head_kv = 8;
  s.n_ff = 8192;
  s.n_ctx_train = 131072;
  s.tied_output = true;
  s.tokenizer = "gpt2";
  s.bpe_pre = "llama-bpe";
  s.rope_freq_base = 500000.0f;
  s.llama3_rope_freqs = true;
  s.norm_eps = 1e-5f;
  s.base_type = GgmlType::kF16;
  return s;
}

ModelSpec Qwen25_05BSpec() {
  ModelSpec s;
  s.arch = "qwen2";
  s.name = "qwen25-05b";
  s.n_vocab = 151936;
  s.n_embd = 896;
  s.n_layer = 24;
  s.n_head = 14;
  s.n_head_kv = 2;
  s.n_ff = 4864;
  s.n_ctx_train = 32768;
  s.tied_output = true;
  s.tokenizer = "gpt2";
  s.bpe_pre = "qwen2";
  s.rope_freq_base = 1e6f;
  s.norm_eps = 1e-6f;
  s.base_type = GgmlType::kF16;
  return s;
}

std::string PresetNames() {
  std::string out = "llama32-1b, qwen25-05b";
  for (const std::string& a : SupportedArchitectures()) out += ", tiny-" + a;
  return out;
}

Result<ModelSpec> PresetSpec(std::string_view preset) {
  if (preset == "llama32-1b") return Llama32_1BSpec();
  if (preset == "qwen25-05b") return Qwen25_05BSpec();
  if (preset.starts_with("tiny-")) {
    auto spec = TinySpec(preset.substr(5));
    if (spec.ok()) return spec;
  }
  return InvalidArgumentError("unknown preset '" + std::string(preset) +
                              "' (known: " + PresetNames() + ")");
}

Status ValidateSpec(const ModelSpec& s) {
  const auto& archs = SupportedArchitectures();
  if (std::find(archs.begin(), archs.end(), s.arch) == archs.end()) {
    return InvalidArgumentError("unknown architecture '" + s.arch + "'");
  }
  auto positive = [](const char* what, int v) -> Status {
    if (v <= 0) return InvalidArgumentError(std::string(what) + " must be positive");
    return Status::Ok();
  };
  RETURN_IF_ERROR(positive("n_vocab", s.n_vocab));
  RETURN_IF_ERROR(positive("n_embd", s.n_embd));
  RETURN_IF_ERROR(positive("n_layer", s.n_layer));
  RETURN_IF_ERROR(positive("n_head", s.n_head));
  RETURN_IF_ERROR(positive("n_head_kv", s.n_head_kv));
  RETURN_IF_ERROR(positive("n_ff", s.n_ff));
  RETURN_IF_ERROR(positive("n_ctx_train", s.n_ctx_train));
  if (s.head_dim == 0 && s.n_embd % s.n_head != 0) {
    return InvalidArgumentError("n_embd must be a multiple of n_head when head_dim is 0");
  }
  if (s.n_head % s.n_head_kv != 0) {
    return InvalidArgumentError("n_head must be a multiple of n_head_kv");
  }
  if (s.HeadDim() % 2 != 0) return InvalidArgumentError("head_dim must be even (RoPE pairs)");
  if (IsBert(s.arch) && s.HeadDim() * s.n_head != s.n_embd) {
    return InvalidArgumentError("bert-style models need n_head * head_dim == n_embd");
  }
  if (s.base_type != GgmlType::kF32 && s.base_type != GgmlType::kF16) {
    return InvalidArgumentError("base_type must be F32 or F16");
  }
  if (s.llama3_rope_freqs && s.arch != "llama") {
    return InvalidArgumentError("rope_freqs (llama3 scaling) is for the llama architecture");
  }
  return Status::Ok();
}

Status WriteRandomModel(const ModelSpec& spec, const std::string& path) {
  RETURN_IF_ERROR(ValidateSpec(spec));
  ASSIGN_OR_RETURN(Vocab vocab, BuildVocab(spec));
  if (static_cast<int>(vocab.tokens.size()) != spec.n_vocab) {
    return InternalError("vocabulary has " + std::to_string(vocab.tokens.size()) + " tokens");
  }
  gguf::GgufWriter w;
  RETURN_IF_ERROR(w.Set("general.architecture", MetaValue::String(spec.arch)));
  RETURN_IF_ERROR(
      w.Set("general.name",
            MetaValue::String(spec.name.empty() ? "corral-random-" + spec.arch : spec.name)));
  RETURN_IF_ERROR(
      w.Set("general.file_type", MetaValue::U32(spec.base_type == GgmlType::kF16 ? 1u : 0u)));
  RETURN_IF_ERROR(w.Set("general.quantization_version", MetaValue::U32(2)));
  RETURN_IF_ERROR(WriteHyperparameters(spec, &w));
  RETURN_IF_ERROR(WriteVocab(vocab, &w));

  for (const TensorDef& def : BuildTensors(spec)) {
    const GgmlType type = def.shape.size() >= 2 ? spec.base_type : GgmlType::kF32;
    RETURN_IF_ERROR(w.AddTensor(
        def.name, type, def.shape,
        [&spec, def, type](std::span<uint8_t> out) { return FillTensor(spec, def, type, out); }));
  }
  return w.Write(path);
}

Status MakeModelFile(const ModelSpec& spec, quantize::FileType file_type, const std::string& path,
                     int n_threads) {
  if (file_type == quantize::FileType::kAllF32 ||
      (file_type == quantize::FileType::kF16 && spec.base_type == GgmlType::kF16)) {
    ModelSpec direct = spec;
    direct.base_type = file_type == quantize::FileType::kF16 ? GgmlType::kF16 : GgmlType::kF32;
    return WriteRandomModel(direct, path);
  }
  const std::string base = path + ".base-" + std::to_string(getpid()) + ".gguf";
  Status written = WriteRandomModel(spec, base);
  if (!written.ok()) {
    std::error_code ec;
    std::filesystem::remove(base, ec);
    return written;
  }
  quantize::QuantizeOptions options;
  options.file_type = file_type;
  options.n_threads = n_threads;
  Result<quantize::QuantizeReport> report = quantize::QuantizeModel(base, path, options);
  std::error_code ec;
  std::filesystem::remove(base, ec);
  if (!report.ok()) return report.status().WithContext("quantizing " + path);
  return Status::Ok();
}

Result<std::string> MakeModel(const ModelSpec& spec, quantize::FileType file_type,
                              const std::string& dir, int n_threads) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("creating " + dir + ": " + ec.message());
  const std::string name = spec.name.empty() ? "corral-random-" + spec.arch : spec.name;
  const std::string path = (std::filesystem::path(dir) /
                            (name + "-" + std::string(quantize::FileTypeName(file_type)) + ".gguf"))
                               .string();
  RETURN_IF_ERROR(MakeModelFile(spec, file_type, path, n_threads));
  return path;
}

}  // namespace corral::modelgen
