#include "acervo/stages/border/border.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

synth::PageSpec TextSpec(uint64_t seed) {
  synth::PageSpec spec;
  spec.dpi = 200;
  spec.seed = seed;
  spec.blocks.push_back({"Processo administrativo numero 42, folha 3. O requerente "
                         "apresentou os documentos exigidos pelo edital de convocacao."});
  return spec;
}

// Darkest value in a band of `mm` along each edge of `img`.
double EdgeMin(const cv::Mat& img, double mm, double dpi) {
  const int b = std::max(1, static_cast<int>(mm * dpi / 25.4));
  double lo = 255, v;
  for (cv::Rect r : {cv::Rect(0, 0, img.cols, b), cv::Rect(0, img.rows - b, img.cols, b),
                     cv::Rect(0, 0, b, img.rows), cv::Rect(img.cols - b, 0, b, img.rows)}) {
    cv::minMaxLoc(img(r), &v);
    lo = std::min(lo, v);
  }
  return lo;
}

TEST(BorderTest, RemovesGeneratedBordersAndPunchHoles) {
  struct Case {
    const char* name;
    bool border, holes;
  };
  const Case cases[] = {{"border", true, false}, {"holes", false, true}, {"both", true, true}};
  uint64_t seed = 1;
  for (const Case& c : cases) {
    synth::PageSpec spec = TextSpec(++seed);
    spec.dark_border = c.border;
    spec.punch_holes = c.holes;
    spec.specks = 0;
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    Result<BorderEstimate> est = DetectBorder(page->image, BorderOptions(), spec.dpi);
    ASSERT_TRUE(est.ok()) << c.name;
    EXPECT_EQ(est->has_border(), c.border) << c.name;
    EXPECT_EQ(est->punch_holes.size(), c.holes ? 2u : 0u) << c.name;
    // The crop never eats more than the border (at most 8 mm a side).
    EXPECT_GT(est->crop.width, page->image.cols - 16 * spec.dpi / 25.4) << c.name;
    cv::Mat out = RemoveBorder(page->image, *est);
    // No dark pixel left in the outer 1 mm, nor in the hole column.
    EXPECT_GT(EdgeMin(out, 1, spec.dpi), 120) << c.name;
    double lo;
    cv::minMaxLoc(out(cv::Rect(0, 0, static_cast<int>(18 * spec.dpi / 25.4), out.rows)), &lo);
    EXPECT_GT(lo, 120) << c.name << ": something dark left in the left margin";
  }
}

// A dark platen corner along part of one edge (what a skewed sheet leaves
// after deskew): too short to crop, painted with the paper instead.
TEST(BorderTest, PaintsAPartialCornerStrip) {
  Result<synth::SynthPage> page = synth::RenderPage(TextSpec(11));
  ASSERT_TRUE(page.ok());
  cv::Mat img = page->image.clone();
  const int w = static_cast<int>(15 * 200 / 25.4);
  std::vector<cv::Point> wedge = {{0, 0}, {w, 0}, {w / 3, img.rows / 3}, {0, img.rows / 3}};
  cv::fillConvexPoly(img, wedge, cv::Scalar(20));
  Result<BorderEstimate> est = DetectBorder(img, BorderOptions(), 200);
  ASSERT_TRUE(est.ok());
  EXPECT_TRUE(est->has_border());
  cv::Mat out = RemoveBorder(img, *est);
  double lo;
  cv::minMaxLoc(out(cv::Rect(0, 0, w / 2, out.rows / 4)), &lo);
  EXPECT_GT(lo, 120);
  // The text is still there.
  EXPECT_LT(cv::mean(out)[0], cv::mean(cv::Mat(out.size(), CV_8UC1, cv::Scalar(250)))[0]);
}

TEST(BorderTest, CleanPageIsUntouchedAndBadInputRefused) {
  synth::PageSpec spec = TextSpec(7);
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  ASSERT_TRUE(page.ok());
  Result<std::unique_ptr<PageStage>> stage = BorderStage::Create(BorderOptions());
  ASSERT_TRUE(stage.ok());
  Page p;
  p.image = page->image;
  p.dpi_x = p.dpi_y = spec.dpi;
  Result<Page> out = (*stage)->Run(std::move(p), PageContext());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->image.size(), page->image.size());
  EXPECT_EQ(cv::norm(out->image, page->image, cv::NORM_INF), 0);

  EXPECT_FALSE(DetectBorder(cv::Mat(), BorderOptions()).ok());
  BorderOptions bad;
  bad.dark_fraction = 1.5;
  EXPECT_EQ(BorderStage::Create(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace acervo
