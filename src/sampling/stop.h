// Generated text to the client: stop strings, held-back text and done_reason.
//
//   TextStream stream(request_stops, TokenBudget(num_predict, num_ctx, n_prompt));
//   while (!stream.done()) {
//     int32_t id = sampler.Sample(logits);
//     StreamStep step = stream.Push(tokenizer.TokenToPiece(id, false),
//     tokenizer.IsEndOfGeneration(id)); send(step.text);          // may be empty
//   }
//   done_reason = DoneReasonString(stream.done_reason());
//
// Only text that can no longer become part of a stop string is emitted; when a stop string
// completes, the text from its start on is dropped and generation is done ("stop"), so a stop
// string never reaches the client, not even in part. Stop strings may span any number of
// tokens. Bytes of a UTF-8 character split across tokens are held until it completes, so no
// chunk ends inside a character; invalid bytes become U+FFFD, as Go's JSON encoder writes them.
//
// Pieces are raw token text (Tokenizer::TokenToPiece): tokenizer::StreamingDecoder drops SPM's
// prefix space from its first piece, which is right for decoding a text from its start but not
// for a continuation of the prompt, so this class does its own UTF-8 holding instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sampling {

enum class DoneReason { kNone, kStop, kLength };

// Ollama's done_reason: "stop", "length"; "" for kNone (not done, or ended from outside).
std::string_view DoneReasonString(DoneReason reason);

// Ollama's num_predict as a number of tokens to generate. N > 0: N, at most 10 * num_ctx;
// -2: fill the context (num_ctx - n_prompt_tokens, not below 0); -1 and any other value:
// 10 * num_ctx, Ollama's cap so that generation with context shifting cannot run forever.
int64_t TokenBudget(int64_t num_predict, int64_t num_ctx, int64_t n_prompt_tokens);

struct StreamStep {
  std::string text;                     // to send now; may be empty
  DoneReason done = DoneReason::kNone;  // set on the step that ends generation
};

class TextStream {
 public:
  // stops: Ollama's `stop`; empty strings are ignored (they would stop before any text).
  // max_tokens: from TokenBudget; <= 0 means done before the first token ("length").
  TextStream(std::vector<std::string> stops, int64_t max_tokens);

  // One generated token's piece (raw bytes, possibly part of a UTF-8 character).
  // end_of_generation: the token is EOS/EOT; its text is not output and generation is done
  // ("stop"). A stop string completing wins over reaching max_tokens on the same token.
  // After done, returns an empty step with the same reason.
  StreamStep Push(std::string_view piece, bool end_of_generation = false);

  // Ends generation for a reason from outside (context full without shift: kLength; client
  // gone: kNone) and releases every held-back byte. No-op once done.
  StreamStep Finish(DoneReason reason);

  bool done() const { return done_; }
  DoneReason done_reason() const { return reason_; }
  int64_t n_tokens() const { return n_tokens_; }        // pieces pushed (EOG tokens included)
  const std::string& held() const { return pending_; }  // bytes not emitted yet

 private:
  // Ends generation: whatever is pending up to `cut` bytes is emitted.
  StreamStep End(DoneReason reason, size_t cut);

  std::vector<std::string> stops_;
  size_t max_stop_ = 0;  // longest stop string, bytes
  int64_t max_tokens_ = 0;
  int64_t n_tokens_ = 0;
  std::string pending_;  // held back: a possible stop-string start or an unfinished character
  bool done_ = false;
  DoneReason reason_ = DoneReason::kNone;
};

}  // namespace corral::sampling
