// The per-level tables behind Kernels(); internal to the kernels library (dispatch.cpp and the
// files defining them). Each is constant-initialized, so choosing one runs no code compiled
// for an ISA the CPU may lack.
#pragma once

#include "kernels/kernels.h"

namespace corral::kernels {

extern const KernelTable kScalarFloatOps;  // reference/float_ops.cpp
extern const KernelTable kAvx2FloatOps;    // x86/float_ops_avx2.cpp
extern const KernelTable kAvx512FloatOps;  // x86/float_ops_avx512.cpp

}  // namespace corral::kernels
