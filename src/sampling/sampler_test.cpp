#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "sampling/allocation_counter_test_util.h"

namespace corral::sampling {
namespace {

// The 5-token distribution most tests use: logits ln p, so softmax gives p back exactly.
const std::vector<float> kProbs = {0.5f, 0.25f, 0.15f, 0.07f, 0.03f};

std::vector<float> LogOf(const std::vector<float>& probs) {
  std::vector<float> out;
  for (float p : probs) out.push_back(std::log(p));
  return out;
}

std::vector<TokenCandidate> Make(const std::vector<float>& logits) {
  std::vector<TokenCandidate> out;
  for (size_t i = 0; i < logits.size(); ++i) out.push_back({static_cast<int32_t>(i), logits[i]});
  return out;
}

// Candidates in a given id order (to show a filter does not rely on sorted input).
std::vector<TokenCandidate> MakeInOrder(const std::vector<float>& logits,
                                        const std::vector<int32_t>& order) {
  std::vector<TokenCandidate> out;
  for (int32_t id : order) out.push_back({id, logits[id]});
  return out;
}

Candidates View(std::vector<TokenCandidate>& v) { return {v.data(), v.size(), false}; }

std::vector<int32_t> Ids(const Candidates& c) {
  std::vector<int32_t> out;
  for (const TokenCandidate& t : c.view()) out.push_back(t.id);
  return out;
}

TEST(SamplingOptionsTest, DefaultsAreOllamas) {
  const SamplingOptions o;
  EXPECT_FLOAT_EQ(o.temperature, 0.8f);
  EXPECT_EQ(o.top_k, 40);
  EXPECT_FLOAT_EQ(o.top_p, 0.9f);
  EXPECT_FLOAT_EQ(o.min_p, 0.0f);
  EXPECT_FLOAT_EQ(o.typical_p, 1.0f);
  EXPECT_EQ(o.repeat_last_n, 64);
  EXPECT_FLOAT_EQ(o.repeat_penalty, 1.0f);  // api.DefaultOptions today (1.1 before)
  EXPECT_FLOAT_EQ(o.presence_penalty, 0.0f);
  EXPECT_FLOAT_EQ(o.frequency_penalty, 0.0f);
  EXPECT_EQ(o.seed, -1);
  EXPECT_EQ(o.mirostat, 0);
  EXPECT_FLOAT_EQ(o.mirostat_tau, 5.0f);
  EXPECT_FLOAT_EQ(o.mirostat_eta, 0.1f);
  EXPECT_TRUE(ValidateSamplingOptions(o).ok());
}

TEST(SamplingOptionsTest, BadValuesNameTheOption) {
  struct Case {
    const char* name;
    void (*set)(SamplingOptions&);
  };
  const Case cases[] = {
      {"top_k", [](SamplingOptions& o) { o.top_k = -1; }},
      {"top_p", [](SamplingOptions& o) { o.top_p = 1.5f; }},
      {"top_p", [](SamplingOptions& o) { o.top_p = NAN; }},
      {"min_p", [](SamplingOptions& o) { o.min_p = -0.1f; }},
      {"typical_p", [](SamplingOptions& o) { o.typical_p = 2.0f; }},
      {"repeat_last_n", [](SamplingOptions& o) { o.repeat_last_n = -2; }},
      {"repeat_penalty", [](SamplingOptions& o) { o.repeat_penalty = -1.0f; }},
      {"presence_penalty", [](SamplingOptions& o) { o.presence_penalty = NAN; }},
      {"frequency_penalty", [](SamplingOptions& o) { o.frequency_penalty = INFINITY; }},
      {"temperature", [](SamplingOptions& o) { o.temperature = INFINITY; }},
      {"mirostat", [](SamplingOptions& o) { o.mirostat = 3; }},
      {"mirostat_tau", [](SamplingOptions& o) { o.mirostat_tau = -1.0f; }},
      {"mirostat_eta", [](SamplingOptions& o) { o.mirostat_eta = NAN; }},
  };
  for (const Case& c : cases) {
    SamplingOptions o;
    c.set(o);
    const Status s = ValidateSamplingOptions(o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.name), std::string::npos) << s.message();
    EXPECT_FALSE(Sampler::Create(o, 10, 100).ok()) << c.name;
  }
  // Negative temperature is allowed: greedy, as in llama.cpp.
  SamplingOptions greedy;
  greedy.temperature = -1.0f;
  EXPECT_TRUE(ValidateSamplingOptions(greedy).ok());
}

TEST(SamplerCreateTest, RejectsBadSizes) {
  EXPECT_EQ(Sampler::Create({}, 0, 100).status().code(), StatusCode::kInvalidArgument);
  SamplingOptions o;
  o.repeat_last_n = -1;  // = num_ctx, which must then be known
  o.repeat_penalty = 1.1f;
  EXPECT_EQ(Sampler::Create(o, 10, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Sampler::Create(o, 10, 8).ok());
}

TEST(SoftmaxTest, ProbabilitiesAndSort) {
  // logits 0 and ln 3: p = 1/(1+3) and 3/(1+3).
  auto v = Make({0.0f, std::log(3.0f)});
  Candidates c = View(v);
  Softmax(c, /*sort=*/false);
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(c.data[0].p, 0.25f, 1e-6);
  EXPECT_NEAR(c.data[1].p, 0.75f, 1e-6);
  Softmax(c, /*sort=*/true);
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{1, 0}));
  EXPECT_TRUE(c.sorted);
  EXPECT_NEAR(c.data[0].p, 0.75f, 1e-6);
}

