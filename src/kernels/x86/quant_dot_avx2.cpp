// AVX2 quantized dot kernels (maddubs + madd); see quant_dot_x86.inc.
#include <cstring>

#include "kernels/quant_dot.h"

#define CORRAL_QDOT_NS avx2_qdot
#define CORRAL_QDOT_VNNI 0
#define CORRAL_QDOT_AVX512 0
#include "kernels/x86/quant_dot_x86.inc"
