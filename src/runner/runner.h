// A Runner serves one loaded model: up to n_parallel generations decoded together (continuous
// batching), each with its own sampler, grammar, stop strings and token budget.
//
//   ASSIGN_OR_RETURN(auto runner, runner::Runner::Create(model, {.n_ctx = 4096,
//                                                                 .n_parallel = 4}));
//   ASSIGN_OR_RETURN(auto gen, runner->Submit(std::move(request)));
//   runner::Chunk chunk;
//   while (gen->Next(&chunk)) send(chunk.text);   // the last chunk has done = true
//
// One thread owns the engine Context and runs the loop: take waiting requests into free
// sequences (the one whose cached tokens share the longest prefix with the prompt, so a
// follow-up turn reuses the cached prompt), build one batch of every running sequence's next
// token plus prompt tokens up to n_batch, decode it, sample each sequence that got logits.
// A generation's tokens depend only on its own prompt, options and seed: every sequence has its
// own sampler and RNG, and the engine computes each row of a batch independently of the others.
//
// Memory: the context, samplers' buffers and per-sequence scratch are sized at Create or at
// Submit; the loop itself allocates only the text it hands out.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "engine/context.h"
#include "engine/model.h"
#include "sampling/grammar.h"
#include "sampling/logprobs.h"
#include "sampling/sampler.h"
#include "sampling/stop.h"

namespace corral::runner {

struct RunnerOptions {
  int64_t n_ctx = 2048;   // positions per sequence (Ollama's num_ctx)
  int n_parallel = 1;     // sequences decoded together (OLLAMA_NUM_PARALLEL)
  int64_t n_batch = 512;  // tokens per decode step (Ollama's num_batch)
  int n_threads = 0;      // 0: one per core
  gguf::GgmlType kv_type = gguf::GgmlType::kF16;
};

struct GenerateRequest {
  std::vector<int32_t> prompt;  // [n_prompt] token ids, at least one, at most n_ctx
  sampling::SamplingOptions sampling;
  std::vector<std::string> stop;  // stop strings: never part of the output
  int64_t num_predict = -1;       // see sampling::TokenBudget
  // Tokens at the start kept when the context is shifted (Ollama's num_keep); -1: the whole
  // prompt. Clamped to n_ctx / 2 so a shift always frees room.
  int64_t num_keep = 4;
  bool shift = true;  // on a full context, drop half of the rest and go on; false: stop ("length")
  bool logprobs = false;
  int64_t top_logprobs = 0;                          // 0..20 alternatives per token when logprobs
  std::shared_ptr<const sampling::Grammar> grammar;  // null: unconstrained
};

struct Timings {
  int64_t prompt_eval_count = 0;  // prompt tokens evaluated (those reused from cache are not)
  int64_t prompt_eval_ns = 0;
  int64_t eval_count = 0;  // generated tokens
  int64_t eval_ns = 0;
};

struct Chunk {
  std::string text;                         // may be empty (text held back for stop strings)
  std::vector<sampling::Logprob> logprobs;  // one per token sampled since the previous chunk
  bool done = false;
  sampling::DoneReason done_reason = sampling::DoneReason::kNone;
  // Final chunk only.
  Timings timings;
  std::vector<int32_t> generated;  // every sampled token (for Ollama's `context`)
  Status error;                    // not ok: the generation failed (the engine's reason)
};

// The consumer's end of one generation.
class Generation {
 public:
  // Blocks for the next chunk. Returns false once the done chunk has been returned (or the
  // generation was cancelled).
  bool Next(Chunk* chunk);
  // Asks the runner to stop this generation; its sequence is freed at the next step.
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // Runner side.
  void Push(Chunk chunk);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> chunks_;
  bool finished_ = false;  // the done chunk was pushed
  bool returned_done_ = false;
  std::atomic<bool> cancelled_{false};
};

class Runner {
 public:
  static Result<std::unique_ptr<Runner>> Create(std::shared_ptr<const engine::Model> model,
                                                const RunnerOptions& options);
  ~Runner();  // cancels everything and joins the loop
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Checks the request (InvalidArgument: empty prompt, bad token ids, bad sampling options,
  // an embedding-only model; OutOfRange: a prompt longer than n_ctx, naming both sizes) and
  // queues it. The request waits while every sequence is busy.
  Result<std::shared_ptr<Generation>> Submit(GenerateRequest request);

  // The pooled, not normalized embedding of `tokens` (at most n_batch of them), computed on the
  // loop thread between decode steps.
  Result<std::vector<float>> Embed(std::vector<int32_t> tokens);

  // Generations running or waiting.
  int busy() const { return busy_.load(); }
  const engine::Model& model() const { return *model_; }
  // The options in effect (n_ctx as given; the caller clamps it to the model beforehand).
  const RunnerOptions& options() const { return options_; }
  uint64_t kv_cache_bytes() const { return ctx_->kv_cache().bytes(); }
  // The vocabulary as the grammar filter sees it, built on first use.
  const sampling::GrammarVocab& grammar_vocab();

 private:
  struct Slot;
  struct Job;
  Runner(std::shared_ptr<const engine::Model> model, const RunnerOptions& options);
  void Loop();
  // Moves waiting jobs into free slots. Returns false when nothing is running or waiting.
  bool Admit();
  void Step();
  void RunEmbed(Job& job, int32_t seq);
  void StartSlot(Slot& slot, Job& job);
  // Samples the slot's next token from `logits` and sends what it can.
  void SampleSlot(Slot& slot, std::span<const float> logits);
  // Sends the final chunk (with the text the stream released last) and frees the slot.
  void FinishSlot(Slot& slot, sampling::DoneReason reason, Status error = Status::Ok(),
                  std::string text = {});
  // Room for one more token in the slot's sequence: shifts the context, or ends the
  // generation. Returns false when the slot ended.
  bool MakeRoom(Slot& slot);

  std::shared_ptr<const engine::Model> model_;
  RunnerOptions options_;
  std::unique_ptr<engine::Context> ctx_;
  std::vector<Slot> slots_;  // [n_parallel]
  std::once_flag grammar_vocab_once_;
  std::unique_ptr<sampling::GrammarVocab> grammar_vocab_;

  std::mutex mu_;  // guards jobs_ and stopping_
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> jobs_;
  bool stopping_ = false;
  std::atomic<int> busy_{0};

  // Step's batch, sized at Create.
  std::vector<engine::BatchToken> batch_;  // [<= n_batch]
  std::vector<int32_t> output_slots_;      // [n_parallel] slot of each logits row
  std::thread thread_;
};

}  // namespace corral::runner