TEST(PenaltiesTest, RepeatDividesPositiveMultipliesNegativeThenFrequencyAndPresence) {
  // counts [2, 1, 0, 1, 0]; repeat 2, frequency 0.5, presence 0.25:
  //   id 0:  2.0 > 0 -> 2.0 / 2 = 1.0,  - (2 * 0.5 + 0.25) = -0.25
  //   id 1: -1.0 <= 0 -> -1.0 * 2 = -2.0, - (1 * 0.5 + 0.25) = -2.75
  //   id 2: count 0 -> 0.5 unchanged
  //   id 3:  0.0 <= 0 -> 0.0 * 2 = 0.0,  - 0.75 = -0.75
  //   id 4: count 0 -> 3.0 unchanged
  auto v = Make({2.0f, -1.0f, 0.5f, 0.0f, 3.0f});
  Candidates c = View(v);
  c.sorted = true;  // must be cleared: penalties reorder
  const std::vector<int32_t> counts = {2, 1, 0, 1, 0};
  ApplyPenalties(c, counts, {2.0f, 0.5f, 0.25f});
  EXPECT_FLOAT_EQ(v[0].logit, -0.25f);
  EXPECT_FLOAT_EQ(v[1].logit, -2.75f);
  EXPECT_FLOAT_EQ(v[2].logit, 0.5f);
  EXPECT_FLOAT_EQ(v[3].logit, -0.75f);
  EXPECT_FLOAT_EQ(v[4].logit, 3.0f);
  EXPECT_FALSE(c.sorted);
}

TEST(PenaltiesTest, OnlyRepeatAndOff) {
  // repeat 1.25 alone: 2.5 / 1.25 = 2.0; -2.0 * 1.25 = -2.5; count 0 untouched.
  auto v = Make({2.5f, -2.0f, 1.0f});
  Candidates c = View(v);
  const std::vector<int32_t> counts = {3, 1, 0};
  ApplyPenalties(c, counts, {1.25f, 0.0f, 0.0f});
  EXPECT_FLOAT_EQ(v[0].logit, 2.0f);
  EXPECT_FLOAT_EQ(v[1].logit, -2.5f);
  EXPECT_FLOAT_EQ(v[2].logit, 1.0f);
  // repeat 1, frequency 0, presence 0: nothing changes.
  ApplyPenalties(c, counts, {1.0f, 0.0f, 0.0f});
  EXPECT_FLOAT_EQ(v[0].logit, 2.0f);
  EXPECT_FLOAT_EQ(v[1].logit, -2.5f);
}

TEST(TopKTest, KeepsKLargestSorted) {
  // logits by id: 1 5 3 4 2 -> descending ids 1 (5), 3 (4), 2 (3), 4 (2), 0 (1).
  auto v = Make({1, 5, 3, 4, 2});
  Candidates c = View(v);
  TopK(c, 2);
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{1, 3}));
  EXPECT_TRUE(c.sorted);

  auto all = Make({1, 5, 3, 4, 2});
  Candidates big = View(all);
  TopK(big, 10);  // k > size: everything, sorted
  EXPECT_EQ(Ids(big), (std::vector<int32_t>{1, 3, 2, 4, 0}));
}

