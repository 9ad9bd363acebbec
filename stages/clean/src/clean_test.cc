#include "acervo/stages/clean/clean.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

constexpr double kDpi = 300;

synth::SynthPage Render(const char* text, int specks, uint64_t seed) {
  synth::PageSpec spec;
  spec.dpi = kDpi;
  spec.seed = seed;
  spec.specks = specks;
  if (text != nullptr) spec.blocks.push_back({text, 9});
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? *page : synth::SynthPage();
}

// NormalizeBackground interpolates the gain (255 / background) in one pass;
// it must agree with enlarging the 1/8-scale background and dividing (the
// plain way), gray and colour, on tinted, unevenly lit paper: paper ~255,
// ink kept.
TEST(CleanTest, NormalizeBackgroundMatchesPlainDivision) {
  synth::SynthPage page = Render("Processo n. 12/1987, folhas 3 a 7: certidão de óbito.", 0, 5);
  ASSERT_FALSE(page.image.empty());
  cv::Mat shade(page.image.size(), CV_32F);
  for (int y = 0; y < shade.rows; ++y) shade.row(y).setTo(0.75 + 0.25 * y / shade.rows);
  cv::Mat gray;
  cv::Mat f;
  page.image.convertTo(f, CV_32F);
  cv::multiply(f, shade, f);
  f.convertTo(gray, CV_8U);
  cv::Mat colour;
  cv::cvtColor(gray, colour, cv::COLOR_GRAY2BGR);
  colour.forEach<cv::Vec3b>([](cv::Vec3b& p, const int*) { p[0] = static_cast<uint8_t>(p[0] * 0.85); });
  // Also views with widths that are no multiple of the 16-byte vector step
  // (the scalar tail of each row) and rows that are not contiguous.
  const cv::Rect odd(0, 0, gray.cols - 5, gray.rows - 3);
  for (const cv::Mat& img : {gray, colour, gray(odd), colour(odd)}) {
    const cv::Mat out = NormalizeBackground(img);
    ASSERT_EQ(out.size(), img.size());
    ASSERT_EQ(out.type(), img.type());
    // The plain way, with the same 1/8-scale background.
    cv::Mat small = img;
    for (int i = 0; i < 3; ++i) cv::resize(small, small, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    cv::dilate(small, small, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
    cv::blur(small, small, cv::Size(5, 5));
    small = cv::max(small, cv::Scalar::all(1));
    cv::Mat bg, ref;
    cv::resize(small, bg, img.size(), 0, 0, cv::INTER_LINEAR);
    cv::divide(img, bg, ref, 255.0, CV_8U);
    cv::Mat diff;
    cv::absdiff(out, ref, diff);
    double max = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &max);
    EXPECT_LE(max, 3) << img.channels();
    EXPECT_LT(cv::mean(diff.reshape(1))[0], 0.3) << img.channels();
    // Paper is white after normalisation, whatever the shading.
    cv::Mat paper_mask = page.image(cv::Rect(0, 0, img.cols, img.rows)) > 200;
    const cv::Scalar paper = cv::mean(out, paper_mask);
    for (int c = 0; c < img.channels(); ++c) EXPECT_GT(paper[c], 245) << img.channels();
  }
}

// Diacritics, i-dots, full stops, colons and ellipses are as small as dust:
// none of them may be taken for a speck.
TEST(CleanTest, KeepsDiacriticsAndPunctuation) {
  const char* kText =
      "Ação, coração, informação: início, índice, pública; três... "
      "Conceição, João, José, Inês, Pará, Amapá, Piauí. i j ï ü ö ä ç ã õ é. "
      "Fls. 12-13: vide anexo i. ii. iii. Obs.: ver certidão; à época.";
  synth::SynthPage page = Render(kText, 0, 3);
  Result<std::vector<cv::Rect>> specks = FindSpecks(page.image, CleanOptions(), kDpi);
  ASSERT_TRUE(specks.ok());
  EXPECT_EQ(specks->size(), 0u);
}

TEST(CleanTest, FindsDustOnEmptyPaper) {
  struct Case {
    int specks;
    uint64_t seed;
  };
  for (const Case& c : {Case{40, 5}, Case{80, 6}}) {
    synth::SynthPage page = Render(nullptr, c.specks, c.seed);
    Result<std::vector<cv::Rect>> specks = FindSpecks(page.image, CleanOptions(), kDpi);
    ASSERT_TRUE(specks.ok());
    // The faintest generated specks are lighter than ink; most are found.
    EXPECT_GE(specks->size(), 0.7 * c.specks) << c.specks;
    EXPECT_LE(specks->size(), static_cast<size_t>(c.specks)) << c.specks;
  }
}

TEST(CleanTest, StageWhitensPaperAndErasesDust) {
  synth::SynthPage page = Render(nullptr, 60, 9);  // tinted, noisy paper
  Result<std::unique_ptr<PageStage>> stage = CleanStage::Create(CleanOptions());
  ASSERT_TRUE(stage.ok());
  Page p;
  p.image = page.image;
  p.dpi_x = p.dpi_y = kDpi;
  Result<Page> out = (*stage)->Run(std::move(p), PageContext());
  ASSERT_TRUE(out.ok());
  EXPECT_LT(cv::mean(page.image)[0], 245);
  EXPECT_GT(cv::mean(out->image)[0], 245);
  cv::Mat dark = out->image < 128;
  EXPECT_LT(cv::countNonZero(dark), 60 * 20) << "most dust erased";

  CleanOptions bad;
  bad.max_speck_mm = 0;
  EXPECT_EQ(CleanStage::Create(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(FindSpecks(cv::Mat(), CleanOptions()).ok());
}

// Evenly lit gray paper: the output is whitened, and OCR gets the page as it
// came in (Page::ocr_image). Unevenly lit paper: OCR reads the normalised
// page (no ocr_image), since there normalising is what lets it threshold.
TEST(CleanTest, EvenPaperLeavesTheUnnormalisedPageForOcr) {
  synth::PageSpec spec;
  spec.dpi = kDpi;
  spec.paper_tint = false;
  spec.specks = 0;
  spec.blocks.push_back({"Certidão de nascimento: página de exemplo com texto.", 11});
  Result<synth::SynthPage> clean = synth::RenderPage(spec);
  ASSERT_TRUE(clean.ok());
  cv::Mat even;
  clean->image.convertTo(even, CV_8U, 0.9);  // gray paper, ~230
  cv::Mat ramp(clean->image.size(), CV_32F);
  for (int x = 0; x < ramp.cols; ++x) ramp.col(x).setTo(0.6 + 0.35 * x / ramp.cols);
  cv::Mat uneven;
  cv::Mat as_float;
  clean->image.convertTo(as_float, CV_32F);
  cv::multiply(as_float, ramp, as_float);
  as_float.convertTo(uneven, CV_8U);  // a shadow deepening to the left

  Result<std::unique_ptr<PageStage>> stage = CleanStage::Create(CleanOptions());
  ASSERT_TRUE(stage.ok());
  auto run = [&](const cv::Mat& image) {
    Page p;
    p.image = image;
    p.dpi_x = p.dpi_y = kDpi;
    Result<Page> out = (*stage)->Run(std::move(p), PageContext());
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : Page();
  };
  Page e = run(even);
  EXPECT_GT(cv::mean(e.image)[0], 245);
  ASSERT_FALSE(e.ocr_image.empty());
  EXPECT_EQ(cv::norm(e.ocr_image, even, cv::NORM_INF), 0);
  Page u = run(uneven);
  EXPECT_GT(cv::mean(u.image)[0], 245);
  EXPECT_TRUE(u.ocr_image.empty());

  CleanOptions keep;
  keep.normalize_background = false;
  Result<std::unique_ptr<PageStage>> plain = CleanStage::Create(keep);
  ASSERT_TRUE(plain.ok());
  Page p;
  p.image = even;
  p.dpi_x = p.dpi_y = kDpi;
  Result<Page> out = (*plain)->Run(std::move(p), PageContext());
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->ocr_image.empty()) << "nothing changed for the output's sake";
}

// A colour page on cream paper: the stage whitens it for OCR and the PDF's
// text masks as any page, and leaves the paper's colour (Page::paper_tone)
// for the encoder to give the PDF back; with whiten_color, or on a gray
// page, there is none.
TEST(CleanTest, ColourPagesLeaveTheirPaperToneForThePdf) {
  synth::PageSpec spec;
  spec.dpi = kDpi;
  spec.paper_tint = false;  // white paper, so the colour page's is the cream below
  spec.specks = 0;
  spec.blocks.push_back({"Certidão de nascimento: página de exemplo com texto.", 11});
  Result<synth::SynthPage> gray = synth::RenderPage(spec);
  ASSERT_TRUE(gray.ok());
  const cv::Scalar cream(196, 226, 240);  // BGR
  cv::Mat colour;
  cv::cvtColor(gray->image, colour, cv::COLOR_GRAY2BGR);
  cv::multiply(colour, cream, colour, 1.0 / 255);
  auto run = [&](const cv::Mat& image, ColorClass cls, bool whiten) {
    CleanOptions options;
    options.whiten_color = whiten;
    Result<std::unique_ptr<PageStage>> stage = CleanStage::Create(options);
    EXPECT_TRUE(stage.ok());
    Page p;
    p.image = image;
    p.color_class = cls;
    p.dpi_x = p.dpi_y = kDpi;
    Result<Page> out = (*stage)->Run(std::move(p), PageContext());
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : Page();
  };
  const Page kept = run(colour, ColorClass::kColor, false);
  EXPECT_GT(cv::mean(kept.image)[1], 245) << "whitened for OCR and the masks";
  ASSERT_FALSE(kept.paper_tone.empty());
  EXPECT_EQ(kept.paper_tone.type(), CV_8UC3);
  const cv::Scalar tone = cv::mean(kept.paper_tone);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(tone[c], cream[c], 8) << "channel " << c;
  // The page OCR and the masks read is the same either way.
  const Page whitened = run(colour, ColorClass::kColor, true);
  EXPECT_TRUE(whitened.paper_tone.empty());
  EXPECT_EQ(cv::norm(whitened.image, kept.image, cv::NORM_INF), 0);
  EXPECT_TRUE(run(gray->image, ColorClass::kGray, false).paper_tone.empty());
}

}  // namespace
}  // namespace acervo
