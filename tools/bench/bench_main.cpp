// corral_benchmarks' main: runs the benchmarks as usual, then prints a summary of the
// matrix-vector results: our GB/s at the best CPU level next to llama.cpp's kernel on the same
// bytes (ratio), and as a share of the memory read bandwidth measured in this same run.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      double gbps = 0;
      if (auto it = run.counters.find("GB/s"); it != run.counters.end()) gbps = it->second;
      if (run.counters.count("bytes_per_second")) gbps = run.counters.at("bytes_per_second") / 1e9;
      std::string key = run.report_label.empty() ? run.benchmark_name() : run.report_label;
      if (run.benchmark_name().rfind("BM_MemoryRead", 0) == 0) {
        key = run.benchmark_name().find("threads:1/") != std::string::npos ? "memory 1t"
                                                                           : "memory 2t";
      }
      results[key] = gbps;
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
  bool any = false;
  for (const char* type : {"q4_K", "q6_K", "q8_0", "q4_0"}) {
    for (int t : {1, 2}) {
      std::string suffix = " " + std::to_string(t) + "t";
      auto ours = r.find(std::string(type) + " avx512" + suffix);
      if (ours == r.end()) ours = r.find(std::string(type) + " avx2" + suffix);
      auto theirs = r.find(std::string(type) + " llama.cpp" + suffix);
      auto memory = r.find("memory" + suffix);
      if (ours == r.end()) continue;
      if (!any) {
        std::printf("\nmatvec 2048x8192 summary (GB/s of weights read; bandwidth from this run)\n");
        std::printf("%-6s %-7s %9s %11s %8s %12s\n", "type", "threads", "corral", "llama.cpp",
                    "ratio", "% bandwidth");
        any = true;
      }
      double theirs_gbps = theirs != r.end() ? theirs->second : 0;
      double bw = memory != r.end() ? memory->second : 0;
      std::printf("%-6s %-7d %9.1f %11.1f %8.2f %11.0f%%\n", type, t, ours->second, theirs_gbps,
                  theirs_gbps > 0 ? ours->second / theirs_gbps : 0.0,
                  bw > 0 ? 100.0 * ours->second / bw : 0.0);
    }
  }
  return 0;
}
