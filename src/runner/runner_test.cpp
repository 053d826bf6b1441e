#include "runner/runner.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include <gtest/gtest.h>

#include "engine/context.h"
#include "modelgen/model_factory.h"
#include "sampling/json_schema.h"

namespace corral::runner {
namespace {

using quantize::FileType;

class RunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("corral-runner-test-" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // A tiny random-weight llama of `type`, loaded once per type.
  static std::shared_ptr<const engine::Model> Model(FileType type = FileType::kQ8_0) {
    static std::map<FileType, std::shared_ptr<const engine::Model>> models;
    auto& m = models[type];
    if (!m) {
      auto spec = modelgen::TinySpec("llama");
      EXPECT_TRUE(spec.ok());
      spec->name = "runner-" + std::string(quantize::FileTypeName(type));
      auto path = modelgen::MakeModel(*spec, type, dir_->string(), 2);
      EXPECT_TRUE(path.ok()) << path.status().ToString();
      auto model = engine::Model::Load(*path, {.n_threads = 2});
      EXPECT_TRUE(model.ok()) << model.status().ToString();
      m = std::move(model).value();
    }
    return m;
  }

  static std::unique_ptr<Runner> NewRunner(RunnerOptions o, FileType type = FileType::kQ8_0) {
    if (o.n_threads == 0) o.n_threads = 2;
    auto r = Runner::Create(Model(type), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  static std::filesystem::path* dir_;
};
std::filesystem::path* RunnerTest::dir_ = nullptr;

std::vector<int32_t> Tokens(int n, int seed) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(3 + (seed * 131 + i * 37) % 900);
  return t;
}

struct Outcome {
  std::string text;
  std::vector<int32_t> generated;
  sampling::DoneReason reason = sampling::DoneReason::kNone;
  std::vector<sampling::Logprob> logprobs;
  Timings timings;
  Status error;
  int chunks = 0;
};

Outcome Drain(Generation& gen) {
  Outcome r;
  Chunk c;
  while (gen.Next(&c)) {
    ++r.chunks;
    r.text += c.text;
    for (auto& lp : c.logprobs) r.logprobs.push_back(lp);
    if (c.done) {
      r.generated = c.generated;
      r.reason = c.done_reason;
      r.timings = c.timings;
      r.error = c.error;
    }
  }
  return r;
}

Outcome Generate(Runner& runner, GenerateRequest request) {
  auto gen = runner.Submit(std::move(request));
  EXPECT_TRUE(gen.ok()) << gen.status().ToString();
  if (!gen.ok()) return {};
  return Drain(**gen);
}

GenerateRequest Greedy(std::vector<int32_t> prompt, int64_t num_predict) {
  GenerateRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.num_predict = num_predict;
  return r;
}

int32_t Argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// The runner's greedy tokens are the engine's argmax chain, token for token.
TEST_F(RunnerTest, GreedyEqualsTheEnginesArgmaxChain) {
  auto runner = NewRunner({.n_ctx = 128});
  const std::vector<int32_t> prompt = Tokens(7, 1);
  Outcome r = Generate(*runner, Greedy(prompt, 12));
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();

  auto ctx = engine::Context::Create(*Model(), {.n_ctx = 128, .n_threads = 2});
  ASSERT_TRUE(ctx.ok());
  std::vector<engine::BatchToken> batch;
  for (size_t i = 0; i < prompt.size(); ++i) {
    batch.push_back({prompt[i], 0, i + 1 == prompt.size()});
  }
  ASSERT_TRUE((*ctx)->Decode(batch).ok());
  std::vector<int32_t> expected;
  const auto& tok = Model()->tokenizer();
  // The text as the client gets it: invalid UTF-8 (random tokens) becomes U+FFFD.
  sampling::TextStream stream({}, 1000);
  std::string text;
  for (int i = 0; i < 12; ++i) {
    int32_t id = Argmax((*ctx)->Logits(0));
    expected.push_back(id);
    if (tok.IsEndOfGeneration(id)) break;
    text += stream.Push(tok.TokenToPiece(id, false)).text;
    engine::BatchToken t{id, 0, true};
    ASSERT_TRUE((*ctx)->Decode({&t, 1}).ok());
  }
  EXPECT_EQ(r.generated, expected);
  if (expected.size() == 12 && !tok.IsEndOfGeneration(expected.back())) {
    EXPECT_EQ(r.reason, sampling::DoneReason::kLength);
    EXPECT_EQ(r.text, text + stream.Finish(sampling::DoneReason::kLength).text);
  }
  EXPECT_EQ(r.timings.prompt_eval_count, 7);
  EXPECT_EQ(r.timings.eval_count, static_cast<int64_t>(expected.size()));
  EXPECT_GT(r.timings.prompt_eval_ns, 0);
  EXPECT_GT(r.timings.eval_ns, 0);
}

// num_predict N gives exactly N tokens when nothing stops earlier (EOS masked off by a grammar
// that never completes: any number of letters).
TEST_F(RunnerTest, NumPredictGivesExactlyNTokens) {
  auto runner = NewRunner({.n_ctx = 256});
  auto grammar = sampling::Grammar::Parse("root ::= [a-z ]*");
  ASSERT_TRUE(grammar.ok());
  for (int64_t n : {1, 5, 37}) {
    GenerateRequest req = Greedy(Tokens(4, 2), n);
    req.sampling.temperature = 1.0f;
    req.sampling.seed = 7;
    req.grammar = *grammar;
    Outcome r = Generate(*runner, std::move(req));
    ASSERT_TRUE(r.error.ok()) << r.error.ToString();
    EXPECT_EQ(static_cast<int64_t>(r.generated.size()), n);
    EXPECT_EQ(r.timings.eval_count, n);
    EXPECT_EQ(r.reason, sampling::DoneReason::kLength);
  }
}

// A stop string that spans tokens ends generation before it; none of it reaches the output.
TEST_F(RunnerTest, StopStringSpanningTokensIsHonouredAndAbsent) {
  auto runner = NewRunner({.n_ctx = 256});
  auto grammar = sampling::Grammar::Parse("root ::= [a-z]*");
  ASSERT_TRUE(grammar.ok());
  auto g = *grammar;
  GenerateRequest base = Greedy(Tokens(4, 3), 40);
  base.sampling.temperature = 1.0f;
  base.sampling.seed = 11;
  base.grammar = g;
  Outcome full = Generate(*runner, base);
  ASSERT_TRUE(full.error.ok());
  // Find a token boundary with text on both sides; the stop string takes the last two bytes
  // of one token and the first byte of the next.
  const auto& tok = Model()->tokenizer();
  size_t offset = 0, cut = std::string::npos;
  for (size_t i = 0; i + 1 < full.generated.size(); ++i) {
    std::string piece = tok.TokenToPiece(full.generated[i], false);
    std::string next = tok.TokenToPiece(full.generated[i + 1], false);
    offset += piece.size();
    if (piece.size() >= 2 && !next.empty() && offset >= 2 && i > 0) {
      cut = offset - 2;
      break;
    }
  }
  ASSERT_NE(cut, std::string::npos) << full.text;
  const std::string stop = full.text.substr(cut, 3);
  ASSERT_EQ(full.text.find(stop), cut) << "the stop string occurs earlier; pick another seed";
  GenerateRequest with_stop = base;
  with_stop.stop = {stop};
  Outcome r = Generate(*runner, with_stop);
  EXPECT_EQ(r.text, full.text.substr(0, cut));
  EXPECT_EQ(r.reason, sampling::DoneReason::kStop);
}

// The same seed and options give the same tokens alone, again, beside three other generations,
// and with the prompt split over several decode steps.
TEST_F(RunnerTest, SameSeedSameOutputAcrossRunsAndBatchCompositions) {
  for (FileType type : {FileType::kQ8_0, FileType::kQ4_K_M, FileType::kF16, FileType::kAllF32}) {
    SCOPED_TRACE(quantize::FileTypeName(type));
    GenerateRequest req;
    req.prompt = Tokens(23, 4);
    req.sampling.temperature = 1.2f;
    req.sampling.seed = 1234;
    req.sampling.top_k = 0;
    req.sampling.top_p = 1.0f;
    req.num_predict = 48;

    auto alone = NewRunner({.n_ctx = 256}, type);
    Outcome a = Generate(*alone, req);
    Outcome again = Generate(*alone, req);
    ASSERT_EQ(a.generated.size(), 48u);
    EXPECT_EQ(again.generated, a.generated);

    auto busy = NewRunner({.n_ctx = 256, .n_parallel = 4, .n_batch = 9}, type);
    std::vector<std::shared_ptr<Generation>> others;
    for (int i = 0; i < 3; ++i) {
      GenerateRequest other = req;
      other.prompt = Tokens(5 + 11 * i, 10 + i);
      other.sampling.seed = 99 + i;
      other.num_predict = 20 + 17 * i;
      others.push_back(*busy->Submit(other));
    }
    auto mine = busy->Submit(req);
    ASSERT_TRUE(mine.ok());
    Outcome b = Drain(**mine);
    for (auto& o : others) Drain(*o);
    EXPECT_EQ(b.generated, a.generated);
    EXPECT_EQ(b.text, a.text);
  }
}

// Log-probabilities are the log-softmax of the raw logits, top alternatives included.
TEST_F(RunnerTest, LogprobsAreTheLogSoftmaxOfTheLogits) {
  auto runner = NewRunner({.n_ctx = 64});
  GenerateRequest req = Greedy(Tokens(5, 5), 3);
  req.logprobs = true;
  req.top_logprobs = 3;
  Outcome r = Generate(*runner, req);
  ASSERT_EQ(r.logprobs.size(), r.generated.size());
  auto ctx = engine::Context::Create(*Model(), {.n_ctx = 64, .n_threads = 2});
  std::vector<engine::BatchToken> batch;
  for (size_t i = 0; i < req.prompt.size(); ++i) {
    batch.push_back({req.prompt[i], 0, i + 1 == req.prompt.size()});
  }
  ASSERT_TRUE((*ctx)->Decode(batch).ok());
  std::span<const float> logits = (*ctx)->Logits(0);
  double max = *std::max_element(logits.begin(), logits.end()), sum = 0;
  for (float l : logits) sum += std::exp(l - max);
  const double expected = logits[r.generated[0]] - max - std::log(sum);
  EXPECT_NEAR(r.logprobs[0].chosen.logprob, expected, 1e-4);
  ASSERT_EQ(r.logprobs[0].top.size(), 3u);
  EXPECT_EQ(r.logprobs[0].top[0].id, r.generated[0]) << "greedy picks the most probable";
  EXPECT_GE(r.logprobs[0].top[1].logprob, r.logprobs[0].top[2].logprob);
}

// format "json": the output parses as one JSON object.
TEST_F(RunnerTest, JsonGrammarGivesParsableJson) {
  auto runner = NewRunner({.n_ctx = 512, .n_parallel = 2});
  auto grammar = sampling::Grammar::Parse(sampling::JsonObjectGbnf());
  ASSERT_TRUE(grammar.ok()) << grammar.status().ToString();
  auto g = *grammar;
  for (int seed = 1; seed <= 4; ++seed) {
    GenerateRequest req;
    req.prompt = Tokens(6, seed);
    req.sampling.seed = seed;
    req.num_predict = 400;
    req.grammar = g;
    Outcome r = Generate(*runner, req);
    ASSERT_TRUE(r.error.ok()) << r.error.ToString();
    ASSERT_EQ(r.reason, sampling::DoneReason::kStop) << r.text;
    auto parsed = nlohmann::json::parse(r.text, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << r.text;
    EXPECT_TRUE(parsed.is_object()) << r.text;
  }
}

// Past n_ctx, shifting keeps generating; without shift the generation stops with "length".
TEST_F(RunnerTest, FullContextShiftsOrStops) {
  auto runner = NewRunner({.n_ctx = 32});
  GenerateRequest req = Greedy(Tokens(20, 6), 40);
  req.sampling.temperature = 1.0f;
  req.sampling.seed = 3;
  auto grammar = sampling::Grammar::Parse("root ::= [a-z]*");
  req.grammar = *grammar;
  Outcome shifted = Generate(*runner, req);
  ASSERT_TRUE(shifted.error.ok()) << shifted.error.ToString();
  EXPECT_EQ(shifted.generated.size(), 40u);
  EXPECT_EQ(shifted.reason, sampling::DoneReason::kLength);

  req.shift = false;
  Outcome stopped = Generate(*runner, req);
  ASSERT_TRUE(stopped.error.ok());
  // 20 prompt tokens + 12 decoded fill 32 positions; the 13th sampled token has no room to
  // be decoded after it, so it is the last.
  EXPECT_EQ(stopped.generated.size(), 13u);
  EXPECT_EQ(stopped.reason, sampling::DoneReason::kLength);
}

TEST_F(RunnerTest, BadRequestsAreRefusedWithTheReason) {
  auto runner = NewRunner({.n_ctx = 16});
  auto empty = runner->Submit(GenerateRequest{});
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  auto too_long = runner->Submit(Greedy(Tokens(17, 1), 1));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("17"), std::string::npos);
  EXPECT_NE(too_long.status().message().find("16"), std::string::npos);
  auto bad_token = runner->Submit(Greedy({1, 1 << 20}, 1));
  EXPECT_EQ(bad_token.status().code(), StatusCode::kInvalidArgument);
  GenerateRequest bad_option = Greedy(Tokens(3, 1), 1);
  bad_option.sampling.top_k = -1;
  EXPECT_EQ(runner->Submit(bad_option).status().code(), StatusCode::kInvalidArgument);
  GenerateRequest bad_top = Greedy(Tokens(3, 1), 1);
  bad_top.top_logprobs = 21;
  EXPECT_EQ(runner->Submit(bad_top).status().code(), StatusCode::kInvalidArgument);
}

// A cancelled generation frees its sequence: the next request runs although n_parallel is 1.
TEST_F(RunnerTest, CancelFreesTheSequence) {
  auto runner = NewRunner({.n_ctx = 4096});
  GenerateRequest endless = Greedy(Tokens(3, 7), 100000);
  auto grammar = sampling::Grammar::Parse("root ::= [a-z]*");
  endless.grammar = *grammar;
  auto gen = runner->Submit(endless);
  ASSERT_TRUE(gen.ok());
  Chunk c;
  ASSERT_TRUE((*gen)->Next(&c));
  (*gen)->Cancel();
  Outcome next = Generate(*runner, Greedy(Tokens(3, 8), 2));
  EXPECT_EQ(next.generated.size(), 2u);
  EXPECT_EQ(runner->busy(), 0);
}

// A second turn that extends the first reuses its cached prompt.
TEST_F(RunnerTest, FollowUpReusesTheCachedPrefix) {
  auto runner = NewRunner({.n_ctx = 256, .n_parallel = 2});
  GenerateRequest first = Greedy(Tokens(30, 9), 4);
  Outcome a = Generate(*runner, first);
  GenerateRequest second = Greedy(Tokens(30, 9), 4);
  second.prompt.insert(second.prompt.end(), {5, 6, 7});
  Outcome b = Generate(*runner, second);
  EXPECT_EQ(b.timings.prompt_eval_count, 3) << "only the new tokens are evaluated";
  // And the result equals a fresh runner's.
  auto fresh = NewRunner({.n_ctx = 256});
  EXPECT_EQ(Generate(*fresh, second).generated, b.generated);
}

TEST_F(RunnerTest, UnloadingEndsWaitingAndRunningGenerations) {
  auto runner = NewRunner({.n_ctx = 4096});
  GenerateRequest endless = Greedy(Tokens(3, 7), 100000);
  auto grammar = sampling::Grammar::Parse("root ::= [a-z]*");
  endless.grammar = *grammar;
  auto running = runner->Submit(endless);
  auto waiting = runner->Submit(endless);
  ASSERT_TRUE(running.ok() && waiting.ok());
  runner.reset();
  Outcome r1 = Drain(**running), r2 = Drain(**waiting);
  EXPECT_FALSE(r1.error.ok());
  EXPECT_FALSE(r2.error.ok());
}

}  // namespace
}  // namespace corral::runner

namespace corral::runner {
namespace {

// The property behind same-seed-same-output: a sequence's logits are bit for bit the same
// whatever else shares its batches and however its prompt is split.
TEST_F(RunnerTest, LogitsDoNotDependOnTheBatch) {
  for (FileType type : {FileType::kQ8_0, FileType::kQ4_K_M, FileType::kF16, FileType::kAllF32}) {
    SCOPED_TRACE(quantize::FileTypeName(type));
    const std::vector<int32_t> prompt = Tokens(37, 12);
    auto alone = engine::Context::Create(*Model(type), {.n_ctx = 128, .n_threads = 2});
    std::vector<engine::BatchToken> batch;
    for (size_t i = 0; i < prompt.size(); ++i) {
      batch.push_back({prompt[i], 0, i + 1 == prompt.size()});
    }
    ASSERT_TRUE((*alone)->Decode(batch).ok());
    std::vector<float> expected((*alone)->Logits(0).begin(), (*alone)->Logits(0).end());
    engine::BatchToken next{Argmax(expected), 0, true};
    ASSERT_TRUE((*alone)->Decode({&next, 1}).ok());
    std::vector<float> expected2((*alone)->Logits(0).begin(), (*alone)->Logits(0).end());

    // The same prompt in chunks of 5, beside 3 other sequences' tokens.
    auto mixed = engine::Context::Create(*Model(type), {.n_ctx = 128, .n_seq = 4, .n_threads = 2});
    std::vector<float> got;
    for (size_t start = 0; start < prompt.size(); start += 5) {
      batch.clear();
      for (int s = 1; s < 4; ++s) batch.push_back({static_cast<int32_t>(40 + s + start), s, true});
      for (size_t i = start; i < std::min(prompt.size(), start + 5); ++i) {
        batch.push_back({prompt[i], 0, i + 1 == prompt.size()});
      }
      ASSERT_TRUE((*mixed)->Decode(batch).ok());
    }
    got.assign((*mixed)->Logits(3).begin(), (*mixed)->Logits(3).end());
    EXPECT_EQ(got, expected);
    batch.clear();
    for (int s = 1; s < 4; ++s) batch.push_back({7, s, true});
    batch.insert(batch.begin() + 1, next);
    ASSERT_TRUE((*mixed)->Decode(batch).ok());
    got.assign((*mixed)->Logits(1).begin(), (*mixed)->Logits(1).end());
    EXPECT_EQ(got, expected2);
  }
}

}  // namespace
}  // namespace corral::runner
