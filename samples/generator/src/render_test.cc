#include <cmath>
#include <map>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "acervo/synth/synth.h"
#include "markup.h"

namespace acervo::synth {
namespace {

// One line that fits the A4 text width (checked in the tests below).
constexpr char kLongLine[] = "Certidão expedida em 15/03/2024 no processo nº 0004821-10";

// A page with no degradation at all, so measurements see only geometry.
PageSpec CleanSpec(double dpi = 150) {
  PageSpec spec;
  spec.dpi = dpi;
  spec.paper_tint = false;
  spec.noise_sigma = 0;
  spec.blur_sigma = 0;
  spec.specks = 0;
  return spec;
}

std::vector<cv::Point> InkPoints(const cv::Mat& image) {
  cv::Mat ink = image < 128;
  std::vector<cv::Point> points;
  cv::findNonZero(ink, points);
  return points;
}

// Angle of the dominant direction of the ink, counter-clockwise as displayed
// (image y grows downwards, hence the minus).
double InkAngleDeg(const cv::Mat& image) {
  std::vector<cv::Point> points = InkPoints(image);
  cv::Vec4f line;
  cv::fitLine(points, line, cv::DIST_L2, 0, 0.01, 0.01);
  double vx = line[0], vy = line[1];
  if (vx < 0) {
    vx = -vx;
    vy = -vy;
  }
  return -std::atan2(vy, vx) * 180.0 / CV_PI;
}

TEST(RenderTest, SameSeedSamePixels) {
  PageSpec spec;
  spec.dpi = 100;
  spec.blocks = ParseBlocks("# Ofício\nTexto com acentuação: ção, ã, é, ô.");
  spec.bleed_through = 0.1;
  spec.punch_holes = true;
  spec.dark_border = true;
  spec.seed = 42;
  Result<SynthPage> a = RenderPage(spec);
  Result<SynthPage> b = RenderPage(spec);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(cv::countNonZero(a->image != b->image), 0);
  EXPECT_EQ(a->text, b->text);

  spec.seed = 43;
  Result<SynthPage> c = RenderPage(spec);
  ASSERT_TRUE(c.ok());
  EXPECT_GT(cv::countNonZero(a->image != c->image), 0);
  EXPECT_EQ(a->text, c->text);  // the seed changes the degradation, not the text
}

TEST(RenderTest, A4Size) {
  PageSpec spec = CleanSpec(300);
  Result<SynthPage> page = RenderPage(spec);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->image.cols, 2480);
  EXPECT_EQ(page->image.rows, 3508);
  EXPECT_EQ(page->image.type(), CV_8UC1);
  EXPECT_TRUE(page->text.empty());
  EXPECT_TRUE(page->words.empty());
}

class SkewTest : public ::testing::TestWithParam<double> {};

TEST_P(SkewTest, LineAngleIsTheSkew) {
  PageSpec spec = CleanSpec(200);
  spec.blocks = {TextBlock{kLongLine}};
  spec.skew_deg = GetParam();
  Result<SynthPage> page = RenderPage(spec);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->text.find('\n'), std::string::npos) << "the line wrapped";
  EXPECT_NEAR(InkAngleDeg(page->image), GetParam(), 0.15);
}

INSTANTIATE_TEST_SUITE_P(Table, SkewTest, ::testing::Values(-5.0, -3.7, -1.2, 0.0, 0.4, 2.1, 4.5));

struct OrientationCase {
  int orientation;
  bool swapped;
  // Where the single line near the top of the upright page ends up.
  enum Side { kTop, kBottom, kLeft, kRight } side;
};

class OrientationTest : public ::testing::TestWithParam<OrientationCase> {};

TEST_P(OrientationTest, RotatesCounterClockwise) {
  const OrientationCase& c = GetParam();
  PageSpec spec = CleanSpec(100);
  spec.blocks = {TextBlock{kLongLine}};
  spec.orientation_deg = c.orientation;
  Result<SynthPage> page = RenderPage(spec);
  ASSERT_TRUE(page.ok());
  const int w = 827, h = 1169;  // A4 at 100 dpi
  EXPECT_EQ(page->image.cols, c.swapped ? h : w);
  EXPECT_EQ(page->image.rows, c.swapped ? w : h);
  cv::Rect ink = cv::boundingRect(InkPoints(page->image));
  const cv::Point center(ink.x + ink.width / 2, ink.y + ink.height / 2);
  switch (c.side) {
    case OrientationCase::kTop: EXPECT_LT(center.y, page->image.rows / 4); break;
    case OrientationCase::kBottom: EXPECT_GT(center.y, page->image.rows * 3 / 4); break;
    case OrientationCase::kLeft: EXPECT_LT(center.x, page->image.cols / 4); break;
    case OrientationCase::kRight: EXPECT_GT(center.x, page->image.cols * 3 / 4); break;
  }
  // A line of text stays a line: long along one axis.
  if (c.swapped) {
    EXPECT_GT(ink.height, 5 * ink.width);
  } else {
    EXPECT_GT(ink.width, 5 * ink.height);
  }
}

