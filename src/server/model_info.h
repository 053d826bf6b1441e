// What /api/show and /api/tags print about a GGUF file, in Ollama's words: the key/values as
// `model_info`, the tensor list, the parameter count as "3.2B", the file type as "Q4_K_M".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gguf/ggml_type.h"
#include "gguf/gguf_reader.h"

namespace corral::server {

// Ollama's format.HumanNumber: >=1e9 "%.1fB" ("%.0fB" when whole), >=1e6 "%.2fM" ("%.0fM"),
// >=1e3 "%.0fK", else the integer.
std::string HumanNumber(uint64_t n);

// general.file_type (llama.cpp's llama_ftype) as Ollama names it: 15 -> "Q4_K_M", 1 -> "F16";
// "unknown" for a value it has no name for.
std::string FileTypeString(uint64_t file_type);

// A tensor type as Ollama prints it in `tensors`: "Q4_K", "F32", "IQ4_XS", "BF16".
std::string TensorTypeString(gguf::GgmlType type);

// The file's key/values as Ollama's /api/show `model_info`, keys sorted, without general.name
// and tokenizer.chat_template. Arrays are null unless `verbose` (an empty array stays []),
// because Ollama's reader does not collect array elements then.
nlohmann::ordered_json GgufModelInfo(const gguf::GgufFile& file, bool verbose);

// [{"name","type","shape":[ne0, ne1, ...]}] in file order.
nlohmann::ordered_json GgufTensors(const gguf::GgufFile& file);

// general.parameter_count, else the sum of the tensors' element counts.
uint64_t ParameterCount(const gguf::GgufFile& file);

// An unsigned key under the architecture's prefix ("<arch>.context_length"); 0 when absent.
uint64_t ArchUint(const gguf::GgufFile& file, std::string_view suffix);

// Ollama's fs KeyValue lookup: keys outside general.* and tokenizer.* live under
// "<general.architecture>.". Whether `suffix` exists there.
bool HasArchKey(const gguf::GgufFile& file, std::string_view suffix);

}  // namespace corral::server
