// Writes a few small, valid GGUF files into a folder to seed the fuzzer's corpus: every value
// type, nested arrays, a custom alignment and several tensor types.
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"

using corral::gguf::GgmlType;
using corral::gguf::GgufWriter;
using corral::gguf::MetaValue;
using corral::gguf::ValueType;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  std::vector<uint8_t> bytes(4096, 0x11);

  GgufWriter scalars;
  (void)scalars.Set("general.architecture", MetaValue::String("llama"));
  (void)scalars.Set("u8", MetaValue::U8(1));
  (void)scalars.Set("i16", MetaValue::I16(-2));
  (void)scalars.Set("u32", MetaValue::U32(3));
  (void)scalars.Set("u64", MetaValue::U64(4));
  (void)scalars.Set("f32", MetaValue::F32(0.5f));
  (void)scalars.Set("f64", MetaValue::F64(0.25));
  (void)scalars.Set("b", MetaValue::Bool(true));
  (void)scalars.AddTensor("a", GgmlType::kF32, {4, 2}, std::span(bytes.data(), 32));

  GgufWriter arrays(64);
  (void)arrays.Set("tokens", MetaValue::StringArray({"<s>", "</s>", "a", "hello"}));
  (void)arrays.Set("scores", MetaValue::F32Array({0, -1, -2, -3}));
  (void)arrays.Set("types", MetaValue::I32Array({3, 3, 1, 1}));
  (void)arrays.Set("nested", MetaValue::Array(ValueType::kArray, {MetaValue::U32Array({1, 2})}));
  (void)arrays.AddTensor("q8", GgmlType::kQ8_0, {32, 2}, std::span(bytes.data(), 68));
  (void)arrays.AddTensor("q4k", GgmlType::kQ4_K, {256}, std::span(bytes.data(), 144));
  (void)arrays.AddTensor("f16", GgmlType::kF16, {3, 1, 2}, std::span(bytes.data(), 12));

  GgufWriter empty;
  int failures = 0;
  failures += !scalars.Write(dir + "/scalars.gguf").ok();
  failures += !arrays.Write(dir + "/arrays.gguf").ok();
  failures += !empty.Write(dir + "/empty.gguf").ok();
  return failures == 0 ? 0 : 1;
}
