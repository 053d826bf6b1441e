#include "kernels/quant_dot.h"

#include "base/check.h"
#include "base/log.h"
#include "tensor/vec_dot_ref.h"

namespace corral::kernels {
namespace avx2_qdot {
void FillQuantDots(VecDotFn* dot);
}
namespace avx512_qdot {
void FillQuantDots(VecDotFn* dot);
}

namespace {

template <gguf::GgmlType kType>
float ReferenceDot(const void* w, const void* a, int64_t n) {
  return tensor::VecDotRef(kType, w, a, n);
}

// Every type the reference can take, so any level has an entry for it.
void FillReference(QuantDotTable* table) {
  using gguf::GgmlType;
  auto set = [&](GgmlType type, VecDotFn fn) {
    if (tensor::Traits(type).has_vec_dot) table->dot[static_cast<int>(type)] = fn;
  };
  set(GgmlType::kF32, ReferenceDot<GgmlType::kF32>);
  set(GgmlType::kF16, ReferenceDot<GgmlType::kF16>);
  set(GgmlType::kBF16, ReferenceDot<GgmlType::kBF16>);
  set(GgmlType::kQ4_0, ReferenceDot<GgmlType::kQ4_0>);
  set(GgmlType::kQ4_1, ReferenceDot<GgmlType::kQ4_1>);
  set(GgmlType::kQ5_0, ReferenceDot<GgmlType::kQ5_0>);
  set(GgmlType::kQ5_1, ReferenceDot<GgmlType::kQ5_1>);
  set(GgmlType::kQ8_0, ReferenceDot<GgmlType::kQ8_0>);
  set(GgmlType::kQ2_K, ReferenceDot<GgmlType::kQ2_K>);
  set(GgmlType::kQ3_K, ReferenceDot<GgmlType::kQ3_K>);
  set(GgmlType::kQ4_K, ReferenceDot<GgmlType::kQ4_K>);
  set(GgmlType::kQ5_K, ReferenceDot<GgmlType::kQ5_K>);
  set(GgmlType::kQ6_K, ReferenceDot<GgmlType::kQ6_K>);
  set(GgmlType::kIQ4_NL, ReferenceDot<GgmlType::kIQ4_NL>);
  set(GgmlType::kIQ4_XS, ReferenceDot<GgmlType::kIQ4_XS>);
}

QuantDotTable MakeTable(CpuLevel level) {
  QuantDotTable table;
  table.level = level;
  FillReference(&table);
  if (level == CpuLevel::kAvx2) avx2_qdot::FillQuantDots(table.dot);
  if (level == CpuLevel::kAvx512) {
    // The 512 level's dot kernels are the VNNI ones; without VNNI the AVX2 ones serve.
    if (HostCpuFeatures().avx512vnni) {
      avx512_qdot::FillQuantDots(table.dot);
    } else {
      avx2_qdot::FillQuantDots(table.dot);
    }
  }
  return table;
}

}  // namespace

VecDotFn QuantDotTable::For(gguf::GgmlType type) const {
  int id = static_cast<int>(type);
  CHECK(id < kMaxTypeId && dot[id] != nullptr)
      << "no dot product for type " << gguf::TypeInfo(type).name;
  return dot[id];
}

bool QuantDotTable::IsNative(gguf::GgmlType type) const {
  static const QuantDotTable reference = MakeTable(CpuLevel::kScalar);
  int id = static_cast<int>(type);
  return id < kMaxTypeId && dot[id] != nullptr && dot[id] != reference.dot[id];
}

const QuantDotTable& QuantDotsFor(CpuLevel level) {
  CHECK(HostSupports(level)) << "this CPU cannot run " << CpuLevelName(level) << " kernels";
  static const QuantDotTable tables[] = {MakeTable(CpuLevel::kScalar), MakeTable(CpuLevel::kAvx2),
                                         MakeTable(CpuLevel::kAvx512)};
  return tables[static_cast<int>(level)];
}

const QuantDotTable& QuantDots() {
  static const QuantDotTable& table = QuantDotsFor(SelectedCpuLevel());
  return table;
}

}  // namespace corral::kernels
