#include "acervo/stages/pdf/image_encode.h"

#include <gtest/gtest.h>
#include <podofo/podofo.h>
#include <tiffio.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>
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
  EXPECT_EQ((*ok)->Version(), 6);
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
// (Mixed raster content is off here: it would take the text page, smaller
// still; MixedRasterTest covers it.)
TEST(ImageEncodeStageTest, FlatPagesKeepTheSmallerLosslessEncoding) {
  EncodeOptions no_mrc;
  no_mrc.mixed_raster = false;
  auto stage = ImageEncodeStage::Create(no_mrc);
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

// The JPEG header's facts: frame type (SOF0 = baseline sequential, which
// PDF/A-1 readers all decode), per-component sampling factors, and the
// number of symbols in each AC Huffman table.
struct JpegFacts {
  bool baseline = false;
  std::vector<std::pair<int, int>> sampling;  // (h, v) per component
  std::vector<int> ac_symbols;
};
JpegFacts ReadJpegFacts(const std::vector<uint8_t>& b) {
  JpegFacts f;
  size_t i = 2;
  while (i + 4 <= b.size() && b[i] == 0xFF) {
    const int marker = b[i + 1];
    const size_t len = static_cast<size_t>(b[i + 2]) << 8 | b[i + 3];
    const uint8_t* seg = b.data() + i + 4;
    if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {
      f.baseline = marker == 0xC0;
      for (int c = 0; c < seg[5]; ++c) f.sampling.push_back({seg[7 + 3 * c] >> 4, seg[7 + 3 * c] & 15});
    } else if (marker == 0xC4) {
      size_t j = 0;
      while (j + 17 <= len - 2) {
        const int cls = seg[j] >> 4;
        int n = 0;
        for (int k = 1; k <= 16; ++k) n += seg[j + k];
        if (cls == 1) f.ac_symbols.push_back(n);
        j += 17 + static_cast<size_t>(n);
      }
    } else if (marker == 0xDA) {
      break;
    }
    i += 2 + len;
  }
  return f;
}

// Colour pages: YCbCr with 4:2:0 chroma (luma 2x2, chroma 1x1), baseline,
// with Huffman tables built for the image (libjpeg's standard AC tables hold
// all 162 symbols; optimised ones only those used).
TEST(EncodeJpegTest, ColourIs420BaselineWithOptimisedTables) {
  cv::Mat color;
  cv::cvtColor(NoisyScan(640, 480), color, cv::COLOR_GRAY2BGR);
  cv::circle(color, cv::Point(320, 240), 80, cv::Scalar(30, 30, 200), 8);
  auto c = EncodeJpeg(color, 75);
  ASSERT_TRUE(c.ok());
  JpegFacts f = ReadJpegFacts(c->bytes);
  EXPECT_TRUE(f.baseline);
  EXPECT_EQ(f.sampling, (std::vector<std::pair<int, int>>{{2, 2}, {1, 1}, {1, 1}}));
  ASSERT_FALSE(f.ac_symbols.empty());
  for (int n : f.ac_symbols) EXPECT_LT(n, 162);

  auto g = EncodeJpeg(NoisyScan(640, 480), 75);
  ASSERT_TRUE(g.ok());
  JpegFacts gf = ReadJpegFacts(g->bytes);
  EXPECT_TRUE(gf.baseline);
  EXPECT_EQ(gf.sampling, (std::vector<std::pair<int, int>>{{1, 1}}));
}

// A text page on tinted paper with mild noise, in gray or colour (blue ink,
// red stamp, cream paper).
cv::Mat TintedTextPage(bool colour) {
  cv::Mat text = TextLikeGray(900, 600);
  cv::Mat ink = text < 128;
  cv::Mat page;
  if (colour) {
    page = cv::Mat(text.size(), CV_8UC3, cv::Scalar(205, 235, 245));
    page.setTo(cv::Scalar(140, 40, 20), ink);
    cv::circle(page, cv::Point(700, 400), 90, cv::Scalar(40, 30, 200), 7);
  } else {
    page = cv::Mat(text.size(), CV_8UC1, cv::Scalar(225));
    page.setTo(35, ink);
  }
  cv::Mat noise(page.size(), CV_MAKETYPE(CV_16S, page.channels()));
  cv::randn(noise, 0, 2);
  cv::Mat noisy;
  page.convertTo(noisy, CV_MAKETYPE(CV_16S, page.channels()));
  noisy += noise;
  noisy.convertTo(page, page.type());
  return page;
}

// `image` through the encode stage with default options, as a gray or
// colour page.
Result<Page> EncodeWithStage(const cv::Mat& image, bool colour) {
  ACERVO_ASSIGN_OR_RETURN(std::unique_ptr<PageStage> stage, ImageEncodeStage::Create(EncodeOptions{}));
  Page page;
  page.image = image;
  page.color_class = colour ? ColorClass::kColor : ColorClass::kGray;
  return stage->Run(std::move(page), PageContext{});
}

// Text on plain paper becomes mixed raster content: much smaller than the
// JPEG, with a full-resolution mask, reduced background and foreground, and
// a rebuilt page within the fidelity bounds (paper, ink and the red stamp
// keep their colours).
TEST(MixedRasterTest, TextOnPaperIsSmallAndFaithful) {
  for (bool colour : {false, true}) {
    SCOPED_TRACE(colour ? "colour" : "gray");
    const cv::Mat image = TintedTextPage(colour);
    Result<Page> out = EncodeWithStage(image, colour);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const EncodedImage& e = out->encoded;
    ASSERT_EQ(e.codec, EncodedImage::Codec::kMixedRaster);
    EXPECT_EQ(e.width, 900);
    EXPECT_EQ(e.height, 600);
    EXPECT_EQ(e.components, colour ? 3 : 1);
    auto jpeg = EncodeJpeg(image, EncodeOptions{}.jpeg_quality);
    ASSERT_TRUE(jpeg.ok());
    EXPECT_LT(e.bytes.size() * 3, jpeg->bytes.size());

    Result<MixedRasterLayers> layers = UnpackMixedRaster(e);
    ASSERT_TRUE(layers.ok()) << layers.status().ToString();
    EXPECT_EQ(layers->mask.width, 900);
    EXPECT_EQ(layers->background.width, 300);
    EXPECT_EQ(layers->foreground.width, 113);
    // The mask is the ink, pixel for pixel at full resolution.
    cv::Mat mask = DecodeG4(layers->mask);
    ASSERT_EQ(mask.size(), image.size());
    cv::Mat gray = image;
    if (colour) cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    EXPECT_LT(cv::countNonZero((mask == 0) != (gray < 128)), 50);

    Result<cv::Mat> rebuilt = RenderMixedRaster(*layers);
    ASSERT_TRUE(rebuilt.ok());
    const MixedRasterOptions bounds;
    const MixedRasterError err =
        MixedRasterFidelity(image, *rebuilt, mask == 0, bounds.max_tile_error);
    EXPECT_LE(err.share_over, bounds.max_share_over);
    EXPECT_LE(err.worst_tile, bounds.max_any_tile_error);
    EXPECT_LE(err.mean, bounds.max_mean_error);
    if (colour) {
      const cv::Vec3b stamp = rebuilt->at<cv::Vec3b>(400, 790);  // on the ring
      EXPECT_GT(stamp[2], 150);
      EXPECT_LT(stamp[0], 90);
      const cv::Vec3b paper = rebuilt->at<cv::Vec3b>(590, 5);
      EXPECT_NEAR(paper[0], 205, 8);
      EXPECT_NEAR(paper[2], 245, 8);
    }

    // Packing is lossless and the same layers come back.
    EncodedImage repacked = PackMixedRaster(*layers);
    EXPECT_TRUE(repacked.bytes == e.bytes);
  }
}

// A colour page whose paper the clean stage whitened (Page::paper_tone set:
// cream, darkening to the left) is encoded in the scan's colours: the PDF's
// paper is the scan's, not white, and the page the stage leaves is the scan
// again; the text masks are those of the whitened page, which OCR read.
TEST(MixedRasterTest, ColourPagesGetTheirPaperToneBack) {
  const cv::Mat flat = TintedTextPage(true);  // cream paper (205, 235, 245)
  cv::Mat tone(flat.rows / 8, flat.cols / 8, CV_8UC3);
  for (int x = 0; x < tone.cols; ++x) {
    tone.col(x).setTo(cv::Scalar(205, 235, 245) * (0.8 + 0.2 * x / (tone.cols - 1)));
  }
  cv::Mat tone_up, scan, whitened;
  cv::resize(tone, tone_up, flat.size(), 0, 0, cv::INTER_LINEAR);
  {
    // The paper's shading on the page: the tone over the cream.
    cv::Mat f, shade;
    tone_up.convertTo(shade, CV_32FC3);
    cv::divide(shade, cv::Scalar(205, 235, 245), shade);
    flat.convertTo(f, CV_32FC3);
    cv::multiply(f, shade, f);
    f.convertTo(scan, CV_8UC3);
  }
  cv::divide(scan, tone_up, whitened, 255.0);      // what the clean stage makes of it
  EXPECT_GE(whitened.at<cv::Vec3b>(590, 5)[0], 250);

  Result<std::unique_ptr<PageStage>> stage = ImageEncodeStage::Create(EncodeOptions{});
  ASSERT_TRUE(stage.ok());
  const cv::Mat kept = whitened.clone();
  auto encode = [&](cv::Mat image) {
    Page page;
    page.image = std::move(image);
    page.paper_tone = tone;
    page.color_class = ColorClass::kColor;
    return (*stage)->Run(std::move(page), PageContext{});
  };
  // The page held by nobody else is toned in place, one still held (here
  // by `whitened`) is copied and left as it was.
  Result<Page> sole = encode(whitened.clone());
  Result<Page> out = encode(whitened);
  ASSERT_TRUE(sole.ok()) << sole.status().ToString();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(cv::norm(whitened, kept, cv::NORM_INF), 0);
  EXPECT_TRUE(sole->encoded.bytes == out->encoded.bytes);
  EXPECT_EQ(cv::norm(sole->image, out->image, cv::NORM_INF), 0);
  EXPECT_TRUE(out->paper_tone.empty()) << "the image has its tone now";
  cv::Mat diff;
  cv::absdiff(out->image, scan, diff);
  EXPECT_LT(cv::mean(diff.reshape(1))[0], 1.5) << "the page is the scan again";
  ASSERT_EQ(out->encoded.codec, EncodedImage::Codec::kMixedRaster);
  Result<MixedRasterLayers> layers = UnpackMixedRaster(out->encoded);
  ASSERT_TRUE(layers.ok()) << layers.status().ToString();
  Result<cv::Mat> rebuilt = RenderMixedRaster(*layers);
  ASSERT_TRUE(rebuilt.ok());
  for (const cv::Point at : {cv::Point(5, 590), cv::Point(450, 590), cv::Point(890, 590)}) {
    const cv::Vec3b want = scan.at<cv::Vec3b>(at), got = rebuilt->at<cv::Vec3b>(at);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], want[c], 8) << "paper at " << at << ", channel " << c;
  }
  // The masks are split from the whitened page.
  auto from_whitened = EncodeMixedRaster(whitened, MixedRasterOptions{}, SIZE_MAX);
  ASSERT_TRUE(from_whitened.ok() && from_whitened->has_value());
  Result<MixedRasterLayers> whitened_layers = UnpackMixedRaster(**from_whitened);
  ASSERT_TRUE(whitened_layers.ok());
  EXPECT_TRUE(layers->mask.bytes == whitened_layers->mask.bytes);
  EXPECT_TRUE(layers->edge_mask.bytes == whitened_layers->edge_mask.bytes);
  // Without a tone the image is left as it is.
  EXPECT_EQ(ApplyPaperTone(whitened, cv::Mat()).data, whitened.data);
}

