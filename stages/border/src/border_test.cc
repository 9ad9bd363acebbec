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

// Large bold type near an edge (a receipt's or a letterhead's name, a
// heading): its round lowercase letters are filled dark discs of 3.5-10 mm
// once the opening has taken the thin strokes, as punch holes are, but a hole
// is dark all through and a letter has its counters and the gaps between its
// strokes. The page's punch holes are still found. Bold 24-30 pt sans near
// the top, at 150, 200 and 300 dpi (the corpus receipt: "Bernal Cutlery" read
// "Br IC try" with its e, n, a, u painted out).
TEST(BorderTest, BoldHeadingNearAnEdgeIsNoPunchHole) {
  uint64_t seed = 40;
  for (double dpi : {150.0, 200.0, 300.0}) {
    for (double pt : {24.0, 30.0}) {
      for (bool holes : {false, true}) {
        synth::PageSpec spec;
        spec.dpi = dpi;
        spec.seed = ++seed;
        spec.width_mm = 90;
        spec.height_mm = 160;
        spec.margin_mm = 6;
        spec.font_family = "DejaVu Sans";
        spec.specks = 0;
        spec.punch_holes = holes;
        spec.blocks.push_back({"Bernal Cutlery", pt, true, true});
        spec.blocks.push_back({"766 Valencia Street\nSan Francisco, CA\nORDER 88428", 10, false, true});
        Result<synth::SynthPage> page = synth::RenderPage(spec);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        Result<BorderEstimate> est = DetectBorder(page->image, BorderOptions(), dpi);
        ASSERT_TRUE(est.ok());
        const std::string what = std::to_string(dpi) + " dpi, " + std::to_string(pt) + " pt";
        EXPECT_EQ(est->punch_holes.size(), holes ? 2u : 0u) << what;
        // The heading's ink is all still there.
        const cv::Rect top(0, 0, page->image.cols, static_cast<int>(20 * dpi / 25.4));
        cv::Mat out = RemoveBorder(page->image, *est);
        ASSERT_EQ(out.size(), page->image.size()) << what;
        EXPECT_EQ(cv::countNonZero(out(top) < 128), cv::countNonZero(page->image(top) < 128)) << what;
      }
    }
  }
}

// Light lettering on a dark box near an edge (a letterhead's logo: the
// corpus's white "EQUITY RESEARCH" on a dark halftone): the dark counter of
// a large light O is a filled disc of a hole's size, dark all through, but
// it lies inside the letter's light ring and the box, not on paper. The
// page's punch holes are still found.
TEST(BorderTest, DarkCounterOfLightLetterOnADarkBoxIsNoPunchHole) {
  uint64_t seed = 60;
  for (double dpi : {150.0, 300.0}) {
    for (bool holes : {false, true}) {
      synth::PageSpec spec = TextSpec(++seed);
      spec.dpi = dpi;
      spec.specks = 0;
      spec.punch_holes = holes;
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      cv::Mat img = page->image.clone();
      const double px_mm = dpi / 25.4;
      // A 60 x 20 mm dark box 6 mm from the top, 120 mm from the left; an
      // O of 12 x 14 mm, its stroke 2 mm, white in it.
      const cv::Rect box(static_cast<int>(120 * px_mm), static_cast<int>(6 * px_mm), static_cast<int>(60 * px_mm),
                         static_cast<int>(20 * px_mm));
      cv::rectangle(img, box, cv::Scalar(45), cv::FILLED);
      const cv::Point c(box.x + static_cast<int>(15 * px_mm), box.y + box.height / 2);
      cv::ellipse(img, c, cv::Size(static_cast<int>(5 * px_mm), static_cast<int>(6 * px_mm)), 0, 0, 360,
                  cv::Scalar(235), static_cast<int>(2 * px_mm));
      Result<BorderEstimate> est = DetectBorder(img, BorderOptions(), dpi);
      ASSERT_TRUE(est.ok());
      EXPECT_EQ(est->punch_holes.size(), holes ? 2u : 0u) << dpi << " dpi";
      cv::Mat out = RemoveBorder(img, *est);
      ASSERT_EQ(out.size(), img.size());
      EXPECT_EQ(cv::norm(out(box), img(box), cv::NORM_INF), 0) << dpi << " dpi: the box was painted";
    }
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

// RemoveBorder paints the leftover mask run by run; it must paint exactly
// the pixels an INTER_NEAREST enlargement of the mask marks, for scales that
// are and are not whole numbers, and with a crop.
TEST(BorderTest, LeftoverPaintingMatchesEnlargedMask) {
  for (cv::Size full : {cv::Size(2480, 3508), cv::Size(1654, 2339)}) {
    BorderEstimate est;
    est.image_size = full;
    est.crop = cv::Rect(13, 7, full.width - 40, full.height - 30);
    est.paper = cv::Scalar(230);
    est.leftover = cv::Mat::zeros(cv::Size(620, 877), CV_8U);
    cv::rectangle(est.leftover, cv::Rect(0, 0, 9, 300), cv::Scalar(255), cv::FILLED);
    cv::circle(est.leftover, cv::Point(600, 860), 25, cv::Scalar(255), cv::FILLED);
    cv::line(est.leftover, cv::Point(100, 3), cv::Point(400, 20), cv::Scalar(255), 2);
    const cv::Mat img(full, CV_8UC1, cv::Scalar(40));
    const cv::Mat out = RemoveBorder(img, est);
    cv::Mat mask;
    cv::resize(est.leftover, mask, full, 0, 0, cv::INTER_NEAREST);
    cv::Mat ref = img(est.crop).clone();
    ref.setTo(est.paper, mask(est.crop));
    EXPECT_EQ(cv::norm(out, ref, cv::NORM_L1), 0) << full;
  }
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
