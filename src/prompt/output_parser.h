// Splitting a model's streamed output into thinking, content and tool calls, as Ollama's
// generic parsers do for models without a built-in parser (thinking/parser.go and
// tools/tools.go; the tags come from the template as in thinking/template.go and
// tools/template.go).
//
//   OutputParser parser(OutputFormatForGoTemplate(template_text), think_on, !tools.empty());
//   if (PromptOpensThinking(prompt, format)) ...  // see OutputFormat::starts_in_thinking
//   for each generated piece: OutputDelta d = parser.Push(piece);  // send d
//   OutputDelta last = parser.Finish();
//
// The result never depends on how the text is cut into pieces: text that may still turn into a
// tag or a tool call is held back until it is known, and Finish releases whatever is left.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "prompt/prompt.h"

namespace corral::prompt {

struct OutputDelta {
  std::string content;
  std::string thinking;
  std::vector<ToolCall> tool_calls;  // complete calls only, ids "call_" + 8 chars [a-z0-9]

  bool empty() const { return content.empty() && thinking.empty() && tool_calls.empty(); }
};

struct OutputFormat {
  std::string think_open, think_close;  // e.g. "<think>", "</think>"; empty: no thinking tags
  // e.g. "<tool_call>", "</tool_call>"; tool_open "{" or "[" for bare JSON calls; empty: no tool
  // parsing. A tool_open ending in "[" (Ollama's "[TOOL_CALLS] [") has the JSON array start
  // with that bracket. tool_close is optional in the output: it is dropped when it follows a
  // call.
  std::string tool_open, tool_close;
  // The prompt already ends with think_open (qwen3's and deepseek-r1's generation prompts can),
  // so the output starts inside the thinking block. Ollama feeds the opening tag to its parser
  // in that case (routes.go: strings.HasSuffix(strings.TrimSpace(prompt), openingTag)); set it
  // with PromptOpensThinking.
  bool starts_in_thinking = false;
};

// Ollama's tags from a Go TEMPLATE. Thinking (thinking.InferTags): the literal text nodes first
// and last in the innermost list around a {{ .Thinking }} inside a `range .Messages`, trimmed;
// both empty when there is none. Tools (tools.parseTag): the first literal text inside the
// `{{ if .ToolCalls }}` block, trimmed and cut before its first "{", else "{"; tool_close is
// the matching "</x>" or "[/x]" of a "<x>" or "[x]" tag when the template contains it. A
// template that does not parse gets no thinking tags and tool_open "{".
OutputFormat OutputFormatForGoTemplate(std::string_view template_text);

// Tags for a GGUF Jinja chat template: <think>/</think> when both appear; <tool_call> and
// </tool_call> when "<tool_call>" appears, else "[TOOL_CALLS]" when that does, else "{".
OutputFormat OutputFormatForJinja(std::string_view chat_template);

// Whether `prompt`, trailing whitespace aside, ends with the format's think_open.
bool PromptOpensThinking(std::string_view prompt, const OutputFormat& format);

class OutputParser {
 public:
  // thinking: the request enabled thinking; the think tags are then parsed (both must be set).
  // With thinking off the tags stay in the content, as in Ollama, which then runs no thinking
  // parser. tools: the request has tools; tool calls are parsed when tool_open is set.
  OutputParser(OutputFormat format, bool thinking, bool tools);

  // One streamed piece of generated text. Returns what can be released now; text that may
  // still be the start of a tag or of a tool call is held back. An incomplete UTF-8 sequence
  // at the end waits for its continuation bytes, so deltas stay valid UTF-8 for valid input.
  OutputDelta Push(std::string_view text);

  // End of generation: releases everything held (an unfinished tool call, or one that does not
  // parse, becomes content).
  OutputDelta Finish();

 private:
  enum class ThinkState {
    kOff,             // no thinking parsing: everything goes to the tool stage
    kLookingForOpen,  // only whitespace (or a prefix of the open tag) seen so far
    kStartEatingSpace,
    kThinking,
    kDoneEatingSpace,  // right after the close tag
    kDone,
  };
  enum class ToolState {
    kOff,          // no tool parsing: content as is
    kBareStart,    // bare JSON: before the first non-space character
    kPassthrough,  // bare JSON: the output is not a call, the rest is content
    kScan,         // tagged: looking for tool_open
    kAfterTag,     // tagged: tool_open seen, waiting for the JSON to start
    kInJson,       // inside a JSON value that may be a call
    kAfterCall,    // after a call: spaces, another JSON value, tool_close
  };

  void ThinkFeed(std::string_view text, bool final, OutputDelta* out);
  void ToolFeed(std::string_view text, bool final, OutputDelta* out);
  // Completes a JSON value of tool_buf_[0, end): calls, or content when it is not one.
  void FinishJson(size_t end, OutputDelta* out);
  bool ScanJson();  // advances the JSON scan; true once the value is complete
  void ResetJsonScan();

  OutputFormat format_;
  bool bare_ = false;        // tool_open is only "{" or "[": the JSON is the call
  std::string tool_marker_;  // tool_open without a trailing "[": what precedes the JSON
  std::string utf8_pending_;

  ThinkState think_state_ = ThinkState::kOff;
  std::string think_buf_;
  size_t think_spaces_ = 0;  // leading spaces of think_buf_ already scanned

  ToolState tool_state_ = ToolState::kOff;
  std::string tool_buf_;      // text held by the tool stage
  std::string tool_pending_;  // marker and spaces already consumed for the current value
  int calls_ = 0;

  // Incremental scan of the JSON value at the start of tool_buf_.
  size_t scan_pos_ = 0;
  int scan_depth_ = 0;
  bool scan_in_string_ = false;
  bool scan_escaped_ = false;
  bool scan_invalid_ = false;  // nesting too deep: released as content without parsing
};

}  // namespace corral::prompt
