// Picks the float-op table for this machine once, and the RoPE convenience wrapper.
#include "base/check.h"
#include "base/log.h"
#include "kernels/float_ops_tables.h"
#include "kernels/kernels.h"

namespace corral::kernels {
namespace {

const KernelTable& TableOf(CpuLevel level) {
  switch (level) {
    case CpuLevel::kAvx512:
      return kAvx512FloatOps;
    case CpuLevel::kAvx2:
      return kAvx2FloatOps;
    case CpuLevel::kScalar:
      break;
  }
  return kScalarFloatOps;
}

}  // namespace

const KernelTable& Kernels() {
  static const KernelTable& table = []() -> const KernelTable& {
    const CpuLevel level = SelectedCpuLevel();
    const CpuLevel best = BestCpuLevel(HostCpuFeatures());
    LOG(kInfo) << "kernels: using " << CpuLevelName(level) << " ("
               << CpuFeaturesString(HostCpuFeatures()) << " detected"
               << (level != best ? ", lowered by CORRAL_CPU_LEVEL" : "") << ")";
    return TableOf(level);
  }();
  return table;
}

const KernelTable& KernelsFor(CpuLevel level) {
  CHECK(HostSupports(level)) << "this CPU cannot run " << CpuLevelName(level) << " kernels ("
                             << CpuFeaturesString(HostCpuFeatures()) << ")";
  return TableOf(level);
}

void ApplyRope(const KernelTable& table, RopeMode mode, const RopeParams& params, int64_t position,
               float* x, int64_t n_heads, int64_t head_dim) {
  CHECK(params.n_rot >= 0 && params.n_rot % 2 == 0 && params.n_rot <= head_dim &&
        params.n_rot <= kMaxRopeDims)
      << "bad n_rot " << params.n_rot << " for head_dim " << head_dim;
  float cos[kMaxRopeDims / 2], sin[kMaxRopeDims / 2];
  RopeCosSin(params, position, cos, sin);
  const auto rope = mode == RopeMode::kNorm ? table.rope_norm : table.rope_neox;
  rope(x, n_heads, head_dim, params.n_rot, cos, sin);
}

}  // namespace corral::kernels