TEST(TopKTest, ZeroIsOffAndTiesPreferLowerIds) {
  auto v = Make({1, 5, 3, 4, 2});
  Candidates c = View(v);
  TopK(c, 0);
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(c.sorted);

  auto t = Make({1, 2, 2, 0});  // ids 1 and 2 tie
  Candidates ties = View(t);
  TopK(ties, 1);
  EXPECT_EQ(Ids(ties), (std::vector<int32_t>{1}));
}

TEST(TypicalPTest, KeepsTokensNearTheEntropy) {
  // p = [0.5, 0.25, 0.15, 0.07, 0.03]
  // H = -sum p ln p = 0.34657 + 0.34657 + 0.28457 + 0.18615 + 0.10520 = 1.26906
  // -ln p = [0.69315, 1.38629, 1.89712, 2.65926, 3.50656]
  // |-ln p - H| = [0.57591, 0.11723, 0.62806, 1.39020, 2.23750]
  // typical order: id 1, id 0, id 2, id 3, id 4; cumulative p: 0.25, 0.75, 0.90, 0.97, 1.0
  // Kept until cumulative > p:  p = 0.2 -> {1};  p = 0.5 -> {1, 0};  p = 0.8 -> {1, 0, 2}.
  // (With p = 0.2 the most probable token is dropped: this is not a top-p variant.)
  std::vector<ScoredIndex> scratch(5);
  struct Case {
    float p;
    std::vector<int32_t> ids;  // in descending probability
  };
  for (const Case& k :
       {Case{0.2f, {1}}, Case{0.5f, {0, 1}}, Case{0.8f, {0, 1, 2}}, Case{0.95f, {0, 1, 2, 3}}}) {
    auto v = MakeInOrder(LogOf(kProbs), {4, 2, 0, 3, 1});
    Candidates c = View(v);
    TypicalP(c, k.p, scratch);
    EXPECT_EQ(Ids(c), k.ids) << "typical_p " << k.p;
  }
  auto v = MakeInOrder(LogOf(kProbs), {4, 2, 0, 3, 1});
  Candidates c = View(v);
  TypicalP(c, 1.0f, scratch);  // off
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{4, 2, 0, 3, 1}));
}

TEST(TopPTest, ShortestPrefixReachingP) {
  // Sorted p: 0.5, 0.25, 0.15, 0.07, 0.03; cumulative 0.5, 0.75, 0.90, 0.97, 1.0.
  // First cumulative >= p ends the nucleus.
  struct Case {
    float p;
    size_t keep;
  };
  for (const Case& k : {Case{0.4f, 1}, Case{0.6f, 2}, Case{0.8f, 3}, Case{0.95f, 4}, Case{0.99f, 5},
                        Case{0.0f, 1}}) {
    auto v = MakeInOrder(LogOf(kProbs), {3, 1, 4, 0, 2});
    Candidates c = View(v);
    TopP(c, k.p);
    ASSERT_EQ(c.size, k.keep) << "top_p " << k.p;
    for (size_t i = 0; i < c.size; ++i) EXPECT_EQ(c.data[i].id, static_cast<int32_t>(i));
  }
  auto v = MakeInOrder(LogOf(kProbs), {3, 1, 4, 0, 2});
  Candidates c = View(v);
  TopP(c, 1.0f);  // off: not even sorted
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{3, 1, 4, 0, 2}));
}

TEST(TopPTest, SeesTheCandidatesLeftByTopK) {
  // After top_k 2 the softmax is over {0.5, 0.25}: 2/3 and 1/3. top_p 0.6 keeps only id 0
  // (2/3 >= 0.6), where over the full vocabulary it would keep two (0.5 < 0.6).
  auto v = Make(LogOf(kProbs));
  Candidates c = View(v);
  TopK(c, 2);
  TopP(c, 0.6f);
  EXPECT_EQ(Ids(c), (std::vector<int32_t>{0}));
}

