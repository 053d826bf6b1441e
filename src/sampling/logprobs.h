// Log-probabilities of generated tokens in Ollama's `logprobs` shape (runner/common/logprob.go):
// the log-softmax of the model's raw logits (before penalties, temperature and filters), the
// chosen token's value and the top N alternatives, highest first.
//
//   Logprob lp = ComputeLogprob(logits, id, request.top_logprobs, tokenizer);
//   chunk["logprobs"] = LogprobsToJson({&lp, 1});
//   // [{"token":"Hi","logprob":-0.2,"bytes":[72,105],"top_logprobs":[{...}, ...]}]
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::tokenizer {
class Tokenizer;
}

namespace corral::sampling {

inline constexpr int64_t kMaxTopLogprobs = 20;

// Ollama's check on the request: `top_logprobs must be between 0 and 20`.
Status ValidateTopLogprobs(int64_t top_logprobs);

struct TokenLogprob {
  int32_t id = 0;
  std::string token;  // the token's raw piece: may be part of a UTF-8 character
  float logprob = 0.0f;
};

struct Logprob {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;  // at most top_n, descending logprob (ties: lower id first)
};

// Text of a token id, for the "token" and "bytes" fields.
using TokenTextFn = std::function<std::string(int32_t id)>;

// logits: [n_vocab], raw. chosen in [0, n_vocab). top_n >= 0 (more than n_vocab gives n_vocab).
Logprob ComputeLogprob(std::span<const float> logits, int32_t chosen, int64_t top_n,
                       const TokenTextFn& token_text);
// Token text as Ollama's runner prints it: TokenToPiece with special tokens shown.
Logprob ComputeLogprob(std::span<const float> logits, int32_t chosen, int64_t top_n,
                       const tokenizer::Tokenizer& tokenizer);

// {"token", "logprob", "bytes"}: token is the text as valid UTF-8 (invalid bytes as U+FFFD,
// which is what Go's encoder sends); bytes are the raw bytes as ints, left out when empty
// (Go's omitempty).
nlohmann::ordered_json TokenLogprobToJson(const TokenLogprob& t);
// The above plus "top_logprobs" when there are alternatives.
nlohmann::ordered_json LogprobToJson(const Logprob& lp);
// One entry per generated token: the value of a response's "logprobs".
nlohmann::ordered_json LogprobsToJson(std::span<const Logprob> lps);

}  // namespace corral::sampling
