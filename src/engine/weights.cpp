#include "engine/weights.h"

#include "tensor/dequantize.h"
#include "tensor/vec_dot_ref.h"

namespace corral::engine {
namespace {

std::string ShapeText(int64_t a, int64_t b) {
  return "[" + std::to_string(a) + ", " + (b < 0 ? std::string("*") : std::to_string(b)) + "]";
}

}  // namespace

std::string LayerTensor(int64_t layer, std::string_view name) {
  return "blk." + std::to_string(layer) + "." + std::string(name);
}

Result<Weight> WeightBinder::Matrix(const std::string& name, int64_t n_cols, int64_t n_rows,
                                    bool rows_only) const {
  const gguf::TensorInfo* info = file_.FindTensor(name);
  if (info == nullptr) return NotFoundError("model is missing tensor '" + name + "'");
  bool shape_ok = info->n_dims <= 2 && static_cast<int64_t>(info->ne[0]) == n_cols &&
                  (n_rows < 0 || static_cast<int64_t>(info->ne[1]) == n_rows);
  if (!shape_ok) {
    return CorruptionError("tensor '" + name + "' has shape " + info->ShapeString() +
                           ", expected " + ShapeText(n_cols, n_rows));
  }
  const tensor::TypeTraits& traits = tensor::Traits(info->type);
  if (!(rows_only ? traits.can_dequantize : traits.has_vec_dot)) {
    return UnsupportedError("tensor '" + name + "' has type " +
                            std::string(gguf::TypeInfo(info->type).name) +
                            ", which this engine cannot compute with");
  }
  Weight w;
  w.type = info->type;
  w.n_cols = n_cols;
  w.n_rows = static_cast<int64_t>(info->ne[1]);
  w.row_bytes = info->row_bytes();
  w.data = info->data;
  return w;
}

Result<Weight> WeightBinder::OptionalMatrix(const std::string& name, int64_t n_cols,
                                            int64_t n_rows) const {
  if (!Has(name)) return Weight{};
  return Matrix(name, n_cols, n_rows);
}

Result<Vector> WeightBinder::Vec(const std::string& name, int64_t n) const {
  const gguf::TensorInfo* info = file_.FindTensor(name);
  if (info == nullptr) return NotFoundError("model is missing tensor '" + name + "'");
  if (static_cast<int64_t>(info->n_elements) != n || info->ne[0] != static_cast<uint64_t>(n)) {
    return CorruptionError("tensor '" + name + "' has shape " + info->ShapeString() +
                           ", expected [" + std::to_string(n) + "]");
  }
  Vector v;
  v.n = n;
  if (info->type != gguf::GgmlType::kF32 && !tensor::Traits(info->type).can_dequantize) {
    return UnsupportedError("tensor '" + name + "' has unsupported type " +
                            std::string(gguf::TypeInfo(info->type).name));
  }
  v.owned.resize(n);
  tensor::DequantizeRow(info->type, info->data, v.owned.data(), n);
  v.data = v.owned.data();
  return v;
}

Result<Vector> WeightBinder::OptionalVec(const std::string& name, int64_t n) const {
  if (!Has(name)) return Vector{};
  return Vec(name, n);
}

}  // namespace corral::engine
