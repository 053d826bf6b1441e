// How `corral run` prints a streamed reply, as Ollama's generate() does: thinking between
// "Thinking..." and "...done thinking." (grey on a terminal) unless hidden, then the response
// text as it arrives. Pure text in, text out, so the tests can check every transition.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace corral::cli {

// After the streamed reply Ollama prints two line breaks (fmt.Println twice) when there was a
// prompt, so the answer ends with a blank line.
inline constexpr std::string_view kAfterResponse = "\n\n";

// Ollama's displayResponse: text written as it streams, with words that would cross the right
// margin (width - 5) moved to the next line by backing the cursor over them; `width` < 10 or
// wrapping off passes text through unchanged.
class WordWrapper {
 public:
  WordWrapper(bool enabled, int width) : enabled_(enabled && width >= 10), width_(width) {}
  std::string Add(std::string_view text);
  void Reset() {
    line_length_ = 0;
    word_.clear();
  }

 private:
  bool enabled_;
  int width_;
  int line_length_ = 0;
  std::string word_;  // the current word's bytes
};

class ResponsePrinter {
 public:
  // `color`: stdout is a terminal, so the thinking block may be grey and bold. `wrap_width`:
  // the terminal's columns when words are wrapped (WordWrapper), else 0.
  ResponsePrinter(bool hide_thinking, bool color, int wrap_width = 0)
      : hide_thinking_(hide_thinking), color_(color), wrap_(wrap_width > 0, wrap_width) {}

  // The text to write for one chunk with these `thinking` and `response` parts.
  std::string OnChunk(std::string_view thinking, std::string_view response, bool has_tool_calls);
  // After the last chunk: the colour reset when a grey thinking block was left open (a reply
  // that only thought), so the terminal is not left grey.
  std::string Finish() const;

 private:
  bool hide_thinking_;
  bool color_;
  WordWrapper wrap_;
  bool thinking_open_ = false;
  bool thinking_ended_with_newline_ = false;
};

// Ollama's renderToolCalls: the CLI offers no tools, so each call the model makes is reported
// ("  Model called a non-existent function 'name()' with arguments: {...}"), grey and bold
// unless `plain_text`.
std::string RenderToolCalls(const nlohmann::json& calls, bool plain_text);

// Ollama's thinking markers, with its terminal colours when `color`.
std::string ThinkingOpening(bool color);
std::string ThinkingClosing(bool color);

// A float32 as Go's encoding/json writes it ("0.1", "-1.5e-7"), for the embedding vector
// `run` prints for embedding models.
std::string GoFloat32Json(float value);

}  // namespace corral::cli
