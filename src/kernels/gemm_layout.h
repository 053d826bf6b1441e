// Internal to the packed GEMM (gemm.cpp and x86/gemm_avx512.cpp): the panel block structs
// and the per-call activation summaries that gemm.h describes.
#pragma once

#include <cstdint>

#include "kernels/gemm.h"

namespace corral::kernels::gemm_internal {

constexpr int P = kPanelRows;

struct PanelQ8_0 {     // 32 columns
  uint16_t d[P];       // [16] f16 as in the ggml block (the kernel converts, exactly)
  uint8_t q[8][P][4];  // [group, row, 4 columns]: q + 128
};
struct PanelQ4_0 {     // 32 columns
  uint16_t d[P];       // [16] f16 as in the ggml block
  uint8_t q[4][P][4];  // [i, row, 4]: low nibble column 4i + k, high nibble 16 + 4i + k (q + 8)
};
// Q5_0 keeps ggml's bytes per row too (2 + 4 + 16 per block): the nibbles as Q4_0, and the 32
// high bits of each row as one u32 whose bits are reordered so that byte k, bit g holds column
// 4g + k's: group g's high bits are then bit g of every byte, one shift from bit 4 (no shuffle).
struct PanelQ5_0 {     // 32 columns
  uint16_t d[P];       // [16] f16 as in the ggml block
  uint8_t qh[P][4];    // [row, k]: bit g = high bit of column 4g + k
  uint8_t q[4][P][4];  // [i, row, 4]: as Q4_0 (the 5-bit values are q + 16)
};
// Q4_1 / Q5_1: as Q4_0 / Q5_0 plus the f16 block minimum m (x = q·d + m).
struct PanelQ4_1 {
  uint16_t d[P], m[P];  // [16] f16 as in the ggml block
  uint8_t q[4][P][4];   // [i, row, 4]: as Q4_0 (0..15)
};
struct PanelQ5_1 {
  uint16_t d[P], m[P];  // [16] f16 as in the ggml block
  uint8_t qh[P][4];     // as PanelQ5_0
  uint8_t q[4][P][4];   // [i, row, 4]: as Q4_0 (the 5-bit values are 0..31)
};
struct PanelQ4_K {         // 256 columns
  uint16_t d[P], dmin[P];  // [16] f16 as in the ggml block (the kernel converts, exactly)
  uint8_t sc[8][P];        // [sub-block, row] 6-bit scales
  uint8_t m[4][P][2];      // [sub-block pair, row, 2]: 6-bit mins of sub-blocks 2i, 2i+1
  uint8_t q[8][4][P][4];   // [sub-block, i, row, 4]: low nibble group i, high group i + 4
};
struct PanelQ6_K {         // 256 columns
  float d[P];              // [16]
  int8_t sc[16][P];        // [sub-block of 16, row]
  uint8_t ql[8][4][P][4];  // [sub-block of 32, i, row, 4]: low 4 bits, group i | group i+4 << 4
  uint8_t qh[8][2][P][4];  // [sub-block of 32, h, row, 4]: bits 2m, 2m+1: high 2 bits, group 4h+m
};
// Each exactly 16 ggml blocks, but for the K-quants' widened scales.
static_assert(sizeof(PanelQ8_0) == 544 && sizeof(PanelQ4_0) == 288 && sizeof(PanelQ5_0) == 352 &&
              sizeof(PanelQ4_1) == 320 && sizeof(PanelQ5_1) == 384 && sizeof(PanelQ4_K) == 2368 &&
              sizeof(PanelQ6_K) == 3392);

// Per token and weight block, derived from the activation row at each call.
struct AuxQ8_0 {
  int32_t corr;  // −128·Σ q_a: undoes the +128 that made the weights unsigned
  float d;       // the activation block scale as f32
};
struct AuxQ4_0 {  // Q4_0 and Q5_0 weights take Q8_0 activations too
  int32_t corr;   // −8·Σ q_a (Q4_0) or −16·Σ q_a (Q5_0): the offset of the weights
  float d;        // the activation block scale as f32
};
struct AuxQ4_1 {  // Q4_1 and Q5_1 weights take Q8_1 activations (no offset: the min is in m)
  float d;        // the activation block scale as f32
  float s;        // d·Σ q_a as ggml stores it (f16), as f32
};
struct AuxQ4_K {
  int16_t s[8];  // Σ q_a over each 32-column sub-block (bsums[2j] + bsums[2j + 1])
};
struct AuxQ6_K {
  int32_t corr[16];  // −32·Σ q_a over each 16-column sub-block: the −32 offset of the weights
};

}  // namespace corral::kernels::gemm_internal
