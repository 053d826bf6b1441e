// Client for the llama.cpp reference harness (tools/reference/llama_reference.mjs, run with
// node over node-llama-cpp 3.21.1). Every correctness test that compares with llama.cpp goes
// through here. The harness must have been installed (tools/reference/install.sh, which
// `make test` runs); when it is missing the calls fail with a message saying so.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace corral::testing::reference {

// Where tools/reference/install.sh puts node-llama-cpp: $CORRAL_REFERENCE_DIR, or
// $XDG_CACHE_HOME (default ~/.cache)/corral/reference/node-llama-cpp-3.21.1.
std::string ReferenceDir();

// Sends one request object ({"op": ..., "model": ..., ...}) and returns the response object;
// a response carrying "error" becomes a failed Result with that message.
Result<nlohmann::json> Call(const nlohmann::json& request);

// Several requests in one node process (the model is loaded once).
Result<std::vector<nlohmann::json>> CallMany(const std::vector<nlohmann::json>& requests);

// llama.cpp's tokens for `text`. add_special prepends BOS (and appends EOS) where the model's
// metadata asks for it; parse_special reads control-token text such as "<s>" as the token.
Result<std::vector<int32_t>> Tokenize(const std::string& model, const std::string& text,
                                      bool add_special, bool parse_special = false);

Result<std::string> Detokenize(const std::string& model, const std::vector<int32_t>& tokens,
                               bool special = false);

struct Continuation {
  std::vector<int32_t> prompt;  // the prompt as llama.cpp tokenized it (BOS included)
  std::vector<int32_t> tokens;  // the generated tokens
  std::string text;             // their detokenized text
};

// Greedy (temperature 0) continuation of `text` for `n_predict` tokens (fewer at end of
// generation).
Result<Continuation> Greedy(const std::string& model, const std::string& text, int n_predict);

struct TopLogprobs {
  int position = 0;
  std::vector<std::pair<int32_t, double>> top;  // (token, log-softmax of its logit), best first
};

// The next-token log-probabilities after tokens[0..p] for each p in `positions`, with llama.cpp
// keeping its KV cache in `kv_type` ("F32", "F16", "Q8_0") and flash attention off.
Result<std::vector<TopLogprobs>> NextTokenLogprobs(const std::string& model,
                                                   const std::vector<int32_t>& tokens,
                                                   const std::vector<int>& positions, int top_n,
                                                   const std::string& kv_type = "F16");

// Full next-token log-distributions from a "logprobs" response asked with top_n = n_vocab:
// [position][token id] -> logprob (-inf where llama.cpp's probability underflowed to 0).
std::vector<std::vector<double>> FullDistributions(const nlohmann::json& logprobs_response,
                                                   int n_vocab);

// Mean over positions of KL(p || q) in nats; q's -inf entries count as -100.
double MeanKlDivergence(const std::vector<std::vector<double>>& p,
                        const std::vector<std::vector<double>>& q);

struct Embedding {
  std::vector<float> raw;         // the model's pooled output as llama.cpp returns it
  std::vector<float> normalized;  // L2-normalized, as Ollama's /api/embed returns it
};

Result<Embedding> Embed(const std::string& model, const std::string& text);

struct BenchResult {
  std::vector<double> pp;  // prompt processing, tokens/s, one entry per repetition
  std::vector<double> tg;  // generation, tokens/s, one entry per repetition
  int threads = 0;
};

// llama.cpp's speed on `model`, like llama-bench's pp<n_prompt>/tg<n_gen>: the prompt is one
// batch of random token ids on a fresh context, generation is greedy one token at a time.
// `threads` 0 takes the harness default ($CORRAL_REFERENCE_THREADS, else 2).
Result<BenchResult> Bench(const std::string& model, int n_prompt = 512, int n_gen = 128,
                          int reps = 3, int threads = 0);

}  // namespace corral::testing::reference
