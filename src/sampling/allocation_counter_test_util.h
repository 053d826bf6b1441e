// Counts heap allocations made through operator new in a test binary that links
// allocation_counter_test_util.cpp (which replaces the global operator new / delete).
#pragma once

#include <cstdint>

namespace corral::sampling::testing_util {

int64_t AllocationCount();

}  // namespace corral::sampling::testing_util
