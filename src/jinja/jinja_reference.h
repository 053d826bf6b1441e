// Test helper: renders templates with Python's Jinja2 configured as HuggingFace's
// apply_chat_template configures it, and compares our interpreter's output with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "jinja/template.h"

namespace corral::jinja::reference {

// strftime_now reads this fixed instant on both sides (2024-08-01 00:00 UTC).
constexpr int64_t kFixedTime = 1722470400;

struct Case {
  std::string name;
  std::string source;
  nlohmann::ordered_json context;  // key order reaches the template, as Python dicts keep it
};

struct Expected {
  bool ok = false;
  std::string text;   // when ok
  std::string error;  // when not: "ExceptionType: message"
};

// One python3 run for all cases. An error when python3 or python3-jinja2 is missing.
Result<std::vector<Expected>> RenderWithJinja2(const std::vector<Case>& cases);

// Our options for the comparison: HF's settings, and the fixed clock.
Options ReferenceOptions();

struct Tally {
  int cases = 0;
  int matched = 0;             // same text, or both failed
  int rendered_by_jinja2 = 0;  // cases Jinja2 rendered without an error
};

// Renders every case with both and records a gtest failure for each difference: different
// text, one side failing, or (for raise_exception) a different message.
Tally ExpectSameAsJinja2(const std::vector<Case>& cases);

}  // namespace corral::jinja::reference
