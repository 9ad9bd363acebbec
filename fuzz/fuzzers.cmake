# The fuzzers themselves (clang only). See CMakeLists.txt.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
get_filename_component(ROOT ${CMAKE_CURRENT_SOURCE_DIR}/.. ABSOLUTE)
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "the fuzzers need clang: -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
endif()

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
pkg_check_modules(TIFF REQUIRED IMPORTED_TARGET libtiff-4)
pkg_check_modules(ZXING REQUIRED IMPORTED_TARGET zxing)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
set(OPENCV_LIBS)
foreach(mod core imgproc imgcodecs)
  find_library(OPENCV_${mod}_LIB opencv_${mod} REQUIRED)
  list(APPEND OPENCV_LIBS ${OPENCV_${mod}_LIB})
endforeach()

set(CORE ${ROOT}/core/src/status.cc ${ROOT}/core/src/page.cc ${ROOT}/core/src/files.cc ${ROOT}/core/src/text.cc)
set(INCLUDES ${ROOT}/core/include ${ROOT}/scanner-drivers/folder/include ${ROOT}/pipeline/include
             ${ROOT}/indexer/include ${ROOT}/stages/barcode/include ${ROOT}/stages/pdf/include
             ${ROOT}/stages/split/include)
# profile.cc's own dependencies (keep in step with pipeline/CMakeLists.txt).
set(PROFILE ${ROOT}/pipeline/src/profile.cc ${ROOT}/pipeline/src/archival.cc)
set(SANITIZE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

function(acervo_fuzzer name)
  add_executable(${name}_fuzzer ${name}_fuzzer.cc ${ARGN})
  target_include_directories(${name}_fuzzer PRIVATE ${INCLUDES})
  target_include_directories(${name}_fuzzer SYSTEM PRIVATE ${OPENCV_INCLUDE_DIR})
  target_compile_options(${name}_fuzzer PRIVATE ${SANITIZE} -Wall -Wextra -Wno-unused-parameter)
  target_link_options(${name}_fuzzer PRIVATE ${SANITIZE})
  target_link_libraries(${name}_fuzzer PRIVATE ${OPENCV_LIBS} OpenSSL::Crypto Threads::Threads)
endfunction()

acervo_fuzzer(image ${CORE} ${ROOT}/scanner-drivers/folder/src/image_file.cc)
target_link_libraries(image_fuzzer PRIVATE PkgConfig::TIFF)

# PlanLot's manifest path pulls in the lot planner and what it calls.
acervo_fuzzer(manifest ${CORE} ${ROOT}/scanner-drivers/folder/src/image_file.cc ${ROOT}/pipeline/src/csv.cc
              ${PROFILE} ${ROOT}/pipeline/src/lot.cc ${ROOT}/pipeline/src/separation.cc
              ${ROOT}/pipeline/src/page_loader.cc ${ROOT}/stages/split/src/split.cc
              ${ROOT}/pipeline/src/validators.cc
              ${ROOT}/pipeline/src/metadata.cc ${ROOT}/stages/barcode/src/barcode.cc
              ${ROOT}/indexer/src/field_value.cc ${ROOT}/indexer/src/text_fold.cc)
target_link_libraries(manifest_fuzzer PRIVATE PkgConfig::TIFF PkgConfig::ZXING tomlplusplus::tomlplusplus
                      nlohmann_json::nlohmann_json PkgConfig::RE2)

acervo_fuzzer(profile ${CORE} ${PROFILE})
target_link_libraries(profile_fuzzer PRIVATE tomlplusplus::tomlplusplus PkgConfig::RE2)

# query.cc reads identifiers and field meanings with the analyzer (issue 15).
acervo_fuzzer(query ${CORE} ${ROOT}/indexer/src/query.cc ${ROOT}/indexer/src/text_fold.cc
              ${ROOT}/indexer/src/field_value.cc ${ROOT}/indexer/src/analyzer.cc ${ROOT}/indexer/src/sql_filter.cc)
find_library(STEMMER_LIB stemmer REQUIRED)
target_link_libraries(query_fuzzer PRIVATE ${STEMMER_LIB})
