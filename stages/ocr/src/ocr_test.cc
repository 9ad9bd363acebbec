#include "acervo/stages/ocr/ocr.h"

#include <gtest/gtest.h>

#include "acervo/synth/synth.h"

namespace acervo {
namespace {

synth::PageSpec CleanPage(const std::string& text) {
  synth::PageSpec spec;
  spec.blocks.push_back({text, 12});
  spec.noise_sigma = 0;
  spec.specks = 0;
  spec.paper_tint = false;
  spec.blur_sigma = 0;
  return spec;
}

const char kText[] =
    "CERTIDÃO DE NASCIMENTO\n"
    "Certifico que, revendo os livros de registro deste cartório, "
    "encontrei o assento de João da Conceição, nascido em 15/03/1987, "
    "filho de Maria José Gonçalves, CPF 123.456.789-09, processo "
    "0001234-56.2024.8.26.0100. O referido é verdade e dou fé.";

Page PageFrom(const synth::SynthPage& s) {
  Page p;
  p.image = s.image;
  p.dpi_x = p.dpi_y = s.spec.dpi;
  p.origin.source_path = "synthetic.png";
  return p;
}

TEST(OcrStageTest, ReadsPortugueseTextWithWordBoxes) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok()) << stage.status().ToString();
  Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  double cer = synth::CharacterErrorRate(out->text, s->text);
  EXPECT_LT(cer, 0.02) << out->text;
  EXPECT_GT(out->mean_confidence, 80);
  EXPECT_FALSE(out->HasFlag("low_confidence"));
  ASSERT_FALSE(out->words.empty());
  cv::Rect page_rect(0, 0, s->image.cols, s->image.rows);
  for (const Word& w : out->words) {
    EXPECT_EQ((w.box & page_rect), w.box) << w.text;
    EXPECT_GT(w.box.area(), 0) << w.text;
  }
  // Word boxes line up with the generator's boxes (clean page: same frame).
  int matched = 0;
  for (const synth::WordBox& truth : s->words) {
    for (const Word& w : out->words) {
      if (w.text == truth.text) {
        double iou = double((w.box & truth.box).area()) / double((w.box | truth.box).area());
        if (iou > 0.5) { ++matched; break; }
      }
    }
  }
  EXPECT_GT(matched, static_cast<int>(s->words.size() * 9 / 10));
}

TEST(OcrStageTest, SameEngineServesManyPages) {
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  for (const char* text : {"primeira página do ofício", "segunda página: exceção"}) {
    Result<synth::SynthPage> s = synth::RenderPage(CleanPage(text));
    ASSERT_TRUE(s.ok());
    Result<Page> out = (*stage)->Run(PageFrom(*s), PageContext{});
    ASSERT_TRUE(out.ok());
    EXPECT_LT(synth::CharacterErrorRate(out->text, text), 0.05) << out->text;
  }
}

TEST(OcrStageTest, BadOptionsFailAtCreate) {
  struct Case { OcrOptions options; StatusCode code; std::string want; };
  OcrOptions missing;
  missing.languages = "klingon";
  OcrOptions empty;
  empty.languages = "+";
  OcrOptions psm;
  psm.page_segmentation_mode = 42;
  for (const Case& c : {Case{missing, StatusCode::kUnavailable, "klingon"},
                        Case{empty, StatusCode::kInvalidArgument, "empty"},
                        Case{psm, StatusCode::kInvalidArgument, "segmentation"}}) {
    Result<std::unique_ptr<PageStage>> stage = OcrStage::Create(c.options);
    ASSERT_FALSE(stage.ok());
    EXPECT_EQ(stage.status().code(), c.code);
    EXPECT_NE(stage.status().message().find(c.want), std::string::npos) << stage.status().ToString();
  }
}

TEST(OcrStageTest, CancelAndDeadlineStopRecognition) {
  Result<synth::SynthPage> s = synth::RenderPage(CleanPage(kText));
  ASSERT_TRUE(s.ok());
  Result<std::unique_ptr<PageStage>> stage = OcrStage::Create({});
  ASSERT_TRUE(stage.ok());
  std::atomic<bool> cancel{true};
  PageContext cancelled;
  cancelled.cancel = &cancel;
  EXPECT_EQ((*stage)->Run(PageFrom(*s), cancelled).status().code(), StatusCode::kCancelled);
  PageContext late;
  late.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  EXPECT_EQ((*stage)->Run(PageFrom(*s), late).status().code(), StatusCode::kDeadlineExceeded);
  // The engine is still usable afterwards.
  EXPECT_TRUE((*stage)->Run(PageFrom(*s), PageContext{}).ok());
}

}  // namespace
}  // namespace acervo
