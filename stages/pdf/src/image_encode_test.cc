#include "acervo/stages/pdf/image_encode.h"

#include <gtest/gtest.h>
#include <podofo/podofo.h>
#include <tiffio.h>

#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_tools.h"

namespace acervo {
namespace {

cv::Mat TextLikeGray(int w, int h) {
  cv::Mat m(h, w, CV_8UC1, cv::Scalar(235));  // paper is not pure white
  for (int y = 40; y + 30 < h; y += 60) {
    cv::putText(m, "Certidao de nascimento 1234", cv::Point(20, y + 25), cv::FONT_HERSHEY_SIMPLEX,
                0.9, cv::Scalar(30), 2);
  }
  return m;
}

// Decodes G4 strip bytes with libtiff (wrapped as a one-strip TIFF on disk),
// returning 0/255 pixels with 0 = black.
cv::Mat DecodeG4(const EncodedImage& e) {
  std::filesystem::path dir = testing::MakeTempDir("g4");
  std::string path = (dir / "t.tif").string();
  TIFF* t = TIFFOpen(path.c_str(), "w");
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(e.width));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(e.height));
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(e.height));
  TIFFWriteRawStrip(t, 0, const_cast<uint8_t*>(e.bytes.data()),
                    static_cast<tmsize_t>(e.bytes.size()));
  TIFFClose(t);
  t = TIFFOpen(path.c_str(), "r");
  const size_t row_bytes = (static_cast<size_t>(e.width) + 7) / 8;
  std::vector<uint8_t> packed(row_bytes * static_cast<size_t>(e.height));
  tmsize_t got = TIFFReadEncodedStrip(t, 0, packed.data(), static_cast<tmsize_t>(packed.size()));
  TIFFClose(t);
  std::filesystem::remove_all(dir);
  if (got != static_cast<tmsize_t>(packed.size())) return cv::Mat();
  cv::Mat out(e.height, e.width, CV_8UC1);
  for (int y = 0; y < e.height; ++y) {
    for (int x = 0; x < e.width; ++x) {
      bool black = packed[row_bytes * static_cast<size_t>(y) + static_cast<size_t>(x >> 3)] &
                   (0x80 >> (x & 7));
      out.at<uint8_t>(y, x) = black ? 0 : 255;
    }
  }
  return out;
}

std::vector<uint8_t> Inflate(const std::vector<uint8_t>& in) {
  std::unique_ptr<PoDoFo::PdfFilter> f(
      PoDoFo::PdfFilterFactory::Create(PoDoFo::ePdfFilter_FlateDecode));
  char* out = nullptr;
  PoDoFo::pdf_long len = 0;
  f->Decode(reinterpret_cast<const char*>(in.data()), static_cast<PoDoFo::pdf_long>(in.size()),
            &out, &len);
  std::vector<uint8_t> v(reinterpret_cast<uint8_t*>(out), reinterpret_cast<uint8_t*>(out) + len);
  PoDoFo::podofo_free(out);
  return v;
}

TEST(ImageEncodeStageTest, CreateRejectsBadQuality) {
  for (int q : {0, -5, 101}) {
    EncodeOptions o;
    o.jpeg_quality = q;
    auto s = ImageEncodeStage::Create(o);
    ASSERT_FALSE(s.ok()) << q;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  }
  auto ok = ImageEncodeStage::Create(EncodeOptions{});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->Name(), "encode");
  EXPECT_EQ((*ok)->Version(), 2);
}

// A scanned-looking gray page: text plus sensor noise, which JPEG compresses
// far better than Flate.
cv::Mat NoisyScan(int w, int h) {
  cv::Mat page = TextLikeGray(w, h);
  cv::Mat noise(page.size(), CV_16SC1);
  cv::randn(noise, 0, 12);
  cv::Mat out;
  page.convertTo(out, CV_16SC1);
  out += noise;
  out.convertTo(out, CV_8UC1);
  return out;
}

