#include "acervo/stages/blank/blank.h"

#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

constexpr double kPxPerMm = 300 / 25.4;

cv::Mat WhitePage() { return cv::Mat(3508, 2480, CV_8UC1, cv::Scalar(255)); }

// Yellowed, uneven paper: a smooth brightness ramp plus fibre-like texture.
void Tint(cv::Mat& page) {
  cv::Mat ramp(page.size(), CV_32F);
  for (int y = 0; y < ramp.rows; ++y)
    for (int x = 0; x < ramp.cols; ++x)
      ramp.at<float>(y, x) = 0.80f + 0.12f * x / ramp.cols + 0.05f * y / ramp.rows;
  cv::Mat texture(page.rows / 4, page.cols / 4, CV_32F);
  cv::randn(texture, 0, 0.04);
  cv::GaussianBlur(texture, texture, cv::Size(0, 0), 1.5);
  cv::resize(texture, texture, page.size());
  cv::Mat f;
  page.convertTo(f, CV_32F);
  f = f.mul(ramp + texture);
  f.convertTo(page, CV_8U);
}

void Noise(cv::Mat& page, double sigma) {
  cv::Mat n(page.size(), CV_16S), p;
  cv::randn(n, 0, sigma);
  page.convertTo(p, CV_16S);
  p += n;
  p.convertTo(page, CV_8U);
}

// Dust as the synthetic generator draws it (radius 0.05-0.2 mm), plus a few
// larger 0.5 mm specks.
void Specks(cv::Mat& page, int count, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < count; ++i) {
    const double r_mm = i % 10 == 0 ? 0.25 : 0.05 + 0.15 * u(rng);
    cv::circle(page, cv::Point(u(rng) * page.cols, u(rng) * page.rows),
               std::max(1, static_cast<int>(r_mm * kPxPerMm)), cv::Scalar(20 + 70 * u(rng)),
               cv::FILLED, cv::LINE_AA);
  }
}

void PunchHoles(cv::Mat& page) {
  for (double dy : {-40.0, 40.0}) {
    cv::circle(page, cv::Point(12 * kPxPerMm, page.rows / 2 + dy * kPxPerMm),
               static_cast<int>(3 * kPxPerMm), cv::Scalar(40), cv::FILLED, cv::LINE_AA);
  }
}

void DarkBorders(cv::Mat& page) {
  const cv::Scalar dark(25);
  cv::rectangle(page, cv::Rect(0, 0, page.cols, 6 * kPxPerMm), dark, cv::FILLED);
  cv::rectangle(page, cv::Rect(0, page.rows - 3 * kPxPerMm, page.cols, 3 * kPxPerMm), dark,
                cv::FILLED);
  cv::rectangle(page, cv::Rect(0, 0, 5 * kPxPerMm, page.rows), dark, cv::FILLED);
  cv::rectangle(page, cv::Rect(page.cols - 2 * kPxPerMm, 0, 2 * kPxPerMm, page.rows), dark,
                cv::FILLED);
}

void TextLines(cv::Mat& page, int lines, double scale, int x = 300, int y = 400) {
  for (int l = 0; l < lines; ++l, y += static_cast<int>(60 * scale)) {
    cv::putText(page, "O processo foi arquivado na caixa numero doze do lote", cv::Point(x, y),
                cv::FONT_HERSHEY_DUPLEX, scale, cv::Scalar(20), 2, cv::LINE_AA);
  }
}

// Text from the back of the sheet, mirrored, blurred, darkening the paper by
// at most `strength` (multiplicative, as light through paper).
void BleedThrough(cv::Mat& page, double strength) {
  cv::Mat back = WhitePage();
  TextLines(back, 40, 1.3);
  cv::flip(back, back, 1);
  cv::GaussianBlur(back, back, cv::Size(0, 0), 0.35 * kPxPerMm);
  cv::Mat factor, f;
  back.convertTo(factor, CV_32F, strength / 255.0, 1.0 - strength);
  page.convertTo(f, CV_32F);
  f = f.mul(factor);
  f.convertTo(page, CV_8U);
}

// Paper with every non-content degradation at once.
cv::Mat DirtyPage(uint64_t seed) {
  std::mt19937_64 rng(seed);
  cv::Mat page = WhitePage();
  BleedThrough(page, 0.2);
  Tint(page);
  Specks(page, 60, rng);
  PunchHoles(page);
  DarkBorders(page);
  cv::GaussianBlur(page, page, cv::Size(0, 0), 0.6);
  Noise(page, 6);
  return page;
}

struct Case {
  const char* name;
  std::function<cv::Mat()> make;
  bool blank;
};

