#include "acervo/stages/barcode/barcode.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace acervo {
namespace {

// Draws a patch code at 200 dpi: bars 2 inches long.
cv::Mat PatchImage(PatchCode code, double dpi) {
  cv::Mat img(static_cast<int>(4 * dpi), static_cast<int>(4 * dpi), CV_8UC1, cv::Scalar(255));
  double x = dpi;
  for (bool wide : PatchCodeBars(code)) {
    const double w = (wide ? 0.2 : 0.08) * dpi;
    cv::rectangle(img, cv::Rect(static_cast<int>(x), static_cast<int>(dpi), static_cast<int>(w), static_cast<int>(2 * dpi)),
                  cv::Scalar(0), cv::FILLED);
    x += w + 0.08 * dpi;
  }
  return img;
}

TEST(BarcodeTest, PatchCodesAreTellApartAtSeveralResolutions) {
  for (double dpi : {150.0, 200.0, 300.0}) {
    for (PatchCode c : {PatchCode::kI, PatchCode::kII, PatchCode::kIII, PatchCode::kIV, PatchCode::kVI, PatchCode::kT}) {
      std::optional<PatchCode> got = DetectPatchCode(PatchImage(c, dpi), dpi);
      ASSERT_TRUE(got.has_value()) << PatchCodeName(c) << " at " << dpi;
      EXPECT_EQ(*got, c) << PatchCodeName(c) << " at " << dpi;
      // Sideways feed.
      cv::Mat turned;
      cv::rotate(PatchImage(c, dpi), turned, cv::ROTATE_90_CLOCKWISE);
      EXPECT_TRUE(DetectPatchCode(turned, dpi).has_value());
    }
  }
}

TEST(BarcodeTest, ShortBarsAndEmptyPagesAreNotPatchCodes) {
  cv::Mat img(800, 800, CV_8UC1, cv::Scalar(255));
  EXPECT_FALSE(DetectPatchCode(img, 200).has_value());
  // The right pattern but only a quarter inch long (a table rule, a logo).
  double x = 200;
  for (bool wide : PatchCodeBars(PatchCode::kII)) {
    const int w = static_cast<int>((wide ? 0.2 : 0.08) * 200);
    cv::rectangle(img, cv::Rect(static_cast<int>(x), 300, w, 50), cv::Scalar(0), cv::FILLED);
    x += w + 16;
  }
  EXPECT_FALSE(DetectPatchCode(img, 200).has_value());
}

TEST(BarcodeTest, EncodedSymbolsDecode) {
  for (const char* format : {"qr", "code128"}) {
    Result<cv::Mat> m = EncodeBarcode(format, "ACERVO;type=certid%C3%A3o");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    cv::Mat big;
    const int scale = 6;
    cv::resize(*m, big, cv::Size(m->cols * scale, std::max(m->rows * scale, 120)), 0, 0, cv::INTER_NEAREST);
    cv::Mat page(big.rows + 200, big.cols + 200, CV_8UC1, cv::Scalar(255));
    big.copyTo(page(cv::Rect(100, 100, big.cols, big.rows)));
    Result<std::vector<DecodedBarcode>> codes = DecodeBarcodes(page);
    ASSERT_TRUE(codes.ok());
    ASSERT_EQ(codes->size(), 1u) << format;
    EXPECT_EQ((*codes)[0].text, "ACERVO;type=certid%C3%A3o");
  }
  EXPECT_EQ(EncodeBarcode("ean13", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeBarcodes(cv::Mat()).status().code(), StatusCode::kInvalidArgument);
}

TEST(PatchCodeTest, UpsideDownTwinsReverseTheBars) {
  EXPECT_EQ(UpsideDownPatchCode(PatchCode::kT), PatchCode::kIII);
  EXPECT_EQ(UpsideDownPatchCode(PatchCode::kIII), PatchCode::kT);
  EXPECT_EQ(UpsideDownPatchCode(PatchCode::kI), PatchCode::kVI);
  EXPECT_EQ(UpsideDownPatchCode(PatchCode::kVI), PatchCode::kI);
  EXPECT_EQ(UpsideDownPatchCode(PatchCode::kII), PatchCode::kII);
  EXPECT_EQ(UpsideDownPatchCode(PatchCode::kIV), PatchCode::kIV);
}

}  // namespace
}  // namespace acervo