TEST(ImageEncodeStageTest, CodecByColorClass) {
  struct Case {
    ColorClass cls;
    bool lossless;
    int channels;
    EncodedImage::Codec codec;
    int components;
    int bpc;
  } cases[] = {
      {ColorClass::kBw, false, 1, EncodedImage::Codec::kCcittG4, 1, 1},
      {ColorClass::kBw, true, 1, EncodedImage::Codec::kCcittG4, 1, 1},
      {ColorClass::kBw, false, 3, EncodedImage::Codec::kCcittG4, 1, 1},
      {ColorClass::kGray, false, 1, EncodedImage::Codec::kJpeg, 1, 8},
      {ColorClass::kGray, false, 3, EncodedImage::Codec::kJpeg, 1, 8},
      {ColorClass::kGray, true, 1, EncodedImage::Codec::kFlate, 1, 8},
      {ColorClass::kColor, false, 3, EncodedImage::Codec::kJpeg, 3, 8},
      {ColorClass::kColor, true, 3, EncodedImage::Codec::kFlate, 3, 8},
      {ColorClass::kColor, false, 1, EncodedImage::Codec::kJpeg, 1, 8},
  };
  for (const Case& c : cases) {
    EncodeOptions o;
    o.lossless = c.lossless;
    auto stage = ImageEncodeStage::Create(o);
    ASSERT_TRUE(stage.ok());
    Page page;
    page.image = NoisyScan(400, 300);
    if (c.channels == 3) cv::cvtColor(page.image, page.image, cv::COLOR_GRAY2BGR);
    page.color_class = c.cls;
    Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    SCOPED_TRACE(std::string(ColorClassName(c.cls)) + (c.lossless ? " lossless" : ""));
    EXPECT_EQ(out->encoded.codec, c.codec);
    EXPECT_EQ(out->encoded.components, c.components);
    EXPECT_EQ(out->encoded.bits_per_component, c.bpc);
    EXPECT_EQ(out->encoded.width, 400);
    EXPECT_EQ(out->encoded.height, 300);
    EXPECT_FALSE(out->encoded.bytes.empty());
  }
}

// A flat digital render deflates smaller than it JPEG-compresses: the stage
// then keeps the lossless Flate, and never stores more bytes than the JPEG.
TEST(ImageEncodeStageTest, FlatPagesKeepTheSmallerLosslessEncoding) {
  auto stage = ImageEncodeStage::Create(EncodeOptions{});
  ASSERT_TRUE(stage.ok());
  struct Case { cv::Mat image; ColorClass cls; EncodedImage::Codec want; };
  cv::Mat flat_color(300, 400, CV_8UC3, cv::Scalar(240, 200, 30));
  cv::rectangle(flat_color, {50, 50, 200, 100}, cv::Scalar(20, 20, 200), cv::FILLED);
  cv::Mat noisy_color;
  cv::cvtColor(NoisyScan(400, 300), noisy_color, cv::COLOR_GRAY2BGR);
  cv::Mat tint(noisy_color.size(), CV_8UC3, cv::Scalar(0, 10, 30));
  noisy_color -= tint;
  for (const Case& c : {Case{TextLikeGray(400, 300), ColorClass::kGray, EncodedImage::Codec::kFlate},
                        Case{flat_color, ColorClass::kColor, EncodedImage::Codec::kFlate},
                        Case{NoisyScan(400, 300), ColorClass::kGray, EncodedImage::Codec::kJpeg},
                        Case{noisy_color, ColorClass::kColor, EncodedImage::Codec::kJpeg}}) {
    Page page;
    page.image = c.image;
    page.color_class = c.cls;
    Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->encoded.codec, c.want);
    Result<EncodedImage> jpeg = EncodeJpeg(c.image, EncodeOptions{}.jpeg_quality);
    ASSERT_TRUE(jpeg.ok());
    EXPECT_LE(out->encoded.bytes.size(), jpeg->bytes.size());
  }
}

