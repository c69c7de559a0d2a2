# GoogleTest binaries link accord_gtest_main (tests/common/gtest_main.cc), which exits 77 when
# tests were skipped and none failed; SKIP_RETURN_CODE 77 makes CTest report them as skipped.

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
  if(ACCORD_BUILD_TESTS)
    foreach(t ${tests})
      get_filename_component(tn ${t} NAME_WE)
      add_executable(${tn} ${t})
      target_include_directories(${tn} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
      target_link_libraries(${tn} PRIVATE accord_${name} ${L_TEST_DEPS} accord_gtest_main GTest::gtest GTest::gmock accord_warnings)
      target_compile_definitions(${tn} PRIVATE ACCORD_SHARED_DIR="${ACCORD_SHARED_DIR}" ACCORD_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
      add_test(NAME ${tn} COMMAND ${tn})
      set_tests_properties(${tn} PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
    endforeach()
  endif()
endfunction()

# accord_test(NAME SOURCES... DEPS ... LABELS ...): a cross-layer test under tests/.
function(accord_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_DEPS} accord_gtest_main GTest::gtest GTest::gmock accord_warnings)
  target_compile_definitions(${name} PRIVATE ACCORD_SHARED_DIR="${ACCORD_SHARED_DIR}" ACCORD_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    ACCORD_BINARY="$<TARGET_FILE:accord>")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_LABELS)
    set(T_LABELS integration)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" SKIP_RETURN_CODE 77)
endfunction()
