#include "kernels/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include "base/log.h"

namespace corral::kernels {
namespace {

// XCR0 bits: SSE and AVX (YMM upper halves) state; AVX-512 opmask, ZMM0-15 upper halves and
// ZMM16-31. The OS sets them when it saves those registers on a context switch.
constexpr uint64_t kXcr0AvxState = 0x6;
constexpr uint64_t kXcr0Avx512State = 0xE0;

uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  // Encoded by hand so this file needs no -mxsave.
  asm volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

bool Bit(uint32_t reg, int bit) { return ((reg >> bit) & 1u) != 0; }

CpuFeatures Detect() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return f;
  const unsigned max_leaf = eax;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return f;
  const bool osxsave = Bit(ecx, 27);
  const bool avx = Bit(ecx, 28);
  const bool fma = Bit(ecx, 12);
  const bool f16c = Bit(ecx, 29);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = ReadXcr0();
  if ((xcr0 & kXcr0AvxState) != kXcr0AvxState) return f;
  f.fma = fma;
  f.f16c = f16c;
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned leaf7_max_subleaf = eax;
  f.avx2 = Bit(ebx, 5);
  if ((xcr0 & kXcr0Avx512State) != kXcr0Avx512State) return f;
  f.avx512f = Bit(ebx, 16);
  f.avx512dq = Bit(ebx, 17);
  f.avx512bw = Bit(ebx, 30);
  f.avx512vl = Bit(ebx, 31);
  f.avx512vnni = Bit(ecx, 11);
  if (leaf7_max_subleaf >= 1) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512bf16 = Bit(eax, 5);
  }
  return f;
}

}  // namespace

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

std::string CpuFeaturesString(const CpuFeatures& f) {
  const std::pair<bool, const char*> named[] = {
      {f.avx2, "avx2"},
      {f.fma, "fma"},
      {f.f16c, "f16c"},
      {f.avx512f, "avx512f"},
      {f.avx512bw, "avx512bw"},
      {f.avx512vl, "avx512vl"},
      {f.avx512dq, "avx512dq"},
      {f.avx512vnni, "avx512vnni"},
      {f.avx512bf16, "avx512bf16"},
  };
  std::string out;
  for (const auto& [present, name] : named) {
    if (!present) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out.empty() ? "none" : out;
}

std::string_view CpuLevelName(CpuLevel level) {
  switch (level) {
    case CpuLevel::kScalar:
      return "scalar";
    case CpuLevel::kAvx2:
      return "avx2";
    case CpuLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

std::optional<CpuLevel> ParseCpuLevel(std::string_view name) {
  for (CpuLevel level : kAllCpuLevels) {
    if (CpuLevelName(level) == name) return level;
  }
  return std::nullopt;
}

CpuLevel BestCpuLevel(const CpuFeatures& f) {
  const bool avx2_level = f.avx2 && f.fma && f.f16c;
  if (avx2_level && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) return CpuLevel::kAvx512;
  if (avx2_level) return CpuLevel::kAvx2;
  return CpuLevel::kScalar;
}

bool HostSupports(CpuLevel level) {
  return static_cast<int>(level) <= static_cast<int>(BestCpuLevel(HostCpuFeatures()));
}

CpuLevel ChooseCpuLevel(const CpuFeatures& features, const char* forced) {
  const CpuLevel best = BestCpuLevel(features);
  if (forced == nullptr || *forced == '\0') return best;
  const std::optional<CpuLevel> parsed = ParseCpuLevel(forced);
  if (!parsed) {
    LOG(kWarn) << "CORRAL_CPU_LEVEL=" << forced << " is not one of scalar, avx2, avx512; using "
               << CpuLevelName(best);
    return best;
  }
  if (static_cast<int>(*parsed) > static_cast<int>(best)) {
    LOG(kWarn) << "CORRAL_CPU_LEVEL=" << forced << " is not supported by this CPU; using "
               << CpuLevelName(best);
    return best;
  }
  return *parsed;
}

CpuLevel SelectedCpuLevel() {
  static const CpuLevel selected =
      ChooseCpuLevel(HostCpuFeatures(), std::getenv("CORRAL_CPU_LEVEL"));
  return selected;
}

}  // namespace corral::kernels
