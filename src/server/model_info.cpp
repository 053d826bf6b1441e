#include "server/model_info.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "base/strings.h"

namespace corral::server {
namespace {

using ojson = nlohmann::ordered_json;

// A float32 printed with the fewest digits that read back as the same float32: 1e-5f stays
// "1e-05", not the double 9.99999974738e-06 it widens to.
double ShortestFloat32(float f) {
  if (!std::isfinite(f)) return static_cast<double>(f);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 1, f);
  if (ec != std::errc()) return static_cast<double>(f);
  *end = '\0';
  return std::strtod(buf, nullptr);
}

ojson ValueJson(const gguf::Value& v, bool verbose);

ojson ArrayJson(const gguf::Value& v, bool verbose) {
  if (v.array_size() == 0) return ojson::array();
  if (!verbose) return nullptr;
  ojson out = ojson::array();
  for (uint64_t i = 0; i < v.array_size(); ++i) out.push_back(ValueJson(v.Element(i), verbose));
  return out;
}

ojson ValueJson(const gguf::Value& v, bool verbose) {
  using gguf::ValueType;
  switch (v.type()) {
    case ValueType::kUint8:
    case ValueType::kUint16:
    case ValueType::kUint32:
    case ValueType::kUint64:
      return v.AsUint().value_or(0);
    case ValueType::kInt8:
    case ValueType::kInt16:
    case ValueType::kInt32:
    case ValueType::kInt64:
      return v.AsInt().value_or(0);
    case ValueType::kFloat32:
      return ShortestFloat32(static_cast<float>(v.AsFloat().value_or(0)));
    case ValueType::kFloat64:
      return v.AsFloat().value_or(0);
    case ValueType::kBool:
      return v.AsBool().value_or(false);
    case ValueType::kString:
      return std::string(v.AsString().value_or(""));
    case ValueType::kArray:
      return ArrayJson(v, verbose);
  }
  return nullptr;
}

std::string Architecture(const gguf::GgufFile& file) {
  const gguf::Value* v = file.Find("general.architecture");
  if (v == nullptr) return "";
  return std::string(v->AsString().value_or(""));
}

}  // namespace

std::string HumanNumber(uint64_t n) {
  char buf[64];
  double x = static_cast<double>(n);
  if (n >= 1'000'000'000) {
    double v = x / 1e9;
    std::snprintf(buf, sizeof buf, v == std::floor(v) ? "%.0fB" : "%.1fB", v);
  } else if (n >= 1'000'000) {
    double v = x / 1e6;
    std::snprintf(buf, sizeof buf, v == std::floor(v) ? "%.0fM" : "%.2fM", v);
  } else if (n >= 1'000) {
    std::snprintf(buf, sizeof buf, "%.0fK", x / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  }
  return buf;
}

std::string FileTypeString(uint64_t file_type) {
  static const std::map<uint64_t, const char*> kNames = {
      {0, "F32"},      {1, "F16"},      {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
      {8, "Q5_0"},     {9, "Q5_1"},     {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
      {13, "Q3_K_L"},  {14, "Q4_K_S"},  {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
      {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"}, {22, "IQ3_XS"},
      {23, "IQ3_XXS"}, {24, "IQ1_S"},   {25, "IQ4_NL"}, {26, "IQ3_S"},  {27, "IQ3_M"},
      {28, "IQ2_S"},   {29, "IQ2_M"},   {30, "IQ4_XS"}, {31, "IQ1_M"},  {32, "BF16"},
      {36, "TQ1_0"},   {37, "TQ2_0"},   {38, "MXFP4"},
  };
  auto it = kNames.find(file_type);
  return it == kNames.end() ? "unknown" : it->second;
}

std::string TensorTypeString(gguf::GgmlType type) {
  std::string name(gguf::TypeInfo(type).name);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

nlohmann::ordered_json GgufModelInfo(const gguf::GgufFile& file, bool verbose) {
  // Go marshals a map with sorted keys.
  std::map<std::string_view, const gguf::Value*> sorted;
  for (const gguf::KeyValue& kv : file.metadata()) {
    if (kv.key == "general.name" || kv.key == "tokenizer.chat_template") continue;
    sorted[kv.key] = &kv.value;
  }
  ojson out = ojson::object();
  for (const auto& [key, value] : sorted) out[std::string(key)] = ValueJson(*value, verbose);
  return out;
}

nlohmann::ordered_json GgufTensors(const gguf::GgufFile& file) {
  ojson out = ojson::array();
  for (const gguf::TensorInfo& t : file.tensors()) {
    ojson shape = ojson::array();
    for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
    out.push_back(ojson{{"name", std::string(t.name)},
                        {"type", TensorTypeString(t.type)},
                        {"shape", std::move(shape)}});
  }
  return out;
}

uint64_t ParameterCount(const gguf::GgufFile& file) {
  if (const gguf::Value* v = file.Find("general.parameter_count")) {
    if (auto n = v->AsUint(); n && *n > 0) return *n;
  }
  uint64_t total = 0;
  for (const gguf::TensorInfo& t : file.tensors()) total += t.n_elements;
  return total;
}

bool HasArchKey(const gguf::GgufFile& file, std::string_view suffix) {
  return file.Find(Architecture(file) + "." + std::string(suffix)) != nullptr;
}

uint64_t ArchUint(const gguf::GgufFile& file, std::string_view suffix) {
  const gguf::Value* v = file.Find(Architecture(file) + "." + std::string(suffix));
  if (v == nullptr) return 0;
  return v->AsUint().value_or(0);
}

}  // namespace corral::server
