// Token sampling with Ollama's options, in llama.cpp's order (common_sampler, which current
// Ollama runs through llama-server):
//
//   penalties -> top_k -> typical_p -> top_p -> min_p -> temperature -> sample
//   penalties -> temperature -> mirostat (v1 or v2)           when mirostat is on
//   penalties -> argmax                                       when temperature <= 0
//
// Because temperature comes last, top_p / min_p / typical_p see untempered probabilities.
// Penalties also run under mirostat (older llama.cpp did; current llama.cpp drops them there)
// so that repeat_penalty is never silently ignored.
//
//   ASSIGN_OR_RETURN(auto sampler, sampling::Sampler::Create(options, n_vocab, num_ctx));
//   sampler.AcceptPrompt(prompt_tokens);          // llama-server penalizes the prompt too
//   int32_t id = sampler.Sample(logits);          // logits: [n_vocab]
//   sampler.Accept(id);
//
// One Sampler per sequence: it owns the RNG, the penalty window and mirostat's mu, so several
// sequences sample independently and the same seed gives the same tokens whatever else runs in
// the batch. Every buffer is sized at Create; Sample and Accept allocate nothing.
//
// Each step is also a free function over a Candidates view, so it can be tested on its own.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "base/status.h"

namespace corral::sampling {

// Ollama's options (api.DefaultOptions) that drive sampling. mirostat* were removed from current
// Ollama (accepted with a warning); we still honour them since older clients send them.
struct SamplingOptions {
  float temperature = 0.8f;     // <= 0: greedy
  int32_t top_k = 40;           // 0: off
  float top_p = 0.9f;           // 1: off
  float min_p = 0.0f;           // 0: off
  float typical_p = 1.0f;       // 1: off
  int32_t repeat_last_n = 64;   // 0: no penalties, -1: num_ctx
  float repeat_penalty = 1.0f;  // current Ollama default (1.1 in older versions)
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int64_t seed = -1;     // -1: random; other values are used modulo 2^32 (llama.cpp's uint32 seed)
  int32_t mirostat = 0;  // 0 off, 1 mirostat, 2 mirostat 2.0
  float mirostat_tau = 5.0f;
  float mirostat_eta = 0.1f;
};

// InvalidArgument naming the first bad option, e.g. "top_k must be >= 0, got -1".
Status ValidateSamplingOptions(const SamplingOptions& options);

// One token as llama.cpp's llama_token_data: id, (penalized / tempered) logit, probability.
struct TokenCandidate {
  int32_t id = 0;
  float logit = 0.0f;
  float p = 0.0f;  // valid after Softmax; filters that need it call Softmax themselves
};

// The live prefix of a caller-owned candidate buffer. Filters shrink `size` in place.
struct Candidates {
  TokenCandidate* data = nullptr;  // [size]
  size_t size = 0;
  bool sorted = false;  // descending by logit (ties: lower id first)

  std::span<TokenCandidate> view() const { return {data, size}; }
};

// Sorts descending by logit, ties by ascending id (so results never depend on sort stability).
void SortCandidates(Candidates& c);

// p = exp(logit - max) / sum. sort: sort first (llama_sampler_softmax_impl's do_sort).
void Softmax(Candidates& c, bool sort);

// llama_sampler_penalties: for each candidate whose id occurs count > 0 times in the window,
// logit = logit <= 0 ? logit * repeat : logit / repeat, then logit -= count * frequency +
// presence. counts: [n_vocab], occurrences of each id in the window. Off when repeat == 1 and
// frequency == presence == 0.
struct Penalties {
  float repeat = 1.0f;
  float frequency = 0.0f;
  float presence = 0.0f;
};
void ApplyPenalties(Candidates& c, std::span<const int32_t> counts, const Penalties& penalties);

// Keeps the k largest logits, sorted. k <= 0: off (nothing changes, nothing is sorted).
void TopK(Candidates& c, int32_t k);

// Locally typical sampling: H = -sum p ln p; candidates ordered by |-ln p - H| ascending, kept
// until their cumulative probability exceeds p (at least one). p >= 1: off. The kept ones stay
// in descending-probability order. scratch: [>= c.size].
struct ScoredIndex {
  float score = 0.0f;
  uint32_t index = 0;
};
void TypicalP(Candidates& c, float p, std::span<ScoredIndex> scratch);

// Nucleus: softmax (sorted), keep the shortest prefix whose cumulative probability is >= p.
// p >= 1: off.
void TopP(Candidates& c, float p);

// Keeps candidates with logit >= max_logit + ln p (i.e. prob >= p * max prob), in their
// current order. p <= 0: off. The most probable candidate is always kept.
void MinP(Candidates& c, float p);

// logit /= t. t <= 0: only the (first) highest logit is kept, moved to data[0].
void Temperature(Candidates& c, float t);

// The first candidate with the highest logit (llama.cpp's greedy sampler).
int32_t Argmax(const Candidates& c);

// mt19937 with a platform-independent uniform draw (std::uniform_real_distribution and
// std::discrete_distribution differ between standard libraries).
class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  // [0, 1) with 53 random bits, from two draws (MT19937's reference genrand_res53).
  double Uniform();

