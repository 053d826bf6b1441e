#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace corral::sampling {
namespace {

bool Before(const TokenCandidate& a, const TokenCandidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

Status CheckFinite(std::string_view name, float value) {
  if (std::isfinite(value)) return Status::Ok();
  return InvalidArgumentError(std::string(name) + " must be a finite number");
}

Status CheckRange(std::string_view name, float value, float lo, float hi) {
  RETURN_IF_ERROR(CheckFinite(name, value));
  if (value >= lo && value <= hi) return Status::Ok();
  return InvalidArgumentError(std::string(name) + " must be between " + std::to_string(lo) +
                              " and " + std::to_string(hi) + ", got " + std::to_string(value));
}

bool PenaltiesOn(const SamplingOptions& o) {
  return o.repeat_last_n != 0 &&
         (o.repeat_penalty != 1.0f || o.frequency_penalty != 0.0f || o.presence_penalty != 0.0f);
}

// Sorts just enough of [data, data + n) by `less` to find the shortest prefix whose last
// element makes `done` true (`done` sees each element once, in order); returns its length, n
// when never. That prefix is ordered as a full sort would order it. Nucleus-style cuts usually
// end within the top few hundred of a 100k+ vocabulary, where a full sort costs ~10 ms a token.
template <typename T, typename Less, typename Done>
size_t SortedPrefixUntil(T* data, size_t n, bool presorted, Less less, Done done) {
  size_t fed = 0;  // [0, fed) are in final order and were given to done
  size_t k = presorted ? n : std::min<size_t>(256, n);
  while (true) {
    if (!presorted) std::partial_sort(data + fed, data + k, data + n, less);
    for (; fed < k; ++fed) {
      if (done(data[fed])) return fed + 1;
    }
    if (k == n) return n;
    k = std::min(n, k * 4);
  }
}

// Mirostat 1.0 looks at this many top tokens to estimate the Zipf exponent (llama.cpp's m).
constexpr int32_t kMirostatM = 100;

}  // namespace

Status ValidateSamplingOptions(const SamplingOptions& o) {
  RETURN_IF_ERROR(CheckFinite("temperature", o.temperature));
  if (o.top_k < 0) {
    return InvalidArgumentError("top_k must be >= 0, got " + std::to_string(o.top_k));
  }
  RETURN_IF_ERROR(CheckRange("top_p", o.top_p, 0.0f, 1.0f));
  RETURN_IF_ERROR(CheckRange("min_p", o.min_p, 0.0f, 1.0f));
  RETURN_IF_ERROR(CheckRange("typical_p", o.typical_p, 0.0f, 1.0f));
  if (o.repeat_last_n < -1) {
    return InvalidArgumentError("repeat_last_n must be >= -1 (-1 = num_ctx), got " +
                                std::to_string(o.repeat_last_n));
  }
  RETURN_IF_ERROR(CheckFinite("repeat_penalty", o.repeat_penalty));
  if (o.repeat_penalty < 0.0f) {
    return InvalidArgumentError("repeat_penalty must be >= 0, got " +
                                std::to_string(o.repeat_penalty));
  }
  RETURN_IF_ERROR(CheckFinite("presence_penalty", o.presence_penalty));
  RETURN_IF_ERROR(CheckFinite("frequency_penalty", o.frequency_penalty));
  if (o.mirostat < 0 || o.mirostat > 2) {
    return InvalidArgumentError("mirostat must be 0, 1 or 2, got " + std::to_string(o.mirostat));
  }
  RETURN_IF_ERROR(
      CheckRange("mirostat_tau", o.mirostat_tau, 0.0f, std::numeric_limits<float>::max()));
  RETURN_IF_ERROR(
      CheckRange("mirostat_eta", o.mirostat_eta, 0.0f, std::numeric_limits<float>::max()));
  return Status::Ok();
}

void SortCandidates(Candidates& c) {
  if (c.sorted) return;
  std::sort(c.data, c.data + c.size, Before);
  c.sorted = true;
}

void Softmax(Candidates& c, bool sort) {
  if (c.size == 0) return;
  if (sort) SortCandidates(c);
  float max_logit = c.data[0].logit;
  if (!c.sorted) {
    for (size_t i = 1; i < c.size; ++i) max_logit = std::max(max_logit, c.data[i].logit);
  }
  double sum = 0.0;  // double: 128k terms summed in float lose the small ones
  for (size_t i = 0; i < c.size; ++i) {
    c.data[i].p = std::exp(c.data[i].logit - max_logit);
    sum += c.data[i].p;
  }
  const double inv = 1.0 / sum;
  for (size_t i = 0; i < c.size; ++i) c.data[i].p = static_cast<float>(c.data[i].p * inv);
}

void ApplyPenalties(Candidates& c, std::span<const int32_t> counts, const Penalties& pen) {
  if (pen.repeat == 1.0f && pen.frequency == 0.0f && pen.presence == 0.0f) return;
  for (size_t i = 0; i < c.size; ++i) {
    TokenCandidate& t = c.data[i];
    CHECK(t.id >= 0 && static_cast<size_t>(t.id) < counts.size()) << "token " << t.id;
    const int32_t count = counts[t.id];
    if (count <= 0) continue;
    // Dividing a negative logit would make the token more likely, so those are multiplied.
    t.logit = t.logit <= 0.0f ? t.logit * pen.repeat : t.logit / pen.repeat;
    t.logit -= static_cast<float>(count) * pen.frequency + pen.presence;
  }
  c.sorted = false;
}

void TopK(Candidates& c, int32_t k) {
  if (k <= 0 || c.size == 0) return;
  const size_t n = std::min(static_cast<size_t>(k), c.size);
  if (!c.sorted) std::partial_sort(c.data, c.data + n, c.data + c.size, Before);
  c.size = n;
  c.sorted = true;
}

void TypicalP(Candidates& c, float p, std::span<ScoredIndex> scratch) {
  if (p >= 1.0f || c.size == 0) return;
  CHECK(scratch.size() >= c.size) << "typical_p scratch " << scratch.size() << " < " << c.size;
  Softmax(c, /*sort=*/false);
  double entropy = 0.0;
  for (size_t i = 0; i < c.size; ++i) {
    const float pi = c.data[i].p;
    if (pi > 0.0f) entropy -= pi * std::log(pi);  // 0 ln 0 = 0 (llama.cpp would get NaN)
  }
  for (size_t i = 0; i < c.size; ++i) {
    const double surprise = -std::log(static_cast<double>(c.data[i].p));  // inf when p = 0
    scratch[i] = {static_cast<float>(std::fabs(surprise - entropy)), static_cast<uint32_t>(i)};
  }
  auto by_score = [](const ScoredIndex& a, const ScoredIndex& b) {
    return a.score != b.score ? a.score < b.score : a.index < b.index;
  };
  float cum = 0.0f;
  const size_t keep = SortedPrefixUntil(scratch.data(), c.size, /*presorted=*/false, by_score,
                                        [&](const ScoredIndex& s) {
                                          cum += c.data[s.index].p;
                                          return cum > p;
                                        });
  // Compact the kept ones: with ascending source indices each source is at or after its
  // destination, so copying in place is safe. Then back to descending probability.
  std::sort(scratch.begin(), scratch.begin() + keep,
            [](const ScoredIndex& a, const ScoredIndex& b) { return a.index < b.index; });
  for (size_t j = 0; j < keep; ++j) c.data[j] = c.data[scratch[j].index];
  c.size = keep;
  c.sorted = false;
  SortCandidates(c);
}

void TopP(Candidates& c, float p) {
  if (p >= 1.0f || c.size == 0) return;
  Softmax(c, /*sort=*/false);
  float cum = 0.0f;
  c.size = SortedPrefixUntil(c.data, c.size, c.sorted, Before, [&](const TokenCandidate& t) {
    cum += t.p;
    return cum >= p;
  });
  c.sorted = true;
}

void MinP(Candidates& c, float p) {
  if (p <= 0.0f || c.size == 0) return;
  size_t best = 0;
  for (size_t i = 1; i < c.size; ++i) {
    if (c.data[i].logit > c.data[best].logit) best = i;
  }
  // prob_i >= p * prob_max  <=>  logit_i >= logit_max + ln p (the softmax sum cancels).
  const float min_logit = c.data[best].logit + std::log(p);
  size_t out = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (c.data[i].logit >= min_logit || i == best) c.data[out++] = c.data[i];
  }
  c.size = out;
}

