#include "runner/runner.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "base/check.h"
#include "base/log.h"
#include "sampling/constrained.h"

namespace corral::runner {
namespace {

using Clock = std::chrono::steady_clock;

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Generation

bool Generation::Next(Chunk* chunk) {
  std::unique_lock lock(mu_);
  if (returned_done_) return false;
  cv_.wait(lock, [&] { return !chunks_.empty(); });
  *chunk = std::move(chunks_.front());
  chunks_.pop_front();
  if (chunk->done) returned_done_ = true;
  return true;
}

void Generation::Push(Chunk chunk) {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = chunk.done;
    chunks_.push_back(std::move(chunk));
  }
  cv_.notify_one();
}

// ---------------------------------------------------------------------------------------------
// Runner internals

struct Runner::Job {
  GenerateRequest request;
  std::shared_ptr<Generation> generation;
  // Embedding jobs: tokens in request.prompt, the answer through the promise-like fields.
  bool embed = false;
  std::mutex* embed_mu = nullptr;
  std::condition_variable* embed_cv = nullptr;
  std::optional<Result<std::vector<float>>>* embed_result = nullptr;
};

struct Runner::Slot {
  int32_t seq = 0;
  std::unique_ptr<Job> job;  // null: free
  std::optional<sampling::Sampler> sampler;
  std::optional<sampling::GrammarMatcher> matcher;
  std::optional<sampling::TextStream> stream;
  std::vector<float> grammar_scratch;  // [n_vocab] the masked logits when a draw is refused
  size_t prompt_done = 0;              // prompt tokens in the sequence
  int32_t pending_token = -1;          // sampled, not yet decoded
  int64_t num_keep = 0;
  std::vector<int32_t> generated;
  std::vector<sampling::Logprob> logprobs;  // not sent yet
  Timings timings;
  Clock::time_point last_used{};  // for choosing which free slot's cache to overwrite
};

Runner::Runner(std::shared_ptr<const engine::Model> model, const RunnerOptions& options)
    : model_(std::move(model)), options_(options) {}

Result<std::unique_ptr<Runner>> Runner::Create(std::shared_ptr<const engine::Model> model,
                                               const RunnerOptions& options) {
  if (!model) return InvalidArgumentError("no model");
  if (options.n_ctx < 1) return InvalidArgumentError("num_ctx must be at least 1");
  if (options.n_parallel < 1) return InvalidArgumentError("num_parallel must be at least 1");
  if (options.n_batch < 1) return InvalidArgumentError("num_batch must be at least 1");
  std::unique_ptr<Runner> runner(new Runner(std::move(model), options));
  engine::ContextOptions ctx_options;
  ctx_options.n_ctx = options.n_ctx;
  ctx_options.n_seq = options.n_parallel;
  ctx_options.n_ubatch = options.n_batch;
  ctx_options.n_outputs_max = options.n_parallel;
  ctx_options.n_threads = options.n_threads;
  ctx_options.kv_type = options.kv_type;
  ASSIGN_OR_RETURN(runner->ctx_, engine::Context::Create(*runner->model_, ctx_options));
  runner->slots_.resize(static_cast<size_t>(options.n_parallel));
  for (int i = 0; i < options.n_parallel; ++i) runner->slots_[i].seq = i;
  runner->batch_.reserve(static_cast<size_t>(options.n_batch));
  runner->output_slots_.reserve(static_cast<size_t>(options.n_parallel));
  runner->thread_ = std::thread([r = runner.get()] { r->Loop(); });
  return runner;
}

Runner::~Runner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

const sampling::GrammarVocab& Runner::grammar_vocab() {
  std::call_once(grammar_vocab_once_, [this] {
    const tokenizer::Tokenizer& tok = model_->tokenizer();
    std::vector<std::string> pieces(static_cast<size_t>(tok.n_tokens()));
    for (int32_t id = 0; id < tok.n_tokens(); ++id) {
      // Control tokens print as nothing without `special`, so a grammar never matches them;
      // end-of-generation ones are allowed where the grammar is complete (below).
      pieces[id] = tok.TokenToPiece(id, false);
    }
    grammar_vocab_ = std::make_unique<sampling::GrammarVocab>(
        sampling::GrammarVocab::Build(pieces, tok.end_of_generation()));
  });
  return *grammar_vocab_;
}

Result<std::shared_ptr<Generation>> Runner::Submit(GenerateRequest request) {
  if (model_->is_embedding_model()) {
    return InvalidArgumentError("this model produces embeddings only; it cannot generate text");
  }
  if (request.prompt.empty()) return InvalidArgumentError("the prompt has no tokens");
  const int64_t n_vocab = model_->hparams().n_vocab;
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= n_vocab) {
      return InvalidArgumentError("token id " + std::to_string(t) + " is outside the vocabulary");
    }
  }
  if (static_cast<int64_t>(request.prompt.size()) > options_.n_ctx) {
    return OutOfRangeError("the prompt has " + std::to_string(request.prompt.size()) +
                           " tokens, more than the context length of " +
                           std::to_string(options_.n_ctx));
  }
  RETURN_IF_ERROR(sampling::ValidateSamplingOptions(request.sampling));
  RETURN_IF_ERROR(sampling::ValidateTopLogprobs(request.top_logprobs));
  if (request.grammar) grammar_vocab();  // build it here, not on the loop thread

  auto job = std::make_unique<Job>();
  job->request = std::move(request);
  job->generation = std::make_shared<Generation>();
  std::shared_ptr<Generation> generation = job->generation;
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
    busy_.fetch_add(1);
  }
  cv_.notify_all();
  return generation;
}

