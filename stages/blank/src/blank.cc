#include "acervo/stages/blank/blank.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "acervo/stages/imageops/imageops.h"

namespace acervo {
namespace {

// Local paper brightness: a max filter over ~1 cm removes text and other
// marks smaller than that, the blur smooths the blocks, and working at 1/8
// of the analysis resolution keeps it cheap.
cv::Mat PaperBackground(const cv::Mat& gray) {
  // 8x smaller in three halvings: OpenCV's 2x INTER_AREA path is far faster
  // than the general one a size not divisible by 8 would take.
  cv::Mat small = gray, bg;
  for (int i = 0; i < 3 && small.cols >= 2 && small.rows >= 2; ++i) {
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  cv::dilate(small, small, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
  cv::blur(small, small, cv::Size(5, 5));
  cv::resize(small, bg, gray.size(), 0, 0, cv::INTER_LINEAR);
  return bg;
}

}  // namespace

Status ValidateBlankOptions(const BlankOptions& o) {
  if (!(o.threshold > 0 && o.threshold < 1))
    return Status::InvalidArgument("blank: threshold must be in (0, 1), got " +
                                   std::to_string(o.threshold));
  if (!(o.work_dpi >= 75 && o.work_dpi <= 300))
    return Status::InvalidArgument("blank: work_dpi must be in [75, 300], got " +
                                   std::to_string(o.work_dpi));
  if (!(o.min_contrast > 0 && o.min_contrast < 1))
    return Status::InvalidArgument("blank: min_contrast must be in (0, 1), got " +
                                   std::to_string(o.min_contrast));
  if (!(o.min_feature_mm > 0 && o.min_feature_mm <= 5))
    return Status::InvalidArgument("blank: min_feature_mm must be in (0, 5], got " +
                                   std::to_string(o.min_feature_mm));
  if (!(o.margin_mm >= 0 && o.margin_mm <= 30))
    return Status::InvalidArgument("blank: margin_mm must be in [0, 30], got " +
                                   std::to_string(o.margin_mm));
  return Status::OK();
}

Result<BlankScore> ScoreBlank(const cv::Mat& image, const BlankOptions& options, double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateBlankOptions(options));
  if (image.empty()) return Status::InvalidArgument("blank: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("blank: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;

  const double scale = std::min(1.0, options.work_dpi / dpi);
  cv::Mat small = image;
  if (scale < 0.999) small = ReduceByArea(image, scale);
  cv::Mat gray = small;
  if (small.channels() != 1) {
    cv::cvtColor(small, gray,
                 small.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  const double px_per_mm = dpi * scale / 25.4;

  // Ink: pixels at least min_contrast darker than the local paper.
  cv::Mat bg = PaperBackground(gray);
  cv::Mat limit;
  bg.convertTo(limit, CV_8U, 1.0 - options.min_contrast);
  cv::Mat ink = gray < limit;

  const int margin = static_cast<int>(options.margin_mm * px_per_mm);
  BlankScore result;
  if (2 * margin >= ink.cols - 2 || 2 * margin >= ink.rows - 2) return result;
  const cv::Rect area(margin, margin, ink.cols - 2 * margin, ink.rows - 2 * margin);
  cv::Mat roi = ink(area);

  cv::Mat labels, stats, centroids;
  const int n = LabelComponentsWithStats(roi, labels, stats, centroids);
  const double page_w_mm = ink.cols / px_per_mm, page_h_mm = ink.rows / px_per_mm;
  double evidence = 0;
  double ink_px = 0;
  for (int i = 1; i < n; ++i) {
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const int px = stats.at<int>(i, cv::CC_STAT_AREA);
    const double w_mm = w / px_per_mm, h_mm = h / px_per_mm;
    const double size_mm = std::max(w_mm, h_mm);
    if (size_mm < options.min_feature_mm) continue;  // dust

    // Scanner border residue: touches the analysed area's edge and runs
    // along it, long and thin.
    const bool touches_x = x == 0 || x + w == area.width;
    const bool touches_y = y == 0 || y + h == area.height;
    if ((touches_x && h_mm > 20 && w_mm < 15) || (touches_y && w_mm > 20 && h_mm < 15)) continue;

    // Punch hole: a filled disc of 3.5-10 mm whose centre is within 25 mm of
    // an edge of the sheet. A round stamp is a ring, far less filled.
    const double fill = static_cast<double>(px) / (static_cast<double>(w) * h);
    const double cx_mm = (centroids.at<double>(i, 0) + margin) / px_per_mm;
    const double cy_mm = (centroids.at<double>(i, 1) + margin) / px_per_mm;
    const double edge_mm =
        std::min({cx_mm, cy_mm, page_w_mm - cx_mm, page_h_mm - cy_mm});
    const double aspect = w_mm / h_mm;
    if (w_mm >= 3.5 && w_mm <= 10 && h_mm >= 3.5 && h_mm <= 10 && aspect > 0.75 &&
        aspect < 1.33 && fill > 0.65 && edge_mm < 25) {
      continue;
    }

    evidence += std::min(1.0, size_mm / 2.0);
    ink_px += px;
    ++result.components;
  }
  result.score = 1.0 - std::exp(-evidence);
  result.blank = result.score < options.threshold;
  result.ink_fraction = ink_px / static_cast<double>(area.area());
  return result;
}

Result<std::unique_ptr<PageStage>> BlankStage::Create(const BlankOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateBlankOptions(options));
  return std::unique_ptr<PageStage>(new BlankStage(options));
}

Result<Page> BlankStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("blank: cancelled");
  ACERVO_ASSIGN_OR_RETURN(BlankScore score, ScoreBlank(page.image, options_, page.dpi_x));
  page.blank = score.blank;
  page.blank_score = score.score;
  if (score.blank) page.AddFlag("blank");
  return page;
}

}  // namespace acervo