// Turning the page 90° counter-clockwise brings its top to the left.
INSTANTIATE_TEST_SUITE_P(
    Table, OrientationTest,
    ::testing::Values(OrientationCase{0, false, OrientationCase::kTop},
                      OrientationCase{90, true, OrientationCase::kLeft},
                      OrientationCase{180, false, OrientationCase::kBottom},
                      OrientationCase{270, true, OrientationCase::kRight}));

TEST(RenderTest, GroundTruthIsTheWordsJoined) {
  PageSpec spec = CleanSpec(150);
  spec.blocks = ParseBlocks(
      "^ PREFEITURA MUNICIPAL DE SÃO JOSÉ\n"
      "# REQUERIMENTO\n"
      "| Protocolo  nº 2024/003517\n"
      "|\n"
      "| CPF 529.384.170-04\n"
      "\n"
      "Maria Aparecida dos Santos Lima, brasileira, viúva, professora de educação básica, "
      "vem requerer a expedição de certidão de tempo de contribuição referente ao período "
      "de 01/02/1994 a 31/03/2024, para fins de aposentadoria, conforme o artigo 40.\n");
  Result<SynthPage> page = RenderPage(spec);
  ASSERT_TRUE(page.ok()) << page.status().ToString();

  std::map<int, std::string> lines;
  for (const WordBox& w : page->words) {
    std::string& line = lines[w.line];
    if (!line.empty()) line += ' ';
    line += w.text;
  }
  std::string joined;
  int expected_line = 0;
  for (const auto& [index, line] : lines) {
    EXPECT_EQ(index, expected_line++);
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  EXPECT_EQ(page->text, joined);
  // The paragraph wrapped, the double space collapsed, the empty line is gone.
  EXPECT_GT(lines.size(), 6u);
  EXPECT_NE(page->text.find("Protocolo nº 2024/003517\nCPF"), std::string::npos);

  // Every box is inside the page, holds ink, and follows the previous word.
  const cv::Rect bounds(0, 0, page->image.cols, page->image.rows);
  for (size_t i = 0; i < page->words.size(); ++i) {
    const WordBox& w = page->words[i];
    EXPECT_EQ(w.box & bounds, w.box) << w.text;
    EXPECT_GT(cv::countNonZero(page->image(w.box) < 128), 0) << w.text;
    if (i > 0 && page->words[i - 1].line == w.line) {
      EXPECT_GT(w.box.x, page->words[i - 1].box.x) << w.text;
    }
  }
}

struct BadSpecCase {
  const char* name;
  PageSpec spec;
  StatusCode code;
};

std::vector<BadSpecCase> BadSpecs() {
  std::vector<BadSpecCase> cases;
  PageSpec s = CleanSpec();
  s.dpi = 10;
  cases.push_back({"dpi_too_low", s, StatusCode::kInvalidArgument});
  s = CleanSpec();
  s.orientation_deg = 45;
  cases.push_back({"orientation_45", s, StatusCode::kInvalidArgument});
  s = CleanSpec();
  s.margin_mm = 120;
  cases.push_back({"margin_too_wide", s, StatusCode::kInvalidArgument});
  s = CleanSpec();
  s.blocks = {TextBlock{std::string(3000, 'x') + " " }};
  cases.push_back({"word_wider_than_line", s, StatusCode::kInvalidArgument});
  s = CleanSpec();
  std::string many;
  for (int i = 0; i < 120; ++i) many += "linha\n";
  s.blocks = {TextBlock{many}};
  cases.push_back({"text_does_not_fit", s, StatusCode::kInvalidArgument});
  s = CleanSpec();
  s.font_family = "No Such Font Family Acervo";
  s.blocks = {TextBlock{"texto"}};
  cases.push_back({"missing_font", s, StatusCode::kUnavailable});
  return cases;
}

class BadSpecTest : public ::testing::TestWithParam<BadSpecCase> {};

TEST_P(BadSpecTest, Fails) {
  Result<SynthPage> page = RenderPage(GetParam().spec);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), GetParam().code) << page.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Table, BadSpecTest, ::testing::ValuesIn(BadSpecs()),
                         [](const ::testing::TestParamInfo<BadSpecCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(RenderTest, FontsOfTheDemoLotAreInstalled) {
  for (const char* family : {"DejaVu Serif", "DejaVu Sans", "Liberation Serif", "Liberation Sans"}) {
    PageSpec spec = CleanSpec(100);
    spec.font_family = family;
    spec.blocks = {TextBlock{"ação"}};
    Result<SynthPage> page = RenderPage(spec);
    EXPECT_TRUE(page.ok()) << family << ": " << page.status().ToString();
  }
}

TEST(RenderTest, BlankPageWithBleedThroughHasNoInk) {
  PageSpec spec;
  spec.dpi = 150;
  spec.bleed_through = 0.12;
  spec.specks = 40;
  spec.back_blocks = ParseBlocks("Texto do verso que aparece espelhado por transparência.");
  Result<SynthPage> page = RenderPage(spec);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->text.empty());
  // Bleed-through is faint: it never reaches ink darkness (specks aside).
  cv::Mat dark = page->image < 128;
  EXPECT_LT(cv::countNonZero(dark), page->image.total() / 1000);
  // ...but it is there: the page is not a flat tint.
  cv::Scalar mean, stddev;
  cv::meanStdDev(page->image, mean, stddev);
  EXPECT_GT(mean[0], 200);
}

}  // namespace
}  // namespace acervo::synth