void Temperature(Candidates& c, float t) {
  if (c.size == 0) return;
  if (t <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < c.size; ++i) {
      if (c.data[i].logit > c.data[best].logit) best = i;
    }
    c.data[0] = c.data[best];
    c.size = 1;
    c.sorted = true;
    return;
  }
  for (size_t i = 0; i < c.size; ++i) c.data[i].logit /= t;
}

int32_t Argmax(const Candidates& c) {
  CHECK(c.size > 0) << "argmax of no candidates";
  size_t best = 0;
  for (size_t i = 1; i < c.size; ++i) {
    if (c.data[i].logit > c.data[best].logit) best = i;
  }
  return c.data[best].id;
}

double Rng::Uniform() {
  const uint64_t a = engine_() >> 5;  // 27 bits
  const uint64_t b = engine_() >> 6;  // 26 bits
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) *
         (1.0 / 9007199254740992.0);
}

size_t PickByUniform(const Candidates& c, double u) {
  CHECK(c.size > 0) << "sampling from no candidates";
  double sum = 0.0;
  for (size_t i = 0; i < c.size; ++i) sum += c.data[i].p;
  const double target = u * sum;
  double cum = 0.0;
  for (size_t i = 0; i < c.size; ++i) {
    cum += c.data[i].p;
    if (target < cum) return i;
  }
  // Rounding can leave target == sum; the last candidate with p > 0 owns that end.
  size_t last = c.size - 1;
  while (last > 0 && c.data[last].p <= 0.0f) --last;
  return last;
}

