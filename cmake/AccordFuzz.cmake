# accord_fuzz_target(NAME SOURCES src... DEPS lib...): a libFuzzer target NAME_fuzz when
# ACCORD_LIBFUZZER (clang; fuzz/run_libfuzzer.sh NAME SECONDS), otherwise a corpus-replay
# binary (fuzz/replay_main.cc) registered with CTest as NAME_fuzz_replay (label "fuzz") over
# fuzz/corpus/NAME.
function(accord_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  if(ACCORD_LIBFUZZER)
    add_executable(${name}_fuzz ${F_SOURCES})
    target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer)
    target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name}_fuzz ${F_SOURCES} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.cc)
  endif()
  target_include_directories(${name}_fuzz PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name}_fuzz PRIVATE ${F_DEPS} accord_warnings)
  if(ACCORD_BUILD_TESTS AND NOT ACCORD_LIBFUZZER)
    add_test(NAME ${name}_fuzz_replay COMMAND ${name}_fuzz ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name})
    set_tests_properties(${name}_fuzz_replay PROPERTIES LABELS fuzz)
  endif()
endfunction()