TEST(TopPTest, LargeNucleusBeyondThePartialSort) {
  // 1000 equal logits: p = 0.001 each; top_p 0.3005 needs 301 of them (more than the first
  // 256 sorted), ties by ascending id: ids 0..300. typical_p: every |-ln p - H| is 0, so the
  // same 301 by index.
  const std::vector<float> logits(1000, 0.0f);
  auto v = Make(logits);
  Candidates c = View(v);
  TopP(c, 0.3005f);
  ASSERT_EQ(c.size, 301u);
  for (size_t i = 0; i < c.size; ++i) EXPECT_EQ(c.data[i].id, static_cast<int32_t>(i));
  auto w = Make(logits);
  Candidates t = View(w);
  std::vector<ScoredIndex> scratch(1000);
  TypicalP(t, 0.3005f, scratch);
  ASSERT_EQ(t.size, 301u);
  for (size_t i = 0; i < t.size; ++i) EXPECT_EQ(t.data[i].id, static_cast<int32_t>(i));
}

TEST(MinPTest, RelativeToTheMostProbable) {
  // p_max = 0.5. min_p 0.1: keep p >= 0.05 (drops 0.03); 0.2: p >= 0.1 (drops 0.07 too);
  // 0.45: p >= 0.225 (keeps 0.5, 0.25); 1.0: only p >= 0.5. Order of the input is kept.
  struct Case {
    float p;
    std::vector<int32_t> ids;
  };
  for (const Case& k : {Case{0.1f, {3, 0, 1, 2}}, Case{0.2f, {0, 1, 2}}, Case{0.45f, {0, 1}},
                        Case{1.0f, {0}}, Case{0.0f, {3, 0, 4, 1, 2}}}) {
    auto v = MakeInOrder(LogOf(kProbs), {3, 0, 4, 1, 2});
    Candidates c = View(v);
    MinP(c, k.p);
    EXPECT_EQ(Ids(c), k.ids) << "min_p " << k.p;
  }
}

TEST(TemperatureTest, DividesLogitsAndZeroIsArgmax) {
  auto v = Make({2.0f, 1.0f, -1.0f});
  Candidates c = View(v);
  Temperature(c, 0.5f);  // 2/0.5, 1/0.5, -1/0.5
  EXPECT_FLOAT_EQ(v[0].logit, 4.0f);
  EXPECT_FLOAT_EQ(v[1].logit, 2.0f);
  EXPECT_FLOAT_EQ(v[2].logit, -2.0f);

  auto g = Make({1.0f, 3.0f, 3.0f, -5.0f});
  Candidates greedy = View(g);
  Temperature(greedy, 0.0f);  // only the first highest logit survives
  EXPECT_EQ(Ids(greedy), (std::vector<int32_t>{1}));
  auto n = Make({1.0f, 3.0f, 0.0f});
  Candidates negative = View(n);
  Temperature(negative, -1.0f);
  EXPECT_EQ(Ids(negative), (std::vector<int32_t>{1}));
}

TEST(ArgmaxTest, FirstHighest) {
  auto v = Make({0.5f, 2.0f, 2.0f, -1.0f});
  EXPECT_EQ(Argmax(View(v)), 1);
}

TEST(RngTest, Mt19937Res53) {
  // std::mt19937's first two outputs for its default seed 5489 are 3499211612 and 581869302
  // (MT19937 reference values); Uniform = ((a >> 5) * 2^26 + (b >> 6)) / 2^53.
  Rng rng(5489);
  const double expected =
      ((3499211612u >> 5) * 67108864.0 + (581869302u >> 6)) / 9007199254740992.0;
  EXPECT_DOUBLE_EQ(rng.Uniform(), expected);
  Rng a(42), b(42), c(43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const double x = a.Uniform();
    EXPECT_EQ(x, b.Uniform());
    EXPECT_GE(x, 0.0);
    EXPECT_LT(x, 1.0);
    differ += x != c.Uniform();
  }
  EXPECT_GT(differ, 990);
}

TEST(PickByUniformTest, CumulativeIntervals) {
  // p = [0.5, 0.3, 0.2]: intervals [0, 0.5), [0.5, 0.8), [0.8, 1.0).
  std::vector<TokenCandidate> v = {{7, 0, 0.5f}, {8, 0, 0.3f}, {9, 0, 0.2f}};
  Candidates c = View(v);
  EXPECT_EQ(PickByUniform(c, 0.0), 0u);
  EXPECT_EQ(PickByUniform(c, 0.49), 0u);
  EXPECT_EQ(PickByUniform(c, 0.51), 1u);
  EXPECT_EQ(PickByUniform(c, 0.79), 1u);
  EXPECT_EQ(PickByUniform(c, 0.81), 2u);
  EXPECT_EQ(PickByUniform(c, 0.9999999), 2u);
}

