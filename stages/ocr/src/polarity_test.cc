#include "src/polarity.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

// A 200-dpi page of three paragraphs; `band` gets the box of the middle one
// with a margin around it, a ground it fits in.
cv::Mat ThreeParagraphs(cv::Rect* band) {
  synth::PageSpec spec;
  spec.dpi = 200;
  spec.blocks = {{"Considerando a necessidade de preservar a memória institucional do município, "
                  "determina-se que os originais permaneçam guardados pelo prazo previsto.", 11},
                 {"PROCESSO ADMINISTRATIVO 0001234-56.2024 SECRETARIA MUNICIPAL DE ADMINISTRAÇÃO "
                  "ARQUIVO GERAL E PROTOCOLO", 12},
                 {"O acervo compreende livros de registro, plantas de loteamento, processos de "
                  "licenciamento e correspondência oficial em papel de gramaturas diversas.", 11}};
  spec.blocks[0].space_after_pt = spec.blocks[1].space_after_pt = 24;  // room for the band
  spec.seed = 7;
  Result<synth::SynthPage> s = synth::RenderPage(spec);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  cv::Rect words;
  for (const synth::WordBox& w : s->words) {
    if (w.text == "PROCESSO" || w.text == "PROTOCOLO" || w.text == "ADMINISTRAÇÃO") {
      words = words.empty() ? w.box : (words | w.box);
    }
  }
  const int pad = 30;  // 3.8 mm
  *band = cv::Rect(60, words.y - pad, s->image.cols - 120, words.height + 2 * pad);
  return s->image;
}

TEST(LightOnDarkTest, FindsALightTextBandAndNothingOnAPlainPage) {
  cv::Rect band;
  const cv::Mat plain = ThreeParagraphs(&band);
  ASSERT_FALSE(plain.empty());
  EXPECT_FALSE(MayHoldLightOnDark(plain, 200));

  cv::Mat page = plain.clone();
  cv::bitwise_not(page(band), page(band));
  EXPECT_TRUE(MayHoldLightOnDark(page, 200));
  // Told by sizes in millimetres: the same at a resolution it is not.
  EXPECT_TRUE(MayHoldLightOnDark(page, 300));

  // In colour: light letters on a dark blue ground.
  cv::Mat colour;
  cv::cvtColor(plain, colour, cv::COLOR_GRAY2BGR);
  colour(band).forEach<cv::Vec3b>([](cv::Vec3b& v, const int*) {
    v = v[0] < 128 ? cv::Vec3b(235, 245, 245) : cv::Vec3b(110, 40, 20);
  });
  EXPECT_TRUE(MayHoldLightOnDark(colour, 200));

  // A negative of the whole page.
  cv::Mat negative;
  cv::bitwise_not(plain, negative);
  EXPECT_TRUE(MayHoldLightOnDark(negative, 200));
}

// Dark areas that hold no light marks on them: a solid black box (a
// redaction), black text on a grey shading, a thick black rule.
TEST(LightOnDarkTest, LeavesDarkAreasWithoutLightMarks) {
  cv::Rect band;
  const cv::Mat plain = ThreeParagraphs(&band);
  ASSERT_FALSE(plain.empty());

  cv::Mat redacted = plain.clone();
  redacted(band).setTo(0);
  EXPECT_FALSE(MayHoldLightOnDark(redacted, 200));

  cv::Mat shaded = plain.clone();
  cv::Mat shade = shaded(band);
  cv::min(shade, 150, shade);  // black letters on grey
  EXPECT_FALSE(MayHoldLightOnDark(shaded, 200));

  cv::Mat ruled = plain.clone();
  cv::rectangle(ruled, cv::Rect(band.x, band.y, band.width, 12), cv::Scalar(0), cv::FILLED);
  EXPECT_FALSE(MayHoldLightOnDark(ruled, 200));
}

}  // namespace
}  // namespace acervo