// PSNR in dB of `b` against `a` over every pixel and channel.
double Psnr(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  diff = diff.reshape(1);
  diff.convertTo(diff, CV_32F);
  return 10.0 * std::log10(255.0 * 255.0 / std::max(1e-9, cv::mean(diff.mul(diff))[0]));
}

// A scanner's letters have soft edges: each stroke edge is a ramp of greys
// one to two pixels wide between ink and paper, which a bitonal mask rounds
// to one or the other. The edge tones keep the middle of the ramp: the page
// rebuilt from the layers comes within ~30 dB of the scan (edges included)
// where ink and paper masks alone stay near 26 dB, and the edge tones fit
// in a second G4 mask nested in the ink's (no more than the ink mask's own
// bytes again). Pages packed without edge tones (version 2, a journal
// written before them) still unpack and render.
TEST(MixedRasterTest, EdgeTonesKeepTheAntiAliasingRamp) {
  for (bool colour : {false, true}) {
    SCOPED_TRACE(colour ? "colour" : "gray");
    cv::Mat image = TintedTextPage(colour);
    cv::GaussianBlur(image, image, cv::Size(0, 0), 0.8);
    Result<Page> out = EncodeWithStage(image, colour);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->encoded.codec, EncodedImage::Codec::kMixedRaster);
    Result<MixedRasterLayers> layers = UnpackMixedRaster(out->encoded);
    ASSERT_TRUE(layers.ok()) << layers.status().ToString();
    ASSERT_TRUE(layers->has_edge());
    EXPECT_EQ(layers->edge_mask.width, 900);
    EXPECT_EQ(layers->edge.width, layers->foreground.width);
    EXPECT_EQ(layers->edge.components, colour ? 3 : 1);
    EXPECT_LE(layers->edge_mask.bytes.size(), 2 * layers->mask.bytes.size());
    // Nested: every ink pixel is inside the edge mask as well.
    const cv::Mat ink = DecodeG4(layers->mask) == 0, ink_and_edge = DecodeG4(layers->edge_mask) == 0;
    EXPECT_EQ(cv::countNonZero(ink & ~ink_and_edge), 0);
    EXPECT_GT(cv::countNonZero(ink_and_edge & ~ink), cv::countNonZero(ink) / 10);
    Result<cv::Mat> with_edges = RenderMixedRaster(*layers);
    ASSERT_TRUE(with_edges.ok());

    MixedRasterOptions off;
    off.edge_tones = false;
    auto plain = EncodeMixedRaster(image, off, SIZE_MAX);
    ASSERT_TRUE(plain.ok() && plain->has_value());
    Result<MixedRasterLayers> plain_layers = UnpackMixedRaster(**plain);
    ASSERT_TRUE(plain_layers.ok());
    EXPECT_FALSE(plain_layers->has_edge());
    EXPECT_EQ((*plain)->bytes[4], 2);  // the version-2 layout, as before edge tones
    Result<cv::Mat> without_edges = RenderMixedRaster(*plain_layers);
    ASSERT_TRUE(without_edges.ok());

    const double psnr_with = Psnr(image, *with_edges), psnr_without = Psnr(image, *without_edges);
    EXPECT_GT(psnr_with, psnr_without + 2.5) << psnr_with << " vs " << psnr_without;
    EXPECT_GT(psnr_with, 29.0);
    auto jpeg = EncodeJpeg(image, EncodeOptions{}.jpeg_quality);
    ASSERT_TRUE(jpeg.ok());
    EXPECT_LT(out->encoded.bytes.size() * 2, jpeg->bytes.size());
  }
}

