// corral_benchmarks' main: runs the benchmarks as usual, then prints a summary of the
// matrix-vector results: our GB/s at the best CPU level next to llama.cpp's kernel on the same
// bytes (ratio), and as a share of the memory read bandwidth measured in this same run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      // With --benchmark_repetitions=N the summary keeps each benchmark's best run (its
      // aggregates are skipped): best-of-N is the least noisy figure on a shared machine.
      if (run.error_occurred || run.run_type == Run::RT_Aggregate) continue;
      double gbps = 0;
      if (auto it = run.counters.find("GB/s"); it != run.counters.end()) gbps = it->second;
      if (run.counters.count("bytes_per_second")) gbps = run.counters.at("bytes_per_second") / 1e9;
      std::string key = run.report_label.empty() ? run.benchmark_name() : run.report_label;
      if (run.benchmark_name().rfind("BM_MemoryRead", 0) == 0) {
        key = run.benchmark_name().find("threads:1/") != std::string::npos ? "memory 1t"
                                                                           : "memory 2t";
      }
      results[key] = std::max(results[key], gbps);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> results;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const auto& r = reporter.results;
  auto find = [&r](const std::string& key) {
    auto it = r.find(key);
    return it != r.end() ? it->second : 0.0;
  };
  bool any = false;
  for (const char* type : {"q4_K", "q6_K", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_K", "q3_K",
                           "q5_K", "f32", "f16", "bf16", "iq4_nl", "iq4_xs"}) {
    for (int t : {1, 2}) {
      const std::string suffix = " " + std::to_string(t) + "t";
      const double avx2 = find(std::string(type) + " avx2" + suffix);
      const double avx512 = find(std::string(type) + " avx512" + suffix);
      const double theirs = find(std::string(type) + " llama.cpp" + suffix);
      const double bw = find("memory" + suffix);
      const double ours = std::max(avx2, avx512);
      if (ours == 0) continue;
      if (!any) {
        std::printf(
            "\nmatvec 2048x8192 summary (GB/s of weights read; bandwidth from this run; "
            "ratio and %% use the better level)\n");
        std::printf("%-6s %-7s %8s %8s %11s %8s %12s\n", "type", "threads", "avx2", "avx512",
                    "llama.cpp", "ratio", "% bandwidth");
        any = true;
      }
      std::printf("%-6s %-7d %8.1f %8.1f %11.1f %8.2f %11.0f%%\n", type, t, avx2, avx512, theirs,
                  theirs > 0 ? ours / theirs : 0.0, bw > 0 ? 100.0 * ours / bw : 0.0);
    }
  }
  if (any)
    std::printf("memory read: %.1f GB/s (1t), %.1f GB/s (2t)\n", find("memory 1t"),
                find("memory 2t"));
  return 0;
}
