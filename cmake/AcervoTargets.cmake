# acervo_library(NAME SOURCES ... DEPS ...): one library per module or stage.
# Only <dir>/include is public; <dir>/src (or the folder itself) is private.
function(acervo_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  endif()
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_options(${name} PRIVATE -Wall -Wextra)
endfunction()

# acervo_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary
# registered with CTest test by test. Tests run from the build directory and
# find the repository through ACERVO_SOURCE_DIR and the shared corpus through
# ACERVO_CORPUS_DIR (empty when ../shared/corpus is absent).
function(acervo_test name)
  if(NOT ACERVO_BUILD_TESTS)
    return()
  endif()
  # WHOLE: register the binary as one CTest test (end-to-end suites whose
  # tests share one expensive fixture) instead of one test per TEST().
  cmake_parse_arguments(ARG "WHOLE" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  # The test files' own code at -O1 (after the build type's -O3, so it wins):
  # they are short orchestration, and the code under test is in the libraries,
  # still at -O3. Measured on four test files: -O3 took 1.4-2.2x as long to
  # compile (web_test.cc 72 s against 33 s), and the tests were 60% of a cold
  # build's compiler time (docs/testing.md). A shared precompiled header was
  # tried first: it saved 3-5%, since the time is in code generation, not in
  # reading headers.
  target_compile_options(${name} PRIVATE -Wall -Wextra $<$<CONFIG:Release,RelWithDebInfo>:-O1>)
  acervo_test_definitions(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  # OMP_THREAD_LIMIT=1: Debian's Tesseract is built with OpenMP, which on two
  # cores makes OCR 4x slower; Acervo owns the threading (one engine a worker).
  if(ARG_WHOLE)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
                         ENVIRONMENT OMP_THREAD_LIMIT=1)
  else()
    gtest_discover_tests(${name}
      DISCOVERY_TIMEOUT 60
      PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS ${ARG_LABELS}
                 ENVIRONMENT OMP_THREAD_LIMIT=1)
  endif()
endfunction()

# ACERVO_CORPUS overrides where the corpus is looked for (a git worktree
# outside the main checkout has no ../shared beside it).
set(ACERVO_CORPUS "" CACHE PATH "shared corpus folder (default: ../shared/corpus)")
function(acervo_test_definitions target)
  get_filename_component(corpus ${PROJECT_SOURCE_DIR}/../shared/corpus ABSOLUTE)
  if(ACERVO_CORPUS)
    set(corpus ${ACERVO_CORPUS})
  endif()
  if(NOT EXISTS ${corpus})
    set(corpus "")
  endif()
  target_compile_definitions(${target} PRIVATE
    ACERVO_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ACERVO_BINARY_DIR="${PROJECT_BINARY_DIR}"
    ACERVO_CORPUS_DIR="${corpus}")
endfunction()

# acervo_bench(NAME SOURCES ... DEPS ...): a Google Benchmark program.
function(acervo_bench name)
  if(NOT ACERVO_BUILD_BENCH)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  target_compile_options(${name} PRIVATE -Wall -Wextra)
  acervo_test_definitions(${name})
endfunction()