// What is not text on paper keeps the single image: a photograph-like page
// (smooth shading with texture), and any page when mixed_raster is off.
TEST(MixedRasterTest, PhotosAndSwitchedOffStayJpeg) {
  cv::Mat photo(600, 900, CV_8UC1);
  for (int y = 0; y < photo.rows; ++y) {
    for (int x = 0; x < photo.cols; ++x) {
      photo.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(
          128 + 90 * std::sin(x / 40.0) * std::cos(y / 55.0) + ((x * 7 + y * 13) % 23));
    }
  }
  auto on = ImageEncodeStage::Create(EncodeOptions{});
  EncodeOptions off_options;
  off_options.mixed_raster = false;
  auto off = ImageEncodeStage::Create(off_options);
  ASSERT_TRUE(on.ok() && off.ok());
  struct Case { PageStage* stage; cv::Mat image; };
  for (const Case& c : {Case{on->get(), photo}, Case{off->get(), TintedTextPage(false)}}) {
    Page page;
    page.image = c.image;
    page.color_class = ColorClass::kGray;
    Result<Page> out = c.stage->Run(std::move(page), PageContext{});
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->encoded.codec, EncodedImage::Codec::kJpeg);
  }
  Result<std::optional<EncodedImage>> direct = EncodeMixedRaster(photo, MixedRasterOptions{}, SIZE_MAX);
  ASSERT_TRUE(direct.ok());
  EXPECT_FALSE(direct->has_value());
}

