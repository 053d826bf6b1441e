#include "testing/llamacpp_ggml.h"

#include "testing/reference.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

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
