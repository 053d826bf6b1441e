// AVX-512 VNNI quantized dot kernels (vpdpbusd on 256-bit vectors, which Zen 4 runs at full
// rate); see quant_dot_x86.inc.
#include <cstring>

#include "kernels/quant_dot.h"

#define CORRAL_QDOT_NS avx512_qdot
#define CORRAL_QDOT_VNNI 1
#define CORRAL_QDOT_AVX512 1
#include "kernels/x86/quant_dot_x86.inc"
