# corral_warnings(target): the warning set for our own code. Third-party headers come in as
# SYSTEM includes, so -Werror applies to what we write only.
function(corral_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()
