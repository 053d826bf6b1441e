// Go's fmt and encoding functions as the template builtins need them: Sprint, Sprintln, Sprintf
// (flags, width, precision; verbs v s d q f F e E g G t x X c o b %), json.Marshal and the
// html/js/urlquery escapers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "template/value.h"

namespace corral::tmpl {

// fmt.Sprint: a space between operands when neither is a string. text/template first turns
// missing values into "<no value>" strings.
std::string GoSprint(const std::vector<Value>& args);
// fmt.Sprintln: always spaces between operands and a final newline.
std::string GoSprintln(const std::vector<Value>& args);
std::string GoSprintf(std::string_view format, const std::vector<Value>& args);

// encoding/json.Marshal: compact, "<", ">", "&", U+2028 and U+2029 escaped as \uXXXX, invalid
// UTF-8 replaced by U+FFFD, object keys in nlohmann's (sorted) order.
std::string GoJsonMarshal(const nlohmann::json& value);

std::string GoHtmlEscape(std::string_view s);
std::string GoJsEscape(std::string_view s);
std::string GoUrlQueryEscape(std::string_view s);

}  // namespace corral::tmpl
