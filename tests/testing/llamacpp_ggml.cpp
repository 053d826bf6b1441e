#include "testing/llamacpp_ggml.h"

#include "testing/reference.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <type_traits>
#include <vector>

namespace corral::testing {

const LlamaCppKernels* LlamaCppKernels::Get(std::string* why) {
  static LlamaCppKernels* loaded = [&]() -> LlamaCppKernels* {
    std::string dir =
        reference::ReferenceDir() + "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
    // The variant llama.cpp's own loader would score highest on this CPU.
    const char* variant =
        __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16") ? "zen4"
        : __builtin_cpu_supports("avx512f")                                          ? "skylakex"
        : __builtin_cpu_supports("avx2")                                             ? "haswell"
                                                                                     : "x64";
    std::string path = dir + "/libggml-cpu-" + variant + ".so";
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      *why = "llama.cpp's CPU kernels are not installed (" + path +
             "): run tools/reference/install.sh";
      return nullptr;
    }
    auto init = reinterpret_cast<void (*)()>(dlsym(handle, "ggml_cpu_init"));
    auto traits = reinterpret_cast<const GgmlTypeTraitsCpu* (*)(int)>(
        dlsym(handle, "ggml_get_type_traits_cpu"));
    if (init == nullptr || traits == nullptr) {
      *why = path + " lacks ggml_cpu_init / ggml_get_type_traits_cpu";
      return nullptr;
    }
    // libggml-cpu depends on libggml-base, so it is loaded now; find its quantizer there.
    void* base = dlopen((dir + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    auto quantize =
        base == nullptr
            ? nullptr
            : reinterpret_cast<size_t (*)(int, const float*, void*, int64_t, int64_t, int64_t,
                                          const float*)>(dlsym(base, "ggml_quantize_chunk"));
    auto base_traits =
        base == nullptr
            ? nullptr
            : reinterpret_cast<const GgmlTypeTraits* (*)(int)>(dlsym(base, "ggml_get_type_traits"));
    if (quantize == nullptr || base_traits == nullptr) {
      *why = dir + "/libggml-base.so lacks ggml_quantize_chunk or ggml_get_type_traits";
      return nullptr;
    }
    init();  // fills ggml's fp16 tables
    auto* k = new LlamaCppKernels();
    k->get_traits_ = traits;
    k->quantize_chunk_ = quantize;
    k->get_base_traits_ = base_traits;
    k->library_ = path;
    return k;
  }();
  if (loaded == nullptr && why->empty()) *why = "llama.cpp's CPU kernels could not be loaded";
  return loaded;
}

}  // namespace corral::testing

namespace corral::testing {

// The ggml / ggml-backend C API (ggml.h, ggml-backend.h, ggml-alloc.h, ggml-cpu.h) as opaque
// pointers: only the functions below touch the structs.
struct LlamaCppMatMul::Impl {
  struct InitParams {  // struct ggml_init_params
    size_t mem_size;
    void* mem_buffer;
    bool no_alloc;
  };
  void* (*init)(InitParams) = nullptr;
  void (*free_ctx)(void*) = nullptr;
  void* (*new_tensor_2d)(void*, int, int64_t, int64_t) = nullptr;
  void* (*mul_mat)(void*, void*, void*) = nullptr;
  void* (*new_graph)(void*) = nullptr;
  void (*build_forward_expand)(void*, void*) = nullptr;
  void* (*alloc_ctx_tensors_from_buft)(void*, void*) = nullptr;
  void (*buffer_free)(void*) = nullptr;
  void (*tensor_set)(void*, const void*, size_t, size_t) = nullptr;
  void (*tensor_get)(const void*, void*, size_t, size_t) = nullptr;
  size_t (*nbytes)(const void*) = nullptr;
  int (*graph_compute)(void*, void*) = nullptr;
  void (*backend_free)(void*) = nullptr;
  void* (*cpu_buffer_type)() = nullptr;
  const char* (*buft_name)(void*) = nullptr;
  void* (*reg_get_proc_address)(void*, const char*) = nullptr;
  void* (*reg_dev_get)(void*, size_t) = nullptr;
  void* (*cpu_init)() = nullptr;
  void (*cpu_set_n_threads)(void*, int) = nullptr;
  void* (*cpu_reg)() = nullptr;