TEST(MirostatTest, V1KOnAZipfDistribution) {
  // p_i proportional to 1/(i+1)^2: b_i = ln(p_i/p_i+1) = 2 ln((i+2)/(i+1)) = 2 t_i, so s = 2,
  // eps = 1 and k = (2^mu / (1 - 5^-1))^(1/2) = sqrt(2^mu / 0.8) with n_vocab 5:
  // mu 2 -> sqrt(5) = 2.23607, mu 4 -> sqrt(20) = 4.47214. m = 2 uses one pair, same s.
  auto v = Make({std::log(1.0f), std::log(1 / 4.0f), std::log(1 / 9.0f), std::log(1 / 16.0f),
                 std::log(1 / 25.0f)});
  Candidates c = View(v);
  Softmax(c, true);
  EXPECT_NEAR(MirostatV1K(c, 100, 5, 2.0f), 2.23607f, 1e-4);
  EXPECT_NEAR(MirostatV1K(c, 100, 5, 4.0f), 4.47214f, 1e-4);
  EXPECT_NEAR(MirostatV1K(c, 2, 5, 2.0f), 2.23607f, 1e-4);
  // p_i proportional to 1/(i+1): s = 1, eps = 0, where k's limit is 2^mu / ln N:
  // mu 3, N 5 -> 8 / 1.60944 = 4.97068.
  auto h =
      Make({0.0f, std::log(1 / 2.0f), std::log(1 / 3.0f), std::log(1 / 4.0f), std::log(1 / 5.0f)});
  Candidates harmonic = View(h);
  Softmax(harmonic, true);
  EXPECT_NEAR(MirostatV1K(harmonic, 100, 5, 3.0f), 4.97068f, 1e-3);
}

TEST(MirostatTest, V2TruncatesBySurpriseAndRenormalizes) {
  // -log2 p = [1, 2, 2.737, 3.837, 5.059]. mu 2.5 keeps ids 0, 1 -> 0.5/0.75, 0.25/0.75.
  auto v = Make(LogOf(kProbs));
  Candidates c = View(v);
  MirostatV2Truncate(c, 2.5f);
  ASSERT_EQ(Ids(c), (std::vector<int32_t>{0, 1}));
  EXPECT_NEAR(c.data[0].p, 2.0f / 3.0f, 1e-6);
  EXPECT_NEAR(c.data[1].p, 1.0f / 3.0f, 1e-6);
  // mu below every surprise: the top token stays, with p 1.
  auto w = Make(LogOf(kProbs));
  Candidates one = View(w);
  MirostatV2Truncate(one, 0.5f);
  ASSERT_EQ(Ids(one), (std::vector<int32_t>{0}));
  EXPECT_FLOAT_EQ(one.data[0].p, 1.0f);
}

TEST(MirostatTest, MuUpdate) {
  // mu - eta (-log2 p - tau): p 1/4 -> surprise 2: 10 - 0.1 (2 - 5) = 10.3;
  // p 1/64 -> surprise 6: 10 - 0.1 (6 - 5) = 9.9.
  EXPECT_NEAR(MirostatUpdateMu(10.0f, 0.25f, 5.0f, 0.1f), 10.3f, 1e-5);
  EXPECT_NEAR(MirostatUpdateMu(10.0f, 1.0f / 64, 5.0f, 0.1f), 9.9f, 1e-5);
}

TEST(PenaltyWindowTest, KeepsTheLastNTokens) {
  PenaltyWindow w(3, 10);
  for (int32_t t : {5, 5, 7}) w.Push(t);
  EXPECT_EQ(w.counts()[5], 2);
  EXPECT_EQ(w.counts()[7], 1);
  w.Push(9);  // window 5 7 9: one 5 left
  EXPECT_EQ(w.counts()[5], 1);
  w.Push(9);  // window 7 9 9
  EXPECT_EQ(w.counts()[5], 0);
  EXPECT_EQ(w.counts()[7], 1);
  EXPECT_EQ(w.counts()[9], 2);
  EXPECT_EQ(w.size(), 3);
  w.Clear();
  EXPECT_EQ(w.counts()[9], 0);
  EXPECT_EQ(w.size(), 0);
  PenaltyWindow off(0, 10);  // repeat_last_n 0
  off.Push(3);
  EXPECT_EQ(off.size(), 0);
}

