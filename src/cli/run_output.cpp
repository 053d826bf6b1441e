#include "cli/run_output.h"

#include <charconv>
#include <cmath>

namespace corral::cli {
namespace {

// readline's colours in Ollama.
constexpr std::string_view kGrey = "\033[38;5;245m";
constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kDefault = "\033[0m";

}  // namespace

std::string ThinkingOpening(bool color) {
  constexpr std::string_view kText = "Thinking...\n";
  if (!color) return std::string(kText);
  return std::string(kGrey) + std::string(kBold) + std::string(kText) + std::string(kDefault) +
         std::string(kGrey);
}

std::string ThinkingClosing(bool color) {
  constexpr std::string_view kText = "...done thinking.\n\n";
  if (!color) return std::string(kText);
  return std::string(kGrey) + std::string(kBold) + std::string(kText) + std::string(kDefault);
}

std::string ResponsePrinter::OnChunk(std::string_view thinking, std::string_view response,
                                     bool has_tool_calls) {
  std::string out;
  if (!thinking.empty() && !hide_thinking_) {
    if (!thinking_open_) {
      out += ThinkingOpening(color_);
      thinking_open_ = true;
    }
    out += thinking;
    thinking_ended_with_newline_ = thinking.back() == '\n';
  }
  if (thinking_open_ && (!response.empty() || has_tool_calls)) {
    if (!thinking_ended_with_newline_) out += "\n";
    out += ThinkingClosing(color_);
    thinking_open_ = false;
  }
  out += response;
  return out;
}

std::string ResponsePrinter::Finish() const {
  return thinking_open_ && color_ ? std::string(kDefault) : std::string();
}

std::string GoFloat32Json(float value) {
  if (!std::isfinite(value)) return "null";  // Go refuses these; the server never sends them
  char buf[64];
  const float magnitude = std::fabs(value);
  // Go: exponent form below 1e-6 and from 1e21 on, shortest digits either way.
  const bool exponent = magnitude != 0 && (magnitude < 1e-6f || magnitude >= 1e21f);
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), value,
                    exponent ? std::chars_format::scientific : std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  std::string text(buf, end);
  if (exponent) {
    // Go writes e-07 as e-7 (and e+21 as e+21).
    size_t e = text.find('e');
    if (e != std::string::npos && e + 2 < text.size() && text[e + 2] == '0') text.erase(e + 2, 1);
  }
  return text;
}

}  // namespace corral::cli
