# GoogleTest binaries link accord_gtest_main (tests/common/gtest_main.cc), which exits 77 when
# tests were skipped and none failed; SKIP_RETURN_CODE 77 makes CTest report them as skipped.

# PERF: CTest -j starts the costliest tests first when it knows their cost; a clean checkout (CI)
# has no Testing/Temporary/CTestCostData.txt, so the longest would otherwise start in
# declaration order and run alone at the end. Seconds under ASan+UBSan, measured in a CI run.
set(ACCORD_TEST_COSTS stix_roundtrip_test=120 federation_harness_test=90 requests_test=90 audit_cli_test=70
    realdata_test=60 import_crash_test=50 leak_matrix_test=55 match_e2e_test=50 engine_test=38
    store_contract_test=46 ui_browser_test=40 stream_worker_test=18 multi_frontend_test=12
    taxii_e2e_test=38 hostile_status_growth_test=31 egress_exits_test=27
    hostile_long_import_test=26 hostile_cross_collection_revocation_test=24
    match_threads_test=24 program_image_test=22 node_cli_test=21 match_cache_test=21
    hostile_duplicate_keys_test=21 import_cli_test=19 match_follow_test=15
    hostile_big_bundle_test=15 warninglist_test=35 misp_test=30 export_warninglist_test=20
    import_formats_test=15)
function(accord_test_cost name)
  foreach(entry ${ACCORD_TEST_COSTS})
    if(entry MATCHES "^${name}=([0-9]+)$")
      set_tests_properties(${name} PROPERTIES COST ${CMAKE_MATCH_1})
    endif()
  endforeach()
endfunction()

# Compile options of test code (test files and tests/common). PERF: test code is built with
# ASan but without UBSan's instrumentation, which is 40% of a test file's compile time; the
# code under test (every library, the accord binary) keeps both, and every test still runs
# with both runtimes linked. Test files reuse accord_gtest_main's precompiled header; a
# mismatch is an error (-Winvalid-pch under -Werror), never a silent slow build.
function(accord_test_options name)
  if(ACCORD_SANITIZE)
    target_compile_options(${name} PRIVATE -fno-sanitize=undefined)
  endif()
  target_compile_options(${name} PRIVATE -Winvalid-pch)
  if(NOT name STREQUAL accord_gtest_main)
    target_precompile_headers(${name} REUSE_FROM accord_gtest_main)
  endif()
endfunction()

# accord_layer(NAME DEPS dep...): one static library per folder under src/.
# Sources are the folder's *.cc files except *_test.cc; each *_test.cc beside them becomes a
# GoogleTest binary registered with CTest (label "unit"). Globbing keeps parallel work on
# different layers from colliding in CMakeLists.txt.
function(accord_layer name)
  cmake_parse_arguments(L "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  file(GLOB_RECURSE tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(tests)
    list(REMOVE_ITEM srcs ${tests})
  endif()
  add_library(accord_${name} STATIC ${srcs})
  target_include_directories(accord_${name} PUBLIC ${CMAKE_SOURCE_DIR}/include PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(accord_${name} PUBLIC ${L_DEPS} PRIVATE accord_warnings)
  # PERF: ACCORD_UNITY (scripts/test.sh, fuzz/run_libfuzzer.sh) compiles a layer's files eight
  # at a time: the headers they share (abseil, simdjson, Beast, nlohmann) are parsed once per
  # batch, not once per file (docs/PERFORMANCE.md, "The README's test command"). Names local to a
  # file must then be unique in its layer. A type local to one file held by a class of the
  # layer is fine in a unity file too, so GCC's -Wsubobject-linkage is off there.
  if(ACCORD_UNITY)
    set_target_properties(accord_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    target_compile_options(accord_${name} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
  endif()
  # PERF: ACCORD_OPTIMIZE_LAYERS (scripts/test.sh): the layers the tests spend their CPU in are
  # compiled at -O1 in the ASan tree; test files, the CLI and the HTTP stack stay at -O0, where
  # they compile in about half the time and the tests spend little (docs/PERFORMANCE.md, "The
  # README's test command").
  if(name IN_LIST ACCORD_OPTIMIZE_LAYERS)
    target_compile_options(accord_${name} PRIVATE -O1)
  endif()
  if(ACCORD_BUILD_TESTS)
    foreach(t ${tests})
      get_filename_component(tn ${t} NAME_WE)
      add_executable(${tn} ${t})
      target_include_directories(${tn} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
      target_link_libraries(${tn} PRIVATE accord_${name} ${L_TEST_DEPS} accord_gtest_main GTest::gtest GTest::gmock accord_warnings)
      accord_test_options(${tn})
      add_test(NAME ${tn} COMMAND ${tn})
      set_tests_properties(${tn} PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
      accord_test_cost(${tn})
    endforeach()
  endif()
endfunction()

# accord_test(NAME SOURCES... DEPS ... LABELS ...): a cross-layer test under tests/.
function(accord_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_DEPS} accord_gtest_main GTest::gtest GTest::gmock accord_warnings)
  accord_test_options(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_LABELS)
    set(T_LABELS integration)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" SKIP_RETURN_CODE 77)
  accord_test_cost(${name})
endfunction()