Result<std::vector<float>> Runner::Embed(std::vector<int32_t> tokens) {
  if (tokens.empty()) return InvalidArgumentError("the input has no tokens");
  if (static_cast<int64_t>(tokens.size()) > std::min(options_.n_ctx, options_.n_batch)) {
    return OutOfRangeError("the input has " + std::to_string(tokens.size()) +
                           " tokens, more than the context length of " +
                           std::to_string(std::min(options_.n_ctx, options_.n_batch)));
  }
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::vector<float>>> result;
  auto job = std::make_unique<Job>();
  job->request.prompt = std::move(tokens);
  job->embed = true;
  job->embed_mu = &mu;
  job->embed_cv = &cv;
  job->embed_result = &result;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return UnavailableError("the model is being unloaded");
    jobs_.push_back(std::move(job));
    busy_.fetch_add(1);
  }
  cv_.notify_all();
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return std::move(*result);
}

void Runner::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      bool running =
          std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.job != nullptr; });
      if (!running && jobs_.empty()) {
        ctx_->pool().Park();  // nothing to decode: free the cores for the replies' threads
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      }
      if (stopping_) break;
    }
    Admit();
    Step();
  }
  // Unload: every consumer gets a final chunk so nobody waits forever.
  for (Slot& slot : slots_) {
    if (slot.job)
      FinishSlot(slot, sampling::DoneReason::kNone, UnavailableError("the model was unloaded"));
  }
  std::lock_guard lock(mu_);
  for (auto& job : jobs_) {
    if (job->embed) {
      std::lock_guard elock(*job->embed_mu);
      *job->embed_result = UnavailableError("the model was unloaded");
      job->embed_cv->notify_all();
    } else {
      Chunk chunk;
      chunk.done = true;
      chunk.error = UnavailableError("the model was unloaded");
      job->generation->Push(std::move(chunk));
    }
  }
  jobs_.clear();
}

bool Runner::Admit() {
  while (true) {
    std::unique_ptr<Job> job;
    {
      std::lock_guard lock(mu_);
      if (jobs_.empty()) break;
      // Cancelled before it started: drop it.
      if (!jobs_.front()->embed && jobs_.front()->generation->cancelled()) {
        jobs_.pop_front();
        busy_.fetch_sub(1);
        continue;
      }
      // The free slot whose cached tokens share the longest prefix with the prompt; ties go
      // to the one used longest ago.
      const std::vector<int32_t>& prompt = jobs_.front()->request.prompt;
      Slot* best = nullptr;
      size_t best_shared = 0;
      for (Slot& slot : slots_) {
        if (slot.job) continue;
        std::span<const int32_t> cached = ctx_->SequenceTokens(slot.seq);
        size_t shared = 0;
        while (shared < cached.size() && shared < prompt.size() &&
               cached[shared] == prompt[shared]) {
          ++shared;
        }
        if (!best || shared > best_shared ||
            (shared == best_shared && slot.last_used < best->last_used)) {
          best = &slot;
          best_shared = shared;
        }
      }
      if (!best) break;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      if (job->embed) {
        RunEmbed(*job, best->seq);
        busy_.fetch_sub(1);
        continue;
      }
      StartSlot(*best, *job);
      best->job = std::move(job);
    }
  }
  return true;
}