SamplingOptions Greedy() {
  SamplingOptions o;
  o.temperature = 0.0f;
  return o;
}

TEST(SamplerTest, GreedyWithRepeatPenaltyWindow) {
  // logits [1, 3, 2.9, 0, 0]: argmax 1. Once 1 is in the window, 3 / 1.1 = 2.727 < 2.9, so 2.
  // With repeat_last_n 1, accepting 2 pushes 1 out again, and 2.9 / 1.1 < 3.
  SamplingOptions o = Greedy();
  o.repeat_penalty = 1.1f;
  o.repeat_last_n = 1;
  auto s = Sampler::Create(o, 5, 100);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const std::vector<float> logits = {1.0f, 3.0f, 2.9f, 0.0f, 0.0f};
  EXPECT_EQ(s->Sample(logits), 1);
  EXPECT_EQ(s->Sample(logits), 1);  // sampling alone does not penalize
  s->Accept(1);
  EXPECT_EQ(s->Sample(logits), 2);
  s->Accept(2);
  EXPECT_EQ(s->Sample(logits), 1);
}

TEST(SamplerTest, FrequencyPenaltyThroughTheSampler) {
  // logits [1.0, 0.9]; token 0 seen once: 1.0 / 1 - 1 * 0.2 = 0.8 < 0.9.
  SamplingOptions o = Greedy();
  o.frequency_penalty = 0.2f;
  auto s = Sampler::Create(o, 2, 100);
  ASSERT_TRUE(s.ok());
  const std::vector<float> logits = {1.0f, 0.9f};
  EXPECT_EQ(s->Sample(logits), 0);
  s->Accept(0);
  EXPECT_EQ(s->Sample(logits), 1);
}

TEST(SamplerTest, PromptWindowAndRepeatLastNMinusOne) {
  // logits [3, 2.95, 0, 0, 0], repeat 2: token 0 penalized -> 1.5 < 2.95 -> 1.
  const std::vector<float> logits = {3.0f, 2.95f, 0.0f, 0.0f, 0.0f};
  SamplingOptions o = Greedy();
  o.repeat_penalty = 2.0f;
  o.repeat_last_n = 2;
  const std::vector<int32_t> prompt = {0, 4, 4};
  auto two = Sampler::Create(o, 5, 3);
  ASSERT_TRUE(two.ok());
  two->AcceptPrompt(prompt);  // window of 2 holds 4 4: token 0 is not penalized
  EXPECT_EQ(two->Sample(logits), 0);
  o.repeat_last_n = -1;  // window = num_ctx = 3: holds 0 4 4
  auto ctx = Sampler::Create(o, 5, 3);
  ASSERT_TRUE(ctx.ok());
  ctx->AcceptPrompt(prompt);
  EXPECT_EQ(ctx->Sample(logits), 1);
  o.repeat_last_n = 0;  // off
  auto off = Sampler::Create(o, 5, 3);
  ASSERT_TRUE(off.ok());
  off->AcceptPrompt(prompt);
  EXPECT_EQ(off->Sample(logits), 0);
}

// Frequencies of `draws` samples; each must be within `tol` of `expected`.
void ExpectFrequencies(Sampler& s, const std::vector<float>& logits,
                       const std::vector<double>& expected, int draws, double tol) {
  std::vector<int> hits(logits.size(), 0);
  for (int i = 0; i < draws; ++i) ++hits[s.Sample(logits)];
  for (size_t t = 0; t < logits.size(); ++t) {
    EXPECT_NEAR(hits[t] / static_cast<double>(draws), expected[t], tol) << "token " << t;
  }
}

SamplingOptions Plain(float temperature) {
  SamplingOptions o;
  o.temperature = temperature;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.seed = 1234;
  return o;
}

// 40000 draws: the standard error of a frequency is at most 0.0025, so 0.01 is 4 sigma.
constexpr int kDraws = 40000;
constexpr double kTol = 0.01;

TEST(SamplerTest, SamplesTheSoftmax) {
  auto s = Sampler::Create(Plain(1.0f), 5, 100);
  ASSERT_TRUE(s.ok());
  ExpectFrequencies(*s, LogOf(kProbs), {0.5, 0.25, 0.15, 0.07, 0.03}, kDraws, kTol);
}

