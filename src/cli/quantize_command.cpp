// `corral quantize IN.gguf OUT.gguf TYPE`: llama.cpp's quantization recipes (q4_K_M, q8_0, ...)
// with a line of progress per tensor.
#include <cstdio>

#include "cli/cli.h"
#include "cli/commands.h"
#include "quantize/quantize_model.h"

namespace corral::cli {
namespace {

std::string Size(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f MiB", bytes / (1024.0 * 1024.0));
  }
  return buf;
}

struct QuantizeArgs {
  std::string input, output, type;
  bool allow_requantize = false;
  int threads = 0;
};

int Quantize(const QuantizeArgs& args, CommandIo& io) {
  std::optional<quantize::FileType> file_type = quantize::FileTypeFromName(args.type);
  if (!file_type) {
    io.err << "Error: unknown quantization type \"" << args.type
           << "\" (supported: " << quantize::FileTypeNames() << ")\n";
    return kExitUsage;
  }
  quantize::QuantizeOptions options;
  options.file_type = *file_type;
  options.allow_requantize = args.allow_requantize;
  options.n_threads = args.threads;
  options.on_tensor = [&](const quantize::TensorProgress& p) {
    int width = static_cast<int>(std::to_string(p.total).size());
    char head[32];
    std::snprintf(head, sizeof head, "[%*zu/%zu] ", width, p.index, p.total);
    io.err << head << p.name << " " << p.shape << " " << gguf::TypeInfo(p.from).name;
    if (p.from == p.to) {
      io.err << ", kept, " << Size(p.bytes_in) << "\n";
    } else {
      io.err << " -> " << gguf::TypeInfo(p.to).name << ", " << Size(p.bytes_in) << " -> "
             << Size(p.bytes_out) << "\n";
    }
    io.err.flush();
  };
  auto report = quantize::QuantizeModel(args.input, args.output, options);
  if (!report.ok()) {
    io.err << "Error: " << report.status().message() << "\n";
    return kExitFailure;
  }
  io.out << "quantized " << args.input << " to " << quantize::FileTypeName(*file_type) << ": "
         << Size(report->bytes_in) << " -> " << Size(report->bytes_out) << ", "
         << report->n_converted << " of " << report->n_tensors << " tensors converted";
  if (report->n_fallback > 0) {
    io.out << ", " << report->n_fallback << " with a fallback type (rows not divisible)";
  }
  io.out << "\nwrote " << args.output << "\n";
  return kExitOk;
}

}  // namespace

Command QuantizeCommand() {
  return Command{
      .name = "quantize",
      .aliases = {},
      .summary = "Quantize a GGUF model (q4_K_M, q8_0, ...)",
      .setup = [](CLI::App& app) -> CommandAction {
        auto args = std::make_shared<QuantizeArgs>();
        app.add_option("INPUT", args->input, "source GGUF file (F32, F16 or BF16)")->required();
        app.add_option("OUTPUT", args->output, "GGUF file to write")->required();
        app.add_option("TYPE", args->type, "quantization type: " + quantize::FileTypeNames())
            ->required();
        app.add_flag("--allow-requantize", args->allow_requantize,
                     "allow a source whose tensors are already quantized");
        app.add_option("-t,--threads", args->threads, "threads (default: all cores)")
            ->check(CLI::NonNegativeNumber);
        return [args](CommandIo& io) { return Quantize(*args, io); };
      },
  };
}

}  // namespace corral::cli
