// Filters, tests, methods of str/dict/list, and the operators they share with the interpreter.
// Internal to corral_jinja.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "jinja/value.h"

namespace corral::jinja {

// Size caps every builtin honours, so no single operation builds an unbounded value.
struct BuiltinLimits {
  size_t max_string_bytes = 0;
  size_t max_list_items = 0;
};

// The error Jinja2 raises when an undefined value is used.
Status UndefinedError(const Value& undefined);

Result<Value> ApplyFilter(std::string_view name, const Value& subject, const CallArgs& args,
                          const BuiltinLimits& limits);
Result<bool> ApplyTest(std::string_view name, const Value& subject, const CallArgs& args);
bool HasFilter(std::string_view name);
bool HasTest(std::string_view name);

// `object.name` as a callable bound to `object`, for str, dict and list methods; nullopt when
// the type has no such method.
std::optional<Value> BoundMethod(const Value& object, std::string_view name,
                                 const BuiltinLimits& limits);

// obj.attr with Jinja2's lookup order (attribute, then item); Undefined when missing.
Result<Value> GetAttribute(const Value& object, const std::string& name,
                           const BuiltinLimits& limits);
// obj[key] with Jinja2's lookup order (item, then attribute); Undefined when missing.
Result<Value> GetItem(const Value& object, const Value& key, const BuiltinLimits& limits);
// obj[start:stop:step] for lists, tuples and strings; absent bounds are undefined values.
Result<Value> GetSlice(const Value& object, const Value& start, const Value& stop,
                       const Value& step);

// Binary operators + - * / // % ** and ~ with Python's semantics.
Result<Value> BinaryOperation(std::string_view op, const Value& a, const Value& b,
                              const BuiltinLimits& limits);
// `a in b`.
Result<bool> Contains(const Value& container, const Value& item);
// The items a `for` loop or a filter sees when iterating `value`.
Result<std::vector<Value>> Iterate(const Value& value);

// Python's str.strip family: `chars` null means whitespace.
std::string StripString(std::string_view s, const Value* chars, bool left, bool right);

// Python's str.title() (letters after a non-letter start a word) and str.capitalize(); ASCII
// letters only change case.
std::string PythonTitle(std::string_view s);
std::string Capitalize(std::string_view s);

// Python's str.upper()/lower() for Latin, Greek and Cyrillic letters (filters_more.cpp).
std::string UnicodeUpper(std::string_view s);
std::string UnicodeLower(std::string_view s);

// Python's printf-style `format % values`: a tuple gives the arguments, a dict the %(name)s
// keys, anything else the one argument.
Result<Value> PercentFormat(const std::string& format, const Value& values,
                            const BuiltinLimits& limits);

// dictsort, sum, min, max, format, escape (filters_more.cpp); nullopt for other names.
bool HasMoreFilter(std::string_view name);
std::optional<Result<Value>> ApplyMoreFilter(std::string_view name, const Value& subject,
                                             const CallArgs& args, const BuiltinLimits& limits);

}  // namespace corral::jinja
