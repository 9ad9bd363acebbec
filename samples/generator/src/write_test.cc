#include <tiffio.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/core/files.h"
#include "acervo/synth/synth.h"
#include "write_internal.h"

namespace acervo::synth {
namespace {

namespace fs = std::filesystem;

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// A small gray page with some "ink".
cv::Mat TestPage(int seed) {
  cv::Mat m(120, 90, CV_8UC1, cv::Scalar(235));
  cv::putText(m, std::to_string(seed), {10, 60}, cv::FONT_HERSHEY_SIMPLEX, 1.0, cv::Scalar(20), 3);
  return m;
}

// A fresh folder in the system temp folder, removed with everything in it
// when the test ends (a passing test leaves nothing behind). A parameterised
// test's name holds a '/' ("MultiPageWithResolution/lzw"): kept as one
// folder name, or the parent would be left behind.
std::string FolderName(std::string name) {
  for (char& c : name) c = c == '/' ? '_' : c;
  return name;
}

class TempDir {
 public:
  TempDir()
      : dir_(fs::temp_directory_path() /
             ("acervo-synth-write-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
              FolderName(::testing::UnitTest::GetInstance()->current_test_info()->name()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

// Reads the dpi from a PNG's pHYs chunk (checking its CRC); -1 if absent.
double PngDpi(const std::vector<uint8_t>& b) {
  size_t pos = 8;
  bool after_ihdr = false;
  while (pos + 12 <= b.size()) {
    uint32_t len = Be32(&b[pos]);
    std::string type(reinterpret_cast<const char*>(&b[pos + 4]), 4);
    uint32_t crc = Be32(&b[pos + 8 + len]);
    EXPECT_EQ(crc, Crc32(std::span<const uint8_t>(&b[pos + 4], len + 4))) << type;
    if (type == "pHYs") {
      EXPECT_TRUE(after_ihdr);
      EXPECT_EQ(len, 9u);
      EXPECT_EQ(b[pos + 16], 1);  // metre
      EXPECT_EQ(Be32(&b[pos + 8]), Be32(&b[pos + 12]));
      return Be32(&b[pos + 8]) * 0.0254;
    }
    after_ihdr = type == "IHDR";
    pos += 12 + len;
  }
  return -1;
}

// Reads the dpi from a JPEG's JFIF APP0; -1 if absent or not in dpi.
double JpegDpi(const std::vector<uint8_t>& b) {
  if (b.size() < 18 || b[2] != 0xFF || b[3] != 0xE0 || std::memcmp(&b[6], "JFIF", 5) != 0) return -1;
  if (b[13] != 1) return -1;
  EXPECT_EQ(b[14], b[16]);
  EXPECT_EQ(b[15], b[17]);
  return (b[14] << 8) | b[15];
}

TEST(WriteTest, Crc32KnownValue) {
  const char* s = "123456789";
  EXPECT_EQ(Crc32(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s), 9)), 0xCBF43926u);
}

class DpiTest : public ::testing::TestWithParam<double> {};

TEST_P(DpiTest, PngCarriesDpiAndPixels) {
  cv::Mat page = TestPage(1);
  Result<std::vector<uint8_t>> png = EncodePages({page}, GetParam(), FileFormat::kPng);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  // pHYs holds whole pixels per metre: the dpi reads back to within 0.013.
  EXPECT_EQ(std::lround(PngDpi(*png)), std::lround(GetParam()));
  cv::Mat back = cv::imdecode(*png, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(back.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(back != page), 0);
}

TEST_P(DpiTest, JpegCarriesDpiAndIsGray) {
  cv::Mat page = TestPage(2);
  Result<std::vector<uint8_t>> jpg = EncodePages({page}, GetParam(), FileFormat::kJpeg);
  ASSERT_TRUE(jpg.ok()) << jpg.status().ToString();
  EXPECT_EQ(JpegDpi(*jpg), GetParam());
  cv::Mat back = cv::imdecode(*jpg, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(back.type(), CV_8UC1);
  EXPECT_EQ(back.size(), page.size());
}

INSTANTIATE_TEST_SUITE_P(Table, DpiTest, ::testing::Values(150.0, 200.0, 300.0, 400.0, 600.0));

struct TiffCase {
  const char* name;
  FileFormat format;
  uint16_t compression;
  uint16_t bits;
  uint16_t photometric;
};

class TiffTest : public ::testing::TestWithParam<TiffCase> {};

TEST_P(TiffTest, MultiPageWithResolution) {
  const TiffCase& c = GetParam();
  TempDir tmp;
  fs::path path = tmp.path() / "pages.tif";
  std::vector<cv::Mat> pages = {TestPage(1), TestPage(2), TestPage(3)};
  ASSERT_TRUE(WritePages(path, pages, 300, c.format).ok());

  TIFF* tif = TIFFOpen(path.c_str(), "r");
  ASSERT_NE(tif, nullptr);
  int n = 0;
  do {
    uint32_t w = 0, h = 0;
    uint16_t compression = 0, bits = 0, photometric = 0, unit = 0;
    float xres = 0, yres = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression);
    TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres);
    TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres);
    TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    EXPECT_EQ(w, 90u);
    EXPECT_EQ(h, 120u);
    EXPECT_EQ(compression, c.compression);
    EXPECT_EQ(bits, c.bits);
    EXPECT_EQ(photometric, c.photometric);
    EXPECT_FLOAT_EQ(xres, 300);
    EXPECT_FLOAT_EQ(yres, 300);
    EXPECT_EQ(unit, RESUNIT_INCH);

    // Pixels: exact for 8-bit; thresholded (set bit = black) for G4.
    std::vector<uint8_t> row(static_cast<size_t>(TIFFScanlineSize(tif)));
    const cv::Mat& want = pages[static_cast<size_t>(n)];
    int mismatches = 0;
    for (uint32_t y = 0; y < h; ++y) {
      ASSERT_EQ(TIFFReadScanline(tif, row.data(), y, 0), 1);
      for (uint32_t x = 0; x < w; ++x) {
        uint8_t src = want.at<uint8_t>(static_cast<int>(y), static_cast<int>(x));
        if (c.bits == 8) {
          mismatches += row[x] != src;
        } else {
          bool black = (row[x >> 3] >> (7 - (x & 7))) & 1;
          mismatches += black != (src < kG4Threshold);
        }
      }
    }
    EXPECT_EQ(mismatches, 0) << "page " << n + 1;
    ++n;
  } while (TIFFReadDirectory(tif));
  TIFFClose(tif);
  EXPECT_EQ(n, 3);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TiffTest,
    ::testing::Values(
        TiffCase{"none", FileFormat::kTiffNone, COMPRESSION_NONE, 8, PHOTOMETRIC_MINISBLACK},
        TiffCase{"lzw", FileFormat::kTiffLzw, COMPRESSION_LZW, 8, PHOTOMETRIC_MINISBLACK},
        TiffCase{"g4", FileFormat::kTiffG4, COMPRESSION_CCITTFAX4, 1, PHOTOMETRIC_MINISWHITE}),
    [](const ::testing::TestParamInfo<TiffCase>& info) { return std::string(info.param.name); });

TEST(WriteTest, RejectsWhatCannotBeWritten) {
  TempDir tmp;
  const fs::path& dir = tmp.path();
  EXPECT_EQ(WritePages(dir / "a.png", {TestPage(1), TestPage(2)}, 300, FileFormat::kPng).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WritePages(dir / "b.png", {}, 300, FileFormat::kPng).code(),
            StatusCode::kInvalidArgument);
  cv::Mat color(10, 10, CV_8UC3);
  EXPECT_EQ(WritePages(dir / "c.png", {color}, 300, FileFormat::kPng).code(),
            StatusCode::kInvalidArgument);
  // A parent that is a file: no write can succeed.
  ASSERT_TRUE(WriteFileAtomic(dir / "file", std::string_view("x")).ok());
  Status s = WritePages(dir / "file" / "d.png", {TestPage(1)}, 300, FileFormat::kPng);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("d.png"), std::string::npos) << s.ToString();
  EXPECT_FALSE(fs::exists(dir / "a.png"));
}

TEST(WriteTest, JfifInsertedWhenMissing) {
  // SOI, then straight to an (empty) COM segment and EOI.
  std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x02, 0xFF, 0xD9};
  ASSERT_TRUE(SetJpegDpi(&jpeg, 200).ok());
  EXPECT_EQ(JpegDpi(jpeg), 200);
  EXPECT_EQ(jpeg.size(), 8u + 18u);
}

}  // namespace
}  // namespace acervo::synth
