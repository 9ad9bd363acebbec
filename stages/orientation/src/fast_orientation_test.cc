#include "acervo/stages/orientation/fast_orientation.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "acervo/stages/orientation/orientation.h"
#include "acervo/stages/testing/corpus_pages.h"

#ifdef ACERVO_HAVE_SYNTH
#include "acervo/synth/synth.h"
#endif

namespace acervo {
namespace {

cv::Mat TurnedCcw(const cv::Mat& upright, int deg) {
  cv::Mat out;
  switch (deg) {
    case 90: cv::rotate(upright, out, cv::ROTATE_90_COUNTERCLOCKWISE); return out;
    case 180: cv::rotate(upright, out, cv::ROTATE_180); return out;
    case 270: cv::rotate(upright, out, cv::ROTATE_90_CLOCKWISE); return out;
    default: return upright.clone();
  }
}

#ifdef ACERVO_HAVE_SYNTH
// Generated pages with known orientation and skew: the detector must find
// each of the four turns alone (confident), whatever the skew and font size.
TEST(FastOrientationTest, GeneratedPagesAtFourTurnsAndSkews) {
  struct Case {
    double skew;
    double font_pt;
    double dpi;
  };
  const Case cases[] = {{0, 11, 300}, {4.5, 10, 300}, {-9, 12, 300}, {14, 9, 300}};
  uint64_t seed = 10;
  for (const Case& c : cases) {
    for (int deg : {0, 90, 180, 270}) {
      synth::PageSpec spec;
      spec.dpi = c.dpi;
      spec.seed = ++seed;
      spec.skew_deg = c.skew;
      spec.orientation_deg = deg;
      spec.blocks.push_back({"Certidão de nascimento lavrada no livro de registro, folha "
                             "quarenta e duas, pelo oficial do cartório da comarca de "
                             "Campinas, que a subscreve e dá fé pública do ato praticado.",
                             c.font_pt});
      // A page's worth of text (four paragraphs), as on a real document.
      for (int i = 0; i < 3; ++i) spec.blocks.push_back(spec.blocks[0]);
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      Result<FastOrientation> est =
          DetectOrientationFast(page->image, FastOrientationOptions(), c.dpi);
      ASSERT_TRUE(est.ok());
      EXPECT_TRUE(est->confident) << "skew " << c.skew << " turn " << deg;
      EXPECT_EQ(est->orientation_deg, deg)
          << "skew " << c.skew << " turn " << deg << " asc " << est->ascenders << " desc "
          << est->descenders << " h " << est->horizontal_votes << " v " << est->vertical_votes;
    }
  }
}

// Small type at low resolution (10 pt at 200 dpi: x-height ~9 px) may leave
// the fast detector unsure -- the stage then asks OSD -- but when it is
// confident it must be right.
TEST(FastOrientationTest, LowResolutionIsRightWhenConfident) {
  uint64_t seed = 100;
  for (double skew : {0.0, 4.5}) {
    for (int deg : {0, 90, 180, 270}) {
      synth::PageSpec spec;
      spec.dpi = 200;
      spec.seed = ++seed;
      spec.skew_deg = skew;
      spec.orientation_deg = deg;
      spec.blocks.push_back({"Certidão de nascimento lavrada no livro de registro, folha "
                             "quarenta e duas, pelo oficial do cartório da comarca de "
                             "Campinas, que a subscreve e dá fé pública do ato praticado.",
                             10});
      spec.blocks.push_back(spec.blocks[0]);
      Result<synth::SynthPage> page = synth::RenderPage(spec);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      Result<FastOrientation> est = DetectOrientationFast(page->image, FastOrientationOptions(), 200);
      ASSERT_TRUE(est.ok());
      if (est->confident) {
        EXPECT_EQ(est->orientation_deg, deg) << "skew " << skew << " turn " << deg;
      }
    }
  }
}
#endif

// Too little text to decide: never confident, so the stage falls back to
// OSD (which leaves such pages alone).
TEST(FastOrientationTest, LittleTextIsNeverConfident) {
  cv::Mat white(3508, 2480, CV_8UC1, cv::Scalar(255));
  cv::Mat word = white.clone();
  cv::putText(word, "Anexo 3", cv::Point(1100, 1700), cv::FONT_HERSHEY_COMPLEX, 1.4,
              cv::Scalar(0), 2, cv::LINE_AA);
  cv::Mat noise(3508, 2480, CV_8UC1);
  cv::randn(noise, 220, 25);
  cv::Mat stamp = white.clone();
  cv::circle(stamp, cv::Point(1200, 1500), 200, cv::Scalar(40), 12);
  for (const cv::Mat& img : {white, word, TurnedCcw(word, 180), TurnedCcw(word, 90), noise, stamp}) {
    Result<FastOrientation> est = DetectOrientationFast(img, FastOrientationOptions(), 300);
    ASSERT_TRUE(est.ok());
    EXPECT_FALSE(est->confident);
    EXPECT_EQ(est->orientation_deg, 0);
  }
  EXPECT_FALSE(DetectOrientationFast(cv::Mat(), FastOrientationOptions()).ok());
  FastOrientationOptions bad;
  bad.min_axis_margin = 0;
  EXPECT_EQ(DetectOrientationFast(white, bad).status().code(), StatusCode::kInvalidArgument);
}

// OCRmyPDF's cardinal.pdf (linn.png baked at 0, 90 CW, 180, 270 CW),
// rasterised with pdftoppm, each page further turned four ways: the stage's
// detection (fast detector, OSD when unsure) must find every turn.
TEST(FastOrientationTest, CorpusCardinalPdfAtFourTurns) {
  const std::filesystem::path corpus = ACERVO_CORPUS_DIR;
  if (corpus.empty()) GTEST_SKIP() << "SKIPPED: no shared corpus (ACERVO_CORPUS_DIR empty)";
  const std::filesystem::path pdf = corpus / "ocrmypdf-resources" / "cardinal.pdf";
  if (!std::filesystem::exists(pdf)) GTEST_SKIP() << "SKIPPED: " << pdf << " missing";
  const std::filesystem::path scratch =
      std::filesystem::temp_directory_path() / ("acervo-cardinal-" + std::to_string(::getpid()));
  Result<std::vector<cv::Mat>> pages = testing::RasterisePdf(pdf, 300, scratch);
  std::filesystem::remove_all(scratch);
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 4u);
  Result<std::unique_ptr<OrientationDetector>> osd = OrientationDetector::Create(OrientationOptions());
  ASSERT_TRUE(osd.ok());
  int fast = 0;
  for (size_t i = 0; i < pages->size(); ++i) {
    const int baked = static_cast<int>((360 - 90 * i) % 360);  // counter-clockwise
    for (int turn : {0, 90, 180, 270}) {
      const int expected = (baked + turn) % 360;
      Result<OrientationEstimate> est = DetectOrientationFastThenOsd(
          **osd, OrientationOptions(), TurnedCcw((*pages)[i], turn), 300);
      ASSERT_TRUE(est.ok());
      EXPECT_EQ(est->orientation_deg, expected) << "page " << i + 1 << " turned " << turn;
      fast += est->fast;
    }
  }
  // The fast detector alone decides most of them (OSD costs ~1 s each).
  EXPECT_GE(fast, 8);
}

}  // namespace
}  // namespace acervo
