#include "acervo/scanner/image_file.h"

#include <gtest/gtest.h>
#include <tiffio.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/core/files.h"

namespace acervo {
namespace {
namespace fs = std::filesystem;

cv::Mat TextLikePage(int w, int h) {
  cv::Mat m(h, w, CV_8UC1, cv::Scalar(255));
  for (int y = 20; y + 10 < h; y += 30) cv::rectangle(m, {10, y, w - 20, 8}, cv::Scalar(0), cv::FILLED);
  return m;
}

std::vector<uint8_t> Encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uint8_t> out;
  cv::imencode(ext, m, out);
  return out;
}

// Writes a TIFF with the given pages and compression to a temp file and
// returns its bytes (libtiff writes to files only).
std::vector<uint8_t> WriteTiff(const std::vector<cv::Mat>& pages, uint16_t compression,
                               bool bitonal, float dpi = 300) {
  fs::path p = fs::temp_directory_path() / ("acervo-tiff-" + std::to_string(std::random_device{}()) + ".tif");
  TIFF* t = TIFFOpen(p.c_str(), "w");
  for (const cv::Mat& m : pages) {
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, uint32_t(m.cols));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, uint32_t(m.rows));
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, uint16_t(1));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16_t(bitonal ? 1 : 8));
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, bitonal ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, uint32_t(16));
    TIFFSetField(t, TIFFTAG_XRESOLUTION, dpi);
    TIFFSetField(t, TIFFTAG_YRESOLUTION, dpi);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    std::vector<uint8_t> line((m.cols + 7) / 8);
    for (int y = 0; y < m.rows; ++y) {
      const uint8_t* row = m.ptr<uint8_t>(y);
      if (bitonal) {
        std::fill(line.begin(), line.end(), 0);
        for (int x = 0; x < m.cols; ++x)
          if (row[x] < 128) line[x >> 3] |= uint8_t(0x80 >> (x & 7));
        TIFFWriteScanline(t, line.data(), uint32_t(y), 0);
      } else {
        TIFFWriteScanline(t, const_cast<uint8_t*>(row), uint32_t(y), 0);
      }
    }
    TIFFWriteDirectory(t);
  }
  TIFFClose(t);
  std::vector<uint8_t> bytes = *ReadFile(p);
  fs::remove(p);
  return bytes;
}

TEST(ImageFileTest, SniffsFormatFromBytesNotName) {
  cv::Mat page = TextLikePage(200, 100);
  struct Case { std::vector<uint8_t> bytes; ImageFormat want; };
  std::vector<Case> cases = {
      {Encode(page, ".png"), ImageFormat::kPng},
      {Encode(page, ".jpg"), ImageFormat::kJpeg},
      {WriteTiff({page}, COMPRESSION_LZW, false), ImageFormat::kTiff},
      {{'%', 'P', 'D', 'F', '-', '1'}, ImageFormat::kPdf},
      {{'h', 'e', 'l', 'l', 'o'}, ImageFormat::kUnknown},
  };
  for (const Case& c : cases) EXPECT_EQ(SniffImageFormat(c.bytes), c.want);
}

TEST(ImageFileTest, DecodesEveryTiffFlavourAndKeepsPixels) {
  cv::Mat page = TextLikePage(333, 120);
  struct Case { uint16_t compression; bool bitonal; };
  for (const Case& c : {Case{COMPRESSION_NONE, false}, Case{COMPRESSION_LZW, false},
                        Case{COMPRESSION_CCITTFAX4, true}, Case{COMPRESSION_PACKBITS, true},
                        Case{COMPRESSION_ADOBE_DEFLATE, false}}) {
    std::vector<uint8_t> bytes = WriteTiff({page, page}, c.compression, c.bitonal, 200);
    Result<ImageFileInfo> info = ProbeImage(bytes, "t.tif");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->pages, 2);
    for (int i = 0; i < 2; ++i) {
      Result<DecodedPage> d = DecodeImagePage(bytes, i, "t.tif");
      ASSERT_TRUE(d.ok()) << c.compression << ": " << d.status().ToString();
      ASSERT_EQ(d->image.type(), CV_8UC1);
      EXPECT_EQ(cv::norm(d->image, page, cv::NORM_INF), 0) << "compression " << c.compression;
      EXPECT_NEAR(d->dpi_x, 200, 0.01);
      EXPECT_EQ(d->bits_per_sample, c.bitonal ? 1 : 8);
    }
  }
}

TEST(ImageFileTest, DecodesPngAndJpeg) {
  cv::Mat page = TextLikePage(300, 150);
  Result<DecodedPage> png = DecodeImagePage(Encode(page, ".png"), 0, "a.png");
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  EXPECT_EQ(cv::norm(png->image, page, cv::NORM_INF), 0);
  cv::Mat color;
  cv::cvtColor(page, color, cv::COLOR_GRAY2BGR);
  Result<DecodedPage> jpg = DecodeImagePage(Encode(color, ".jpg"), 0, "a.jpg");
  ASSERT_TRUE(jpg.ok()) << jpg.status().ToString();
  EXPECT_EQ(jpg->image.size(), page.size());
}

TEST(ImageFileTest, RgbaIsFlattenedOnWhite) {
  cv::Mat rgba(10, 10, CV_8UC4, cv::Scalar(0, 0, 0, 0));  // fully transparent black
  Result<DecodedPage> d = DecodeImagePage(Encode(rgba, ".png"), 0, "t.png");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->image.type(), CV_8UC3);
  EXPECT_EQ(d->image.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 255, 255));
}

