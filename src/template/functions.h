// The functions a template can call, apart from and/or (which the executor short-circuits).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "template/value.h"

namespace corral::tmpl {

// What a function says went wrong; the executor reports it as "error calling NAME: message"
// with the template position. Thrown only between functions.cpp and the executor.
struct FunctionError {
  std::string message;
};

// Parameters as Go declares them: `fixed` leading parameters, then more if `variadic`.
struct FunctionSignature {
  int fixed = 0;
  bool variadic = false;
  bool first_is_string = false;  // printf's format
};

FunctionSignature SignatureOf(std::string_view name);

// Calls builtin `name` with its arguments already evaluated. `now` feeds currentDate and
// yesterdayDate.
Value CallFunction(std::string_view name, const std::vector<Value>& args,
                   std::chrono::system_clock::time_point now);

}  // namespace corral::tmpl