int32_t SampleDistribution(Candidates& c, Rng& rng) {
  Softmax(c, /*sort=*/false);
  return c.data[PickByUniform(c, rng.Uniform())].id;
}

float MirostatV1K(const Candidates& c, int32_t m, int32_t n_vocab, float mu) {
  if (c.size < 2) return 1.0f;
  double sum_ti_bi = 0.0, sum_ti_sq = 0.0;
  for (size_t i = 0; i + 1 < static_cast<size_t>(m) && i + 1 < c.size; ++i) {
    const double t = std::log(static_cast<double>(i + 2) / static_cast<double>(i + 1));
    const double b = std::log(static_cast<double>(c.data[i].p) / c.data[i + 1].p);
    sum_ti_bi += t * b;
    sum_ti_sq += t * t;
  }
  const double s_hat = sum_ti_bi / sum_ti_sq;
  const double eps = s_hat - 1.0;
  const double two_mu = std::pow(2.0, static_cast<double>(mu));
  // At eps = 0 the formula is 0/0; its limit is 2^mu / ln N.
  const double base = std::fabs(eps) < 1e-6 ? two_mu / std::log(static_cast<double>(n_vocab))
                                            : eps * two_mu / (1.0 - std::pow(n_vocab, -eps));
  return static_cast<float>(std::pow(base, 1.0 / s_hat));
}

void MirostatV2Truncate(Candidates& c, float mu) {
  if (c.size == 0) return;
  // llama.cpp sorts and cuts at the first surprise above mu; surprise falls as the logit
  // rises, so that prefix is exactly the set with surprise <= mu, found without sorting.
  Softmax(c, /*sort=*/false);
  size_t best = 0, keep = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (Before(c.data[i], c.data[best])) best = i;
  }
  const TokenCandidate top = c.data[best];
  const float min_p = std::exp2(-mu);  // -log2 p <= mu  <=>  p >= 2^-mu, without a log each
  for (size_t i = 0; i < c.size; ++i) {
    if (c.data[i].p >= min_p) c.data[keep++] = c.data[i];
  }
  if (keep == 0) c.data[keep++] = top;
  c.size = keep;
  c.sorted = false;
  Softmax(c, /*sort=*/false);  // the draw needs no order; the kept set can be thousands
}

float MirostatUpdateMu(float mu, float p_selected, float tau, float eta) {
  const float surprise = -std::log2(p_selected);
  return mu - eta * (surprise - tau);
}

PenaltyWindow::PenaltyWindow(int32_t capacity, int32_t n_vocab)
    : ring_(static_cast<size_t>(std::max(capacity, 0))),
      counts_(capacity > 0 ? static_cast<size_t>(n_vocab) : 0) {}

void PenaltyWindow::Reset(int32_t capacity, int32_t n_vocab) {
  ring_.assign(static_cast<size_t>(std::max(capacity, 0)), 0);
  counts_.assign(capacity > 0 ? static_cast<size_t>(n_vocab) : 0, 0);
  head_ = 0;
  size_ = 0;
}

void PenaltyWindow::Push(int32_t token) {
  if (ring_.empty()) return;
  CHECK(token >= 0 && static_cast<size_t>(token) < counts_.size()) << "token " << token;
  if (size_ == capacity()) {
    --counts_[ring_[head_]];  // the oldest token leaves the window
  } else {
    ++size_;
  }
  ring_[head_] = token;
  ++counts_[token];
  head_ = (head_ + 1) % capacity();
}

void PenaltyWindow::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  head_ = 0;
  size_ = 0;
}

Sampler::Sampler(const SamplingOptions& options, int32_t n_vocab, int32_t window, uint32_t seed)
    : options_(options),
      n_vocab_(n_vocab),
      seed_(seed),
      rng_(seed),
      mu_(2.0f * options.mirostat_tau),
      window_(window, n_vocab),
      candidates_(static_cast<size_t>(n_vocab)),
      scratch_(options.typical_p < 1.0f ? static_cast<size_t>(n_vocab) : 0) {}

