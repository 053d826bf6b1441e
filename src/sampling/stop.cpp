#include "sampling/stop.h"

#include <algorithm>
#include <utility>

#include "sampling/utf8.h"

namespace corral::sampling {

std::string_view DoneReasonString(DoneReason reason) {
  switch (reason) {
    case DoneReason::kStop:
      return "stop";
    case DoneReason::kLength:
      return "length";
    case DoneReason::kNone:
      break;
  }
  return "";
}

int64_t TokenBudget(int64_t num_predict, int64_t num_ctx, int64_t n_prompt_tokens) {
  const int64_t cap = 10 * num_ctx;  // llm/server.go: "avoid the model running on forever"
  if (num_predict > 0) return std::min(num_predict, cap);
  if (num_predict == -2) return std::max<int64_t>(num_ctx - n_prompt_tokens, 0);
  return cap;
}

TextStream::TextStream(std::vector<std::string> stops, int64_t max_tokens)
    : max_tokens_(max_tokens) {
  for (std::string& s : stops) {
    if (s.empty()) continue;
    max_stop_ = std::max(max_stop_, s.size());
    stops_.push_back(std::move(s));
  }
  if (max_tokens_ <= 0) {
    done_ = true;
    reason_ = DoneReason::kLength;
  }
}

StreamStep TextStream::Push(std::string_view piece, bool end_of_generation) {
  if (done_) return {"", reason_};
  ++n_tokens_;
  if (end_of_generation) return End(DoneReason::kStop, pending_.size());
  pending_.append(piece);

  // Everything emitted so far was cut before the longest suffix that could start a stop
  // string, so any occurrence lies in pending_. Cut at the earliest one.
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) first = std::min(first, pending_.find(stop));
  if (first != std::string::npos) return End(DoneReason::kStop, first);
  if (n_tokens_ >= max_tokens_) return End(DoneReason::kLength, pending_.size());

  // Hold the longest suffix that is a proper prefix of some stop string...
  const std::string_view text = pending_;
  size_t hold = 0;
  const size_t longest = max_stop_ > 0 ? std::min(text.size(), max_stop_ - 1) : 0;
  for (size_t len = longest; len > 0 && hold == 0; --len) {
    const std::string_view tail = text.substr(text.size() - len);
    for (const std::string& stop : stops_) {
      if (stop.size() > len && std::string_view(stop).substr(0, len) == tail) {
        hold = len;
        break;
      }
    }
  }
  // ...and any character the cut would split or the piece left unfinished.
  size_t cut = text.size() - hold;
  cut -= IncompleteUtf8Suffix(text.substr(0, cut));

  StreamStep step;
  AppendSanitizedUtf8(text.substr(0, cut), &step.text);
  pending_.erase(0, cut);
  return step;
}

StreamStep TextStream::Finish(DoneReason reason) {
  if (done_) return {"", reason_};
  return End(reason, pending_.size());
}

StreamStep TextStream::End(DoneReason reason, size_t cut) {
  StreamStep step;
  // Nothing can complete a character cut short now: its bytes become U+FFFD, like Go's JSON.
  AppendSanitizedUtf8(std::string_view(pending_).substr(0, cut), &step.text);
  step.done = reason;
  pending_.clear();
  done_ = true;
  reason_ = reason;
  return step;
}

}  // namespace corral::sampling
