#include "sampling/logprobs.h"

#include <algorithm>
#include <cmath>

#include "sampling/utf8.h"
#include "tokenizer/tokenizer.h"

namespace corral::sampling {

Status ValidateTopLogprobs(int64_t top_logprobs) {
  if (top_logprobs < 0 || top_logprobs > kMaxTopLogprobs) {
    return InvalidArgumentError("top_logprobs must be between 0 and 20");
  }
  return Status::Ok();
}

Logprob ComputeLogprob(std::span<const float> logits, int32_t chosen, int64_t top_n,
                       const TokenTextFn& token_text) {
  CHECK(!logits.empty()) << "logprobs of no logits";
  CHECK(chosen >= 0 && static_cast<size_t>(chosen) < logits.size()) << "token " << chosen;
  CHECK(top_n >= 0) << "top_n " << top_n;

  // Stable log-softmax: lp_i = (l_i - max) - ln(sum_j exp(l_j - max)).
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  const double log_sum = std::log(sum);
  auto logprob = [&](int32_t id) {
    return static_cast<float>((static_cast<double>(logits[id]) - max_logit) - log_sum);
  };

  Logprob out;
  out.chosen = {chosen, token_text(chosen), logprob(chosen)};

  // Top N by logit (same order as logprob) with an insertion-sorted list: N <= 20 in practice.
  const size_t n = std::min(static_cast<size_t>(top_n), logits.size());
  std::vector<int32_t> best;  // [<= n], best first
  best.reserve(n);
  auto better = [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  };
  for (int32_t id = 0; n > 0 && static_cast<size_t>(id) < logits.size(); ++id) {
    if (best.size() == n && !better(id, best.back())) continue;
    if (best.size() == n) best.pop_back();
    best.insert(std::upper_bound(best.begin(), best.end(), id, better), id);
  }
  out.top.reserve(best.size());
  for (int32_t id : best) out.top.push_back({id, token_text(id), logprob(id)});
  return out;
}

Logprob ComputeLogprob(std::span<const float> logits, int32_t chosen, int64_t top_n,
                       const tokenizer::Tokenizer& tokenizer) {
  return ComputeLogprob(logits, chosen, top_n, [&tokenizer](int32_t id) {
    return tokenizer.TokenToPiece(id, /*special=*/true);
  });
}

nlohmann::ordered_json TokenLogprobToJson(const TokenLogprob& t) {
  nlohmann::ordered_json j;
  j["token"] = SanitizeUtf8(t.token);
  j["logprob"] = t.logprob;
  if (!t.token.empty()) {
    nlohmann::ordered_json bytes = nlohmann::ordered_json::array();
    for (char c : t.token) bytes.push_back(static_cast<int>(static_cast<unsigned char>(c)));
    j["bytes"] = std::move(bytes);
  }
  return j;
}

nlohmann::ordered_json LogprobToJson(const Logprob& lp) {
  nlohmann::ordered_json j = TokenLogprobToJson(lp.chosen);
  if (!lp.top.empty()) {
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const TokenLogprob& t : lp.top) top.push_back(TokenLogprobToJson(t));
    j["top_logprobs"] = std::move(top);
  }
  return j;
}

nlohmann::ordered_json LogprobsToJson(std::span<const Logprob> lps) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const Logprob& lp : lps) j.push_back(LogprobToJson(lp));
  return j;
}

}  // namespace corral::sampling
