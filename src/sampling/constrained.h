// Grammar-constrained sampling, llama.cpp common_sampler's two-step: sample ignoring the grammar,
// keep the token if the grammar accepts it (the common case: a check of one token), else mask
// every token the grammar refuses (-inf) and sample again from the same logits.
//
//   ASSIGN_OR_RETURN(int32_t id, sampling::SampleConstrained(sampler, matcher, vocab, logits,
//                                                            scratch));
//   sampler.Accept(id);   // the matcher has already accepted it
//
// The rejected first draw still advances the sampler's RNG (and mirostat's mu), as in llama.cpp;
// the result stays a function of the seed and the logits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "sampling/grammar.h"
#include "sampling/sampler.h"

namespace corral::sampling {

// logits: [vocab.n_vocab()], not modified; scratch: reused for the masked copy. Accepts the
// chosen token into `matcher`. FailedPrecondition-like InvalidArgument when the grammar allows
// no token at all (only reachable through the caps in GrammarLimits).
// `refused`, when given, is set to whether the first draw was refused (the slow path).
Result<int32_t> SampleConstrained(Sampler& sampler, GrammarMatcher& matcher,
                                  const GrammarVocab& vocab, std::span<const float> logits,
                                  std::vector<float>& scratch, bool* refused = nullptr);

}  // namespace corral::sampling