TEST(ScoreBlankTest, Table) {
  const Case cases[] = {
      {"white", [] { return WhitePage(); }, true},
      {"tinted, textured", [] { cv::Mat p = WhitePage(); Tint(p); return p; }, true},
      {"noise sigma 12", [] { cv::Mat p = WhitePage(); cv::Mat q = p * 0.9; Noise(q, 12); return q; }, true},
      {"specks", [] { std::mt19937_64 r(3); cv::Mat p = WhitePage(); Specks(p, 200, r); return p; }, true},
      {"punch holes", [] { cv::Mat p = WhitePage(); PunchHoles(p); return p; }, true},
      {"scanner borders", [] { cv::Mat p = WhitePage(); DarkBorders(p); return p; }, true},
      {"bleed-through 0.25", [] { cv::Mat p = WhitePage(); BleedThrough(p, 0.25); return p; }, true},
      {"everything at once", [] { return DirtyPage(1); }, true},
      {"everything, other seed", [] { return DirtyPage(2); }, true},
      {"one short line of small text",
       [] { cv::Mat p = WhitePage(); cv::putText(p, "recebido em 3/5", cv::Point(900, 1500), cv::FONT_HERSHEY_SIMPLEX, 0.7, cv::Scalar(30), 1, cv::LINE_AA); return p; },
       false},
      {"page number only",
       [] { cv::Mat p = WhitePage(); cv::putText(p, "7", cv::Point(1230, 3350), cv::FONT_HERSHEY_SIMPLEX, 0.9, cv::Scalar(30), 2, cv::LINE_AA); return p; },
       false},
      {"page number on a dirty page",
       [] { cv::Mat p = DirtyPage(5); cv::putText(p, "12", cv::Point(1220, 3340), cv::FONT_HERSHEY_SIMPLEX, 0.9, cv::Scalar(40), 2, cv::LINE_AA); return p; },
       false},
      {"round stamp",
       [] { cv::Mat p = WhitePage(); cv::circle(p, cv::Point(1700, 2600), 170, cv::Scalar(90), 6, cv::LINE_AA); cv::circle(p, cv::Point(1700, 2600), 130, cv::Scalar(90), 3, cv::LINE_AA); return p; },
       false},
      {"small filled stamp near the edge",
       // A filled rectangle, not a disc: must not be taken for a punch hole.
       [] { cv::Mat p = WhitePage(); cv::rectangle(p, cv::Rect(150, 1600, 90, 45), cv::Scalar(60), cv::FILLED); return p; },
       false},
      {"a signature line",
       [] { cv::Mat p = WhitePage(); cv::line(p, cv::Point(800, 2500), cv::Point(1600, 2510), cv::Scalar(40), 3, cv::LINE_AA); return p; },
       false},
      {"full text page", [] { cv::Mat p = DirtyPage(7); TextLines(p, 40, 1.3); return p; }, false},
  };
  for (const Case& c : cases) {
    const cv::Mat page = c.make();
    Result<BlankScore> s = ScoreBlank(page, BlankOptions());
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.status().ToString();
    EXPECT_EQ(s->blank, c.blank) << c.name << " score " << s->score << " components "
                                 << s->components;
    EXPECT_GE(s->score, 0) << c.name;
    EXPECT_LE(s->score, 1) << c.name;
  }
}

TEST(ScoreBlankTest, ColourAndLowResolution) {
  cv::Mat p = DirtyPage(9);
  cv::Mat bgr;
  cv::cvtColor(p, bgr, cv::COLOR_GRAY2BGR);
  Result<BlankScore> s = ScoreBlank(bgr, BlankOptions());
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->blank) << s->score;
  cv::Mat low;
  cv::putText(p, "7", cv::Point(1230, 3350), cv::FONT_HERSHEY_SIMPLEX, 0.9, cv::Scalar(30), 2,
              cv::LINE_AA);
  cv::resize(p, low, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  s = ScoreBlank(low, BlankOptions(), 150);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->blank) << s->score;
}

TEST(BlankOptionsTest, RejectsBadValues) {
  struct Bad {
    const char* name;
    void (*edit)(BlankOptions&);
  };
  const Bad cases[] = {{"threshold 0", [](BlankOptions& o) { o.threshold = 0; }},
                       {"threshold 1", [](BlankOptions& o) { o.threshold = 1; }},
                       {"work_dpi", [](BlankOptions& o) { o.work_dpi = 20; }},
                       {"contrast", [](BlankOptions& o) { o.min_contrast = 0; }},
                       {"feature", [](BlankOptions& o) { o.min_feature_mm = 0; }},
                       {"margin", [](BlankOptions& o) { o.margin_mm = -1; }}};
  for (const Bad& c : cases) {
    BlankOptions o;
    c.edit(o);
    EXPECT_EQ(BlankStage::Create(o).status().code(), StatusCode::kInvalidArgument) << c.name;
  }
  EXPECT_FALSE(ScoreBlank(cv::Mat(), BlankOptions()).ok());
}

TEST(BlankStageTest, SetsFieldsAndFlag) {
  Result<std::unique_ptr<PageStage>> stage = BlankStage::Create(BlankOptions());
  ASSERT_TRUE(stage.ok());
  for (bool with_text : {false, true}) {
    Page page;
    page.image = DirtyPage(4);
    if (with_text) TextLines(page.image, 3, 1.0);
    Result<Page> out = (*stage)->Run(std::move(page), PageContext());
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->blank, !with_text);
    EXPECT_EQ(out->HasFlag("blank"), !with_text);
    EXPECT_EQ(out->blank_score > 0.5, with_text) << out->blank_score;
  }
}

// Real pages: the corpus's near-empty page and pages of text.
TEST(ScoreBlankCorpusTest, RealPages) {
  const std::filesystem::path corpus = ACERVO_CORPUS_DIR;
  if (corpus.empty()) GTEST_SKIP() << "no shared corpus";
  struct Real {
    const char* file;
    bool blank;
  };
  const Real cases[] = {{"tesseract-test/phototest.tif", false},
                        {"tesseract-test/8087_054.3B.tif", false},
                        {"ptbr-dharma/barranquilla.png", false},
                        {"scribeocr-benchmark/chart_01.png", false},
                        // unpaper's sparse page: three hand-drawn words, not blank.
                        {"unpaper-tests/imgsrc005.png", false}};
  for (const Real& c : cases) {
    cv::Mat img = cv::imread((corpus / c.file).string(), cv::IMREAD_GRAYSCALE);
    if (img.empty()) continue;
    Result<BlankScore> s = ScoreBlank(img, BlankOptions(), 200);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->blank, c.blank) << c.file << " score " << s->score;
  }
}

}  // namespace
}  // namespace acervo
