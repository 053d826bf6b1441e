// How `corral run` prints a streamed reply, as Ollama's generate() does: thinking between
// "Thinking..." and "...done thinking." (grey on a terminal) unless hidden, then the response
// text as it arrives. Pure text in, text out, so the tests can check every transition.
#pragma once

#include <string>
#include <string_view>

namespace corral::cli {

// After the streamed reply Ollama prints two line breaks (fmt.Println twice) when there was a
// prompt, so the answer ends with a blank line.
inline constexpr std::string_view kAfterResponse = "\n\n";

class ResponsePrinter {
 public:
  // `color`: stdout is a terminal, so the thinking block may be grey and bold.
  ResponsePrinter(bool hide_thinking, bool color) : hide_thinking_(hide_thinking), color_(color) {}

  // The text to write for one chunk with these `thinking` and `response` parts.
  std::string OnChunk(std::string_view thinking, std::string_view response, bool has_tool_calls);
  // After the last chunk: the colour reset when a grey thinking block was left open (a reply
  // that only thought), so the terminal is not left grey.
  std::string Finish() const;

 private:
  bool hide_thinking_;
  bool color_;
  bool thinking_open_ = false;
  bool thinking_ended_with_newline_ = false;
};

// Ollama's thinking markers, with its terminal colours when `color`.
std::string ThinkingOpening(bool color);
std::string ThinkingClosing(bool color);

// A float32 as Go's encoding/json writes it ("0.1", "-1.5e-7"), for the embedding vector
// `run` prints for embedding models.
std::string GoFloat32Json(float value);

}  // namespace corral::cli
