#include "sampling/constrained.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::sampling {
namespace {

class ConstrainedTest : public ::testing::Test {
 protected:
  //                                 0    1    2    3
  std::vector<std::string> pieces = {"a", "b", "c", "<eos>"};
  GrammarVocab vocab = GrammarVocab::Build(pieces, std::vector<int32_t>{3});

  Sampler Greedy() {
    SamplingOptions options;
    options.temperature = 0.0f;
    auto s = Sampler::Create(options, 4, 128);
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  }
};

TEST_F(ConstrainedTest, GreedyTakesTheBestAllowedToken) {
  auto g = Grammar::Parse("root ::= \"b\" \"c\"?\n");
  ASSERT_TRUE(g.ok());
  GrammarMatcher m(*g);
  Sampler sampler = Greedy();
  std::vector<float> scratch;
  const std::vector<float> logits = {5.0f, 1.0f, 3.0f, 4.0f};  // a > eos > c > b
  auto id = SampleConstrained(sampler, m, vocab, logits, scratch);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1);  // only b is allowed first
  id = SampleConstrained(sampler, m, vocab, logits, scratch);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 3);  // c or eos allowed; eos scores higher
  // The sampled token is kept when the grammar allows it (no masking needed).
  GrammarMatcher m2(*g);
  const std::vector<float> prefer_b = {0.0f, 9.0f, 1.0f, 2.0f};
  id = SampleConstrained(sampler, m2, vocab, prefer_b, scratch);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1);
}

TEST_F(ConstrainedTest, NoAllowedTokenIsAnError) {
  GrammarLimits limits;
  limits.max_stacks = 1;  // two alternatives at the start: the matcher is dead
  auto g = Grammar::Parse("root ::= \"a\" | \"b\"\n", limits);
  ASSERT_TRUE(g.ok());
  GrammarMatcher m(*g);
  ASSERT_TRUE(m.IsDead());
  Sampler sampler = Greedy();
  std::vector<float> scratch;
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 4.0f};
  EXPECT_FALSE(SampleConstrained(sampler, m, vocab, logits, scratch).ok());
}

}  // namespace
}  // namespace corral::sampling
