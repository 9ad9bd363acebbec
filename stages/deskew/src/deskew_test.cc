#include "acervo/stages/deskew/deskew.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

// A 300 dpi A4 page of Hershey text: many lines of lowercase words, like a
// letter. Deterministic for a given seed.
cv::Mat TextPage(uint64_t seed = 1, int lines = 40, double font_scale = 1.3) {
  static const char* kWords[] = {"processo", "documento", "arquivo", "de",
                                 "para", "com", "the", "quick", "brown",
                                 "fox", "jumps", "over", "lazy", "dog",
                                 "certidao", "registro", "folha", "anexo"};
  std::mt19937_64 rng(seed);
  cv::Mat page(3508, 2480, CV_8UC1, cv::Scalar(255));
  const int left = 295, right = 2480 - 295;
  int y = 400;
  for (int l = 0; l < lines && y < 3508 - 300; ++l, y += 70) {
    std::string line;
    int x = left;
    // The last line of a paragraph is short, as in real text.
    const int width = (l % 8 == 7) ? (right - left) / 3 : right - left;
    while (true) {
      std::string w = kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
      int base = 0;
      cv::Size sz = cv::getTextSize(w + " ", cv::FONT_HERSHEY_DUPLEX, font_scale, 2, &base);
      if (x + sz.width - left > width) break;
      cv::putText(page, w, cv::Point(x, y), cv::FONT_HERSHEY_DUPLEX, font_scale,
                  cv::Scalar(20), 2, cv::LINE_AA);
      x += sz.width;
    }
  }
  return page;
}

// Rotates the clean page the way a skewed sheet looks: content turned
// counter-clockwise by `deg`, paper-white corners.
cv::Mat Skewed(const cv::Mat& page, double deg) {
  return RotateImage(page, deg, RotateFill::kWhite, true);
}

TEST(DeskewOptionsTest, RejectsBadValues) {
  struct Case {
    const char* name;
    void (*edit)(DeskewOptions&);
  };
  const Case cases[] = {
      {"max_angle zero", [](DeskewOptions& o) { o.max_angle_deg = 0; }},
      {"max_angle 60", [](DeskewOptions& o) { o.max_angle_deg = 60; }},
      {"step zero", [](DeskewOptions& o) { o.coarse_step_deg = 0; }},
      {"work_dpi 10", [](DeskewOptions& o) { o.work_dpi = 10; }},
      {"margin 0.5", [](DeskewOptions& o) { o.margin_fraction = 0.5; }},
      {"confidence 2", [](DeskewOptions& o) { o.min_confidence = 2; }},
      {"big_skew negative", [](DeskewOptions& o) { o.big_skew_deg = -1; }},
  };
  for (const Case& c : cases) {
    DeskewOptions o;
    c.edit(o);
    EXPECT_EQ(DeskewStage::Create(o).status().code(), StatusCode::kInvalidArgument)
        << c.name;
  }
  EXPECT_TRUE(DeskewStage::Create(DeskewOptions()).ok());
}

TEST(DetectSkewTest, RejectsBadImages) {
  EXPECT_FALSE(DetectSkew(cv::Mat(), DeskewOptions()).ok());
  EXPECT_FALSE(DetectSkew(cv::Mat(100, 100, CV_32FC1), DeskewOptions()).ok());
}

TEST(DetectSkewTest, SyntheticAnglesWithinATenthOfADegree) {
  const cv::Mat page = TextPage();
  const double kAngles[] = {-15, -7.3, -2.5, -0.4, 0, 0.3, 1.7, 4.9, 10.2, 15};
  for (double angle : kAngles) {
    cv::Mat skewed = Skewed(page, angle);
    Result<SkewEstimate> est = DetectSkew(skewed, DeskewOptions());
    ASSERT_TRUE(est.ok()) << est.status().ToString();
    EXPECT_TRUE(est->enough_text) << angle;
    EXPECT_NEAR(est->angle_deg, angle, 0.1) << "true angle " << angle;
    EXPECT_GT(est->confidence, 0.3) << angle;
  }
}

TEST(DetectSkewTest, ColourAndOtherResolutions) {
  struct Case {
    double dpi;
    bool colour;
    double angle;
  };
  const Case cases[] = {{200, false, 3.3}, {600, false, -4.1}, {300, true, 2.2},
                        {200, true, -0.7}};
  const cv::Mat page = Skewed(TextPage(7), 0);
  for (const Case& c : cases) {
    cv::Mat img = Skewed(page, c.angle);
    if (c.dpi != 300) cv::resize(img, img, cv::Size(), c.dpi / 300, c.dpi / 300, cv::INTER_AREA);
    if (c.colour) cv::cvtColor(img, img, cv::COLOR_GRAY2BGR);
    Result<SkewEstimate> est = DetectSkew(img, DeskewOptions(), c.dpi);
    ASSERT_TRUE(est.ok());
    EXPECT_NEAR(est->angle_deg, c.angle, 0.1) << c.dpi << " dpi colour=" << c.colour;
  }
}