Result<Sampler::Setup> Sampler::Prepare(const SamplingOptions& options, int32_t n_vocab,
                                        int32_t num_ctx) {
  RETURN_IF_ERROR(ValidateSamplingOptions(options));
  if (n_vocab <= 0) {
    return InvalidArgumentError("n_vocab must be positive, got " + std::to_string(n_vocab));
  }
  Setup setup;
  SamplingOptions& o = setup.options;
  o = options;
  // A 0 penalty would divide by zero; clients send 0 for "unset", so it means off.
  if (o.repeat_penalty == 0.0f) o.repeat_penalty = 1.0f;
  if (PenaltiesOn(o)) {
    if (o.repeat_last_n == -1) {
      if (num_ctx <= 0) {
        return InvalidArgumentError("repeat_last_n -1 needs a positive num_ctx, got " +
                                    std::to_string(num_ctx));
      }
      setup.window = num_ctx;
    } else {
      setup.window = o.repeat_last_n;
    }
  }
  setup.seed =
      o.seed == -1 ? std::random_device{}() : static_cast<uint32_t>(static_cast<uint64_t>(o.seed));
  return setup;
}

Result<Sampler> Sampler::Create(const SamplingOptions& options, int32_t n_vocab, int32_t num_ctx) {
  ASSIGN_OR_RETURN(Setup setup, Prepare(options, n_vocab, num_ctx));
  return Sampler(setup.options, n_vocab, setup.window, setup.seed);
}

Status Sampler::Restart(const SamplingOptions& options, int32_t num_ctx) {
  ASSIGN_OR_RETURN(Setup setup, Prepare(options, n_vocab_, num_ctx));
  options_ = setup.options;
  seed_ = setup.seed;
  rng_ = Rng(setup.seed);
  mu_ = 2.0f * setup.options.mirostat_tau;
  window_.Reset(setup.window, n_vocab_);
  // candidates_ is rewritten whole by every Sample.
  scratch_.resize(setup.options.typical_p < 1.0f ? static_cast<size_t>(n_vocab_) : 0);
  return Status::Ok();
}

int32_t Sampler::Sample(std::span<const float> logits) {
  CHECK(logits.size() == static_cast<size_t>(n_vocab_))
      << "logits " << logits.size() << ", n_vocab " << n_vocab_;
  for (int32_t i = 0; i < n_vocab_; ++i) candidates_[i] = {i, logits[i], 0.0f};
  Candidates c{candidates_.data(), candidates_.size(), false};

  if (window_.capacity() > 0) {
    ApplyPenalties(
        c, window_.counts(),
        {options_.repeat_penalty, options_.frequency_penalty, options_.presence_penalty});
  }
  if (options_.temperature <= 0.0f) return Argmax(c);

  if (options_.mirostat == 1) {
    Temperature(c, options_.temperature);
    Softmax(c, /*sort=*/false);
    // The estimate needs only the top m in order.
    const size_t m = std::min<size_t>(kMirostatM, c.size);
    std::partial_sort(c.data, c.data + m, c.data + c.size, Before);
    const float k = MirostatV1K({c.data, m, true}, kMirostatM, n_vocab_, mu_);
    // !(k >= 1) also catches NaN (a degenerate distribution): then only the top token.
    const int32_t top = !(k >= 1.0f)                      ? 1
                        : k >= static_cast<float>(c.size) ? static_cast<int32_t>(c.size)
                                                          : static_cast<int32_t>(k);
    TopK(c, top);
    Softmax(c, /*sort=*/true);
    const size_t idx = PickByUniform(c, rng_.Uniform());
    mu_ = MirostatUpdateMu(mu_, c.data[idx].p, options_.mirostat_tau, options_.mirostat_eta);
    return c.data[idx].id;
  }
  if (options_.mirostat == 2) {
    Temperature(c, options_.temperature);
    MirostatV2Truncate(c, mu_);
    const size_t idx = PickByUniform(c, rng_.Uniform());
    mu_ = MirostatUpdateMu(mu_, c.data[idx].p, options_.mirostat_tau, options_.mirostat_eta);
    return c.data[idx].id;
  }

  TopK(c, options_.top_k);
  TypicalP(c, options_.typical_p, scratch_);
  TopP(c, options_.top_p);
  MinP(c, options_.min_p);
  Temperature(c, options_.temperature);
  return SampleDistribution(c, rng_);
}

void Sampler::Accept(int32_t token) {
  CHECK(token >= 0 && token < n_vocab_) << "token " << token << " outside [0, " << n_vocab_ << ")";
  window_.Push(token);
}

void Sampler::AcceptPrompt(std::span<const int32_t> tokens) {
  // Only the last `capacity` tokens can be in the window.
  const size_t cap = static_cast<size_t>(window_.capacity());
  const size_t from = tokens.size() > cap ? tokens.size() - cap : 0;
  for (size_t i = from; i < tokens.size(); ++i) Accept(tokens[i]);
}

}  // namespace corral::sampling