TEST(MixedRasterTest, BadInputIsRefused) {
  MixedRasterOptions bad;
  bad.background_scale = 0;
  auto r = EncodeMixedRaster(TintedTextPage(false), bad, SIZE_MAX);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);

  auto good = EncodeMixedRaster(TintedTextPage(true), MixedRasterOptions{}, SIZE_MAX);
  ASSERT_TRUE(good.ok() && good->has_value());
  const EncodedImage& e = **good;
  EncodedImage truncated = e;
  truncated.bytes.resize(truncated.bytes.size() - 10);
  EncodedImage wrong_codec = e;
  wrong_codec.codec = EncodedImage::Codec::kJpeg;
  EncodedImage bad_magic = e;
  bad_magic.bytes[0] = 'X';
  EncodedImage too_small = e;
  too_small.width = 10;  // background wider than the page
  for (const EncodedImage& broken : {truncated, wrong_codec, bad_magic, too_small}) {
    Result<MixedRasterLayers> l = UnpackMixedRaster(broken);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.status().code(), StatusCode::kCorrupt);
  }
  // A layer whose bytes are not a JPEG fails when rendered.
  Result<MixedRasterLayers> l = UnpackMixedRaster(e);
  ASSERT_TRUE(l.ok());
  l->background.bytes.assign(l->background.bytes.size(), 0x42);
  Result<cv::Mat> rendered = RenderMixedRaster(*l);
  ASSERT_FALSE(rendered.ok());
  EXPECT_EQ(rendered.status().code(), StatusCode::kCorrupt);
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
