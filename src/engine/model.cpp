#include "engine/model.h"

#include "base/log.h"
#include "base/thread_pool.h"
#include "engine/arch/registry.h"
#include "kernels/gemm.h"

namespace corral::engine {

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const LoadOptions& options) {
  std::unique_ptr<Model> model(new Model());
  ASSIGN_OR_RETURN(model->file_, gguf::GgufFile::Open(path));
  const gguf::GgufFile& file = *model->file_;

  ASSIGN_OR_RETURN(std::string_view arch_name, file.GetString("general.architecture"));
  model->arch_ = FindArch(arch_name);
  if (model->arch_ == nullptr) {
    std::string known;
    for (const ArchDef* arch : Architectures())
      known += (known.empty() ? "" : ", ") + std::string(arch->name);
    return UnsupportedError("model architecture '" + std::string(arch_name) +
                            "' is not supported (supported: " + known + ")");
  }
  ASSIGN_OR_RETURN(model->hparams_, model->arch_->read_hparams(file));
  HParams& hp = model->hparams_;
  const gguf::TensorInfo* embd = file.FindTensor("token_embd.weight");
  if (embd == nullptr) return NotFoundError("model is missing tensor 'token_embd.weight'");
  if (embd->n_dims != 2 || embd->ne[1] == 0 || embd->ne[1] > (1u << 24)) {
    return CorruptionError("tensor 'token_embd.weight' has shape " + embd->ShapeString() +
                           ", expected [n_embd, n_vocab]");
  }
  hp.n_vocab = static_cast<int64_t>(embd->ne[1]);
  RETURN_IF_ERROR(ValidateHParams(hp));

  WeightBinder binder(file);
  RETURN_IF_ERROR(model->arch_->bind(binder, hp, &model->weights_));
  for (const gguf::TensorInfo& t : file.tensors()) model->tensor_bytes_ += t.n_bytes;
  auto matrix_bytes = [](const Weight& w) -> uint64_t {
    return w.present() ? static_cast<uint64_t>(w.n_rows) * w.row_bytes : 0;
  };
  for (const LayerWeights& l : model->weights_.layers) {
    for (const Weight* w : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.gate, &l.up, &l.down}) {
      model->bytes_per_token_ += matrix_bytes(*w);
    }
  }
  model->bytes_per_token_ += matrix_bytes(model->weights_.output);

  if (options.pack_weights) model->PackWeights(options.n_threads);

  auto tok = tokenizer::Tokenizer::FromGguf(file);
  if (!tok.ok()) return tok.status().WithContext("loading the tokenizer");
  model->tokenizer_ = std::move(tok).value();
  if (model->tokenizer_->n_tokens() > hp.n_vocab) {
    // Some files carry extra (multimodal) tokens past the embedding rows; those can never be
    // fed to the model, and encoding plain text never produces them.
    LOG(kWarn) << "tokenizer has " << model->tokenizer_->n_tokens() << " tokens but token_embd has "
               << hp.n_vocab << " rows";
  }
  LOG(kInfo) << "loaded model arch=" << hp.arch << " layers=" << hp.n_layer << " embd=" << hp.n_embd
             << " heads=" << hp.n_head << "/" << hp.n_head_kv << " vocab=" << hp.n_vocab
             << " bytes=" << model->tensor_bytes_;
  return model;
}

void Model::PackWeights(int n_threads) {
  ThreadPool pool(n_threads > 0 ? n_threads : ThreadPool::DefaultThreadCount());
  // Source ranges already packed. Faulting in the first pages of a matrix maps the whole
  // page-cache folio around them (up to 2 MiB on recent kernels), which can bring back the tail
  // of the matrix packed before it; all are dropped once more at the end.
  std::vector<std::pair<const uint8_t*, size_t>> released;
  auto pack = [&](Weight* w) {
    if (!w->present() || !kernels::PackingPays(w->type)) return;
    // The forward pass reads only the packed copy from now on; the file's pages are let go
    // chunk by chunk as they are packed, so the model never sits in memory twice. A tied output
    // matrix is also token_embd, whose rows are then read from the file (Context::EmbedTokens).
    auto packed = std::make_unique<kernels::PackedWeights>(kernels::Pack(
        w->type, w->data, w->row_bytes, w->n_rows, w->n_cols, &pool,
        [&](const uint8_t* rows, size_t n_bytes) { file_->ReleasePages(rows, n_bytes); }));
    packed_bytes_ += packed->bytes();
    w->packed = packed.get();
    packed_.push_back(std::move(packed));
    released.emplace_back(w->data, static_cast<size_t>(w->n_rows) * w->row_bytes);
  };
  for (LayerWeights& l : weights_.layers) {
    for (Weight* w : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.gate, &l.up, &l.down}) pack(w);
  }
  pack(&weights_.output);
  // Nothing reads the packed matrices' file pages any more: drop whatever came back.
  for (const auto& [data, n_bytes] : released) file_->ReleasePages(data, n_bytes);
  if (packed_bytes_ > 0) {
    LOG(kDebug) << "repacked " << packed_.size() << " matrices (" << (packed_bytes_ >> 20)
                << " MiB)";
  }
}

}  // namespace corral::engine
