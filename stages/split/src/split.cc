#include "acervo/stages/split/split.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

namespace acervo {

Status ValidateSplitOptions(const SplitOptions& o) {
  if (!(o.min_aspect >= 1 && o.min_aspect <= 4))
    return Status::InvalidArgument("split: min_aspect must be in [1, 4]");
  if (!(o.search_fraction > 0 && o.search_fraction <= 0.4))
    return Status::InvalidArgument("split: search_fraction must be in (0, 0.4]");
  if (!(o.gutter_ratio > 0 && o.gutter_ratio < 1))
    return Status::InvalidArgument("split: gutter_ratio must be in (0, 1)");
  if (!(o.work_dpi >= 20 && o.work_dpi <= 150))
    return Status::InvalidArgument("split: work_dpi must be in [20, 150]");
  return Status::OK();
}

Result<SpreadEstimate> DetectSpread(const cv::Mat& image, const SplitOptions& options,
                                    double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateSplitOptions(options));
  if (image.empty()) return Status::InvalidArgument("split: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("split: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  SpreadEstimate est;
  if (image.cols < options.min_aspect * image.rows) return est;

  const double scale = std::min(1.0, options.work_dpi / dpi);
  cv::Mat small = image;
  if (scale < 0.999) cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
  if (small.channels() != 1) {
    cv::cvtColor(small, small, small.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  if (small.cols < 20) return est;
  cv::Mat ink;
  cv::threshold(small, ink, 0, 1, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  // Scanner borders along the top and bottom would put ink in every column:
  // look at the middle 80% of the rows only.
  const cv::Mat band = ink.rowRange(small.rows / 10, small.rows - small.rows / 10);
  cv::Mat profile;
  cv::reduce(band, profile, 0, cv::REDUCE_SUM, CV_32F);
  const int smooth = std::max(1, static_cast<int>(2 * dpi * scale / 25.4)) | 1;
  cv::blur(profile, profile, cv::Size(smooth, 1));

  const int w = profile.cols;
  const int lo = static_cast<int>(w * (0.5 - options.search_fraction));
  const int hi = static_cast<int>(w * (0.5 + options.search_fraction));
  int best = w / 2;
  for (int x = lo; x <= hi; ++x) {
    if (profile.at<float>(0, x) < profile.at<float>(0, best)) best = x;
  }
  // The halves' text (their inner 80%: outer margins and borders excluded).
  const double left_mean = cv::mean(profile.colRange(w / 10, lo))[0];
  const double right_mean = cv::mean(profile.colRange(hi, w - w / 10))[0];
  const double halves = 0.5 * (left_mean + right_mean);
  if (halves <= 0 || std::min(left_mean, right_mean) < 0.25 * halves) return est;
  est.gutter_ratio = profile.at<float>(0, best) / halves;
  if (est.gutter_ratio <= options.gutter_ratio) {
    est.is_spread = true;
    est.split_x = std::clamp(static_cast<int>(std::lround((best + 0.5) / scale)), 1, image.cols - 1);
  }
  return est;
}

std::vector<cv::Mat> SplitSpread(const cv::Mat& image, const SpreadEstimate& est) {
  if (!est.is_spread || est.split_x <= 0 || est.split_x >= image.cols) return {image};
  return {image.colRange(0, est.split_x).clone(), image.colRange(est.split_x, image.cols).clone()};
}

}  // namespace acervo