 private:
  std::mt19937 engine_;
};

// Index of the candidate whose cumulative-probability interval holds u * sum(p); u in [0, 1).
// Needs p (Softmax) but not normalization.
size_t PickByUniform(const Candidates& c, double u);

// Softmax (unsorted), then one draw: llama.cpp's dist sampler. Returns the token id.
int32_t SampleDistribution(Candidates& c, Rng& rng);

// Mirostat 1.0's k for the current mu: Zipf exponent s from the top m probabilities (c softmaxed,
// its first m sorted), eps = s - 1, k = (eps * 2^mu / (1 - n_vocab^-eps))^(1/s).
float MirostatV1K(const Candidates& c, int32_t m, int32_t n_vocab, float mu);
// Mirostat 2.0's cut: softmax, drop candidates with -log2 p > mu (keeping the most probable at
// least), then renormalize. The kept ones stay in their current order.
void MirostatV2Truncate(Candidates& c, float mu);
// mu -= eta * (-log2 p_selected - tau), after either version's draw.
float MirostatUpdateMu(float mu, float p_selected, float tau, float eta);

// The last `capacity` accepted tokens and how often each id occurs among them.
class PenaltyWindow {
 public:
  PenaltyWindow() = default;
  PenaltyWindow(int32_t capacity, int32_t n_vocab);

  void Push(int32_t token);
  void Clear();
  // As a new PenaltyWindow(capacity, n_vocab), keeping the buffers' memory.
  void Reset(int32_t capacity, int32_t n_vocab);
  std::span<const int32_t> counts() const { return counts_; }
  int32_t capacity() const { return static_cast<int32_t>(ring_.size()); }
  int32_t size() const { return size_; }

 private:
  std::vector<int32_t> ring_;    // [capacity]
  std::vector<int32_t> counts_;  // [n_vocab]
  int32_t head_ = 0;             // next slot to write
  int32_t size_ = 0;
};

class Sampler {
 public:
  // n_vocab: logits per step. num_ctx: the context size, for repeat_last_n = -1.
  static Result<Sampler> Create(const SamplingOptions& options, int32_t n_vocab, int32_t num_ctx);

  // Starts over as Create(options, n_vocab(), num_ctx) would, keeping the buffers: for a 128k
  // vocabulary a new sampler is 2 MB of fresh pages, per request. On error nothing changes.
  Status Restart(const SamplingOptions& options, int32_t num_ctx);

  // The next token for `logits` ([n_vocab], not modified). Updates mirostat's mu and the RNG;
  // the penalty window changes only through Accept.
  int32_t Sample(std::span<const float> logits);

  // Adds a token to the penalty window: every generated token, and the prompt's if wanted.
  void Accept(int32_t token);
  void AcceptPrompt(std::span<const int32_t> tokens);

  const SamplingOptions& options() const { return options_; }
  uint32_t seed() const { return seed_; }  // the seed in use (drawn when options.seed == -1)
  float mirostat_mu() const { return mu_; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  Sampler(const SamplingOptions& options, int32_t n_vocab, int32_t window, uint32_t seed);

  // Create's checks and derived settings: the options as used, the penalty window, the seed.
  struct Setup {
    SamplingOptions options;
    int32_t window = 0;
    uint32_t seed = 0;
  };
  static Result<Setup> Prepare(const SamplingOptions& options, int32_t n_vocab, int32_t num_ctx);

  SamplingOptions options_;
  int32_t n_vocab_ = 0;
  uint32_t seed_ = 0;
  Rng rng_;
  float mu_ = 0.0f;  // mirostat's running max surprise, starts at 2 * tau
  PenaltyWindow window_;
  std::vector<TokenCandidate> candidates_;  // [n_vocab]
  std::vector<ScoredIndex> scratch_;        // [n_vocab] when typical_p < 1, else empty
};

}  // namespace corral::sampling