  void* weight_ctx = nullptr;  // W alone, in the CPU or the repack buffer type
  void* io_ctx = nullptr;      // x, y and the graph
  void* weight_buffer = nullptr;
  void* io_buffer = nullptr;
  void* backend = nullptr;
  void* w = nullptr;  // ggml [n_cols, n_rows]
  void* x = nullptr;  // ggml [n_cols, n_tokens] F32
  void* y = nullptr;  // ggml [n_rows, n_tokens] F32
  void* graph = nullptr;
  mutable std::vector<float> y_host;  // [n_tokens, n_rows]

  ~Impl() {
    if (weight_buffer != nullptr) buffer_free(weight_buffer);
    if (io_buffer != nullptr) buffer_free(io_buffer);
    if (backend != nullptr) backend_free(backend);
    if (weight_ctx != nullptr) free_ctx(weight_ctx);
    if (io_ctx != nullptr) free_ctx(io_ctx);
  }
};

std::unique_ptr<LlamaCppMatMul> LlamaCppMatMul::Create(int ggml_type, int64_t n_rows,
                                                       int64_t n_cols, int64_t n_tokens,
                                                       bool repack, int n_threads,
                                                       const void* weights, std::string* why) {
  const LlamaCppKernels* kernels = LlamaCppKernels::Get(why);
  if (kernels == nullptr) return nullptr;
  // Both libraries are loaded by Get(); RTLD_NOLOAD hands back the same handles.
  const std::string dir = kernels->library().substr(0, kernels->library().rfind('/'));
  void* base = dlopen((dir + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_NOLOAD);
  void* cpu = dlopen(kernels->library().c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (base == nullptr || cpu == nullptr) {
    *why = "ggml libraries not loaded";
    return nullptr;
  }
  std::unique_ptr<LlamaCppMatMul> m(new LlamaCppMatMul());
  m->impl_ = std::make_unique<Impl>();
  Impl& g = *m->impl_;
  bool ok = true;
  auto sym = [&](void* lib, const char* name, auto* fn) {
    void* p = dlsym(lib, name);
    if (p == nullptr) {
      *why = std::string("missing ggml symbol ") + name;
      ok = false;
    }
    *fn = reinterpret_cast<std::remove_reference_t<decltype(*fn)>>(p);
  };
  sym(base, "ggml_init", &g.init);
  sym(base, "ggml_free", &g.free_ctx);
  sym(base, "ggml_new_tensor_2d", &g.new_tensor_2d);
  sym(base, "ggml_mul_mat", &g.mul_mat);
  sym(base, "ggml_new_graph", &g.new_graph);
  sym(base, "ggml_build_forward_expand", &g.build_forward_expand);
  sym(base, "ggml_backend_alloc_ctx_tensors_from_buft", &g.alloc_ctx_tensors_from_buft);
  sym(base, "ggml_backend_buffer_free", &g.buffer_free);
  sym(base, "ggml_backend_tensor_set", &g.tensor_set);
  sym(base, "ggml_backend_tensor_get", &g.tensor_get);
  sym(base, "ggml_nbytes", &g.nbytes);
  sym(base, "ggml_backend_graph_compute", &g.graph_compute);
  sym(base, "ggml_backend_free", &g.backend_free);
  sym(base, "ggml_backend_cpu_buffer_type", &g.cpu_buffer_type);
  sym(base, "ggml_backend_buft_name", &g.buft_name);
  sym(base, "ggml_backend_reg_get_proc_address", &g.reg_get_proc_address);
  sym(base, "ggml_backend_reg_dev_get", &g.reg_dev_get);
  sym(cpu, "ggml_backend_cpu_init", &g.cpu_init);
  sym(cpu, "ggml_backend_cpu_set_n_threads", &g.cpu_set_n_threads);
  sym(cpu, "ggml_backend_cpu_reg", &g.cpu_reg);
  if (!ok) return nullptr;

  void* weight_buft = g.cpu_buffer_type();
  if (repack) {
    // What llama.cpp's loader does: ask the CPU device for its extra buffer types and keep
    // the weight in "CPU_REPACK" when that layout exists for the type (x86: repack.cpp's
    // ggml_repack_get_optimal_repack_type takes Q4_0, Q4_K, IQ4_NL, MXFP4, and Q2_K with
    // AVX-512, with rows a multiple of 8; other types would crash its set_tensor).
    constexpr int kQ4_0 = 2, kQ4_K = 12, kIQ4_NL = 20;
    if ((ggml_type != kQ4_0 && ggml_type != kQ4_K && ggml_type != kIQ4_NL) || n_rows % 8 != 0) {
      *why = "llama.cpp has no x86 repacked layout for this type";
      return nullptr;
    }
    void* reg = g.cpu_reg();
    auto get_extra = reinterpret_cast<void** (*)(void*)>(
        g.reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts"));
    weight_buft = nullptr;
    for (void** b = get_extra != nullptr ? get_extra(g.reg_dev_get(reg, 0)) : nullptr;
         b != nullptr && *b != nullptr; ++b) {
      if (std::string(g.buft_name(*b)) == "CPU_REPACK") weight_buft = *b;
    }
    if (weight_buft == nullptr) {
      *why = "ggml-cpu has no CPU_REPACK buffer type";
      return nullptr;
    }
  }
  m->buffer_type_ = g.buft_name(weight_buft);

  constexpr int kF32 = 0;
  const size_t overhead = 64 * 1024 * 1024 / 64;  // tensor and graph headers only (no_alloc)
  g.weight_ctx = g.init({overhead, nullptr, true});
  g.io_ctx = g.init({overhead, nullptr, true});
  g.w = g.new_tensor_2d(g.weight_ctx, ggml_type, n_cols, n_rows);
  g.x = g.new_tensor_2d(g.io_ctx, kF32, n_cols, n_tokens);
  g.y = g.mul_mat(g.io_ctx, g.w, g.x);
  g.graph = g.new_graph(g.io_ctx);
  g.build_forward_expand(g.graph, g.y);
  g.weight_buffer = g.alloc_ctx_tensors_from_buft(g.weight_ctx, weight_buft);
  g.io_buffer = g.alloc_ctx_tensors_from_buft(g.io_ctx, g.cpu_buffer_type());
  g.backend = g.cpu_init();
  if (g.weight_buffer == nullptr || g.io_buffer == nullptr || g.backend == nullptr) {
    *why = "ggml could not allocate the mul_mat buffers";
    return nullptr;
  }
  g.cpu_set_n_threads(g.backend, n_threads);
  g.tensor_set(g.w, weights, 0, g.nbytes(g.w));  // the repack buffer repacks here
  g.y_host.resize(static_cast<size_t>(n_rows * n_tokens));
  return m;
}

LlamaCppMatMul::~LlamaCppMatMul() = default;

void LlamaCppMatMul::SetInput(const float* x) {
  impl_->tensor_set(impl_->x, x, 0, impl_->nbytes(impl_->x));
}

void LlamaCppMatMul::Compute() { impl_->graph_compute(impl_->backend, impl_->graph); }

const float* LlamaCppMatMul::output() const {
  impl_->tensor_get(impl_->y, impl_->y_host.data(), 0, impl_->y_host.size() * sizeof(float));
  return impl_->y_host.data();
}

}  // namespace corral::testing
