#include "sampling/constrained.h"

#include <limits>

namespace corral::sampling {

Result<int32_t> SampleConstrained(Sampler& sampler, GrammarMatcher& matcher,
                                  const GrammarVocab& vocab, std::span<const float> logits,
                                  std::vector<float>& scratch, bool* refused) {
  int32_t id = sampler.Sample(logits);
  const bool accepted = matcher.AcceptToken(vocab, id);
  if (refused != nullptr) *refused = !accepted;
  if (accepted) return id;
  scratch.assign(logits.begin(), logits.end());
  matcher.FilterLogits(vocab, scratch);
  bool any = false;
  for (float l : scratch) any = any || l > -std::numeric_limits<float>::infinity();
  if (!any) return InvalidArgumentError("the grammar allows no token here");
  id = sampler.Sample(scratch);
  if (!matcher.AcceptToken(vocab, id)) {
    return InternalError("grammar filter and matcher disagree on token " + std::to_string(id));
  }
  return id;
}

}  // namespace corral::sampling
