// corral-modelgen: writes a random-weight GGUF model of a preset shape and file type, for
// engine tests and `make bench` (see model_factory.h).
//   corral-modelgen --preset llama32-1b --type q4_K_M /tmp/llama32-1b-q4_K_M.gguf
// Exit status: 0 written, 1 the write failed, 2 bad arguments.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "modelgen/model_factory.h"
#include "quantize/recipe.h"

int main(int argc, char** argv) {
  using namespace corral;
  CLI::App app("Writes a GGUF model with random weights and a synthesized tokenizer.",
               "corral-modelgen");
  std::string preset, type_name = "f32", out;
  uint32_t seed = 1;
  int threads = 0;
  app.add_option("--preset", preset, "model shape: " + modelgen::PresetNames())->required();
  app.add_option("--type", type_name, "file type: " + quantize::FileTypeNames());
  app.add_option("--seed", seed, "weight and vocabulary seed");
  app.add_option("-t,--threads", threads, "quantization threads (0: all cores)");
  app.add_option("output", out, "the GGUF file to write")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  Result<modelgen::ModelSpec> spec = modelgen::PresetSpec(preset);
  if (!spec.ok()) {
    std::fprintf(stderr, "corral-modelgen: %s\n", spec.status().message().c_str());
    return 2;
  }
  spec->seed = seed;
  std::optional<quantize::FileType> type = quantize::FileTypeFromName(type_name);
  if (!type) {
    std::fprintf(stderr, "corral-modelgen: unknown type '%s' (known: %s)\n", type_name.c_str(),
                 quantize::FileTypeNames().c_str());
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  Status status = modelgen::MakeModelFile(*spec, *type, out, threads);
  if (!status.ok()) {
    std::fprintf(stderr, "corral-modelgen: %s\n", status.ToString().c_str());
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s (%s %s, %.1f MiB) in %.1f s\n", out.c_str(), preset.c_str(),
              std::string(quantize::FileTypeName(*type)).c_str(),
              std::filesystem::file_size(out) / 1048576.0, seconds);
  return 0;
}