TEST(SamplerTest, TemperatureSharpens) {
  // T = 0.5: p_i^2 / sum p^2 = [0.25, 0.0625, 0.0225, 0.0049, 0.0009] / 0.3408
  //        = [0.73357, 0.18339, 0.06602, 0.01438, 0.00264].
  auto s = Sampler::Create(Plain(0.5f), 5, 100);
  ASSERT_TRUE(s.ok());
  ExpectFrequencies(*s, LogOf(kProbs), {0.73357, 0.18339, 0.06602, 0.01438, 0.00264}, kDraws, kTol);
}

TEST(SamplerTest, TopPBeforeTemperature) {
  // top_p 0.8 on the untempered p keeps 3 tokens (0.5 + 0.25 < 0.8 <= 0.9); then T = 0.5:
  // [0.25, 0.0625, 0.0225] / 0.335 = [0.74627, 0.18657, 0.06716]. Were temperature first,
  // the tempered 0.73357 + 0.18339 >= 0.8 would keep only 2.
  SamplingOptions o = Plain(0.5f);
  o.top_p = 0.8f;
  auto s = Sampler::Create(o, 5, 100);
  ASSERT_TRUE(s.ok());
  ExpectFrequencies(*s, LogOf(kProbs), {0.74627, 0.18657, 0.06716, 0.0, 0.0}, kDraws, kTol);
}

TEST(SamplerTest, TopKThenSoftmax) {
  // top_k 2: {0.5, 0.25} renormalized to 2/3, 1/3.
  SamplingOptions o = Plain(1.0f);
  o.top_k = 2;
  auto s = Sampler::Create(o, 5, 100);
  ASSERT_TRUE(s.ok());
  ExpectFrequencies(*s, LogOf(kProbs), {2.0 / 3, 1.0 / 3, 0, 0, 0}, kDraws, kTol);
}

TEST(SamplerTest, MinPAndTypicalInTheChain) {
  // min_p 0.2 keeps p >= 0.1: {0.5, 0.25, 0.15} / 0.9 = [0.55556, 0.27778, 0.16667].
  SamplingOptions o = Plain(1.0f);
  o.min_p = 0.2f;
  auto s = Sampler::Create(o, 5, 100);
  ASSERT_TRUE(s.ok());
  ExpectFrequencies(*s, LogOf(kProbs), {0.55556, 0.27778, 0.16667, 0, 0}, kDraws, kTol);
  // typical_p 0.5 keeps {1, 0} (see TypicalPTest): 0.5 / 0.75, 0.25 / 0.75.
  SamplingOptions t = Plain(1.0f);
  t.typical_p = 0.5f;
  auto typical = Sampler::Create(t, 5, 100);
  ASSERT_TRUE(typical.ok());
  ExpectFrequencies(*typical, LogOf(kProbs), {2.0 / 3, 1.0 / 3, 0, 0, 0}, kDraws, kTol);
}

TEST(SamplerTest, SameSeedSameTokens) {
  SamplingOptions o;  // Ollama's defaults, seeded
  o.seed = 77;
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 2;
  auto a = Sampler::Create(o, 50, 100);
  auto b = Sampler::Create(o, 50, 100);
  o.seed = 78;
  auto c = Sampler::Create(o, 50, 100);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->seed(), 77u);
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    const int32_t x = a->Sample(logits);
    EXPECT_EQ(x, b->Sample(logits));
    differ += x != c->Sample(logits);
  }
  EXPECT_GT(differ, 0);
  // seed -1 draws a seed per sampler.
  SamplingOptions r;
  auto r1 = Sampler::Create(r, 50, 100);
  auto r2 = Sampler::Create(r, 50, 100);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_NE(r1->seed(), r2->seed());
}

TEST(SamplerTest, MirostatV2UpdatesMu) {
  // tau 5 -> mu starts at 10, above every surprise (max 5.06 bits): nothing is cut, the draw
  // is from p itself, then mu = 10 - 0.1 (-log2 p_chosen - 5).
  SamplingOptions o = Plain(1.0f);
  o.mirostat = 2;
  auto s = Sampler::Create(o, 5, 100);
  ASSERT_TRUE(s.ok());
  EXPECT_FLOAT_EQ(s->mirostat_mu(), 10.0f);
  const int32_t t = s->Sample(LogOf(kProbs));
  EXPECT_NEAR(s->mirostat_mu(), 10.0f - 0.1f * (-std::log2(kProbs[t]) - 5.0f), 1e-4);
}

