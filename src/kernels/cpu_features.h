// What the CPU (and the OS, which must save the wider registers) supports, and the kernel level
// chosen from it. CORRAL_CPU_LEVEL=scalar|avx2|avx512 forces a lower level, for testing and for
// comparing levels on one machine; a level the CPU lacks is refused with a warning.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corral::kernels {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
};

// Kernel levels, lowest first. kAvx2 needs avx2+fma+f16c; kAvx512 additionally needs
// avx512 f/bw/vl/dq.
enum class CpuLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr CpuLevel kAllCpuLevels[] = {CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512};

// Reads cpuid and XGETBV once; a feature whose register state the OS does not save is false.
const CpuFeatures& HostCpuFeatures();

// The features present, space separated in the struct's order ("avx2 fma f16c ..."); "none".
std::string CpuFeaturesString(const CpuFeatures& features);

std::string_view CpuLevelName(CpuLevel level);  // "scalar", "avx2", "avx512"
std::optional<CpuLevel> ParseCpuLevel(std::string_view name);

// The highest level `features` allow.
CpuLevel BestCpuLevel(const CpuFeatures& features);
// Whether this machine can run kernels of `level`.
bool HostSupports(CpuLevel level);

// The best level `features` allow, lowered to `forced` (a CORRAL_CPU_LEVEL value; nullptr or
// "" for none) when that names a level they support. Logs a warning for an unknown or
// unsupported value and ignores it.
CpuLevel ChooseCpuLevel(const CpuFeatures& features, const char* forced);

// The level the process uses: ChooseCpuLevel(HostCpuFeatures(), getenv("CORRAL_CPU_LEVEL")),
// computed once.
CpuLevel SelectedCpuLevel();

}  // namespace corral::kernels
