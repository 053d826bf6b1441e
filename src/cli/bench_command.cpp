// `corral bench MODEL`: prompt-processing and generation speed, like llama-bench's pp512 and
// tg128. pp: one Decode of P random tokens on an empty sequence (logits for the last only);
// tg: N single-token Decodes, each feeding back the previous argmax. Each test runs once
// untimed (warm-up: page-in, thread start), then REPS timed times; reported are tokens/s
// (median, min, max) and, for generation, the weight bytes read per second.
#include <sys/resource.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "base/thread_pool.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "config/env_config.h"
#include "engine/context.h"
#include "engine/model.h"
#include "sampling/constrained.h"
#include "sampling/json_schema.h"

namespace corral::cli {
namespace {

struct BenchOptions {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  int threads = 0;
  int reps = 5;
  bool json = false;
  bool no_repack = false;
  std::string kv_type;  // empty: OLLAMA_KV_CACHE_TYPE, else f16
  // Also time generation with sampling (Ollama's default chain, seeded) and with sampling
  // constrained to JSON (format "json"): what structured output costs per token.
  bool constrained = false;
};

struct Stats {
  std::vector<double> tokens_per_s;
  double median = 0, min = 0, max = 0;
};

Stats Summarize(std::vector<double> v) {
  Stats s;
  s.tokens_per_s = v;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  return s;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

int32_t Argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Times one prompt of n tokens; returns tokens/s, or a negative value on error.
Result<double> RunPrompt(engine::Context& ctx, int n, std::mt19937& rng) {
  const int64_t n_vocab = ctx.model().hparams().n_vocab;
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(n_vocab - 1));
  std::vector<engine::BatchToken> batch(n);
  for (int i = 0; i < n; ++i) batch[i] = {.token = pick(rng), .seq = 0, .want_logits = i == n - 1};
  ctx.TruncateSequence(0, 0);
  auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(ctx.Decode(batch));
  return n / Seconds(std::chrono::steady_clock::now() - start);
}

Result<double> RunGeneration(engine::Context& ctx, int n, std::mt19937& rng) {
  const int64_t n_vocab = ctx.model().hparams().n_vocab;
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(n_vocab - 1));
  ctx.TruncateSequence(0, 0);
  engine::BatchToken t{.token = pick(rng), .seq = 0, .want_logits = true};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    RETURN_IF_ERROR(ctx.Decode({&t, 1}));
    t.token = Argmax(ctx.Logits(0));
  }
  return n / Seconds(std::chrono::steady_clock::now() - start);
}

// Sampled generation: Ollama's default sampler chain (temperature 0.8, top_k 40, top_p 0.9),
// optionally through the JSON grammar (a finished object starts a new one, so every step stays
// constrained). Decoding and sampling are timed together, as a user sees them.
struct SampledRun {
  const sampling::GrammarVocab* vocab = nullptr;  // null: unconstrained
  std::shared_ptr<const sampling::Grammar> grammar;
  int64_t refused = 0, steps = 0;  // first draws the grammar refused (the slow path)
  // Time spent choosing tokens (sampler, and grammar when constrained), over `steps` tokens.
  // The decode work is the same with and without the grammar, so this difference is what the
  // grammar costs, free of the noise of timing two whole runs on a shared machine.
  double sample_seconds = 0;
};

Result<double> RunSampled(engine::Context& ctx, int n, SampledRun& run) {
  const int32_t n_vocab = static_cast<int32_t>(ctx.model().hparams().n_vocab);
  sampling::SamplingOptions options;
  options.seed = 42;
  ASSIGN_OR_RETURN(sampling::Sampler sampler,
                   sampling::Sampler::Create(options, n_vocab, static_cast<int32_t>(n + 1)));
  std::optional<sampling::GrammarMatcher> matcher;
  if (run.vocab) matcher.emplace(run.grammar);
  std::vector<float> scratch;
  scratch.reserve(static_cast<size_t>(n_vocab));
  ctx.TruncateSequence(0, 0);
  engine::BatchToken t{.token = 1, .seq = 0, .want_logits = true};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    RETURN_IF_ERROR(ctx.Decode({&t, 1}));
    std::span<const float> logits = ctx.Logits(0);
    auto sample_start = std::chrono::steady_clock::now();
    if (matcher) {
      if (matcher->IsComplete() && !matcher->CanAccept(" ")) matcher.emplace(run.grammar);
      bool refused = false;
      ASSIGN_OR_RETURN(t.token, sampling::SampleConstrained(sampler, *matcher, *run.vocab, logits,
                                                            scratch, &refused));
      run.refused += refused;
      if (run.vocab->is_eog(t.token)) {
        matcher.emplace(run.grammar);
        t.token = 1;
      }
    } else {
      t.token = sampler.Sample(logits);
    }
    sampler.Accept(t.token);
    run.sample_seconds += Seconds(std::chrono::steady_clock::now() - sample_start);
    ++run.steps;
  }
  return n / Seconds(std::chrono::steady_clock::now() - start);
}

