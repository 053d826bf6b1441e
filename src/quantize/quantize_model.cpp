#include "quantize/quantize_model.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "tensor/dequantize.h"
#include "tensor/quantize.h"
#include "tensor/vec_dot_ref.h"

namespace corral::quantize {
namespace {

using gguf::GgmlType;

bool IsQuantized(GgmlType t) {
  return t != GgmlType::kF32 && t != GgmlType::kF16 && t != GgmlType::kBF16;
}

ModelFacts ReadFacts(const gguf::GgufFile& file) {
  ModelFacts facts;
  auto arch = file.GetString("general.architecture");
  if (arch.ok()) facts.architecture = std::string(*arch);
  auto get = [&](const std::string& suffix) -> uint32_t {
    auto v = file.GetUint(facts.architecture + "." + suffix);
    return v.ok() ? static_cast<uint32_t>(*v) : 0;
  };
  facts.n_layer = get("block_count");
  facts.n_head = get("attention.head_count");  // an array for some models: then 0
  facts.n_head_kv = get("attention.head_count_kv");
  facts.n_expert = get("expert_count");
  return facts;
}

// Converts rows [begin, end) of `src` (type `from`) to `to` in `dst`.
void ConvertRows(const gguf::TensorInfo& src, GgmlType to, uint8_t* dst, uint64_t begin,
                 uint64_t end) {
  const uint64_t n_per_row = src.ne[0];
  const uint64_t in_row = gguf::RowBytes(src.type, n_per_row);
  const uint64_t out_row = gguf::RowBytes(to, n_per_row);
  std::vector<float> row(n_per_row);  // [n_per_row]: one row in float, reused
  for (uint64_t r = begin; r < end; ++r) {
    const uint8_t* in = src.data + r * in_row;
    const float* values;
    if (src.type == GgmlType::kF32) {
      std::memcpy(row.data(), in, n_per_row * sizeof(float));  // the mapping may be unaligned
    } else {
      tensor::DequantizeRow(src.type, in, row.data(), static_cast<int64_t>(n_per_row));
    }
    values = row.data();
    tensor::QuantizeRow(to, values, dst + r * out_row, static_cast<int64_t>(n_per_row));
  }
}

}  // namespace

Result<QuantizeReport> QuantizeModel(const std::string& input_path, const std::string& output_path,
                                     const QuantizeOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> source, gguf::GgufFile::Open(input_path));
  const gguf::GgufFile& in = *source;

  std::vector<TensorShape> shapes;
  for (const gguf::TensorInfo& t : in.tensors()) {
    shapes.push_back(
        {std::string(t.name), t.type, std::max<uint32_t>(t.n_dims, 1), t.ne[0], t.ne[2]});
  }
  SortLikeLlamaCpp(&shapes);
  ModelFacts facts = ReadFacts(in);
  Recipe recipe(options.file_type, facts, shapes);

  gguf::GgufWriter writer(in.alignment());
  for (const gguf::KeyValue& kv : in.metadata()) {
    if (kv.key == "general.alignment" || kv.key.starts_with("split.")) continue;
    RETURN_IF_ERROR(writer.Set(kv.key, gguf::MetaValue::From(kv.value)));
  }
  RETURN_IF_ERROR(writer.Set("general.quantization_version", gguf::MetaValue::U32(2)));
  RETURN_IF_ERROR(writer.Set("general.file_type",
                             gguf::MetaValue::U32(static_cast<uint32_t>(options.file_type))));

  unsigned n_threads = options.n_threads > 0 ? static_cast<unsigned>(options.n_threads)
                                             : std::max(1u, std::thread::hardware_concurrency());
  QuantizeReport report;
  report.n_tensors = shapes.size();
  std::vector<TensorProgress> plan;
  for (const TensorShape& shape : shapes) {
    const gguf::TensorInfo& t = *in.FindTensor(shape.name);
    GgmlType to = recipe.Next(shape);
    std::string label = "tensor '" + shape.name + "'";
    if (to != t.type) {
      if (!tensor::Traits(t.type).can_dequantize) {
        return UnsupportedError(label + " has type " + std::string(gguf::TypeInfo(t.type).name) +
                                ", which corral cannot convert");
      }
      if (IsQuantized(t.type) && !options.allow_requantize) {
        return InvalidArgumentError(
            label + " is already quantized (" + std::string(gguf::TypeInfo(t.type).name) +
            "); quantizing it again loses quality, pass --allow-requantize to do it anyway");
      }
      if (!tensor::Traits(to).can_quantize) {
        return UnsupportedError(label + ": corral cannot write type " +
                                std::string(gguf::TypeInfo(to).name));
      }
      ++report.n_converted;
    }
    std::vector<uint64_t> dims(t.ne.begin(), t.ne.begin() + std::max<uint32_t>(t.n_dims, 1));
    TensorProgress progress{
        plan.size() + 1,
        shapes.size(),
        shape.name,
        t.ShapeString(),
        t.type,
        to,
        t.n_bytes,
        t.n_elements / gguf::TypeInfo(to).block_size * gguf::TypeInfo(to).type_size};
    report.bytes_in += progress.bytes_in;
    report.bytes_out += progress.bytes_out;
    const gguf::TensorInfo* src = &t;
    gguf::GgufWriter::TensorFill fill = [src, to, n_threads](std::span<uint8_t> out) -> Status {
      if (to == src->type) {
        std::memcpy(out.data(), src->data, src->n_bytes);
        return Status::Ok();
      }
      const uint64_t n_rows = src->n_rows();
      const unsigned workers = static_cast<unsigned>(std::min<uint64_t>(n_threads, n_rows));
      std::vector<std::thread> threads;  // per tensor, not per row: cheap next to the work
      for (unsigned w = 1; w < workers; ++w) {
        threads.emplace_back(ConvertRows, std::cref(*src), to, out.data(), n_rows * w / workers,
                             n_rows * (w + 1) / workers);
      }
      ConvertRows(*src, to, out.data(), 0, workers > 0 ? n_rows / workers : n_rows);
      for (std::thread& th : threads) th.join();
      return Status::Ok();
    };
    RETURN_IF_ERROR(writer.AddTensor(shape.name, to, dims, std::move(fill)));
    plan.push_back(progress);
  }
  report.n_fallback = recipe.n_fallback();

  RETURN_IF_ERROR(writer.Write(output_path, [&](size_t done, size_t) {
    if (options.on_tensor) options.on_tensor(plan[done - 1]);
  }));
  return report;
}

}  // namespace corral::quantize
