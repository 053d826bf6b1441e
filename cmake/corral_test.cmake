# corral_test(NAME name SOURCES a_test.cpp ... LIBS lib ... LABELS unit|e2e|reference|slow)
# One GoogleTest binary per call; every test case becomes a ctest test carrying the one label.
function(corral_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  corral_warnings(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} corral_testing GTest::gtest GTest::gtest_main)
  # gtest_discover_tests writes PROPERTIES unquoted into the generated ctest file, so a list
  # would turn its second item into a property name: one label per test binary.
  list(LENGTH T_LABELS n_labels)
  if(NOT n_labels EQUAL 1)
    message(FATAL_ERROR "corral_test(${T_NAME}): give exactly one label, got '${T_LABELS}'")
  endif()
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS ${T_LABELS}
    DISCOVERY_TIMEOUT 60)
endfunction()