int Run(const BenchOptions& o, CommandIo& io) {
  if (o.n_prompt < 0 || o.n_gen < 0 || o.reps < 1 || (o.n_prompt == 0 && o.n_gen == 0)) {
    io.err << "Error: -p and -n must not be negative (and not both 0), -r must be at least 1\n";
    return kExitUsage;
  }
  auto kv_type = engine::KvCacheTypeFromName(o.kv_type.empty() ? config::KvCacheType() : o.kv_type);
  if (!kv_type.ok()) {
    io.err << "Error: " << kv_type.status().message() << "\n";
    return kExitUsage;
  }
  auto model = engine::Model::Load(o.model, {.pack_weights = !o.no_repack, .n_threads = o.threads});
  if (!model.ok()) {
    io.err << "Error: " << o.model << ": " << model.status().message() << "\n";
    return kExitFailure;
  }
  if ((*model)->is_embedding_model()) {
    io.err << "Error: " << o.model << " is an embedding model; bench measures text generation\n";
    return kExitFailure;
  }
  engine::ContextOptions copt;
  copt.n_ctx = std::max(o.n_prompt, o.n_gen) + 1;
  copt.n_ubatch = std::max(o.n_prompt, 1);
  copt.n_threads = o.threads > 0 ? o.threads : ThreadPool::DefaultThreadCount();
  copt.kv_type = *kv_type;
  auto ctx = engine::Context::Create(**model, copt);
  if (!ctx.ok()) {
    io.err << "Error: " << ctx.status().message() << "\n";
    return kExitFailure;
  }
  std::mt19937 rng(42);
  nlohmann::json out = {{"model", o.model},
                        {"arch", (*model)->hparams().arch},
                        {"threads", copt.n_threads},
                        {"kv_type", gguf::TypeInfo(copt.kv_type).name},
                        {"model_bytes", (*model)->tensor_bytes()},
                        {"bytes_per_token", (*model)->bytes_per_token()}};
  auto measure = [&](const char* name, int n, auto run) -> bool {
    if (n == 0) return true;
    std::vector<double> rates;
    for (int r = 0; r <= o.reps; ++r) {
      auto rate = run(**ctx, n, rng);
      if (!rate.ok()) {
        io.err << "Error: " << name << ": " << rate.status().message() << "\n";
        return false;
      }
      if (r > 0) rates.push_back(*rate);  // the first run warms up
    }
    Stats s = Summarize(rates);
    out[name] = {{"n", n},
                 {"tokens_per_s", s.tokens_per_s},
                 {"median", s.median},
                 {"min", s.min},
                 {"max", s.max}};
    return true;
  };
  if (!measure("pp", o.n_prompt, RunPrompt)) return kExitFailure;
  if (!measure("tg", o.n_gen, RunGeneration)) return kExitFailure;
  if (o.constrained && o.n_gen > 0) {
    const tokenizer::Tokenizer& tok = (*model)->tokenizer();
    std::vector<std::string> pieces(static_cast<size_t>(tok.n_tokens()));
    for (int32_t id = 0; id < tok.n_tokens(); ++id) pieces[id] = tok.TokenToPiece(id, false);
    sampling::GrammarVocab vocab = sampling::GrammarVocab::Build(pieces, tok.end_of_generation());
    auto grammar = sampling::Grammar::Parse(sampling::JsonObjectGbnf());
    if (!grammar.ok()) {
      io.err << "Error: " << grammar.status().message() << "\n";
      return kExitFailure;
    }
    SampledRun plain, json;
    json.vocab = &vocab;
    json.grammar = *grammar;
    if (!measure(
            "tg_sampled", o.n_gen,
            [&](engine::Context& c, int n, std::mt19937&) { return RunSampled(c, n, plain); }) ||
        !measure("tg_json", o.n_gen, [&](engine::Context& c, int n, std::mt19937&) {
          return RunSampled(c, n, json);
        })) {
      return kExitFailure;
    }
    // Extra cost per token: the grammar's share of choosing a token, over a whole plain token.
    const double plain_token_seconds = 1.0 / out["tg_sampled"]["median"].get<double>();
    const double plain_sample = plain.sample_seconds / static_cast<double>(plain.steps);
    const double json_sample = json.sample_seconds / static_cast<double>(json.steps);
    out["tg_sampled"]["sample_ms_per_token"] = plain_sample * 1e3;
    out["tg_json"]["sample_ms_per_token"] = json_sample * 1e3;
    out["tg_json"]["extra_cost"] = (json_sample - plain_sample) / plain_token_seconds;
    out["tg_json"]["extra_cost_whole_runs"] =
        out["tg_sampled"]["median"].get<double>() / out["tg_json"]["median"].get<double>() - 1.0;
    out["tg_json"]["refused_first_draws"] =
        json.steps > 0 ? static_cast<double>(json.refused) / static_cast<double>(json.steps) : 0.0;
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  out["peak_rss_bytes"] = static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // ru_maxrss is KiB
  out["kv_cache_bytes"] = (*ctx)->kv_cache().bytes();
  out["file_bytes"] = (*model)->file().file_size();
  out["packed_bytes"] = (*model)->packed_bytes();
  if (out.contains("tg")) {
    out["tg"]["gb_per_s"] = out["tg"]["median"].get<double>() * (*model)->bytes_per_token() / 1e9;
  }

  if (o.json) {
    io.out << out.dump() << "\n";
    return kExitOk;
  }
  char line[256];
  std::snprintf(line, sizeof line, "model %s: %s, %.2f GiB of weights, %d threads\n",
                o.model.c_str(), (*model)->hparams().arch.c_str(),
                (*model)->tensor_bytes() / 1073741824.0, copt.n_threads);
  io.out << line;
  std::snprintf(line, sizeof line,
                "peak RSS %.0f MiB (file %.0f MiB, KV cache %.0f MiB, repacked copies %.0f MiB)\n",
                out["peak_rss_bytes"].get<uint64_t>() / 1048576.0,
                out["file_bytes"].get<uint64_t>() / 1048576.0,
                out["kv_cache_bytes"].get<uint64_t>() / 1048576.0,
                out["packed_bytes"].get<uint64_t>() / 1048576.0);
  io.out << line;
  io.out << "test              t/s median      min       max    GB/s\n";
  for (const char* name : {"pp", "tg", "tg_sampled", "tg_json"}) {
    if (!out.contains(name)) continue;
    const nlohmann::json& t = out[name];
    std::string label = std::string(name) + std::to_string(t["n"].get<int>());
    std::snprintf(line, sizeof line, "%-14s %12.2f %9.2f %9.2f", label.c_str(),
                  t["median"].get<double>(), t["min"].get<double>(), t["max"].get<double>());
    io.out << line;
    if (t.contains("gb_per_s")) {
      std::snprintf(line, sizeof line, " %7.1f", t["gb_per_s"].get<double>());
      io.out << line;
    }
    io.out << "\n";
  }
  if (out.contains("tg_json")) {
    std::snprintf(line, sizeof line,
                  "format json costs %+.1f %% per token: choosing a token takes %.3f ms with the "
                  "grammar, %.3f ms without, of %.2f ms per token (first draw refused by the "
                  "grammar in %.0f %% of steps; whole runs differ by %+.1f %%)\n",
                  out["tg_json"]["extra_cost"].get<double>() * 100,
                  out["tg_json"]["sample_ms_per_token"].get<double>(),
                  out["tg_sampled"]["sample_ms_per_token"].get<double>(),
                  1e3 / out["tg_sampled"]["median"].get<double>(),
                  out["tg_json"]["refused_first_draws"].get<double>() * 100,
                  out["tg_json"]["extra_cost_whole_runs"].get<double>() * 100);
    io.out << line;
  }
  return kExitOk;
}

}  // namespace

