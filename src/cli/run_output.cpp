#include "cli/run_output.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "cli/format.h"

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
    out += wrap_.Add(thinking);
    thinking_ended_with_newline_ = thinking.back() == '\n';
  }
  if (thinking_open_ && (!response.empty() || has_tool_calls)) {
    if (!thinking_ended_with_newline_) out += "\n";
    out += ThinkingClosing(color_);
    thinking_open_ = false;
    wrap_.Reset();
  }
  out += wrap_.Add(response);
  return out;
}

std::string ResponsePrinter::Finish() const {
  return thinking_open_ && color_ ? std::string(kDefault) : std::string();
}

std::string WordWrapper::Add(std::string_view text) {
  if (!enabled_) return std::string(text);
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    // One UTF-8 code point (a stray byte counts as one), one column wide.
    size_t len = 1;
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead >= 0xF0) {
      len = 4;
    } else if (lead >= 0xE0) {
      len = 3;
    } else if (lead >= 0xC0) {
      len = 2;
    }
    len = std::min(len, text.size() - i);
    const std::string_view ch = text.substr(i, len);
    i += len;
    if (line_length_ + 1 > width_ - 5) {
      const int word_width = DisplayWidth(word_);
      if (word_width > width_ - 10) {
        // A word longer than the line: let the terminal break it.
        out += word_;
        out += ch;
        word_.clear();
        line_length_ = 0;
        continue;
      }
      // Back over the word, clear to the end of the line and write it on the next one.
      if (word_width > 0) out += "\033[" + std::to_string(word_width) + "D";
      out += "\033[K\n";
      out += word_;
      out += ch;
      line_length_ = word_width + 1;
      continue;
    }
    out += ch;
    line_length_ += 1;
    if (ch == " " || ch == "\t") {
      word_.clear();
    } else if (ch == "\n" || ch == "\r") {
      line_length_ = 0;
      word_.clear();
    } else {
      word_ += ch;
    }
  }
  return out;
}

std::string RenderToolCalls(const nlohmann::json& calls, bool plain_text) {
  const std::string explanation =
      plain_text ? "" : std::string(kGrey) + std::string(kBold);  // readline's grey, bold
  const std::string values = plain_text ? "" : std::string(kDefault);
  std::string out = explanation;
  if (!calls.is_array()) return "";
  for (size_t i = 0; i < calls.size(); ++i) {
    const nlohmann::json& call = calls[i];
    const nlohmann::json function =
        call.is_object() ? call.value("function", nlohmann::json::object()) : nlohmann::json();
    std::string name;
    nlohmann::json args = nlohmann::json::object();
    if (function.is_object()) {
      if (auto n = function.find("name"); n != function.end() && n->is_string()) name = *n;
      if (auto a = function.find("arguments"); a != function.end()) args = *a;
    }
    if (i > 0) out += "\n";
    out += "  Model called a non-existent function '" + values + name + explanation +
           "()' with arguments: " + values + args.dump() + explanation;
  }
  if (!plain_text) out += std::string(kDefault);
  return out;
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
