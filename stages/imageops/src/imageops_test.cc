#include "acervo/stages/imageops/imageops.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

// A page of text drawn at `scale` (Hershey simplex letters), light or dark.
cv::Mat TextPage(double scale, bool inverted = false) {
  cv::Mat page(static_cast<int>(1400 * scale), static_cast<int>(1000 * scale), CV_8UC1, cv::Scalar(235));
  for (int line = 0; line < 20; ++line) {
    cv::putText(page, "quando o processo foi arquivado na caixa", cv::Point(40 * scale, (60 + 60 * line) * scale),
                cv::FONT_HERSHEY_SIMPLEX, 0.9 * scale, cv::Scalar(30), std::max(1, static_cast<int>(2 * scale)),
                cv::LINE_AA);
  }
  if (inverted) cv::bitwise_not(page, page);
  return page;
}

// The glyph height follows the type size, not the image size: the same
// text at twice the scale measures twice as tall, light text on a dark page
// as dark on light, and a page without text measures nothing.
TEST(MeasureGlyphsTest, FollowsTypeSize) {
  const GlyphSize small = MeasureGlyphs(TextPage(1));
  const GlyphSize large = MeasureGlyphs(TextPage(2));
  ASSERT_GT(small.height_px, 0);
  ASSERT_GE(small.count, 30);
  EXPECT_NEAR(large.height_px / small.height_px, 2.0, 0.3);
  EXPECT_NEAR(MeasureGlyphs(TextPage(1, true)).height_px, small.height_px, 1.0);
  cv::Mat blank(1400, 1000, CV_8UC1, cv::Scalar(235));
  EXPECT_EQ(MeasureGlyphs(blank).height_px, 0);
  // Specks and halftone grain, many but small, do not pull it down.
  cv::Mat grainy = TextPage(1);
  for (int y = 5; y < grainy.rows; y += 9) {
    for (int x = 5; x < grainy.cols; x += 9) cv::circle(grainy, {x, y}, 1, cv::Scalar(60), cv::FILLED);
  }
  EXPECT_NEAR(MeasureGlyphs(grainy).height_px, small.height_px, 2.0);
}

}  // namespace
}  // namespace acervo