void Runner::RunEmbed(Job& job, int32_t seq) {
  Result<std::vector<float>> result = ctx_->Embed(job.request.prompt, seq);
  std::lock_guard lock(*job.embed_mu);
  *job.embed_result = std::move(result);
  job.embed_cv->notify_all();
}

void Runner::StartSlot(Slot& slot, Job& job) {
  GenerateRequest& r = job.request;
  const int32_t n_vocab = static_cast<int32_t>(model_->hparams().n_vocab);
  // Validated in Submit, so neither can fail here. The slot's last sampler is restarted rather
  // than replaced: its buffers are n_vocab long (2 MB of fresh pages per request otherwise).
  const int32_t n_ctx = static_cast<int32_t>(options_.n_ctx);
  if (slot.sampler) {
    Status restarted = slot.sampler->Restart(r.sampling, n_ctx);
    CHECK(restarted.ok()) << restarted.message();
  } else {
    Result<sampling::Sampler> sampler = sampling::Sampler::Create(r.sampling, n_vocab, n_ctx);
    CHECK(sampler.ok()) << sampler.status().message();
    slot.sampler.emplace(std::move(*sampler));
  }
  slot.sampler->AcceptPrompt(r.prompt);
  slot.matcher.reset();
  if (r.grammar) {
    slot.matcher.emplace(r.grammar);
    slot.grammar_scratch.reserve(static_cast<size_t>(n_vocab));
  }
  const int64_t n_prompt = static_cast<int64_t>(r.prompt.size());
  slot.stream.emplace(r.stop, sampling::TokenBudget(r.num_predict, options_.n_ctx, n_prompt));
  slot.prompt_done = static_cast<size_t>(ctx_->ReusePrefix(slot.seq, r.prompt));
  slot.pending_token = -1;
  slot.num_keep = r.num_keep < 0 ? n_prompt : std::min(r.num_keep, n_prompt);
  slot.num_keep = std::min(slot.num_keep, options_.n_ctx / 2);
  slot.generated.clear();
  slot.logprobs.clear();
  slot.timings = Timings{};
  slot.last_used = Clock::now();
  // A budget of zero tokens (num_predict -2 on a full context) is ended by the next Step
  // before any decoding.
}

bool Runner::MakeRoom(Slot& slot) {
  const int64_t length = ctx_->SequenceLength(slot.seq);
  if (length < options_.n_ctx) return true;
  if (!slot.job->request.shift) {
    FinishSlot(slot, sampling::DoneReason::kLength);
    return false;
  }
  const int64_t discard = (length - slot.num_keep) / 2;
  if (discard <= 0) {
    FinishSlot(slot, sampling::DoneReason::kLength);
    return false;
  }
  if (Status s = ctx_->ShiftSequence(slot.seq, slot.num_keep, discard); !s.ok()) {
    FinishSlot(slot, sampling::DoneReason::kNone, s);
    return false;
  }
  return true;
}