Command BenchCommand() {
  return Command{
      .name = "bench",
      .aliases = {},
      .summary = "Measure prompt-processing and generation speed of a model (like llama-bench)",
      .setup = [](CLI::App& app) -> CommandAction {
        auto options = std::make_shared<BenchOptions>();
        app.add_option("MODEL", options->model, "GGUF file")->required();
        app.add_option("-p,--n-prompt", options->n_prompt, "prompt tokens (pp test; 0: skip)")
            ->capture_default_str();
        app.add_option("-n,--n-gen", options->n_gen, "generated tokens (tg test; 0: skip)")
            ->capture_default_str();
        app.add_option("-t,--threads", options->threads, "threads (default: all cores)");
        app.add_option("-r,--repetitions", options->reps, "timed runs of each test")
            ->capture_default_str();
        app.add_flag("--json", options->json, "print JSON for scripts");
        app.add_option("--kv-type", options->kv_type,
                       "KV cache type: f16, f32, q8_0 (default: $OLLAMA_KV_CACHE_TYPE or f16)");
        app.add_flag("--constrained", options->constrained,
                     "also time sampled generation, plain and constrained to JSON");
        app.add_flag("--no-repack", options->no_repack,
                     "run every product on the file's rows (no repacked copy)");
        return [options](CommandIo& io) { return Run(*options, io); };
      },
  };
}

}  // namespace corral::cli
