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

}  // namespace
}  // namespace acervo
