#include "modelfile/options.h"

#include <locale.h>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <charconv>
#include <utility>

#include "base/log.h"

namespace corral::modelfile {
namespace {

struct OptionInfo {
  const char* name;
  OptionType type;
};

// api.Options' json tags (Runner embedded), in the order of ollama-api.md §2.
constexpr OptionInfo kOptions[] = {
    {"num_ctx", OptionType::kInt},
    {"num_batch", OptionType::kInt},
    {"num_gpu", OptionType::kInt},
    {"main_gpu", OptionType::kInt},
    {"use_mmap", OptionType::kBool},
    {"num_thread", OptionType::kInt},
    {"draft_num_predict", OptionType::kInt},
    {"num_keep", OptionType::kInt},
    {"seed", OptionType::kInt},
    {"num_predict", OptionType::kInt},
    {"top_k", OptionType::kInt},
    {"top_p", OptionType::kFloat},
    {"min_p", OptionType::kFloat},
    {"typical_p", OptionType::kFloat},
    {"repeat_last_n", OptionType::kInt},
    {"temperature", OptionType::kFloat},
    {"repeat_penalty", OptionType::kFloat},
    {"presence_penalty", OptionType::kFloat},
    {"frequency_penalty", OptionType::kFloat},
    {"stop", OptionType::kStringList},
};

constexpr const char* kDeprecated[] = {
    "penalize_newline", "low_vram", "f16_kv",       "logits_all",   "vocab_only",
    "use_mlock",        "mirostat", "mirostat_tau", "mirostat_eta",
};

std::string Quoted(std::string_view key) {
  // Keys reaching an error are known option names, so Go's %q is plain double quotes here.
  return "\"" + std::string(key) + "\"";
}

Status TypeError(std::string_view key, std::string_view what) {
  return InvalidArgumentError("option " + Quoted(key) + " must be of " + std::string(what));
}

// Go's int64(float64): truncation toward zero. Out of range is implementation-defined in Go
// (amd64 gives INT64_MIN); we saturate instead.
int64_t TruncateToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (d < -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

int32_t SaturateInt32(int64_t v) {
  if (v > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  if (v < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}

// Go decodes every JSON number of an `any` map as float64, so integers pass through a double.
std::optional<double> JsonNumber(const nlohmann::json& v) {
  // is_number_integer() is also true for unsigned values, so test unsigned first.
  if (v.is_number_unsigned()) return static_cast<double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<double>(v.get<int64_t>());
  if (v.is_number_float()) return v.get<double>();
  return std::nullopt;
}

Status SetInt(ModelOptions* o, std::string_view key, int64_t v) {
  if (key == "num_ctx") {
    o->num_ctx = v;
  } else if (key == "num_batch") {
    o->num_batch = v;
  } else if (key == "num_gpu") {
    o->num_gpu = v;
  } else if (key == "main_gpu") {
    o->main_gpu = v;
  } else if (key == "num_thread") {
    o->num_thread = v;
  } else if (key == "draft_num_predict") {
    o->draft_num_predict = v;
  } else if (key == "num_keep") {
    o->num_keep = v;
  } else if (key == "seed") {
    o->sampling.seed = v;
  } else if (key == "num_predict") {
    o->num_predict = v;
  } else if (key == "top_k") {
    o->sampling.top_k = SaturateInt32(v);
  } else if (key == "repeat_last_n") {
    o->sampling.repeat_last_n = SaturateInt32(v);
  } else if (key == "mirostat") {
    o->sampling.mirostat = SaturateInt32(v);
  } else {
    return InternalError("no int option " + std::string(key));
  }
  return Status::Ok();
}

Status SetFloat(ModelOptions* o, std::string_view key, float v) {
  sampling::SamplingOptions& s = o->sampling;
  if (key == "top_p") {
    s.top_p = v;
  } else if (key == "min_p") {
    s.min_p = v;
  } else if (key == "typical_p") {
    s.typical_p = v;
  } else if (key == "temperature") {
    s.temperature = v;
  } else if (key == "repeat_penalty") {
    s.repeat_penalty = v;
  } else if (key == "presence_penalty") {
    s.presence_penalty = v;
  } else if (key == "frequency_penalty") {
    s.frequency_penalty = v;
  } else if (key == "mirostat_tau") {
    s.mirostat_tau = v;
  } else if (key == "mirostat_eta") {
    s.mirostat_eta = v;
  } else {
    return InternalError("no float option " + std::string(key));
  }
  return Status::Ok();
}

void WarnIgnored(const std::string& key, std::vector<std::string>* ignored) {
  LogLine(LogLevel::kWarn, __FILE__, __LINE__, "invalid option provided",
          "option=" + LogQuote(key));
  if (ignored != nullptr) ignored->push_back(key);
}

// Removed from Ollama but still implemented by our sampler: honoured when well typed.
bool ApplyMirostat(const std::string& key, const nlohmann::json& value, ModelOptions* o) {
  std::optional<double> d = JsonNumber(value);
  if (!d) return false;
  if (key == "mirostat") return SetInt(o, key, TruncateToInt64(*d)).ok();
  if (key == "mirostat_tau" || key == "mirostat_eta") {
    return SetFloat(o, key, static_cast<float>(*d)).ok();
  }
  return false;
}

Status ApplyOne(const std::string& key, OptionType type, const nlohmann::json& value,
                ModelOptions* o) {
  switch (type) {
    case OptionType::kInt: {
      std::optional<double> d = JsonNumber(value);
      if (!d) return TypeError(key, "type integer");
      return SetInt(o, key, TruncateToInt64(*d));
    }
    case OptionType::kFloat: {
      std::optional<double> d = JsonNumber(value);
      if (!d) return TypeError(key, "type float32");
      return SetFloat(o, key, static_cast<float>(*d));
    }
    case OptionType::kBool: {
      if (!value.is_boolean()) return TypeError(key, "type boolean");
      o->use_mmap = value.get<bool>();
      return Status::Ok();
    }
    case OptionType::kStringList: {
      if (!value.is_array()) return TypeError(key, "type array");
      std::vector<std::string> list;
      list.reserve(value.size());
      for (const nlohmann::json& item : value) {
        if (!item.is_string()) return TypeError(key, "an array of strings");
        list.push_back(item.get<std::string>());
      }
      o->stop = std::move(list);
      return Status::Ok();
    }
  }
  return InternalError("unhandled option type");
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Go's strconv.underscoreOK: '_' only between digits (or after a base prefix).
bool UnderscoreOk(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (IsDigit(s[i]) || (hex && IsHexDigit(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// Whether `s` is a complete Go floating-point literal (strconv.readFloat), ignoring specials.
bool IsGoFloatSyntax(std::string_view s, bool* has_underscores) {
  size_t i = 0;
  *has_underscores = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && Lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  bool saw_dot = false, saw_digits = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      *has_underscores = true;
    } else if (c == '.') {
      if (saw_dot) break;
      saw_dot = true;
    } else if (IsDigit(c) || (hex && IsHexDigit(c))) {
      saw_digits = true;
    } else {
      break;
    }
  }
  if (!saw_digits) return false;
  bool saw_exp = false;
  if (i < s.size() && Lower(s[i]) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return false;
    for (; i < s.size() && (IsDigit(s[i]) || s[i] == '_'); ++i) {
      if (s[i] == '_') *has_underscores = true;
    }
    saw_exp = true;
  }
  if (hex && !saw_exp) return false;  // Go requires the p exponent in hex floats
  return i == s.size();
}

locale_t CLocale() {
  // strtof honours LC_NUMERIC; Go's parser never does.
  static locale_t c = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return c;
}

// The double whose shortest decimal form is the float's shortest form, so JSON shows "0.7"
// where Go's encoder, which formats float32s with 32-bit precision, shows 0.7.
double FloatForJson(float f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  if (ec != std::errc()) return static_cast<double>(f);
  *end = '\0';
  return strtod_l(buf, nullptr, CLocale());
}

}  // namespace

ModelOptions DefaultModelOptions() {
  ModelOptions o;
  // Current Ollama's api.DefaultOptions; SamplingOptions already carries them (temperature 0.8,
  // top_k 40, top_p 0.9, min_p 0, typical_p 1, repeat_last_n 64, repeat_penalty 1, seed -1).
  return o;
}

std::optional<OptionType> CurrentOptionType(std::string_view name) {
  for (const OptionInfo& info : kOptions) {
    if (name == info.name) return info.type;
  }
  return std::nullopt;
}

bool IsDeprecatedParameter(std::string_view name) {
  for (const char* d : kDeprecated) {
    if (name == d) return true;
  }
  return false;
}

Status ApplyOptions(const nlohmann::json& map, ModelOptions* options,
                    std::vector<std::string>* ignored) {
  if (map.is_null()) return Status::Ok();
  if (!map.is_object()) return InvalidArgumentError("options must be a JSON object");
  for (const auto& [key, value] : map.items()) {
    std::optional<OptionType> type = CurrentOptionType(key);
    if (!type) {
      if (!value.is_null() && ApplyMirostat(key, value, options)) {
        options->explicitly_set.insert(key);
      } else {
        WarnIgnored(key, ignored);
      }
      continue;
    }
    if (value.is_null()) continue;  // Go skips nil values without touching the field
    RETURN_IF_ERROR(ApplyOne(key, *type, value, options));
    options->explicitly_set.insert(key);
  }
  return Status::Ok();
}

Result<ModelOptions> MergeOptions(const ModelOptions& defaults, const nlohmann::json& model_params,
                                  const nlohmann::json& request_options,
                                  std::vector<std::string>* ignored) {
  ModelOptions merged = defaults;
  RETURN_IF_ERROR(ApplyOptions(model_params, &merged, ignored));
  RETURN_IF_ERROR(ApplyOptions(request_options, &merged, ignored));
  return merged;
}

std::optional<int64_t> GoParseInt(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return std::nullopt;
  // Accumulate as a negative number so INT64_MIN fits.
  int64_t acc = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return std::nullopt;
    int digit = s[i] - '0';
    if (acc < (std::numeric_limits<int64_t>::min() + digit) / 10) return std::nullopt;
    acc = acc * 10 - digit;
  }
  if (!negative) {
    if (acc == std::numeric_limits<int64_t>::min()) return std::nullopt;
    return -acc;
  }
  return acc;
}

std::optional<float> GoParseFloat32(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // Go's strconv.special: [+-]inf, [+-]infinity, nan (no sign), any case.
  {
    std::string_view body = s;
    float sign = 1.0f;
    bool signed_input = false;
    if (body[0] == '+' || body[0] == '-') {
      sign = body[0] == '-' ? -1.0f : 1.0f;
      signed_input = true;
      body.remove_prefix(1);
    }
    if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
      return sign * std::numeric_limits<float>::infinity();
    }
    if (!signed_input && EqualsIgnoreCase(body, "nan")) {
      return std::numeric_limits<float>::quiet_NaN();
    }
  }
  bool underscores = false;
  if (!IsGoFloatSyntax(s, &underscores)) return std::nullopt;
  if (underscores && !UnderscoreOk(s)) return std::nullopt;
  std::string clean;
  clean.reserve(s.size());
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  char* end = nullptr;
  float f = strtof_l(clean.c_str(), &end, CLocale());
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  // Go reports only overflow (a result rounded to infinity); underflow quietly gives 0.
  if (std::isinf(f)) return std::nullopt;
  return f;
}

std::optional<bool> GoParseBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

Result<nlohmann::json> ParseParameter(std::string_view name, std::string_view value) {
  std::optional<OptionType> type = CurrentOptionType(name);
  if (!type) return InvalidArgumentError("unknown parameter '" + std::string(name) + "'");
  // Go prints the one-element []string with %s: "[value]".
  const std::string shown = "[" + std::string(value) + "]";
  switch (*type) {
    case OptionType::kInt: {
      std::optional<int64_t> v = GoParseInt(value);
      if (!v) return InvalidArgumentError("invalid int value " + shown);
      return nlohmann::json(*v);
    }
    case OptionType::kFloat: {
      std::optional<float> v = GoParseFloat32(value);
      if (!v) return InvalidArgumentError("invalid float value " + shown);
      if (!std::isfinite(*v)) {
        // ParseFloat accepts "inf"/"nan", but Go's JSON encoder then refuses the request.
        return InvalidArgumentError(
            "json: unsupported value: " +
            std::string(std::isnan(*v) ? "NaN" : (*v > 0 ? "+Inf" : "-Inf")));
      }
      return nlohmann::json(FloatForJson(*v));
    }
    case OptionType::kBool: {
      std::optional<bool> v = GoParseBool(value);
      if (!v) return InvalidArgumentError("invalid bool value " + shown);
      return nlohmann::json(*v);
    }
    case OptionType::kStringList:
      return nlohmann::json::array({std::string(value)});
  }
  return InternalError("unhandled option type");
}

}  // namespace corral::modelfile
