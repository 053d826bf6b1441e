// libFuzzer target for the GGUF reader: any byte string must parse to a file whose every
// tensor lies inside the input, or to an error Status; never a crash, hang or huge allocation.
// Build and run: `make fuzz` (clang, ASan + UBSan), see the README.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "gguf/gguf_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = corral::gguf::GgufFile::Parse(std::span<const uint8_t>(data, size));
  if (!file.ok()) return 0;
  const corral::gguf::GgufFile& f = **file;
  for (const corral::gguf::TensorInfo& t : f.tensors()) {
    if (t.data < data || t.data + t.n_bytes > data + size) std::abort();
    if (t.n_bytes > 0) {
      // Touch the first and last byte so ASan sees any out-of-bounds extent.
      volatile uint8_t first = t.data[0], last = t.data[t.n_bytes - 1];
      (void)first;
      (void)last;
    }
  }
  for (const corral::gguf::KeyValue& kv : f.metadata()) {
    std::string shown = kv.value.ToDisplayString();  // walks arrays, including nested ones
    if (shown.empty()) std::abort();
  }
  return 0;
}
