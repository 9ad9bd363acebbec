#include "acervo/stages/split/split.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

const char* const kSentences[] = {
    "Livro de registro de escrituras, folha verso e folha frente, lavrado pelo tabeliao.",
    "Na presenca das testemunhas abaixo assinadas compareceram as partes interessadas.",
    "O imovel situado na rua das Flores, numero doze, foi transmitido por compra e venda.",
    "Pagou-se o imposto de transmissao conforme guia anexada ao processo administrativo.",
    "E por estarem justos e contratados, assinam o presente instrumento em duas vias.",
    "Certifico que a presente copia confere com o original arquivado neste cartorio."};

// A page of varied text (identical lines would line their word gaps up into
// false gutters).
cv::Mat Page(uint64_t seed, double width_mm = 210, double height_mm = 297) {
  synth::PageSpec spec;
  spec.dpi = 150;
  spec.seed = seed;
  spec.width_mm = width_mm;
  spec.height_mm = height_mm;
  std::string text;
  for (int i = 0; i < 30; ++i) text += std::string(kSentences[(i * 7 + seed) % 6]) + " ";
  spec.blocks.push_back({text});
  Result<synth::SynthPage> page = synth::RenderPage(spec);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->image : cv::Mat();
}

TEST(SplitTest, SpreadOfTwoGeneratedPagesSplitsInTheGutter) {
  cv::Mat left = Page(1), right = Page(2);
  cv::Mat spread;
  cv::hconcat(left, right, spread);
  Result<SpreadEstimate> est = DetectSpread(spread, SplitOptions(), 150);
  ASSERT_TRUE(est.ok());
  ASSERT_TRUE(est->is_spread) << "gutter ratio " << est->gutter_ratio;
  // Within the two pages' inner margins (25 mm each at 150 dpi = 148 px).
  EXPECT_NEAR(est->split_x, left.cols, 148);
  std::vector<cv::Mat> halves = SplitSpread(spread, *est);
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_EQ(halves[0].cols + halves[1].cols, spread.cols);

  // A single portrait page, and a landscape page of full-width lines, are not.
  Result<SpreadEstimate> single = DetectSpread(left, SplitOptions(), 150);
  ASSERT_TRUE(single.ok());
  EXPECT_FALSE(single->is_spread);
  cv::Mat wide = Page(3, 297, 210);
  Result<SpreadEstimate> landscape = DetectSpread(wide, SplitOptions(), 150);
  ASSERT_TRUE(landscape.ok());
  EXPECT_FALSE(landscape->is_spread) << landscape->gutter_ratio;
  EXPECT_FALSE(DetectSpread(cv::Mat(), SplitOptions()).ok());
}

// unpaper's --layout double inputs.
TEST(SplitTest, CorpusUnpaperSpreads) {
  const std::filesystem::path corpus = ACERVO_CORPUS_DIR;
  if (corpus.empty()) GTEST_SKIP() << "SKIPPED: no shared corpus (ACERVO_CORPUS_DIR empty)";
  int seen = 0;
  for (const char* f : {"imgsrcE001.png", "imgsrcE002.png", "imgsrcE003.png"}) {
    cv::Mat img = cv::imread((corpus / "unpaper-tests" / f).string(), cv::IMREAD_GRAYSCALE);
    if (img.empty()) continue;
    ++seen;
    Result<SpreadEstimate> est = DetectSpread(img, SplitOptions(), 300);
    ASSERT_TRUE(est.ok());
    EXPECT_TRUE(est->is_spread) << f << " ratio " << est->gutter_ratio;
    EXPECT_NEAR(est->split_x, img.cols / 2, img.cols / 8) << f;
  }
  if (seen == 0) GTEST_SKIP() << "SKIPPED: unpaper-tests missing from the corpus";
}

}  // namespace
}  // namespace acervo