// Partial alpha blends the colour with white paper: c * a + 255 * (1 - a).
TEST(ImageFileTest, PartialAlphaBlendsOnWhite) {
  cv::Mat rgba(4, 4, CV_8UC4);
  rgba.at<cv::Vec4b>(0, 0) = {0, 0, 0, 255};      // opaque black
  rgba.at<cv::Vec4b>(0, 1) = {0, 0, 0, 128};      // half black
  rgba.at<cv::Vec4b>(0, 2) = {200, 100, 50, 51};  // a fifth of a colour (BGR)
  rgba.at<cv::Vec4b>(0, 3) = {10, 20, 30, 0};     // transparent
  Result<DecodedPage> d = DecodeImagePage(Encode(rgba, ".png"), 0, "t.png");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->image.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(d->image.at<cv::Vec3b>(0, 1), cv::Vec3b(127, 127, 127));
  EXPECT_EQ(d->image.at<cv::Vec3b>(0, 2), cv::Vec3b(244, 224, 214));
  EXPECT_EQ(d->image.at<cv::Vec3b>(0, 3), cv::Vec3b(255, 255, 255));
}

TEST(ImageFileTest, BadInputGivesClearErrorsNamingTheFile) {
  cv::Mat page = TextLikePage(300, 150);
  std::vector<uint8_t> png = Encode(page, ".png");
  std::vector<uint8_t> jpg = Encode(page, ".jpg");
  std::vector<uint8_t> tif = WriteTiff({page}, COMPRESSION_LZW, false);
  std::mt19937 rng(7);
  std::vector<uint8_t> noise(5000);
  for (uint8_t& b : noise) b = uint8_t(rng());
  struct Case { std::string name; std::vector<uint8_t> bytes; std::string want; };
  std::vector<Case> cases = {
      {"empty.png", {}, "empty file"},
      {"trunc.png", {png.begin(), png.begin() + png.size() / 2}, "truncated PNG"},
      {"trunc.jpg", {jpg.begin(), jpg.begin() + jpg.size() / 2}, "truncated JPEG"},
      {"trunc.tif", {tif.begin(), tif.begin() + 200}, "trunc.tif"},
      {"noise.tif", noise, "unrecognised file signature"},
      {"doc.pdf", {'%', 'P', 'D', 'F', '-', '1', '.', '4'}, "PDF"},
  };
  for (const Case& c : cases) {
    Result<DecodedPage> d = DecodeImagePage(c.bytes, 0, c.name);
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_NE(d.status().message().find(c.name), std::string::npos) << d.status().ToString();
    EXPECT_NE(d.status().message().find(c.want), std::string::npos) << d.status().ToString();
  }
}

TEST(ImageFileTest, RefusesHugeDeclaredSizeBeforeDecoding) {
  // A PNG header claiming 100000x100000 pixels with no data behind it.
  cv::Mat small = TextLikePage(8, 8);
  std::vector<uint8_t> png = Encode(small, ".png");
  auto put32 = [&](size_t at, uint32_t v) {
    png[at] = uint8_t(v >> 24); png[at + 1] = uint8_t(v >> 16);
    png[at + 2] = uint8_t(v >> 8); png[at + 3] = uint8_t(v);
  };
  put32(16, 100000);
  put32(20, 100000);
  Result<DecodedPage> d = DecodeImagePage(png, 0, "huge.png");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("exceeds the limit"), std::string::npos);
}

// Regression (found by fuzz/image_fuzzer, fuzz/regressions/image/): a PNG
// header declaring 3238002683 x 4294967291 pixels overflowed width * height
// in the pixel-limit check (signed overflow, undefined behaviour).
TEST(ImageFileTest, DeclaredSizeNearInt64OverflowIsRefused) {
  std::vector<uint8_t> png = Encode(TextLikePage(8, 8), ".png");
  auto put32 = [&](size_t at, uint32_t v) {
    png[at] = uint8_t(v >> 24); png[at + 1] = uint8_t(v >> 16);
    png[at + 2] = uint8_t(v >> 8); png[at + 3] = uint8_t(v);
  };
  put32(16, 0xC0FFFFFBu);
  put32(20, 0xFFFFFFFBu);
  Result<DecodedPage> d = DecodeImagePage(png, 0, "overflow.png");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("overflow.png"), std::string::npos) << d.status().ToString();
}

TEST(ImageFileTest, OneCorruptPageOfMultiPageTiffSparesTheOthers) {
  cv::Mat page = TextLikePage(400, 300);
  std::vector<uint8_t> bytes = WriteTiff({page, page, page}, COMPRESSION_LZW, false);
  // Find page 2's first strip and overwrite it with garbage.
  fs::path p = fs::temp_directory_path() / "acervo-corrupt-probe.tif";
  ASSERT_TRUE(WriteFileAtomic(p, bytes).ok());
  TIFF* t = TIFFOpen(p.c_str(), "r");
  ASSERT_TRUE(TIFFSetDirectory(t, 1));
  uint64_t* offsets = nullptr;
  ASSERT_TRUE(TIFFGetField(t, TIFFTAG_STRIPOFFSETS, &offsets));
  uint64_t off = offsets[0];
  TIFFClose(t);
  fs::remove(p);
  for (size_t i = 0; i < 40; ++i) bytes[off + i] = 0xFF;

  EXPECT_TRUE(DecodeImagePage(bytes, 0, "multi.tif").ok());
  Result<DecodedPage> bad = DecodeImagePage(bytes, 1, "multi.tif");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("multi.tif page 2"), std::string::npos)
      << bad.status().ToString();
  EXPECT_TRUE(DecodeImagePage(bytes, 2, "multi.tif").ok());
}

}  // namespace
}  // namespace acervo
