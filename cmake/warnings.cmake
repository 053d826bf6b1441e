# corral_warnings(target): the warning set for our own code. Third-party headers come in as
# SYSTEM includes, so -Werror applies to what we write only.
# -Wno-restrict: GCC 12 reports false positives for `"literal" + std::string` at -O3
# (GCC bug 105329).
function(corral_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers
                                           $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
endfunction()