TEST(SamplerTest, MirostatV1CutsToK) {
  // Zipf s = 2 over 5 tokens (p proportional to 1, 1/4, 1/9, 1/16, 1/25), tau 1 -> mu 2 ->
  // k = sqrt(5) -> top 2, renormalized: 1 / 1.25 = 0.8 and 0.25 / 1.25 = 0.2. The first draw
  // updates mu to 2 - 0.1 (-log2 p - 1).
  SamplingOptions o = Plain(1.0f);
  o.mirostat = 1;
  o.mirostat_tau = 1.0f;
  o.mirostat_eta = 0.1f;
  auto s = Sampler::Create(o, 5, 100);
  ASSERT_TRUE(s.ok());
  const std::vector<float> logits = {0.0f, std::log(1 / 4.0f), std::log(1 / 9.0f),
                                     std::log(1 / 16.0f), std::log(1 / 25.0f)};
  const int32_t t = s->Sample(logits);
  ASSERT_TRUE(t == 0 || t == 1) << t;
  const float p = t == 0 ? 0.8f : 0.2f;
  EXPECT_NEAR(s->mirostat_mu(), 2.0f - 0.1f * (-std::log2(p) - 1.0f), 1e-4);
}

TEST(SamplerTest, NoAllocationPerToken) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::cos(static_cast<float>(i) * 0.37f);
  SamplingOptions chain;
  chain.typical_p = 0.9f;
  chain.min_p = 0.05f;
  chain.repeat_penalty = 1.1f;
  chain.presence_penalty = 0.5f;
  chain.top_k = 0;  // the whole vocabulary through every filter
  SamplingOptions m1 = chain, m2 = chain, greedy = chain;
  m1.mirostat = 1;
  m2.mirostat = 2;
  greedy.temperature = 0.0f;
  for (const SamplingOptions& o : {chain, m1, m2, greedy}) {
    auto s = Sampler::Create(o, 1000, 100);
    ASSERT_TRUE(s.ok());
    const int64_t before = testing_util::AllocationCount();
    for (int i = 0; i < 50; ++i) s->Accept(s->Sample(logits));
    EXPECT_EQ(testing_util::AllocationCount(), before) << "mirostat " << o.mirostat;
  }
}

}  // namespace
}  // namespace corral::sampling

namespace corral::sampling {
namespace {

// A restarted sampler draws exactly what a new one with the same options does, whatever the
// previous request left behind (penalty counts, mirostat's mu, the RNG), and allocates nothing
// when the new options need no more buffers than the old.
TEST(SamplerTest, RestartEqualsANewSamplerAndReusesTheBuffers) {
  std::vector<float> logits(300);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i) * 0.7f);
  SamplingOptions first;  // Ollama's defaults (top_k 40, top_p 0.9), penalties over 64 tokens
  first.seed = 5;
  first.frequency_penalty = 0.3f;
  first.typical_p = 0.8f;
  first.mirostat = 2;
  SamplingOptions second;
  second.seed = 9;
  second.repeat_last_n = 16;
  second.presence_penalty = 0.7f;
  auto reused = Sampler::Create(first, 300, 100);
  ASSERT_TRUE(reused.ok());
  for (int i = 0; i < 40; ++i) reused->Accept(reused->Sample(logits));

  const int64_t before = testing_util::AllocationCount();
  ASSERT_TRUE(reused->Restart(second, 100).ok());
  EXPECT_EQ(testing_util::AllocationCount(), before);
  auto fresh = Sampler::Create(second, 300, 100);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(reused->seed(), 9u);
  EXPECT_EQ(reused->mirostat_mu(), fresh->mirostat_mu());
  const std::vector<int32_t> prompt = {3, 3, 7, 250, 3};
  reused->AcceptPrompt(prompt);
  fresh->AcceptPrompt(prompt);
  for (int i = 0; i < 60; ++i) {
    const int32_t t = fresh->Sample(logits);
    ASSERT_EQ(reused->Sample(logits), t) << "draw " << i;
    fresh->Accept(t);
    reused->Accept(t);
  }
  // Bad options leave the sampler as it was.
  SamplingOptions bad = second;
  bad.top_p = 2.0f;
  EXPECT_EQ(reused->Restart(bad, 100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reused->seed(), 9u);
}

}  // namespace
}  // namespace corral::sampling
