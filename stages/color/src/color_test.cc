#include "acervo/stages/color/color.h"

#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

cv::Mat Paper(cv::Scalar bgr = cv::Scalar(255, 255, 255)) {
  return cv::Mat(3508, 2480, CV_8UC3, bgr);
}

void Text(cv::Mat& page, cv::Scalar ink, int lines = 40) {
  for (int l = 0, y = 400; l < lines; ++l, y += 75) {
    cv::putText(page, "O processo foi arquivado na caixa numero doze", cv::Point(300, y),
                cv::FONT_HERSHEY_DUPLEX, 1.3, ink, 2, cv::LINE_AA);
  }
}

// Colour misregistration of a real scanner: red and blue 1 px off either way.
void Fringes(cv::Mat& page) {
  std::vector<cv::Mat> ch;
  cv::split(page, ch);
  cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, 1, 0, 1, 1);
  cv::warpAffine(ch[2], ch[2], m, page.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  m = (cv::Mat_<double>(2, 3) << 1, 0, -1, 0, 1, 0);
  cv::warpAffine(ch[0], ch[0], m, page.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::merge(ch, page);
}

struct Case {
  const char* name;
  std::function<cv::Mat()> make;
  std::vector<ColorClass> allowed;
};

TEST(ClassifyColorTest, Table) {
  using CC = ColorClass;
  const Case cases[] = {
      {"white", [] { return Paper(); }, {CC::kBw}},
      {"black text", [] { cv::Mat p = Paper(); Text(p, cv::Scalar(20, 20, 20)); return p; }, {CC::kBw}},
      {"gray text", [] { cv::Mat p = Paper(); Text(p, cv::Scalar(110, 110, 110)); return p; }, {CC::kBw, CC::kGray}},
      {"black text on yellowed paper",
       [] { cv::Mat p = Paper(cv::Scalar(185, 222, 240)); Text(p, cv::Scalar(30, 35, 40)); return p; },
       {CC::kBw}},
      {"black text with colour fringes",
       [] { cv::Mat p = Paper(); Text(p, cv::Scalar(15, 15, 15)); Fringes(p); return p; },
       {CC::kBw}},
      {"text and a red stamp",
       [] { cv::Mat p = Paper(); Text(p, cv::Scalar(20, 20, 20)); cv::circle(p, cv::Point(1800, 3000), 170, cv::Scalar(40, 40, 200), 8, cv::LINE_AA); return p; },
       {CC::kColor}},
      {"blue signature",
       [] { cv::Mat p = Paper(); Text(p, cv::Scalar(20, 20, 20), 10); cv::ellipse(p, cv::Point(1500, 2500), cv::Size(300, 60), 10, 0, 300, cv::Scalar(170, 60, 20), 5, cv::LINE_AA); return p; },
       {CC::kColor}},
      {"gray photograph",
       [] {
         cv::Mat p = Paper(); Text(p, cv::Scalar(20, 20, 20), 10);
         cv::Mat photo(900, 1200, CV_8UC1);
         for (int y = 0; y < photo.rows; ++y)
           for (int x = 0; x < photo.cols; ++x) photo.at<uint8_t>(y, x) = static_cast<uint8_t>(60 + 140.0 * x / photo.cols);
         cv::Mat bgr; cv::cvtColor(photo, bgr, cv::COLOR_GRAY2BGR);
         bgr.copyTo(p(cv::Rect(600, 1800, 1200, 900)));
         return p;
       },
       {CC::kGray}},
  };
  for (const Case& c : cases) {
    Result<ColorEstimate> est = ClassifyColor(c.make(), ColorOptions());
    ASSERT_TRUE(est.ok()) << c.name;
    EXPECT_NE(std::find(c.allowed.begin(), c.allowed.end(), est->color_class), c.allowed.end())
        << c.name << ": got " << ColorClassName(est->color_class) << " colour area "
        << est->color_area_mm2 << " mm2, gray fraction " << est->gray_fraction;
  }
}

TEST(ClassifyColorTest, GrayImageIsNeverColour) {
  cv::Mat p(3508, 2480, CV_8UC1, cv::Scalar(255));
  cv::rectangle(p, cv::Rect(500, 500, 800, 800), cv::Scalar(128), cv::FILLED);
  Result<ColorEstimate> est = ClassifyColor(p, ColorOptions());
  ASSERT_TRUE(est.ok());
  EXPECT_EQ(est->color_class, ColorClass::kGray);
}

TEST(ColorOptionsTest, RejectsBadValues) {
  struct Bad {
    const char* name;
    void (*edit)(ColorOptions&);
  };
  const Bad cases[] = {{"work_dpi", [](ColorOptions& o) { o.work_dpi = 10; }},
                       {"chroma", [](ColorOptions& o) { o.min_chroma = 0; }},
                       {"area", [](ColorOptions& o) { o.min_color_area_mm2 = 0; }},
                       {"gray", [](ColorOptions& o) { o.min_gray_fraction = 2; }}};
  for (const Bad& c : cases) {
    ColorOptions o;
    c.edit(o);
    EXPECT_EQ(ColorStage::Create(o).status().code(), StatusCode::kInvalidArgument) << c.name;
  }
  EXPECT_FALSE(ClassifyColor(cv::Mat(), ColorOptions()).ok());
}

TEST(ColorStageTest, ConvertsToGrayUnlessColour) {
  Result<std::unique_ptr<PageStage>> stage = ColorStage::Create(ColorOptions());
  ASSERT_TRUE(stage.ok());
  for (bool stamp : {false, true}) {
    Page page;
    page.image = Paper();
    Text(page.image, cv::Scalar(20, 20, 20), 10);
    if (stamp) cv::circle(page.image, cv::Point(1800, 3000), 170, cv::Scalar(40, 40, 200), 8);
    Result<Page> out = (*stage)->Run(std::move(page), PageContext());
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->color_class, stamp ? ColorClass::kColor : ColorClass::kBw);
    EXPECT_EQ(out->image.type(), stamp ? CV_8UC3 : CV_8UC1);
  }
}

// unpaper's colour-mode test pages say what they are.
TEST(ClassifyColorCorpusTest, UnpaperColourPages) {
  const std::filesystem::path corpus = ACERVO_CORPUS_DIR;
  if (corpus.empty()) GTEST_SKIP() << "no shared corpus";
  struct Real {
    const char* file;
    std::vector<ColorClass> allowed;
  };
  const Real cases[] = {{"unpaper-tests/imgsrc003.png", {ColorClass::kColor}},
                        {"unpaper-tests/imgsrc004.png", {ColorClass::kGray}},
                        {"unpaper-tests/imgsrc005.png", {ColorClass::kBw}},
                        {"tesseract-test/phototest.tif", {ColorClass::kBw}},
                        {"ptbr-dharma/doutrina_nacional.png", {ColorClass::kBw, ColorClass::kGray}}};
  for (const Real& c : cases) {
    cv::Mat img = cv::imread((corpus / c.file).string(), cv::IMREAD_COLOR);
    if (img.empty()) continue;
    Result<ColorEstimate> est = ClassifyColor(img, ColorOptions(), 150);
    ASSERT_TRUE(est.ok());
    EXPECT_NE(std::find(c.allowed.begin(), c.allowed.end(), est->color_class), c.allowed.end())
        << c.file << ": got " << ColorClassName(est->color_class) << " colour area "
        << est->color_area_mm2 << " gray fraction " << est->gray_fraction;
  }
}

}  // namespace
}  // namespace acervo