TEST(ImageEncodeStageTest, RejectsBadImages) {
  auto stage = ImageEncodeStage::Create(EncodeOptions{});
  ASSERT_TRUE(stage.ok());
  for (cv::Mat m :
       {cv::Mat(), cv::Mat(10, 10, CV_16UC1, cv::Scalar(0)), cv::Mat(10, 10, CV_8UC4)}) {
    for (ColorClass cls : {ColorClass::kBw, ColorClass::kGray, ColorClass::kColor}) {
      Page page;
      page.image = m;
      page.color_class = cls;
      Result<Page> out = (*stage)->Run(std::move(page), PageContext{});
      ASSERT_FALSE(out.ok());
      EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << out.status().ToString();
    }
  }
}

TEST(BinarizeTest, BitonalKeptOtsuOtherwise) {
  cv::Mat bitonal(50, 80, CV_8UC1, cv::Scalar(255));
  cv::rectangle(bitonal, cv::Rect(10, 10, 30, 20), cv::Scalar(0), cv::FILLED);
  auto same = Binarize(bitonal);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(cv::countNonZero(*same != bitonal), 0);

  cv::Mat gray = TextLikeGray(300, 200);
  auto bw = Binarize(gray);
  ASSERT_TRUE(bw.ok());
  cv::Mat mid = (*bw != 0) & (*bw != 255);
  EXPECT_EQ(cv::countNonZero(mid), 0);
  // Ink (30) went black, paper (235) white.
  EXPECT_EQ(cv::countNonZero(*bw == 0), cv::countNonZero(gray < 128));
}

TEST(EncodeCcittG4Test, RoundTripsThroughLibtiff) {
  // Odd width exercises the padding bits of the last byte of each row.
  for (cv::Size size : {cv::Size(2480, 300), cv::Size(333, 77), cv::Size(1, 1)}) {
    cv::Mat bw(size, CV_8UC1, cv::Scalar(255));
    cv::putText(bw, "Conceicao", cv::Point(5, size.height - 5), cv::FONT_HERSHEY_SIMPLEX, 1.5,
                cv::Scalar(0), 3);
    cv::threshold(bw, bw, 128, 255, cv::THRESH_BINARY);
    auto g4 = EncodeCcittG4(bw);
    ASSERT_TRUE(g4.ok()) << g4.status().ToString();
    cv::Mat back = DecodeG4(*g4);
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(cv::countNonZero(back != bw), 0) << size;
  }
}

TEST(EncodeJpegTest, GrayAndColourDecodeBack) {
  cv::Mat gray = TextLikeGray(600, 400);
  auto g = EncodeJpeg(gray, 75);
  ASSERT_TRUE(g.ok());
  cv::Mat gback = cv::imdecode(g->bytes, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(gback.type(), CV_8UC1);
  EXPECT_LT(cv::norm(gback, gray, cv::NORM_L1) / gray.total(), 4.0);

  cv::Mat color(200, 300, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(color, cv::Rect(20, 20, 100, 100), cv::Scalar(0, 0, 255), cv::FILLED);  // red (BGR)
  auto c = EncodeJpeg(color, 75);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->components, 3);
  cv::Mat cback = cv::imdecode(c->bytes, cv::IMREAD_COLOR);
  cv::Vec3b px = cback.at<cv::Vec3b>(70, 70);
  EXPECT_GT(px[2], 200);  // still red
  EXPECT_LT(px[0], 50);
}

TEST(EncodeFlateTest, RawSamplesInRgbOrder) {
  cv::Mat color(3, 2, CV_8UC3, cv::Scalar(10, 20, 30));  // B=10 G=20 R=30
  auto f = EncodeFlate(color);
  ASSERT_TRUE(f.ok());
  std::vector<uint8_t> raw = Inflate(f->bytes);
  ASSERT_EQ(raw.size(), 18u);
  EXPECT_EQ(raw[0], 30);
  EXPECT_EQ(raw[1], 20);
  EXPECT_EQ(raw[2], 10);

  cv::Mat gray = TextLikeGray(50, 40);
  auto fg = EncodeFlate(gray);
  ASSERT_TRUE(fg.ok());
  std::vector<uint8_t> graw = Inflate(fg->bytes);
  ASSERT_EQ(graw.size(), gray.total());
  EXPECT_TRUE(std::equal(graw.begin(), graw.end(), gray.data));
}

}  // namespace
}  // namespace acervo
