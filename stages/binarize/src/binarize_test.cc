#include "acervo/stages/binarize/binarize.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

// Share of the clean rendering's ink pixels that the binarised degraded page
// also has as ink, and share of its ink that is not in the clean rendering.
struct Agreement {
  double kept = 0;
  double extra = 0;
};

Agreement Compare(const cv::Mat& binary, const cv::Mat& clean_ink) {
  cv::Mat ink = binary == 0;
  // One pixel of tolerance: edges of a blurred stroke may fall either way.
  cv::Mat ink_grown, clean_grown;
  cv::dilate(ink, ink_grown, cv::Mat());
  cv::dilate(clean_ink, clean_grown, cv::Mat());
  Agreement a;
  a.kept = cv::countNonZero(clean_ink & ink_grown) / std::max(1.0, 1.0 * cv::countNonZero(clean_ink));
  a.extra = cv::countNonZero(ink & ~clean_grown) / std::max(1.0, 1.0 * cv::countNonZero(ink));
  return a;
}

TEST(BinarizeTest, KeepsThinStrokesAndDiacriticsOnUnevenPaper) {
  struct Case {
    const char* name;
    double font_pt;
    double bleed;
  };
  const Case cases[] = {{"9pt tinted", 9, 0}, {"7pt tinted", 7, 0}, {"9pt bleed-through", 9, 0.12}};
  for (const Case& c : cases) {
    synth::PageSpec spec;
    spec.dpi = 300;
    spec.specks = 0;
    spec.bleed_through = c.bleed;
    spec.blocks.push_back({"Ação, coração, início, índice, três, João, Piauí, ü ö ç ã õ é ï. "
                           "Processo n. 12/1987, folhas 3 a 7: certidão de óbito.",
                           c.font_pt});
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok());
    synth::PageSpec clean_spec = spec;
    clean_spec.paper_tint = false;
    clean_spec.noise_sigma = 0;
    clean_spec.blur_sigma = 0;
    clean_spec.bleed_through = 0;
    Result<synth::SynthPage> clean = synth::RenderPage(clean_spec);
    ASSERT_TRUE(clean.ok());
    cv::Mat clean_ink = clean->image < 128;

    Result<cv::Mat> bin = Binarize(page->image, BinarizeOptions(), spec.dpi);
    ASSERT_TRUE(bin.ok());
    ASSERT_EQ(bin->type(), CV_8UC1);
    Agreement a = Compare(*bin, clean_ink);
    EXPECT_GT(a.kept, 0.97) << c.name;
    EXPECT_LT(a.extra, 0.03) << c.name;
    // Every diacritic, dot and thin mark of the clean rendering (a component
    // under 0.8 mm) keeps at least a third of its pixels.
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(clean_ink, labels, stats, centroids, 8);
    cv::Mat ink = *bin == 0;
    cv::dilate(ink, ink, cv::Mat());
    const int small = static_cast<int>(0.8 * spec.dpi / 25.4);
    int marks = 0, lost = 0;
    for (int i = 1; i < n; ++i) {
      const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                         stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
      if (std::max(box.width, box.height) >= small) continue;
      ++marks;
      const cv::Mat mine = labels(box) == i;
      if (cv::countNonZero(ink(box) & mine) < cv::countNonZero(mine) / 3) ++lost;
    }
    EXPECT_GT(marks, 15) << c.name;
    EXPECT_EQ(lost, 0) << c.name << ": small marks lost";
  }
}

// Sauvola written the plain way (float box filters at half resolution, the
// threshold surface enlarged with cv::resize): Binarize computes the same
// thing in fused passes and must agree with it but for rounding.
cv::Mat ReferenceSauvola(const cv::Mat& gray, const BinarizeOptions& o, double dpi) {
  cv::Mat small;
  cv::resize(gray, small, cv::Size(gray.cols / 2, gray.rows / 2), 0, 0, cv::INTER_AREA);
  const int win = std::max(3, static_cast<int>(std::lround(o.window_mm * dpi / 25.4 / 2)) | 1);
  cv::Mat f, mean, sq;
  small.convertTo(f, CV_32F);
  cv::boxFilter(f, mean, CV_32F, cv::Size(win, win), cv::Point(-1, -1), true, cv::BORDER_REPLICATE);
  cv::boxFilter(f.mul(f), sq, CV_32F, cv::Size(win, win), cv::Point(-1, -1), true,
                cv::BORDER_REPLICATE);
  cv::Mat sd;
  cv::sqrt(cv::max(sq - mean.mul(mean), 0), sd);
  cv::Mat t = mean.mul(1.0 + o.k * (sd / o.r - 1.0));
  cv::Mat t8;
  t.convertTo(t8, CV_8U);
  cv::resize(t8, t8, gray.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat out;
  cv::compare(gray, t8, out, cv::CMP_GT);
  return out;
}

TEST(BinarizeTest, MatchesPlainSauvola) {
  for (int dpi : {200, 300, 600}) {
    synth::PageSpec spec;
    spec.dpi = dpi;
    spec.bleed_through = 0.1;
    spec.blocks.push_back({"Processo n. 12/1987, folhas 3 a 7: certidão de óbito. Ação, coração.", 9});
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok());
    // Odd sizes too: the 2x enlargement then covers one extra row/column.
    cv::Mat gray = page->image(cv::Rect(0, 0, page->image.cols - 1, page->image.rows - 1));
    for (const cv::Mat& img : {page->image, gray}) {
      Result<cv::Mat> bin = Binarize(img, BinarizeOptions(), dpi);
      ASSERT_TRUE(bin.ok());
      const cv::Mat ref = ReferenceSauvola(img, BinarizeOptions(), dpi);
      const int ink = cv::countNonZero(ref == 0);
      const int differ = cv::countNonZero(*bin != ref);
      EXPECT_GT(ink, 1000) << dpi;
      // Pixels within a level of their threshold may fall either way.
      EXPECT_LT(differ, ink / 100 + 10) << dpi << " dpi, " << img.cols << "x" << img.rows;
    }
  }
}

TEST(BinarizeTest, StageOnlyTouchesBwPages) {
  Result<std::unique_ptr<PageStage>> stage = BinarizeStage::Create(BinarizeOptions());
  ASSERT_TRUE(stage.ok());
  cv::Mat gray(400, 300, CV_8UC1, cv::Scalar(200));
  cv::putText(gray, "Abc", cv::Point(50, 200), cv::FONT_HERSHEY_SIMPLEX, 2, cv::Scalar(40), 3);
  for (ColorClass cc : {ColorClass::kBw, ColorClass::kGray}) {
    Page p;
    p.image = gray;
    p.color_class = cc;
    Result<Page> out = (*stage)->Run(std::move(p), PageContext());
    ASSERT_TRUE(out.ok());
    double lo, hi;
    cv::minMaxLoc(out->image, &lo, &hi);
    if (cc == ColorClass::kBw) {
      EXPECT_EQ(lo, 0);
      EXPECT_EQ(hi, 255);
      EXPECT_EQ(cv::countNonZero((out->image != 0) & (out->image != 255)), 0);
    } else {
      EXPECT_EQ(cv::norm(out->image, gray, cv::NORM_INF), 0);
    }
  }
  BinarizeOptions bad;
  bad.k = 0;
  EXPECT_EQ(BinarizeStage::Create(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Binarize(cv::Mat(), BinarizeOptions()).ok());
}

}  // namespace
}  // namespace acervo