TEST(DetectSkewTest, NoisyTintedPage) {
  cv::Mat page = Skewed(TextPage(3), -3.7);
  cv::Mat noise(page.size(), CV_16SC1);
  cv::randn(noise, 0, 8);
  cv::Mat tinted;
  page.convertTo(tinted, CV_16SC1, 0.85, 20);
  tinted += noise;
  tinted.convertTo(page, CV_8UC1);
  Result<SkewEstimate> est = DetectSkew(page, DeskewOptions());
  ASSERT_TRUE(est.ok());
  EXPECT_NEAR(est->angle_deg, -3.7, 0.1);
}

TEST(DetectSkewTest, TooLittleTextIsNotRotated) {
  struct Case {
    const char* name;
    cv::Mat image;
  };
  cv::Mat white(3508, 2480, CV_8UC1, cv::Scalar(255));
  cv::Mat noise(3508, 2480, CV_8UC1);
  cv::randn(noise, 230, 6);
  cv::Mat dot = white.clone();
  cv::circle(dot, cv::Point(1200, 1700), 6, cv::Scalar(0), cv::FILLED);
  const Case cases[] = {{"white", white}, {"noise", noise}, {"one dot", dot}};
  for (const Case& c : cases) {
    Result<SkewEstimate> est = DetectSkew(c.image, DeskewOptions());
    ASSERT_TRUE(est.ok()) << c.name;
    EXPECT_FALSE(est->enough_text) << c.name;
    EXPECT_EQ(est->angle_deg, 0) << c.name;
  }
}

TEST(RotateImageTest, ThereAndBackIsAlmostIdentity) {
  const cv::Mat page = TextPage(5, 20);
  for (double deg : {-9.0, 0.5, 4.0}) {
    cv::Mat back = RotateImage(RotateImage(page, deg), -deg);
    ASSERT_EQ(back.size(), page.size());
    ASSERT_EQ(back.type(), page.type());
    // Compare away from the corners the first rotation cut off.
    cv::Rect inner(400, 400, page.cols - 800, page.rows - 800);
    cv::Mat diff;
    cv::absdiff(back(inner), page(inner), diff);
    EXPECT_LT(cv::mean(diff)[0], 3.0) << deg;
  }
}

TEST(RotateImageTest, PositiveAngleTurnsCounterClockwise) {
  // A horizontal bar right of centre must move up after a CCW rotation.
  cv::Mat img(401, 401, CV_8UC1, cv::Scalar(255));
  cv::rectangle(img, cv::Rect(300, 198, 80, 5), cv::Scalar(0), cv::FILLED);
  cv::Mat rot = RotateImage(img, 10, RotateFill::kWhite);
  cv::Moments m = cv::moments(255 - rot);
  EXPECT_LT(m.m01 / m.m00, 195);
  EXPECT_GT(m.m10 / m.m00, 300);
}

TEST(RotateImageTest, BackgroundFillMatchesPaper) {
  cv::Mat img(300, 200, CV_8UC3, cv::Scalar(200, 220, 230));
  cv::Mat rot = RotateImage(img, 10, RotateFill::kBackground, false);
  cv::Vec3b corner = rot.at<cv::Vec3b>(0, 0);
  EXPECT_EQ(corner, cv::Vec3b(200, 220, 230));
}

// The linear rotation of small angles has its own two-pass path (see
// deskew.cc); it must give what bilinear cv::warpAffine gives, up to
// rounding, for gray and colour, both signs, and around the rim (fill).
TEST(RotateImageTest, LinearTwoPassMatchesWarpAffine) {
  const cv::Mat gray = TextPage(7, 30);
  cv::Mat colour;
  cv::cvtColor(gray, colour, cv::COLOR_GRAY2BGR);
  // A coloured stamp, so channels differ.
  cv::circle(colour, cv::Point(1500, 2500), 200, cv::Scalar(40, 60, 210), 12);
  for (const cv::Mat* img : {&gray, static_cast<const cv::Mat*>(&colour)}) {
    for (double deg : {-9.7, -2.3, -0.07, 0.6, 4.9, 10.0}) {
      cv::Mat fast = RotateImage(*img, deg, RotateFill::kWhite, false);
      const cv::Point2f center(0.5f * (img->cols - 1), 0.5f * (img->rows - 1));
      cv::Mat ref;
      cv::warpAffine(*img, ref, cv::getRotationMatrix2D(center, deg, 1.0), img->size(),
                     cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(255));
      ASSERT_EQ(fast.size(), ref.size());
      ASSERT_EQ(fast.type(), ref.type());
      cv::Mat diff;
      cv::absdiff(fast, ref, diff);
      diff = diff.reshape(1);
      const double mean = cv::mean(diff)[0];
      double max = 0;
      cv::minMaxLoc(diff, nullptr, &max);
      // Not bit-identical: warpAffine quantises positions to 1/32 pixel
      // (up to ~6 levels on a stroke edge), and the two passes interpolate
      // each column at its own height, tan(angle) of a pixel apart from its
      // neighbour's (bilinear uses one height for both). Both are linear
      // interpolations of the same rotation; they differ only on edges.
      EXPECT_LT(mean, 0.3) << deg << " ch " << img->channels();
      EXPECT_LE(max, 24) << deg << " ch " << img->channels();
      cv::Mat big = diff > 8;
      EXPECT_LT(cv::countNonZero(big), static_cast<int>(diff.total() / 1000))
          << deg << " ch " << img->channels();
    }
  }
}

