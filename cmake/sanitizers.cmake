# CORRAL_SANITIZE=ON: every target in the tree is built with ASan + UBSan, and UBSan findings
# abort (so a test that triggers undefined behaviour fails instead of printing and passing).
if(CORRAL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(CORRAL_DCHECK_ON=1)
endif()
