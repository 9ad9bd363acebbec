// Deskew on pages from the synthetic-scan generator: real fonts (cairo),
// Portuguese text, paper tint, noise, specks and blur, skewed by exact known
// angles. The generator's sign convention is the stage's: positive means the
// content is turned counter-clockwise.
#include <gtest/gtest.h>

#include "acervo/stages/deskew/deskew.h"
#include "acervo/synth/synth.h"

namespace acervo {
namespace {

const char kParagraph[] =
    "Certifico, a requerimento da parte interessada, que revendo os autos do processo "
    "0004821-10.2023.8.26.0562, em trâmite perante esta Vara, verifiquei constar a "
    "petição inicial protocolada em 15/03/2024, instruída com os documentos de fls. 12 a 48.";

TEST(DeskewSynthTest, GeneratedScansAtKnownAngles) {
  struct Case {
    double skew;
    double dpi;
    const char* font;
  };
  const Case cases[] = {{-4.7, 300, "DejaVu Serif"}, {-2.35, 300, "Liberation Serif"}, {-0.6, 300, "DejaVu Sans"},
                        {0.0, 300, "DejaVu Serif"},  {1.15, 200, "Liberation Serif"}, {3.8, 300, "DejaVu Sans"},
                        {4.95, 300, "DejaVu Serif"}, {9.5, 300, "Liberation Serif"},  {-13.2, 300, "DejaVu Serif"}};
  uint64_t seed = 40;
  for (const Case& c : cases) {
    synth::PageSpec spec;
    spec.dpi = c.dpi;
    spec.font_family = c.font;
    spec.skew_deg = c.skew;
    spec.seed = ++seed;
    spec.punch_holes = c.skew < 0;
    for (int i = 0; i < 5; ++i) spec.blocks.push_back({kParagraph, 11});
    Result<synth::SynthPage> page = synth::RenderPage(spec);
    ASSERT_TRUE(page.ok()) << page.status().ToString();

    Result<SkewEstimate> est = DetectSkew(page->image, DeskewOptions(), c.dpi);
    ASSERT_TRUE(est.ok()) << est.status().ToString();
    EXPECT_TRUE(est->enough_text) << c.skew;
    EXPECT_NEAR(est->angle_deg, c.skew, 0.1) << c.font << " at " << c.dpi << " dpi";

    // The stage corrects it: detecting again on its output finds ~0.
    Result<std::unique_ptr<PageStage>> stage = DeskewStage::Create(DeskewOptions());
    ASSERT_TRUE(stage.ok());
    Page p;
    p.image = page->image;
    p.dpi_x = p.dpi_y = c.dpi;
    Result<Page> out = (*stage)->Run(std::move(p), PageContext{});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_NEAR(out->skew_deg, c.skew, 0.1);
    Result<SkewEstimate> after = DetectSkew(out->image, DeskewOptions(), c.dpi);
    ASSERT_TRUE(after.ok());
    EXPECT_NEAR(after->angle_deg, 0.0, 0.1) << "residual skew after correcting " << c.skew;
  }
}

}  // namespace
}  // namespace acervo