TEST(DeskewStageTest, SetsAngleRotatesAndFlags) {
  Result<std::unique_ptr<PageStage>> stage = DeskewStage::Create(DeskewOptions());
  ASSERT_TRUE(stage.ok());
  struct Case {
    double angle;
    bool big;
  };
  const cv::Mat clean = TextPage(11);
  for (Case c : {Case{2.0, false}, Case{-8.0, true}, Case{0.0, false}}) {
    Page page;
    page.image = Skewed(clean, c.angle);
    Result<Page> out = (*stage)->Run(std::move(page), PageContext());
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_NEAR(out->skew_deg, c.angle, 0.1);
    EXPECT_EQ(out->HasFlag("big_skew"), c.big) << c.angle;
    Result<SkewEstimate> again = DetectSkew(out->image, DeskewOptions());
    ASSERT_TRUE(again.ok());
    EXPECT_NEAR(again->angle_deg, 0, 0.1) << "after correcting " << c.angle;
    EXPECT_EQ(out->image.size(), clean.size());
  }
}

TEST(DeskewStageTest, BlankPageKeepsImage) {
  Result<std::unique_ptr<PageStage>> stage = DeskewStage::Create(DeskewOptions());
  ASSERT_TRUE(stage.ok());
  Page page;
  page.image = cv::Mat(3508, 2480, CV_8UC1, cv::Scalar(250));
  const uint8_t* data = page.image.data;
  Result<Page> out = (*stage)->Run(std::move(page), PageContext());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->skew_deg, 0);
  EXPECT_EQ(out->image.data, data);
}

// Real scans, rotated by known angles: the error is measured against the
// page's own residual skew (the detection on the unrotated page).
TEST(DetectSkewCorpusTest, RealPagesRotatedByKnownAngles) {
  const std::filesystem::path corpus = ACERVO_CORPUS_DIR;
  if (corpus.empty()) GTEST_SKIP() << "no shared corpus";
  struct Case {
    const char* file;
    double dpi;
  };
  const Case cases[] = {{"tesseract-test/8087_054.3B.tif", 300},
                        {"ptbr-dharma/doutrina_nacional.png", 300},
                        {"scribeocr-benchmark/deposition_02.png", 235},
                        {"scribeocr-benchmark/filing_01.png", 235}};
  const double kAngles[] = {-12.5, -6.1, -1.3, 0.7, 3.9, 9.4, 14.2};
  double sum_err = 0, max_err = 0;
  int n = 0;
  for (const Case& c : cases) {
    cv::Mat img = cv::imread((corpus / c.file).string(), cv::IMREAD_GRAYSCALE);
    if (img.empty()) continue;
    Result<SkewEstimate> base = DetectSkew(img, DeskewOptions(), c.dpi);
    ASSERT_TRUE(base.ok());
    ASSERT_TRUE(base->enough_text) << c.file;
    for (double a : kAngles) {
      Result<SkewEstimate> est = DetectSkew(RotateImage(img, a), DeskewOptions(), c.dpi);
      ASSERT_TRUE(est.ok());
      const double err = std::abs(est->angle_deg - (base->angle_deg + a));
      sum_err += err;
      max_err = std::max(max_err, err);
      ++n;
      EXPECT_LT(err, 0.3) << c.file << " rotated " << a;
    }
  }
  if (n == 0) GTEST_SKIP() << "corpus pages missing";
  std::printf("corpus deskew: %d cases, mean |err| %.3f, max %.3f deg\n", n, sum_err / n,
              max_err);
  EXPECT_LE(sum_err / n, 0.1);
}

}  // namespace
}  // namespace acervo
