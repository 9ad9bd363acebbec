#include "acervo/stages/binarize/binarize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

namespace acervo {

Status ValidateBinarizeOptions(const BinarizeOptions& o) {
  if (!(o.window_mm >= 0.5 && o.window_mm <= 20))
    return Status::InvalidArgument("binarize: window_mm must be in [0.5, 20], got " +
                                   std::to_string(o.window_mm));
  if (!(o.k >= 0.01 && o.k <= 1))
    return Status::InvalidArgument("binarize: k must be in [0.01, 1], got " + std::to_string(o.k));
  if (!(o.r >= 1 && o.r <= 255))
    return Status::InvalidArgument("binarize: r must be in [1, 255], got " + std::to_string(o.r));
  return Status::OK();
}

Result<cv::Mat> Binarize(const cv::Mat& image, const BinarizeOptions& options, double dpi) {
  ACERVO_RETURN_IF_ERROR(ValidateBinarizeOptions(options));
  if (image.empty()) return Status::InvalidArgument("binarize: empty image");
  if (image.depth() != CV_8U ||
      (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Status::InvalidArgument("binarize: image must be 8-bit gray, BGR or BGRA");
  if (!(dpi > 0)) dpi = 300;
  cv::Mat gray = image;
  if (image.channels() != 1) {
    cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  }
  // Statistics at half resolution (see binarize.h); tiny images at full.
  const int down = std::min(gray.cols, gray.rows) >= 200 ? 2 : 1;
  cv::Mat small = gray;
  if (down > 1) {
    cv::resize(gray, small, cv::Size(gray.cols / down, gray.rows / down), 0, 0, cv::INTER_AREA);
  }
  const int win = std::max(3, static_cast<int>(std::lround(options.window_mm * dpi / 25.4 / down)) | 1);
  cv::Mat f, mean, sq;
  small.convertTo(f, CV_32F);
  cv::boxFilter(f, mean, CV_32F, cv::Size(win, win), cv::Point(-1, -1), true, cv::BORDER_REPLICATE);
  cv::boxFilter(f.mul(f), sq, CV_32F, cv::Size(win, win), cv::Point(-1, -1), true,
                cv::BORDER_REPLICATE);
  cv::Mat var = sq - mean.mul(mean);
  cv::Mat sd;
  cv::sqrt(cv::max(var, 0), sd);
  // T = m * (1 + k * (s / R - 1))
  cv::Mat t = mean.mul(1.0 + options.k * (sd / options.r - 1.0));
  cv::Mat t8;
  t.convertTo(t8, CV_8U);
  if (down > 1) cv::resize(t8, t8, gray.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat out;
  cv::compare(gray, t8, out, cv::CMP_GT);  // paper 255, ink 0
  return out;
}

Result<std::unique_ptr<PageStage>> BinarizeStage::Create(const BinarizeOptions& options) {
  ACERVO_RETURN_IF_ERROR(ValidateBinarizeOptions(options));
  return std::unique_ptr<PageStage>(new BinarizeStage(options));
}

Result<Page> BinarizeStage::Run(Page page, const PageContext& ctx) {
  if (ctx.Cancelled()) return Status::Cancelled("binarize: cancelled");
  if (page.blank) return page;
  if (options_.only_bw && page.color_class != ColorClass::kBw) return page;
  ACERVO_ASSIGN_OR_RETURN(page.image, Binarize(page.image, options_, page.dpi_x));
  return page;
}

}  // namespace acervo