void Runner::Step() {
  // Cancelled generations free their sequence now; zero-budget ones end before decoding.
  for (Slot& slot : slots_) {
    if (!slot.job) continue;
    if (slot.job->generation->cancelled()) {
      FinishSlot(slot, sampling::DoneReason::kNone);
    } else if (slot.stream->done()) {
      FinishSlot(slot, slot.stream->done_reason());
    }
  }

  batch_.clear();
  output_slots_.clear();
  int64_t budget = options_.n_batch;
  // Running generations first: one token each, so a long prompt never stalls them.
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (!slot.job || slot.pending_token < 0 || budget == 0) continue;
    if (!MakeRoom(slot)) continue;
    batch_.push_back({slot.pending_token, slot.seq, true});
    output_slots_.push_back(static_cast<int32_t>(i));
    --budget;
  }
  const size_t n_generating = batch_.size();
  // Then prompts, in slot order, as far as the budget goes.
  std::vector<std::pair<size_t, size_t>> prompt_parts;  // (slot, tokens) in this batch
  for (size_t i = 0; i < slots_.size() && budget > 0; ++i) {
    Slot& slot = slots_[i];
    if (!slot.job || slot.pending_token >= 0) continue;
    const std::vector<int32_t>& prompt = slot.job->request.prompt;
    const size_t take = std::min<size_t>(prompt.size() - slot.prompt_done, budget);
    for (size_t k = 0; k < take; ++k) {
      const bool last = slot.prompt_done + k + 1 == prompt.size();
      batch_.push_back({prompt[slot.prompt_done + k], slot.seq, last});
      if (last) output_slots_.push_back(static_cast<int32_t>(i));
    }
    prompt_parts.emplace_back(i, take);
    budget -= static_cast<int64_t>(take);
  }
  if (batch_.empty()) return;

  const Clock::time_point start = Clock::now();
  Status decoded = ctx_->Decode(batch_);
  const int64_t elapsed = Nanos(Clock::now() - start);
  if (!decoded.ok()) {
    LOG(kError) << "decode failed: " << decoded.message();
    for (Slot& slot : slots_) {
      if (slot.job) FinishSlot(slot, sampling::DoneReason::kNone, decoded);
    }
    return;
  }
  // The step's time is shared out by tokens: a sequence's prompt and generation durations
  // are its part of the batches it was in.
  const double per_token = static_cast<double>(elapsed) / static_cast<double>(batch_.size());
  for (auto [i, take] : prompt_parts) {
    Slot& slot = slots_[i];
    slot.prompt_done += take;
    slot.timings.prompt_eval_count += static_cast<int64_t>(take);
    slot.timings.prompt_eval_ns += static_cast<int64_t>(per_token * static_cast<double>(take));
  }
  for (size_t out = 0; out < output_slots_.size(); ++out) {
    Slot& slot = slots_[output_slots_[out]];
    if (!slot.job) continue;
    const Clock::time_point sample_start = Clock::now();
    if (out < n_generating) slot.timings.eval_ns += static_cast<int64_t>(per_token);
    SampleSlot(slot, ctx_->Logits(static_cast<int64_t>(out)));
    if (slot.job) slot.timings.eval_ns += Nanos(Clock::now() - sample_start);
  }
}

void Runner::SampleSlot(Slot& slot, std::span<const float> logits) {
  const GenerateRequest& r = slot.job->request;
  const Clock::time_point start = Clock::now();
  int32_t id;
  if (slot.matcher) {
    Result<int32_t> chosen = sampling::SampleConstrained(
        *slot.sampler, *slot.matcher, grammar_vocab(), logits, slot.grammar_scratch);
    if (!chosen.ok()) {
      FinishSlot(slot, sampling::DoneReason::kNone, chosen.status());
      return;
    }
    id = *chosen;
  } else {
    id = slot.sampler->Sample(logits);
  }
  slot.sampler->Accept(id);
  const tokenizer::Tokenizer& tok = model_->tokenizer();
  if (r.logprobs) {
    slot.logprobs.push_back(sampling::ComputeLogprob(logits, id, r.top_logprobs, tok));
  }
  slot.generated.push_back(id);
  slot.timings.eval_count += 1;
  const bool eog = tok.IsEndOfGeneration(id);
  sampling::StreamStep step =
      slot.stream->Push(eog ? std::string() : tok.TokenToPiece(id, false), eog);
  slot.timings.eval_ns += Nanos(Clock::now() - start);
  if (step.done != sampling::DoneReason::kNone) {
    FinishSlot(slot, step.done, Status::Ok(), std::move(step.text));
    return;
  }
  if (!step.text.empty() || !slot.logprobs.empty()) {
    Chunk chunk;
    chunk.text = std::move(step.text);
    chunk.logprobs = std::move(slot.logprobs);
    slot.logprobs.clear();
    slot.job->generation->Push(std::move(chunk));
  }
  slot.pending_token = id;
}

void Runner::FinishSlot(Slot& slot, sampling::DoneReason reason, Status error, std::string text) {
  Chunk chunk;
  chunk.text = std::move(text);
  chunk.done = true;
  chunk.done_reason = reason;
  chunk.error = std::move(error);
  chunk.timings = slot.timings;
  chunk.generated = std::move(slot.generated);
  chunk.logprobs = std::move(slot.logprobs);
  slot.generated.clear();
  slot.logprobs.clear();
  // Counted free before the consumer can see the end.
  busy_.fetch_sub(1);
  slot.job->generation->Push(std::move(chunk));
  slot.job.reset();
  slot.pending_token = -1;
  slot.last_used = Clock::now();
}

}  // namespace corral::runner
