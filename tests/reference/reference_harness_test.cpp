// The llama.cpp reference harness itself: later correctness tests trust what it says, so these
// pin it to known facts about stories260K (see ../shared/testdata/PROVENANCE.md).
#include <gtest/gtest.h>

#include <cmath>

#include "testing/reference.h"
#include "testing/testdata.h"

namespace corral::testing {
namespace {

constexpr char kStories[] = "models/stories260K.gguf";

TEST(ReferenceHarnessTest, TokenizesWithBos) {
  REQUIRE_SHARED_TESTDATA(model, kStories);
  auto tokens = reference::Tokenize(model, "Once upon a time", /*add_special=*/true);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  EXPECT_EQ(*tokens, (std::vector<int32_t>{1, 403, 407, 261, 378}));

  auto plain = reference::Tokenize(model, "Once upon a time", /*add_special=*/false);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, (std::vector<int32_t>{403, 407, 261, 378}));
}

TEST(ReferenceHarnessTest, GreedyContinuationIsStableAcrossRuns) {
  REQUIRE_SHARED_TESTDATA(model, kStories);
  auto first = reference::Greedy(model, "Once upon a time", 16);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = reference::Greedy(model, "Once upon a time", 16);  // a second node process
  ASSERT_TRUE(second.ok()) << second.status().ToString();

  EXPECT_EQ(first->prompt, (std::vector<int32_t>{1, 403, 407, 261, 378}));
  ASSERT_EQ(first->tokens.size(), 16u);
  EXPECT_EQ(first->tokens, second->tokens);
  EXPECT_EQ(first->text, second->text);
  // PROVENANCE.md: greedy from "<s>Once upon a time" writes ", there was a little girl named
  // Lily. She loved to play outside in the park."
  EXPECT_EQ(first->text.rfind(", there was a little girl named Lily.", 0), 0u) << first->text;

  auto text = reference::Detokenize(model, first->tokens);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, first->text);
}

TEST(ReferenceHarnessTest, NextTokenLogprobsAgreeWithGreedy) {
  REQUIRE_SHARED_TESTDATA(model, kStories);
  auto greedy = reference::Greedy(model, "Once upon a time", 2);
  ASSERT_TRUE(greedy.ok()) << greedy.status().ToString();
  std::vector<int32_t> tokens = greedy->prompt;  // [BOS, Once, upon, a, time]
  tokens.push_back(greedy->tokens[0]);

  auto logprobs = reference::NextTokenLogprobs(model, tokens, {4, 5}, 5);
  ASSERT_TRUE(logprobs.ok()) << logprobs.status().ToString();
  ASSERT_EQ(logprobs->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const reference::TopLogprobs& p = (*logprobs)[i];
    EXPECT_EQ(p.position, static_cast<int>(4 + i));
    ASSERT_EQ(p.top.size(), 5u);
    // Greedy picks the most likely token at each step.
    EXPECT_EQ(p.top[0].first, greedy->tokens[i]);
    double mass = 0;
    for (size_t k = 0; k < p.top.size(); ++k) {
      EXPECT_LE(p.top[k].second, 0.0);
      if (k > 0) {
        EXPECT_LE(p.top[k].second, p.top[k - 1].second);
      }
      mass += std::exp(p.top[k].second);
    }
    EXPECT_LE(mass, 1.0 + 1e-6);
    EXPECT_GT(mass, 0.5);  // a trained model is confident about the next word here
  }
}

TEST(ReferenceHarnessTest, EmbeddingHasModelWidthAndNormalizes) {
  REQUIRE_SHARED_TESTDATA(model, kStories);
  auto e = reference::Embed(model, "Once upon a time");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->raw.size(), 64u);  // n_embd of stories260K
  ASSERT_EQ(e->normalized.size(), 64u);
  double norm = 0, raw_norm = 0;
  for (size_t i = 0; i < 64; ++i) {
    norm += e->normalized[i] * e->normalized[i];
    raw_norm += e->raw[i] * e->raw[i];
  }
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_GT(std::abs(raw_norm - 1.0), 1e-3) << "llama models' raw embeddings are not normalized";
}

TEST(ReferenceHarnessTest, MissingModelIsAnError) {
  auto tokens = reference::Tokenize("/nonexistent/model.gguf", "hi", true);
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.status().message().find("reference harness"), std::string::npos)
      << tokens.status().ToString();
}

}  // namespace
}  // namespace corral::testing
