# Every third-party dependency, as an imported target named acervo::<name>.
# All come from Debian 12 packages (scripts/debian-packages.txt); nothing is
# vendored or downloaded. System headers are SYSTEM includes so that
# -Wall -Wextra speaks only of our code.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
# issue 4: libjpeg-turbo for gray/colour page images (JPEG::JPEG), used
# directly for 4:2:0 chroma and optimised Huffman tables.
find_package(JPEG REQUIRED)

pkg_check_modules(TESSERACT REQUIRED IMPORTED_TARGET tesseract)
pkg_check_modules(LEPT REQUIRED IMPORTED_TARGET lept)
pkg_check_modules(PODOFO REQUIRED IMPORTED_TARGET libpodofo)
pkg_check_modules(TIFF REQUIRED IMPORTED_TARGET libtiff-4)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(SANE REQUIRED IMPORTED_TARGET sane-backends)
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)
# issue 6: separator-sheet barcodes (zxing-cpp) and the PostgreSQL store (libpq)
pkg_check_modules(ZXING REQUIRED IMPORTED_TARGET zxing)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
# issue 12: linear-time regular expressions for profile field rules (RE2), and
# the XML parser acervo verify checks each PDF's XMP packet with (libxml2)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
# HTTP client/server (cpp-httplib, Debian's shared build with OpenSSL, zlib
# and brotli: its .pc file gives the matching CPPHTTPLIB_* definitions).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

# Debian's OpenCV config file comes only with the full libopencv-dev; we need
# three modules, so we import them directly.
find_path(OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
add_library(acervo::opencv INTERFACE IMPORTED)
foreach(mod core imgproc imgcodecs)
  find_library(OPENCV_${mod}_LIB opencv_${mod} REQUIRED)
  target_link_libraries(acervo::opencv INTERFACE ${OPENCV_${mod}_LIB})
endforeach()
target_include_directories(acervo::opencv SYSTEM INTERFACE ${OPENCV_INCLUDE_DIR})

add_library(acervo::tesseract INTERFACE IMPORTED)
target_link_libraries(acervo::tesseract INTERFACE PkgConfig::TESSERACT PkgConfig::LEPT)
add_library(acervo::podofo ALIAS PkgConfig::PODOFO)
add_library(acervo::tiff ALIAS PkgConfig::TIFF)
add_library(acervo::sqlite ALIAS PkgConfig::SQLITE)
add_library(acervo::sane ALIAS PkgConfig::SANE)
add_library(acervo::cairo ALIAS PkgConfig::CAIRO)
add_library(acervo::zxing ALIAS PkgConfig::ZXING)
add_library(acervo::pq ALIAS PkgConfig::LIBPQ)
add_library(acervo::re2 ALIAS PkgConfig::RE2)
add_library(acervo::xml2 ALIAS PkgConfig::LIBXML2)
# issue 13: the web server (cpp-httplib, found above), Argon2id passwords
# (libsodium), page images rendered from the PDFs (poppler-cpp).
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
# issue 15: Portuguese Snowball stemming (libstemmer-dev; no pkg-config file)
find_path(STEMMER_INCLUDE_DIR libstemmer.h REQUIRED)
find_library(STEMMER_LIB stemmer REQUIRED)
add_library(acervo::stemmer INTERFACE IMPORTED)
target_link_libraries(acervo::stemmer INTERFACE ${STEMMER_LIB})
target_include_directories(acervo::stemmer SYSTEM INTERFACE ${STEMMER_INCLUDE_DIR})
add_library(acervo::httplib ALIAS PkgConfig::HTTPLIB)
add_library(acervo::sodium ALIAS PkgConfig::SODIUM)
add_library(acervo::poppler_cpp ALIAS PkgConfig::POPPLER_CPP)

if(ACERVO_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(ACERVO_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
