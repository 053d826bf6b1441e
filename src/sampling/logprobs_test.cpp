#include "sampling/logprobs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace corral::sampling {
namespace {

// Token texts of a 5-token vocabulary: id 3 is a lone byte of a UTF-8 character, id 4 empty.
std::string Text(int32_t id) {
  static const char* kTexts[] = {"a", " b", "\xC3\xA9", "\xE2", ""};
  return kTexts[id];
}

// Logits ln p + 7 (a shift must not matter): log-softmax gives ln p back.
const std::vector<float> kProbs = {0.15f, 0.5f, 0.07f, 0.25f, 0.03f};
std::vector<float> Logits() {
  std::vector<float> out;
  for (float p : kProbs) out.push_back(std::log(p) + 7.0f);
  return out;
}

TEST(LogprobsTest, ChosenAndTopFromTheFullSoftmax) {
  const Logprob lp = ComputeLogprob(Logits(), 2, 3, Text);
  EXPECT_EQ(lp.chosen.id, 2);
  EXPECT_EQ(lp.chosen.token, "\xC3\xA9");
  EXPECT_NEAR(lp.chosen.logprob, std::log(0.07f), 1e-5);
  // Top 3 by probability: id 1 (0.5), id 3 (0.25), id 0 (0.15).
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].id, 1);
  EXPECT_EQ(lp.top[1].id, 3);
  EXPECT_EQ(lp.top[2].id, 0);
  EXPECT_NEAR(lp.top[0].logprob, std::log(0.5f), 1e-5);
  EXPECT_NEAR(lp.top[1].logprob, std::log(0.25f), 1e-5);
  EXPECT_NEAR(lp.top[2].logprob, std::log(0.15f), 1e-5);
  EXPECT_EQ(lp.top[0].token, " b");
}

TEST(LogprobsTest, TopNLimits) {
  EXPECT_TRUE(ComputeLogprob(Logits(), 0, 0, Text).top.empty());
  const Logprob all = ComputeLogprob(Logits(), 0, 20, Text);  // more than the vocabulary
  ASSERT_EQ(all.top.size(), 5u);
  EXPECT_EQ(all.top[4].id, 4);  // the least probable (0.03) last
  // Ties: lower id first. Three equal logits: each ln(1/3).
  const Logprob ties = ComputeLogprob(std::vector<float>{1.0f, 1.0f, 1.0f}, 2, 2, Text);
  ASSERT_EQ(ties.top.size(), 2u);
  EXPECT_EQ(ties.top[0].id, 0);
  EXPECT_EQ(ties.top[1].id, 1);
  EXPECT_NEAR(ties.chosen.logprob, -std::log(3.0f), 1e-6);
}

TEST(LogprobsTest, ValidateTopLogprobs) {
  EXPECT_TRUE(ValidateTopLogprobs(0).ok());
  EXPECT_TRUE(ValidateTopLogprobs(20).ok());
  const Status s = ValidateTopLogprobs(21);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "top_logprobs must be between 0 and 20");
  EXPECT_FALSE(ValidateTopLogprobs(-1).ok());
}

TEST(LogprobsTest, OllamaJsonShape) {
  // "é" = bytes 195 169; a lone E2 byte prints as U+FFFD with its raw byte 226 in "bytes";
  // an empty token has no "bytes" (omitempty); no alternatives -> no "top_logprobs".
  const Logprob lp = ComputeLogprob(Logits(), 2, 2, Text);
  const nlohmann::ordered_json j = LogprobToJson(lp);
  EXPECT_EQ(j["token"], "\xC3\xA9");
  EXPECT_EQ(j["bytes"], nlohmann::ordered_json::parse("[195, 169]"));
  EXPECT_NEAR(j["logprob"].get<double>(), std::log(0.07), 1e-5);
  ASSERT_EQ(j["top_logprobs"].size(), 2u);
  EXPECT_EQ(j["top_logprobs"][0]["token"], " b");
  EXPECT_EQ(j["top_logprobs"][0]["bytes"], nlohmann::ordered_json::parse("[32, 98]"));
  EXPECT_FALSE(j["top_logprobs"][0].contains("top_logprobs"));
  // Ollama's field order (api.Logprob / TokenLogprob).
  EXPECT_EQ(LogprobToJson(ComputeLogprob(Logits(), 1, 1, Text)).dump().substr(0, 9), "{\"token\":");
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"token", "logprob", "bytes", "top_logprobs"}));

  const nlohmann::ordered_json lone = LogprobToJson(ComputeLogprob(Logits(), 3, 0, Text));
  EXPECT_EQ(lone["token"], "\xEF\xBF\xBD");
  EXPECT_EQ(lone["bytes"], nlohmann::ordered_json::parse("[226]"));
  EXPECT_FALSE(lone.contains("top_logprobs"));
  EXPECT_NO_THROW((void)lone.dump());  // valid UTF-8, so nlohmann can serialize it

  const nlohmann::ordered_json empty = LogprobToJson(ComputeLogprob(Logits(), 4, 0, Text));
  EXPECT_EQ(empty["token"], "");
  EXPECT_FALSE(empty.contains("bytes"));

  const std::vector<Logprob> seq = {lp, lp};
  const nlohmann::ordered_json arr = LogprobsToJson(seq);
  ASSERT_TRUE(arr.is_array());
  EXPECT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[1], j);
}

}  // namespace
}  // namespace corral::sampling
